/**
 * The figures the call targets are judged on: paired bursts. The grid's rounds measure each server for 2 s every
 * ten seconds or so, and on these machines one server's req/s moves by ±25% from one second to the next with no
 * other process running (the hypervisor shares the host's cores and caches), so a median of five per-round ratios
 * still swings by ±15%: too much for a 5% target. Here each ratio of a target is measured on its own, as PAIRS
 * pairs of one-second bursts at 32 connections, the two sides back to back (order swapped every other pair, so
 * neither side always runs first), and the figure is the median of the per-pair ratios, with its interquartile
 * range. It is the same quantity as the grid's ratio, taken with more and closer samples.
 */
import { checkFatal } from "./children.js";
import type { NoiseBudget } from "./cpu.js";
import { median, percentile } from "./figures.js";
import { load } from "./load.js";
import { MODERN_VERSION, SCENARIOS, type Scenario } from "./scenarios.js";
import { type RunningServers, SERVER_BY_ID, type ServerId } from "./servers.js";
import { log, PAIRS, SKIP_MODERN } from "./settings.js";

const CONNECTIONS = 32;
const BURST_S = 1;

interface Side {
  readonly server: ServerId;
  readonly scenario: Scenario;
}

/** One paired ratio to measure: left req/s over right req/s. */
interface Plan {
  readonly key: string;
  readonly label: string;
  readonly left: Side;
  readonly right: Side;
}

export interface PairedRatio {
  /** As the targets and the results JSON name it, e.g. `message_get: ours/d`. */
  readonly key: string;
  readonly label: string;
  /** One ratio (left req/s over right req/s) per pair, in the order measured. */
  readonly ratios: number[];
  readonly median: number;
  readonly q1: number;
  readonly q3: number;
}

/** The ratios the call targets need: ours against (d) and (b) on each legacy call, and ours' 2026-07-28 variant. */
function plannedPairs(): Plan[] {
  const plans: Plan[] = [];
  for (const call of SCENARIOS.filter((s) => s.isCall && !s.modern)) {
    for (const other of ["d", "b"] as const) {
      plans.push({
        key: pairKey(call.key, other),
        label: `${call.label}: ours/(${other})`,
        left: { server: "a", scenario: call },
        right: { server: other, scenario: call },
      });
    }
  }
  const modern = SKIP_MODERN ? undefined : SCENARIOS.find((s) => s.modern && s.variantOf !== undefined);
  const legacy = modern === undefined ? undefined : SCENARIOS.find((s) => s.key === modern.variantOf);
  if (modern !== undefined && legacy !== undefined) {
    plans.push({
      key: variantKey(legacy.key),
      label: `${legacy.label}: ours ${MODERN_VERSION}/legacy`,
      left: { server: "a", scenario: modern },
      right: { server: "a", scenario: legacy },
    });
  }
  return plans;
}

export const pairKey = (scenarioKey: string, other: ServerId): string => `${scenarioKey}: ours/${other}`;
export const variantKey = (scenarioKey: string): string => `${scenarioKey}: ours ${MODERN_VERSION}/legacy`;

/** How many bursts the paired stage runs, for the bench's time estimate. */
export const pairedBursts = (): number => plannedPairs().length * PAIRS * 2;

export async function measurePairs(servers: RunningServers, noise: NoiseBudget): Promise<PairedRatio[]> {
  const { procs, urls, upstream } = servers;
  const burst = async (side: Side, label: string): Promise<number> => {
    const pid = procs[side.server].pid;
    const measurement = await noise.measure(
      label,
      () =>
        load(urls[side.server], side.scenario, side.server, CONNECTIONS, BURST_S, pid, [
          process.pid,
          pid,
          upstream.pid,
        ]),
      false,
    );
    checkFatal();
    return measurement.rps;
  };
  const results: PairedRatio[] = [];
  for (const plan of plannedPairs()) {
    const ratios: number[] = [];
    for (let pair = 0; pair < PAIRS; pair++) {
      checkFatal();
      await noise.pause();
      log(`paired bursts, ${plan.label} (${SERVER_BY_ID[plan.left.server].label}): pair ${pair + 1}/${PAIRS}`);
      const label = `${plan.key} pair ${pair + 1}`;
      let left: number;
      let right: number;
      if (pair % 2 === 0) {
        left = await burst(plan.left, label);
        right = await burst(plan.right, label);
      } else {
        right = await burst(plan.right, label);
        left = await burst(plan.left, label);
      }
      ratios.push(left / right);
    }
    const sorted = [...ratios].sort((x, y) => x - y);
    results.push({
      key: plan.key,
      label: plan.label,
      ratios,
      median: median(ratios),
      q1: percentile(sorted, 25),
      q3: percentile(sorted, 75),
    });
  }
  return results;
}
