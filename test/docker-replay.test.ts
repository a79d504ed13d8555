import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";
import { connectClient } from "./helpers/http-server.js";
import { freePort } from "./helpers/loopback.js";
import { type ImageSpec, npmCiCommand, npmEnv, REPO_ROOT, readImageSpec, run, waitForOk } from "./helpers/package.js";
import { requireBuild } from "./helpers/stdio-server.js";
import { FakeUpstream } from "./helpers/upstream.js";

/**
 * No Docker engine runs here, so this replays what the image does, read from the Dockerfile itself: the final
 * stage's COPY lines into an empty folder (dist/ as the build stage makes it, which `npm test` built), its `npm ci`,
 * then exactly its CMD with its ENV (PORT moved to a free port, the API to a loopback fake), its HEALTHCHECK, and a
 * SIGTERM as `docker stop` sends it. Node here is the test's own, not the image's.
 */

const KEY = "ps_live_docker_replay_key_7";
const TIMEOUT = 240_000;

let spec: ImageSpec;
let appDir: string;
let work: string;
let upstream: FakeUpstream;

/**
 * Where a path of the image's build stage comes from in this checkout: the build stage copies the repo into its
 * WORKDIR.
 */
function buildStagePath(source: string, buildWorkdir: string): string {
  const relative = posix.relative(buildWorkdir, posix.resolve(buildWorkdir, source));
  if (relative.startsWith(".."))
    throw new Error(`COPY --from takes ${source}, outside the build stage's ${buildWorkdir}`);
  return join(REPO_ROOT, relative);
}

beforeAll(async () => {
  requireBuild();
  spec = readImageSpec();
  work = realpathSync(mkdtempSync(join(tmpdir(), "pilot-status-image-")));
  appDir = join(work, "app"); // stands for the image's WORKDIR
  mkdirSync(appDir);
  for (const copy of spec.copies) {
    const from = copy.from === undefined ? undefined : spec.stages.find((s) => s.name === copy.from);
    if (copy.from !== undefined && from === undefined) throw new Error(`COPY --from=${copy.from}: no such stage`);
    const fromWorkdir = from?.instructions.filter((i) => i.keyword === "WORKDIR").at(-1)?.args ?? "/";
    const many = copy.sources.length > 1 || copy.dest.endsWith("/");
    for (const source of copy.sources) {
      const origin = from === undefined ? join(REPO_ROOT, source) : buildStagePath(source, fromWorkdir);
      const target = many ? join(appDir, copy.dest, posix.basename(source)) : join(appDir, copy.dest);
      cpSync(origin, target, { recursive: true });
    }
  }
  const [npm, ...args] = npmCiCommand(spec.runs);
  await run(npm!, [...args, "--loglevel=error"], {
    cwd: appDir,
    env: npmEnv({ NODE_ENV: spec.env.NODE_ENV ?? "" }),
    timeoutMs: TIMEOUT - 30_000,
  });
  upstream = await FakeUpstream.start((req) => ({
    status: 200,
    body: { id: req.path.split("/").at(-1), status: "delivered" },
  }));
}, TIMEOUT);

