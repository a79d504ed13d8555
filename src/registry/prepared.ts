import type * as z from "zod";
import { REFINEMENTS } from "../catalogue/refinements.js";
import type { ArgSpec, JsonSchema, ToolSpec } from "../catalogue/types.js";

/** What tools/list shows for one tool; built once. */
export interface ToolListEntry {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: JsonSchema;
  readonly outputSchema?: JsonSchema;
  readonly annotations: ToolSpec["annotations"];
}

/** An argument a client may send as a JSON string, and the JSON types its schema takes. */
export interface JsonStringArg {
  readonly arg: string;
  readonly object: boolean;
  readonly array: boolean;
}

type PathPart = { readonly literal: string } | { readonly arg: string };

/** A tool with everything a call needs computed at start-up: the validator, the path plan, the list entry. */
export interface PreparedTool {
  readonly spec: ToolSpec;
  readonly validator: z.ZodType<Record<string, unknown>>;
  readonly pathParts: readonly PathPart[];
  readonly queryArgs: readonly ArgSpec[];
  readonly headerArgs: readonly ArgSpec[];
  readonly bodyArgs: readonly ArgSpec[];
  /** Arguments whose schema admits objects or arrays: the only ones a call must check for nesting depth. */
  readonly nestableArgs: readonly string[];
  /**
   * Arguments typed object or array (never string): a client that sends one as a JSON string gets it parsed
   * (docs/decisions.md #29).
   */
  readonly jsonStringArgs: readonly JsonStringArg[];
  /** The API's default `limit` for limit/before lists (calls_list), for pagination hints. */
  readonly defaultLimit: number | undefined;
  readonly listEntry: ToolListEntry;
}

function compilePath(spec: ToolSpec): PathPart[] {
  const parts: PathPart[] = [];
  for (const piece of spec.path.split(/(\{[^}]+\})/)) {
    if (piece === "") continue;
    const name = /^\{([^}]+)\}$/.exec(piece)?.[1];
    if (name === undefined) {
      parts.push({ literal: piece });
      continue;
    }
    const arg = spec.args.find((a) => a.in === "path" && a.wire === name);
    if (!arg) throw new Error(`${spec.name}: path parameter {${name}} has no argument`);
    parts.push({ arg: arg.arg });
  }
  return parts;
}

function schemaTypes(schema: JsonSchema | undefined): readonly unknown[] {
  if (schema === undefined || schema.type === undefined) return [];
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

/** May a value of this schema be an object or an array? (A schema with no type, or a union, may be anything.) */
function admitsNesting(schema: JsonSchema | undefined): boolean {
  const types = schemaTypes(schema);
  return types.length === 0 || types.includes("object") || types.includes("array");
}

function nestableArgsOf(spec: ToolSpec): string[] {
  const properties = (spec.inputSchema.properties ?? {}) as Record<string, JsonSchema>;
  return spec.args.filter((a) => admitsNesting(properties[a.arg])).map((a) => a.arg);
}

/** Typed object or array and not string: a string value can only be a client's JSON-encoded form of it. */
function jsonStringArgsOf(spec: ToolSpec): JsonStringArg[] {
  const properties = (spec.inputSchema.properties ?? {}) as Record<string, JsonSchema>;
  return spec.args.flatMap((a) => {
    const types = schemaTypes(properties[a.arg]);
    const object = types.includes("object");
    const array = types.includes("array");
    return (object || array) && !types.includes("string") ? [{ arg: a.arg, object, array }] : [];
  });
}

function defaultLimitOf(spec: ToolSpec): number | undefined {
  const limit = (spec.inputSchema.properties as Record<string, { default?: unknown }> | undefined)?.limit;
  return typeof limit?.default === "number" ? limit.default : undefined;
}

export function prepareTool(spec: ToolSpec): PreparedTool {
  let validator: z.ZodType<Record<string, unknown>> = spec.input as z.ZodType<Record<string, unknown>>;
  if (spec.refine !== undefined) {
    const rule = REFINEMENTS[spec.refine];
    if (!rule) throw new Error(`${spec.name}: x-refine rule "${spec.refine}" is not defined`);
    validator = spec.input.superRefine(rule) as unknown as z.ZodType<Record<string, unknown>>;
  }
  return {
    spec,
    validator,
    pathParts: compilePath(spec),
    queryArgs: spec.args.filter((a) => a.in === "query"),
    headerArgs: spec.args.filter((a) => a.in === "header"),
    bodyArgs: spec.args.filter((a) => a.in === "body"),
    nestableArgs: nestableArgsOf(spec),
    jsonStringArgs: jsonStringArgsOf(spec),
    defaultLimit: defaultLimitOf(spec),
    listEntry: {
      name: spec.name,
      title: spec.title,
      description: spec.description,
      inputSchema: spec.inputSchema,
      ...(spec.outputSchema === undefined ? {} : { outputSchema: spec.outputSchema }),
      annotations: spec.annotations,
    },
  };
}
