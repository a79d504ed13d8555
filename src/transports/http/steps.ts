import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { Logger } from "../../log.js";
import { isLegacyVersion, isModernVersion } from "../../mcp/eras.js";
import type { McpRequest } from "../../mcp/handler.js";
import {
  BATCH_NOT_SUPPORTED,
  errorResponse,
  HEADER_MISMATCH,
  JSONRPC_INVALID_REQUEST,
  JSONRPC_PARSE_ERROR,
  type JsonRpcId,
  TRANSPORT_ERROR,
  UNAUTHORIZED_ERROR,
} from "../../mcp/protocol.js";
import { OverCap, readCapped } from "../../read-capped.js";
import type { Surface, Surfaces } from "../../registry/registry.js";
import { parseFlag, parseList, SelectionError } from "../../registry/selection.js";
import { type Credentials, credentialsFromHeaders } from "../../upstream/credentials.js";

/**
 * The rules of POST /mcp, one small function each, in the order the endpoint applies them (mcp-endpoint.ts):
 * Host/Origin, media type, accept, credentials, body, parse, era (the handler), era headers, selection, dispatch
 * (the handler), challenge rewrite. A step returns what the next one needs, or a Refusal: the answer to send
 * instead. None keeps anything between requests.
 */

/** An answer that ends the request early: an HTTP status, a JSON-RPC error body, and headers to add. */
export class Refusal {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {}
}

export function refuse(
  status: number,
  code: number,
  message: string,
  id?: JsonRpcId,
  headers?: Record<string, string>,
): Refusal {
  return new Refusal(status, errorResponse(id, code, message), headers);
}

const one = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

// 1. Host and Origin -------------------------------------------------------------------------------------------

/** DNS-rebinding protection (docs/decisions.md #20): refused before anything else is looked at. */
export function checkHostAndOrigin(
  headers: IncomingHttpHeaders,
  hostAllowed: (host: string | undefined) => boolean,
  originAllowed: (origin: string) => boolean,
): Refusal | undefined {
  if (!hostAllowed(headers.host)) return refuse(403, TRANSPORT_ERROR, "Forbidden: Host header not allowed");
  const origin = headers.origin;
  if (origin !== undefined && !originAllowed(origin))
    return refuse(403, TRANSPORT_ERROR, "Forbidden: Origin not allowed");
  return undefined;
}

const NO_CORS: Readonly<Record<string, string>> = Object.freeze({});

/** What a browser needs to read our answers; only for an Origin the allow-list accepted. */
export function corsHeaders(origin: string | undefined): Readonly<Record<string, string>> {
  if (origin === undefined) return NO_CORS; // most callers (servers, CLIs) send no Origin: nothing to allocate
  return {
    "access-control-allow-origin": origin,
    "access-control-expose-headers": "www-authenticate, x-request-id, mcp-protocol-version",
    vary: "Origin",
  };
}

/** Request headers a browser client may send (the CORS preflight answer): both eras' and our selection headers. */
export const CORS_ALLOW_HEADERS = [
  "content-type",
  "accept",
  "authorization",
  "x-api-key",
  "x-api-key-id",
  "mcp-protocol-version",
  "mcp-method",
  "mcp-name",
  "x-request-id",
  "x-mcp-toolsets",
  "x-mcp-tools",
  "x-mcp-exclude-tools",
  "x-mcp-readonly",
  "x-mcp-dry-run",
].join(", ");

// 2. Media type ------------------------------------------------------------------------------------------------

const JSON_TYPE = "application/json";
const JSON_UTF8 = "application/json; charset=utf-8";
const UTF8_CHARSETS = new Set(["utf-8", "utf8", '"utf-8"']);

/**
 * The body must be application/json in UTF-8 (RFC 8259; a declared charset other than utf-8 would be decoded
 * wrongly) and not compressed (a gzip body read as JSON would only give a misleading parse error).
 */
