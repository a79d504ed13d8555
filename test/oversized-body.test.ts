import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import { request as undiciRequest } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PATH, requireBuild, serverEnv } from "./helpers/stdio-server.js";
import { FakeUpstream } from "./helpers/upstream.js";

// A body over MCP_MAX_BODY_BYTES (1 MiB by default) gets a 413 that every common client can read, even one that
// does not look at the answer before it has written its whole body (Node's fetch). The server reads and drops the
// rest of the body before it answers and closes.

const MiB = 1024 * 1024;
const SIZES = [1.5 * MiB, 5 * MiB, 20 * MiB];
const HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "x-api-key": "ps_oversized",
};

/** A syntactically plausible JSON-RPC body of about `bytes` bytes. */
function bigBody(bytes: number): Buffer {
  const head = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"messages_send","arguments":{"text":"';
  const tail = '"}}}';
  return Buffer.concat([
    Buffer.from(head),
    Buffer.alloc(Math.max(0, Math.round(bytes) - head.length - tail.length), 97),
    Buffer.from(tail),
  ]);
}

type Sender = (url: string, body: Buffer) => Promise<{ status: number; text: string }>;

const SENDERS: Record<string, Sender> = {
  fetch: async (url, body) => {
    const response = await fetch(url, { method: "POST", headers: HEADERS, body });
    return { status: response.status, text: await response.text() };
  },
  "fetch, streamed (chunked)": async (url, body) => {
    const stream = new Blob([body]).stream();
    const response = await fetch(url, {
      method: "POST",
      headers: HEADERS,
      body: stream,
      duplex: "half",
    } as RequestInit);
    return { status: response.status, text: await response.text() };
  },
  "undici.request": async (url, body) => {
    const response = await undiciRequest(url, { method: "POST", headers: HEADERS, body });
    return { status: response.statusCode, text: await response.body.text() };
  },
  "node:http": (url, body) =>
    new Promise((resolve, reject) => {
      const req = http.request(
        url,
        { method: "POST", headers: { ...HEADERS, "content-length": String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    }),
};

function expect413(answer: { status: number; text: string }): void {
  expect(answer.status).toBe(413);
  expect(JSON.parse(answer.text)).toMatchObject({
    jsonrpc: "2.0",
    error: { message: expect.stringContaining("Payload Too Large") },
  });
}

// The server runs in its own process, as in production: in this process the client and the server would share
// one event loop, and the server could never close the socket while the client is still writing (the EPIPE).
let upstream: FakeUpstream;
let child: ChildProcess;
let url: string;
beforeAll(async () => {
  requireBuild();
  upstream = await FakeUpstream.start();
  child = spawn(process.execPath, [CLI_PATH, "http"], {
    env: serverEnv({
      MCP_TRANSPORT: "http",
      PORT: "0",
      HOST: "127.0.0.1",
      PILOT_STATUS_API_URL: upstream.url,
      LOG_LEVEL: "info",
    }),
    stdio: ["ignore", "ignore", "pipe"],
  });
  url = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const match = /"url":"(http:\/\/[^"]+)"/.exec(buffered);
      if (match) resolve(`${match[1]}/mcp`);
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${buffered}`)));
  });
});
afterAll(async () => {
  child.kill("SIGKILL");
  await upstream.close();
});

// First, before any other test raises the peak.
describe("memory", () => {
  /** The process's peak resident memory so far (Linux: VmHWM). */
  const peakMiB = (): number =>
    Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))![1]) / 1024;

  it.runIf(process.platform === "linux")(
    "keeps none of the bodies: 8 parallel 20 MiB bodies raise its peak by less than half their size",
    async () => {
      await SENDERS["node:http"]!(url, bigBody(1.2 * MiB)); // warm up the paths the bodies take
      const before = peakMiB();
      const body = bigBody(20 * MiB);
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all(Array.from({ length: 8 }, () => SENDERS["node:http"]!(url, body)));
        for (const answer of answers) expect413(answer);
      }
      // Buffering them would take 160 MiB at once; reading and dropping 64 KiB chunks costs what the garbage
      // collector lets pile up between runs (about 40 MiB here).
      expect(peakMiB() - before).toBeLessThan(80);
    },
  );
});

describe.each(Object.keys(SENDERS))("an oversized body sent with %s", (name) => {
  const sendWith = SENDERS[name]!;

  it.each(SIZES)("gets its 413 every time at %d bytes, in sequence and in parallel", async (size) => {
    const body = bigBody(size);
    for (let i = 0; i < 8; i++) expect413(await sendWith(url, body));
    const parallel = await Promise.all(Array.from({ length: 8 }, () => sendWith(url, body)));
    for (const answer of parallel) expect413(answer);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe("after a 413", () => {
  it("the server still serves a normal request", async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: HEADERS,
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "message_get", arguments: { messageId: "m_after" } },
      }),
    });
    expect(response.status).toBe(200);
    expect(upstream.requests.at(-1)).toMatchObject({ method: "GET", path: "/v1/messages/m_after" });
  });
});
