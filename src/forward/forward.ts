import type { z } from "zod";
import type { Logger } from "../log.js";
import { containsAny, maskPhoneNumbers, replaceValues, scrubCredentials, secretValues } from "../log.js";
import type { PreparedTool } from "../registry/prepared.js";
import {
  type UpstreamClient,
  UpstreamFailure,
  type UpstreamRequest,
  type UpstreamResponse,
} from "../upstream/client.js";
import type { Credentials } from "../upstream/credentials.js";
import { dryRunResult } from "./dry-run.js";
import { clientErrorText, UNAUTHORIZED_TEXT, unavailableText, upstreamForLog } from "./errors.js";
import { ArgumentValueError, buildUpstreamRequest } from "./request.js";
import { serialisedSuccess, standsForValue, textResult } from "./result.js";
import type { CallToolResult } from "./types.js";
import { cleanUntrusted, untrustedNote } from "./untrusted.js";

export interface CallContext {
  readonly credentials: Credentials;
  readonly client: UpstreamClient;
  readonly logger: Logger;
  readonly requestId: string | undefined;
  readonly maxResultChars: number;
  /** Tools that are not read-only return the request they would send, and send nothing. */
  readonly dryRun: boolean;
}

/** What became of a tool call, for the metrics (never shown to the model). */
export type ToolOutcomeKind = "ok" | "tool_error" | "upstream_unavailable" | "invalid_arguments" | "dry_run";

export interface ToolOutcome {
  readonly result: CallToolResult;
  readonly kind: ToolOutcomeKind;
  /** Time spent on the API, retries included, when the call went out. */
  readonly upstreamSeconds: number | undefined;
  /** The API answered 401: HTTP turns this into a challenge so the client signs in again. */
  readonly unauthorized: boolean;
  /** JSON.stringify(result), when it was made along the way (a success under the size cap). */
  readonly json: string | undefined;
}

/**
 * Every outcome is made here, so all have one shape: the handler reads them on every call, and one shape keeps
 * those reads (and this construction) monomorphic instead of copying objects of assorted shapes.
 */
function outcomeOf(
  result: CallToolResult,
  kind: ToolOutcomeKind,
  upstreamSeconds?: number,
  json?: string,
  unauthorized = false,
): ToolOutcome {
  return { result, kind, upstreamSeconds, unauthorized, json };
}

function issuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === "number" ? `${out}[${key}]` : out === "" ? String(key) : `${out}.${String(key)}`),
    "",
  );
}

function describeIssue(issue: z.core.$ZodIssue, tool: PreparedTool): string {
  const where = issuePath(issue.path);
  if (issue.code === "unrecognized_keys") {
    const known = tool.spec.args.map((a) => a.arg).join(", ") || "none";
    const keys = issue.keys.map((k) => `"${k}"`).join(", ");
    return `${where === "" ? "" : `${where}: `}unknown argument ${keys} (this tool takes: ${known})`;
  }
  let message = issue.message;
  if (issue.code === "invalid_type" && / received undefined$/.test(message)) message = "is required";
  message = message.replace(/^Invalid input: /, "");
  return where === "" ? message : `${where}: ${message}`;
}

/** The refusal of a call whose arguments are wrong: nothing was sent, and each problem names its field. */
function invalidArguments(tool: PreparedTool, problems: readonly string[]): ToolOutcome {
  return outcomeOf(
    textResult(
      `Invalid arguments for ${tool.spec.name}; nothing was sent:\n${problems.map((p) => `- ${p}`).join("\n")}`,
      true,
    ),
    "invalid_arguments",
  );
}

/**
 * Free-form object arguments (the API's open objects, such as call_settings_update's call_hours) go upstream as
 * JSON, and JSON.stringify recurses: a few thousand levels exhaust the stack. No real argument comes near this.
 */
const MAX_ARGUMENT_DEPTH = 64;

/**
 * The first of `names` whose value nests objects or arrays more than `limit` levels deep; walked without
 * recursion. The names are the tool's nestable arguments, picked once at start-up.
 */
function tooDeepArgument(
  args: Readonly<Record<string, unknown>>,
  names: readonly string[],
  limit: number,
): string | undefined {
  for (const name of names) {
    const value = args[name];
    if (typeof value !== "object" || value === null) continue;
    const pending: Array<readonly [object, number]> = [[value, 1]];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const [node, depth] = next;
      if (depth > limit) return name;
      for (const child of Array.isArray(node) ? node : Object.values(node)) {
        if (typeof child === "object" && child !== null) pending.push([child, depth + 1]);
      }
    }
  }
  return undefined;
}