export function checkMediaType(headers: IncomingHttpHeaders): Refusal | undefined {
  const contentType = headers["content-type"];
  // What nearly every client sends, uncompressed: nothing to split or lower-case.
  if ((contentType === JSON_TYPE || contentType === JSON_UTF8) && headers["content-encoding"] === undefined)
    return undefined;
  const [mediaType = "", ...params] = (headers["content-type"] ?? "").split(";");
  if (mediaType.trim().toLowerCase() !== JSON_TYPE)
    return unsupportedMediaType("Content-Type must be application/json");
  for (const param of params) {
    const [name = "", value = ""] = param.split("=", 2).map((part) => part.trim().toLowerCase());
    if (name === "charset" && !UTF8_CHARSETS.has(value))
      return unsupportedMediaType("the JSON must be UTF-8 (charset=utf-8)");
  }
  const coding = (headers["content-encoding"] ?? "").trim().toLowerCase();
  if (coding !== "" && coding !== "identity") {
    // RFC 9110 15.5.16: a 415 for a content coding names the codings accepted.
    return unsupportedMediaType(
      `Content-Encoding ${coding.slice(0, 40)} is not supported; send the JSON uncompressed`,
      { "accept-encoding": "identity" },
    );
  }
  return undefined;
}

function unsupportedMediaType(reason: string, headers?: Record<string, string>): Refusal {
  return refuse(415, TRANSPORT_ERROR, `Unsupported Media Type: ${reason}`, undefined, headers);
}

// 3. Accept ----------------------------------------------------------------------------------------------------

/** Answers are JSON (an SSE stream only for subscriptions/listen); a client must accept JSON or say nothing. */
export function checkAccept(headers: IncomingHttpHeaders): Refusal | undefined {
  const accept = headers.accept;
  if (accept !== undefined && !/application\/json|\*\/\*|application\/\*/i.test(accept)) {
    return refuse(406, TRANSPORT_ERROR, "Not Acceptable: this server answers with application/json");
  }
  return undefined;
}

/** May the answer be an SSE stream? Only when the client said so (or said nothing at all). */
export function acceptsEventStream(headers: IncomingHttpHeaders): boolean {
  const accept = headers.accept;
  return accept === undefined || /text\/event-stream|\*\/\*|text\/\*/i.test(accept);
}

// 4. Credentials -----------------------------------------------------------------------------------------------

/**
 * The caller's own credentials, else the configured fallback key, else a 401 whose challenge starts the client's
 * OAuth flow. Checked before the body is read: an unauthenticated caller costs no parsing.
 */
export function credentialsOrChallenge(
  headers: IncomingHttpHeaders,
  fallback: Credentials | undefined,
  challenge: string,
): Credentials | Refusal {
  const credentials = credentialsFromHeaders(headers) ?? fallback;
  if (credentials !== undefined) return credentials;
  return refuse(401, UNAUTHORIZED_ERROR, "Unauthorized: send x-api-key or Authorization: Bearer", undefined, {
    "www-authenticate": challenge,
  });
}

// 5. Body ------------------------------------------------------------------------------------------------------

/** How much of an oversized body is read and thrown away so that the client can read its 413. */
export interface DrainBound {
  readonly bytes: number;
  readonly ms: number;
}

/**
 * A client still writing a body (Node's fetch does not read an answer before it has sent everything) gets EPIPE,
 * not the 413, when the server closes first. So the rest is read and discarded, chunk by chunk, up to 32 MiB or
 * four times the limit (whichever is more) and 5 seconds; past that the server closes (docs/decisions.md #36).
 */
export function drainBoundFor(limit: number): DrainBound {
  return { bytes: Math.max(4 * limit, 32 * 1024 * 1024), ms: 5_000 };
}

/**
 * The body, read up to `limit` bytes. Past it (or when Content-Length says so), the rest is discarded up to the
 * drain bound and the answer is a 413 that closes the connection; nothing past the limit is kept in memory.
 */
export async function readBody(
  req: IncomingMessage,
  limit: number,
  bound: DrainBound = drainBoundFor(limit),
): Promise<string | Refusal> {
  const tooLarge = (): Refusal =>
    refuse(413, TRANSPORT_ERROR, `Payload Too Large: the limit is ${limit} bytes`, undefined, { connection: "close" });
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return discardThenRefuse(req, 0, bound, tooLarge);
  const read = await readCapped(req, limit);
  return read instanceof OverCap ? discardThenRefuse(req, read.size, bound, tooLarge) : read;
}

