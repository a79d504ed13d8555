import type { IncomingMessage, ServerResponse } from "node:http";
import type { App } from "../../app.js";
import { errorForLog } from "../../log.js";
import type { HandleOutcome } from "../../mcp/handler.js";
import {
  byteLength,
  errorResponse,
  JSONRPC_INTERNAL_ERROR,
  type ResponseBody,
  TRANSPORT_ERROR,
} from "../../mcp/protocol.js";
import { methodLabel, type RequestLabels } from "../../metrics/metrics.js";
import type { Credentials } from "../../upstream/credentials.js";
import { hostMatcher, originMatcher } from "./guards.js";
import {
  acceptsEventStream,
  CORS_ALLOW_HEADERS,
  checkAccept,
  checkEraHeaders,
  checkHostAndOrigin,
  checkLegacyVersionHeader,
  checkMediaType,
  corsHeaders,
  credentialsOrChallenge,
  invalidTokenChallenge,
  parseBody,
  Refusal,
  readBody,
  refuse,
  selectSurface,
} from "./steps.js";

/**
 * The MCP endpoint on plain node:http: stateless streamable HTTP for both eras. Every POST is complete in itself:
 * no session id is issued or needed, nothing a request carries outlives it, so any number of replicas can serve
 * behind any load balancer. The steps are in steps.ts; this file only puts them in order.
 */

const JSON_CONTENT_TYPE = "application/json; charset=utf-8";
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

function setHeaders(res: ServerResponse, headers: Readonly<Record<string, string>>): void {
  for (const name in headers) res.setHeader(name, headers[name]!);
}

/** Plain Node writes: one string, or the precomputed byte chunks of a large answer. */
function send(
  res: ServerResponse,
  status: number,
  body: ResponseBody,
  headers: Readonly<Record<string, string>>,
): void {
  res.statusCode = status;
  setHeaders(res, headers);
  res.setHeader("content-type", JSON_CONTENT_TYPE);
  res.setHeader("content-length", byteLength(body));
  if (typeof body === "string") {
    res.end(body);
    return;
  }
  for (let i = 0; i < body.length - 1; i++) res.write(body[i]);
  res.end(body[body.length - 1]);
}

function sendRefusal(res: ServerResponse, refusal: Refusal, cors: Readonly<Record<string, string>>): void {
  send(res, refusal.status, refusal.body, { ...cors, ...refusal.headers });
}

/** Notifications first, then the response, as one SSE stream (only subscriptions/listen answers this way). */
function sendStream(
  res: ServerResponse,
  messages: readonly string[],
  body: ResponseBody,
  cors: Readonly<Record<string, string>>,
): void {
  res.statusCode = 200;
  setHeaders(res, cors);
  res.setHeader("content-type", "text/event-stream");
  res.setHeader("cache-control", "no-cache");
  res.setHeader("x-accel-buffering", "no"); // nginx: deliver events as they come
  const last = typeof body === "string" ? body : Buffer.concat(body).toString("utf8");
  res.end([...messages, last].map((m) => `event: message\ndata: ${m}\n\n`).join(""));
}

export type McpEndpoint = (req: IncomingMessage, res: ServerResponse, requestId: string) => void;

export function createMcpEndpoint(app: App, challenge: string, invalidTokenChallengeValue: string): McpEndpoint {
  const { config, handler, logger, surfaces, metrics } = app;
  const hostAllowed = hostMatcher(config.allowedHosts);
  const originAllowed = originMatcher(config.allowedOrigins);
  const fallback: Credentials | undefined =
    config.apiKey === undefined ? undefined : { apiKey: config.apiKey, apiKeyId: config.apiKeyId };

  async function post(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    cors: Readonly<Record<string, string>>,
    labels: RequestLabels | undefined,
  ): Promise<void> {
    const { headers } = req;
    const early = checkMediaType(headers) ?? checkAccept(headers);
    if (early !== undefined) return sendRefusal(res, early, cors);
    const credentials = credentialsOrChallenge(headers, fallback, challenge);
    if (credentials instanceof Refusal) return sendRefusal(res, credentials, cors);
    const raw = await readBody(req, config.maxBodyBytes);
    if (raw instanceof Refusal) return sendRefusal(res, raw, cors);
    const message = parseBody(raw);
    if (message instanceof Refusal) return sendRefusal(res, message, cors);

    const parsed = handler.parse(message);
    if (parsed.kind === "refused") return send(res, parsed.outcome.status, parsed.outcome.body, cors);
    const request = parsed.kind === "request" ? parsed.request : undefined;
    if (labels !== undefined) {
      labels.method = request === undefined ? "notification" : methodLabel(request.method);
      labels.era = parsed.kind === "ignored" ? parsed.era : parsed.request.era;
    }
    // Notifications: only the legacy version header is defined for them (2026-07-28 defines none).
    const badHeaders =
      request !== undefined
        ? checkEraHeaders(request, headers, logger, requestId)
        : parsed.kind === "ignored" && parsed.era === "legacy"
          ? checkLegacyVersionHeader(headers, undefined, "notification", logger, requestId)
          : undefined;
    if (badHeaders !== undefined) return sendRefusal(res, badHeaders, cors);
    const surface = selectSurface(headers, surfaces, request?.id);
    if (surface instanceof Refusal) return sendRefusal(res, surface, cors);
    if (request === undefined) {
      // A notification or a client's response: accepted, nothing to answer.
      res.statusCode = 202;
      setHeaders(res, cors);
      res.end();
      return;
    }

    const outcome: HandleOutcome = await handler.dispatch(request, { credentials, surface, requestId });
    if (outcome.unauthorized)
      return sendRefusal(res, invalidTokenChallenge(request.id, invalidTokenChallengeValue), cors);
    if (outcome.before === undefined) return send(res, outcome.status, outcome.body, cors);
    if (!acceptsEventStream(headers)) {
      return sendRefusal(
        res,
        refuse(406, TRANSPORT_ERROR, `Not Acceptable: ${request.method} answers as a text/event-stream`, request.id),
        cors,
      );
    }
    sendStream(res, outcome.before, outcome.body, cors);
  }

  return (req, res, requestId) => {
    const labels = metrics.httpStarted();
    if (labels !== undefined) res.once("close", () => metrics.httpFinished(labels, res.statusCode));
    const guard = checkHostAndOrigin(req.headers, hostAllowed, originAllowed);
    if (guard !== undefined) return sendRefusal(res, guard, NO_HEADERS);
    const cors = corsHeaders(req.headers.origin);
    if (req.method === "OPTIONS") {
      res.statusCode = 204;
      setHeaders(res, cors);
      res.setHeader("access-control-allow-methods", "POST, OPTIONS");
      res.setHeader("access-control-allow-headers", CORS_ALLOW_HEADERS);
      res.setHeader("access-control-max-age", "600");
      res.end();
      return;
    }
    if (req.method !== "POST") {
      const refusal = refuse(
        405,
        TRANSPORT_ERROR,
        "Method Not Allowed: this stateless server takes POST /mcp only (no SSE stream, no sessions)",
        undefined,
        {
          allow: "POST, OPTIONS",
        },
      );
      return sendRefusal(res, refusal, cors);
    }
    post(req, res, requestId, cors, labels).catch((error: unknown) => {
      // Last resort: the process never crashes on a request, and never on a client going away.
      logger.error({ requestId, err: errorForLog(error) }, "http request failed");
      if (!res.headersSent) send(res, 500, errorResponse(undefined, JSONRPC_INTERNAL_ERROR, "Internal error"), cors);
      else res.end();
    });
  };
}
