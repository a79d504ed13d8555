import { PassThrough, type Readable, type Writable } from "node:stream";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ReadBuffer, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { serveStdioApp } from "../../src/transports/stdio.js";

/** An SDK's stdio framing: how it cuts the byte stream into messages, and how it writes one. */
export interface Framing<Message> {
  readonly ReadBuffer: new () => { append(chunk: Buffer): void; readMessage(): Message | null };
  serializeMessage(message: Message): string;
}

/** The 1.x SDK's own framing (@modelcontextprotocol/sdk); the 2.x client exports the same two names. */
export const SDK1_FRAMING: Framing<JSONRPCMessage> = { ReadBuffer, serializeMessage };

/**
 * A client transport over a pair of streams instead of a child process, framed by an SDK's own stdio code: the
 * SDK's stdio client transport, less the spawning.
 */
export class StreamTransport<Message> {
  onmessage?: (message: Message) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private readonly buffer: InstanceType<Framing<Message>["ReadBuffer"]>;

  constructor(
    private readonly framing: Framing<Message>,
    private readonly readable: Readable,
    private readonly writable: Writable,
  ) {
    this.buffer = new framing.ReadBuffer();
  }

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

  async send(message: Message): Promise<void> {
    this.writable.write(this.framing.serializeMessage(message));
  }

  async close(): Promise<void> {
    this.writable.end();
    this.onclose?.();
  }
}

export interface InProcessStdioServer {
  /** A client transport on this server's stdin and stdout. */
  transport<Message>(framing: Framing<Message>): StreamTransport<Message>;
  /** Resolves once stdin has ended (the client closed), every answer is out and the app has closed. */
  readonly served: Promise<void>;
}

/**
 * What `pilot-status-mcp stdio` runs (serveStdioApp: the metrics listener too, when METRICS_PORT is set), in this
 * process on in-memory streams, against src/: no build, no child process. Logs are dropped unless LOG_LEVEL says.
 */
export function serveInProcessStdio(env: Record<string, string>): InProcessStdioServer {
  const config = loadConfig({ MCP_TRANSPORT: "stdio", LOG_LEVEL: "silent", ...env });
  const app = createApp(config, createLogger(config.logLevel));
  const toServer = new PassThrough();
  const fromServer = new PassThrough();
  const served = serveStdioApp(
    app,
    { apiKey: config.apiKey ?? "ps_missing", apiKeyId: config.apiKeyId },
    { input: toServer, output: fromServer },
  );
  return { served, transport: (framing) => new StreamTransport(framing, fromServer, toServer) };
}

export interface InProcessStdio {
  readonly client: Client;
  close(): Promise<void>;
}

/** serveInProcessStdio with the 1.x SDK's Client connected on the other end. */
export async function connectInProcessStdio(env: Record<string, string>): Promise<InProcessStdio> {
  const server = serveInProcessStdio(env);
  const client = new Client({ name: "pilot-status-mcp-tests", version: "0.0.0" });
  await client.connect(server.transport(SDK1_FRAMING));
  return {
    client,
    async close() {
      await client.close();
      await server.served;
    },
  };
}
