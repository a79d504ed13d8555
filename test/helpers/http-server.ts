import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { type RunningHttpServer, startHttpServer } from "../../src/transports/http/server.js";
import { captureLogs, type LogLine } from "./log-capture.js";
import { freePort } from "./loopback.js";

export interface TestHttpServer extends RunningHttpServer {
  /** The server's /mcp; with ownResourceUrl, exactly the MCP_RESOURCE_URL it was configured with. */
  readonly mcpUrl: string;
  /** Every log line the server wrote, parsed. */
  readonly logs: LogLine[];
  /** Every log line, raw, to look for leaked secrets. */
  rawLog(): string;
}

export interface TestHttpServerOptions {
  /**
   * MCP_RESOURCE_URL names this server's own loopback /mcp, as a deployment's names its public URL (for OAuth
   * tests, whose clients follow the metadata back to it). The port is chosen before the server starts; another one
   * is tried if something took it meanwhile.
   */
  readonly ownResourceUrl?: boolean;
}

/** Starts the real HTTP server in-process on 127.0.0.1 with the given environment (and a captured log). */
export async function startTestHttpServer(
  env: Record<string, string>,
  options: TestHttpServerOptions = {},
): Promise<TestHttpServer> {
  for (let attempt = 1; ; attempt++) {
    const port = options.ownResourceUrl === true ? await freePort() : 0;
    const resource = options.ownResourceUrl === true ? { MCP_RESOURCE_URL: `http://127.0.0.1:${port}/mcp` } : {};
    const capture = captureLogs();
    const config = loadConfig({ MCP_TRANSPORT: "http", LOG_LEVEL: "debug", ...env, ...resource });
    const app = createApp(config, createLogger(config.logLevel, capture.sink));
    try {
      const running = await startHttpServer(app, port, "127.0.0.1");
      return {
        ...running,
        close: running.close,
        mcpUrl: resource.MCP_RESOURCE_URL ?? `${running.url}/mcp`,
        logs: capture.logs,
        rawLog: capture.raw,
      };
    } catch (error) {
      await app.close();
      const taken = (error as NodeJS.ErrnoException).code === "EADDRINUSE";
      if (!taken || options.ownResourceUrl !== true || attempt >= 5) throw error;
    }
  }
}

/** The SDK's own streamable HTTP client, with the given headers on every request. */
export async function connectClient(mcpUrl: string, headers: Record<string, string>): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers } });
  const client = new Client({ name: "pilot-status-mcp-tests", version: "0.0.0" });
  await client.connect(transport);
  return client;
}
