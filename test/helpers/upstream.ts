import type { IncomingMessage, ServerResponse } from "node:http";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { type LoopbackOptions, type LoopbackServer, listenOnLoopback } from "./loopback.js";

/** What the fake Pilot Status API received. */
export interface RecordedRequest {
  readonly method: string;
  /** Raw path as sent, without the query string (still percent-encoded). */
  readonly path: string;
  readonly query: Record<string, string | string[]>;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly rawBody: string;
  /** Parsed JSON body, or undefined when there was none. */
  readonly body: unknown;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** JSON value to send; a string is sent as-is. */
  body?: unknown;
  delayMs?: number;
  /** Destroy the socket instead of answering. */
  reset?: boolean;
}

export type Responder = (req: RecordedRequest) => Reply | Promise<Reply>;

const DEFAULT_RESPONDER: Responder = () => ({ status: 200, body: { ok: true } });

/**
 * A loopback HTTP server standing in for the Pilot Status API: it records every request and answers with what
 * the test's responder says (default: 200 {"ok":true}).
 */
export class FakeUpstream {
  readonly requests: RecordedRequest[] = [];
  private responder: Responder = DEFAULT_RESPONDER;
  private server: LoopbackServer | undefined;
  url = "";

  static async start(responder?: Responder, options: LoopbackOptions = {}): Promise<FakeUpstream> {
    const upstream = new FakeUpstream();
    if (responder) upstream.respond(responder);
    await upstream.listen(options);
    return upstream;
  }

  /**
   * One upstream for a whole test file: listening before the first test, closed after the last, and before each
   * test emptied of recorded requests and back to the default answer (200 {"ok":true}).
   */
  static forTheFile(): FakeUpstream {
    const upstream = new FakeUpstream();
    beforeAll(() => upstream.listen({}));
    afterAll(() => upstream.close());
    beforeEach(() => {
      upstream.reset();
      upstream.respond(DEFAULT_RESPONDER);
    });
    return upstream;
  }

  respond(responder: Responder): void {
    this.responder = responder;
  }

  reset(): void {
    this.requests.length = 0;
  }

  private async listen(options: LoopbackOptions): Promise<void> {
    this.server = await listenOnLoopback((req, res, rawBody) => this.handle(req, res, rawBody), options);
    this.url = this.server.url;
  }

  private async handle(req: IncomingMessage, res: ServerResponse, rawBody: string): Promise<void> {
    const url = new URL(req.url ?? "/", "http://upstream.invalid");
    const query: Record<string, string | string[]> = {};
    for (const key of new Set(url.searchParams.keys())) {
      const values = url.searchParams.getAll(key);
      query[key] = values.length === 1 ? values[0]! : values;
    }
    let body: unknown;
    if (rawBody !== "") {
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = rawBody;
      }
    }
    const recorded: RecordedRequest = {
      method: req.method ?? "",
      path: (req.url ?? "/").split("?")[0]!,
      query,
      headers: req.headers,
      rawBody,
      body,
    };
    this.requests.push(recorded);
    const reply = await this.responder(recorded);
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (reply.reset) {
      req.socket.destroy();
      return;
    }
    const payload =
      reply.body === undefined ? "" : typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status ?? 200, {
      ...(typeof reply.body === "string" || reply.body === undefined ? {} : { "content-type": "application/json" }),
      ...reply.headers,
    });
    res.end(payload);
  }

  async close(): Promise<void> {
    await this.server?.close();
  }
}
