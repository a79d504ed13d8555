import { setTimeout as sleep } from "node:timers/promises";
import type { Dispatcher } from "undici";
import { USER_AGENT } from "../identity.js";
import { OverCap, readCapped } from "../read-capped.js";
import type { Credentials } from "./credentials.js";
import { credentialHeaders } from "./credentials.js";

export interface UpstreamRequest {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Already encoded path, starting with /v1. */
  readonly path: string;
  readonly query: ReadonlyArray<readonly [string, string]>;
  readonly headers: Readonly<Record<string, string>>;
  /** JSON body, or undefined for none. */
  readonly body: unknown;
  /** May this request be sent again after a transient failure? Only for idempotent tools. */
  readonly retryable: boolean;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly text: string;
  /** How many times the request was sent. */
  readonly attempts: number;
}

/** A request described instead of sent (a dry run). Credential values are never part of it. */
export interface RequestPreview {
  readonly method: UpstreamRequest["method"];
  /** The whole URL, query string included, exactly as it would be requested. */
  readonly url: string;
  /** The path without the query string. */
  readonly path: string;
  /** The query arguments by name; a repeated one as a list. */
  readonly query: Readonly<Record<string, string | string[]>>;
  /** The headers that carry the call's meaning (content-type, the tool's own headers); no credentials. */
  readonly headers: Readonly<Record<string, string>>;
  /** The names of the credential headers that would carry the caller's credentials (their values left out). */
  readonly credentialHeaders: readonly string[];
  /** The JSON body, absent when none would be sent. */
  readonly body?: unknown;
}

export type UpstreamFailureKind = "timeout" | "connection" | "too_large";

/** The API could not be reached or its answer could not be read: nothing here is shown to a model verbatim. */
export class UpstreamFailure extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    readonly detail: string,
    readonly attempts: number,
  ) {
    super(`${kind}: ${detail}`);
    this.name = "UpstreamFailure";
  }
}

/** Forward proxy URLs and the NO_PROXY list, as config.ts read them (unset: none). */
export interface ProxySettings {
  readonly httpsProxy: string | undefined;
  readonly httpProxy: string | undefined;
  readonly noProxy: string | undefined;
}

export interface UpstreamClientOptions {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  /**
   * Forward proxies (config.proxy). When none is set the client is a plain Pool on the API's origin; when one is,
   * undici's EnvHttpProxyAgent decides per its NO_PROXY rules and tunnels through the proxy with CONNECT
   * (docs/decisions.md #38).
   */
  readonly proxy?: ProxySettings;
  /** Test seam: shorter backoff. */
  readonly retryBaseMs?: number;
  readonly maxAttempts?: number;
}

const RETRY_STATUSES = new Set([429, 502, 503, 504]);
const RETRY_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);

class TooLarge extends Error {}
class BodyDeadline extends Error {
  override readonly name = "TimeoutError";
}

/**
 * The one client for the Pilot Status API: a keep-alive pool on the API's origin, fixed timeouts, a hard cap on
 * response size, and retries only for requests the caller marks retryable.
 */
export class UpstreamClient {
  private pool: Dispatcher | undefined;
  private poolLoading: Promise<Dispatcher> | undefined;
  private readonly origin: string;
  private readonly pathPrefix: string;
  private readonly retryBaseMs: number;
  private readonly maxAttempts: number;

  constructor(private readonly options: UpstreamClientOptions) {
    const url = new URL(options.baseUrl);
    this.pathPrefix = url.pathname.replace(/\/+$/, "");
    this.origin = url.origin;
    this.retryBaseMs = options.retryBaseMs ?? 250;
    this.maxAttempts = options.maxAttempts ?? 3;
  }

  /**
   * The pool, created on first use. undici is the largest module this server loads; a stdio client asks for
   * tools/list long before the first call, so loading it later keeps start-up short. warm() loads it ahead of time.
   */
  private loadPool(): Promise<Dispatcher> {
    this.poolLoading ??= import("undici").then((module) => {
      // Node names a CommonJS module's exports; the bundle (esbuild) gives them as the default export only.
      const { Pool, EnvHttpProxyAgent } =
        typeof module.Pool === "function" ? module : (module as unknown as { default: typeof module }).default;
      const options = {
        connections: 128,
        pipelining: 1,
        keepAliveTimeout: 10_000,
        keepAliveMaxTimeout: 60_000,
        connect: { timeout: Math.min(this.options.timeoutMs, 10_000) },
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      };
      const proxy = this.options.proxy;
      if (proxy?.httpsProxy === undefined && proxy?.httpProxy === undefined) {
        this.pool = new Pool(this.origin, options);
      } else {
        // Every value given ("" for none), so undici never reads process.env itself: config.ts is the one reader.
        this.pool = new EnvHttpProxyAgent({
          ...options,
          httpsProxy: proxy.httpsProxy ?? "",
          httpProxy: proxy.httpProxy ?? "",
          noProxy: proxy.noProxy ?? "",
        });
      }
      return this.pool;
    });
    return this.poolLoading;
  }

  async warm(): Promise<void> {
    await this.loadPool();
  }

