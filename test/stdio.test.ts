import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { connectInProcessStdio, type InProcessStdio } from "./helpers/stdio-in-process.js";
import { type Line, startStdioLines } from "./helpers/stdio-lines.js";
import { FakeUpstream } from "./helpers/upstream.js";

// The stdio server of src/, in process: raw lines as a careless client writes them, and the SDK's client. What
// only the built bin shows (exit statuses, the .env file, stderr as the process writes it) is in test/bin.test.ts.

const KEY = "ps_live_stdio_secret_key_42";

const upstream = FakeUpstream.forTheFile();

/**
 * Writes the lines, ends stdin, and gives back every line written once the server is done (it ends only when every
 * message it started has been answered, as the bin does before exiting 0).
 */
async function runLines(env: Record<string, string>, lines: string[]): Promise<{ written: Line[]; logs: Line[] }> {
  const stdio = startStdioLines(env);
  for (const line of lines) stdio.send(line);
  await stdio.close();
  return { written: stdio.written, logs: stdio.logs };
}

describe("stdio start-up", () => {
  it("reports every invalid setting at once, in plain words", () => {
    let error: unknown;
    try {
      loadConfig({ PILOT_STATUS_API_KEY: KEY, PORT: "eighty", LOG_LEVEL: "loud", PILOT_STATUS_API_URL: "ftp://x" });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { message } = error as ConfigError;
    expect(message).toContain("PORT must be a whole number");
    expect(message).toContain("LOG_LEVEL must be one of");
    expect(message).toContain("PILOT_STATUS_API_URL must be an http:// or https:// URL");
    expect((error as ConfigError).problems).toHaveLength(3);
  });

  it("answers an argument nested 50,000 levels deep with a clear refusal, not an internal error", async () => {
    // Too deep for JSON.stringify's recursion: before the depth rule this came back as -32603 Internal error.
    const deep = `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`;
    const line = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"call_settings_update","arguments":{"call_hours":${deep}}}}`;
    const { written } = await runLines({ PILOT_STATUS_API_KEY: KEY, PILOT_STATUS_API_URL: upstream.url }, [line]);
    expect(written).toHaveLength(1);
    const answer = written[0] as {
      id: number;
      result?: { isError?: boolean; content: Array<{ text: string }> };
    };
    expect(answer.id).toBe(7);
    expect(answer.result?.isError).toBe(true);
    expect(answer.result?.content[0]?.text).toContain(
      "call_hours: must not nest objects or arrays more than 64 levels deep",
    );
    expect(upstream.requests).toHaveLength(0);
  });

  it("drops the answer to a request the client cancels, and answers the others", async () => {
    upstream.respond(() => ({ status: 200, body: { id: "msg" }, delayMs: 300 }));
    const call = (id: number, messageId: string) =>
      JSON.stringify({
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: { name: "message_get", arguments: { messageId } },
      });
    const { written } = await runLines({ PILOT_STATUS_API_KEY: KEY, PILOT_STATUS_API_URL: upstream.url }, [
      call(5, "msg_cancelled"),
      call(6, "msg_kept"),
      JSON.stringify({
        jsonrpc: "2.0",
        method: "notifications/cancelled",
        params: { requestId: 5, reason: "the user gave up" },
      }),
      JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "6" } }), // "6" is not 6
      // unknown: ignored
      JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 99 } }),
      JSON.stringify({ jsonrpc: "2.0", id: 7, method: "ping" }),
    ]);
    const answers = written as Array<{ id: number; result?: { isError?: boolean } }>;
    expect(answers.map((a) => a.id).sort()).toEqual([6, 7]);
    expect(answers.find((a) => a.id === 6)?.result?.isError).toBeFalsy();
    // The cancelled call is not cut off upstream (a send must not be left half-done); only its answer is dropped.
    expect(upstream.requests.map((r) => r.path).sort()).toEqual([
      "/v1/messages/msg_cancelled",
      "/v1/messages/msg_kept",
    ]);
  });

  it("answers malformed input with JSON-RPC errors and keeps stdout pure JSON-RPC", async () => {
    const { written, logs } = await runLines(
      { PILOT_STATUS_API_KEY: KEY, PILOT_STATUS_API_URL: upstream.url, LOG_LEVEL: "debug" },
      [
        "{not json",
        JSON.stringify([{ jsonrpc: "2.0", id: 1, method: "ping" }]),
        JSON.stringify({ jsonrpc: "1.0", id: 2, method: "ping" }),
        JSON.stringify({ jsonrpc: "2.0", id: 3, method: "resources/list" }),
        JSON.stringify({
          jsonrpc: "2.0",
          id: 4,
          method: "tools/call",
          params: { name: "no_such_tool", arguments: {} },
        }),
        JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
        JSON.stringify({
          jsonrpc: "2.0",
          id: 5,
          method: "tools/call",
          params: { name: "message_get", arguments: { messageId: "msg_1" } },
        }),
      ],
    );
    // Every line written is one JSON-RPC message (startStdioLines parses each, and would fail on anything else).
    const messages = written as Array<{ id: unknown; error?: { code: number; message: string }; result?: unknown }>;
    expect(messages.every((m) => (m as { jsonrpc?: unknown }).jsonrpc === "2.0")).toBe(true);
    const byId = new Map(messages.map((m) => [m.id, m]));
    // No id can be known for these two: the 2025-11-25 and 2026-07-28 schemas have such errors omit it.
    expect(
      messages
        .filter((m) => m.id === undefined)
        .map((m) => m.error?.code)
        .sort(),
    ).toEqual([-32700, -32600].sort());
    expect(byId.get(2)?.error?.code).toBe(-32600);
    expect(byId.get(3)?.error?.code).toBe(-32601);
    expect(byId.get(4)?.error).toMatchObject({ code: -32602, message: expect.stringContaining("no_such_tool") });
    expect(byId.get(5)?.result).toMatchObject({ structuredContent: { ok: true } });
    expect(messages).toHaveLength(6); // the notification gets no answer
    // Logs went to the logger, as JSON lines, without the key (that the bin's logger writes to stderr: bin.test.ts).
    expect(logs.some((l) => l.tool === "message_get")).toBe(true);
    expect(JSON.stringify(logs)).not.toContain(KEY);
  });
});

describe("stdio session with the SDK client", () => {
  let session: InProcessStdio;
  beforeAll(async () => {
    session = await connectInProcessStdio({ PILOT_STATUS_API_URL: upstream.url, PILOT_STATUS_API_KEY: KEY });
  });
  afterAll(async () => session.close());

  it("initializes and lists every tool with titles and annotations", async () => {
    expect(session.client.getServerVersion()).toMatchObject({ name: "pilot-status-mcp" });
    const { tools } = await session.client.listTools();
    expect(tools).toHaveLength(TOOL_SPECS.length);
    for (const t of tools) {
      expect(t.title).toBeTruthy();
      expect(t.annotations).toMatchObject({ openWorldHint: true });
    }
  });

  it("sends no late answer after the SDK client times out a call and cancels it", async () => {
    upstream.respond(() => ({ status: 200, body: { id: "msg_slow" }, delayMs: 400 }));
    const errors: Error[] = [];
    session.client.onerror = (error) => errors.push(error);
    await expect(
      session.client.callTool({ name: "message_get", arguments: { messageId: "msg_slow" } }, undefined, {
        timeout: 100,
      }),
    ).rejects.toThrow(/timed out/i);
    await new Promise((resolve) => setTimeout(resolve, 600)); // past the upstream's answer
    expect(upstream.requests).toHaveLength(1);
    // Without cancellation support the late answer reaches the client as "a response for an unknown message ID".
    expect(errors).toEqual([]);
    session.client.onerror = undefined;
  });

  it("turns an upstream 401 into an error that says to check the key, without the key", async () => {
    upstream.respond(() => ({ status: 401, body: { error: "Invalid API key", code: "UNAUTHORIZED" } }));
    const result = await session.client.callTool({ name: "templates_list", arguments: {} });
    expect(result.isError).toBe(true);
    const text = (result.content as Array<{ text: string }>)[0]!.text;
    expect(text).toContain("PILOT_STATUS_API_KEY");
    expect(text).not.toContain(KEY);
  });

  it("wraps an array answer as { items } in structured content", async () => {
    upstream.respond(() => ({ status: 200, body: [{ id: "tpl_1" }] }));
    const result = await session.client.callTool({ name: "templates_list", arguments: {} });
    expect(result.structuredContent).toEqual({ items: [{ id: "tpl_1" }] });
  });

  it("says OK for a success without a body", async () => {
    upstream.respond(() => ({ status: 204 }));
    const result = await session.client.callTool({ name: "webhooks_delete", arguments: { webhookId: "wh_1" } });
    expect(result.isError).toBeFalsy();
    expect(result.content).toEqual([{ type: "text", text: "OK (HTTP 204)" }]);
  });
});
