/**
 * The stdio part of the bench, run with the HTTP servers gone (the upstream stays): cold starts (spawn -> first
 * tools/list answer, beside a plain `node` spawn), then rounds of sequential tools/call over one connection that
 * alternate our server and a bare line-to-undici floor (bench/stdio-floor.ts).
 */
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { JsonRpcAnswer } from "./answers.js";
import { benchPids, type Child, checkFatal, childCwd, startChild, tailOf } from "./children.js";
import { cpuSnapshot, foreignCores, type NoiseBudget } from "./cpu.js";
import { median, percentile } from "./figures.js";
import { PeakRss } from "./memory.js";
import { TOOL_COUNT } from "./scenarios.js";
import { API_KEY, CLI, log, ROUNDS, STDIO_CALLS, STDIO_SPAWNS, STDIO_WARMUP_CALLS } from "./settings.js";

class LineClient {
  private buffer = "";
  private readonly waiting = new Map<number, (message: JsonRpcAnswer & { id?: number }) => void>();

  constructor(private readonly child: Child) {
    child.proc.stdout!.setEncoding("utf8");
    child.proc.stdout!.on("data", (chunk: string) => {
      this.buffer += chunk;
      let newline = this.buffer.indexOf("\n");
      while (newline >= 0) {
        const line = this.buffer.slice(0, newline);
        this.buffer = this.buffer.slice(newline + 1);
        newline = this.buffer.indexOf("\n");
        if (line.trim() === "") continue;
        const message = JSON.parse(line) as JsonRpcAnswer & { id?: number };
        const resolve = message.id === undefined ? undefined : this.waiting.get(message.id);
        if (resolve) {
          this.waiting.delete(message.id!);
          resolve(message);
        }
      }
    });
  }

  send(message: object): void {
    this.child.proc.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  answer(id: number, timeoutMs: number): Promise<JsonRpcAnswer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.child.name}: no answer to id ${id} within ${timeoutMs} ms${tailOf(this.child)}`));
      }, timeoutMs);
      this.waiting.set(id, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
    });
  }
}

const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "1.0.0" } },
};
const INITIALIZED = { jsonrpc: "2.0", method: "notifications/initialized" };

/**
 * The environment an MCP client gives a stdio server: the SDK's StdioClientTransport passes only a few basics
 * (HOME, PATH, USER, …) plus the configured variables. Inheriting this shell's instead would measure settings no
 * client passes (this sandbox's NODE_EXTRA_CA_CERTS alone adds ~50 ms to every Node start-up).
 */
function clientSpawnEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...getDefaultEnvironment(), ...extra };
}

function startStdio(upstreamUrl: string, n: number, script = CLI): Child {
  return startChild(
    script === CLI ? `stdio server #${n}` : `stdio floor #${n}`,
    [script, "stdio"],
    { PILOT_STATUS_API_KEY: API_KEY, PILOT_STATUS_API_URL: upstreamUrl, LOG_LEVEL: "warn" },
    "pipe",
    clientSpawnEnv,
  );
}

async function endStdio(child: Child): Promise<void> {
  child.stopping = true;
  const exited = child.exited
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.proc.once("exit", () => resolve()));
  child.proc.stdin!.end();
  const timer = setTimeout(() => child.proc.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** Spawn → first tools/list answered, with initialize + initialized + tools/list written at once. */
async function stdioColdStart(upstreamUrl: string, n: number): Promise<number> {
  const started = performance.now();
  const child = startStdio(upstreamUrl, n);
  const client = new LineClient(child);
  const listed = client.answer(2, 10_000);
  client.send(INITIALIZE);
  client.send(INITIALIZED);
  client.send({ jsonrpc: "2.0", id: 2, method: "tools/list" });
  const answer = await listed;
  const elapsed = performance.now() - started;
  if (answer.result?.tools?.length !== TOOL_COUNT)
    throw new Error(`stdio tools/list: ${answer.result?.tools?.length ?? 0} tools`);
  await endStdio(child);
  return elapsed;
}

/** Plain `node` spawn → first line on stdout: the floor under any cold start on this machine. */
function nodeSpawnFloor(): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const proc = spawn(process.execPath, ["-e", "process.stdout.write('x\\n')"], {
      cwd: childCwd,
      env: clientSpawnEnv({}),
      stdio: ["ignore", "pipe", "ignore"],
    });
    proc.stdout.once("data", () => resolve(performance.now() - started));
    proc.once("error", reject);
  });
}

