/**
 * Generated modules go through the project's formatter (Biome, configured in biome.json) before they are written
 * or compared, so `npm run lint` holds for them too and a formatter upgrade shows up as a stale generated file.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const biome = join(root, "node_modules", "@biomejs", "biome", "bin", "biome");

/** `path` is where the text will live (relative to the repository root): it picks the language and the settings. */
export function formatSource(text: string, path: string): string {
  const result = spawnSync(process.execPath, [biome, "format", `--stdin-file-path=${path}`], {
    cwd: root,
    input: text,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`biome format ${path} failed: ${result.stderr || result.stdout}`);
  return result.stdout;
}
