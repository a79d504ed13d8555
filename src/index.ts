/**
 * Programmatic use of the server: build the app from a config and serve it, or embed the HTTP request listener
 * in your own node:http (or express) server. The CLI (pilot-status-mcp) is the usual entry point.
 */
export { type App, createApp } from "./app.js";
export { TOOL_SPECS } from "./catalogue/tools.generated.js";
export type { ToolSpec, Toolset } from "./catalogue/types.js";
export { type Config, ConfigError, loadConfig } from "./config.js";
export { VERSION } from "./identity.js";
export { type Selection, SelectionError, selectTools } from "./registry/selection.js";
export { createRequestListener, type RunningHttpServer, serveHttp, startHttpServer } from "./transports/http/server.js";
export { type StdioOptions, serveStdio } from "./transports/stdio.js";
