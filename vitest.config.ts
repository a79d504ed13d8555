import { defineConfig } from "vitest/config";

/**
 * Test files that need `npm run build` or the network, so `npm run test:unit` (vitest --mode unit) leaves them
 * out. They drive the built bin where only a real process shows it (bin: exit statuses, flags, .env, SIGTERM;
 * stdio-epipe: a real closed pipe; oversized-body: a server in its own process; proxy: NODE_EXTRA_CA_CERTS, read
 * when a process starts), the packed tarball and the image replay (package, docker-replay: the npm registry), the
 * .mcpb bundle, or real kustomize. Every other file tests src/ in process, with no build and no network; `npm test`
 * builds and runs them all. CI runs test:unit before the build.
 */
const NEEDS_BUILD_OR_NETWORK = [
  "bin",
  "bundle",
  "docker-replay",
  "kubernetes",
  "oversized-body",
  "package",
  "proxy",
  "stdio-epipe",
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
