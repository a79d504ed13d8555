/**
 * CPU time from /proc: what a process spent, and how much other programs took meanwhile (noise on a shared
 * machine); and the bench's one budget for waiting out that noise and retaking the measurements it disturbed.
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { benchPids } from "./children.js";
import { FOREIGN_LIMIT_CORES, log, MAX_NOISE_RETRIES, PAUSE_MS, QUIET_BUDGET_MS, RETAKES_EACH } from "./settings.js";

/**
 * CPU time in clock ticks: the whole machine's busy time, and that of the given processes. On a virtual machine the
 * busy time includes steal: time the hypervisor gave this machine's cores to another guest.
 */
interface CpuSnapshot {
  readonly at: number;
  readonly machineBusy: number;
  readonly steal: number;
  readonly ours: number;
}

export const CLOCK_TICKS = 100; // USER_HZ on Linux

export function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return 0;
  }
}

export function cpuSnapshot(pids: readonly number[]): CpuSnapshot | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const total = values.slice(0, 8).reduce((sum, v) => sum + v, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return {
      at: performance.now(),
      machineBusy: total - idle,
      steal: values[7] ?? 0,
      ours: pids.reduce((sum, pid) => sum + processTicks(pid), 0),
    };
  } catch {
    return undefined;
  }
}

/** The ticks `counted` gives between two snapshots, as cores' worth of CPU over that time. */
function coresBetween(
  before: CpuSnapshot | undefined,
  after: CpuSnapshot | undefined,
  counted: (s: CpuSnapshot) => number,
): number {
  if (before === undefined || after === undefined) return Number.NaN;
  const seconds = (after.at - before.at) / 1000;
  return Math.max(0, (counted(after) - counted(before)) / CLOCK_TICKS / seconds);
}

/** Cores' worth of CPU that processes outside this bench used between two snapshots (noise on a shared machine). */
export function foreignCores(before: CpuSnapshot | undefined, after: CpuSnapshot | undefined): number {
  return coresBetween(before, after, (s) => s.machineBusy - s.ours);
}

/**
 * Cores' worth of CPU the hypervisor took for other guests between two snapshots: part of foreignCores, said on
 * its own because no process on this machine can be stopped to end it.
 */
export function stolenCores(before: CpuSnapshot | undefined, after: CpuSnapshot | undefined): number {
  return coresBetween(before, after, (s) => s.steal);
}

/** What other programs use over one second before anything is measured; said when it will make figures noisy. */
export async function foreignCoresAtStart(): Promise<number> {
  const quietBefore = cpuSnapshot([process.pid]);
  await sleep(1000);
  const foreign = foreignCores(quietBefore, cpuSnapshot([process.pid]));
  if (foreign > FOREIGN_LIMIT_CORES)
    log(`other processes are using ${foreign.toFixed(2)} cores: figures will be noisy`);
  return foreign;
}

/**
 * Pause between measurements; while other programs keep more than FOREIGN_LIMIT_CORES busy, keep waiting (at most
 * budgetMs). Returns the time spent waiting beyond the plain pause.
 */
async function waitForQuiet(budgetMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const before = cpuSnapshot(benchPids());
    await sleep(PAUSE_MS);
    const foreign = foreignCores(before, cpuSnapshot(benchPids()));
    const waited = performance.now() - started - PAUSE_MS;
    if (!(foreign > FOREIGN_LIMIT_CORES) || waited >= budgetMs) return Math.max(0, waited);
    if (waited === 0 || Math.round(waited / PAUSE_MS) % 10 === 0)
      log(`  waiting: other processes use ${foreign.toFixed(2)} cores`);
  }
}

/**
 * The whole bench's allowance for noise, shared by the HTTP and the stdio measurements: QUIET_BUDGET_MS of waiting
 * for quiet, and MAX_NOISE_RETRIES retakes (RETAKES_EACH at most for one measurement).
 */
export class NoiseBudget {
  private retriesLeft = MAX_NOISE_RETRIES;
  /** Time spent waiting for quiet beyond the plain pauses. */
  waitedForQuietMs = 0;
  /** One line per measurement taken again: what it was and how many cores others used. */
  readonly retaken: string[] = [];

  /** The pause before a measurement, longer while other programs keep the CPU (within the budget). */
  async pause(): Promise<void> {
    this.waitedForQuietMs += await waitForQuiet(QUIET_BUDGET_MS - this.waitedForQuietMs);
  }

  /** Measure; while other programs took CPU meanwhile, measure again (`announce`: say so on stderr). */
  async measure<T extends { readonly foreignCores: number }>(
    label: string,
    measure: () => Promise<T>,
    announce: boolean,
  ): Promise<T> {
    let measurement = await measure();
    for (
      let retake = 0;
      measurement.foreignCores > FOREIGN_LIMIT_CORES && this.retriesLeft > 0 && retake < RETAKES_EACH;
      retake++
    ) {
      this.retriesLeft--;
      this.retaken.push(`${label}: ${measurement.foreignCores.toFixed(2)} cores`);
      if (announce)
        log(`  other processes used ${measurement.foreignCores.toFixed(2)} cores meanwhile; measuring again`);
      await sleep(1000);
      measurement = await measure();
    }
    return measurement;
  }
}
