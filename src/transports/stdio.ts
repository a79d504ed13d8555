import type { App } from "../app.js";
import { errorForLog, type Logger } from "../log.js";
import type { McpHandler } from "../mcp/handler.js";
import { errorResponse, isObject, JSONRPC_PARSE_ERROR, type ResponseBody, validId } from "../mcp/protocol.js";
import type { Surface } from "../registry/registry.js";
import type { Credentials } from "../upstream/credentials.js";
import { startMetricsServer } from "./metrics-server.js";

export interface StdioOptions {
  readonly handler: McpHandler;
  readonly surface: Surface;
  readonly credentials: Credentials;
  readonly logger: Logger;
  readonly input?: NodeJS.ReadableStream;
  readonly output?: NodeJS.WritableStream;
  /** Longest accepted line; a longer one is answered with a parse error and dropped. */
  readonly maxLineBytes?: number;
  /**
   * Work to do once, when the client first pauses (loading the HTTP client before the first tool call): a client
   * sends initialize, initialized and tools/list in quick succession, and none of them should wait for it.
   */
  readonly whenIdle?: () => Promise<void>;
}

const IDLE_MS = 250;

/** The id of a request (a message with a method and an id); undefined for notifications and anything else. */
function requestIdOf(message: unknown): string | number | undefined {
  return isObject(message) && typeof message.method === "string" && validId(message.id) ? message.id : undefined;
}

/** The request a `notifications/cancelled` names, if the message is one. */
function cancelledRequestId(message: unknown): string | number | undefined {
  if (!isObject(message) || message.method !== "notifications/cancelled" || !isObject(message.params)) return undefined;
  return validId(message.params.requestId) ? message.params.requestId : undefined;
}

/**
 * Newline-delimited JSON-RPC over stdin/stdout. stdout carries nothing but responses; everything else goes to
 * the logger (stderr). Resolves when stdin ends and every started message has been answered.
 */
export function serveStdio(options: StdioOptions): Promise<void> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const maxLine = options.maxLineBytes ?? 4 * 1024 * 1024;
  const pending = new Set<Promise<void>>();
  /**
   * Requests in flight, by JSON-RPC id. `notifications/cancelled` marks one, and its answer is dropped, as the MCP
   * cancellation utility asks. The upstream call is left to finish: a send cut off mid-way would leave the caller
   * unsure whether the message went out.
   */
  const inFlight = new Map<string | number, { readonly id: string | number; cancelled: boolean }>();
  let buffered = "";
  let overflow = false;
  /** The client closed its end of our stdout (it exited, or `| head` had enough): nothing more can be written. */
  let outputClosed = false;

  const write = (body: ResponseBody): void => {
    if (outputClosed) return;
    if (typeof body === "string") {
      output.write(`${body}\n`);
      return;
    }
    for (const chunk of body) output.write(chunk);
    output.write("\n");
  };

  const processLine = (line: string): void => {
    if (outputClosed || line.trim() === "") return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      write(errorResponse(undefined, JSONRPC_PARSE_ERROR, "Parse error: the line is not valid JSON"));
      return;
    }
    const cancelled = cancelledRequestId(message);
    if (cancelled !== undefined) {
      const entry = inFlight.get(cancelled);
      if (entry !== undefined) entry.cancelled = true;
    }
    const id = requestIdOf(message);
    const entry = id === undefined ? undefined : { id, cancelled: false };
    if (entry !== undefined) inFlight.set(entry.id, entry);
    const task = options.handler
      .handle(message, { credentials: options.credentials, surface: options.surface })
      .then((outcome) => {
        if (outcome === undefined) return;
        if (entry?.cancelled === true) {
          options.logger.debug({ id: entry.id }, "answer dropped: the client cancelled the request");
          return;
        }
        for (const before of outcome.before ?? []) write(before);
        write(outcome.body);
      })
      .catch((error: unknown) => options.logger.error({ err: errorForLog(error) }, "stdio message failed"))
      .finally(() => {
        pending.delete(task);
        if (entry !== undefined && inFlight.get(entry.id) === entry) inFlight.delete(entry.id);
      });
    pending.add(task);
  };

  let idleTimer: NodeJS.Timeout | undefined;
  let idleWorkDone = options.whenIdle === undefined;
  return new Promise<void>((resolve) => {
    let finished = false;
    /** Resolves once every started message is done: in-flight upstream calls finish (or time out) first. */
    const finish = (): void => {
      if (finished) return;
      finished = true;
      void Promise.allSettled([...pending]).then(() => resolve());
    };
    output.on("error", (error: NodeJS.ErrnoException) => {
      if (outputClosed) return;
      outputClosed = true;
      // EPIPE (a closed pipe), or any other failure to write: either way the client cannot hear us any more.
      options.logger.debug(
        { code: error.code, inFlight: pending.size },
        "stdout closed by the client: stopping once in-flight calls end",
      );
      input.removeAllListeners("data");
      input.pause();
      (input as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      finish();
    });
    input.setEncoding?.("utf8");
    input.on("data", (chunk: string) => {
      if (!idleWorkDone) {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(() => {
          idleWorkDone = true;
          void options.whenIdle!().catch(() => undefined);
        }, IDLE_MS);
        idleTimer.unref();
      }
      let text = chunk;
      let newline = text.indexOf("\n");
      while (newline >= 0) {
        const line = buffered + text.slice(0, newline);
        buffered = "";
        if (overflow) overflow = false;
        else processLine(line.endsWith("\r") ? line.slice(0, -1) : line);
        text = text.slice(newline + 1);
        newline = text.indexOf("\n");
      }
      if (overflow) return;
      buffered += text;
      if (buffered.length > maxLine) {
        buffered = "";
        overflow = true;
        write(errorResponse(undefined, JSONRPC_PARSE_ERROR, `Parse error: message longer than ${maxLine} bytes`));
      }
    });
    input.on("end", () => {
      if (!overflow && buffered.trim() !== "") processLine(buffered);
      buffered = "";
      finish();
    });
  });
}

/**
 * What `pilot-status-mcp stdio` runs once the configuration is known: the metrics listener when METRICS_PORT is
 * set, the stdio server until stdin ends and every answer is out, then everything closed. The streams default to
 * the process's own; tests pass in-memory ones.
 */
export async function serveStdioApp(
  app: App,
  credentials: Credentials,
  streams: Pick<StdioOptions, "input" | "output"> = {},
): Promise<void> {
  const { config } = app;
  const metrics =
    config.metricsPort === undefined
      ? undefined
      : await startMetricsServer(app.metrics, config.metricsPort, config.host, app.logger);
  await serveStdio({
    handler: app.handler,
    surface: app.surface,
    credentials,
    logger: app.logger,
    input: streams.input,
    output: streams.output,
    whenIdle: () => app.client.warm(),
  });
  await metrics?.close();
  await app.close();
  app.logger.flush();
}
