/**
 * What a bench run is: where things are, the knobs (environment, `--smoke`) and the fixed limits; and the bench's
 * progress line on stderr. Every other bench module reads its settings from here.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(BENCH_DIR, "..");
export const CLI = path.join(ROOT, "dist", "pilot-status-mcp.mjs"); // the package bin
export const RESULTS_DIR = path.join(BENCH_DIR, "results");
export const BUILD_DIR = path.join(RESULTS_DIR, ".build");

export const SMOKE = process.argv.includes("--smoke");
/** Smoke-run settings: what each knob is when `--smoke` is given (the environment still wins). */
// No warm-up: the sanity checks have already taken every path, and a smoke run's figures mean nothing anyway.
const SMOKE_SETTINGS: Readonly<Record<string, number>> = {
  BENCH_DURATION: 1,
  BENCH_ROUNDS: 1,
  BENCH_WARMUP: 0,
  BENCH_STDIO_SPAWNS: 1,
  BENCH_STDIO_CALLS: 200,
  BENCH_PAIRS: 1,
};

function numberSetting(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return SMOKE ? (SMOKE_SETTINGS[name] ?? fallback) : fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new Error(`${name} must be a number in [${min}, ${max}]`);
  return value;
}

export const DURATION_S = Math.round(numberSetting("BENCH_DURATION", 2, 1, 60)); // autocannon stops on whole seconds
export const ROUNDS = Math.round(numberSetting("BENCH_ROUNDS", 5, 1, 15));
/** Pairs of one-second bursts behind each paired ratio the call targets are judged on (pairs.ts). */
export const PAIRS = Math.round(numberSetting("BENCH_PAIRS", 16, 1, 100));
export const WARMUP_S = numberSetting("BENCH_WARMUP", 2, 0, 30);
export const STDIO_SPAWNS = Math.round(numberSetting("BENCH_STDIO_SPAWNS", 5, 1, 50));
export const STDIO_CALLS = Math.round(numberSetting("BENCH_STDIO_CALLS", 2000, 10, 100_000));
export const STDIO_WARMUP_CALLS = 200;
/**
 * A measurement during which other programs used more CPU than this is taken again: at most RETAKES_EACH times,
 * and MAX_NOISE_RETRIES times over the whole bench (a machine that stays busy is reported, not waited out).
 */
export const FOREIGN_LIMIT_CORES = 0.25;
export const MAX_NOISE_RETRIES = SMOKE ? 0 : 8; // a smoke run's figures mean nothing: never retaken
export const RETAKES_EACH = 2;
export const CONNECTIONS = [1, 32] as const;
export const PAUSE_MS = 250; // between measurements: lets the last server's GC and sockets settle (and checks for quiet)
/** Longest total wait, over the whole bench, for other programs to leave the CPU before a measurement. */
export const QUIET_BUDGET_MS = SMOKE ? 0 : 60_000;
export const API_KEY = "ps_bench";

export const SKIP_MODERN = process.env.BENCH_SKIP_MODERN === "1";

export function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}
