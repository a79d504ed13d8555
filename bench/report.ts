/** The printed report: what was compared, the table of every scenario and server, stdio, context cost, targets. */
import os from "node:os";
import path from "node:path";
import { fmt, median, pad } from "./figures.js";
import { type Grid, keptNoise, peakUnderLoadMb } from "./http-rounds.js";
import { ratioLines } from "./ratios.js";
import { type BenchOutcome, RESULTS_FILE } from "./results.js";
import { MODERN_VERSION, SCENARIOS } from "./scenarios.js";
import { SERVER_BY_ID, SERVERS } from "./servers.js";
import {
  CONNECTIONS,
  DURATION_S,
  FOREIGN_LIMIT_CORES,
  PAIRS,
  ROOT,
  ROUNDS,
  SMOKE,
  STDIO_WARMUP_CALLS,
} from "./settings.js";

const SCENARIO_WIDTH = 34;
const SERVER_WIDTH = 18;

function printTable(grid: Grid): string {
  const lines: string[] = [];
  const figures = (rps: string, p50: string, p99: string, rss: string, cpu: string): string =>
    `${pad(rps, 10, true)}${pad(p50, 10, true)}${pad(p99, 10, true)}${pad(rss, 13, true)}${pad(cpu, 12, true)}`;
  const head = `${pad("scenario", SCENARIO_WIDTH)}${pad("conns", 6, true)}  ${pad("server", SERVER_WIDTH)}${figures("req/s", "p50 ms", "p99 ms", "peak RSS MB", "CPU us/req")}`;
  lines.push(head, "-".repeat(head.length));
  for (const scenario of SCENARIOS) {
    for (const connections of CONNECTIONS) {
      const row = grid[`${scenario.key}@${connections}`]!;
      scenario.servers.forEach((id, index) => {
        const cell = row[id]!;
        lines.push(
          `${pad(index === 0 ? scenario.label : "", SCENARIO_WIDTH)}${pad(index === 0 ? String(connections) : "", 6, true)}  ${pad(SERVER_BY_ID[id].label, SERVER_WIDTH)}${figures(fmt.rps(cell.rps), fmt.ms(cell.p50), fmt.ms(cell.p99), fmt.mb(cell.peakRssMb), fmt.rps(cell.cpuUs))}`,
        );
      });
      for (const { name, ratios: r } of ratioLines(grid, scenario, connections)) {
        lines.push(
          `${pad("", SCENARIO_WIDTH + 6)}  ${pad(name, SERVER_WIDTH)}${figures(fmt.ratio(r.rps), fmt.ratio(r.p50), fmt.ratio(r.p99), fmt.ratio(r.peakRss), fmt.ratio(r.cpuUs))}`,
        );
      }
      lines.push("");
    }
  }
  return lines.join("\n");
}

const signedPercent = (fraction: number): string => `${fraction >= 0 ? "+" : ""}${(fraction * 100).toFixed(1)}%`;

