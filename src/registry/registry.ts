import type { ToolSpec } from "../catalogue/types.js";
import { prepareTool, type PreparedTool } from "./prepared.js";

/** A set of callable tools and its tools/list answer, serialised once. */
export interface Surface {
  readonly tools: ReadonlyMap<string, PreparedTool>;
  readonly listResultJson: string;
}

export function buildSurface(tools: Iterable<PreparedTool>): Surface {
  const map = new Map<string, PreparedTool>();
  for (const tool of tools) map.set(tool.spec.name, tool);
  const listResultJson = JSON.stringify({ tools: [...map.values()].map((t) => t.listEntry) });
  return { tools: map, listResultJson };
}

/** All tools of the catalogue, prepared once at start-up. */
export function prepareCatalogue(specs: readonly ToolSpec[]): PreparedTool[] {
  return specs.map(prepareTool);
}
