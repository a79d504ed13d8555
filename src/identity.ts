import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Who this server is, in one place: every module that names the server (MCP serverInfo, the server card, the
 * user agent, the log) reads it from here.
 */

/** The npm package. */
export const PACKAGE_NAME = "@pilot-status/mcp-server";
/** serverInfo.name, the bin, the User-Agent product and the log's `service`. */
export const SERVER_NAME = "pilot-status-mcp";
/** serverInfo.title and the server card's title. */
export const SERVER_TITLE = "Pilot Status";
/** The server card's name (the MCP registry's reverse-DNS form). */
export const REGISTRY_NAME = "br.com.pilotstatus/mcp-server";

/**
 * The package's version, from its package.json: the nearest one above this module named like us. The module may
 * run from src/ (tests), dist/ (tsc output) or dist/chunks/ (the bundle), so it looks upwards.
 */
function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === "string") return pkg.version;
    } catch {
      // no package.json here: keep looking upwards
    }
    dir = dirname(dir);
  }
  return "0.0.0";
}

export const VERSION = readVersion();
export const USER_AGENT = `${SERVER_NAME}/${VERSION}`;
