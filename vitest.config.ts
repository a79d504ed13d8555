import { defineConfig } from "vitest/config";

/**
 * Test files that drive the built bin, the packed tarball, the image replay or the .mcpb bundle (so they need
 * `npm run build`), or fetch from the npm registry. `npm test` builds and runs everything; `npm run test:unit`
 * (vitest --mode unit) runs the rest: src/ in process, no build, no network. CI runs test:unit before the build.
 */
const NEEDS_BUILD_OR_NETWORK = [
  "bundle",
  "docker-replay",
  "dry-run",
  "kubernetes",
  "oversized-body",
  "package",
  "proxy",
  "selection",
  "shutdown",
  "stdio-epipe",
  "stdio",
].map((name) => `test/${name}.test.ts`);

export default defineConfig(({ mode }) => ({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: mode === "unit" ? ["**/node_modules/**", ...NEEDS_BUILD_OR_NETWORK] : ["**/node_modules/**"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Tests start real servers on loopback ports; two workers match our 2-core machines.
    poolOptions: { forks: { maxForks: 2 } },
  },
}));
