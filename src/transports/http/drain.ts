import { readFileSync } from "node:fs";
import { type Server, ServerResponse } from "node:http";
import { type AddressInfo, Server as NetServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Graceful shutdown behind a load balancer that keeps connections alive (nginx, HAProxy, cloud balancers).
 *
 * A balancer re-sends a request to another replica only when it failed before being written: a refused connection.
 * It never re-sends a POST it has written (it must not: a send would go out twice). So a stopping replica must
 * never drop a connection that may carry a request:
 * 1. it closes its listener only when the kernel's accept queue is empty, because closing a listener resets the
 *    connections the kernel has accepted for it but the process has not taken yet (on Linux the queue is read from
 *    /proc/net/tcp; elsewhere, it waits for a short gap without new connections);
 * 2. from then on every response says `Connection: close`, so clients close their connections themselves, and new
 *    connections are refused, which the balancer retries elsewhere;
 * 3. idle connections are closed only after a quiet second (the balancer has given up on this replica by then);
 * 4. whatever is still open when the grace time ends is closed then.
 */
export class Drain {
  /** Set when shutdown begins (SIGTERM): /ready answers 503 from then on, so orchestrators stop routing here. */
  stopping = false;
  draining = false;
  private lastRequestAt = 0;
  private lastConnectionAt = 0;

  /**
   * The response class for the server (`createServer({ ServerResponse })`): once the drain has begun, every
   * response whose head is not yet written says `Connection: close`, the ones already in flight included. Done
   * at write time rather than by keeping a set of open responses: a long-lived set that every request enters
   * and leaves made each young-generation GC under load several times slower.
   */
  readonly ServerResponse: typeof ServerResponse = (() => {
    const drain = this;
    class DrainingResponse extends ServerResponse {}
    const writeHead = ServerResponse.prototype.writeHead as (
      this: ServerResponse,
      ...args: unknown[]
    ) => ServerResponse;
    DrainingResponse.prototype.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      if (drain.draining && !this.hasHeader("connection")) this.setHeader("connection", "close");
      return writeHead.apply(this, args);
    } as ServerResponse["writeHead"];
    return DrainingResponse as unknown as typeof ServerResponse;
  })();

  watch(server: Server): void {
    server.on("connection", () => {
      this.lastConnectionAt = Date.now();
    });
  }

  /** Called for every request as it starts: during a drain, it keeps the idle-connection sweep waiting. */
  track(): void {
    if (this.draining) this.lastRequestAt = Date.now();
  }

  start(): void {
    this.draining = true;
    this.lastRequestAt = Date.now();
  }

  quietFor(ms: number): boolean {
    return Date.now() - this.lastRequestAt >= ms;
  }

  noNewConnectionFor(ms: number): boolean {
    return Date.now() - this.lastConnectionAt >= ms;
  }
}

const CONNECTION_GAP_MS = 25;
const MAX_WAIT_FOR_GAP_MS = 2_000;
const QUIET_BEFORE_IDLE_CLOSE_MS = 1_000;

/**
 * Connections waiting in the kernel's accept queue of the listening socket on `port`, from /proc/net/tcp{,6}
 * (the rx_queue column of a LISTEN entry); undefined where /proc is not there.
 */
export function acceptQueueLength(port: number): number | undefined {
  let total: number | undefined;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    total ??= 0;
    for (const line of text.split("\n")) {
      const columns = line.trim().split(/\s+/);
      if (columns[3] !== "0A") continue; // LISTEN
      if (Number.parseInt(columns[1]?.split(":")[1] ?? "", 16) !== port) continue;
      total += Number.parseInt(columns[4]?.split(":")[1] ?? "0", 16);
    }
  }
  return total;
}

async function waitForEmptyAcceptQueue(server: Server, drain: Drain): Promise<void> {
  const port = (server.address() as AddressInfo | null)?.port;
  const deadline = Date.now() + MAX_WAIT_FOR_GAP_MS;
  while (Date.now() < deadline) {
    const queued = port === undefined ? undefined : acceptQueueLength(port);
    if (queued === 0 || (queued === undefined && drain.noNewConnectionFor(CONNECTION_GAP_MS))) return;
    await sleep(1); // the next poll phase accepts what is queued
  }
}

export async function drainAndClose(server: Server, drain: Drain, graceMs: number): Promise<void> {
  drain.stopping = true;
  await waitForEmptyAcceptQueue(server, drain);
  // net.Server's close only stops listening; http.Server's would also drop the idle connections at once.
  const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
  drain.start();
  const sweeper = setInterval(() => {
    if (drain.quietFor(QUIET_BEFORE_IDLE_CLOSE_MS)) server.closeIdleConnections();
  }, 100);
  const forced = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearInterval(sweeper);
  clearTimeout(forced);
}
