import { TOOL_SPECS } from "./catalogue/tools.generated.js";
import type { Config } from "./config.js";
import { createLogger, type Logger } from "./log.js";
import { McpHandler } from "./mcp/handler.js";
import { buildSurface, prepareCatalogue, type Surface } from "./registry/registry.js";
import { UpstreamClient } from "./upstream/client.js";

/** Everything built once at start-up and shared by every request: no request state lives here. */
export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly client: UpstreamClient;
  readonly handler: McpHandler;
  /** The tools this server offers (the configured selection). */
  readonly surface: Surface;
  close(): Promise<void>;
}

export function createApp(config: Config, logger: Logger = createLogger(config.logLevel)): App {
  const client = new UpstreamClient({
    baseUrl: config.apiUrl,
    timeoutMs: config.timeoutMs,
    maxResponseBytes: config.maxResponseBytes,
  });
  const surface = buildSurface(prepareCatalogue(TOOL_SPECS));
  const handler = new McpHandler({ client, logger, maxResultChars: config.maxResultChars });
  return {
    config,
    logger,
    client,
    handler,
    surface,
    close: () => client.close(),
  };
}