/**
 * Some clients (Claude Desktop, claude.ai) now and then send an object or array argument as a JSON string, such
 * as `"variables": "{\"name\":\"Ana\"}"`. Where the schema types the argument object or array (never string),
 * a string that parses to one of those types is used as the parsed value, and then validated like any other.
 * Nothing else is coerced; a string-typed argument is never parsed (docs/decisions.md #29).
 */
function withJsonStringsParsed(tool: PreparedTool, args: unknown): unknown {
  if (tool.jsonStringArgs.length === 0 || typeof args !== "object" || args === null) return args;
  let copy: Record<string, unknown> | undefined;
  for (const { arg, object, array } of tool.jsonStringArgs) {
    const value = (args as Record<string, unknown>)[arg];
    if (typeof value !== "string") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      continue; // not JSON: validation names the field and the type it wants
    }
    const fits = Array.isArray(parsed) ? array : typeof parsed === "object" && parsed !== null && object;
    if (!fits) continue;
    copy ??= { ...(args as Record<string, unknown>) };
    copy[arg] = parsed;
  }
  return copy ?? args;
}

/** Validated arguments -> upstream request -> CallToolResult. Every failure is a result, never a throw. */
export async function forwardToolCall(tool: PreparedTool, rawArgs: unknown, ctx: CallContext): Promise<ToolOutcome> {
  const parsed = tool.validator.safeParse(withJsonStringsParsed(tool, rawArgs ?? {}));
  if (!parsed.success)
    return invalidArguments(
      tool,
      parsed.error.issues.map((issue) => describeIssue(issue, tool)),
    );
  const deep = tooDeepArgument(parsed.data, tool.nestableArgs, MAX_ARGUMENT_DEPTH);
  if (deep !== undefined)
    return invalidArguments(tool, [
      `${deep}: must not nest objects or arrays more than ${MAX_ARGUMENT_DEPTH} levels deep`,
    ]);

  let request: UpstreamRequest;
  try {
    request = buildUpstreamRequest(tool, parsed.data);
  } catch (error) {
    if (error instanceof ArgumentValueError) return invalidArguments(tool, [error.message]);
    throw error;
  }

  const log = { requestId: ctx.requestId, tool: tool.spec.name };
  const secrets = secretValues(ctx.credentials);
  if (ctx.dryRun && !tool.spec.annotations.readOnlyHint) {
    ctx.logger.info({ ...log, dryRun: true }, "tool call (dry run, nothing sent)");
    const result = dryRunResult(tool.spec.name, ctx.client.preview(request, ctx.credentials));
    // The arguments are the caller's own, but a credential pasted into one still never comes back (#35).
    return outcomeOf(secrets.length === 0 ? result : (withoutSecrets(result, secrets) as typeof result), "dry_run");
  }
  const started = performance.now();
  let response: UpstreamResponse;
  try {
    response = await ctx.client.request(request, ctx.credentials);
  } catch (error) {
    if (!(error instanceof UpstreamFailure)) throw error;
    const durationMs = Math.round(performance.now() - started);
    ctx.logger.warn(
      {
        ...log,
        failure: error.kind,
        detail: maskPhoneNumbers(scrubCredentials(error.detail, secrets)),
        durationMs,
        attempts: error.attempts,
      },
      "tool call failed upstream",
    );
    return outcomeOf(textResult(unavailableText(), true), "upstream_unavailable", durationMs / 1000);
  }
  const upstreamSeconds = (performance.now() - started) / 1000;
  if (ctx.logger.isLevelEnabled("info")) {
    const durationMs = Math.round(upstreamSeconds * 1000);
    ctx.logger.info({ ...log, status: response.status, durationMs, attempts: response.attempts }, "tool call");
  }
  try {
    return mapResponse(tool, parsed.data, response, upstreamSeconds, secrets, ctx);
  } catch (failure) {
    // JSON nested too deeply for JSON.stringify's recursion (or too long for a string): an answer we cannot pass
    // on is as unreadable as a non-JSON one (docs/decisions.md #17), and a tool error rather than a protocol error.
    if (!(failure instanceof RangeError)) throw failure;
    const upstream = upstreamForLog(response.text, secrets, argumentStrings(parsed.data));
    ctx.logger.warn(
      { ...log, status: response.status, upstream, err: failure.message },
      "upstream body cannot be passed on",
    );
    return outcomeOf(textResult(unavailableText(response.status), true), "upstream_unavailable", upstreamSeconds);
  }
}

