import type { CallToolResult, TextContent } from "./types.js";

/** A 2xx JSON answer as MCP structured content: always an object (arrays are wrapped as { items }). */
export function toStructured(value: unknown): Record<string, unknown> {
  if (Array.isArray(value)) return { items: value };
  if (value !== null && typeof value === "object") return value as Record<string, unknown>;
  return { value };
}

export function textResult(text: string, isError = false): CallToolResult {
  return isError ? { content: [{ type: "text", text }], isError: true } : { content: [{ type: "text", text }] };
}

const PAGINATION_HINT =
  "Narrow the request (a smaller pageSize or limit, a date filter) or fetch the next page (page + 1, or before = the last item's createdAt).";

/** A result together with its JSON, for the answers that can be serialised without a second pass. */
export interface SerialisedResult {
  readonly result: CallToolResult;
  /** JSON.stringify(result), except that the API's own text may stand for the value it parsed to (apiText). */
  readonly json: string;
}

/**
 * Up to this many characters, an answer nests at most half as many levels deep, which JSON.stringify always
 * manages; so a text this short that parsed is one we could also have serialised (docs/decisions.md #17).
 */
const MAX_STANDING_CHARS = 2048;

/**
 * May the API's answer text stand for its parsed value as it is? When it is a short JSON object on one line, and
 * nothing was rewritten after parsing (no credential scrubbed, no hidden character removed): then it is the
 * value, already serialised, and a second serialisation would only cost time (most answers, such as a message
 * or a send receipt, are like this). A pretty-printed answer is serialised again, compactly, so the model's
 * context does not pay for the indentation; a long one, because only serialising it shows it can be passed on.
 */
export function standsForValue(text: string): boolean {
  return (
    text.length <= MAX_STANDING_CHARS &&
    text.charCodeAt(0) === 0x7b &&
    text.charCodeAt(text.length - 1) === 0x7d &&
    !text.includes("\n")
  );
}

/**
 * The success result. Over the size cap, the longest list is cut so that the result still parses and still
 * matches the tool's output schema; the text says so. When no list can be cut small enough, the call fails
 * with a request to narrow it (docs/decisions.md #16).
 */
export function successResult(
  value: unknown,
  maxChars: number,
  args: Readonly<Record<string, unknown>> = {},
): CallToolResult {
  return serialisedSuccess(value, maxChars, args).result;
}

/**
 * successResult and its JSON. In the usual case (under the cap) the API's value is serialised once, or not at all
 * when the API's own text may stand for it (apiText): that text is both the first content item and, as it
 * stands, the structured content.
 */
export function serialisedSuccess(
  value: unknown,
  maxChars: number,
  args: Readonly<Record<string, unknown>> = {},
  note?: string,
  apiText?: string,
): SerialisedResult {
  const structured = toStructured(value);
  // The caller vouches for apiText (standsForValue, nothing rewritten); only an object can stand as it is.
  const text = apiText !== undefined && structured === value ? apiText : JSON.stringify(value);
  if (text.length <= maxChars) {
    // The note rides in its own content item, so the first one stays exactly the API's JSON.
    const more = moreResultsHint(structured, args);
    const content: TextContent[] = [{ type: "text", text }];
    if (more !== undefined) content.push({ type: "text", text: more });
    if (note !== undefined) content.push({ type: "text", text: note });
    const structuredJson =
      structured === value ? text : Array.isArray(value) ? `{"items":${text}}` : `{"value":${text}}`;
    const items = content.map((item) => `{"type":"text","text":${JSON.stringify(item.text)}}`).join(",");
    return {
      result: { content, structuredContent: structured },
      json: `{"content":[${items}],"structuredContent":${structuredJson}}`,
    };
  }
  const cut = oversizedResult(value, structured, text.length, maxChars);
  const result =
    note === undefined || cut.isError === true
      ? cut
      : { ...cut, content: [...cut.content, { type: "text" as const, text: note }] };
  return { result, json: JSON.stringify(result) };
}

function oversizedResult(
  value: unknown,
  structured: Record<string, unknown>,
  length: number,
  maxChars: number,
): CallToolResult {
  const listKey = longestListKey(structured);
  if (listKey !== undefined) {
    const list = structured[listKey] as unknown[];
    const trimmed = fitList(structured, listKey, list, maxChars);
    if (trimmed !== undefined) {
      const kept = (trimmed[listKey] as unknown[]).length;
      const shown = Array.isArray(value) ? trimmed.items : trimmed;
      const note = `[truncated: showing ${kept} of ${list.length} items of "${listKey}" to stay under ${maxChars} characters. ${PAGINATION_HINT}]`;
      return {
        content: [
          { type: "text", text: JSON.stringify(shown) },
          { type: "text", text: note },
        ],
        structuredContent: trimmed,
      };
    }
  }
  return textResult(
    `The result is too large (${length} characters; the limit is ${maxChars}). ${PAGINATION_HINT}`,
    true,
  );
}

/**
 * A line telling the model that the list goes on, from the API's own conventions: page/totalPages (conversations,
 * unread, group messages) or a full page of a limit/before list (calls).
 */
export function moreResultsHint(
  value: Record<string, unknown>,
  args: Readonly<Record<string, unknown>>,
): string | undefined {
  const { page, totalPages, total } = value;
  if (typeof page === "number" && typeof totalPages === "number" && page < totalPages) {
    const of = typeof total === "number" ? `, ${total} in all` : "";
    return `[more results: this is page ${page} of ${totalPages}${of}; call again with page: ${page + 1}]`;
  }
  const limit = args.limit;
  if (typeof limit !== "number") return undefined; // most calls: no list to look for
  const list = longestListKey(value);
  if (list === undefined) return undefined;
  const items = value[list] as unknown[];
  const last = items.at(-1) as { createdAt?: unknown } | undefined;
  if (items.length < limit || typeof last?.createdAt !== "string") return undefined;
  return `[more results may exist: call again with before: ${JSON.stringify(last.createdAt)}]`;
}

function longestListKey(value: Record<string, unknown>): string | undefined {
  let best: string | undefined;
  let bestLength = 0;
  for (const [key, item] of Object.entries(value)) {
    if (Array.isArray(item) && item.length > bestLength) {
      best = key;
      bestLength = item.length;
    }
  }
  return best;
}

/** Largest prefix of the list that keeps the whole object under maxChars (binary search on the count). */
function fitList(
  value: Record<string, unknown>,
  key: string,
  list: unknown[],
  maxChars: number,
): Record<string, unknown> | undefined {
  const budget = maxChars - 400; // room for the truncation note
  let low = 0;
  let high = list.length - 1;
  let best: Record<string, unknown> | undefined;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const candidate = { ...value, [key]: list.slice(0, mid) };
    if (JSON.stringify(candidate).length <= budget) {
      best = candidate;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return best !== undefined && (best[key] as unknown[]).length > 0 ? best : undefined;
}