/** Reads and drops the rest of a refused body, then gives the refusal; past the bound, stops reading at once. */
function discardThenRefuse(
  req: IncomingMessage,
  alreadyRead: number,
  bound: DrainBound,
  refusal: () => Refusal,
): Promise<Refusal> {
  if (req.complete) return Promise.resolve(refusal());
  return new Promise((resolve) => {
    let size = alreadyRead;
    const finish = (): void => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", finish);
      req.off("close", finish);
      req.off("error", finish);
      resolve(refusal());
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= bound.bytes) return;
      req.pause(); // past the bound: the answer's Connection: close ends the connection; the rest is never read
      finish();
    };
    const timer = setTimeout(finish, bound.ms);
    req.on("data", onData);
    req.on("end", finish);
    req.on("close", finish);
    req.on("error", finish);
    req.resume(); // also wakes a body the capped reader left paused
  });
}

// 6. Parse -----------------------------------------------------------------------------------------------------

/** One JSON-RPC message; a body that is no JSON gets -32700, a batch -32600 (no id can be known for either). */
export function parseBody(raw: string): unknown {
  let message: unknown;
  try {
    message = JSON.parse(raw);
  } catch {
    return refuse(400, JSONRPC_PARSE_ERROR, "Parse error: the body is not valid JSON");
  }
  if (Array.isArray(message)) return refuse(400, JSONRPC_INVALID_REQUEST, BATCH_NOT_SUPPORTED);
  return message;
}

// 8. Era headers -----------------------------------------------------------------------------------------------

/**
 * The HTTP headers each era defines, checked against the body. Legacy: `MCP-Protocol-Version`, when sent, names
 * a supported revision; the claude.ai connector's `2026-07-28` on a legacy message is tolerated. Modern
 * (2026-07-28): `MCP-Protocol-Version`, `Mcp-Method` and, for tools/call, `Mcp-Name` are required and must match
 * the body (-32020), except that a supported legacy version in the version header is tolerated, again because
 * the connector sends it. These two tolerances are the only deviations (docs/decisions.md #27).
 */
export function checkEraHeaders(
  request: McpRequest,
  headers: IncomingHttpHeaders,
  logger: Logger,
  requestId: string,
): Refusal | undefined {
  return request.era === "legacy"
    ? checkLegacyVersionHeader(headers, request.id, request.method, logger, requestId)
    : checkModernHeaders(request, headers, logger, requestId);
}

/** Legacy messages (notifications included): a version header, when sent, must name a revision we speak. */
export function checkLegacyVersionHeader(
  headers: IncomingHttpHeaders,
  id: JsonRpcId,
  method: string,
  logger: Logger,
  requestId: string,
): Refusal | undefined {
  const versionHeader = one(headers["mcp-protocol-version"]);
  if (versionHeader === undefined || isLegacyVersion(versionHeader)) return undefined;
  if (isModernVersion(versionHeader)) {
    logger.debug(
      { requestId, method, header: versionHeader },
      "legacy message under a modern MCP-Protocol-Version header: served as legacy",
    );
    return undefined;
  }
  return refuse(
    400,
    TRANSPORT_ERROR,
    `Bad Request: unsupported MCP-Protocol-Version ${versionHeader.slice(0, 40)}`,
    id,
  );
}

