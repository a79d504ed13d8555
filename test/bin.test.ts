import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";
import { CLI_PATH, requireBuild, serverEnv, startStdioServer } from "./helpers/stdio-server.js";
import { FakeUpstream } from "./helpers/upstream.js";

// The built bin (dist/pilot-status-mcp.mjs, so `npm run build` first; npm test does it), for what only a real
// process shows: exit statuses, the command line and the .env file reaching the configuration, stdout and stderr
// as the process writes them, a real SIGTERM. What the bin then does is src/, tested in process: stdio in
// test/stdio.test.ts, the drain in test/shutdown.test.ts, the flags in test/cli-args.test.ts.

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

const callLine = (id: number, name: string, args: Record<string, unknown>) =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });

const upstream = FakeUpstream.forTheFile();

describe("the bin over stdio", () => {
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
    const call = callLine(1, "templates_list", {});
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

  it("reports every invalid setting at once, in plain words, and exits 2", async () => {
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

  it("refuses to start with unknown tool names, naming them, and exits 2", async () => {
    const run = await runRaw(
      { PILOT_STATUS_API_KEY: "ps_x", PILOT_STATUS_TOOLSETS: "telepathy" },
      [],
      ["stdio", "--exclude-tools=warp_drive"],
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown toolset "telepathy"');
    expect(run.stderr).toContain('unknown excluded tool "warp_drive"');
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("refuses an unknown option with the usage, and exits 2", async () => {
    const run = await runRaw({ PILOT_STATUS_API_KEY: KEY }, [], ["stdio", "--toolset=calls"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^pilot-status-mcp: unknown option --toolset\nUsage: pilot-status-mcp/);
    expect(run.stdout).toBe("");
  });

  it("writes its log to stderr, as JSON lines without the key, and only JSON-RPC to stdout", async () => {
    const run = await runRaw({ PILOT_STATUS_API_KEY: KEY, PILOT_STATUS_API_URL: upstream.url, LOG_LEVEL: "debug" }, [
      "{not json",
      callLine(5, "message_get", { messageId: "msg_1" }),
    ]);
    expect(run.code).toBe(0);
    const messages = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { jsonrpc: string; id?: unknown; error?: { code: number } });
    expect(messages.map((m) => [m.jsonrpc, m.id ?? m.error?.code])).toEqual([
      ["2.0", -32700],
      ["2.0", 5],
    ]);
    expect(run.stderr).toContain('"tool":"message_get"');
    expect(run.stderr).not.toContain(KEY);
    for (const line of run.stderr.trim().split("\n")) expect(() => JSON.parse(line), line).not.toThrow();
  });

  it("takes --dry-run from the command line", async () => {
    const session = await startStdioServer({ PILOT_STATUS_API_URL: upstream.url, PILOT_STATUS_API_KEY: KEY }, [
      "stdio",
      "--dry-run",
    ]);
    try {
      expect(session.client.getInstructions()).toContain("DRY RUN IS ON");
      const sent = await session.client.callTool({ name: "webhooks_delete", arguments: { webhookId: "wh_1" } });
      expect(sent.structuredContent).toMatchObject({ dryRun: true, sent: false, tool: "webhooks_delete" });
      expect(upstream.requests).toHaveLength(0);
    } finally {
      await session.close();
    }
  });

  it("serves the SDK's stdio client, which spawns it as Claude Desktop does", async () => {
    const session = await startStdioServer({ PILOT_STATUS_API_URL: upstream.url, PILOT_STATUS_API_KEY: KEY });
    try {
      expect(session.client.getServerVersion()).toMatchObject({ name: "pilot-status-mcp" });
      expect((await session.client.listTools()).tools).toHaveLength(TOOL_SPECS.length);
      const result = await session.client.callTool({ name: "message_get", arguments: { messageId: "msg_bin" } });
      expect(result.structuredContent).toEqual({ ok: true });
      expect(upstream.requests.map((r) => [r.path, r.headers["x-api-key"]])).toEqual([["/v1/messages/msg_bin", KEY]]);
    } finally {
      await session.close();
    }
  });
});

describe("the bin over HTTP", () => {
  it("on SIGTERM finishes the request in flight, then exits 0", async () => {
    requireBuild();
    upstream.respond(() => ({ status: 200, body: { ok: true }, delayMs: 800 }));
    const child = spawn(process.execPath, [CLI_PATH, "http"], {
      env: serverEnv({
        PILOT_STATUS_API_URL: upstream.url,
        PORT: "0",
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
        MCP_SHUTDOWN_GRACE_MS: "5000",
      }),
    });
    let stderr = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /"url":"(http:\/\/[^"]+)"/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      child.on("exit", () => reject(new Error(`server exited early: ${stderr}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const inFlight = fetch(`${url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", "x-api-key": "ps_drain" },
      body: callLine(7, "message_get", { messageId: "slow" }),
    });
    await new Promise((r) => setTimeout(r, 200));
    child.kill("SIGTERM");

    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: 7, result: { structuredContent: { ok: true } } });
    expect(await exited).toBe(0);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    expect(stderr).toContain("shutting down");
  });
});