  /** The request as it goes on the wire: the path with its query string, every header, the JSON text. */
  private wire(
    req: UpstreamRequest,
    credentials: Credentials,
  ): { path: string; headers: Record<string, string>; payload: string | undefined } {
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": USER_AGENT,
      ...req.headers,
      ...credentialHeaders(credentials),
    };
    let payload: string | undefined;
    if (req.body !== undefined) {
      payload = JSON.stringify(req.body);
      headers["content-type"] = "application/json";
    }
    const search = req.query.length === 0 ? "" : `?${new URLSearchParams(req.query as [string, string][]).toString()}`;
    return { path: `${this.pathPrefix}${req.path}${search}`, headers, payload };
  }

  /**
   * What request() would send, for a dry run: the same method, URL and headers, the credential headers named but
   * not given, and the body as the JSON value it is sent as.
   */
  preview(req: UpstreamRequest, credentials: Credentials): RequestPreview {
    const { path, headers } = this.wire(req, credentials);
    const sent = credentialHeaders(credentials);
    const shown: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (!(name in sent) && name !== "accept" && name !== "user-agent") shown[name] = value;
    }
    const query: Record<string, string | string[]> = {};
    for (const [name, value] of req.query) {
      const before = query[name];
      query[name] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
    }
    return {
      method: req.method,
      url: `${this.origin}${path}`,
      path: `${this.pathPrefix}${req.path}`,
      query,
      headers: shown,
      credentialHeaders: Object.keys(sent),
      ...(req.body === undefined ? {} : { body: req.body }),
    };
  }

  /**
   * One call to the API, retried as retryDelay allows. The pool's own timers bound the wait for headers and
   * readCapped bounds the whole body by the deadline; both are cheaper per request than an AbortSignal, which
   * undici would also have to watch. Sending and reading are one async function on purpose: every extra await
   * layer is a promise resolved per call, and this is the hot path.
   */
  async request(req: UpstreamRequest, credentials: Credentials): Promise<UpstreamResponse> {
    const deadline = Date.now() + this.options.timeoutMs;
    const { path, headers, payload } = this.wire(req, credentials);
    const method = req.method as Dispatcher.HttpMethod;
    const body = payload ?? null;

    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - Date.now();
      let status: number;
      let retryAfter: string | undefined;
      let text: string;
      let answer: Dispatcher.ResponseData["body"] | undefined;
      try {
        if (remaining <= 0) throw new UpstreamFailure("timeout", "deadline passed before the request was sent", 0);
        const pool = this.pool ?? (await this.loadPool());
        const response: Dispatcher.ResponseData = await pool.request({
          origin: this.origin, // a Pool knows it; a proxy agent picks its route by it
          method,
          path,
          headers,
          body,
          headersTimeout: remaining,
          bodyTimeout: remaining,
        });
        status = response.statusCode;
        retryAfter = headerValue(response.headers["retry-after"]);
        answer = response.body;
        const read = await readCapped(answer, this.options.maxResponseBytes, remaining);
        if (typeof read !== "string") throw read instanceof OverCap ? new TooLarge() : new BodyDeadline();
        text = read;
      } catch (error) {
        answer?.destroy(); // a body left unread (too large, too slow, broken) holds its connection until destroyed
        const failure = this.classify(error, attempt);
        const wait =
          failure.kind === "connection" && isRetryableError(error)
            ? this.retryDelay(req, attempt, undefined, undefined, deadline)
            : undefined;
        if (wait === undefined) throw failure;
        await sleep(wait);
        continue;
      }
      const wait = this.retryDelay(req, attempt, status, retryAfter, deadline);
      if (wait === undefined) return { status, retryAfter, text, attempts: attempt };
      await sleep(wait);
    }
  }

  /** Milliseconds to wait before another attempt, or undefined when this answer is final. */
  private retryDelay(
    req: UpstreamRequest,
    attempt: number,
    status: number | undefined,
    retryAfter: string | undefined,
    deadline: number,
  ): number | undefined {
    if (!req.retryable || attempt >= this.maxAttempts) return undefined;
    if (status !== undefined && !RETRY_STATUSES.has(status)) return undefined;
    const backoff = Math.min(this.retryBaseMs * 2 ** (attempt - 1), 4_000);
    const jittered = backoff / 2 + Math.random() * (backoff / 2);
    const wait = Math.max(jittered, retryAfterMs(retryAfter) ?? 0);
    // Leave the last attempt some time of its own; give up rather than sleep past the deadline.
    return Date.now() + wait + 50 < deadline ? wait : undefined;
  }

  private classify(error: unknown, attempts: number): UpstreamFailure {
    if (error instanceof UpstreamFailure) return error;
    if (error instanceof TooLarge) {
      return new UpstreamFailure("too_large", `response body over ${this.options.maxResponseBytes} bytes`, attempts);
    }
    const e = error as { name?: string; code?: string; message?: string };
    const text = `${e.code ?? e.name ?? "Error"}: ${e.message ?? String(error)}`;
    if (
      e.name === "TimeoutError" ||
      e.name === "AbortError" ||
      e.code === "UND_ERR_HEADERS_TIMEOUT" ||
      e.code === "UND_ERR_BODY_TIMEOUT" ||
      e.code === "UND_ERR_CONNECT_TIMEOUT"
    ) {
      return new UpstreamFailure("timeout", text, attempts);
    }
    return new UpstreamFailure("connection", text, attempts);
  }

  async close(): Promise<void> {
    if (this.poolLoading !== undefined) await (await this.poolLoading).close();
  }
}

function isRetryableError(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code !== undefined && RETRY_CODES.has(code);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A Retry-After value (delay in seconds, or an HTTP date) as milliseconds from now; undefined when unreadable. */
export function retryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
