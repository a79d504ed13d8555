import { forwardToolCall } from "../forward/forward.js";
import type { Logger } from "../log.js";
import type { Surface } from "../registry/registry.js";
import type { UpstreamClient } from "../upstream/client.js";
import type { Credentials } from "../upstream/credentials.js";
import { VERSION } from "../version.js";
import {
  BATCH_NOT_SUPPORTED,
  JSONRPC_INTERNAL_ERROR,
  JSONRPC_INVALID_PARAMS,
  JSONRPC_INVALID_REQUEST,
  JSONRPC_METHOD_NOT_FOUND,
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  errorResponse,
  isObject,
  resultResponse,
  resultResponseChunks,
  type JsonRpcId,
  type ResponseBody,
  validId,
} from "./protocol.js";

/** Everything one JSON-RPC message may use: nothing here outlives the message. */
export interface MessageContext {
  readonly credentials: Credentials;
  readonly surface: Surface;
  readonly requestId?: string | undefined;
}

export interface HandleOutcome {
  /** Serialised JSON-RPC response, or undefined for notifications and client responses. */
  readonly body: ResponseBody | undefined;
  /** A tool call met an upstream 401. */
  readonly unauthorized: boolean;
}

export interface HandlerDeps {
  readonly client: UpstreamClient;
  readonly logger: Logger;
  readonly maxResultChars: number;
}

const INSTRUCTIONS = [
  "Tools for the Pilot Status WhatsApp platform. They act on a real WhatsApp account: sends, calls, group changes",
  "and purchases really happen, so confirm with the user before any tool that is not read-only.",
  "Number-scoped tools act on one WhatsApp number: a number-scoped key picks it; with a tenant key or an OAuth",
  "grant pass whatsappNumberId (numbers_list shows the ids). Account tools (numbers_*, api_keys_*, branding_*,",
  "subscription_*, billing_checkout) need a tenant-scoped key.",
].join(" ");

const NO_OUTCOME: HandleOutcome = { body: undefined, unauthorized: false };
const ok = (body: ResponseBody): HandleOutcome => ({ body, unauthorized: false });

/**
 * The MCP server logic, shared by both transports: a JSON-RPC message in, a serialised response out. Answers
 * that do not depend on the request (initialize, tools/list) are serialised once.
 */
export class McpHandler {
  private readonly initializeResults = new Map<string, string>();

  constructor(private readonly deps: HandlerDeps) {
    for (const version of SUPPORTED_PROTOCOL_VERSIONS) {
      this.initializeResults.set(
        version,
        JSON.stringify({
          protocolVersion: version,
          capabilities: { tools: { listChanged: false } },
          serverInfo: { name: "pilot-status-mcp", title: "Pilot Status", version: VERSION },
          instructions: INSTRUCTIONS,
        }),
      );
    }
  }

  async handle(message: unknown, ctx: MessageContext): Promise<HandleOutcome> {
    if (Array.isArray(message)) {
      return ok(errorResponse(null, JSONRPC_INVALID_REQUEST, BATCH_NOT_SUPPORTED));
    }
    if (!isObject(message) || message.jsonrpc !== "2.0") {
      const id = isObject(message) && validId(message.id) ? message.id : null;
      return ok(errorResponse(id, JSONRPC_INVALID_REQUEST, 'Invalid Request: expected a JSON-RPC 2.0 object with "jsonrpc": "2.0"'));
    }
    const { method, id } = message;
    if (typeof method !== "string") {
      // A response from the client (we never send requests) or garbage without a method.
      if ("result" in message || "error" in message) return NO_OUTCOME;
      return ok(errorResponse(validId(id) ? id : null, JSONRPC_INVALID_REQUEST, 'Invalid Request: "method" must be a string'));
    }
    if (id === undefined) return NO_OUTCOME; // notification: nothing to answer
    if (!validId(id)) return ok(errorResponse(null, JSONRPC_INVALID_REQUEST, 'Invalid Request: "id" must be a string or a number'));
    if (message.params !== undefined && !isObject(message.params)) {
      return ok(errorResponse(id, JSONRPC_INVALID_PARAMS, 'Invalid params: "params" must be an object'));
    }
    const params = (message.params ?? {}) as Record<string, unknown>;

    try {
      return await this.route(method, id, params, ctx);
    } catch (error) {
      this.deps.logger.error({ requestId: ctx.requestId, method, err: String((error as Error)?.stack ?? error) }, "internal error");
      return ok(errorResponse(id, JSONRPC_INTERNAL_ERROR, "Internal error"));
    }
  }

  private async route(method: string, id: string | number, params: Record<string, unknown>, ctx: MessageContext): Promise<HandleOutcome> {
    switch (method) {
      case "initialize": {
        const requested = params.protocolVersion;
        const version = typeof requested === "string" && this.initializeResults.has(requested) ? requested : LATEST_PROTOCOL_VERSION;
        return ok(resultResponse(id, this.initializeResults.get(version)!));
      }
      case "ping":
        return ok(resultResponse(id, "{}"));
      case "tools/list":
        return ok(resultResponseChunks(id, ctx.surface.listResultBytes));
      case "tools/call":
        return this.callTool(id, params, ctx);
      default:
        return ok(errorResponse(id, JSONRPC_METHOD_NOT_FOUND, `Method not found: ${method.slice(0, 100)}`));
    }
  }

  private async callTool(id: JsonRpcId, params: Record<string, unknown>, ctx: MessageContext): Promise<HandleOutcome> {
    const name = params.name;
    if (typeof name !== "string") return ok(errorResponse(id, JSONRPC_INVALID_PARAMS, 'Invalid params: "name" must be a string'));
    const tool = ctx.surface.tools.get(name);
    if (!tool) return ok(errorResponse(id, JSONRPC_INVALID_PARAMS, `Unknown tool: ${name.slice(0, 100)}`));
    const args = params.arguments;
    if (args !== undefined && args !== null && !isObject(args)) {
      return ok(errorResponse(id, JSONRPC_INVALID_PARAMS, 'Invalid params: "arguments" must be an object'));
    }
    const outcome = await forwardToolCall(tool, args ?? {}, {
      credentials: ctx.credentials,
      client: this.deps.client,
      logger: this.deps.logger,
      requestId: ctx.requestId,
      maxResultChars: this.deps.maxResultChars,
    });
    return { body: resultResponse(id, JSON.stringify(outcome.result)), unauthorized: outcome.unauthorized };
  }
}
