import { forwardToolCall } from "../forward/forward.js";
import { errorForLog, type Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import type { Surface } from "../registry/registry.js";
import type { UpstreamClient } from "../upstream/client.js";
import type { Credentials } from "../upstream/credentials.js";
import { discoverResultJson, initializeAnswers, modernResultJson, modernToolsListBytes } from "./answers.js";
import {
  type Era,
  eraOf,
  LATEST_LEGACY_PROTOCOL_VERSION,
  META,
  modernMetaProblem,
  modernVersionOf,
  type ProtocolError,
  unsupportedVersion,
} from "./eras.js";
import {
  BATCH_NOT_SUPPORTED,
  errorResponse,
  isObject,
  JSONRPC_INTERNAL_ERROR,
  JSONRPC_INVALID_PARAMS,
  JSONRPC_INVALID_REQUEST,
  JSONRPC_METHOD_NOT_FOUND,
  type JsonRpcId,
  notification,
  type ResponseBody,
  resultResponse,
  resultResponseChunks,
  validId,
} from "./protocol.js";

/** Everything one JSON-RPC message may use: nothing here outlives the message. */
export interface MessageContext {
  readonly credentials: Credentials;
  readonly surface: Surface;
  readonly requestId?: string | undefined;
}

export interface HandleOutcome {
  /** The serialised JSON-RPC response (notifications and client responses get no outcome at all). */
  readonly body: ResponseBody;
  /** Notifications to deliver before the response (an SSE stream over HTTP, lines over stdio). */
  readonly before?: readonly string[];
  /** The HTTP status the answer calls for: 2026-07-28 gives some errors 400 or 404. stdio ignores it. */
  readonly status: number;
  /** A tool call met an upstream 401. */
  readonly unauthorized: boolean;
}

/** A JSON-RPC request that passed the framing checks, with its era decided. */
export interface McpRequest {
  readonly id: string | number;
  readonly method: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly era: Era;
  /** The version a modern request names in its `_meta` (legacy requests carry none). */
  readonly version?: string | undefined;
}

/** What a message turned out to be: a request to dispatch, one to ignore, or a refusal to send at once. */
export type ParsedMessage =
  | { readonly kind: "request"; readonly request: McpRequest }
  | { readonly kind: "ignored"; readonly era: Era }
  | { readonly kind: "refused"; readonly outcome: HandleOutcome };

export interface HandlerDeps {
  readonly client: UpstreamClient;
  readonly metrics?: Metrics | undefined;
  readonly logger: Logger;
  readonly maxResultChars: number;
}

type Method = (request: McpRequest, ctx: MessageContext) => HandleOutcome | Promise<HandleOutcome>;

const IGNORED_RESPONSE: ParsedMessage = { kind: "ignored", era: "legacy" };

const answer = (body: ResponseBody, status = 200): HandleOutcome => ({ body, status, unauthorized: false });

/** An error answer; in the modern era over HTTP some errors have a status of their own (see httpStatusFor). */
export function errorOutcome(id: JsonRpcId, error: ProtocolError, status = 200): HandleOutcome {
  return answer(errorResponse(id, error.code, error.message, error.data), status);
}

/**
 * The HTTP status of a modern-era refusal (2026-07-28, streamable HTTP): malformed `_meta` and unsupported
 * versions are 400; an unknown or removed method is 404, so a client tells it from a legacy server's answer.
 */
function modernStatus(error: ProtocolError): number {
  return error.code === JSONRPC_METHOD_NOT_FOUND ? 404 : 400;
}

function refused(id: JsonRpcId, code: number, message: string): ParsedMessage {
  return { kind: "refused", outcome: answer(errorResponse(id, code, message)) };
}

/**
 * The MCP server logic, shared by both transports: a JSON-RPC message in, a serialised answer out, with one
 * method table per era. Answers that do not depend on the request are serialised once.
 */
export class McpHandler {
  /** By dry run off/on: the instructions say when it is on. */
  private readonly initializeResults = [initializeAnswers(false), initializeAnswers(true)] as const;
  private readonly discoverResults = new WeakMap<Surface, string>();
  private readonly modernLists = new WeakMap<Surface, Buffer>();

  private readonly legacyMethods: Readonly<Record<string, Method>> = {
    initialize: (request, ctx) => {
      const answers = this.initializeResults[ctx.surface.dryRun ? 1 : 0];
      const requested = request.params.protocolVersion;
      const version =
        typeof requested === "string" && answers.has(requested) ? requested : LATEST_LEGACY_PROTOCOL_VERSION;
      return answer(resultResponse(request.id, answers.get(version)!));
    },
    ping: (request) => answer(resultResponse(request.id, "{}")),
    "tools/list": (request, ctx) => answer(resultResponseChunks(request.id, ctx.surface.listResultBytes)),
    "tools/call": (request, ctx) => this.callTool(request, ctx),
  };

  private readonly modernMethods: Readonly<Record<string, Method>> = {
    "server/discover": (request, ctx) =>
      answer(resultResponse(request.id, this.cached(this.discoverResults, ctx.surface, discoverResultJson))),
    "tools/list": (request, ctx) =>
      answer(resultResponseChunks(request.id, this.cached(this.modernLists, ctx.surface, modernToolsListBytes))),
    "tools/call": (request, ctx) => this.callTool(request, ctx),
    "subscriptions/listen": (request) => listenWithoutSubscriptions(request.id),
  };

  constructor(private readonly deps: HandlerDeps) {}

  /** parse, then dispatch: what a transport without headers of its own (stdio) does with each message. */
  async handle(message: unknown, ctx: MessageContext): Promise<HandleOutcome | undefined> {
    const parsed = this.parse(message);
    if (parsed.kind === "ignored") return undefined;
    if (parsed.kind === "refused") return parsed.outcome;
    return this.dispatch(parsed.request, ctx);
  }

  /**
   * The JSON-RPC framing checks, the era, and for a modern request its `_meta`. Notifications and client
   * responses are ignored (this server sends no requests, and no notification needs an answer).
   */
  parse(message: unknown): ParsedMessage {
    if (Array.isArray(message)) return refused(undefined, JSONRPC_INVALID_REQUEST, BATCH_NOT_SUPPORTED);
    if (!isObject(message) || message.jsonrpc !== "2.0") {
      const id = isObject(message) && validId(message.id) ? message.id : undefined;
      return refused(
        id,
        JSONRPC_INVALID_REQUEST,
        'Invalid Request: expected a JSON-RPC 2.0 object with "jsonrpc": "2.0"',
      );
    }
    const { method, id } = message;
    if (typeof method !== "string") {
      if ("result" in message || "error" in message) return IGNORED_RESPONSE; // a response from the client
      return refused(
        validId(id) ? id : undefined,
        JSONRPC_INVALID_REQUEST,
        'Invalid Request: "method" must be a string',
      );
    }
    if (id === undefined)
      return { kind: "ignored", era: eraOf(method, isObject(message.params) ? message.params : {}) }; // a notification
    if (!validId(id))
      return refused(undefined, JSONRPC_INVALID_REQUEST, 'Invalid Request: "id" must be a string or a number');
    if (message.params !== undefined && !isObject(message.params)) {
      return refused(id, JSONRPC_INVALID_PARAMS, 'Invalid params: "params" must be an object');
    }
    const params = (message.params ?? {}) as Record<string, unknown>;
    const era = eraOf(method, params);
    if (era === "legacy") return { kind: "request", request: { id, method, params, era } };
    const problem = modernMetaProblem(params);
    if (problem !== undefined) return { kind: "refused", outcome: errorOutcome(id, problem, modernStatus(problem)) };
    return { kind: "request", request: { id, method, params, era, version: modernVersionOf(params) } };
  }

  /**
   * Runs a parsed request with its era's method table; a modern request must name a version we speak. Never
   * throws: a failure is an Internal error answer.
   */
  async dispatch(request: McpRequest, ctx: MessageContext): Promise<HandleOutcome> {
    if (request.version !== undefined) {
      const problem = unsupportedVersion(request.version);
      if (problem !== undefined) return errorOutcome(request.id, problem, modernStatus(problem));
    }
    const methods = request.era === "modern" ? this.modernMethods : this.legacyMethods;
    const method = Object.hasOwn(methods, request.method) ? methods[request.method] : undefined;
    if (method === undefined) {
      const error = { code: JSONRPC_METHOD_NOT_FOUND, message: `Method not found: ${request.method.slice(0, 100)}` };
      return errorOutcome(request.id, error, request.era === "modern" ? modernStatus(error) : 200);
    }
    try {
      return await method(request, ctx);
    } catch (error) {
      this.deps.logger.error(
        { requestId: ctx.requestId, method: request.method, err: errorForLog(error, ctx.credentials) },
        "internal error",
      );
      return answer(errorResponse(request.id, JSONRPC_INTERNAL_ERROR, "Internal error"));
    }
  }

  private cached<T>(cache: WeakMap<Surface, T>, surface: Surface, build: (surface: Surface) => T): T {
    let value = cache.get(surface);
    if (value === undefined) {
      value = build(surface);
      cache.set(surface, value);
    }
    return value;
  }

  private async callTool(request: McpRequest, ctx: MessageContext): Promise<HandleOutcome> {
    const { id, params } = request;
    const name = params.name;
    if (typeof name !== "string")
      return answer(errorResponse(id, JSONRPC_INVALID_PARAMS, 'Invalid params: "name" must be a string'));
    const tool = ctx.surface.tools.get(name);
    if (!tool) return answer(errorResponse(id, JSONRPC_INVALID_PARAMS, `Unknown tool: ${name.slice(0, 100)}`));
    const args = params.arguments;
    if (args !== undefined && args !== null && !isObject(args)) {
      return answer(errorResponse(id, JSONRPC_INVALID_PARAMS, 'Invalid params: "arguments" must be an object'));
    }
    const outcome = await forwardToolCall(tool, args ?? {}, {
      credentials: ctx.credentials,
      client: this.deps.client,
      logger: this.deps.logger,
      requestId: ctx.requestId,
      maxResultChars: this.deps.maxResultChars,
      dryRun: ctx.surface.dryRun,
    });
    this.deps.metrics?.toolCall(name, outcome.kind, outcome.upstreamSeconds);
    const resultJson = outcome.json ?? JSON.stringify(outcome.result);
    const body = resultResponse(id, request.era === "modern" ? modernResultJson(resultJson) : resultJson);
    return { body, status: 200, unauthorized: outcome.unauthorized };
  }
}

/**
 * subscriptions/listen on a server that offers no subscriptions (its tool list never changes): the
 * acknowledgement first, honouring none of the requested notification types, then at once the graceful end of
 * the subscription, so no stream is held open for notifications that will never come.
 */
function listenWithoutSubscriptions(id: string | number): HandleOutcome {
  const subscription = { [META.subscriptionId]: id };
  const acknowledged = notification(
    "notifications/subscriptions/acknowledged",
    JSON.stringify({ _meta: subscription, notifications: {} }),
  );
  const closed = modernResultJson("{}", "", subscription);
  return { body: resultResponse(id, closed), before: [acknowledged], status: 200, unauthorized: false };
}