export function renderReport(outcome: BenchOutcome): string {
  const { grid, paired, instructions, idleRssMb, foreignAtStart, noise, stdio, context, targets } = outcome;
  const { sequential, floorSequential } = stdio;
  const out: string[] = [];
  out.push("");
  out.push(
    `pilot-status-mcp bench: node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? "?"}), ${ROUNDS} rounds x ${DURATION_S} s per figure, medians (ratios: median of per-round ratios)`,
  );
  out.push(
    "(a) ours = node dist/pilot-status-mcp.mjs http; (b) express+undici forwarder (bench/reference-forwarder.ts); (c) SDK stateless example (bench/sdk-example.ts);",
  );
  out.push(
    `(d) floor = node:http+undici, no validation (bench/floor-forwarder.ts); ${MODERN_VERSION}: only ours speaks it, (d) runs it as legacy (context)`,
  );
  out.push(
    "latency = client-side, per response; peak RSS = highest VmHWM of the server process during the measured rounds;",
  );
  out.push(
    "CPU us/req = the server process's CPU time (all threads) per answered request: the figure least moved by noise",
  );
  out.push("");
  out.push(printTable(grid));
  out.push(
    `idle RSS after start-up (MB): ${SERVERS.map((s) => `${s.label} ${fmt.mb(idleRssMb[s.id])}`).join(", ")}; peak under load: ${SERVERS.map((s) => `${s.label} ${fmt.mb(peakUnderLoadMb(grid, s.id))}`).join(", ")}`,
  );
  const allForeign = keptNoise(grid, "foreignCores");
  const allStolen = keptNoise(grid, "stolenCores");
  out.push(
    `noise: other processes used ${foreignAtStart.toFixed(2)} cores before the start, median ${median(allForeign).toFixed(2)} / max ${Math.max(...allForeign).toFixed(2)} cores during kept measurements, of which hypervisor steal median ${median(allStolen).toFixed(2)} / max ${Math.max(...allStolen).toFixed(2)} cores; ${noise.retaken.length} measurement(s) retaken, ${(noise.waitedForQuietMs / 1000).toFixed(0)} s waited for quiet (limit ${FOREIGN_LIMIT_CORES} cores)`,
  );
  out.push("");
  out.push(
    `paired bursts at 32 connections (${PAIRS} pairs of 1 s bursts, back to back, order swapped every other pair): median of per-pair req/s ratios, interquartile range`,
  );
  const labelWidth = Math.max(0, ...paired.map((p) => p.label.length)) + 2;
  for (const p of paired) {
    out.push(
      `  ${pad(p.label, labelWidth)}${pad(fmt.ratio(p.median), 8, true)}   IQR ${fmt.ratio(p.q1)}-${fmt.ratio(p.q3)}`,
    );
  }
  out.push("");
  if (instructions.measured) {
    const { calls, turns } = instructions;
    out.push(
      `instructions per call (bench/instructions.sh, ours and (d) each under callgrind with message_get and message_get_2026 in one process; ${calls} calls per turn at 32 connections, the least of ${turns} turns)`,
    );
    for (const [who, counts] of [
      ["(a) ours", instructions.ours],
      ["(d) floor", instructions.floor],
    ] as const) {
      const { legacy, modern, ratio } = counts;
      out.push(
        `  ${pad(who, 10)} legacy ${pad(fmt.count(legacy.mainThread), 8, true)}, ${MODERN_VERSION} ${pad(fmt.count(modern.mainThread), 8, true)} on the main thread (${fmt.count(legacy.allThreads)}, ${fmt.count(modern.allThreads)} on all threads): ${MODERN_VERSION} ${signedPercent(modern.mainThread / legacy.mainThread - 1)}, legacy/${MODERN_VERSION} ${ratio.toFixed(3)}x`,
      );
    }
  } else {
    out.push(`instructions per call: not counted (${instructions.why})`);
  }
  out.push("");
  out.push("stdio (node dist/pilot-status-mcp.mjs stdio)");
  out.push(
    `  cold start, spawn -> first tools/list answer: median ${fmt.ms(stdio.coldStartMedianMs)} ms over ${stdio.coldStarts.length} (${stdio.coldStarts.map((v) => fmt.ms(v)).join(", ")}); plain node spawn -> first output: ${fmt.ms(stdio.spawnFloorMedianMs)} ms`,
  );
  out.push(
    `  ${sequential.calls} sequential tools/call message_get over one connection (after ${STDIO_WARMUP_CALLS} warm-up; median of ${ROUNDS} rounds): p50 ${fmt.ms(sequential.p50)} ms, p99 ${fmt.ms(sequential.p99)} ms, mean ${fmt.ms(sequential.mean)} ms, peak RSS ${fmt.mb(sequential.peakRssMb)} MB`,
  );
  out.push(
    `  floor, the same calls through a bare line-to-undici forwarder (bench/stdio-floor.ts): p50 ${fmt.ms(floorSequential.p50)} ms, p99 ${fmt.ms(floorSequential.p99)} ms; ours/floor p50 ${fmt.ratio(sequential.p50 / floorSequential.p50)}`,
  );
  out.push("");
  out.push("context cost (what a client puts in the model's context before the first call)");
  out.push(
    `  tools/list result, as ours sends it over HTTP: ${fmt.count(context.resultBytes)} bytes (${fmt.kb(context.resultBytes)} KB of 1,000 bytes), about ${fmt.count(context.approxTokens)} tokens (bytes/4: an approximation, not a tokenizer's count); the whole answer ${fmt.count(context.answerBytes)} bytes`,
  );
  out.push("");
  out.push(
    SMOKE
      ? "targets (README, Performance): not judged on a smoke run (run `npm run bench` for figures)"
      : "targets (README, Performance)",
  );
  const nameWidth = Math.max(...targets.map((t) => t.name.length)) + 2;
  const figureWidth = Math.max(28, ...targets.map((t) => t.figure.length + 2));
  for (const t of targets) {
    out.push(
      `  ${pad(t.name, nameWidth)}${pad(t.figure, figureWidth)}${pad(t.goal, 11)}${SMOKE || t.pass === undefined ? "-" : t.pass ? "pass" : "short"}`,
    );
  }
  out.push("");
  out.push(
    `${SMOKE ? "smoke run: every server started and answered every scenario correctly; " : ""}bench took ${outcome.elapsedS.toFixed(0)} s; results in ${path.relative(ROOT, RESULTS_FILE)}`,
  );
  return out.join("\n");
}
