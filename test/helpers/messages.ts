/** JSON-RPC messages of both MCP eras, written out the way clients put them on the wire. */

export const MODERN_VERSION = "2026-07-28";

export const MODERN_META = {
  "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "pilot-status-mcp-tests", version: "0.0.0" },
} as const;

export type Id = string | number;

/** A legacy (2025) request: no per-request _meta. */
export function legacy(method: string, params?: Record<string, unknown>, id: Id = 1): Record<string, unknown> {
  return { jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) };
}

/** A 2026-07-28 request: the per-request _meta merged into params (`meta` replaces it; null leaves it out). */
export function modern(
  method: string,
  params: Record<string, unknown> = {},
  id: Id = 1,
  meta: Record<string, unknown> | null = MODERN_META,
): Record<string, unknown> {
  return { jsonrpc: "2.0", id, method, params: { ...params, ...(meta === null ? {} : { _meta: meta }) } };
}

/** The HTTP headers a 2026-07-28 client sends with a request (Mcp-Name only where the method names a target). */
export function modernHeaders(method: string, name?: string): Record<string, string> {
  return {
    "mcp-protocol-version": MODERN_VERSION,
    "mcp-method": method,
    ...(name === undefined ? {} : { "mcp-name": name }),
  };
}

export const INITIALIZE_2025 = legacy("initialize", {
  protocolVersion: "2025-11-25",
  capabilities: {},
  clientInfo: { name: "pilot-status-mcp-tests", version: "0.0.0" },
});

export const callMessageGet = (messageId = "msg_1"): { name: string; arguments: Record<string, unknown> } => ({
  name: "message_get",
  arguments: { messageId },
});
