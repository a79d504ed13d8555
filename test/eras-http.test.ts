import request from "supertest";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";
import { startTestHttpServer, type TestHttpServer } from "./helpers/http-server.js";
import { callMessageGet, INITIALIZE_2025, legacy, MODERN_META, modern, modernHeaders } from "./helpers/messages.js";
import { FakeUpstream } from "./helpers/upstream.js";

// Both MCP eras on one endpoint over streamable HTTP, spoken as raw JSON-RPC (what curl or any client sends).

const ACCEPT = "application/json, text/event-stream";
const RESOURCE = "https://mcp.example.test/mcp";
const METADATA_URL = "https://mcp.example.test/.well-known/oauth-protected-resource/mcp";
const SERVER_INFO = {
  name: "pilot-status-mcp",
  title: "Pilot Status",
  version: expect.stringMatching(/^\d+\.\d+\.\d+/),
};

let upstream: FakeUpstream;
let server: TestHttpServer;

beforeAll(async () => {
  upstream = await FakeUpstream.start();
  server = await startTestHttpServer({ PILOT_STATUS_API_URL: upstream.url, MCP_RESOURCE_URL: RESOURCE });
});
afterAll(async () => {
  await server?.close();
  await upstream?.close();
});
beforeEach(() => {
  upstream.reset();
  upstream.respond(() => ({ status: 200, body: { ok: true } }));
  server.logs.length = 0;
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  request(server.url)
    .post("/mcp")
    .set({ "content-type": "application/json", accept: ACCEPT, "x-api-key": "ps_eras_key", ...headers })
    .send(typeof body === "string" ? body : JSON.stringify(body));

/** A modern request with the headers a 2026-07-28 client sends, and `headers` on top. */
const postModern = (
  method: string,
  params: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  id = 1,
) =>
  post(modern(method, params, id), {
    ...modernHeaders(method, typeof params.name === "string" ? params.name : undefined),
    ...headers,
  });

describe("2026-07-28: server/discover", () => {
  it("names the versions, capabilities, server and instructions, complete and cacheable", async () => {
    const res = await postModern("server/discover");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      jsonrpc: "2.0",
      id: 1,
      result: {
        resultType: "complete",
        supportedVersions: ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07"],
        capabilities: { tools: { listChanged: false } },
        instructions: expect.stringContaining("whatsappNumberId"),
        _meta: { "io.modelcontextprotocol/serverInfo": SERVER_INFO },
        ttlMs: 3_600_000,
        cacheScope: "public",
      },
    });
    expect(upstream.requests).toHaveLength(0);
  });

  it("is modern even without _meta, so a missing _meta is -32602 with HTTP 400 and the request's id", async () => {
    for (const meta of [
      null,
      { "io.modelcontextprotocol/clientCapabilities": {} },
      { "io.modelcontextprotocol/protocolVersion": "2026-07-28" },
    ]) {
      const res = await post(modern("server/discover", {}, 101, meta), modernHeaders("server/discover"));
      expect(res.status, JSON.stringify(meta)).toBe(400);
      expect(res.body).toMatchObject({
        jsonrpc: "2.0",
        id: 101,
        error: { code: -32602, message: expect.stringContaining("params._meta must carry") },
      });
    }
  });

  it("does not need clientInfo", async () => {
    const { "io.modelcontextprotocol/clientInfo": _, ...withoutInfo } = MODERN_META;
    const res = await post(modern("server/discover", {}, 105, withoutInfo), modernHeaders("server/discover"));
    expect(res.status).toBe(200);
    expect(res.body.result.resultType).toBe("complete");
  });
});

