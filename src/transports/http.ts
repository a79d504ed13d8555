import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Request, type Response } from "express";
import type { App } from "../app.js";
import {
  BATCH_NOT_SUPPORTED,
  JSONRPC_INTERNAL_ERROR,
  JSONRPC_INVALID_REQUEST,
  JSONRPC_PARSE_ERROR,
  SUPPORTED_PROTOCOL_VERSIONS,
  byteLength,
  errorResponse,
  type ResponseBody,
} from "../mcp/protocol.js";
import type { Surface } from "../registry/registry.js";
import { SelectionError, parseFlag, parseList } from "../registry/selection.js";
import { credentialsFromHeaders, type Credentials } from "../upstream/credentials.js";
import { VERSION } from "../version.js";
import { DOCS_URL, serverCard } from "./discovery.js";
import { Drain, drainAndClose } from "./drain.js";
import { hostMatcher, originMatcher, requestIdFrom } from "./http-guards.js";

/**
 * Stateless streamable HTTP: every POST /mcp is complete in itself. No session id is issued or needed, nothing a
 * request carries outlives it, so any number of replicas can serve behind any load balancer.
 */

const JSON_TYPE = "application/json";
const CORS_ALLOW_HEADERS = [
  "content-type",
  "accept",
  "authorization",
  "x-api-key",
  "x-api-key-id",
  "mcp-protocol-version",
  "x-request-id",
  "x-mcp-toolsets",
  "x-mcp-tools",
  "x-mcp-exclude-tools",
  "x-mcp-readonly",
].join(", ");
// Protocol errors that carry no request id use -32000, the SDK's "server error" for transport-level refusals.
const TRANSPORT_ERROR = -32000;
const UNAUTHORIZED_ERROR = -32001;

interface Locals {
  requestId: string;
}

function locals(res: Response): Locals {
  return res.locals as Locals;
}

/** Plain Node write: the hot path needs none of express's send() (etag, freshness, type lookup). */
function sendJson(res: Response, status: number, body: ResponseBody): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("content-length", byteLength(body));
  if (typeof body === "string") {
    res.end(body);
    return;
  }
  for (let i = 0; i < body.length - 1; i++) res.write(body[i]);
  res.end(body[body.length - 1]);
}

function sendJsonRpcError(res: Response, status: number, code: number, message: string, id: string | number | null = null): void {
  sendJson(res, status, errorResponse(id, code, message));
}

/** The protected-resource metadata URL for a resource (RFC 9728 §3.1: well-known segment before the path). */
export function resourceMetadataUrl(resourceUrl: string): string {
  const url = new URL(resourceUrl);
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/+$/, "");
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

/**
 * Why a body cannot be read as JSON-RPC, or undefined when it can: the media type must be application/json, in
 * UTF-8 (RFC 8259; a declared charset other than utf-8 would be decoded wrongly), and not compressed (a gzip body
 * read as JSON would only give a misleading parse error).
 */
function unsupportedBody(contentType: string | undefined, contentEncoding: string | undefined): { reason: string; coding?: true } | undefined {
  const [mediaType = "", ...params] = (contentType ?? "").split(";");
  if (mediaType.trim().toLowerCase() !== JSON_TYPE) return { reason: "Content-Type must be application/json" };
  for (const param of params) {
    const [name = "", value = ""] = param.split("=", 2).map((part) => part.trim().toLowerCase());
    if (name === "charset" && !["utf-8", "utf8", '"utf-8"'].includes(value)) return { reason: "the JSON must be UTF-8 (charset=utf-8)" };
  }
  const coding = (contentEncoding ?? "").trim().toLowerCase();
  if (coding !== "" && coding !== "identity") {
    return { reason: `Content-Encoding ${coding.slice(0, 40)} is not supported; send the JSON uncompressed`, coding: true };
  }
  return undefined;
}

function readBody(req: Request, limit: number): Promise<Buffer | "too_large"> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve("too_large");
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off("data", onData);
      req.resume(); // let the rest drain; the answer closes the connection
      resolve("too_large");
    };
    req.on("data", onData);
    req.on("end", () => {
      if (size <= limit) resolve(Buffer.concat(chunks, size));
    });
    req.on("error", reject);
  });
}

