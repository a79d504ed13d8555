/**
 * Server (d) of the bench: the floor, the least a Node forwarder can do for the bench's scenarios (STYLE.md habit
 * 11). Plain node:http and the undici Pool ours builds; no framework and no validation: read the body, JSON.parse
 * it, answer tools/list from a string made at start-up, forward tools/call for message_get and messages_send with
 * the caller's x-api-key, and wrap the upstream JSON as the result. Whatever ours spends above this is the price
 * of doing the job properly (validation, the error table, the protocol's checks), and the bench prices it.
 *
 * It ignores `_meta` and the MCP-* headers, so it also answers the 2026-07-28 variant of tools/call (as legacy).
 *
 * Run alone: PORT=9004 PILOT_STATUS_API_URL=http://127.0.0.1:9001 npx tsx bench/floor-forwarder.ts
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Pool } from "undici";
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";

const TIMEOUT_MS = 30_000; // ours' default PILOT_STATUS_TIMEOUT_MS
/** The settings of ours' pool (src/upstream/client.ts); (b) sets only `connections: 128`, the rest are undici's. */
const pool = new Pool(process.env.PILOT_STATUS_API_URL ?? "http://127.0.0.1:9001", {
  connections: 128,
  pipelining: 1,
  keepAliveTimeout: 10_000,
  keepAliveMaxTimeout: 60_000,
  connect: { timeout: 10_000 },
  headersTimeout: TIMEOUT_MS,
  bodyTimeout: TIMEOUT_MS,
});

// The entries ours lists (outputSchema included), so both send the same tools/list.
const tools = TOOL_SPECS.map((s) => ({
  name: s.name,
  title: s.title,
  description: s.description,
  inputSchema: s.inputSchema,
  ...(s.outputSchema === undefined ? {} : { outputSchema: s.outputSchema }),
  annotations: s.annotations,
}));
/** The tools/list result as bytes: each answer writes them as they are, between its own head and a brace. */
const LIST_RESULT = Buffer.from(JSON.stringify({ tools }));
const CLOSE = Buffer.from("}");

type Args = Record<string, unknown>;
const CALLS: Record<string, { method: "GET" | "POST"; path: (args: Args) => string; body: boolean }> = {
  message_get: {
    method: "GET",
    path: (args) => `/v1/messages/${encodeURIComponent(String(args.messageId))}`,
    body: false,
  },
  messages_send: { method: "POST", path: () => "/v1/messages/send", body: true },
};

interface Message {
  id?: string | number;
  method?: string;
  params?: { name?: string; arguments?: Args };
}

const reply = (id: unknown, result: string): string =>
  `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${result}}`;
const fail = (id: unknown, code: number, message: string): string =>
  JSON.stringify({ jsonrpc: "2.0", id: id ?? null, error: { code, message } });
const toolError = (text: string): string => JSON.stringify({ content: [{ type: "text", text }], isError: true });

function send(res: ServerResponse, status: number, json: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
  res.end(json);
}

function sendList(res: ServerResponse, id: unknown): void {
  const head = Buffer.from(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":`);
  res.writeHead(200, {
    "content-type": "application/json",
    "content-length": head.length + LIST_RESULT.length + CLOSE.length,
  });
  res.write(head);
  res.write(LIST_RESULT);
  res.end(CLOSE);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () =>
      resolve(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")),
    );
    req.on("error", reject);
  });
}

async function callTool(message: Message, apiKey: string): Promise<string> {
  const call = CALLS[message.params?.name ?? ""];
  if (call === undefined) return fail(message.id, -32602, "Unknown tool");
  const args = message.params?.arguments ?? {};
  const headers: Record<string, string> = { accept: "application/json", "x-api-key": apiKey };
  if (call.body) headers["content-type"] = "application/json";
  try {
    const up = await pool.request({
      method: call.method,
      path: call.path(args),
      headers,
      body: call.body ? JSON.stringify(args) : null,
    });
    const text = await up.body.text();
    if (up.statusCode < 200 || up.statusCode >= 300)
      return reply(message.id, toolError(`HTTP ${up.statusCode}: ${text}`));
    // Parsed once to know it is JSON; the text, already serialised, then goes out as the structured content too.
    JSON.parse(text);
    return reply(
      message.id,
      `{"content":[{"type":"text","text":${JSON.stringify(text)}}],"structuredContent":${text}}`,
    );
  } catch (error) {
    return reply(message.id, toolError(String(error)));
  }
}

async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== "POST" || req.url !== "/mcp") return send(res, 404, fail(null, -32600, "Not found"));
  let message: Message;
  try {
    message = JSON.parse(await readBody(req)) as Message;
  } catch {
    return send(res, 400, fail(null, -32700, "Parse error"));
  }
  if (message.id === undefined) {
    res.writeHead(202).end();
    return;
  }
  if (message.method === "tools/list") return sendList(res, message.id);
  if (message.method !== "tools/call") return send(res, 200, fail(message.id, -32601, "Method not found"));
  const apiKey = req.headers["x-api-key"];
  send(res, 200, await callTool(message, typeof apiKey === "string" ? apiKey : ""));
}

const server = createServer((req, res) => void answer(req, res));
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 9004), process.env.HOST ?? "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
