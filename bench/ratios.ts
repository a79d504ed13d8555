/**
 * Ratios between cells of the grid: for req/s, latency and CPU, the median of the per-round ratios (each round
 * measures both seconds apart, so slow drifts of a shared machine cancel out); for RSS, the ratio of the peaks.
 */
import { median } from "./figures.js";
import type { Cell, Grid } from "./http-rounds.js";
import type { Measurement } from "./load.js";
import { MODERN_VERSION, type Scenario } from "./scenarios.js";

export interface Ratios {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly peakRss: number;
  readonly cpuUs: number;
}

/** One cell against another. */
export function ratios(mine: Cell, other: Cell): Ratios {
  const paired = (metric: (m: Measurement) => number): number =>
    median(
      mine.rounds.map((m, i) => (other.rounds[i] === undefined ? Number.NaN : metric(m) / metric(other.rounds[i]!))),
    );
  return {
    rps: paired((m) => m.rps),
    p50: paired((m) => m.p50),
    p99: paired((m) => m.p99),
    peakRss: mine.peakRssMb / other.peakRssMb,
    cpuUs: paired((m) => m.serverCpuUs),
  };
}

export interface RatioLine {
  /** As printed in the table. */
  readonly name: string;
  /** As written in the results JSON. */
  readonly key: string;
  readonly ratios: Ratios;
}

/** The ratio lines of one table row: ours against each other server, and a variant against its legacy scenario. */
export function ratioLines(grid: Grid, scenario: Scenario, connections: number): RatioLine[] {
  const row = grid[`${scenario.key}@${connections}`]!;
  const lines: RatioLine[] = scenario.servers
    .filter((id) => id !== "a")
    .map((id) => ({ name: `ours/(${id})`, key: `ours/${id}`, ratios: ratios(row.a!, row[id]!) }));
  const legacy = scenario.variantOf === undefined ? undefined : grid[`${scenario.variantOf}@${connections}`];
  for (const id of legacy === undefined ? [] : scenario.servers) {
    lines.push({
      name: `${id === "a" ? "ours" : `(${id})`} ${MODERN_VERSION.slice(0, 4)}/legacy`,
      key: `${id}: ${MODERN_VERSION}/legacy`,
      ratios: ratios(row[id]!, legacy![id]!),
    });
  }
  return lines;
}