afterAll(async () => {
  await upstream?.close();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

function imageEnv(overrides: Record<string, string>): Record<string, string> {
  // Only the image's own ENV (and PATH to find node): nothing from this machine leaks in.
  return { PATH: process.env.PATH ?? "", ...spec.env, ...overrides };
}

/** argv[0] "node" is the image's node; here it is the node running the tests. */
function argv(cmd: readonly string[]): [string, string[]] {
  const [program, ...rest] = cmd;
  return [program === "node" ? process.execPath : program!, rest];
}

describe("Dockerfile", () => {
  it("is multi-stage on node:24-slim, runs as node, exposes 8787 and serves HTTP in production mode", () => {
    expect(spec.stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of spec.stages) expect(stage.base).toBe("node:24-slim");
    expect(spec.user).toBe("node");
    expect(spec.expose).toEqual(["8787"]);
    expect(spec.env).toMatchObject({ MCP_TRANSPORT: "http", PORT: "8787", HOST: "0.0.0.0", NODE_ENV: "production" });
    expect(spec.cmd).toEqual(["node", "dist/pilot-status-mcp.mjs", "http"]);
    expect(npmCiCommand(spec.runs)).toEqual(expect.arrayContaining(["npm", "ci", "--omit=dev"]));
    expect(spec.healthcheck.cmd[0]).toBe("node");
    expect(spec.healthcheck.cmd.join(" ")).toContain("/health");
  });

  it("bakes no secret in: no credential ENV or ARG, and the build context leaves .env out", () => {
    const all = spec.stages.flatMap((s) => s.instructions);
    const secretish = all.filter(
      (i) => (i.keyword === "ENV" || i.keyword === "ARG") && /KEY|SECRET|TOKEN|PASSWORD/i.test(i.args),
    );
    expect(secretish).toEqual([]);
    const ignore = readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim());
    expect(ignore).toContain("*"); // an allow-list: only what is named below it is sent to the build
    expect(ignore).toContain("**/.env");
    // Everything the Dockerfile copies from the context is allowed in.
    const contextSources = spec.stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === "COPY" && !i.args.includes("--from="));
    for (const { args } of contextSources) {
      for (const source of args.split(/\s+/).slice(0, -1))
        expect(
          ignore.some((l) => l === `!${source}` || l === `!${source}/`),
          `.dockerignore lets ${source} in`,
        ).toBe(true);
    }
  });

  it("installs production dependencies only", () => {
    expect(existsSync(join(appDir, "dist", "pilot-status-mcp.mjs"))).toBe(true);
    // Every dependency is inside the bundle (docs/decisions.md #40): the production install adds no package.
    const installed = existsSync(join(appDir, "node_modules"))
      ? readdirSync(join(appDir, "node_modules")).filter((n) => !n.startsWith("."))
      : [];
    expect(installed).toEqual([]);
    for (const dev of ["vitest", "typescript", "tsx"])
      expect(existsSync(join(appDir, "node_modules", dev)), dev).toBe(false);
  });

  it("runs its CMD with its ENV: /health, a tool call with x-api-key, the HEALTHCHECK, then SIGTERM exits 0", async () => {
    const port = await freePort();
    const env = imageEnv({ PORT: String(port), PILOT_STATUS_API_URL: upstream.url });
    const [program, args] = argv(spec.cmd);
    const child: ChildProcess = spawn(program, args, { cwd: appDir, env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const health = await waitForOk(`http://127.0.0.1:${port}/health`);
      expect(await health.json()).toMatchObject({ status: "ok" });

      const client = await connectClient(`http://127.0.0.1:${port}/mcp`, { "x-api-key": KEY });
      try {
        expect((await client.listTools()).tools).toHaveLength(TOOL_SPECS.length);
        const result = await client.callTool({ name: "message_get", arguments: { messageId: "msg_in_image" } });
        expect(result.isError ?? false, JSON.stringify(result)).toBe(false);
        expect(result.structuredContent).toMatchObject({ id: "msg_in_image" });
      } finally {
        await client.close();
      }
      expect(upstream.requests.map((r) => [r.method, r.path, r.headers["x-api-key"]])).toEqual([
        ["GET", "/v1/messages/msg_in_image", KEY],
      ]);

      // The HEALTHCHECK exactly as written, in the container's environment.
      const [hcProgram, hcArgs] = argv(spec.healthcheck.cmd);
      await expect(run(hcProgram, hcArgs, { cwd: appDir, env, timeoutMs: 10_000 })).resolves.toMatchObject({ code: 0 });
      // ...and it does report a dead server.
      const deadPort = await freePort();
      await expect(
        run(hcProgram, hcArgs, { cwd: appDir, env: { ...env, PORT: String(deadPort) }, timeoutMs: 10_000 }),
      ).rejects.toThrow(/exit code 1/);

      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    expect(stderr).not.toContain(KEY);
  }, 60_000);
});
