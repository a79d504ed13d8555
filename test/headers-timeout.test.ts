import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { startTestHttpServer, type TestHttpServer } from "./helpers/http-server.js";
import { FakeUpstream } from "./helpers/upstream.js";

// A client that sends its headers a byte at a time loses its socket after MCP_HEADERS_TIMEOUT_MS (to within the
// one-second check), while an idle keep-alive connection between requests stays open for the 65 s a balancer
// relies on: the two bounds are apart.

const HEADERS_TIMEOUT_MS = 1_000;

let upstream: FakeUpstream;
let server: TestHttpServer;
let port: number;
beforeAll(async () => {
  upstream = await FakeUpstream.start();
  server = await startTestHttpServer({
    PILOT_STATUS_API_URL: upstream.url,
    MCP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
  });
  port = Number(new URL(server.url).port);
});
afterAll(async () => {
  await server.close();
  await upstream.close();
});

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function request(body: string): string {
  return [
    "POST /mcp HTTP/1.1",
    `Host: 127.0.0.1:${port}`,
    "Content-Type: application/json",
    "Accept: application/json, text/event-stream",
    "X-Api-Key: ps_headers_timeout",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ].join("\r\n");
}

/** Reads from the socket until `done` says the text so far is complete. */
function readUntil(socket: Socket, done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer): void => {
      text += chunk.toString("utf8");
      if (done(text)) {
        socket.off("data", onData);
        resolve(text);
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
  });
}

describe("headers timeout", () => {
  it("closes a connection whose headers trickle in, about MCP_HEADERS_TIMEOUT_MS after they began", async () => {
    const socket = await open();
    const started = Date.now();
    const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now() - started)));
    let answer = "";
    socket.on("data", (c: Buffer) => (answer += c.toString("utf8")));
    socket.on("error", () => undefined);
    const trickle = `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: ${"a".repeat(200)}`;
    let stillOpen = true;
    void closed.then(() => (stillOpen = false));
    for (const byte of trickle) {
      if (!stillOpen) break;
      socket.write(byte);
      await sleep(50);
    }
    const after = await closed;
    expect(after).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(after).toBeLessThan(HEADERS_TIMEOUT_MS + 1_000 + 500);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("keeps an idle keep-alive connection open past it, and serves the next request on it", async () => {
    const socket = await open();
    const body = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "message_get", arguments: { messageId: "m_ka" } },
    });
    const complete = (text: string) => /\r\n\r\n/.test(text) && text.endsWith("}");
    socket.write(request(body));
    expect(await readUntil(socket, complete)).toMatch(/^HTTP\/1\.1 200 /);
    await sleep(HEADERS_TIMEOUT_MS * 2 + 500); // idle, longer than the headers timeout and two checks
    expect(socket.destroyed).toBe(false);
    socket.write(request(body));
    expect(await readUntil(socket, complete)).toMatch(/^HTTP\/1\.1 200 /);
    expect(upstream.requests.filter((r) => r.path === "/v1/messages/m_ka")).toHaveLength(2);
    socket.destroy();
  });

  it("defaults to 15 s, apart from the 65 s keep-alive", () => {
    expect(loadConfig({}).headersTimeoutMs).toBe(15_000);
    expect(server.server.keepAliveTimeout).toBe(65_000);
    expect(server.server.headersTimeout).toBe(HEADERS_TIMEOUT_MS);
  });
});
