import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";
import { freePort } from "./helpers/loopback.js";
import { npmEnv, REPO_ROOT, run } from "./helpers/package.js";
import { requireBuild, serverEnv } from "./helpers/stdio-server.js";
import { FakeUpstream } from "./helpers/upstream.js";

/** The packages in a node_modules folder (scoped ones by their full name), nested ones included. */
function installedPackages(modules: string): string[] {
  const out: string[] = [];
  if (!existsSync(modules)) return out;
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith(".")) continue;
    const names = entry.startsWith("@") ? readdirSync(join(modules, entry)).map((n) => `${entry}/${n}`) : [entry];
    for (const name of names) {
      out.push(name);
      out.push(...installedPackages(join(modules, ...name.split("/"), "node_modules")));
    }
  }
  return out.sort();
}

/** Bytes of every file below a folder. */
function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? treeBytes(path) : entry.isFile() ? statSync(path).size : 0;
  }
  return total;
}

/**
 * The npx path: `npm pack`, install the tarball into an empty folder with production dependencies only (from the
 * registry, as a user's npx would), and drive the installed bin over stdio with the SDK's client.
 *
 * `npm pack` runs with --ignore-scripts: `npm test` built dist/ already, and the prepack rebuild would rewrite dist/
 * under the other test files' running servers. A separate check pins prepack to the build, so a real publish builds.
 */

const KEY = "ps_live_package_smoke_key_1";
const TIMEOUT = 240_000;

interface PackedFile {
  path: string;
}
interface PackResult {
  filename: string;
  files: PackedFile[];
}

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  main?: string;
  types?: string;
  files: string[];
  engines?: { node?: string };
  scripts: Record<string, string>;
};

let work: string;
let packed: PackResult;
let installDir: string;
let upstream: FakeUpstream;

beforeAll(async () => {
  requireBuild();
  work = realpathSync(mkdtempSync(join(tmpdir(), "pilot-status-pack-")));
  const packDir = join(work, "pack");
  mkdirSync(packDir);
  const out = await run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", packDir], {
    cwd: REPO_ROOT,
  });
  packed = (JSON.parse(out.stdout) as PackResult[])[0]!;

  installDir = join(work, "app");
  mkdirSync(installDir);
  writeFileSync(
    join(installDir, "package.json"),
    JSON.stringify({ name: "pack-smoke", version: "0.0.0", private: true }),
  );
  await run(
    "npm",
    ["install", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error", join(packDir, packed.filename)],
    {
      cwd: installDir,
      env: npmEnv(),
      timeoutMs: TIMEOUT - 30_000,
    },
  );
  upstream = await FakeUpstream.start((req) => ({
    status: 200,
    body: { id: req.path.split("/").at(-1), status: "delivered" },
  }));
}, TIMEOUT);

