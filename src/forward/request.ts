import type { PreparedTool } from "../registry/prepared.js";
import type { UpstreamRequest } from "../upstream/client.js";

/** A value that passed its schema but cannot travel where the API takes it (a path segment, the query, a header). */
export class ArgumentValueError extends Error {}

/** A lone UTF-16 surrogate: encodeURIComponent throws on it and URLSearchParams silently turns it into U+FFFD. */
const LONE_SURROGATE = /\p{Cs}/u;
/** What an HTTP header value may hold here: printable ASCII (undici refuses line breaks and control characters). */
const HEADER_SAFE = /^[\x20-\x7e]*$/;

function wellFormed(arg: string, text: string): string {
  if (LONE_SURROGATE.test(text))
    throw new ArgumentValueError(`${arg}: must be valid Unicode text (it holds a lone surrogate)`);
  return text;
}

/** One path segment: percent-encoded whole, so a value can never add, climb or empty a segment. */
export function encodeSegment(arg: string, value: unknown): string {
  const text = String(value);
  if (text === "" || text === "." || text === "..") {
    throw new ArgumentValueError(`${arg}: must not be empty, "." or ".."`);
  }
  return encodeURIComponent(wellFormed(arg, text));
}

function queryValue(arg: string, value: unknown): string {
  return typeof value === "string" ? wellFormed(arg, value) : JSON.stringify(value);
}

function headerValue(arg: string, wire: string, value: unknown): string {
  const text = String(value);
  if (!HEADER_SAFE.test(text)) {
    throw new ArgumentValueError(
      `${arg}: must be printable ASCII, without line breaks or control characters (it is sent as the ${wire} header)`,
    );
  }
  return text;
}

/** Validated arguments -> the upstream request, each argument to its own location. */
export function buildUpstreamRequest(tool: PreparedTool, args: Readonly<Record<string, unknown>>): UpstreamRequest {
  let path = "";
  for (const part of tool.pathParts) {
    path += "literal" in part ? part.literal : encodeSegment(part.arg, args[part.arg]);
  }

  const query: Array<[string, string]> = [];
  for (const q of tool.queryArgs) {
    const value = args[q.arg];
    if (value === undefined || value === null) continue;
    if (q.trueValue !== undefined) {
      if (value === true) query.push([q.wire, q.trueValue]);
    } else if (Array.isArray(value)) {
      for (const item of value) query.push([q.wire, queryValue(q.arg, item)]);
    } else {
      query.push([q.wire, queryValue(q.arg, value)]);
    }
  }

  const headers: Record<string, string> = {};
  for (const h of tool.headerArgs) {
    const value = args[h.arg];
    if (value !== undefined && value !== null) headers[h.wire] = headerValue(h.arg, h.wire, value);
  }

  let body: Record<string, unknown> | undefined;
  if (tool.spec.hasBody) {
    body = {};
    for (const b of tool.bodyArgs) {
      if (args[b.arg] !== undefined) body[b.wire] = args[b.arg];
    }
  }

  return {
    method: tool.spec.method,
    path,
    query,
    headers,
    body,
    retryable: tool.spec.annotations.idempotentHint,
  };
}
