/**
 * JSON-RPC framing and the error codes this server speaks, in both MCP eras. Kept local (the SDKs' schema modules
 * would cost start-up time for a few constants); the message shapes are checked against the SDK's types at
 * compile time where they are built (answers.ts).
 */

export const JSONRPC_PARSE_ERROR = -32700;
export const JSONRPC_INVALID_REQUEST = -32600;
export const JSONRPC_METHOD_NOT_FOUND = -32601;
export const JSONRPC_INVALID_PARAMS = -32602;
export const JSONRPC_INTERNAL_ERROR = -32603;
/** Transport-level refusals in the handshake era (the SDK's "server error"); kept for those clients. */
export const TRANSPORT_ERROR = -32000;
export const UNAUTHORIZED_ERROR = -32001;
/** 2026-07-28: an HTTP header disagrees with the body, or a required one is missing or malformed. */
export const HEADER_MISMATCH = -32020;
/** 2026-07-28: the request's protocol version is not one this server speaks. */
export const UNSUPPORTED_PROTOCOL_VERSION = -32022;

/** A request id, or undefined where none can be known (the body was never read, or could not be parsed). */
export type JsonRpcId = string | number | undefined;

export const BATCH_NOT_SUPPORTED =
  "JSON-RPC batches are not supported (removed in MCP 2025-06-18); send one message per request";

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A usable request id: a string or a finite number (MCP forbids null). */
export function validId(id: unknown): id is string | number {
  return typeof id === "string" || (typeof id === "number" && Number.isFinite(id));
}

/**
 * `"id":…,` for a response, or nothing when the id cannot be known: the 2025-11-25 and 2026-07-28 schemas
 * make `id` optional on an error for exactly that case (docs/decisions.md #28).
 */
function idMember(id: JsonRpcId): string {
  return id === undefined ? "" : `"id":${JSON.stringify(id)},`;
}

export function errorResponse(id: JsonRpcId, code: number, message: string, data?: unknown): string {
  const dataMember = data === undefined ? "" : `,"data":${JSON.stringify(data)}`;
  return `{"jsonrpc":"2.0",${idMember(id)}"error":{"code":${code},"message":${JSON.stringify(message)}${dataMember}}}`;
}

/** A success response around an already serialised result (lets precomputed answers skip JSON.stringify). */
export function resultResponse(id: string | number, resultJson: string): string {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${resultJson}}`;
}

/** A notification, serialised. */
export function notification(method: string, paramsJson: string): string {
  return `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${paramsJson}}`;
}

const CLOSE = Buffer.from("}");

/**
 * A success response around a large result already encoded as UTF-8 bytes (the tools/list answer): written as
 * chunks, so no request re-encodes or copies it.
 */
export function resultResponseChunks(id: string | number, result: Buffer): readonly Buffer[] {
  return [Buffer.from(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":`), result, CLOSE];
}

/** A serialised response: one string, or byte chunks to write in order. */
export type ResponseBody = string | readonly Buffer[];

export function byteLength(body: ResponseBody): number {
  return typeof body === "string" ? Buffer.byteLength(body) : body.reduce((n, chunk) => n + chunk.length, 0);
}
