import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHttpServer, type TestHttpServer } from "./helpers/http-server.js";
import { freePort } from "./helpers/loopback.js";
import { INITIALIZE_2025, legacy, modern, modernHeaders } from "./helpers/messages.js";
import { connectInProcessStdio } from "./helpers/stdio-in-process.js";
import { FakeUpstream } from "./helpers/upstream.js";

// Prometheus metrics on their own port: a mixed run of requests against the real HTTP server, then a scrape whose
// every count is checked against what the run did, and a check that no label carries anything of a caller's.

const KEY = "ps_live_metrics_key_0001";
const PHONE = "+5511987654321";
const REQUEST_ID = "req-metrics-should-not-appear";

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with exactly these labels among those named `name` (0 when absent). */
function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string>): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  const exact = found.filter((s) => Object.keys(s.labels).length === Object.keys(labels).length);
  return exact.reduce((sum, s) => sum + s.value, 0);
}

let upstream: FakeUpstream;
let server: TestHttpServer;
let metricsPort: number;

beforeAll(async () => {
  upstream = await FakeUpstream.start((req) => {
    if (req.path === "/v1/messages/missing")
      return { status: 404, body: { error: "Message not found", code: "NOT_FOUND" } };
    if (req.path === "/v1/messages/revoked") return { status: 401, body: { error: "invalid key" } };
    if (req.path === "/v1/messages/send" && (req.body as { text?: string }).text === "down")
      return { status: 500, body: { error: "boom" } };
    return { status: 200, body: { id: "msg_ok", status: "read", from: PHONE } };
  });
  metricsPort = await freePort();
  server = await startTestHttpServer({ PILOT_STATUS_API_URL: upstream.url, METRICS_PORT: String(metricsPort) });
});
afterAll(async () => {
  await server?.close();
  await upstream?.close();
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  request(server.url)
    .post("/mcp")
    .set({
      "content-type": "application/json",
      accept: "application/json",
      "x-api-key": KEY,
      "x-request-id": REQUEST_ID,
      ...headers,
    })
    .send(JSON.stringify(body));
const call = (name: string, args: Record<string, unknown>, headers: Record<string, string> = {}) =>
  post(legacy("tools/call", { name, arguments: args }), headers);

describe("GET /metrics on METRICS_PORT after a mixed run", () => {
  it("counts every request, tool call and upstream call the run made, and nothing of a caller's", async () => {
    const statuses: number[] = [];
    const run = async (pending: Promise<{ status: number }>) => statuses.push((await pending).status);
    await run(post(INITIALIZE_2025));
    await run(post({ jsonrpc: "2.0", method: "notifications/initialized" }));
    for (let i = 0; i < 2; i++) await run(post(legacy("tools/list")));
    await run(post(modern("tools/list"), modernHeaders("tools/list")));
    await run(post(legacy("resources/list")));
    await run(
      request(server.url)
        .post("/mcp")
        .set({ "content-type": "application/json", accept: "application/json" })
        .send(JSON.stringify(legacy("tools/list"))),
    );
    for (let i = 0; i < 3; i++) await run(call("message_get", { messageId: `ok_${i}` }));
    for (let i = 0; i < 2; i++) await run(call("message_get", { messageId: "missing" }));
    await run(call("message_get", { messageId: "revoked" }));
    await run(call("messages_send", { destinationNumber: PHONE, text: "Olá" }));
    await run(call("messages_send", { destinationNumber: PHONE, text: "down" }));
    for (let i = 0; i < 2; i++) await run(call("messages_send", { destinationNumber: PHONE, mediaType: "hologram" }));
    await run(call("messages_send", { destinationNumber: PHONE, text: "rehearsal" }, { "x-mcp-dry-run": "true" }));
    await run(call("teleport", {}));
    expect(statuses).toEqual([
      200, 202, 200, 200, 200, 200, 401, 200, 200, 200, 200, 200, 401, 200, 200, 200, 200, 200, 200,
    ]);
    expect(upstream.requests).toHaveLength(8);

    const scrape = await request(`http://127.0.0.1:${metricsPort}`).get("/metrics");
    expect(scrape.status).toBe(200);
    expect(scrape.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parseExposition(scrape.text);
    const requests = (method: string, era: string, status: string) =>
      sampleValue(samples, "pilot_status_mcp_http_requests_total", { method, era, status });
    expect(requests("initialize", "legacy", "200")).toBe(1);
    expect(requests("notification", "legacy", "202")).toBe(1);
    expect(requests("tools/list", "legacy", "200")).toBe(2);
    expect(requests("tools/list", "modern", "200")).toBe(1);
    expect(requests("other", "legacy", "200")).toBe(1); // resources/list: not a method this server has
    expect(requests("none", "none", "401")).toBe(1); // no credentials: refused before the body was read
    expect(requests("tools/call", "legacy", "200")).toBe(11); // teleport included: a JSON-RPC error, still a 200
    expect(requests("tools/call", "legacy", "401")).toBe(1); // the API's 401 became a challenge
    expect(
      samples.filter((s) => s.name === "pilot_status_mcp_http_requests_total").reduce((n, s) => n + s.value, 0),
    ).toBe(statuses.length);

    const calls = (tool: string, outcome: string) =>
      sampleValue(samples, "pilot_status_mcp_tool_calls_total", { tool, outcome });
    expect(calls("message_get", "ok")).toBe(3);
    expect(calls("message_get", "tool_error")).toBe(3); // two 404s and the 401
    expect(calls("messages_send", "ok")).toBe(1);
    expect(calls("messages_send", "upstream_unavailable")).toBe(1);
    expect(calls("messages_send", "invalid_arguments")).toBe(2);
    expect(calls("messages_send", "dry_run")).toBe(1);
    expect(samples.filter((s) => s.name === "pilot_status_mcp_tool_calls_total").reduce((n, s) => n + s.value, 0)).toBe(
      11,
    );

    // Only the calls that went out are timed: 6 message_get, 2 messages_send (never the invalid or dry-run ones).
    expect(sampleValue(samples, "pilot_status_mcp_upstream_duration_seconds_count", { tool: "message_get" })).toBe(6);
    expect(sampleValue(samples, "pilot_status_mcp_upstream_duration_seconds_count", { tool: "messages_send" })).toBe(2);
    expect(
      sampleValue(samples, "pilot_status_mcp_upstream_duration_seconds_bucket", { tool: "message_get", le: "+Inf" }),
    ).toBe(6);
    expect(
      sampleValue(samples, "pilot_status_mcp_upstream_duration_seconds_sum", { tool: "message_get" }),
    ).toBeGreaterThan(0);
    expect(sampleValue(samples, "pilot_status_mcp_http_requests_in_flight", {})).toBe(0);

    // Process metrics come along.
    for (const name of [
      "process_cpu_user_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_heap_size_used_bytes",
      "nodejs_eventloop_lag_seconds",
    ]) {
      expect(
        samples.some((s) => s.name === name),
        name,
      ).toBe(true);
    }

    // No label value is a caller's: no key, message id, phone number, argument or request id.
    const labelValues = new Set(
      samples.filter((s) => s.name.startsWith("pilot_status_mcp_")).flatMap((s) => Object.values(s.labels)),
    );
    for (const secret of [
      KEY,
      PHONE,
      "ok_0",
      "missing",
      "revoked",
      "Olá",
      "rehearsal",
      "teleport",
      REQUEST_ID,
      "hologram",
    ]) {
      expect(scrape.text, secret).not.toContain(secret);
    }
    const allowed =
      /^(legacy|modern|none|other|notification|initialize|tools\/list|tools\/call|ok|tool_error|upstream_unavailable|invalid_arguments|dry_run|message_get|messages_send|\d{3}|[0-9.]+|\+Inf)$/;
    const strays = [...labelValues].filter((v) => !allowed.test(v));
    expect(strays).toEqual([]);
  });

  it("counts a request in flight while it waits on the API", async () => {
    upstream.respond(() => ({ status: 200, body: { id: "slow" }, delayMs: 400 }));
    const slow = call("message_get", { messageId: "slow" }).then((res) => res.status);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const during = parseExposition((await request(`http://127.0.0.1:${metricsPort}`).get("/metrics")).text);
    expect(sampleValue(during, "pilot_status_mcp_http_requests_in_flight", {})).toBe(1);
    expect(await slow).toBe(200);
    const after = parseExposition((await request(`http://127.0.0.1:${metricsPort}`).get("/metrics")).text);
    expect(sampleValue(after, "pilot_status_mcp_http_requests_in_flight", {})).toBe(0);
  });

  it("is never served on the public port, and the metrics port serves nothing else", async () => {
    expect((await request(server.url).get("/metrics")).status).toBe(404);
    expect((await request(`http://127.0.0.1:${metricsPort}`).get("/mcp")).status).toBe(404);
    expect((await request(`http://127.0.0.1:${metricsPort}`).post("/metrics")).status).toBe(404);
    expect(server.metricsUrl).toBe(`http://127.0.0.1:${metricsPort}/metrics`);
  });

  it("is off without METRICS_PORT: no listener, nothing loaded", async () => {
    const plain = await startTestHttpServer({ PILOT_STATUS_API_URL: upstream.url });
    try {
      expect(plain.metricsUrl).toBeUndefined();
      expect((await request(plain.url).get("/metrics")).status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

// serveStdioApp, which the bin runs for stdio, in process.
describe("METRICS_PORT with the stdio transport", () => {
  it("serves the tool calls of the session", async () => {
    upstream.respond(() => ({ status: 200, body: { id: "msg_ok" } }));
    const port = await freePort();
    const session = await connectInProcessStdio({
      PILOT_STATUS_API_URL: upstream.url,
      PILOT_STATUS_API_KEY: KEY,
      METRICS_PORT: String(port),
      HOST: "127.0.0.1",
    });
    try {
      await session.client.callTool({ name: "message_get", arguments: { messageId: "a" } });
      await session.client.callTool({ name: "message_get", arguments: { messageId: "b" } });
      const samples = parseExposition((await request(`http://127.0.0.1:${port}`).get("/metrics")).text);
      expect(sampleValue(samples, "pilot_status_mcp_tool_calls_total", { tool: "message_get", outcome: "ok" })).toBe(2);
      expect(sampleValue(samples, "pilot_status_mcp_upstream_duration_seconds_count", { tool: "message_get" })).toBe(2);
    } finally {
      await session.close();
    }
  });
});
