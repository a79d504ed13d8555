import { gzipSync } from "node:zlib";
import request from "supertest";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";
import { connectClient, startTestHttpServer, type TestHttpServer } from "./helpers/http-server.js";
import { FakeUpstream } from "./helpers/upstream.js";

const RESOURCE = "https://mcp.example.test/mcp";
const AUTH_SERVER = "https://auth.example.test";
const METADATA_URL = "https://mcp.example.test/.well-known/oauth-protected-resource/mcp";
const ACCEPT = "application/json, text/event-stream";

const rpc = (method: string, params?: unknown, id: number | string = 1) => ({
  jsonrpc: "2.0",
  id,
  method,
  ...(params ? { params } : {}),
});
const callMessageGet = (messageId = "msg_1") => rpc("tools/call", { name: "message_get", arguments: { messageId } });

let upstream: FakeUpstream;
let server: TestHttpServer;

beforeAll(async () => {
  upstream = await FakeUpstream.start();
  server = await startTestHttpServer({
    PILOT_STATUS_API_URL: upstream.url,
    MCP_RESOURCE_URL: RESOURCE,
    PILOT_STATUS_AUTH_SERVER_URL: AUTH_SERVER,
    MCP_MAX_BODY_BYTES: "4096",
  });
});
afterAll(async () => {
  await server?.close();
  await upstream?.close();
});
beforeEach(() => {
  upstream.reset();
  upstream.respond(() => ({ status: 200, body: { ok: true } }));
});

const post = (body: unknown, headers: Record<string, string> = { "x-api-key": "ps_http_key" }) =>
  request(server.url)
    .post("/mcp")
    .set({ "content-type": "application/json", accept: ACCEPT, ...headers })
    .send(typeof body === "string" ? body : JSON.stringify(body));

async function stillServing(): Promise<void> {
  const res = await post(rpc("tools/list"));
  expect(res.status).toBe(200);
  expect(res.body.result.tools).toHaveLength(TOOL_SPECS.length);
}

