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

/**
 * The head of every /mcp answer, in one writeHead call with a flat list: the request id, the CORS headers, and
 * the answer's own. Nothing goes through setHeader first, so Node writes the list as it is instead of keeping a
 * header table for each response (the hot path; the edges on express set their headers as express does).
 */
function writeHead(
  res: ServerResponse,
  status: number,
  requestId: string,
  cors: Readonly<Record<string, string>>,
  headers: readonly string[],
  extra?: Readonly<Record<string, string>>,
): void {
  const flat = ["x-request-id", requestId, ...headers];
  for (const name in cors) flat.push(name, cors[name]!);
  if (extra !== undefined) for (const name in extra) flat.push(name, extra[name]!);
  res.writeHead(status, flat);
}

/** Plain Node writes: one string, or the precomputed byte chunks of a large answer. */
function send(
  res: ServerResponse,
  requestId: string,
  status: number,
  body: ResponseBody,
  cors: Readonly<Record<string, string>>,
  extra?: Readonly<Record<string, string>>,
): void {
  writeHead(
    res,
    status,
    requestId,
    cors,
    ["content-type", JSON_CONTENT_TYPE, "content-length", String(byteLength(body))],
    extra,
  );
  if (typeof body === "string") {
    res.end(body);
    return;
  }
  for (let i = 0; i < body.length - 1; i++) res.write(body[i]);
  res.end(body[body.length - 1]);
}

function sendRefusal(
  res: ServerResponse,
  requestId: string,
  refusal: Refusal,
  cors: Readonly<Record<string, string>>,
): void {
  send(res, requestId, refusal.status, refusal.body, cors, refusal.headers);
}

/** Notifications first, then the response, as one SSE stream (only subscriptions/listen answers this way). */
function sendStream(
  res: ServerResponse,
  requestId: string,
  messages: readonly string[],
  body: ResponseBody,
  cors: Readonly<Record<string, string>>,
): void {
  writeHead(res, 200, requestId, cors, [
    "content-type",
    "text/event-stream",
    "cache-control",
    "no-cache",
    "x-accel-buffering",
    "no", // nginx: deliver events as they come
  ]);
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
    if (early !== undefined) return sendRefusal(res, requestId, early, cors);
    const credentials = credentialsOrChallenge(headers, fallback, challenge);
    if (credentials instanceof Refusal) return sendRefusal(res, requestId, credentials, cors);
    const raw = await readBody(req, config.maxBodyBytes);
    if (raw instanceof Refusal) return sendRefusal(res, requestId, raw, cors);
    const message = parseBody(raw);
    if (message instanceof Refusal) return sendRefusal(res, requestId, message, cors);

    const parsed = handler.parse(message);
    if (parsed.kind === "refused") return send(res, requestId, parsed.outcome.status, parsed.outcome.body, cors);
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
    if (badHeaders !== undefined) return sendRefusal(res, requestId, badHeaders, cors);
    const surface = selectSurface(headers, surfaces, request?.id);
    if (surface instanceof Refusal) return sendRefusal(res, requestId, surface, cors);
    if (request === undefined) {
      // A notification or a client's response: accepted, nothing to answer.
      writeHead(res, 202, requestId, cors, []);
      res.end();
      return;
    }

    const outcome: HandleOutcome = await handler.dispatch(request, { credentials, surface, requestId });
    if (outcome.unauthorized)
      return sendRefusal(res, requestId, invalidTokenChallenge(request.id, invalidTokenChallengeValue), cors);
    if (outcome.before === undefined) return send(res, requestId, outcome.status, outcome.body, cors);
    if (!acceptsEventStream(headers)) {
      return sendRefusal(
        res,
        requestId,
        refuse(406, TRANSPORT_ERROR, `Not Acceptable: ${request.method} answers as a text/event-stream`, request.id),
        cors,
      );
    }
    sendStream(res, requestId, outcome.before, outcome.body, cors);
  }

  return (req, res, requestId) => {
    const labels = metrics.httpStarted();
    if (labels !== undefined) res.once("close", () => metrics.httpFinished(labels, res.statusCode));
    const guard = checkHostAndOrigin(req.headers, hostAllowed, originAllowed);
    if (guard !== undefined) return sendRefusal(res, requestId, guard, NO_HEADERS);
    const cors = corsHeaders(req.headers.origin);
    if (req.method === "OPTIONS") {
      writeHead(res, 204, requestId, cors, [
        "access-control-allow-methods",
        "POST, OPTIONS",
        "access-control-allow-headers",
        CORS_ALLOW_HEADERS,
        "access-control-max-age",
        "600",
      ]);
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
      return sendRefusal(res, requestId, refusal, cors);
    }
    post(req, res, requestId, cors, labels).catch((error: unknown) => {
      // Last resort: the process never crashes on a request, and never on a client going away.
      logger.error({ requestId, err: errorForLog(error) }, "http request failed");
      if (!res.headersSent)
        send(res, requestId, 500, errorResponse(undefined, JSONRPC_INTERNAL_ERROR, "Internal error"), cors);
      else res.end();
    });
  };
}