describe("2026-07-28: tools", () => {
  it("tools/list lists every tool with resultType, server info and public caching hints", async () => {
    const res = await postModern("tools/list");
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({
      resultType: "complete",
      ttlMs: 3_600_000,
      cacheScope: "public",
      _meta: { "io.modelcontextprotocol/serverInfo": SERVER_INFO },
    });
    expect(res.body.result.tools).toHaveLength(TOOL_SPECS.length);
    const legacyList = await post(legacy("tools/list"));
    // the same tools, without the modern fields
    expect(legacyList.body.result).toEqual({ tools: res.body.result.tools });
  });

  it("tools/list is cacheScope private when X-MCP-* headers narrowed it (a client's cache key lacks them)", async () => {
    const res = await postModern("tools/list", {}, { "x-mcp-toolsets": "calls", "x-mcp-readonly": "true" });
    expect(res.status).toBe(200);
    expect(res.body.result.cacheScope).toBe("private");
    expect(res.body.result.tools.map((t: { name: string }) => t.name)).toEqual([
      "call_get",
      "call_permission_get",
      "call_settings_get",
      "calls_list",
    ]);
    const discover = await postModern("server/discover", {}, { "x-mcp-tools": "numbers_list" });
    expect(discover.body.result.cacheScope).toBe("private");
  });

  it("tools/call reaches the API with the caller's credentials and answers a complete result", async () => {
    upstream.respond(() => ({ status: 200, body: { id: "msg_7", status: "read" } }));
    const res = await postModern("tools/call", callMessageGet("msg_7"), {
      "x-api-key": "ps_modern_caller",
      "x-api-key-id": "k_9",
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      jsonrpc: "2.0",
      id: 1,
      result: {
        resultType: "complete",
        _meta: { "io.modelcontextprotocol/serverInfo": SERVER_INFO },
        content: [{ type: "text", text: JSON.stringify({ id: "msg_7", status: "read" }) }],
        structuredContent: { id: "msg_7", status: "read" },
      },
    });
    const got = upstream.requests.at(-1)!;
    expect(got).toMatchObject({ method: "GET", path: "/v1/messages/msg_7", body: undefined });
    expect(got.headers).toMatchObject({ "x-api-key": "ps_modern_caller", "x-api-key-id": "k_9" });
    expect(JSON.stringify(got.headers)).not.toContain("2026-07-28"); // nothing of the protocol leaks upstream
  });

  it("an unknown tool is -32602, as in the legacy era, and a tool error is a complete result", async () => {
    const unknown = await postModern("tools/call", { name: "no_such_tool", arguments: {} });
    expect(unknown.status).toBe(200);
    expect(unknown.body).toMatchObject({ id: 1, error: { code: -32602, message: "Unknown tool: no_such_tool" } });
    const invalid = await postModern("tools/call", { name: "message_get", arguments: {} });
    expect(invalid.body.result).toMatchObject({ resultType: "complete", isError: true });
    expect(invalid.body.result.content[0].text).toContain("messageId: is required");
    expect(upstream.requests).toHaveLength(0);
  });

  it("an upstream 401 becomes the HTTP 401 invalid_token challenge, with the request's id", async () => {
    upstream.respond(() => ({ status: 401, body: { error: "token expired", code: "UNAUTHORIZED" } }));
    const res = await postModern("tools/call", callMessageGet(), { authorization: "Bearer expired-token" }, 42);
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toBe(`Bearer error="invalid_token", resource_metadata="${METADATA_URL}"`);
    expect(res.body).toMatchObject({ id: 42, error: { code: -32001 } });
    expect(JSON.stringify(res.body)).not.toContain("expired-token");
  });
});

