/**
 * Reference (c) of the bench: the MCP SDK's documented stateless pattern (simpleStatelessStreamableHttp in the SDK's
 * examples), applied to our tools. Every POST /mcp calls getServer(), which builds a new McpServer and registers
 * every tool of the catalogue, each with a zod input shape made right there (the example writes
 * `z.number().describe(...)` inline in getServer, so its schemas are made per request too); then it connects a new
 * StreamableHTTPServerTransport with the example's options (no session id; answers as an SSE stream, the
 * transport's default) and lets it answer. Both are closed when the response closes. Tool handlers forward to the
 * upstream with undici. Left out of the example: its console.log on every closed request.
 *
 * The shapes are built from each tool's JSON Schema by direct zod calls, the same calls an inline literal makes
 * (z.fromJSONSchema would cost about twice as much and overstate (c)).
 *
 * Run alone: PORT=9003 PILOT_STATUS_API_URL=http://127.0.0.1:9001 npx tsx bench/sdk-example.ts
 */
import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Request, Response } from "express";
import { Pool } from "undici";
import * as z from "zod";
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";
import type { ToolSpec } from "../src/catalogue/types.js";

const pool = new Pool(process.env.PILOT_STATUS_API_URL ?? "http://127.0.0.1:9001", { connections: 128 });

/** Map the flat arguments onto the tool's upstream request (path, query, headers, body) and send it. */
async function forward(spec: ToolSpec, args: Record<string, unknown>, apiKey: string): Promise<CallToolResult> {
  let path = spec.path;
  const query = new URLSearchParams();
  const headers: Record<string, string> = { accept: "application/json", "x-api-key": apiKey };
  const body: Record<string, unknown> = {};
  for (const a of spec.args) {
    const value = args[a.arg];
    if (value === undefined) continue;
    if (a.in === "path") path = path.replace(`{${a.wire}}`, encodeURIComponent(String(value)));
    else if (a.in === "query") query.append(a.wire, String(value));
    else if (a.in === "header") headers[a.wire] = String(value);
    else body[a.wire] = value;
  }
  if (spec.hasBody) headers["content-type"] = "application/json";
  const search = query.size > 0 ? `?${query.toString()}` : "";
  const up = await pool.request({
    method: spec.method,
    path: path + search,
    headers,
    body: spec.hasBody ? JSON.stringify(body) : null,
  });
  const text = await up.body.text();
  if (up.statusCode < 200 || up.statusCode >= 300)
    return { content: [{ type: "text", text: `HTTP ${up.statusCode}: ${text}` }], isError: true };
  return { content: [{ type: "text", text }], structuredContent: JSON.parse(text) as Record<string, unknown> };
}

type Json = Record<string, unknown>;

/** The zod schema one JSON Schema node stands for, with its description, as an inline literal in getServer would. */
function zodOf(node: Json): z.ZodType {
  let schema: z.ZodType;
  let type = node.type;
  let nullable = false;
  if (Array.isArray(type)) {
    nullable = type.includes("null");
    type = type.find((t) => t !== "null");
  }
  if (Array.isArray(node.oneOf)) schema = z.union((node.oneOf as Json[]).map(zodOf) as [z.ZodType, z.ZodType]);
  else if (node.const !== undefined) schema = z.literal(node.const as string);
  else if (Array.isArray(node.enum)) schema = z.enum(node.enum as [string, ...string[]]);
  else if (type === "string") {
    let s =
      node.format === "uri" ? z.url() : node.format === "date-time" ? z.iso.datetime({ offset: true }) : z.string();
    if (typeof node.pattern === "string") s = s.regex(new RegExp(node.pattern));
    if (typeof node.minLength === "number") s = s.min(node.minLength);
    if (typeof node.maxLength === "number") s = s.max(node.maxLength);
    schema = s;
  } else if (type === "number" || type === "integer") {
    let n = type === "integer" ? z.number().int() : z.number();
    if (typeof node.minimum === "number") n = n.min(node.minimum);
    if (typeof node.exclusiveMinimum === "number") n = n.gt(node.exclusiveMinimum);
    if (typeof node.maximum === "number") n = n.max(node.maximum);
    schema = n;
  } else if (type === "boolean") schema = z.boolean();
  else if (type === "array") {
    let a = z.array(node.items === undefined ? z.unknown() : zodOf(node.items as Json));
    if (typeof node.minItems === "number") a = a.min(node.minItems);
    if (typeof node.maxItems === "number") a = a.max(node.maxItems);
    schema = a;
  } else if (type === "object") {
    const shape = shapeOf(node);
    const extra = node.additionalProperties;
    schema =
      extra === false
        ? z.strictObject(shape)
        : typeof extra === "object" && extra !== null
          ? z.object(shape).catchall(zodOf(extra as Json))
          : z.looseObject(shape);
  } else schema = z.unknown();
  if (nullable) schema = schema.nullable();
  return typeof node.description === "string" ? schema.describe(node.description) : schema;
}

function shapeOf(node: Json): Record<string, z.ZodType> {
  const required = new Set((node.required as string[] | undefined) ?? []);
  const shape: Record<string, z.ZodType> = {};
  for (const [name, child] of Object.entries((node.properties as Record<string, Json> | undefined) ?? {})) {
    const schema = zodOf(child);
    shape[name] = required.has(name) ? schema : schema.optional();
  }
  return shape;
}

function getServer(apiKey: string): McpServer {
  const server = new McpServer({ name: "pilot-status-sdk-example", version: "1.0.0" }, { capabilities: { tools: {} } });
  for (const spec of TOOL_SPECS) {
    server.registerTool(
      spec.name,
      {
        title: spec.title,
        description: spec.description,
        inputSchema: shapeOf(spec.inputSchema as Json),
        annotations: spec.annotations,
      },
      (args: Record<string, unknown>) => forward(spec, args, apiKey),
    );
  }
  return server;
}

const app = createMcpExpressApp();
app.post("/mcp", async (req: Request, res: Response) => {
  const apiKey = req.headers["x-api-key"];
  if (typeof apiKey !== "string")
    return void res.status(401).json({ jsonrpc: "2.0", error: { code: -32001, message: "Unauthorized" }, id: null });
  const server = getServer(apiKey);
  try {
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  } catch {
    if (!res.headersSent)
      res.status(500).json({ jsonrpc: "2.0", error: { code: -32603, message: "Internal server error" }, id: null });
  }
});
app.listen(Number(process.env.PORT ?? 9003), process.env.HOST ?? "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
