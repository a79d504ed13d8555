/**
 * Context for the stdio figures, not a competitor: the least a stdio tools/call can cost on this machine. It reads a
 * JSON-RPC line, sends GET /v1/messages/{id} through an undici Pool, and writes the upstream JSON back as a result:
 * no validation, no MCP handling. The same 4 hops (pipe, loopback TCP both ways, pipe) as our server.
 */
import { Pool } from "undici";

const pool = new Pool(process.env.PILOT_STATUS_API_URL ?? "http://127.0.0.1:9001", { connections: 4 });
const apiKey = process.env.PILOT_STATUS_API_KEY ?? "";
let buffered = "";

async function answer(line: string): Promise<void> {
  const message = JSON.parse(line) as {
    id?: number | string;
    method?: string;
    params?: { arguments?: { messageId?: string } };
  };
  if (message.id === undefined) return;
  let result: unknown = { tools: [] };
  if (message.method === "tools/call") {
    const path = `/v1/messages/${encodeURIComponent(message.params?.arguments?.messageId ?? "")}`;
    const response = await pool.request({
      method: "GET",
      path,
      headers: { accept: "application/json", "x-api-key": apiKey },
    });
    const text = await response.body.text();
    result = { content: [{ type: "text", text }], structuredContent: JSON.parse(text) as unknown };
  }
  process.stdout.write(`${JSON.stringify({ jsonrpc: "2.0", id: message.id, result })}\n`);
}

process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  buffered += chunk;
  for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
    const line = buffered.slice(0, newline);
    buffered = buffered.slice(newline + 1);
    if (line.trim() !== "") void answer(line);
  }
});
process.stdin.on("end", () => void pool.close());
