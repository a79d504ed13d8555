/**
 * `npm run bench`: our server against (b) a minimal express + undici forwarder, (c) the MCP SDK's documented
 * stateless design and (d) the floor, a node:http + undici forwarder with no validation (the most a Node forwarder
 * can do here), all pointed at one loopback fake upstream that answers at once; then stdio cold start and sequential
 * calls, and the context cost of our tools/list. Each server is its own child process (RSS is per server) running
 * plain `node`. The README's "Performance" section says what the figures mean and which targets they are held to.
 *
 * Rounds alternate the servers (order rotated each round, and reversed every other round) and every figure is the
 * median over rounds: 2 cores are noisy. Ratios are medians of per-round ratios. The two message_get scenarios are
 * measured in the same rounds, so ours' 2026-07-28/legacy ratio pairs measurements seconds apart. The call targets
 * at 32 connections are then judged on paired bursts (pairs.ts): many one-second bursts of the two sides back to
 * back, as one server's speed moves too much between rounds for a 5% target. A measurement during which other
 * programs took CPU is taken again. The 2026-07-28/legacy target, a few per cent inside that noise, is judged on
 * instructions per call when valgrind is installed (instructions.ts). Targets are printed as pass/short beside each figure;
 * nothing here is a test. Exit 0 whatever the figures; exit 1 when a server does not start, answers wrongly
 * (ours answering the 2026-07-28 scenario with anything but HTTP 200 and resultType "complete" included), or a
 * request errors out.
 *
 * Knobs (environment): BENCH_DURATION (s per measurement, 2), BENCH_ROUNDS (5), BENCH_WARMUP (s, 2), BENCH_PAIRS (16),
 * BENCH_STDIO_SPAWNS (5), BENCH_STDIO_CALLS (2000); BENCH_SKIP_MODERN=1 leaves the 2026-07-28 scenario out (and
 * its target unjudged), for a server that does not speak that revision yet.
 *
 * `--smoke` (`npm run bench:smoke`, run by CI): one short round of everything, so the bench cannot rot unnoticed
 * (every server must start and answer every scenario correctly). Its figures are too short to mean anything: they
 * go to bench/results/smoke.json, and the targets are not judged.
 *
 * This file only puts the jobs in order; each has its own module (the servers compared are the other files here):
 *   settings.ts     paths, knobs (environment, --smoke), limits
 *   children.ts     child processes: tracked, killed on exit, error and signals
 *   servers.ts      the four servers and the fake upstream: transpiled, started
 *   scenarios.ts    what is sent over HTTP, and to which servers
 *   answers.ts      one POST; the readiness, sanity and under-load checks of answers
 *   load.ts         one autocannon measurement
 *   http-rounds.ts  the HTTP rounds, into a grid of cells
 *   pairs.ts        paired bursts: the ratios the call targets are judged on
 *   instructions.ts instructions per call (valgrind): the 2026-07-28/legacy target
 *   stdio.ts        stdio cold start and sequential calls, against a floor
 *   context.ts      the size of the tools/list result our server sends
 *   memory.ts       RSS and peak RSS from /proc
 *   cpu.ts          CPU time, other programs' share, waiting for quiet and retaking
 *   ratios.ts       per-round ratios between cells
 *   targets.ts      figures against their goals
 *   report.ts       the printed report
 *   results.ts      the record in bench/results/
 *   figures.ts      medians, percentiles, number formats
 */
import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { sanityCheck, waitReady } from "./answers.js";
import { killAllNow, pendingFatalError, stopChild } from "./children.js";
import { measureContextCost } from "./context.js";
import { foreignCoresAtStart, NoiseBudget } from "./cpu.js";
import { measureHttp } from "./http-rounds.js";
import { countInstructions } from "./instructions.js";
import { procStatus } from "./memory.js";
import { measurePairs, pairedBursts } from "./pairs.js";
import { renderReport } from "./report.js";
import { writeResults } from "./results.js";
import { JOB_COUNT, MODERN_VERSION } from "./scenarios.js";
import { perServer, SERVERS, startServers, transpileServers } from "./servers.js";
import { CLI, CONNECTIONS, DURATION_S, log, ROUNDS, SKIP_MODERN, WARMUP_S } from "./settings.js";
import { measureStdio } from "./stdio.js";
import { judgeTargets } from "./targets.js";