const MIN_ARGUMENT_LOGGED = 4;

/** The call's own string values (nested ones too), longest first: kept out of the log's quote of the API. */
function argumentStrings(args: Readonly<Record<string, unknown>>): string[] {
  const out = new Set<string>();
  const pending: unknown[] = [args];
  for (let node = pending.pop(); node !== undefined && out.size < 256; node = pending.pop()) {
    if (typeof node === "string") {
      if (node.length >= MIN_ARGUMENT_LOGGED) out.add(node);
    } else if (typeof node === "object" && node !== null) {
      pending.push(...(Array.isArray(node) ? node : Object.values(node)));
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/**
 * A parsed success answer with every credential value (secretValues) replaced in its strings and keys. Only
 * called when the raw text holds one of them, or a \u escape that could spell one.
 */
function withoutSecrets(value: unknown, secrets: readonly string[]): unknown {
  const clean = (text: string): string => replaceValues(text, secrets);
  if (typeof value === "string") return clean(value);
  if (Array.isArray(value)) return value.map((item) => withoutSecrets(item, secrets));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[clean(key)] = withoutSecrets(item, secrets);
    return out;
  }
  return value;
}

function mapResponse(
  tool: PreparedTool,
  args: Readonly<Record<string, unknown>>,
  response: UpstreamResponse,
  upstreamSeconds: number,
  secrets: readonly string[],
  ctx: CallContext,
): ToolOutcome {
  const { status, text } = response;
  const failed = (message: string, kind: ToolOutcomeKind, unauthorized = false): ToolOutcome =>
    outcomeOf(textResult(message, true), kind, upstreamSeconds, undefined, unauthorized);
  if (status >= 200 && status < 300) {
    if (text.trim() === "") {
      // A tool that declares an outputSchema must return structured content; none of its fields is required.
      const ok = `OK (HTTP ${status})`;
      const result =
        tool.spec.outputSchema === undefined
          ? textResult(ok)
          : { content: [{ type: "text" as const, text: ok }], structuredContent: {} };
      return outcomeOf(result, "ok", upstreamSeconds);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      const upstream = { bodyChars: text.length };
      ctx.logger.warn(
        { requestId: ctx.requestId, tool: tool.spec.name, status, upstream },
        "upstream success body is not JSON",
      );
      return failed(unavailableText(status), "upstream_unavailable");
    }
    // The API may echo the caller's credentials; only the key tools exist to return keys (docs/decisions.md #9).
    let rewritten = false;
    if (!tool.spec.returnsSecrets && secrets.length > 0 && (containsAny(text, secrets) || text.includes("\\u"))) {
      value = withoutSecrets(value, secrets);
      rewritten = true;
    }
    // calls_list pages with limit/before; the API's default limit counts when the caller gave none.
    const paging =
      args.limit === undefined && tool.defaultLimit !== undefined ? { ...args, limit: tool.defaultLimit } : args;
    // Texts written by WhatsApp contacts: cleaned of hidden characters and marked as data (docs/decisions.md #37).
    const mark = tool.spec.untrustedText.length === 0 ? undefined : cleanUntrusted(value, tool.spec.untrustedText);
    const note = mark === undefined || mark.fields === 0 ? undefined : untrustedNote(mark);
    if (mark !== undefined && mark.removed > 0) rewritten = true;
    const apiText = !rewritten && standsForValue(text) ? text : undefined;
    const { result, json } = serialisedSuccess(value, ctx.maxResultChars, paging, note, apiText);
    return outcomeOf(result, result.isError === true ? "tool_error" : "ok", upstreamSeconds, json);
  }
  if (status === 401) return failed(UNAUTHORIZED_TEXT, "tool_error", true);
  if (status >= 500 || status < 400) {
    // The model gets "unavailable"; what the API said goes to the operator's log only.
    const upstream = upstreamForLog(text, secrets, argumentStrings(args));
    ctx.logger.warn({ requestId: ctx.requestId, tool: tool.spec.name, status, upstream }, "upstream unavailable");
    return failed(unavailableText(status), "upstream_unavailable");
  }
  return failed(clientErrorText(status, text, response.retryAfter, secrets), "tool_error");
}
