import { PassThrough, type Readable, type Writable } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ReadBuffer, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { serveStdio } from "../../src/transports/stdio.js";

/**
 * The SDK's stdio framing (its own ReadBuffer and serializeMessage) over a pair of streams instead of a child process.
 */
class StreamTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private readonly buffer = new ReadBuffer();

  constructor(
    private readonly readable: Readable,
    private readonly writable: Writable,
  ) {}

  async start(): Promise<void> {
    this.readable.on("data", (chunk: Buffer) => {
      this.buffer.append(chunk);
      try {
        for (let message = this.buffer.readMessage(); message !== null; message = this.buffer.readMessage())
          this.onmessage?.(message);
      } catch (error) {
        this.onerror?.(error as Error);
      }
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.writable.write(serializeMessage(message));
  }

  async close(): Promise<void> {
    this.writable.end();
    this.onclose?.();
  }
}

export interface InProcessStdio {
  readonly client: Client;
  close(): Promise<void>;
}

/**
 * The real stdio transport of src/ in this process, with the SDK's Client on the other end of in-memory streams:
 * what `pilot-status-mcp stdio` does, without a build or a child process.
 */
export async function connectInProcessStdio(env: Record<string, string>): Promise<InProcessStdio> {
  const config = loadConfig({ MCP_TRANSPORT: "stdio", LOG_LEVEL: "silent", ...env });
  const app = createApp(config, createLogger(config.logLevel));
  const toServer = new PassThrough();
  const fromServer = new PassThrough();
  const served = serveStdio({
    handler: app.handler,
    surface: app.surface,
    credentials: { apiKey: config.apiKey ?? "ps_missing", apiKeyId: config.apiKeyId },
    logger: app.logger,
    input: toServer,
    output: fromServer,
  });
  const client = new Client({ name: "pilot-status-mcp-tests", version: "0.0.0" });
  await client.connect(new StreamTransport(fromServer, toServer));
  return {
    client,
    async close() {
      await client.close();
      await served;
      await app.close();
    },
  };
}
