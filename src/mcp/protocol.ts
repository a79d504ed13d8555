/** JSON-RPC and MCP constants this server speaks; kept local so the server imports no schema library per call. */

export const JSONRPC_PARSE_ERROR = -32700;
export const JSONRPC_INVALID_REQUEST = -32600;
export const JSONRPC_METHOD_NOT_FOUND = -32601;
export const JSONRPC_INVALID_PARAMS = -32602;
export const JSONRPC_INTERNAL_ERROR = -32603;

/** Newest first; the same list the MCP TypeScript SDK 1.x accepts. */
export const SUPPORTED_PROTOCOL_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07"] as const;
export const LATEST_PROTOCOL_VERSION = SUPPORTED_PROTOCOL_VERSIONS[0];

export type JsonRpcId = string | number | null;

export const BATCH_NOT_SUPPORTED = "JSON-RPC batches are not supported (removed in MCP 2025-06-18); send one message per request";

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A usable request id: a string or a finite number (null is only for answers that cannot name their request). */
export function validId(id: unknown): id is string | number {
  return typeof id === "string" || (typeof id === "number" && Number.isFinite(id));
}

export function errorResponse(id: JsonRpcId, code: number, message: string): string {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"error":{"code":${code},"message":${JSON.stringify(message)}}}`;
}

/** A success response around an already serialised result (lets precomputed answers skip JSON.stringify). */
export function resultResponse(id: JsonRpcId, resultJson: string): string {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${resultJson}}`;
}

const CLOSE = Buffer.from("}");

/**
 * A success response around a large result already encoded as UTF-8 bytes (the tools/list answer): written as
 * chunks, so no request re-encodes or copies it.
 */
export function resultResponseChunks(id: JsonRpcId, result: Buffer): readonly Buffer[] {
  return [Buffer.from(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":`), result, CLOSE];
}

/** A serialised response: one string, or byte chunks to write in order. */
export type ResponseBody = string | readonly Buffer[];

export function byteLength(body: ResponseBody): number {
  return typeof body === "string" ? Buffer.byteLength(body) : body.reduce((n, chunk) => n + chunk.length, 0);
}
