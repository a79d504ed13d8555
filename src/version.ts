import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE = "@pilot-status/mcp-server";

/**
 * The package's version, from its package.json: the nearest one above this module named like us. The module may
 * run from src/ (tests), dist/ (tsc output) or dist/chunks/ (the bundle), so it looks upwards.
 */
function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === PACKAGE && typeof pkg.version === "string") return pkg.version;
    } catch {
      // no package.json here: keep looking upwards
    }
    dir = dirname(dir);
  }
  return "0.0.0";
}

export const VERSION = readVersion();
export const USER_AGENT = `pilot-status-mcp/${VERSION}`;
