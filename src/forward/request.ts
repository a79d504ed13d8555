import type { PreparedTool } from "../registry/prepared.js";
import type { UpstreamRequest } from "../upstream/client.js";

export class PathValueError extends Error {}

/** One path segment: percent-encoded whole, so a value can never add, climb or empty a segment. */
export function encodeSegment(arg: string, value: unknown): string {
  const text = String(value);
  if (text === "" || text === "." || text === "..") {
    throw new PathValueError(`${arg}: must not be empty, "." or ".."`);
  }
  return encodeURIComponent(text);
}

function queryValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
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
      for (const item of value) query.push([q.wire, queryValue(item)]);
    } else {
      query.push([q.wire, queryValue(value)]);
    }
  }

  const headers: Record<string, string> = {};
  for (const h of tool.headerArgs) {
    const value = args[h.arg];
    if (value !== undefined && value !== null) headers[h.wire] = String(value);
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
