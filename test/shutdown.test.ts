import { spawn } from "node:child_process";
import { Agent, get } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PATH, requireBuild, serverEnv } from "./helpers/stdio-server.js";
import { FakeUpstream } from "./helpers/upstream.js";

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await FakeUpstream.start((req) => ({
    status: 200,
    body: { ok: true },
    delayMs: req.path.endsWith("/slow") ? 800 : 0,
  }));
});
afterAll(async () => upstream.close());

describe("HTTP shutdown", () => {
  it("on SIGTERM turns /ready to 503, stops accepting, finishes the request in flight and exits 0", async () => {
    requireBuild();
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
    // One kept-alive connection, as a kubelet or balancer probe holds: it still reaches the server after SIGTERM.
    const probe = new Agent({ keepAlive: true, maxSockets: 1 });
    const ready = () =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        get(`${url}/ready`, { agent: probe }, (res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => (body += chunk.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        }).on("error", reject);
      });
    expect(await ready()).toMatchObject({ status: 200, body: expect.stringContaining('"ready"') });

    const inFlight = fetch(`${url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", "x-api-key": "ps_drain" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: { name: "message_get", arguments: { messageId: "slow" } },
      }),
    });
    await new Promise((r) => setTimeout(r, 200));
    child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 100));
    // the drain has begun
    expect(await ready()).toMatchObject({ status: 503, body: expect.stringContaining('"stopping"') });

    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: 7, result: { structuredContent: { ok: true } } });
    expect(await exited).toBe(0);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    expect(stderr).toContain("shutting down");
  });
});
