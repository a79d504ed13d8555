import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import express, { type Request, type Response } from "express";
import type { App } from "../../app.js";
import { VERSION } from "../../identity.js";
import { errorForLog } from "../../log.js";
import { errorResponse, JSONRPC_INTERNAL_ERROR } from "../../mcp/protocol.js";
import { listen } from "../listen.js";
import { type RunningMetricsServer, startMetricsServer } from "../metrics-server.js";
import { DOCS_URL, serverCard } from "./discovery.js";
import { Drain, drainAndClose } from "./drain.js";
import { requestIdFrom } from "./guards.js";
import { createMcpEndpoint } from "./mcp-endpoint.js";

const JSON_TYPE = "application/json";

/** The protected-resource metadata URL for a resource (RFC 9728 §3.1: well-known segment before the path). */
export function resourceMetadataUrl(resourceUrl: string): string {
  const url = new URL(resourceUrl);
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/+$/, "");
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

/**
 * Everything but /mcp, on express: liveness, the RFC 9728 metadata, the server card, 404s. None of it is on the
 * hot path, so express's routing costs nothing that matters here (docs/decisions.md #30).
 */
function createEdges(app: App, metadataUrl: string, drain: Drain): express.Express {
  const { config, logger } = app;
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
  const readyJson = JSON.stringify({ status: "ready", version: VERSION });
  const stoppingJson = JSON.stringify({ status: "stopping", version: VERSION });

  const web = express();
  web.disable("x-powered-by");
  web.disable("etag");

  // Liveness: the process answers. No upstream call, so a slow API never gets replicas restarted.
  web.get("/health", (_req, res) => {
    res.type(JSON_TYPE).send(healthJson);
  });

  // Readiness: taking traffic until shutdown begins; then 503, so an orchestrator routes elsewhere while the
  // requests in flight finish (docs/decisions.md #33).
  web.get("/ready", (_req, res) => {
    res.set("cache-control", "no-store");
    if (drain.stopping) res.status(503).type(JSON_TYPE).send(stoppingJson);
    else res.type(JSON_TYPE).send(readyJson);
  });

  const publicDocuments: Array<[path: string, json: string]> = [
    ...metadataPaths.map((path): [string, string] => [path, metadataJson]),
    ["/.well-known/mcp.json", serverCardJson],
    ["/.well-known/mcp/server-card.json", serverCardJson],
  ];
  for (const [path, json] of publicDocuments) {
    web.options(path, (_req, res) => {
      res.set({
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "GET, OPTIONS",
        "access-control-allow-headers": "*",
      });
      res.status(204).end();
    });
    web.get(path, (_req, res) => {
      res.set({ "access-control-allow-origin": "*", "cache-control": "public, max-age=3600" });
      res.type(JSON_TYPE).send(json);
    });
  }

  web.use((_req, res) => {
    res
      .status(404)
      .type(JSON_TYPE)
      .send(JSON.stringify({ error: "Not found" }));
  });

  // Last resort: an error inside express itself. The process never crashes on a request.
  web.use((error: unknown, _req: Request, res: Response, _next: express.NextFunction) => {
    logger.error({ requestId: res.getHeader("x-request-id"), err: errorForLog(error) }, "http request failed");
    if (!res.headersSent)
      res
        .status(500)
        .type(JSON_TYPE)
        .send(errorResponse(undefined, JSONRPC_INTERNAL_ERROR, "Internal error"));
    else res.end();
  });
  return web;
}

/** /mcp, /mcp/ and the query strings clients add; case-insensitive, as express's routing was. */
const MCP_PATH = /^\/mcp\/?(?:\?.*)?$/i;

/** The whole HTTP surface: POST /mcp on plain node:http, everything else handed to the express edges. */
export function createRequestListener(
  app: App,
  drain: Drain = new Drain(),
): (req: IncomingMessage, res: ServerResponse) => void {
  const metadataUrl = resourceMetadataUrl(app.config.resourceUrl);
  const challenge = `Bearer resource_metadata="${metadataUrl}"`;
  const invalidTokenChallenge = `Bearer error="invalid_token", resource_metadata="${metadataUrl}"`;
  const mcp = createMcpEndpoint(app, challenge, invalidTokenChallenge);
  const edges = createEdges(app, metadataUrl, drain);
  return (req, res) => {
    const requestId = requestIdFrom(req.headers["x-request-id"], randomUUID);
    drain.track();
    if (MCP_PATH.test(req.url ?? "")) {
      mcp(req, res, requestId); // writes X-Request-Id with the rest of its head
    } else {
      res.setHeader("x-request-id", requestId);
      edges(req, res);
    }
  };
}

export interface RunningHttpServer {
  readonly server: Server;
  readonly url: string;
  /** The metrics listener's GET /metrics, when METRICS_PORT is set. */
  readonly metricsUrl: string | undefined;
  /** Stop accepting, let in-flight requests finish (bounded by the grace time), close the upstream pool. */
  close(): Promise<void>;
}

export async function startHttpServer(
  app: App,
  port = app.config.port,
  host = app.config.host,
): Promise<RunningHttpServer> {
  const drain = new Drain();
  const headersTimeout = app.config.headersTimeoutMs;
  const server = createServer(
    {
      // A client has this long to send a request's headers (a slow-headers client would otherwise hold a socket
      // for about 90 s); Node checks at the interval, so the bound holds to within a second.
      headersTimeout,
      requestTimeout: Math.max(300_000, headersTimeout),
      connectionsCheckingInterval: Math.min(1_000, Math.max(250, headersTimeout / 4)),
      ServerResponse: drain.ServerResponse,
    },
    createRequestListener(app, drain),
  );
  // Longer than a balancer's idle keep-alive (nginx: 60 s), so the balancer, not us, closes idle connections and
  // never sends a request into a socket we are closing. Node counts the headers timeout from a request's first
  // byte, not from the idle time before it, so the two are apart.
  server.keepAliveTimeout = 65_000;
  drain.watch(server);
  const url = await listen(server, port, host);
  let metricsServer: RunningMetricsServer | undefined;
  if (app.config.metricsPort !== undefined) {
    try {
      metricsServer = await startMetricsServer(app.metrics, app.config.metricsPort, host, app.logger);
    } catch (error) {
      server.close();
      throw error;
    }
  }
  let closing: Promise<void> | undefined;
  return {
    server,
    url,
    metricsUrl: metricsServer?.url,
    close() {
      closing ??= (async () => {
        // The metrics stay up through the drain, so a scrape can still see the last requests finish.
        await drainAndClose(server, drain, app.config.shutdownGraceMs);
        await metricsServer?.close();
        await app.close();
      })();
      return closing;
    },
  };
}

export async function serveHttp(app: App): Promise<void> {
  await app.client.warm();
  const running = await startHttpServer(app);
  app.logger.info(
    {
      url: running.url,
      metrics: running.metricsUrl,
      resource: app.config.resourceUrl,
      tools: app.surface.tools.size,
      dryRun: app.surface.dryRun,
    },
    "listening",
  );
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
