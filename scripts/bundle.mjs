// Bundles the CLI into dist/pilot-status-mcp.mjs, which the package's bin runs, and the library entry into
// dist/index.mjs, sharing chunks in dist/chunks/. Every dependency is inside: the published package installs no
// other package (docs/decisions.md #40).
// Why: on our 2-core machines loading modules was most of the stdio cold start (spawn -> first tools/list answer):
// hundreds of small files (zod, pino) to read and compile. Splitting keeps the HTTP transport (express and its
// dependencies, another megabyte to compile) in a chunk that only `http` mode loads; undici, prom-client and dotenv
// are imported lazily, so they too are chunks loaded only when needed (undici after the first answers).
import { rmSync } from "node:fs";
import { build } from "esbuild";

rmSync("dist/chunks", { recursive: true, force: true });
await build({
  entryPoints: { "pilot-status-mcp": "dist/cli.js", index: "dist/index.js" },
  outdir: "dist",
  chunkNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  splitting: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Bundled CommonJS dependencies call require(); give each ES module one.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  legalComments: "none",
  logLevel: "warning",
});
