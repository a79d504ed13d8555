import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CLI_PATH, requireBuild, type StdioSession, serverEnv, startStdioServer } from "./helpers/stdio-server.js";
import { FakeUpstream } from "./helpers/upstream.js";

const KEY = "ps_live_stdio_secret_key_42";
const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built binary with raw stdin lines, the way a careless client might talk to it. */
function runRaw(
  env: Record<string, string>,
  stdinLines: string[],
  args = ["stdio"],
  cwd = fixtures,
): Promise<RunResult> {
  requireBuild();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env: serverEnv(env), cwd });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    for (const line of stdinLines) child.stdin.write(`${line}\n`);
    child.stdin.end();
  });
}

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await FakeUpstream.start();
});
afterAll(async () => upstream.close());
beforeEach(() => {
  upstream.reset();
  upstream.respond(() => ({ status: 200, body: { ok: true } }));
});

describe("stdio start-up", () => {
  it("refuses to start without PILOT_STATUS_API_KEY: one clear line, no stack, nothing on stdout", async () => {
    const run = await runRaw({ PILOT_STATUS_API_URL: upstream.url }, []);
    expect(run.code).toBe(2); // a configuration error, like every other one

    expect(run.stdout).toBe("");
    const lines = run.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("PILOT_STATUS_API_KEY");
    expect(run.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it("is the default with no argument and with MCP_TRANSPORT=stdio", async () => {
    const init = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" });
    for (const [env, args] of [
      [{}, []],
      [{ MCP_TRANSPORT: "stdio" }, []],
    ] as const) {
      const run = await runRaw({ PILOT_STATUS_API_KEY: KEY, ...env }, [init], [...args]);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ jsonrpc: "2.0", id: 1, result: {} });
    }
  });

  it("reads a .env file in the working directory, which never overrides the real environment", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pilot-status-env-"));
    writeFileSync(
      join(dir, ".env"),
      `PILOT_STATUS_API_KEY=ps_from_dotenv_file\nPILOT_STATUS_API_URL=${upstream.url}\nPILOT_STATUS_API_KEY_ID=k_from_file\n`,
    );
    const call = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "templates_list", arguments: {} },
    });
    const fromFile = await runRaw({}, [call], ["stdio"], dir);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).not.toContain("dotenv"); // stdout stays JSON-RPC only
    expect(upstream.requests.at(-1)!.headers).toMatchObject({
      "x-api-key": "ps_from_dotenv_file",
      "x-api-key-id": "k_from_file",
    });
    const realWins = await runRaw({ PILOT_STATUS_API_KEY: "ps_from_real_env" }, [call], ["stdio"], dir);
    expect(realWins.code).toBe(0);
    expect(upstream.requests.at(-1)!.headers["x-api-key"]).toBe("ps_from_real_env");
    rmSync(dir, { recursive: true, force: true });
  });

  it("reports every invalid setting at once, in plain words", async () => {
    const run = await runRaw(
      { PILOT_STATUS_API_KEY: KEY, PORT: "eighty", LOG_LEVEL: "loud", PILOT_STATUS_API_URL: "ftp://x" },
      [],
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("PORT must be a whole number");
    expect(run.stderr).toContain("LOG_LEVEL must be one of");
    expect(run.stderr).toContain("PILOT_STATUS_API_URL must be an http:// or https:// URL");
    expect(run.stdout).toBe("");
  });

  it("answers an argument nested 50,000 levels deep with a clear refusal, not an internal error", async () => {
    // Too deep for JSON.stringify's recursion: before the depth rule this came back as -32603 Internal error.
    const deep = `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`;
    const line = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"call_settings_update","arguments":{"call_hours":${deep}}}}`;
    const run = await runRaw({ PILOT_STATUS_API_KEY: KEY, PILOT_STATUS_API_URL: upstream.url }, [line]);
    expect(run.code).toBe(0);
    const answer = JSON.parse(run.stdout) as {
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
    const run = await runRaw({ PILOT_STATUS_API_KEY: KEY, PILOT_STATUS_API_URL: upstream.url }, [
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
    expect(run.code).toBe(0);
    const answers = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { id: number; result?: { isError?: boolean } });
    expect(answers.map((a) => a.id).sort()).toEqual([6, 7]);
    expect(answers.find((a) => a.id === 6)?.result?.isError).toBeFalsy();
    // The cancelled call is not cut off upstream (a send must not be left half-done); only its answer is dropped.
    expect(upstream.requests.map((r) => r.path).sort()).toEqual([
      "/v1/messages/msg_cancelled",
      "/v1/messages/msg_kept",
    ]);
  });

  it("answers malformed input with JSON-RPC errors and keeps stdout pure JSON-RPC", async () => {
    const run = await runRaw({ PILOT_STATUS_API_KEY: KEY, PILOT_STATUS_API_URL: upstream.url, LOG_LEVEL: "debug" }, [
      "{not json",
      JSON.stringify([{ jsonrpc: "2.0", id: 1, method: "ping" }]),
      JSON.stringify({ jsonrpc: "1.0", id: 2, method: "ping" }),
      JSON.stringify({ jsonrpc: "2.0", id: 3, method: "resources/list" }),
      JSON.stringify({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "no_such_tool", arguments: {} } }),
      JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
      JSON.stringify({
        jsonrpc: "2.0",
        id: 5,
        method: "tools/call",
        params: { name: "message_get", arguments: { messageId: "msg_1" } },
      }),
    ]);
    expect(run.code).toBe(0);
    const messages = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { id: unknown; error?: { code: number; message: string }; result?: unknown });
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
    // Logs went to stderr, as JSON lines, without the key.
    expect(run.stderr).toContain('"tool":"message_get"');
    expect(run.stderr).not.toContain(KEY);
  });
});

describe("stdio session with the SDK client", () => {
  let session: StdioSession;
  beforeAll(async () => {
    session = await startStdioServer({ PILOT_STATUS_API_URL: upstream.url, PILOT_STATUS_API_KEY: KEY });
  });
  afterAll(async () => session.close());

  it("initializes and lists the 54 tools with titles and annotations", async () => {
    expect(session.client.getServerVersion()).toMatchObject({ name: "pilot-status-mcp" });
    const { tools } = await session.client.listTools();
    expect(tools).toHaveLength(54);
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
