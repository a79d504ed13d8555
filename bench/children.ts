/**
 * The bench's child processes: every one is tracked and killed at the end, on error and on signals. A child that
 * exits when it was not asked to is a fatal error, raised at the next checkFatal().
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Leads a process group of its own (a script): killed as a group, so its own children go with it. */
  readonly group: boolean;
  stderrTail: string;
  exited: boolean;
  stopping: boolean;
}

const children = new Set<Child>();
let fatalError: Error | undefined;
export const childCwd = mkdtempSync(path.join(os.tmpdir(), "pilot-status-bench-")); // no stray .env is read from here

/** The first unexpected exit or spawn error so far, if any. */
export function pendingFatalError(): Error | undefined {
  return fatalError;
}

/** This process and every child still running: the CPU that counts as the bench's own. */
export function benchPids(): number[] {
  return [process.pid, ...[...children].map((c) => c.pid)];
}

/** The environment for servers: no inherited loader (tsx), no inherited server settings. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (
      key === "NODE_OPTIONS" ||
      key.startsWith("PILOT_STATUS_") ||
      key.startsWith("MCP_") ||
      key === "PORT" ||
      key === "HOST"
    )
      continue;
    if (key === "LOG_LEVEL" || key.startsWith("TSX")) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

export function startChild(
  name: string,
  args: readonly string[],
  env: Record<string, string>,
  stdout: "pipe" | "ignore" = "ignore",
  environment: (extra: Record<string, string>) => NodeJS.ProcessEnv = childEnv,
): Child {
  const proc = spawn(process.execPath, args, { cwd: childCwd, env: environment(env), stdio: ["pipe", stdout, "pipe"] });
  return track(name, proc, args, false);
}

/**
 * A script run to its end (bench/instructions.sh): tracked like the servers, in a process group of its own so
 * killAllNow takes valgrind and the upstream it started along with it. Its exit is expected; resolves its stdout
 * when it exits 0.
 */
export function runScript(name: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  const proc = spawn("bash", args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const child = track(name, proc, args, true);
  child.stopping = true;
  let stdout = "";
  proc.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  return new Promise<string>((resolve, reject) => {
    proc.on("error", reject);
    proc.on("close", (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${name} exited ${code}${tailOf(child)}`)),
    );
  });
}

function track(name: string, proc: ChildProcess, args: readonly string[], group: boolean): Child {
  if (proc.pid === undefined) throw new Error(`${name}: could not spawn ${args.join(" ")}`);
  const child: Child = { name, proc, pid: proc.pid, group, stderrTail: "", exited: false, stopping: false };
  proc.stderr?.setEncoding("utf8");
  proc.stderr?.on("data", (chunk: string) => {
    child.stderrTail = (child.stderrTail + chunk).slice(-4000);
  });
  proc.on("exit", (code, signal) => {
    child.exited = true;
    children.delete(child);
    if (!child.stopping && fatalError === undefined) {
      fatalError = new Error(`${name} exited unexpectedly (code ${code}, signal ${signal})${tailOf(child)}`);
    }
  });
  proc.on("error", (error) => {
    fatalError ??= new Error(`${name}: ${error.message}`);
  });
  children.add(child);
  return child;
}

export function tailOf(child: Child): string {
  const tail = child.stderrTail.trim();
  return tail === "" ? "" : `\n--- ${child.name} stderr (tail) ---\n${tail}`;
}

export async function stopChild(child: Child): Promise<void> {
  if (child.exited) return;
  child.stopping = true;
  const exited = new Promise<void>((resolve) => child.proc.once("exit", () => resolve()));
  child.proc.kill("SIGTERM");
  const timer = setTimeout(() => child.proc.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}

export function killAllNow(): void {
  for (const child of children) {
    child.stopping = true;
    try {
      if (child.group) process.kill(-child.pid, "SIGKILL");
      else child.proc.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}

export function checkFatal(): void {
  if (fatalError !== undefined) throw fatalError;
}

process.on("exit", () => {
  killAllNow();
  rmSync(childCwd, { recursive: true, force: true });
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    process.stderr.write(`\nbench: ${signal}, stopping\n`);
    killAllNow();
    process.exit(130);
  });
}
