import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The package's name and version, from its package.json: the nearest one above this module named like us. The
 * module may run from src/ (tests), dist/ (tsc output) or dist/chunks/ (the bundle), so it looks upwards.
 */
function readPackage(): { name: string; version: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "@pilot-status/mcp-server" && typeof pkg.version === "string") return { name: pkg.name, version: pkg.version };
    } catch {
      // no package.json here: keep looking upwards
    }
    dir = dirname(dir);
  }
  return { name: "@pilot-status/mcp-server", version: "0.0.0" };
}

const pkg = readPackage();

export const PACKAGE_NAME = pkg.name;
export const VERSION = pkg.version;
export const USER_AGENT = `pilot-status-mcp/${VERSION}`;