function checkModernHeaders(
  request: McpRequest,
  headers: IncomingHttpHeaders,
  logger: Logger,
  requestId: string,
): Refusal | undefined {
  const versionHeader = one(headers["mcp-protocol-version"]);
  if (versionHeader !== request.version) {
    // Tolerated only as the connector sends it: a version we speak in _meta, a legacy one we speak in the header.
    if (versionHeader === undefined || !(isModernVersion(request.version ?? "") && isLegacyVersion(versionHeader))) {
      return headerMismatch(request.id, "MCP-Protocol-Version", versionHeader, request.version);
    }
    logger.debug(
      { requestId, method: request.method, header: versionHeader },
      "modern message under a legacy MCP-Protocol-Version header: served as modern",
    );
  }
  const methodHeader = one(headers["mcp-method"]);
  if (methodHeader !== request.method) return headerMismatch(request.id, "Mcp-Method", methodHeader, request.method);
  const nameSource = NAMED_METHODS[request.method];
  if (nameSource === undefined) return undefined;
  const bodyName = request.params[nameSource];
  const nameHeader = one(headers["mcp-name"]);
  if (nameHeader === undefined) return headerMismatch(request.id, "Mcp-Name", undefined, bodyName);
  const name = decodeHeaderValue(nameHeader);
  if (name === undefined)
    return headerMismatch(request.id, "Mcp-Name", nameHeader, bodyName, "is not valid =?base64?…?= encoding");
  if (name !== bodyName) return headerMismatch(request.id, "Mcp-Name", name, bodyName);
  return undefined;
}

/** -32020 naming the header, what it said and what the body says (as the 2.x SDK servers report it). */
function headerMismatch(id: JsonRpcId, header: string, sent: string | undefined, body: unknown, why?: string): Refusal {
  const said =
    sent === undefined
      ? "is missing"
      : `'${sent.slice(0, 100)}' does not match the body's '${String(body).slice(0, 100)}'`;
  const message = `Header mismatch: the ${header} header ${why ?? said}`;
  const data = {
    mismatch: { header: sent === undefined ? "(missing)" : sent.slice(0, 100), body: String(body).slice(0, 100) },
  };
  return new Refusal(400, errorResponse(id, HEADER_MISMATCH, message, data));
}

/** Methods whose HTTP request names its target in Mcp-Name, and the params field it mirrors. */
const NAMED_METHODS: Readonly<Record<string, string>> = {
  "tools/call": "name",
  "resources/read": "uri",
  "prompts/get": "name",
};

const SENTINEL = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/;

/**
 * A header value as sent, or decoded from the `=?base64?…?=` form clients use for values that are not plain
 * ASCII; undefined when the encoded form is malformed (not base64, or not UTF-8).
 */
export function decodeHeaderValue(value: string): string | undefined {
  if (!value.startsWith("=?base64?")) return value;
  const encoded = SENTINEL.exec(value)?.[1];
  if (encoded === undefined || encoded.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(encoded, "base64");
  const text = bytes.toString("utf8");
  return Buffer.from(text, "utf8").equals(bytes) ? text : undefined;
}

// 9. Selection -------------------------------------------------------------------------------------------------

/** X-MCP-* headers narrow the configured surface for this request only; they can never widen it. */
export function selectSurface(headers: IncomingHttpHeaders, surfaces: Surfaces, id: JsonRpcId): Surface | Refusal {
  try {
    const toolsets = parseList(headers["x-mcp-toolsets"]);
    const tools = parseList(headers["x-mcp-tools"]);
    const excludeTools = parseList(headers["x-mcp-exclude-tools"]);
    const readOnly = parseFlag(headers["x-mcp-readonly"], "X-MCP-Readonly");
    // false asks for nothing: the header can turn a dry run on, never off.
    const dryRun = parseFlag(headers["x-mcp-dry-run"], "X-MCP-Dry-Run") === true ? true : undefined;
    if (
      toolsets === undefined &&
      tools === undefined &&
      excludeTools === undefined &&
      readOnly === undefined &&
      dryRun === undefined
    ) {
      return surfaces.base;
    }
    return surfaces.narrowed({ toolsets, tools, excludeTools, readOnly, dryRun });
  } catch (error) {
    if (!(error instanceof SelectionError)) throw error;
    return refuse(400, JSONRPC_INVALID_REQUEST, `Bad Request: ${error.message}`, id);
  }
}

// 11. Challenge rewrite ----------------------------------------------------------------------------------------

/** A tool call the API answered 401: the client must sign in again, so the answer becomes an HTTP challenge. */
export function invalidTokenChallenge(id: JsonRpcId, challenge: string): Refusal {
  return refuse(
    401,
    UNAUTHORIZED_ERROR,
    "Unauthorized: the Pilot Status API rejected the credentials; sign in again",
    id,
    {
      "www-authenticate": challenge,
    },
  );
}