async function main(): Promise<number> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm run bench does)`);
  const benchStarted = performance.now();
  const measurementsPlanned = JOB_COUNT * CONNECTIONS.length * ROUNDS;
  log(
    `${measurementsPlanned} measurements of ${DURATION_S} s (${ROUNDS} rounds, servers alternating${SKIP_MODERN ? `; ${MODERN_VERSION} skipped` : ""}) and ${pairedBursts()} paired bursts of 1 s, about ${Math.ceil(
      (measurementsPlanned * (DURATION_S + 0.6) + pairedBursts() * 1.4 + JOB_COUNT * (WARMUP_S + 0.5) + 20) / 60,
    )} min, and about 7 more for the instruction counts when valgrind is installed`,
  );

  const files = transpileServers();
  const servers = await startServers(files);
  const { procs, urls, upstream, upstreamUrl } = servers;
  for (const server of SERVERS) {
    await waitReady(procs[server.id], urls[server.id], 20_000);
    await sanityCheck(server, urls[server.id]);
  }
  log(`servers up: ${SERVERS.map((s) => `${s.label} ${procs[s.id].pid}`).join(", ")}; upstream ${upstreamUrl}`);
  const idleRssMb = perServer((id) => (procStatus(procs[id].pid)?.rssKb ?? Number.NaN) / 1024);
  const context = await measureContextCost(urls.a);

  const noise = new NoiseBudget();
  const foreignAtStart = await foreignCoresAtStart();
  const grid = await measureHttp(servers, noise);
  const paired = await measurePairs(servers, noise);
  const lifetimePeakMb = perServer((id) => (procStatus(procs[id].pid)?.hwmKb ?? Number.NaN) / 1024);
  for (const server of SERVERS) await stopChild(procs[server.id]);

  const stdio = await measureStdio(upstreamUrl, files.stdioFloor, noise);
  await stopChild(upstream);
  const instructions = await countInstructions(files.floor);

  const outcome = {
    grid,
    idleRssMb,
    lifetimePeakMb,
    foreignAtStart,
    noise,
    stdio,
    context,
    paired,
    instructions,
    targets: judgeTargets(grid, paired, instructions, stdio, context),
    elapsedS: (performance.now() - benchStarted) / 1000,
  };
  process.stdout.write(`${renderReport(outcome)}\n`);
  writeResults(outcome);
  return 0;
}

// Whatever happens, the bench ends: a watchdog well past the planned time.
// (instructions.sh takes about 3.5 minutes a server under valgrind.)
const plannedS =
  JOB_COUNT * CONNECTIONS.length * ROUNDS * (DURATION_S + 1) + pairedBursts() * 2 + JOB_COUNT * (WARMUP_S + 1) + 600;
const watchdog = setTimeout(() => {
  process.stderr.write(`bench: still running after ${Math.round(plannedS * 2)} s; giving up\n`);
  killAllNow();
  process.exit(1);
}, plannedS * 2000);

main()
  .then((code) => {
    clearTimeout(watchdog);
    killAllNow();
    process.exitCode = code;
  })
  .catch(async (error: unknown) => {
    clearTimeout(watchdog);
    process.stderr.write(`bench: FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
    // A failed load is often a server that died: give its exit a moment to land, then say so, with its stderr.
    await sleep(200);
    const fatalError = pendingFatalError();
    if (fatalError !== undefined && fatalError !== error)
      process.stderr.write(`bench: meanwhile: ${fatalError.message}\n`);
    killAllNow();
    process.exit(1);
  });