interface StdioSequential {
  readonly calls: number;
  readonly foreignCores: number;
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  readonly peakRssMb: number;
}

async function stdioSequential(upstreamUrl: string, n: number, script = CLI): Promise<StdioSequential> {
  const child = startStdio(upstreamUrl, n, script);
  const client = new LineClient(child);
  const initialized = client.answer(1, 10_000);
  client.send(INITIALIZE);
  await initialized;
  client.send(INITIALIZED);
  let id = 10;
  const call = async (): Promise<number> => {
    const current = ++id;
    const started = performance.now();
    const answered = client.answer(current, 10_000);
    client.send({
      jsonrpc: "2.0",
      id: current,
      method: "tools/call",
      params: { name: "message_get", arguments: { messageId: "msg_1" } },
    });
    const answer = await answered;
    const elapsed = performance.now() - started;
    if (answer.result === undefined || answer.result.isError === true) {
      throw new Error(`stdio tools/call failed: ${JSON.stringify(answer).slice(0, 300)}`);
    }
    return elapsed;
  };
  for (let i = 0; i < STDIO_WARMUP_CALLS; i++) await call();
  const peak = new PeakRss(child.pid);
  const accountPids = benchPids();
  const cpuBefore = cpuSnapshot(accountPids);
  const latencies: number[] = [];
  for (let i = 0; i < STDIO_CALLS; i++) latencies.push(await call());
  const foreign = foreignCores(cpuBefore, cpuSnapshot(accountPids));
  const peakRssMb = peak.stop();
  await endStdio(child);
  const mean = latencies.reduce((sum, v) => sum + v, 0) / latencies.length;
  latencies.sort((x, y) => x - y);
  return {
    calls: STDIO_CALLS,
    foreignCores: foreign,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    mean,
    peakRssMb,
  };
}

export interface StdioResults {
  /** Plain `node` spawn -> first output, once before each cold start. */
  readonly floors: number[];
  readonly spawnFloorMedianMs: number;
  readonly coldStarts: number[];
  readonly coldStartMedianMs: number;
  readonly sequential: {
    readonly calls: number;
    readonly p50: number;
    readonly p99: number;
    readonly mean: number;
    readonly peakRssMb: number;
    readonly rounds: StdioSequential[];
  };
  readonly floorSequential: { readonly p50: number; readonly p99: number; readonly rounds: StdioSequential[] };
}

export async function measureStdio(
  upstreamUrl: string,
  floorScript: string,
  noise: NoiseBudget,
): Promise<StdioResults> {
  log(`stdio: ${STDIO_SPAWNS} cold starts, then ${STDIO_CALLS} sequential tools/call`);
  const floors: number[] = [];
  const coldStarts: number[] = [];
  for (let i = 1; i <= STDIO_SPAWNS; i++) {
    checkFatal();
    await noise.pause();
    floors.push(await nodeSpawnFloor());
    coldStarts.push(await stdioColdStart(upstreamUrl, i));
  }
  // Rounds alternate our server and the floor; a round during which other programs took the CPU is taken again.
  const seqOurs: StdioSequential[] = [];
  const seqFloor: StdioSequential[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [script, list] of [
      [CLI, seqOurs],
      [floorScript, seqFloor],
    ] as const) {
      checkFatal();
      await noise.pause();
      const result = await noise.measure(
        `stdio ${script === CLI ? "ours" : "floor"} r${round + 1}`,
        () => stdioSequential(upstreamUrl, round + 1, script),
        false,
      );
      list.push(result);
    }
  }
  return {
    floors,
    spawnFloorMedianMs: median(floors),
    coldStarts,
    coldStartMedianMs: median(coldStarts),
    sequential: {
      calls: STDIO_CALLS,
      p50: median(seqOurs.map((r) => r.p50)),
      p99: median(seqOurs.map((r) => r.p99)),
      mean: median(seqOurs.map((r) => r.mean)),
      peakRssMb: Math.max(...seqOurs.map((r) => r.peakRssMb)),
      rounds: seqOurs,
    },
    floorSequential: {
      p50: median(seqFloor.map((r) => r.p50)),
      p99: median(seqFloor.map((r) => r.p99)),
      rounds: seqFloor,
    },
  };
}
