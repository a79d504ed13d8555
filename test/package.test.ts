import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, npmEnv, run } from "./helpers/package.js";
import { requireBuild, serverEnv } from "./helpers/stdio-server.js";
import { FakeUpstream } from "./helpers/upstream.js";

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
  const out = await run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", packDir], { cwd: REPO_ROOT });
  packed = (JSON.parse(out.stdout) as PackResult[])[0]!;

  installDir = join(work, "app");
  mkdirSync(installDir);
  writeFileSync(join(installDir, "package.json"), JSON.stringify({ name: "pack-smoke", version: "0.0.0", private: true }));
  await run("npm", ["install", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error", join(packDir, packed.filename)], {
    cwd: installDir,
    env: npmEnv(),
    timeoutMs: TIMEOUT - 30_000,
  });
  upstream = await FakeUpstream.start((req) => ({ status: 200, body: { id: req.path.split("/").at(-1), status: "delivered" } }));
}, TIMEOUT);

afterAll(async () => {
  await upstream?.close();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe("npm package", () => {
  it("holds only what runs: dist/, openapi/, README.md, LICENSE and package.json", () => {
    const paths = packed.files.map((f) => f.path).sort();
    const stray = paths.filter((p) => !/^(dist|openapi)\//.test(p) && !["README.md", "LICENSE", "package.json"].includes(p));
    expect(stray).toEqual([]);
    for (const required of ["README.md", "LICENSE", "package.json", "dist/pilot-status-mcp.mjs", "openapi/pilot-status-v1.yaml"]) expect(paths).toContain(required);
    expect(paths.filter((p) => p.startsWith("dist/") && p.endsWith(".test.js"))).toEqual([]);
    expect(packed.filename).toMatch(/^pilot-status-mcp-server-\d+\.\d+\.\d+.*\.tgz$/);
  });

  it("is @pilot-status/mcp-server with the pilot-status-mcp bin, engines, and a build on prepack", () => {
    expect(pkg.name).toBe("@pilot-status/mcp-server");
    expect(pkg.bin).toEqual({ "pilot-status-mcp": "dist/pilot-status-mcp.mjs" });
    expect(pkg.engines?.node).toMatch(/^>=\s*20/);
    expect(pkg.files.sort()).toEqual(["LICENSE", "README.md", "dist", "openapi"]);
    expect(pkg.scripts.prepack).toMatch(/\bnpm run build\b/);
    expect(readFileSync(join(REPO_ROOT, "dist/pilot-status-mcp.mjs"), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
  });

  it("points main and types at files the tarball has", () => {
    const paths = packed.files.map((f) => f.path.replace(/^\.\//, ""));
    for (const [field, target] of [["main", pkg.main], ["types", pkg.types]] as const) {
      expect(target, `package.json "${field}" is not set`).toBeDefined();
      expect(paths, `package.json "${field}" is ${target}, which the tarball lacks`).toContain(target!.replace(/^\.\//, ""));
    }
  });

  it("installs with production dependencies only", () => {
    const installed = join(installDir, "node_modules", ...pkg.name.split("/"));
    expect(JSON.parse(readFileSync(join(installed, "package.json"), "utf8"))).toMatchObject({ name: pkg.name, version: pkg.version });
    expect(existsSync(join(installDir, "node_modules", ".bin", "pilot-status-mcp"))).toBe(true);
    for (const dev of ["vitest", "typescript", "tsx", "msw", "supertest"]) expect(existsSync(join(installDir, "node_modules", dev)), dev).toBe(false);
    for (const dep of Object.keys((JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies)) {
      expect(existsSync(join(installDir, "node_modules", ...dep.split("/"))), dep).toBe(true);
    }
  });

  it("serves 54 tools over stdio from the installed bin and reaches the upstream with the key", async () => {
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
      expect(tools).toHaveLength(54);

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
