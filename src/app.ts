import { TOOL_SPECS } from "./catalogue/tools.generated.js";
import type { Config } from "./config.js";
import { createLogger, type Logger } from "./log.js";
import { McpHandler } from "./mcp/handler.js";
import { Metrics } from "./metrics/metrics.js";
import { prepareCatalogue, type Surface, Surfaces } from "./registry/registry.js";
import { UpstreamClient } from "./upstream/client.js";

/** Everything built once at start-up and shared by every request: no request state lives here. */
export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly client: UpstreamClient;
  readonly handler: McpHandler;
  /** Counts for Prometheus; off (and free) unless METRICS_PORT is set and the metrics listener started. */
  readonly metrics: Metrics;
  /** The tools this server offers (the configured selection). */
  readonly surface: Surface;
  /** The configured surface and the narrower ones per-request selection headers ask for. */
  readonly surfaces: Surfaces;
  close(): Promise<void>;
}

export function createApp(config: Config, logger: Logger = createLogger(config.logLevel)): App {
  const client = new UpstreamClient({
    baseUrl: config.apiUrl,
    timeoutMs: config.timeoutMs,
    maxResponseBytes: config.maxResponseBytes,
    proxy: config.proxy,
  });
  // Throws SelectionError (unknown toolset or tool names) before anything starts.
  const surfaces = new Surfaces(prepareCatalogue(TOOL_SPECS), config.selection);
  const metrics = new Metrics();
  const handler = new McpHandler({ client, logger, maxResultChars: config.maxResultChars, metrics });
  return {
    config,
    logger,
    client,
    handler,
    metrics,
    surface: surfaces.base,
    surfaces,
    close: () => client.close(),
  };
}
