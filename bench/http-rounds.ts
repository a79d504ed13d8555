/**
 * The HTTP part of the bench: every scenario group measured in rounds that alternate the servers (order rotated
 * each round, and reversed every other round), each figure the median over rounds; the result is the grid the
 * table, the ratios and the targets are read from.
 */
import { checkFatal } from "./children.js";
import type { NoiseBudget } from "./cpu.js";
import { median } from "./figures.js";
import { load, type Measurement } from "./load.js";
import { GROUPS, type Scenario } from "./scenarios.js";
import { type RunningServers, SERVERS, type ServerId } from "./servers.js";
import { CONNECTIONS, DURATION_S, log, ROUNDS, WARMUP_S } from "./settings.js";

export interface Cell {
  readonly rounds: Measurement[];
  rps: number;
  p50: number;
  p99: number;
  /** Highest peak RSS over the rounds. */
  peakRssMb: number;
  /** Server CPU time per request, µs. */
  cpuUs: number;
}

export type Row = Partial<Record<ServerId, Cell>>;
export type Grid = Record<string, Row>; // key: `${scenario}@${connections}`

export async function measureHttp(servers: RunningServers, noise: NoiseBudget): Promise<Grid> {
  const { procs, urls, upstream } = servers;
  const grid: Grid = {};
  for (const group of GROUPS) {
    // Server by server, so that ours' two message_get scenarios sit side by side in every round's order.
    const jobs = SERVERS.flatMap((server) =>
      group.filter((s) => s.servers.includes(server.id)).map((scenario) => ({ scenario, server })),
    );
    if (WARMUP_S > 0) {
      for (const { scenario, server } of jobs) {
        checkFatal();
        await load(urls[server.id], scenario, server.id, 32, WARMUP_S, undefined);
      }
    }
    for (const connections of CONNECTIONS) {
      const rows = new Map<Scenario, Row>(group.map((scenario) => [scenario, {}]));
      for (const { scenario, server } of jobs)
        rows.get(scenario)![server.id] = { rounds: [], rps: 0, p50: 0, p99: 0, peakRssMb: 0, cpuUs: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        // Rotated each round and reversed every other one: each job goes first, and before and after each other.
        const rotated = jobs.map((_, i) => jobs[(i + round) % jobs.length]!);
        const order = round % 2 === 1 ? rotated.reverse() : rotated;
        for (const { scenario, server } of order) {
          checkFatal();
          await noise.pause();
          log(`${scenario.label} @${connections}: ${server.label}, round ${round + 1}/${ROUNDS}`);
          const accountPids = [process.pid, procs[server.id].pid, upstream.pid];
          // Another program took CPU meanwhile (a shared machine): measure again, within a fixed budget.
          const measurement = await noise.measure(
            `${scenario.key}@${connections} ${server.id} r${round + 1}`,
            () =>
              load(urls[server.id], scenario, server.id, connections, DURATION_S, procs[server.id].pid, accountPids),
            true,
          );
          checkFatal();
          rows.get(scenario)![server.id]!.rounds.push(measurement);
        }
      }
      for (const [scenario, row] of rows) {
        for (const cell of Object.values(row)) {
          cell.rps = median(cell.rounds.map((m) => m.rps));
          cell.p50 = median(cell.rounds.map((m) => m.p50));
          cell.p99 = median(cell.rounds.map((m) => m.p99));
          cell.peakRssMb = Math.max(...cell.rounds.map((m) => m.peakRssMb));
          cell.cpuUs = median(cell.rounds.map((m) => m.serverCpuUs));
        }
        grid[`${scenario.key}@${connections}`] = row;
      }
    }
  }
  return grid;
}

/** A server's highest peak RSS over every measured cell. */
export function peakUnderLoadMb(grid: Grid, id: ServerId): number {
  return Math.max(...Object.values(grid).map((row) => row[id]?.peakRssMb ?? 0));
}

/** Other programs' CPU use (or the hypervisor's steal, a part of it) during every measurement that was kept. */
export function keptNoise(grid: Grid, kind: "foreignCores" | "stolenCores"): number[] {
  return Object.values(grid).flatMap((row) => Object.values(row).flatMap((c) => c.rounds.map((m) => m[kind])));
}
