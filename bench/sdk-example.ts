/**
 * Reference (c) of issue #6: the MCP SDK's documented stateless pattern (simpleStatelessStreamableHttp in the SDK's
 * examples), applied to our 54 tools. Every POST /mcp builds a new McpServer, registers the 54 tools with their zod
 * input shapes, connects a new StreamableHTTPServerTransport (no session id, JSON responses) and lets it answer;
 * both are closed when the response closes. Tool handlers forward to the upstream with undici.
 *
 * Run alone: PORT=9003 PILOT_STATUS_API_URL=http://127.0.0.1:9001 npx tsx bench/sdk-example.ts
 */
import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Request, Response } from "express";
import { Pool } from "undici";
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
  const up = await pool.request({ method: spec.method, path: path + search, headers, body: spec.hasBody ? JSON.stringify(body) : null });
  const text = await up.body.text();
  if (up.statusCode < 200 || up.statusCode >= 300) return { content: [{ type: "text", text: `HTTP ${up.statusCode}: ${text}` }], isError: true };
  return { content: [{ type: "text", text }], structuredContent: JSON.parse(text) as Record<string, unknown> };
}

function getServer(apiKey: string): McpServer {
  const server = new McpServer({ name: "pilot-status-sdk-example", version: "1.0.0" }, { capabilities: { tools: {} } });
  for (const spec of TOOL_SPECS) {
    server.registerTool(
      spec.name,
      { title: spec.title, description: spec.description, inputSchema: { ...spec.input.shape }, annotations: spec.annotations },
      (args: Record<string, unknown>) => forward(spec, args, apiKey),
    );
  }
  return server;
}

const app = createMcpExpressApp();
app.post("/mcp", async (req: Request, res: Response) => {
  const apiKey = req.headers["x-api-key"];
  if (typeof apiKey !== "string") return void res.status(401).json({ jsonrpc: "2.0", error: { code: -32001, message: "Unauthorized" }, id: null });
  const server = getServer(apiKey);
  try {
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  } catch {
    if (!res.headersSent) res.status(500).json({ jsonrpc: "2.0", error: { code: -32603, message: "Internal server error" }, id: null });
  }
});
app.listen(Number(process.env.PORT ?? 9003), process.env.HOST ?? "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
