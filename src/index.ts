/**
 * Programmatic use of the server: build the app from a config and serve it, or embed the HTTP request listener
 * in your own node:http (or express) server. The CLI (pilot-status-mcp) is the usual entry point.
 */
export { createApp, type App } from "./app.js";
export { ConfigError, loadConfig, type Config } from "./config.js";
export { createRequestListener, startHttpServer, serveHttp, type RunningHttpServer } from "./transports/http/server.js";
export { serveStdio, type StdioOptions } from "./transports/stdio.js";
export { TOOL_SPECS } from "./catalogue/tools.generated.js";
export type { ToolSpec, Toolset } from "./catalogue/types.js";
export { SelectionError, selectTools, type Selection } from "./registry/selection.js";
export { VERSION } from "./version.js";
