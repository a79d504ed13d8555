import { TOOLSETS } from "../catalogue/types.js";
import type { PreparedTool } from "./prepared.js";

/** Which tools to offer. Every field narrows; none widens beyond what it is applied to. */
export interface Selection {
  readonly toolsets?: readonly string[] | undefined;
  readonly tools?: readonly string[] | undefined;
  readonly excludeTools?: readonly string[] | undefined;
  readonly readOnly?: boolean | undefined;
  /**
   * Tools that are not read-only describe the request they would send instead of sending it. Like the other
   * fields it only makes the surface safer: a request can turn it on, never off (docs/decisions.md #34).
   */
  readonly dryRun?: boolean | undefined;
}

export class SelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SelectionError";
  }
}

const ALL = "all";

/**
 * The tools a selection keeps, in catalogue order:
 * toolsets (default all, unless only tools are named) + tools - excludeTools, then read-only (which wins).
 * Unknown toolset or tool names are an error naming them, never silently ignored.
 */
export function selectTools(all: readonly PreparedTool[], selection: Selection): PreparedTool[] {
  const known = new Set(all.map((t) => t.spec.name));
  const problems: string[] = [];
  const unknownToolsets = (selection.toolsets ?? []).filter(
    (s) => s !== ALL && !(TOOLSETS as readonly string[]).includes(s),
  );
  if (unknownToolsets.length > 0) {
    problems.push(
      `unknown toolset ${unknownToolsets.map(quote).join(", ")} (toolsets: ${TOOLSETS.join(", ")}, or all)`,
    );
  }
  for (const [label, names] of [
    ["tool", selection.tools],
    ["excluded tool", selection.excludeTools],
  ] as const) {
    const unknown = (names ?? []).filter((n) => !known.has(n));
    if (unknown.length > 0) problems.push(`unknown ${label} ${unknown.map(quote).join(", ")}`);
  }
  if (problems.length > 0) throw new SelectionError(problems.join("; "));

  const toolsets = selection.toolsets;
  const named = new Set(selection.tools ?? []);
  const excluded = new Set(selection.excludeTools ?? []);
  const everything = toolsets === undefined ? selection.tools === undefined : toolsets.includes(ALL);
  const fromToolsets = new Set(toolsets ?? []);
  return all.filter((tool) => {
    const name = tool.spec.name;
    const chosen = everything || fromToolsets.has(tool.spec.toolset) || named.has(name);
    if (!chosen || excluded.has(name)) return false;
    return selection.readOnly === true ? tool.spec.annotations.readOnlyHint : true;
  });
}

function quote(name: string): string {
  return `"${name.slice(0, 64)}"`;
}

/** Comma-separated list from an env variable, flag or header; undefined when absent or blank. */
export function parseList(value: string | string[] | undefined): string[] | undefined {
  const text = Array.isArray(value) ? value.join(",") : value;
  if (text === undefined || text.trim() === "") return undefined;
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

/** A true/false flag from an env variable or header; `name` says which in the error. */
export function parseFlag(value: string | string[] | undefined, name: string): boolean | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim().toLowerCase();
  if (text === undefined || text === "") return undefined;
  if (["true", "1", "yes"].includes(text)) return true;
  if (["false", "0", "no"].includes(text)) return false;
  throw new SelectionError(`${name} must be true or false, got ${quote(text)}`);
}
