/**
 * The four HTTP servers compared, and starting them: the bench's TypeScript servers are transpiled to plain ESM in
 * bench/results/.build/ (typescript is a devDependency; no loader at run time, so none inflates their memory), then
 * the fake upstream and every server run as their own `node` child process (RSS is per server).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { freePort } from "../test/helpers/loopback.js";
import { type Child, checkFatal, startChild, tailOf } from "./children.js";
import { BENCH_DIR, BUILD_DIR, CLI, ROOT } from "./settings.js";

export type ServerId = "a" | "b" | "c" | "d";
export interface ServerDef {
  readonly id: ServerId;
  readonly label: string;
}
export const SERVERS: readonly ServerDef[] = [
  { id: "a", label: "(a) ours" },
  { id: "b", label: "(b) reference" },
  { id: "c", label: "(c) sdk-example" },
  { id: "d", label: "(d) floor" },
];
export const ALL: readonly ServerId[] = SERVERS.map((s) => s.id);
export const SERVER_BY_ID = Object.fromEntries(SERVERS.map((s) => [s.id, s])) as Record<ServerId, ServerDef>;

/** One value per server. */
export function perServer(value: (id: ServerId) => number): Record<ServerId, number> {
  return Object.fromEntries(SERVERS.map((s) => [s.id, value(s.id)])) as Record<ServerId, number>;
}

export type ServerFiles = Record<"upstream" | "reference" | "sdk" | "floor" | "stdioFloor", string>;

export function transpileServers(): ServerFiles {
  mkdirSync(BUILD_DIR, { recursive: true });
  const distUrl = `${pathToFileURL(path.join(ROOT, "dist")).href}/`;
  const out = (name: string): string => {
    const source = readFileSync(path.join(BENCH_DIR, `${name}.ts`), "utf8");
    const { outputText } = ts.transpileModule(source, {
      fileName: `${name}.ts`,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        sourceMap: false,
        verbatimModuleSyntax: false,
      },
    });
    // The servers import the catalogue from ../src; at run time they take the built copy in dist/.
    const code = outputText.replace(/(["'])\.\.\/src\//g, `$1${distUrl}`);
    if (/from\s+["']\.\.?\//.test(code)) throw new Error(`${name}.ts: a relative import is left after transpiling`);
    const file = path.join(BUILD_DIR, `${name}.mjs`);
    writeFileSync(file, code);
    return file;
  };
  return {
    upstream: out("fake-upstream"),
    reference: out("reference-forwarder"),
    sdk: out("sdk-example"),
    floor: out("floor-forwarder"),
    stdioFloor: out("stdio-floor"),
  };
}

export interface RunningServers {
  readonly upstream: Child;
  readonly upstreamUrl: string;
  readonly procs: Record<ServerId, Child>;
  /** Each server's MCP endpoint. */
  readonly urls: Record<ServerId, string>;
}

/** The fake upstream, once it answers; then the four servers pointed at it (not yet waited for). */
export async function startServers(files: ServerFiles): Promise<RunningServers> {
  const [upstreamPort, portA, portB, portC, portD] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;

  const upstream = startChild("fake upstream", [files.upstream], { PORT: String(upstreamPort), HOST: "127.0.0.1" });
  {
    const deadline = performance.now() + 10_000;
    for (;;) {
      checkFatal();
      try {
        const response = await fetch(`${upstreamUrl}/v1/messages/msg_1`, { signal: AbortSignal.timeout(1000) });
        await response.text();
        if (response.ok) break;
      } catch {
        // not yet
      }
      if (performance.now() > deadline) throw new Error(`fake upstream did not start${tailOf(upstream)}`);
      await sleep(50);
    }
  }

  const common = { HOST: "127.0.0.1", PILOT_STATUS_API_URL: upstreamUrl };
  const procs: Record<ServerId, Child> = {
    a: startChild("(a) ours: node dist/pilot-status-mcp.mjs http", [CLI, "http"], {
      ...common,
      PORT: String(portA),
      LOG_LEVEL: "warn",
    }),
    b: startChild("(b) reference forwarder", [files.reference], { ...common, PORT: String(portB) }),
    c: startChild("(c) sdk example", [files.sdk], { ...common, PORT: String(portC) }),
    d: startChild("(d) floor forwarder", [files.floor], { ...common, PORT: String(portD) }),
  };
  const urls: Record<ServerId, string> = {
    a: `http://127.0.0.1:${portA}/mcp`,
    b: `http://127.0.0.1:${portB}/mcp`,
    c: `http://127.0.0.1:${portC}/mcp`,
    d: `http://127.0.0.1:${portD}/mcp`,
  };
  return { upstream, upstreamUrl, procs, urls };
}
