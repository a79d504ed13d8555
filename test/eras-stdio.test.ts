import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";
import { callMessageGet, INITIALIZE_2025, legacy, MODERN_META, modern } from "./helpers/messages.js";
import { type StdioLines, startStdioLines } from "./helpers/stdio-lines.js";
import { FakeUpstream } from "./helpers/upstream.js";

// Both MCP eras over stdio, as raw lines: each message is classified on its own, in one process.

const KEY = "ps_stdio_eras_key";
const SERVER_INFO = { name: "pilot-status-mcp", title: "Pilot Status", version: expect.any(String) };

const upstream = FakeUpstream.forTheFile();
let stdio: StdioLines;

beforeEach(() => {
  stdio = startStdioLines({ PILOT_STATUS_API_URL: upstream.url, PILOT_STATUS_API_KEY: KEY });
});
afterEach(async () => stdio.close());

const byId = (id: unknown) => (line: Record<string, unknown>) => line.id === id;

describe("2026-07-28 over stdio", () => {
  it("a modern request may be the very first line: no discover, no initialize (the 2.x client's session child)", async () => {
    stdio.send(modern("tools/call", callMessageGet("msg_s1"), 0));
    const line = await stdio.next(byId(0));
    expect(line.result).toEqual({
      resultType: "complete",
      _meta: { "io.modelcontextprotocol/serverInfo": SERVER_INFO },
      content: [{ type: "text", text: '{"ok":true}' }],
      structuredContent: { ok: true },
    });
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]).toMatchObject({ method: "GET", path: "/v1/messages/msg_s1" });
    expect(upstream.requests[0]!.headers["x-api-key"]).toBe(KEY);
  });

  it("server/discover and tools/list answer complete, cacheable results", async () => {
    stdio.send(modern("server/discover", {}, "server-discover-probe-1"));
    const discover = await stdio.next(byId("server-discover-probe-1"));
    expect(discover.result).toMatchObject({
      resultType: "complete",
      supportedVersions: expect.arrayContaining(["2026-07-28", "2025-11-25"]),
      capabilities: { tools: { listChanged: false } },
      ttlMs: 3_600_000,
      cacheScope: "public",
    });
    stdio.send(modern("tools/list", {}, 2));
    const list = await stdio.next(byId(2));
    expect(list.result).toMatchObject({ resultType: "complete", ttlMs: 3_600_000, cacheScope: "public" });
    expect((list.result as { tools: unknown[] }).tools).toHaveLength(TOOL_SPECS.length);
  });

  it("refuses as the revision says: -32602 for a missing _meta, -32022 for a version, -32601 for removed methods", async () => {
    stdio.send(modern("server/discover", {}, 1, null));
    stdio.send(modern("tools/list", {}, 2, { "io.modelcontextprotocol/protocolVersion": "2026-07-28" }));
    stdio.send(
      modern("tools/list", {}, 3, { ...MODERN_META, "io.modelcontextprotocol/protocolVersion": "2099-01-01" }),
    );
    stdio.send(modern("ping", {}, 4));
    stdio.send(
      modern(
        "initialize",
        { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "x", version: "1" } },
        5,
      ),
    );
    stdio.send(modern("logging/setLevel", { level: "debug" }, 6));
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map(async (id) => (await stdio.next(byId(id))).error));
    expect(answers).toEqual([
      { code: -32602, message: expect.stringContaining("io.modelcontextprotocol/protocolVersion") },
      { code: -32602, message: expect.stringContaining("io.modelcontextprotocol/clientCapabilities") },
      {
        code: -32022,
        message: "Unsupported protocol version: 2099-01-01",
        data: { supported: expect.arrayContaining(["2026-07-28"]), requested: "2099-01-01" },
      },
      { code: -32601, message: "Method not found: ping" },
      { code: -32601, message: "Method not found: initialize" },
      { code: -32601, message: "Method not found: logging/setLevel" },
    ]);
  });

  it("subscriptions/listen writes the acknowledgement, then the graceful end, both tagged with the subscription", async () => {
    stdio.send(modern("subscriptions/listen", { notifications: { toolsListChanged: true } }, "listen:0"));
    const ack = await stdio.next();
    expect(ack).toEqual({
      jsonrpc: "2.0",
      method: "notifications/subscriptions/acknowledged",
      params: { _meta: { "io.modelcontextprotocol/subscriptionId": "listen:0" }, notifications: {} },
    });
    const end = await stdio.next();
    expect(end).toMatchObject({
      id: "listen:0",
      result: {
        resultType: "complete",
        _meta: {
          "io.modelcontextprotocol/subscriptionId": "listen:0",
          "io.modelcontextprotocol/serverInfo": SERVER_INFO,
        },
      },
    });
  });

  it("an object argument sent as a JSON string is used as the object; a string argument is never parsed", async () => {
    stdio.send(
      modern(
        "tools/call",
        {
          name: "messages_send",
          arguments: { templateId: "t1", destinationNumber: "+5511999999999", variables: '{"name":"Ana"}' },
        },
        1,
      ),
    );
    await stdio.next(byId(1));
    stdio.send(
      modern(
        "tools/call",
        { name: "messages_send", arguments: { destinationNumber: "+5511999999999", text: '{"looks":"like json"}' } },
        2,
      ),
    );
    await stdio.next(byId(2));
    expect(upstream.requests.map((r) => r.body)).toEqual([
      { templateId: "t1", destinationNumber: "+5511999999999", variables: { name: "Ana" } },
      { destinationNumber: "+5511999999999", text: '{"looks":"like json"}' },
    ]);
  });
});