describe("2026-07-28: refusals, each as the revision says", () => {
  it("an unsupported version is 400 with -32022, the supported versions and the requested one", async () => {
    const res = await post(
      modern("server/discover", {}, 301, { ...MODERN_META, "io.modelcontextprotocol/protocolVersion": "v999.0.0" }),
      {
        ...modernHeaders("server/discover"),
        "mcp-protocol-version": "v999.0.0",
      },
    );
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      jsonrpc: "2.0",
      id: 301,
      error: {
        code: -32022,
        message: "Unsupported protocol version: v999.0.0",
        data: {
          supported: ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07"],
          requested: "v999.0.0",
        },
      },
    });
  });

  it("a legacy version in _meta is -32022 too, pointing at initialize", async () => {
    const res = await post(
      modern("tools/list", {}, 3, { ...MODERN_META, "io.modelcontextprotocol/protocolVersion": "2025-11-25" }),
      {
        ...modernHeaders("tools/list"),
        "mcp-protocol-version": "2025-11-25",
      },
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: -32022,
      message: expect.stringContaining("initialize"),
      data: { requested: "2025-11-25" },
    });
  });

  it.each([
    [
      "MCP-Protocol-Version missing",
      "server/discover",
      { "mcp-protocol-version": "" },
      "MCP-Protocol-Version header is missing",
    ],
    [
      "MCP-Protocol-Version disagreeing",
      "server/discover",
      { "mcp-protocol-version": "2027-01-01" },
      "'2027-01-01' does not match the body's '2026-07-28'",
    ],
    ["Mcp-Method missing", "tools/list", { "mcp-method": "" }, "Mcp-Method header is missing"],
    [
      "Mcp-Method disagreeing",
      "tools/list",
      { "mcp-method": "prompts/list" },
      "'prompts/list' does not match the body's 'tools/list'",
    ],
    ["Mcp-Method in another case", "tools/list", { "mcp-method": "TOOLS/LIST" }, "'TOOLS/LIST' does not match"],
    ["Mcp-Name missing", "tools/call", { "mcp-name": "" }, "Mcp-Name header is missing"],
    [
      "Mcp-Name disagreeing",
      "tools/call",
      { "mcp-name": "wrong_tool_name" },
      "'wrong_tool_name' does not match the body's 'message_get'",
    ],
    [
      "Mcp-Name badly encoded",
      "tools/call",
      { "mcp-name": "=?base64?bWVzc2FnZV9nZXQ?=" },
      "not valid =?base64?…?= encoding",
    ],
    [
      "Mcp-Name encoding another name",
      "tools/call",
      { "mcp-name": "=?base64?d3JvbmdfdG9vbA==?=" },
      "'wrong_tool' does not match",
    ],
  ])("%s is 400 with -32020 and the request's id, and nothing is sent", async (_label, method, override, message) => {
    const params = method === "tools/call" ? callMessageGet() : {};
    const headers: Record<string, string> = {
      ...modernHeaders(method, method === "tools/call" ? "message_get" : undefined),
      ...override,
    };
    for (const [name, value] of Object.entries(headers)) if (value === "") delete headers[name];
    const res = await post(modern(method, params, 7), headers);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      jsonrpc: "2.0",
      id: 7,
      error: { code: -32020, message: expect.stringContaining(message) },
    });
    expect(res.body.error.data.mismatch).toEqual({ header: expect.any(String), body: expect.any(String) });
    expect(upstream.requests).toHaveLength(0);
  });

  it("reads header names in any case and an Mcp-Name in the =?base64?…?= form", async () => {
    const upper = await post(modern("tools/list"), {
      "MCP-PROTOCOL-VERSION": "2026-07-28",
      "MCP-METHOD": "tools/list",
    });
    expect(upper.status).toBe(200);
    const encoded = await post(modern("tools/call", callMessageGet()), {
      ...modernHeaders("tools/call"),
      "mcp-name": `=?base64?${Buffer.from("message_get").toString("base64")}?=`,
    });
    expect(encoded.status).toBe(200);
    expect(encoded.body.result.structuredContent).toEqual({ ok: true });
  });

  it.each([
    "initialize",
    "ping",
    "logging/setLevel",
    "resources/subscribe",
    "resources/list",
    "prompts/list",
    "unknown/method",
  ])("%s on a modern request is 404 with -32601", async (method) => {
    const res = await postModern(
      method,
      method === "initialize"
        ? { protocolVersion: "2026-07-28", capabilities: {}, clientInfo: { name: "x", version: "1" } }
        : {},
      {},
      500,
    );
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({
      jsonrpc: "2.0",
      id: 500,
      error: { code: -32601, message: `Method not found: ${method}` },
    });
  });

  it("a modern notification is accepted with 202, whatever its headers (the revision defines none for them)", async () => {
    const res = await post(
      { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "listen:0", _meta: MODERN_META } },
      {
        "mcp-protocol-version": "2026-07-28",
      },
    );
    expect(res.status).toBe(202);
    expect(res.text).toBe("");
  });
});

