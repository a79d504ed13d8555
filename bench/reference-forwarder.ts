/**
 * Reference (b) of the bench: the simplest honest JSON-RPC forwarder, no MCP SDK. express + undici: parse the
 * JSON-RPC body, validate one tool's arguments with zod, forward with the caller's x-api-key, answer.
 * It is the floor our server is compared against: minimal, but not crippled (keep-alive pool, tools/list
 * serialised once).
 *
 * Run alone: PORT=9002 PILOT_STATUS_API_URL=http://127.0.0.1:9001 npx tsx bench/reference-forwarder.ts
 */
import express from "express";
import { Pool } from "undici";
import * as z from "zod";
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";

const pool = new Pool(process.env.PILOT_STATUS_API_URL ?? "http://127.0.0.1:9001", { connections: 128 });
const tools = TOOL_SPECS.map((s) => ({
  name: s.name,
  title: s.title,
  description: s.description,
  inputSchema: s.inputSchema,
  annotations: s.annotations,
}));
const listJson = JSON.stringify({ tools });
const id1 = z.string().min(1);
const calls: Record<
  string,
  {
    schema: z.ZodType<Record<string, string>>;
    method: "GET" | "POST";
    path: (a: Record<string, string>) => string;
    body: boolean;
  }
> = {
  message_get: {
    schema: z.object({ messageId: id1 }),
    method: "GET",
    path: (a) => `/v1/messages/${encodeURIComponent(a.messageId!)}`,
    body: false,
  },
  messages_send: {
    schema: z.object({ destinationNumber: id1, text: id1 }),
    method: "POST",
    path: () => "/v1/messages/send",
    body: true,
  },
};
const reply = (id: unknown, result: string) => `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${result}}`;
const fail = (id: unknown, code: number, message: string) =>
  JSON.stringify({ jsonrpc: "2.0", id: id ?? null, error: { code, message } });

const app = express();
app.disable("etag"); // as ours: no ETag hashing of JSON-RPC answers
app.use(express.json({ limit: "1mb" }));
app.post("/mcp", async (req, res) => {
  const { id, method, params } = (req.body ?? {}) as {
    id?: string | number;
    method?: string;
    params?: { name?: string; arguments?: unknown };
  };
  const apiKey = req.headers["x-api-key"];
  if (typeof apiKey !== "string")
    return void res
      .status(401)
      .type("json")
      .send(fail(id, -32001, "Unauthorized"));
  if (id === undefined) return void res.status(202).end();
  if (method === "tools/list") return void res.type("json").send(reply(id, listJson));
  if (method !== "tools/call") return void res.type("json").send(fail(id, -32601, "Method not found"));
  const call = calls[params?.name ?? ""];
  if (!call) return void res.type("json").send(fail(id, -32602, "Unknown tool"));
  const args = call.schema.safeParse(params?.arguments ?? {});
  if (!args.success)
    return void res
      .type("json")
      .send(reply(id, JSON.stringify({ content: [{ type: "text", text: args.error.message }], isError: true })));
  const headers: Record<string, string> = { accept: "application/json", "x-api-key": apiKey };
  if (call.body) headers["content-type"] = "application/json";
  try {
    const up = await pool.request({
      method: call.method,
      path: call.path(args.data),
      headers,
      body: call.body ? JSON.stringify(args.data) : null,
    });
    const text = await up.body.text();
    const ok = up.statusCode >= 200 && up.statusCode < 300;
    const result = ok
      ? { content: [{ type: "text", text }], structuredContent: JSON.parse(text) as unknown }
      : { content: [{ type: "text", text: `HTTP ${up.statusCode}: ${text}` }], isError: true };
    res.type("json").send(reply(id, JSON.stringify(result)));
  } catch (error) {
    res
      .type("json")
      .send(reply(id, JSON.stringify({ content: [{ type: "text", text: String(error) }], isError: true })));
  }
});
app.listen(Number(process.env.PORT ?? 9002), process.env.HOST ?? "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
