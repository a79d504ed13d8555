import type { ToolSpec } from "../catalogue/types.js";
import { type PreparedTool, prepareTool } from "./prepared.js";
import { type Selection, selectTools } from "./selection.js";

/** A set of callable tools and its tools/list answer, serialised once. */
export interface Surface {
  readonly tools: ReadonlyMap<string, PreparedTool>;
  /** The tools/list result, serialised and encoded once. */
  readonly listResultBytes: Buffer;
  /** Built for per-request selection headers: its answers must not be cached across callers. */
  readonly narrowed: boolean;
  /** Tools that are not read-only return the request they would send, and send nothing (docs/decisions.md #34). */
  readonly dryRun: boolean;
}

export interface SurfaceOptions {
  readonly narrowed?: boolean;
  readonly dryRun?: boolean;
}

export function buildSurface(tools: Iterable<PreparedTool>, options: SurfaceOptions = {}): Surface {
  const map = new Map<string, PreparedTool>();
  for (const tool of tools) map.set(tool.spec.name, tool);
  const listResultJson = JSON.stringify({ tools: [...map.values()].map((t) => t.listEntry) });
  return {
    tools: map,
    listResultBytes: Buffer.from(listResultJson, "utf8"),
    narrowed: options.narrowed ?? false,
    dryRun: options.dryRun ?? false,
  };
}

/** All tools of the catalogue, prepared once at start-up. */
export function prepareCatalogue(specs: readonly ToolSpec[]): PreparedTool[] {
  return specs.map(prepareTool);
}

const MAX_CACHED_SURFACES = 256;

/**
 * The configured surface (an upper bound) and the narrower ones that request headers ask for. A narrowed surface
 * depends only on the selection, never on who asked, so it is built once and shared.
 */
export class Surfaces {
  readonly base: Surface;
  private readonly cache = new Map<string, Surface>();

  constructor(
    private readonly all: readonly PreparedTool[],
    configured: Selection,
  ) {
    this.base = buildSurface(selectTools(all, configured), { dryRun: configured.dryRun === true });
  }

  /** Throws SelectionError for unknown names; a selection can only narrow the configured surface. */
  narrowed(selection: Selection): Surface {
    // A server-wide dry run holds whatever the request says.
    const dryRun = this.base.dryRun || selection.dryRun === true;
    const key = JSON.stringify([
      selection.toolsets,
      selection.tools,
      selection.excludeTools,
      selection.readOnly,
      dryRun,
    ]);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const wanted = new Set(selectTools(this.all, selection).map((t) => t.spec.name));
    const surface = buildSurface(
      [...this.base.tools.values()].filter((t) => wanted.has(t.spec.name)),
      { narrowed: true, dryRun },
    );
    if (this.cache.size >= MAX_CACHED_SURFACES) this.cache.clear();
    this.cache.set(key, surface);
    return surface;
  }
}
