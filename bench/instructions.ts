/**
 * The 2026-07-28 target in instructions. Ours' 2026-07-28 call and its legacy call differ by a few per cent, and
 * on these machines one process's req/s moves by ±25% from one second to the next, so even the paired bursts'
 * interquartile range spans about 0.77x-1.13x (docs/decisions.md #50): throughput cannot settle a 5% target here.
 * Instructions retired per call can. When valgrind is installed the bench runs `bench/instructions.sh` for ours,
 * then for the floor (d), each with `message_get message_get_2026` in one process, and judges the target on
 * the main thread's instructions per call. (d)'s own ratio is what the bigger 2026-07-28 message costs a server
 * that ignores every part of it; ours' ratio over (d)'s is what handling that revision adds. Without valgrind the
 * target falls back to the paired req/s ratio, and says so.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { freePort } from "../test/helpers/loopback.js";
import { runScript } from "./children.js";
import { BENCH_DIR, log, ROOT, SKIP_MODERN, SMOKE } from "./settings.js";

export interface CallInstructions {
  /** Instructions per call on the server's main thread (its event loop: what bounds its req/s). */
  readonly mainThread: number;
  /** The same on all its threads (GC helpers and the compiler included). */
  readonly allThreads: number;
}

export interface ServerInstructions {
  readonly legacy: CallInstructions;
  readonly modern: CallInstructions;
  /** Legacy over 2026-07-28, main thread: the variant's req/s ratio if instructions alone set the pace. */
  readonly ratio: number;
}

export type InstructionCounts =
  | {
      readonly measured: true;
      readonly calls: number;
      readonly turns: number;
      readonly ours: ServerInstructions;
      readonly floor: ServerInstructions;
    }
  | { readonly measured: false; readonly why: string };

const LEGACY = "message_get";
const MODERN = "message_get_2026";
const SCRIPT = path.join(BENCH_DIR, "instructions.sh");

function hasValgrind(): boolean {
  try {
    execFileSync("valgrind", ["--version"], { stdio: "ignore" });
    execFileSync("callgrind_control", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** `ours message_get: 249,631 instructions per call on the main thread, 392,226 on all threads (turns: …)` */
export function parseCounts(output: string, who: string, key: string): CallInstructions | undefined {
  const line = new RegExp(`^${who} ${key}: ([\\d,]+) instructions per call on the main thread, ([\\d,]+) on all`, "m");
  const match = line.exec(output);
  if (match === null) return undefined;
  const number = (text: string): number => Number(text.replaceAll(",", ""));
  return { mainThread: number(match[1]!), allThreads: number(match[2]!) };
}

/** Runs bench/instructions.sh for one server; resolves its legacy and 2026-07-28 counts. */
async function countOne(
  who: "ours" | "floor",
  calls: number,
  warmup: number,
  turns: number,
  floorJs: string,
): Promise<ServerInstructions> {
  const [upPort, port] = await Promise.all([freePort(), freePort()]);
  const env = {
    ...process.env,
    CALLS: String(calls),
    WARMUP: String(warmup),
    REPEAT: String(turns),
    UP_PORT: String(upPort),
    PORT: String(port),
    FLOOR_JS: floorJs,
  };
  const output = await runScript(`bench/instructions.sh ${who}`, [SCRIPT, who, LEGACY, MODERN], env, ROOT);
  const legacy = parseCounts(output, who, LEGACY);
  const modern = parseCounts(output, who, MODERN);
  if (legacy === undefined || modern === undefined)
    throw new Error(`bench/instructions.sh ${who} printed no counts for both calls: ${output.trim()}`);
  return { legacy, modern, ratio: legacy.mainThread / modern.mainThread };
}

/** `floorJs`: the floor forwarder as the bench transpiled it, so (d) is counted as it was measured. */
export async function countInstructions(floorJs: string): Promise<InstructionCounts> {
  if (SKIP_MODERN) return { measured: false, why: "BENCH_SKIP_MODERN" };
  if (process.env.BENCH_INSTRUCTIONS === "0") return { measured: false, why: "BENCH_INSTRUCTIONS=0" };
  if (!hasValgrind()) return { measured: false, why: "valgrind is not installed" };
  // A smoke run only checks that the count works: a few calls, no real warm-up, one turn.
  const calls = SMOKE ? 100 : 2000;
  const warmup = SMOKE ? 100 : 6000;
  const turns = SMOKE ? 1 : 3;
  log(
    `instructions: ours and (d), ${LEGACY} and ${MODERN} under callgrind (${warmup} warm-up calls each, then ${turns} turns of ${calls}), about 7 minutes`,
  );
  // One after the other: a server slowed down by another one beside it reads more requests per event-loop turn
  // than it does alone, and that moves its count by a fifth (ours read 290,468 beside (d), 228,546 alone).
  const ours = await countOne("ours", calls, warmup, turns, floorJs);
  const floor = await countOne("floor", calls, warmup, turns, floorJs);
  return { measured: true, calls, turns, ours, floor };
}
