import { Writable } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { type RunningHttpServer, startHttpServer } from "../../src/transports/http/server.js";

export interface TestHttpServer extends RunningHttpServer {
  readonly mcpUrl: string;
  /** Every log line the server wrote, parsed. */
  readonly logs: Array<Record<string, unknown>>;
}

/** Starts the real HTTP server in-process on 127.0.0.1 with the given environment (and a captured log). */
export async function startTestHttpServer(env: Record<string, string>): Promise<TestHttpServer> {
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n"))
        if (line.trim() !== "") logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const config = loadConfig({ MCP_TRANSPORT: "http", LOG_LEVEL: "debug", ...env });
  const app = createApp(config, createLogger(config.logLevel, sink));
  const running = await startHttpServer(app, 0, "127.0.0.1");
  return { ...running, close: running.close, mcpUrl: `${running.url}/mcp`, logs };
}

/** The SDK's own streamable HTTP client, with the given headers on every request. */
export async function connectClient(mcpUrl: string, headers: Record<string, string>): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers } });
  const client = new Client({ name: "pilot-status-mcp-tests", version: "0.0.0" });
  await client.connect(transport);
  return client;
}
