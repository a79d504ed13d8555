import { createServer } from "node:http";
import type { Logger } from "../log.js";
import { errorForLog } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import { listen } from "./listen.js";

export interface RunningMetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * GET /metrics in the Prometheus text format, on a listener of its own (METRICS_PORT), so the metrics are never
 * served on the public port by accident (docs/decisions.md #33). Everything else is a 404.
 */
export async function startMetricsServer(
  metrics: Metrics,
  port: number,
  host: string,
  logger: Logger,
): Promise<RunningMetricsServer> {
  await metrics.enable();
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
      res
        .writeHead(404, { "content-type": "text/plain; charset=utf-8" })
        .end("Not Found: metrics are at GET /metrics\n");
      return;
    }
    metrics.render().then(
      ({ contentType, body }) => {
        res.writeHead(200, { "content-type": contentType, "cache-control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : body);
      },
      (error: unknown) => {
        logger.error({ err: errorForLog(error) }, "metrics could not be rendered");
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("metrics unavailable\n");
      },
    );
  });
  server.keepAliveTimeout = 65_000; // a scraper's keep-alive connection outlives its scrape interval
  const origin = await listen(server, port, host);
  return {
    url: `${origin}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
