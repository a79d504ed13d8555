import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Helpers for the packaging tests: run npm, read the Dockerfile the way `docker build` does. */

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment for a nested npm: ours, less what an enclosing `npm test` exported about its own run (lifecycle
 * and package variables), which would otherwise leak into the nested command's idea of the project.
 */
export function npmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(lifecycle_|package_|command$)/i.test(key) || key === "INIT_CWD") continue;
    env[key] = value;
  }
  return { ...env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false", ...extra };
}

/** Runs a command to completion; rejects with its output when it exits non-zero or outlives timeoutMs. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? npmEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 180_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ code, stdout, stderr });
      else
        reject(
          new Error(
            `${command} ${args.join(" ")} (in ${options.cwd}) ended with ${signal ?? `exit code ${code}`}\n--- stdout\n${stdout.slice(-4000)}\n--- stderr\n${stderr.slice(-4000)}`,
          ),
        );
    });
  });
}

/** Polls url until it answers 2xx. */
export async function waitForOk(url: string, timeoutMs = 15_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return response;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = String((error as { cause?: unknown }).cause ?? error);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer 2xx within ${timeoutMs} ms (last: ${last})`);
}

// ---------------------------------------------------------------------------------------------------------------
// Dockerfile

export interface Instruction {
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly base: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** Splits a Dockerfile into stages of instructions: comments dropped, backslash continuations joined. */
export function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  let pending: { text: string; line: number } | undefined;
  lines.forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed.startsWith("#") || (trimmed === "" && pending === undefined)) return;
    const continued = trimmed.endsWith("\\");
    const piece = continued ? trimmed.slice(0, -1).trim() : trimmed;
    pending =
      pending === undefined
        ? { text: piece, line: index + 1 }
        : { text: `${pending.text} ${piece}`.trim(), line: pending.line };
    if (!continued) {
      const match = /^(\S+)\s*(.*)$/.exec(pending.text);
      if (match) instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!, line: pending.line });
      pending = undefined;
    }
  });
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const match = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!match) throw new Error(`Dockerfile line ${instruction.line}: cannot read FROM ${instruction.args}`);
      stages.push({ base: match[1]!, name: match[2], instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (stage === undefined)
        throw new Error(`Dockerfile line ${instruction.line}: ${instruction.keyword} before FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

/** ENV key=value pairs (double-quoted values allowed), in order; later ones win. */
export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { keyword, args, line } of stage.instructions) {
    if (keyword !== "ENV") continue;
    const pair = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g;
    for (const match of args.matchAll(pair)) {
      const value = match[2]!;
      env[match[1]!] = value.startsWith('"') ? (JSON.parse(value) as string) : value;
    }
    if (args.replace(pair, "").trim() !== "")
      throw new Error(`Dockerfile line ${line}: use ENV KEY=value pairs (${args})`);
  }
  return env;
}

/** A JSON-array (exec form) argument list, the only form the image uses. */
export function execForm(args: string, what: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw new Error(`${what} must be a JSON array (exec form), got: ${args}`);
  }
  if (!Array.isArray(parsed) || parsed.some((item) => typeof item !== "string"))
    throw new Error(`${what} must be a JSON array of strings`);
  return parsed as string[];
}

export interface ImageSpec {
  readonly stages: Stage[];
  readonly final: Stage;
  readonly env: Record<string, string>;
  readonly workdir: string;
  readonly user: string | undefined;
  readonly expose: string[];
  readonly cmd: string[];
  readonly healthcheck: { readonly options: string; readonly cmd: string[] };
  /** COPY lines of the final stage: from another stage (by name) or from the build context. */
  readonly copies: Array<{ readonly from: string | undefined; readonly sources: string[]; readonly dest: string }>;
  /** RUN lines of the final stage, shell form. */
  readonly runs: string[];
}

/** What the production image is: its last stage, read from the Dockerfile. */
export function readImageSpec(path = `${REPO_ROOT}Dockerfile`): ImageSpec {
  const stages = parseDockerfile(readFileSync(path, "utf8"));
  const final = stages.at(-1);
  if (final === undefined) throw new Error("the Dockerfile has no FROM");
  const last = (keyword: string) => final.instructions.filter((i) => i.keyword === keyword).at(-1);
  const cmd = last("CMD");
  const health = last("HEALTHCHECK");
  if (cmd === undefined) throw new Error("the final stage has no CMD");
  if (health === undefined) throw new Error("the final stage has no HEALTHCHECK");
  const healthMatch = /^((?:--\S+\s+)*)CMD\s+(.*)$/.exec(health.args);
  if (!healthMatch) throw new Error(`HEALTHCHECK must be "[options] CMD [...]", got: ${health.args}`);
  const copies = final.instructions
    .filter((i) => i.keyword === "COPY")
    .map(({ args }) => {
      const words = args.split(/\s+/);
      const flags = words.filter((w) => w.startsWith("--"));
      const paths = words.filter((w) => !w.startsWith("--"));
      const from = flags.find((f) => f.startsWith("--from="))?.slice("--from=".length);
      return { from, sources: paths.slice(0, -1), dest: paths.at(-1)! };
    });
  return {
    stages,
    final,
    env: stageEnv(final),
    workdir: last("WORKDIR")?.args ?? "/",
    user: last("USER")?.args,
    expose: final.instructions.filter((i) => i.keyword === "EXPOSE").flatMap((i) => i.args.split(/\s+/)),
    cmd: execForm(cmd.args, "CMD"),
    healthcheck: { options: healthMatch[1]!.trim(), cmd: execForm(healthMatch[2]!, "HEALTHCHECK CMD") },
    copies,
    runs: final.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args),
  };
}

/** The `npm ci …` command inside a RUN line (`a && npm ci … && b`), as argv. */
export function npmCiCommand(runs: readonly string[]): string[] {
  for (const line of runs) {
    for (const part of line.split("&&")) {
      const words = part.trim().split(/\s+/);
      if (words[0] === "npm" && words[1] === "ci") return words;
    }
  }
  throw new Error("the final stage runs no npm ci");
}
