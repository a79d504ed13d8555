import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** The metrics themselves, on a registry of their own (never prom-client's global one). Loaded only when enabled. */
export class PrometheusSink {
  private readonly registry = new Registry();

  readonly requests = new Counter({
    name: "pilot_status_mcp_http_requests_total",
    help: "POST /mcp requests answered, by JSON-RPC method, protocol era and HTTP status",
    labelNames: ["method", "era", "status"] as const,
    registers: [this.registry],
  });

  readonly inFlight = new Gauge({
    name: "pilot_status_mcp_http_requests_in_flight",
    help: "/mcp requests being handled right now",
    registers: [this.registry],
  });

  readonly toolCalls = new Counter({
    name: "pilot_status_mcp_tool_calls_total",
    help: "Tool calls by tool and outcome (ok, tool_error, upstream_unavailable, invalid_arguments, dry_run)",
    labelNames: ["tool", "outcome"] as const,
    registers: [this.registry],
  });

  readonly upstreamSeconds = new Histogram({
    name: "pilot_status_mcp_upstream_duration_seconds",
    help: "Time a tool call spent on the Pilot Status API, retries included",
    labelNames: ["tool"] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
