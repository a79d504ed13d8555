/**
 * The targets of the README's "Performance" section, judged from this run: ratios are medians of per-round
 * ratios. A target is a figure and a goal; nothing here is a test.
 */
import type { ContextCost } from "./context.js";
import { fmt } from "./figures.js";
import { type Cell, type Grid, peakUnderLoadMb } from "./http-rounds.js";
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

export function judgeTargets(grid: Grid, stdio: StdioResults, context: ContextCost): Target[] {
  const cell = (scenario: string, connections: number, id: ServerId): Cell => grid[`${scenario}@${connections}`]![id]!;
  const targets: Target[] = [];
  for (const scenario of SCENARIOS.filter((s) => s.isCall && !s.modern)) {
    const row = grid[`${scenario.key}@32`]!;
    for (const [other, goal] of [
      ["d", 0.7],
      ["b", 2],
      ["c", 20],
    ] as const) {
      const r = ratios(row.a!, row[other]!).rps;
      targets.push({
        name: `HTTP ${scenario.label} req/s @32, ours/(${other})`,
        figure: fmt.ratio(r),
        goal: `>= ${goal}x`,
        pass: r >= goal,
      });
    }
  }
  {
    const name = `HTTP tools/call message_get req/s @32, ours ${MODERN_VERSION}/legacy`;
    const modern = grid["message_get_2026@32"];
    const r = modern === undefined ? Number.NaN : ratios(modern.a!, cell("message_get", 32, "a")).rps;
    targets.push({
      name,
      figure: modern === undefined ? "skipped (BENCH_SKIP_MODERN)" : fmt.ratio(r),
      goal: ">= 0.95x",
      pass: modern === undefined ? undefined : r >= 0.95,
    });
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
