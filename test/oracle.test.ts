import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createMcpHandler, McpServer } from "@modelcontextprotocol/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as z from "zod";
import { startTestHttpServer, type TestHttpServer } from "./helpers/http-server.js";
import { MODERN_META, modern, modernHeaders } from "./helpers/messages.js";
import { FakeUpstream } from "./helpers/upstream.js";

// The official 2.4 server SDK as an oracle for the 2026-07-28 leg: the same raw requests go to it (with one tool of
// the same name) and to us, and the answers must agree on HTTP status, JSON-RPC error code and result shape.
// Where the SDK and the conformance suite disagree, we follow the suite; those cases are not in this table
// (docs/decisions.md #27).

let upstream: FakeUpstream;
let ours: TestHttpServer;
let oracle: Server;
let oracleUrl: string;

beforeAll(async () => {
  upstream = await FakeUpstream.start(() => ({ status: 200, body: { id: "msg_1" } }));
  ours = await startTestHttpServer({ PILOT_STATUS_API_URL: upstream.url, PILOT_STATUS_API_KEY: "ps_oracle" });
  const handler = createMcpHandler(() => {
    const server = new McpServer({ name: "oracle", version: "1.0.0" });
    server.registerTool(
      "message_get",
      { description: "Get a message", inputSchema: { messageId: z.string() } },
      async ({ messageId }) => ({
        content: [{ type: "text", text: messageId }],
      }),
    );
    return server;
  });
  oracle = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers))
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    const hasBody = !["GET", "HEAD", "DELETE"].includes(req.method ?? "");
    const answer = await handler.fetch(
      new Request(`http://127.0.0.1${req.url}`, {
        method: req.method,
        headers,
        body: hasBody ? Buffer.concat(chunks) : undefined,
      }),
    );
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => oracle.listen(0, "127.0.0.1", resolve));
  oracleUrl = `http://127.0.0.1:${(oracle.address() as AddressInfo).port}/mcp`;
});
afterAll(async () => {
  await ours?.close();
  await new Promise((resolve) => oracle?.close(resolve));
  await upstream?.close();
});

interface Shape {
  status: number;
  /** The JSON-RPC error code, or the sorted keys of the result (less tool-specific content). */
  outcome: number | string[];
  id?: unknown;
}

/** Status plus what kind of answer came back, from a JSON body or the last event of an SSE stream. */
async function shapeOf(url: string, body: unknown, headers: Record<string, string>, method = "POST"): Promise<Shape> {
  const res = await fetch(url, {
    method,
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: method === "POST" ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (text.trim() === "") return { status: res.status, outcome: [] };
  const events = text.includes("data: ")
    ? text
        .split("\n")
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
    : [text];
  const message = JSON.parse(events.at(-1)!) as {
    id?: unknown;
    error?: { code: number };
    result?: Record<string, unknown>;
  };
  if (message.error) return { status: res.status, outcome: message.error.code, id: message.id };
  const keys = Object.keys(message.result ?? {}).filter(
    (k) => !["content", "structuredContent", "isError", "instructions", "tools"].includes(k),
  );
  return { status: res.status, outcome: keys.sort(), id: message.id };
}

const h = modernHeaders;
const CASES: Array<[label: string, body: unknown, headers: Record<string, string>]> = [
  ["server/discover", modern("server/discover", {}, 1), h("server/discover")],
  ["tools/list", modern("tools/list", {}, 2), h("tools/list")],
  [
    "tools/call",
    modern("tools/call", { name: "message_get", arguments: { messageId: "msg_1" } }, 3),
    h("tools/call", "message_get"),
  ],
  ["an unknown tool", modern("tools/call", { name: "nope", arguments: {} }, 4), h("tools/call", "nope")],
  [
    "no clientCapabilities",
    modern("tools/list", {}, 5, { "io.modelcontextprotocol/protocolVersion": "2026-07-28" }),
    h("tools/list"),
  ],
  [
    "server/discover with no _meta under a 2026-07-28 header",
    modern("server/discover", {}, 6, null),
    h("server/discover"),
  ],
  [
    "an unsupported version in header and _meta",
    modern("tools/list", {}, 7, { ...MODERN_META, "io.modelcontextprotocol/protocolVersion": "2099-01-01" }),
    { ...h("tools/list"), "mcp-protocol-version": "2099-01-01" },
  ],
  ["no MCP-Protocol-Version header", modern("tools/list", {}, 8), { "mcp-method": "tools/list" }],
  ["Mcp-Method disagreeing", modern("tools/list", {}, 9), h("prompts/list")],
  ["Mcp-Method missing", modern("tools/list", {}, 10), { "mcp-protocol-version": "2026-07-28" }],
  [
    "Mcp-Name missing",
    modern("tools/call", { name: "message_get", arguments: { messageId: "m" } }, 11),
    h("tools/call"),
  ],
  [
    "Mcp-Name disagreeing",
    modern("tools/call", { name: "message_get", arguments: { messageId: "m" } }, 12),
    h("tools/call", "other"),
  ],
  [
    "Mcp-Name base64-encoded",
    modern("tools/call", { name: "message_get", arguments: { messageId: "m" } }, 13),
    h("tools/call", `=?base64?${Buffer.from("message_get").toString("base64")}?=`),
  ],
  ["ping (removed)", modern("ping", {}, 14), h("ping")],
  ["initialize (removed)", modern("initialize", {}, 15), h("initialize")],
  ["logging/setLevel (removed)", modern("logging/setLevel", { level: "info" }, 16), h("logging/setLevel")],
  ["an unknown method", modern("foo/bar", {}, 17), h("foo/bar")],
  [
    "a notification",
    { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1, _meta: MODERN_META } },
    { "mcp-protocol-version": "2026-07-28" },
  ],
];

describe("2026-07-28 answers agree with the 2.4 server SDK", () => {
  it.each(CASES)("%s", async (_label, body, headers) => {
    const [theirs, mine] = await Promise.all([shapeOf(oracleUrl, body, headers), shapeOf(ours.mcpUrl, body, headers)]);
    expect(mine).toEqual(theirs);
  });

  it("subscriptions/listen: the same two events (acknowledgement, graceful end) when nothing can be honoured", async () => {
    const body = modern("subscriptions/listen", { notifications: { resourceSubscriptions: ["file:///x"] } }, "L1");
    const events = async (url: string) => {
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          ...h("subscriptions/listen"),
        },
        body: JSON.stringify(body),
      });
      expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const messages = (await res.text())
        .split("\n")
        .filter((l) => l.startsWith("data: "))
        .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
      return messages.map((m) => ({
        method: m.method,
        id: m.id,
        params: m.params,
        resultType: (m.result as { resultType?: string } | undefined)?.resultType,
      }));
    };
    const [theirs, mine] = await Promise.all([events(oracleUrl), events(ours.mcpUrl)]);
    expect(mine).toEqual(theirs);
  });

  it("GET /mcp is 405 for both", async () => {
    const [theirs, mine] = await Promise.all([
      fetch(oracleUrl, { headers: { accept: "text/event-stream" } }),
      fetch(ours.mcpUrl, { headers: { accept: "text/event-stream" } }),
    ]);
    expect(mine.status).toBe(theirs.status);
    expect(mine.status).toBe(405);
  });
});