export function createHttpApp(app: App, drain: Drain = new Drain()): express.Express {
  const { config, handler, logger } = app;
  const metadataUrl = resourceMetadataUrl(config.resourceUrl);
  const metadataPaths = [...new Set(["/.well-known/oauth-protected-resource", new URL(metadataUrl).pathname])];
  const metadataJson = JSON.stringify({
    resource: config.resourceUrl,
    authorization_servers: [config.authServerUrl],
    bearer_methods_supported: ["header"],
    resource_name: "Pilot Status MCP server",
    resource_documentation: DOCS_URL,
  });
  const serverCardJson = JSON.stringify(serverCard(config, app.surface, metadataUrl));
  const healthJson = JSON.stringify({ status: "ok", version: VERSION });
  const challenge = `Bearer resource_metadata="${metadataUrl}"`;
  const invalidTokenChallenge = `Bearer error="invalid_token", resource_metadata="${metadataUrl}"`;
  const hostAllowed = hostMatcher(config.allowedHosts);
  const originAllowed = originMatcher(config.allowedOrigins);
  const fallback: Credentials | undefined =
    config.apiKey === undefined ? undefined : { apiKey: config.apiKey, apiKeyId: config.apiKeyId };

  /** X-MCP-* headers narrow the configured surface for this request only; they can never widen it. */
  const surfaceFor = (req: Request): Surface => {
    const h = req.headers;
    const toolsets = parseList(h["x-mcp-toolsets"]);
    const tools = parseList(h["x-mcp-tools"]);
    const excludeTools = parseList(h["x-mcp-exclude-tools"]);
    const readOnly = parseFlag(h["x-mcp-readonly"]);
    if (toolsets === undefined && tools === undefined && excludeTools === undefined && readOnly === undefined) return app.surface;
    return app.surfaces.narrowed({ toolsets, tools, excludeTools, readOnly });
  };

  /** DNS-rebinding protection and CORS for /mcp, before anything else looks at the request. */
  const guard = (req: Request, res: Response): boolean => {
    if (!hostAllowed(req.headers.host)) {
      sendJsonRpcError(res, 403, TRANSPORT_ERROR, "Forbidden: Host header not allowed");
      return false;
    }
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!originAllowed(origin)) {
        sendJsonRpcError(res, 403, TRANSPORT_ERROR, "Forbidden: Origin not allowed");
        return false;
      }
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("access-control-expose-headers", "www-authenticate, x-request-id");
      res.setHeader("vary", "Origin");
    }
    return true;
  };

  const web = express();
  web.disable("x-powered-by");
  web.disable("etag");

  web.use((req, res, next) => {
    const requestId = requestIdFrom(req.headers["x-request-id"], randomUUID);
    locals(res).requestId = requestId;
    res.setHeader("x-request-id", requestId);
    drain.track(res);
    next();
  });

  web.options("/mcp", (req, res) => {
    if (!guard(req, res)) return;
    res.set({ "access-control-allow-methods": "POST, OPTIONS", "access-control-allow-headers": CORS_ALLOW_HEADERS, "access-control-max-age": "600" });
    res.status(204).end();
  });

  web.post("/mcp", async (req, res) => {
    if (!guard(req, res)) return;
    const requestId = locals(res).requestId;
    const unsupported = unsupportedBody(req.headers["content-type"], req.headers["content-encoding"]);
    if (unsupported !== undefined) {
      // RFC 9110 15.5.16: a 415 for a content coding names the codings accepted.
      if (unsupported.coding) res.setHeader("accept-encoding", "identity");
      sendJsonRpcError(res, 415, TRANSPORT_ERROR, `Unsupported Media Type: ${unsupported.reason}`);
      return;
    }
    const accept = req.headers.accept;
    if (accept !== undefined && !/application\/json|\*\/\*|application\/\*/i.test(accept)) {
      sendJsonRpcError(res, 406, TRANSPORT_ERROR, "Not Acceptable: this server answers with application/json");
      return;
    }
    const protocolVersion = req.headers["mcp-protocol-version"];
    if (typeof protocolVersion === "string" && !(SUPPORTED_PROTOCOL_VERSIONS as readonly string[]).includes(protocolVersion)) {
      sendJsonRpcError(res, 400, TRANSPORT_ERROR, `Bad Request: unsupported MCP-Protocol-Version ${protocolVersion.slice(0, 40)}`);
      return;
    }

    // Credentials before any MCP processing: none at all means the client should start OAuth.
    const credentials = credentialsFromHeaders(req.headers) ?? fallback;
    if (credentials === undefined) {
      res.setHeader("www-authenticate", challenge);
      sendJsonRpcError(res, 401, UNAUTHORIZED_ERROR, "Unauthorized: send x-api-key or Authorization: Bearer");
      return;
    }

    const raw = await readBody(req, config.maxBodyBytes);
    if (raw === "too_large") {
      res.setHeader("connection", "close");
      sendJsonRpcError(res, 413, TRANSPORT_ERROR, `Payload Too Large: the limit is ${config.maxBodyBytes} bytes`);
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(raw.toString("utf8"));
    } catch {
      sendJsonRpcError(res, 400, JSONRPC_PARSE_ERROR, "Parse error: the body is not valid JSON");
      return;
    }
    if (Array.isArray(message)) {
      sendJsonRpcError(res, 400, JSONRPC_INVALID_REQUEST, BATCH_NOT_SUPPORTED);
      return;
    }

    let surface: Surface;
    try {
      surface = surfaceFor(req);
    } catch (error) {
      if (!(error instanceof SelectionError)) throw error;
      sendJsonRpcError(res, 400, JSONRPC_INVALID_REQUEST, `Bad Request: ${error.message}`);
      return;
    }

    const outcome = await handler.handle(message, { credentials, surface, requestId });
    if (outcome.unauthorized) {
      const id = (message as { id?: string | number }).id ?? null;
      res.setHeader("www-authenticate", invalidTokenChallenge);
      sendJsonRpcError(res, 401, UNAUTHORIZED_ERROR, "Unauthorized: the Pilot Status API rejected the credentials; sign in again", id);
      return;
    }
    if (outcome.body === undefined) {
      res.status(202).end();
      return;
    }
    sendJson(res, 200, outcome.body);
  });

  web.all("/mcp", (req, res) => {
    if (!guard(req, res)) return;
    res.setHeader("allow", "POST, OPTIONS");
    sendJsonRpcError(res, 405, TRANSPORT_ERROR, "Method Not Allowed: this stateless server takes POST /mcp only (no SSE stream, no sessions)");
  });

  web.get("/health", (_req, res) => {
    res.type(JSON_TYPE).send(healthJson);
  });

  const publicDocuments: Array<[path: string, json: string]> = [
    ...metadataPaths.map((path): [string, string] => [path, metadataJson]),
    ["/.well-known/mcp.json", serverCardJson],
    ["/.well-known/mcp/server-card.json", serverCardJson],
  ];
  for (const [path, json] of publicDocuments) {
    web.options(path, (_req, res) => {
      res.set({ "access-control-allow-origin": "*", "access-control-allow-methods": "GET, OPTIONS", "access-control-allow-headers": "*" });
      res.status(204).end();
    });
    web.get(path, (_req, res) => {
      res.set({ "access-control-allow-origin": "*", "cache-control": "public, max-age=3600" });
      res.type(JSON_TYPE).send(json);
    });
  }

  web.use((_req, res) => {
    res.status(404).type(JSON_TYPE).send(JSON.stringify({ error: "Not found" }));
  });

  // Last resort: an error inside express itself. The process never crashes on a request.
  web.use((error: unknown, _req: Request, res: Response, _next: express.NextFunction) => {
    logger.error({ requestId: locals(res).requestId, err: String(error) }, "http request failed");
    if (!res.headersSent) sendJsonRpcError(res, 500, JSONRPC_INTERNAL_ERROR, "Internal error");
    else res.end();
  });

  return web;
}

export interface RunningHttpServer {
  readonly server: Server;
  readonly url: string;
  /** Stop accepting, let in-flight requests finish (bounded by the grace time), close the upstream pool. */
  close(): Promise<void>;
}

export async function startHttpServer(app: App, port = app.config.port, host = app.config.host): Promise<RunningHttpServer> {
  const drain = new Drain();
  const web = createHttpApp(app, drain);
  const server = web.listen(port, host);
  drain.watch(server);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  // Longer than a balancer's idle keep-alive (nginx: 60 s), so the balancer, not us, closes idle connections and
  // never sends a request into a socket we are closing.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    server,
    url: `http://${shownHost}:${address.port}`,
    close() {
      closing ??= (async () => {
        await drainAndClose(server, drain, app.config.shutdownGraceMs);
        await app.close();
      })();
      return closing;
    },
  };
}

export async function serveHttp(app: App): Promise<void> {
  await app.client.warm();
  const running = await startHttpServer(app);
  app.logger.info({ url: running.url, resource: app.config.resourceUrl, tools: app.surface.tools.size }, "listening");
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      app.logger.info({ signal }, "shutting down: finishing in-flight requests");
      void running.close().then(resolve);
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  app.logger.info("stopped");
  app.logger.flush();
}
