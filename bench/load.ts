/**
 * One HTTP measurement: autocannon against one server on one scenario, with the server's peak RSS, its CPU time per
 * request and other programs' CPU use recorded over the same stretch.
 */
import autocannon from "autocannon";
import { verifierFor } from "./answers.js";
import { CLOCK_TICKS, cpuSnapshot, foreignCores, processTicks, stolenCores } from "./cpu.js";
import { percentile } from "./figures.js";
import { PeakRss } from "./memory.js";
import type { Scenario } from "./scenarios.js";
import type { ServerId } from "./servers.js";

export interface Measurement {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly peakRssMb: number;
  readonly requests: number;
  readonly durationS: number;
  /** CPU used meanwhile by processes outside the bench, in cores. */
  readonly foreignCores: number;
  /** The part of foreignCores the hypervisor took for other guests (steal). */
  readonly stolenCores: number;
  /** CPU time the server process spent per answered request (all its threads), in microseconds. */
  readonly serverCpuUs: number;
}

/** Load one server with autocannon; latencies come from the per-response timings (sub-millisecond precision). */
export function load(
  url: string,
  scenario: Scenario,
  id: ServerId,
  connections: number,
  durationS: number,
  pid: number | undefined,
  accountPids: readonly number[] = [],
): Promise<Measurement> {
  return new Promise<Measurement>((resolve, reject) => {
    const latencies: number[] = [];
    let firstError = "";
    const peak = pid === undefined ? undefined : new PeakRss(pid);
    const cpuBefore = cpuSnapshot(accountPids);
    const serverTicksBefore = pid === undefined ? 0 : processTicks(pid);
    let settled = false;
    const guard = setTimeout(
      () => {
        if (settled) return;
        settled = true;
        instance.stop();
        peak?.stop();
        reject(new Error(`load on ${url} did not finish within ${durationS + 20} s`));
      },
      (durationS + 20) * 1000,
    );
    const instance = autocannon(
      {
        url,
        method: "POST",
        headers: { ...scenario.headers },
        body: scenario.body,
        connections,
        duration: durationS,
        pipelining: 1,
        timeout: 10,
        verifyBody: verifierFor(scenario, id),
      },
      (error: unknown, result: autocannon.Result) => {
        clearTimeout(guard);
        const peakRssMb = peak?.stop() ?? Number.NaN;
        const cpuAfter = cpuSnapshot(accountPids);
        const foreign = foreignCores(cpuBefore, cpuAfter);
        const stolen = stolenCores(cpuBefore, cpuAfter);
        const serverTicks = pid === undefined ? Number.NaN : processTicks(pid) - serverTicksBefore;
        if (settled) return;
        settled = true;
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        const bad = result.errors + result.timeouts + result.non2xx + result.mismatches;
        if (bad > 0) {
          return reject(
            new Error(
              `load on ${url}: ${result.errors} errors${firstError}, ${result.timeouts} timeouts, ${result.non2xx} non-2xx, ${result.mismatches} wrong bodies`,
            ),
          );
        }
        latencies.sort((x, y) => x - y);
        resolve({
          rps: result.requests.total / result.duration,
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          peakRssMb,
          requests: result.requests.total,
          durationS: result.duration,
          foreignCores: foreign,
          stolenCores: stolen,
          serverCpuUs: ((serverTicks / CLOCK_TICKS) * 1e6) / Math.max(1, result.requests.total),
        });
      },
    );
    instance.on("reqError", (error: unknown) => {
      if (firstError === "") firstError = ` (first: ${error instanceof Error ? error.message : String(error)})`;
    });
    instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode === 200) latencies.push(responseTime);
    });
  });
}
