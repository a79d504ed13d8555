import { Agent, get } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHttpServer } from "./helpers/http-server.js";
import { FakeUpstream } from "./helpers/upstream.js";

// The drain, in process: close() is what the bin's SIGTERM and SIGINT handlers call (that a real SIGTERM reaches
// it, and the exit status after, is test/bin.test.ts).

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
  it("turns /ready to 503, stops accepting, and finishes the request in flight (Connection: close) before it closes", async () => {
    const server = await startTestHttpServer({
      PILOT_STATUS_API_URL: upstream.url,
      LOG_LEVEL: "info",
      MCP_SHUTDOWN_GRACE_MS: "5000",
    });
    const { url } = server;
    // One kept-alive connection, as a kubelet or balancer probe holds: it still reaches the server after the drain
    // begins.
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
    let closedAt = 0;
    const closed = server.close().then(() => {
      closedAt = Date.now();
    });
    await new Promise((r) => setTimeout(r, 100));
    // the drain has begun
    expect(await ready()).toMatchObject({ status: 503, body: expect.stringContaining('"stopping"') });
    expect(closedAt).toBe(0); // still open: a request is in flight

    const response = await inFlight;
    expect(response.status).toBe(200);
    // It began before the drain and is answered after: its client is still told to close the connection.
    expect(response.headers.get("connection")).toBe("close");
    expect(await response.json()).toMatchObject({ id: 7, result: { structuredContent: { ok: true } } });
    await closed;
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    probe.destroy();
  });
});
