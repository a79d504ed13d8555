/**
 * What a run found, and its record: bench/results/latest.json (bench/results/smoke.json for a smoke run), with the
 * environment, the settings, every scenario as sent, every figure and ratio, and the targets.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ContextCost } from "./context.js";
import type { NoiseBudget } from "./cpu.js";
import { median } from "./figures.js";
import { type Grid, keptNoise, peakUnderLoadMb } from "./http-rounds.js";
import type { InstructionCounts } from "./instructions.js";
import type { PairedRatio } from "./pairs.js";
import { ratioLines } from "./ratios.js";
import { SCENARIOS } from "./scenarios.js";
import { SERVERS, type ServerId } from "./servers.js";
import {
  CONNECTIONS,
  DURATION_S,
  FOREIGN_LIMIT_CORES,
  PAIRS,
  RESULTS_DIR,
  ROOT,
  ROUNDS,
  SKIP_MODERN,
  SMOKE,
  STDIO_CALLS,
  STDIO_SPAWNS,
  WARMUP_S,
} from "./settings.js";
import type { StdioResults } from "./stdio.js";
import type { Target } from "./targets.js";

export const RESULTS_FILE = path.join(RESULTS_DIR, SMOKE ? "smoke.json" : "latest.json");

export interface BenchOutcome {
  readonly grid: Grid;
  readonly paired: readonly PairedRatio[];
  readonly instructions: InstructionCounts;
  readonly idleRssMb: Record<ServerId, number>;
  readonly lifetimePeakMb: Record<ServerId, number>;
  readonly foreignAtStart: number;
  readonly noise: NoiseBudget;
  readonly stdio: StdioResults;
  readonly context: ContextCost;
  readonly targets: readonly Target[];
  readonly elapsedS: number;
}

export function writeResults(outcome: BenchOutcome): void {
  const { grid, stdio, context, noise } = outcome;
  const stolen = keptNoise(grid, "stolenCores");
  const json = {
    date: new Date().toISOString(),
    environment: {
      node: process.version,
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model.trim(),
      loadavgAtEnd: os.loadavg(),
      gitCommit: readGitHead(),
    },
    settings: {
      smoke: SMOKE,
      skipModern: SKIP_MODERN,
      durationS: DURATION_S,
      rounds: ROUNDS,
      warmupS: WARMUP_S,
      pairs: PAIRS,
      connections: CONNECTIONS,
      stdioSpawns: STDIO_SPAWNS,
      stdioCalls: STDIO_CALLS,
    },
    scenarios: SCENARIOS.map((s) => ({
      key: s.key,
      label: s.label,
      servers: s.servers,
      headers: s.headers,
      body: s.body,
    })),
    servers: Object.fromEntries(
      SERVERS.map((s) => [
        s.id,
        {
          label: s.label,
          idleRssMb: outcome.idleRssMb[s.id],
          peakUnderLoadMb: peakUnderLoadMb(grid, s.id),
          lifetimePeakMb: outcome.lifetimePeakMb[s.id],
        },
      ]),
    ),
    http: Object.fromEntries(
      SCENARIOS.flatMap((scenario) =>
        CONNECTIONS.map((connections) => {
          const key = `${scenario.key}@${connections}`;
          const lines = ratioLines(grid, scenario, connections);
          return [key, { ...grid[key], ratios: Object.fromEntries(lines.map((line) => [line.key, line.ratios])) }];
        }),
      ),
    ),
    /** The paired bursts at 32 connections the call targets are judged on: ratio per pair, median, quartiles. */
    paired: outcome.paired,
    /** Instructions per call, ours' legacy and 2026-07-28 message_get in one process (bench/instructions.sh). */
    instructions: outcome.instructions,
    noise: {
      foreignCoresAtStart: outcome.foreignAtStart,
      /** Hypervisor steal during the kept HTTP measurements: a slow machine no local process explains. */
      stolenCores: {
        median: median(stolen),
        max: Math.max(...stolen),
      },
      retaken: noise.retaken,
      limitCores: FOREIGN_LIMIT_CORES,
      waitedForQuietMs: noise.waitedForQuietMs,
    },
    stdio: {
      coldStartMs: {
        median: stdio.coldStartMedianMs,
        all: stdio.coldStarts,
        nodeSpawnFloorMs: stdio.spawnFloorMedianMs,
      },
      sequential: stdio.sequential,
      floorSequential: stdio.floorSequential,
    },
    contextCost: {
      what: "the tools/list result ours sends over HTTP (legacy client), compact JSON",
      resultBytes: context.resultBytes,
      answerBytes: context.answerBytes,
      approxTokens: context.approxTokens,
      approxTokensRule: "bytes / 4, an approximation",
    },
    targets: outcome.targets.map((t) => ({ ...t, pass: t.pass ?? null })),
    elapsedS: outcome.elapsedS,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(RESULTS_FILE, `${JSON.stringify(json, null, 2)}\n`);
}

/** The checked-out commit, for the record; read from .git without running git. */
function readGitHead(): string | undefined {
  try {
    const head = readFileSync(path.join(ROOT, ".git", "HEAD"), "utf8").trim();
    if (!head.startsWith("ref: ")) return head;
    const ref = head.slice(5);
    const loose = path.join(ROOT, ".git", ref);
    if (existsSync(loose)) return readFileSync(loose, "utf8").trim();
    const packed = readFileSync(path.join(ROOT, ".git", "packed-refs"), "utf8");
    return packed
      .split("\n")
      .find((line) => line.endsWith(` ${ref}`))
      ?.split(" ")[0];
  } catch {
    return undefined;
  }
}
