/**
 * openapi/pilot-status-v1.yaml -> src/catalogue/tools.generated.ts (and the README tool table).
 *
 *   npm run generate            write the generated files
 *   npm run generate -- --check fail (exit 1) when a committed generated file is stale
 *
 * The generator is strict: it fails on duplicate tool names, on an argument name used in two locations, on
 * names outside the MCP patterns, and on schema keywords it does not understand (so nothing is silently lost).
 */
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { buildCatalogue, renderCatalogueModule, type GeneratedTool } from "./lib/catalogue-builder.js";
import { renderReadmeTable, replaceBetweenMarkers } from "./lib/readme-table.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const openapiPath = join(root, "openapi", "pilot-status-v1.yaml");
const cataloguePath = join(root, "src", "catalogue", "tools.generated.ts");
const readmePath = join(root, "README.md");

function main(): void {
  const check = process.argv.includes("--check");
  const document = parse(readFileSync(openapiPath, "utf8")) as Record<string, unknown>;
  const tools: GeneratedTool[] = buildCatalogue(document);

  const outputs: Array<[path: string, content: string]> = [[cataloguePath, renderCatalogueModule(tools)]];
  if (existsSync(readmePath)) {
    const readme = readFileSync(readmePath, "utf8");
    outputs.push([readmePath, replaceBetweenMarkers(readme, renderReadmeTable(tools))]);
  }

  const stale: string[] = [];
  for (const [path, content] of outputs) {
    const current = existsSync(path) ? readFileSync(path, "utf8") : "";
    if (current === content) continue;
    if (check) stale.push(path.slice(root.length + 1));
    else writeFileSync(path, content);
  }
  if (stale.length > 0) {
    console.error(`Generated files are stale: ${stale.join(", ")}. Run \`npm run generate\` and commit the result.`);
    process.exit(1);
  }
  console.error(check ? `Generated files are up to date (${tools.length} tools).` : `Generated ${tools.length} tools.`);
}

try {
  main();
} catch (error) {
  console.error(`generate: ${(error as Error).message}`);
  process.exit(1);
}