describe("JSON-string arguments are parsed, then validated like any other", () => {
  const call = async (id: number, name: string, args: Record<string, unknown>) => {
    stdio.send(legacy("tools/call", { name, arguments: args }, id));
    return (await stdio.next(byId(id))).result as { isError?: boolean; content: Array<{ text: string }> };
  };

  it("an array argument as a JSON string is used as the array", async () => {
    const result = await call(1, "messages_cancel", { messageIds: '["m1","m2"]' });
    expect(result.isError).toBeUndefined();
    expect(upstream.requests[0]!.body).toEqual({ messageIds: ["m1", "m2"] });
  });

  it.each([
    ["a string that is not JSON", { variables: "{name: Ana}" }, "variables: expected record, received string"],
    [
      "JSON of another type (an array for an object)",
      { variables: '["Ana"]' },
      "variables: expected record, received string",
    ],
    [
      "parsed, but breaking the object's own rules",
      { variables: '{"name":5}' },
      "variables.name: expected string, received number",
    ],
  ])("%s is refused naming the field, and nothing is sent", async (_label, extra, message) => {
    const result = await call(2, "messages_send", { templateId: "t1", destinationNumber: "+5511999999999", ...extra });
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toContain("Invalid arguments for messages_send; nothing was sent");
    expect(result.content[0]!.text).toContain(message);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe("both eras interleaved in one stdio process", () => {
  it("a legacy session and modern requests, line after line, each answered in its own era", async () => {
    stdio.send(INITIALIZE_2025);
    stdio.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    stdio.send(modern("tools/list", {}, 2));
    stdio.send(legacy("tools/list", undefined, 3));
    stdio.send(modern("tools/call", callMessageGet(), 4));
    stdio.send(legacy("tools/call", callMessageGet(), 5));
    stdio.send(legacy("ping", undefined, 6));
    const [init, modernList, legacyList, modernCall, legacyCall, ping] = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((id) => stdio.next(byId(id))),
    );
    expect(init!.result).toMatchObject({ protocolVersion: "2025-11-25", serverInfo: SERVER_INFO });
    expect(modernList!.result).toHaveProperty("resultType", "complete");
    expect(Object.keys(legacyList!.result as object)).toEqual(["tools"]);
    expect(modernCall!.result).toMatchObject({ resultType: "complete", structuredContent: { ok: true } });
    expect(legacyCall!.result).toEqual({
      content: [{ type: "text", text: '{"ok":true}' }],
      structuredContent: { ok: true },
    });
    expect(ping!.result).toEqual({});
  });
});
