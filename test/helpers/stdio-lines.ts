import { PassThrough } from "node:stream";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { serveStdioApp } from "../../src/transports/stdio.js";
import { captureLogs, type LogLine } from "./log-capture.js";

export type Line = LogLine;

export interface StdioLines {
  /** Writes one message as a line on the server's stdin. */
  send(message: unknown): void;
  /** The first line not taken by an earlier call that `matches` (waiting for it); fails after `timeoutMs`. */
  next(matches?: (line: Line) => boolean, timeoutMs?: number): Promise<Line>;
  /** Every line written so far, parsed. */
  readonly written: Line[];
  readonly logs: Line[];
  /** Ends stdin and waits until every started message has been answered and the app has closed. */
  close(): Promise<void>;
}

/**
 * What `pilot-status-mcp stdio` runs (serveStdioApp), in this process on a pair of in-memory streams: raw JSON-RPC
 * lines in, parsed lines out, against src/ (no build), with the server's log captured.
 */
export function startStdioLines(env: Record<string, string>): StdioLines {
  const config = loadConfig({ MCP_TRANSPORT: "stdio", LOG_LEVEL: "debug", ...env });
  const { sink, logs } = captureLogs();
  const app = createApp(config, createLogger(config.logLevel, sink));
  const input = new PassThrough();
  const output = new PassThrough();
  const written: Line[] = [];
  const waiters = new Set<() => void>();
  const claimed = new Set<number>();
  let partial = "";
  output.on("data", (chunk: Buffer) => {
    partial += chunk.toString("utf8");
    let newline = partial.indexOf("\n");
    while (newline >= 0) {
      written.push(JSON.parse(partial.slice(0, newline)) as Line);
      partial = partial.slice(newline + 1);
      newline = partial.indexOf("\n");
    }
    for (const wake of waiters) wake();
  });
  const served = serveStdioApp(
    app,
    { apiKey: config.apiKey ?? "ps_missing", apiKeyId: config.apiKeyId },
    { input, output },
  );
  return {
    written,
    logs,
    send(message) {
      input.write(`${typeof message === "string" ? message : JSON.stringify(message)}\n`);
    },
    next(matches = () => true, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        // The first line no earlier call has taken that matches: lines are taken in order, each once.
        const look = (): boolean => {
          const index = written.findIndex((line, i) => !claimed.has(i) && matches(line));
          if (index < 0) return false;
          claimed.add(index);
          resolve(written[index]!);
          return true;
        };
        if (look()) return;
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`no matching line within ${timeoutMs} ms; written: ${JSON.stringify(written)}`));
        }, timeoutMs);
        const wake = (): void => {
          if (!look()) return;
          clearTimeout(timer);
          waiters.delete(wake);
        };
        waiters.add(wake);
      });
    },
    async close() {
      input.end();
      await served;
    },
  };
}