describe("2026-07-28: subscriptions/listen", () => {
  it("acknowledges first, honouring nothing (no list here ever changes), then closes the subscription gracefully", async () => {
    const res = await postModern(
      "subscriptions/listen",
      { notifications: { toolsListChanged: true, resourceSubscriptions: ["file:///x"] } },
      {},
      9,
    );
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/event-stream");
    expect(res.headers["x-accel-buffering"]).toBe("no");
    const events = res.text
      .split("\n\n")
      .filter((block) => block.trim() !== "")
      .map((block) => {
        const lines = block.split("\n");
        expect(lines[0]).toBe("event: message");
        return JSON.parse(lines[1]!.replace(/^data: /, "")) as Record<string, unknown>;
      });
    expect(events).toEqual([
      {
        jsonrpc: "2.0",
        method: "notifications/subscriptions/acknowledged",
        params: { _meta: { "io.modelcontextprotocol/subscriptionId": 9 }, notifications: {} },
      },
      {
        jsonrpc: "2.0",
        id: 9,
        result: {
          resultType: "complete",
          _meta: { "io.modelcontextprotocol/subscriptionId": 9, "io.modelcontextprotocol/serverInfo": SERVER_INFO },
        },
      },
    ]);
  });

  it("refuses a client that cannot read an event stream with 406 and the request's id", async () => {
    const res = await postModern("subscriptions/listen", { notifications: {} }, { accept: "application/json" }, 10);
    expect(res.status).toBe(406);
    expect(res.body).toMatchObject({ id: 10, error: { message: expect.stringContaining("text/event-stream") } });
  });
});

describe("the 2025 era on the same endpoint, unchanged", () => {
  it("initialize, tools/list and tools/call, with and without the version header", async () => {
    const init = await post(INITIALIZE_2025);
    expect(init.body.result).toMatchObject({ protocolVersion: "2025-11-25", serverInfo: SERVER_INFO });
    expect(init.body.result).not.toHaveProperty("resultType");
    for (const headers of [
      {},
      { "mcp-protocol-version": "2025-11-25" },
      { "mcp-protocol-version": "2024-11-05" },
    ] as Record<string, string>[]) {
      const list = await post(legacy("tools/list"), headers);
      expect(list.status).toBe(200);
      expect(Object.keys(list.body.result)).toEqual(["tools"]);
      const call = await post(legacy("tools/call", callMessageGet()), headers);
      expect(call.body.result).toEqual({
        content: [{ type: "text", text: '{"ok":true}' }],
        structuredContent: { ok: true },
      });
    }
  });

  it("ping answers {} exactly, and server/discover is modern-only, so a legacy ping is not refused", async () => {
    const ping = await post(legacy("ping"), { "mcp-protocol-version": "2025-11-25" });
    expect(ping.body).toEqual({ jsonrpc: "2.0", id: 1, result: {} });
  });

  it("a version header naming no revision is 400 with the request's id", async () => {
    const res = await post(legacy("tools/list", undefined, "abc"), { "mcp-protocol-version": "2023-01-01" });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      id: "abc",
      error: { code: -32000, message: "Bad Request: unsupported MCP-Protocol-Version 2023-01-01" },
    });
  });

  it("a legacy request never meets the 2026-07-28 header rules (no Mcp-Method needed, a wrong one ignored)", async () => {
    const res = await post(legacy("tools/call", callMessageGet()), { "mcp-method": "tools/list", "mcp-name": "other" });
    expect(res.status).toBe(200);
    expect(res.body.result.structuredContent).toEqual({ ok: true });
  });
});

