/**
 * The targets of the README's "Performance" section, judged from this run: ratios are medians of per-round
 * ratios. A target is a figure and a goal; nothing here is a test.
 */
import type { ContextCost } from "./context.js";
import { fmt } from "./figures.js";
import { type Cell, type Grid, peakUnderLoadMb } from "./http-rounds.js";
import type { InstructionCounts } from "./instructions.js";
import { type PairedRatio, pairKey, variantKey } from "./pairs.js";
import { ratios } from "./ratios.js";
import { MODERN_VERSION, SCENARIOS } from "./scenarios.js";
import type { ServerId } from "./servers.js";
import { STDIO_CALLS } from "./settings.js";
import type { StdioResults } from "./stdio.js";

export interface Target {
  readonly name: string;
  readonly figure: string;
  readonly goal: string;
  /** undefined: not measured in this run (BENCH_SKIP_MODERN). */
  readonly pass: boolean | undefined;
}

/** The most a tools/list result may weigh in the model's context. */
const TOOLS_LIST_RESULT_LIMIT_KB = 60;

/**
 * The call targets at 32 connections are judged on the paired bursts (pairs.ts) where they were measured, the
 * grid's per-round ratios otherwise ((c), a hundred times slower, needs no such precision). The 2026-07-28/legacy
 * target is judged on instructions per call when they were counted, its req/s ratio shown beside them.
 */
export function judgeTargets(
  grid: Grid,
  paired: readonly PairedRatio[],
  instructions: InstructionCounts,
  stdio: StdioResults,
  context: ContextCost,
): Target[] {
  const cell = (scenario: string, connections: number, id: ServerId): Cell => grid[`${scenario}@${connections}`]![id]!;
  /** The paired ratio behind a target, when it was measured: its median and how the figure is written. */
  const pairedOf = (key: string): { median: number; figure: string } | undefined => {
    const p = paired.find((r) => r.key === key);
    return p === undefined
      ? undefined
      : { median: p.median, figure: `${fmt.ratio(p.median)} (IQR ${fmt.ratio(p.q1)}-${fmt.ratio(p.q3)})` };
  };
  const targets: Target[] = [];
  for (const scenario of SCENARIOS.filter((s) => s.isCall && !s.modern)) {
    const row = grid[`${scenario.key}@32`]!;
    for (const [other, goal] of [
      ["d", 0.7],
      ["b", 2],
      ["c", 20],
    ] as const) {
      const p = pairedOf(pairKey(scenario.key, other));
      const r = p?.median ?? ratios(row.a!, row[other]!).rps;
      targets.push({
        name: `HTTP ${scenario.label} req/s @32, ours/(${other})`,
        figure: p?.figure ?? fmt.ratio(r),
        goal: `>= ${goal}x`,
        pass: r >= goal,
      });
    }
  }
  {
    const name = `HTTP tools/call message_get req/s @32, ours ${MODERN_VERSION}/legacy`;
    const modern = grid["message_get_2026@32"];
    const p = pairedOf(variantKey("message_get"));
    const rps = modern === undefined ? Number.NaN : (p?.median ?? ratios(modern.a!, cell("message_get", 32, "a")).rps);
    const r = instructions.measured ? instructions.ours.ratio : rps;
    targets.push({
      name,
      figure:
        modern === undefined
          ? "skipped (BENCH_SKIP_MODERN)"
          : instructions.measured
            ? `${r.toFixed(3)}x in instructions (req/s: ${fmt.ratio(rps)})`
            : `${p?.figure ?? fmt.ratio(r)} (req/s: ${instructions.why})`,
      goal: ">= 0.95x",
      pass: modern === undefined ? undefined : r >= 0.95,
    });
    // The same ratio over the floor's: what handling 2026-07-28 costs beyond the bigger message (decisions #50).
    if (instructions.measured) {
      const overFloor = instructions.ours.ratio / instructions.floor.ratio;
      targets.push({
        name: `ours' handling of ${MODERN_VERSION}: its ${MODERN_VERSION}/legacy over (d)'s`,
        figure: `${overFloor.toFixed(3)}x in instructions ((d): ${instructions.floor.ratio.toFixed(3)}x)`,
        goal: ">= 0.95x",
        pass: overFloor >= 0.95,
      });
    }
  }
  const listP50 = cell("tools_list", 1, "a").p50;
  targets.push({
    name: "HTTP tools/list p50 @1, ours",
    figure: `${fmt.ms(listP50)} ms`,
    goal: "<= 1 ms",
    pass: listP50 <= 1,
  });
  const peakOurs = peakUnderLoadMb(grid, "a");
  const peakReference = peakUnderLoadMb(grid, "b");
  const rssRatio = peakOurs / peakReference;
  targets.push({
    name: "peak RSS under load, ours/(b)",
    figure: `${fmt.ratio(rssRatio)} (${fmt.mb(peakOurs)} / ${fmt.mb(peakReference)} MB)`,
    goal: "<= 1.1x",
    pass: rssRatio <= 1.1,
  });
  const cold = stdio.coldStartMedianMs;
  targets.push({
    name: "stdio cold start (spawn -> tools/list), median",
    figure: `${fmt.ms(cold)} ms`,
    goal: "<= 250 ms",
    pass: cold <= 250,
  });
  targets.push({
    name: `stdio sequential tools/call p50 (${STDIO_CALLS})`,
    figure: `${fmt.ms(stdio.sequential.p50)} ms`,
    goal: "<= 0.5 ms",
    pass: stdio.sequential.p50 <= 0.5,
  });
  targets.push({
    name: "tools/list result, ours over HTTP (context cost)",
    figure: `${fmt.kb(context.resultBytes)} KB`,
    goal: `< ${TOOLS_LIST_RESULT_LIMIT_KB} KB`,
    pass: context.resultBytes < TOOLS_LIST_RESULT_LIMIT_KB * 1000,
  });
  return targets;
}