afterAll(async () => {
  await upstream?.close();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe("npm package", () => {
  it("holds only what runs: the bundles, the type declarations, openapi/, README.md, LICENSE and package.json", () => {
    const paths = packed.files.map((f) => f.path).sort();
    const shipped = (p: string) =>
      /^dist\/(pilot-status-mcp|index)\.mjs$|^dist\/chunks\/[\w-]+\.mjs$|^dist\/.*\.d\.ts$|^openapi\//.test(p) ||
      ["README.md", "LICENSE", "package.json"].includes(p);
    expect(paths.filter((p) => !shipped(p))).toEqual([]);
    for (const required of [
      "README.md",
      "LICENSE",
      "package.json",
      "dist/pilot-status-mcp.mjs",
      "dist/index.mjs",
      "dist/index.d.ts",
      "openapi/pilot-status-v1.yaml",
    ]) {
      expect(paths).toContain(required);
    }
    expect(packed.filename).toMatch(/^pilot-status-mcp-server-\d+\.\d+\.\d+.*\.tgz$/);
  });

  it("is @pilot-status/mcp-server with the pilot-status-mcp bin, engines, and a build on prepack", () => {
    expect(pkg.name).toBe("@pilot-status/mcp-server");
    expect(pkg.bin).toEqual({ "pilot-status-mcp": "dist/pilot-status-mcp.mjs" });
    expect(pkg.engines?.node).toMatch(/^>=\s*20/);
    expect([...pkg.files].sort()).toEqual([
      "LICENSE",
      "README.md",
      "dist/**/*.d.ts",
      "dist/chunks",
      "dist/index.mjs",
      "dist/pilot-status-mcp.mjs",
      "openapi",
    ]);
    expect(pkg.scripts.prepack).toMatch(/\bnpm run build\b/);
    expect(readFileSync(join(REPO_ROOT, "dist/pilot-status-mcp.mjs"), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(
      true,
    );
  });

  it("points main and types at files the tarball has", () => {
    const paths = packed.files.map((f) => f.path.replace(/^\.\//, ""));
    for (const [field, target] of [
      ["main", pkg.main],
      ["types", pkg.types],
    ] as const) {
      expect(target, `package.json "${field}" is not set`).toBeDefined();
      expect(paths, `package.json "${field}" is ${target}, which the tarball lacks`).toContain(
        target!.replace(/^\.\//, ""),
      );
    }
  });

  it("installs small: at most 5 packages and 5 MB, because every dependency is bundled", () => {
    const installed = join(installDir, "node_modules", ...pkg.name.split("/"));
    expect(JSON.parse(readFileSync(join(installed, "package.json"), "utf8"))).toMatchObject({
      name: pkg.name,
      version: pkg.version,
    });
    expect(existsSync(join(installDir, "node_modules", ".bin", "pilot-status-mcp"))).toBe(true);
    const packages = installedPackages(join(installDir, "node_modules"));
    expect(packages.length, packages.join(", ")).toBeLessThanOrEqual(5);
    expect(packages).toEqual([pkg.name]); // today: nothing but the server itself
    const bytes = treeBytes(join(installDir, "node_modules"));
    expect(bytes, `${(bytes / 1024 / 1024).toFixed(1)} MB installed`).toBeLessThanOrEqual(5 * 1024 * 1024);
  });

  it("runs on what it ships: the bundles import nothing but Node's own modules and each other", () => {
    const dist = join(installDir, "node_modules", ...pkg.name.split("/"), "dist");
    const files = [
      join(dist, "pilot-status-mcp.mjs"),
      join(dist, "index.mjs"),
      ...readdirSync(join(dist, "chunks")).map((f) => join(dist, "chunks", f)),
    ];
    // esbuild writes each import statement at the start of a line; CommonJS code inside calls require("...").
    const statement =
      /^\s*(?:import|export)\s[^;]*?\bfrom\s*"([^"]+)"|^\s*import\s*"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)|\brequire\(\s*"([^"]+)"\s*\)/gm;
    const outside = new Set<string>();
    const builtins = new Set<string>();
    for (const file of files) {
      for (const m of readFileSync(file, "utf8").matchAll(statement)) {
        const specifier = (m[1] ?? m[2] ?? m[3] ?? m[4])!;
        if (isBuiltin(specifier)) builtins.add(specifier);
        else if (!specifier.startsWith("./") && !specifier.startsWith("../")) outside.add(specifier);
      }
    }
    expect([...outside]).toEqual([]);
    expect([...builtins]).toEqual(expect.arrayContaining(["node:http", "node:fs"])); // the scan does see imports
  });

  it("serves over HTTP from the installed bin too (the express, undici and library chunks load)", async () => {
    const port = await freePort();
    const child = spawn(join(installDir, "node_modules", ".bin", "pilot-status-mcp"), ["http"], {
      cwd: installDir,
      env: serverEnv({ PORT: String(port), HOST: "127.0.0.1", PILOT_STATUS_API_URL: upstream.url }),
      stdio: ["ignore", "ignore", "pipe"],
    });
    try {
      let health: Response | undefined;
      for (let i = 0; i < 100 && health === undefined; i++) {
        health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
        if (health === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(health?.status).toBe(200);
      upstream.reset();
      const res = await fetch(`http://127.0.0.1:${port}/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": KEY },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "tools/call",
          params: { name: "message_get", arguments: { messageId: "over_http" } },
        }),
      });
      expect(((await res.json()) as { result: { structuredContent: unknown } }).result.structuredContent).toMatchObject(
        { id: "over_http" },
      );
      expect(upstream.requests).toHaveLength(1);
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
      upstream.reset();
    }
    const library = await run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const m = await import(${JSON.stringify(pkg.name)}); console.log(Object.keys(m).sort().join(","), m.TOOL_SPECS.length, m.loadConfig({}).transport)`,
      ],
      { cwd: installDir },
    );
    expect(library.stdout.trim()).toBe(
      "ConfigError,SelectionError,TOOL_SPECS,VERSION,createApp,createRequestListener,loadConfig,selectTools,serveHttp,serveStdio,startHttpServer 54 stdio",
    );
  });

  it("serves every tool over stdio from the installed bin and reaches the upstream with the key", async () => {
    const transport = new StdioClientTransport({
      command: join(installDir, "node_modules", ".bin", "pilot-status-mcp"),
      args: ["stdio"],
      env: serverEnv({ PILOT_STATUS_API_KEY: KEY, PILOT_STATUS_API_URL: upstream.url }),
      stderr: "pipe",
      cwd: installDir,
    });
    let stderr = "";
    transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const client = new Client({ name: "package-smoke", version: "0.0.0" });
    try {
      await client.connect(transport);
      expect(client.getServerVersion()).toMatchObject({ version: pkg.version });
      const { tools } = await client.listTools();
      expect(tools).toHaveLength(TOOL_SPECS.length);

      const result = await client.callTool({ name: "message_get", arguments: { messageId: "msg_from_tarball" } });
      expect(result.isError ?? false, JSON.stringify(result)).toBe(false);
      expect(result.structuredContent).toMatchObject({ id: "msg_from_tarball" });
      expect(upstream.requests).toHaveLength(1);
      const [request] = upstream.requests;
      expect(request).toMatchObject({ method: "GET", path: "/v1/messages/msg_from_tarball" });
      expect(request!.headers["x-api-key"]).toBe(KEY);
      expect(request!.headers["user-agent"]).toBe(`pilot-status-mcp/${pkg.version}`);
    } finally {
      await client.close();
    }
    expect(stderr).not.toContain(KEY);
  });
});