describe("health and discovery", () => {
  it("GET /health answers without auth and without calling the API", async () => {
    const res = await request(server.url).get("/health");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok", version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(upstream.requests).toHaveLength(0);
  });

  it("GET /ready answers 200 while taking traffic, without auth and without calling the API", async () => {
    const res = await request(server.url).get("/ready").set({ host: "probe.internal:8787" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ready", version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(upstream.requests).toHaveLength(0);
  });

  it.each(["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"])(
    "GET %s serves RFC 9728 metadata from config only",
    async (path) => {
      const res = await request(server.url).get(path).set({ "x-forwarded-host": "evil.example", host: "evil.example" });
      expect(res.status).toBe(200);
      expect(res.headers["access-control-allow-origin"]).toBe("*");
      expect(res.body).toEqual({
        resource: RESOURCE,
        authorization_servers: [AUTH_SERVER],
        bearer_methods_supported: ["header"],
        resource_name: expect.any(String),
        resource_documentation: expect.stringMatching(/^https:\/\//),
      });
    },
  );
});

describe("credentials", () => {
  it("challenges a request without credentials before any MCP processing", async () => {
    for (const body of [
      rpc("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } }),
      "{broken",
    ]) {
      const res = await post(body, {});
      expect(res.status).toBe(401);
      expect(res.headers["www-authenticate"]).toBe(`Bearer resource_metadata="${METADATA_URL}"`);
    }
    // x-api-key-id alone names a key; it proves nothing.
    const idOnly = await post(callMessageGet(), { "x-api-key-id": "k_1" });
    expect(idOnly.status).toBe(401);
    expect(upstream.requests).toHaveLength(0);
  });

  it("passes x-api-key and x-api-key-id through untouched, and nothing else of the caller's", async () => {
    const client = await connectClient(server.mcpUrl, {
      "x-api-key": "ps_caller_key",
      "x-api-key-id": "k_caller",
      cookie: "s=1",
      "x-custom": "y",
    });
    const result = await client.callTool({ name: "message_get", arguments: { messageId: "msg_9" } });
    await client.close();
    expect(result.structuredContent).toEqual({ ok: true });
    const got = upstream.requests.at(-1)!;
    expect(got.headers["x-api-key"]).toBe("ps_caller_key");
    expect(got.headers["x-api-key-id"]).toBe("k_caller");
    expect(got.headers.cookie).toBeUndefined();
    expect(got.headers["x-custom"]).toBeUndefined();
    expect(got.headers.authorization).toBeUndefined();
  });

  it("passes an OAuth bearer token through untouched", async () => {
    const client = await connectClient(server.mcpUrl, { authorization: "Bearer oauth-token-abc.def" });
    await client.callTool({ name: "message_get", arguments: { messageId: "msg_2" } });
    await client.close();
    const got = upstream.requests.at(-1)!;
    expect(got.headers.authorization).toBe("Bearer oauth-token-abc.def");
    expect(got.headers["x-api-key"]).toBeUndefined();
  });

  it("forwards both kinds when both are sent", async () => {
    const res = await post(callMessageGet(), { "x-api-key": "ps_both", authorization: "Bearer tok_both" });
    expect(res.status).toBe(200);
    const got = upstream.requests.at(-1)!;
    expect(got.headers["x-api-key"]).toBe("ps_both");
    expect(got.headers.authorization).toBe("Bearer tok_both");
  });

  it("turns an upstream 401 into an HTTP 401 invalid_token challenge", async () => {
    upstream.respond(() => ({ status: 401, body: { error: "invalid token", code: "UNAUTHORIZED" } }));
    const res = await post(callMessageGet(), { authorization: "Bearer expired" });
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toBe(`Bearer error="invalid_token", resource_metadata="${METADATA_URL}"`);
    expect(res.body).toMatchObject({ jsonrpc: "2.0", id: 1, error: { code: -32001 } });
    expect(JSON.stringify(res.body)).not.toContain("expired");
  });

  it("keeps an upstream 403 a tool error for the model to explain", async () => {
    upstream.respond(() => ({
      status: 403,
      body: { error: "Tenant keys cannot do this", code: "TENANT_SCOPE_NOT_ALLOWED" },
    }));
    const res = await post(callMessageGet());
    expect(res.status).toBe(200);
    expect(res.body.result.isError).toBe(true);
    expect(res.body.result.content[0].text).toContain("TENANT_SCOPE_NOT_ALLOWED");
    expect(res.body.result.content[0].text).toContain("whatsappNumberId");
  });
});

describe("stateless streamable HTTP", () => {
  it("initializes, lists and calls with the SDK client, and never issues a session id", async () => {
    const client = await connectClient(server.mcpUrl, { "x-api-key": "ps_sdk" });
    const { tools } = await client.listTools();
    expect(tools).toHaveLength(TOOL_SPECS.length);
    await client.close();
    const res = await post(
      rpc("initialize", {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "curl", version: "1" },
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.headers["mcp-session-id"]).toBeUndefined();
    expect(res.body.result).toMatchObject({
      protocolVersion: "2025-06-18",
      serverInfo: { name: "pilot-status-mcp" },
      capabilities: { tools: {} },
    });
  });

  it("serves tools/list and tools/call without a prior initialize", async () => {
    await stillServing();
    const res = await post(callMessageGet("msg_77"));
    expect(res.status).toBe(200);
    expect(res.body.result.structuredContent).toEqual({ ok: true });
    expect(upstream.requests.at(-1)!.path).toBe("/v1/messages/msg_77");
  });

  it("accepts notifications with 202 and no body", async () => {
    const res = await post({ jsonrpc: "2.0", method: "notifications/initialized" });
    expect(res.status).toBe(202);
    expect(res.text).toBe("");
  });

  it.each(["get", "delete", "put"] as const)("%s /mcp is 405 with Allow: POST and a JSON-RPC error", async (method) => {
    const res = await request(server.url)[method]("/mcp").set({ "x-api-key": "ps_x", accept: ACCEPT });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toContain("POST");
    expect(res.body).toMatchObject({ jsonrpc: "2.0", error: { code: expect.any(Number) } });
    expect(res.body).not.toHaveProperty("id"); // no request was read, so no id can be known
    await stillServing();
  });

  it("answers malformed JSON with 400 and -32700", async () => {
    const res = await post('{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ jsonrpc: "2.0", error: { code: -32700 } });
    expect(res.body).not.toHaveProperty("id");
    await stillServing();
  });

  it("answers a body over the limit with 413", async () => {
    const big = JSON.stringify(rpc("tools/call", { name: "messages_send", arguments: { text: "x".repeat(10_000) } }));
    const res = await post(big);
    expect(res.status).toBe(413);
    expect(upstream.requests).toHaveLength(0);
    await stillServing();
  });

  it("refuses a JSON-RPC batch with -32600", async () => {
    const res = await post([rpc("ping"), rpc("tools/list", undefined, 2)]);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: -32600 } });
    expect(res.body).not.toHaveProperty("id");
    await stillServing();
  });

  it("refuses a non-JSON content type and an unsupported protocol version", async () => {
    const wrongType = await request(server.url)
      .post("/mcp")
      .set({ "content-type": "text/plain", "x-api-key": "ps_x" })
      .send("hi");
    expect(wrongType.status).toBe(415);
    const lookalike = await request(server.url)
      .post("/mcp")
      .set({ "content-type": "application/json-patch+json", "x-api-key": "ps_x" })
      .send("[]");
    expect(lookalike.status).toBe(415);
    const body = JSON.stringify(rpc("ping"));
    const utf16 = await request(server.url)
      .post("/mcp")
      .set({ "content-type": "application/json; charset=utf-16", "x-api-key": "ps_x" })
      .send(body);
    expect(utf16.status).toBe(415);
    expect(utf16.body.error.message).toContain("UTF-8");
    const gzipped = await request(server.url)
      .post("/mcp")
      .set({ "content-type": "application/json", "content-encoding": "gzip", "x-api-key": "ps_x" })
      .send(gzipSync(body));
    expect(gzipped.status).toBe(415);
    expect(gzipped.headers["accept-encoding"]).toBe("identity");
    expect(gzipped.body).toMatchObject({
      error: { message: expect.stringContaining("Content-Encoding gzip is not supported") },
    });
    expect(gzipped.body).not.toHaveProperty("id");
    for (const type of ["application/json; charset=utf-8", "Application/JSON;charset=UTF-8", "application/json"]) {
      const fine = await request(server.url)
        .post("/mcp")
        .set({ "content-type": type, "content-encoding": "identity", "x-api-key": "ps_x" })
        .send(body);
      expect(fine.status, type).toBe(200);
    }
    const wrongVersion = await post(rpc("ping"), { "x-api-key": "ps_x", "mcp-protocol-version": "1999-01-01" });
    expect(wrongVersion.status).toBe(400);
    expect(wrongVersion.body).toMatchObject({
      id: 1,
      error: { code: -32000, message: expect.stringContaining("1999-01-01") },
    });
    await stillServing();
  });

  it("echoes a safe x-request-id and replaces an unsafe one", async () => {
    const safe = await post(rpc("ping"), { "x-api-key": "ps_x", "x-request-id": "req-123.abc" });
    expect(safe.headers["x-request-id"]).toBe("req-123.abc");
    const unsafe = await post(rpc("ping"), { "x-api-key": "ps_x", "x-request-id": "bad id\twith spaces" });
    expect(unsafe.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("puts X-Request-Id on every kind of /mcp answer and on the edges, once", async () => {
    const id = { "x-request-id": "req-every-answer" };
    const answers = [
      await post(rpc("ping"), { "x-api-key": "ps_x", ...id }), // 200
      await post({ jsonrpc: "2.0", method: "notifications/initialized" }, { "x-api-key": "ps_x", ...id }), // 202
      await post(rpc("ping"), id), // 401 challenge
      await post(rpc("ping"), { "x-api-key": "ps_x", host: "evil.example", ...id }), // 403
      await request(server.url)
        .options("/mcp")
        .set({ origin: "http://localhost", ...id }), // 204 preflight
      await request(server.url).get("/mcp").set(id), // 405
      await request(server.url).get("/health").set(id), // express edge
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 202, 401, 403, 204, 405, 200]);
    for (const answer of answers) {
      expect(answer.headers["x-request-id"], String(answer.status)).toBe("req-every-answer");
    }
  });
});

describe("DNS-rebinding protection", () => {
  it("rejects a foreign Host and a foreign Origin with 403", async () => {
    const host = await post(rpc("ping"), { "x-api-key": "ps_x", host: "evil.example:8787" });
    expect(host.status).toBe(403);
    const origin = await post(rpc("ping"), { "x-api-key": "ps_x", origin: "https://evil.example" });
    expect(origin.status).toBe(403);
    expect(upstream.requests).toHaveLength(0);
  });

  it("accepts the public host, loopback origins and no Origin at all", async () => {
    const publicHost = await post(rpc("ping"), { "x-api-key": "ps_x", host: "mcp.example.test" });
    expect(publicHost.status).toBe(200);
    const local = await post(rpc("ping"), { "x-api-key": "ps_x", origin: "http://localhost:6274" });
    expect(local.status).toBe(200);
    expect(local.headers["access-control-allow-origin"]).toBe("http://localhost:6274");
    const publicOrigin = await post(rpc("ping"), { "x-api-key": "ps_x", origin: "https://mcp.example.test" });
    expect(publicOrigin.status).toBe(200);
  });
});

describe("isolation", () => {
  it("200 concurrent calls with distinct keys each reach the API with their own caller's key", async () => {
    upstream.respond((req) => ({ status: 200, body: { id: req.path.split("/").pop() }, delayMs: Math.random() * 20 }));
    const calls = Array.from({ length: 200 }, (_, i) =>
      post(callMessageGet(`msg_${i}`), {
        "x-api-key": `ps_tenant_${i}`,
        ...(i % 2 === 0 ? { "x-api-key-id": `k_${i}` } : {}),
      }),
    );
    const responses = await Promise.all(calls);
    responses.forEach((res, i) => {
      expect(res.status).toBe(200);
      expect(res.body.result.structuredContent).toEqual({ id: `msg_${i}` });
    });
    expect(upstream.requests).toHaveLength(200);
    for (const got of upstream.requests) {
      const i = got.path.split("_").pop();
      expect(got.headers["x-api-key"]).toBe(`ps_tenant_${i}`);
      expect(got.headers["x-api-key-id"]).toBe(Number(i) % 2 === 0 ? `k_${i}` : undefined);
    }
  });
});

describe("the environment key as a fallback", () => {
  let fallbackServer: TestHttpServer;
  beforeAll(async () => {
    fallbackServer = await startTestHttpServer({
      PILOT_STATUS_API_URL: upstream.url,
      PILOT_STATUS_API_KEY: "ps_env_fallback",
      PILOT_STATUS_API_KEY_ID: "k_env",
    });
  });
  afterAll(async () => fallbackServer.close());

  it("is used only when a request brings no credentials", async () => {
    const send = (headers: Record<string, string>) =>
      request(fallbackServer.url)
        .post("/mcp")
        .set({ "content-type": "application/json", accept: ACCEPT, ...headers })
        .send(JSON.stringify(callMessageGet()));
    expect((await send({})).status).toBe(200);
    expect(upstream.requests.at(-1)!.headers).toMatchObject({
      "x-api-key": "ps_env_fallback",
      "x-api-key-id": "k_env",
    });
    expect((await send({ "x-api-key": "ps_own" })).status).toBe(200);
    expect(upstream.requests.at(-1)!.headers["x-api-key"]).toBe("ps_own");
    expect(upstream.requests.at(-1)!.headers["x-api-key-id"]).toBeUndefined();
    expect((await send({ authorization: "Bearer own" })).status).toBe(200);
    expect(upstream.requests.at(-1)!.headers["x-api-key"]).toBeUndefined();
  });
});
