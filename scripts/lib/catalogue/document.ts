/**
 * Reading the OpenAPI document: local $ref resolution, and the cleaning that turns a document schema into the
 * self-contained JSON Schema a model sees. Every other step of the generator reads the document through here.
 */
import type { JsonSchema } from "../../../src/catalogue/types.js";

export type Node = Record<string, unknown>;

/** Argument and property names, as MCP clients accept them. */
export const PROPERTY_KEY = /^[a-zA-Z0-9_.-]{1,64}$/;
const JSON_SCHEMA_KEYWORDS = new Set([
  "type",
  "enum",
  "const",
  "pattern",
  "minLength",
  "maxLength",
  "format",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "items",
  "minItems",
  "maxItems",
  "properties",
  "required",
  "additionalProperties",
  "oneOf",
  "anyOf",
  "allOf",
  "default",
  "description",
  "title",
  "examples",
]);
// Kept out of the schemas a model sees: they cost context and say nothing a description does not.
const DROPPED_KEYWORDS = new Set(["examples", "title"]);

/** The generator fails loudly, naming the operation and the place in it. */
export function fail(where: string, message: string): never {
  throw new Error(`${where}: ${message}`);
}

export function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export class RefResolver {
  constructor(private readonly document: Node) {}

  resolve(node: unknown, where: string, seen: readonly string[] = []): Node {
    if (!isNode(node)) fail(where, "expected an object");
    const ref = node.$ref;
    if (typeof ref !== "string") return node;
    if (!ref.startsWith("#/")) fail(where, `only local $ref is supported, got ${ref}`);
    if (seen.includes(ref)) fail(where, `circular $ref ${ref}`);
    let target: unknown = this.document;
    for (const part of ref.slice(2).split("/")) target = isNode(target) ? target[part] : undefined;
    if (!isNode(target)) fail(where, `unresolved $ref ${ref}`);
    // OpenAPI 3.1 allows keywords beside $ref (a description, mostly); they win over the target's.
    const { $ref: _ref, ...siblings } = node;
    return { ...this.resolve(target, where, [...seen, ref]), ...siblings };
  }

  /** A self-contained JSON Schema: refs inlined, our x- extensions and unknown-to-models keywords removed. */
  clean(node: unknown, where: string, checkKeys: boolean): JsonSchema {
    const schema = this.resolve(node, where);
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(schema)) {
      if (key.startsWith("x-")) continue;
      if (!JSON_SCHEMA_KEYWORDS.has(key)) fail(where, `unsupported schema keyword "${key}"`);
      if (DROPPED_KEYWORDS.has(key)) continue;
      if (key === "properties") {
        if (!isNode(value)) fail(where, "properties must be an object");
        const properties: Record<string, JsonSchema> = {};
        for (const [name, child] of Object.entries(value)) {
          if (checkKeys && !PROPERTY_KEY.test(name)) fail(where, `property key "${name}" is outside ${PROPERTY_KEY}`);
          properties[name] = this.clean(child, `${where}.${name}`, checkKeys);
        }
        out.properties = properties;
      } else if (key === "items" || (key === "additionalProperties" && isNode(value))) {
        out[key] = this.clean(value, `${where}[]`, checkKeys);
      } else if (key === "oneOf" || key === "anyOf" || key === "allOf") {
        if (!Array.isArray(value)) fail(where, `${key} must be a list`);
        out[key] = value.map((child, i) => this.clean(child, `${where}.${key}[${i}]`, checkKeys));
      } else {
        out[key] = value;
      }
    }
    return out;
  }
}

/**
 * Lines of the YAML source where " #" cuts a plain value short: YAML reads the rest as a comment, so a description
 * such as "Accent color as #RRGGBB" reaches the model as "Accent color as". The document uses no trailing
 * comments, so every such line is a value that needs quoting or folding.
 */
export function trailingComments(source: string): number[] {
  const lines = source.split("\n");
  return lines.flatMap((line, i) => (/^\s*(- )?[\w$.-]+: [^\s'"|>#&*!%@`{[].*\s#/.test(line) ? [i + 1] : []));
}
