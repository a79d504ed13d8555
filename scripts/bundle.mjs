// Bundles the CLI into one ES module, dist/pilot-status-mcp.mjs, which the package's bin runs.
// Why: on our 2-core machines Node's module loader was about half of the stdio cold start (spawn -> first
// tools/list answer), spread over hundreds of small files (zod, pino, express). One file loads in one read.
// undici stays external: the server loads it lazily, after the first answers.
import { build } from "esbuild";

await build({
  entryPoints: ["dist/cli.js"],
  outfile: "dist/pilot-status-mcp.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["undici"],
  // Bundled CommonJS dependencies call require(); give the ES module one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  legalComments: "none",
  logLevel: "warning",
});
