import type { ToolOutcomeKind } from "../forward/forward.js";
import type { Era } from "../mcp/eras.js";
import type { PrometheusSink } from "./prometheus.js";

/**
 * What the server counts for Prometheus (docs/decisions.md #33). Off unless METRICS_PORT is set: then every
 * method here returns at its first line, and prom-client is never loaded. Label values come only from fixed sets
 * (method names this server knows, the two eras, HTTP status codes, the catalogue's tool names, the outcome kinds),
 * never from a credential, a number id, an argument or a request id.
 */

/** The JSON-RPC methods counted by name; any other is "other", so a client cannot grow the label set. */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  "initialize",
  "ping",
  "tools/list",
  "tools/call",
  "server/discover",
  "subscriptions/listen",
]);

/** The labels of one /mcp request, filled in as the endpoint learns them. */
export interface RequestLabels {
  /** A known method, "other", "notification" (or a client's response), or "none" when refused before parsing. */
  method: string;
  era: Era | "none";
}

export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : "other";
}

export class Metrics {
  private sink: PrometheusSink | undefined;

  get enabled(): boolean {
    return this.sink !== undefined;
  }

  /** Loads prom-client and starts counting (process metrics included). Idempotent. */
  async enable(): Promise<void> {
    if (this.sink !== undefined) return;
    const { PrometheusSink } = await import("./prometheus.js");
    this.sink ??= new PrometheusSink();
  }

  /** A /mcp request arrived: counted in flight until httpFinished. Undefined when metrics are off. */
  httpStarted(): RequestLabels | undefined {
    if (this.sink === undefined) return undefined;
    this.sink.inFlight.inc();
    return { method: "none", era: "none" };
  }

  httpFinished(labels: RequestLabels, status: number): void {
    if (this.sink === undefined) return;
    this.sink.inFlight.dec();
    this.sink.requests.inc({ method: labels.method, era: labels.era, status: String(status) });
  }

  /** A tools/call of a tool the surface offers (unknown tools are JSON-RPC errors, counted as requests only). */
  toolCall(tool: string, outcome: ToolOutcomeKind, upstreamSeconds: number | undefined): void {
    if (this.sink === undefined) return;
    this.sink.toolCalls.inc({ tool, outcome });
    if (upstreamSeconds !== undefined) this.sink.upstreamSeconds.observe({ tool }, upstreamSeconds);
  }

  /** The Prometheus text exposition of everything counted so far. */
  async render(): Promise<{ contentType: string; body: string }> {
    await this.enable();
    return this.sink!.render();
  }
}