describe("claude.ai connector quirks (tolerated, and only these)", () => {
  it("claude.ai sends MCP-Protocol-Version: 2026-07-28 after an initialize that negotiated 2025-11-25: served as legacy", async () => {
    const init = await post(INITIALIZE_2025);
    expect(init.body.result.protocolVersion).toBe("2025-11-25");
    const headers = { "mcp-protocol-version": "2026-07-28" };
    const list = await post(legacy("tools/list", undefined, 2), headers);
    expect(list.status).toBe(200);
    expect(Object.keys(list.body.result)).toEqual(["tools"]);
    const call = await post(legacy("tools/call", callMessageGet("msg_q1"), 3), headers);
    expect(call.status).toBe(200);
    expect(call.body.result).toEqual({
      content: [{ type: "text", text: '{"ok":true}' }],
      structuredContent: { ok: true },
    });
    expect(upstream.requests.at(-1)!.path).toBe("/v1/messages/msg_q1");
    const notice = server.logs.find(
      (line) => line.msg === "legacy message under a modern MCP-Protocol-Version header: served as legacy",
    );
    expect(notice).toMatchObject({ level: "debug", method: "tools/list", header: "2026-07-28" });
  });

  it("claude.ai sends a 2026-07-28 _meta under MCP-Protocol-Version: 2025-11-25: served as modern", async () => {
    for (const version of ["2025-11-25", "2025-06-18"]) {
      const res = await postModern("tools/call", callMessageGet("msg_q2"), { "mcp-protocol-version": version });
      expect(res.status, version).toBe(200);
      expect(res.body.result).toMatchObject({ resultType: "complete", structuredContent: { ok: true } });
    }
    const notice = server.logs.find(
      (line) => line.msg === "modern message under a legacy MCP-Protocol-Version header: served as modern",
    );
    expect(notice).toMatchObject({ level: "debug", method: "tools/call", header: "2025-11-25" });
  });

  it("but a modern _meta naming an unknown version under a legacy header is a mismatch, not tolerated", async () => {
    const res = await post(
      modern("tools/list", {}, 4, { ...MODERN_META, "io.modelcontextprotocol/protocolVersion": "v999.0.0" }),
      {
        ...modernHeaders("tools/list"),
        "mcp-protocol-version": "2025-11-25",
      },
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ id: 4, error: { code: -32020 } });
  });

  it("Claude Desktop and claude.ai send an object argument as a JSON string: used as the object, in both eras", async () => {
    const args = { templateId: "onboarding", destinationNumber: "+5511999999999", variables: '{"name":"Ana"}' };
    for (const message of [
      legacy("tools/call", { name: "messages_send", arguments: args }),
      modern("tools/call", { name: "messages_send", arguments: args }),
    ]) {
      upstream.reset();
      const res = await post(
        message,
        "_meta" in (message.params as object) ? modernHeaders("tools/call", "messages_send") : {},
      );
      expect(res.status).toBe(200);
      expect(res.body.result.isError).toBeUndefined();
      expect(upstream.requests).toHaveLength(1);
      expect(upstream.requests[0]!.body).toEqual({
        templateId: "onboarding",
        destinationNumber: "+5511999999999",
        variables: { name: "Ana" },
      });
    }
  });
});

describe("CORS for browser clients of either era", () => {
  it("a preflight from an allowed origin allows the 2026-07-28 headers", async () => {
    const res = await request(server.url)
      .options("/mcp")
      .set({ origin: "http://localhost:6274", "access-control-request-method": "POST" });
    expect(res.status).toBe(204);
    expect(res.headers["access-control-allow-origin"]).toBe("http://localhost:6274");
    const allowed = res.headers["access-control-allow-headers"]!.split(", ");
    expect(allowed).toEqual(
      expect.arrayContaining(["mcp-protocol-version", "mcp-method", "mcp-name", "authorization", "x-api-key"]),
    );
  });
});
