import type { JsonSchema } from "../../src/catalogue/types.js";

/**
 * The outputSchema a tool declares, from the documented 2xx response.
 *
 * MCP clients reject a result whose structuredContent does not validate (the SDK client does), and the API's
 * answers vary in ways its documents do not pin down (two shapes for one route, nulls nobody mentioned). So the
 * declared schema constrains only what we guarantee ourselves (the root is an object; arrays arrive wrapped as
 * { items }) and describes every field, its type included, in words. It documents; it never rejects a real answer.
 *
 * The words are one description, a line a field ("sentAt, readAt: date-time or null"), rather than a property
 * per field holding only a description: a property that constrains nothing says no more than its line, and its
 * JSON wrapping cost more bytes of every tools/list than the words themselves (docs/decisions.md #15).
 */
export function outputSchemaFor(response: JsonSchema | undefined): JsonSchema | undefined {
  if (response === undefined) return undefined;
  if (Array.isArray(response.allOf)) {
    const merged: Record<string, JsonSchema> = {};
    for (const part of response.allOf as JsonSchema[])
      Object.assign(merged, (part.properties as Record<string, JsonSchema> | undefined) ?? {});
    return outputSchemaFor({
      type: "object",
      properties: merged,
      ...(response.description ? { description: response.description } : {}),
    });
  }
  if (isArray(response)) return { type: "object", description: fieldLines({ items: response }) };
  const properties = response.properties as Record<string, JsonSchema> | undefined;
  if (properties === undefined) {
    const own = typeof response.description === "string" ? { description: response.description.trim() } : {};
    return { type: "object", ...own };
  }
  // The answer's own description ("A voice call.") is left out: saying what comes back is the tool description's
  // job, and what only the schema said moved there (the webhook signing secret is never returned).
  return { type: "object", description: fieldLines(properties) };
}

/** One line per field, "name: words"; neighbours described alike share a line ("sentAt, readAt: date-time"). */
function fieldLines(properties: Record<string, JsonSchema>): string {
  const lines: Array<{ names: string[]; words: string }> = [];
  for (const [name, child] of Object.entries(properties)) {
    const words = describe(child, 0);
    const last = lines.at(-1);
    if (last !== undefined && last.words === words) last.names.push(name);
    else lines.push({ names: [name], words });
  }
  return lines.map((l) => `${l.names.join(", ")}: ${l.words}`).join("\n");
}

function isArray(schema: JsonSchema): boolean {
  return schema.type === "array" || (Array.isArray(schema.type) && schema.type.includes("array"));
}

/** "date-time|null. When it was sent": the type, then the field's own description. */
function describe(schema: JsonSchema, depth: number): string {
  const type = typeWords(schema, depth);
  const own = typeof schema.description === "string" ? schema.description.trim() : "";
  return own === "" ? type : `${type}. ${own}`;
}

/**
 * A type in the notation models read best, TypeScript's: "string|null", "QUEUED|SENT", "{id, name}[]",
 * "{a, b: string; c: boolean}" (keys of one type share it). A string with a format is named by it ("date-time").
 */
function typeWords(schema: JsonSchema, depth: number): string {
  const variants = (schema.oneOf ?? schema.anyOf) as JsonSchema[] | undefined;
  if (variants) return variants.map((v) => typeWords(v, depth)).join("|");
  if (Array.isArray(schema.allOf)) return mergedObjectWords(schema.allOf as JsonSchema[], depth);
  const types = Array.isArray(schema.type)
    ? (schema.type as string[])
    : schema.type === undefined
      ? []
      : [schema.type as string];
  const nullable = types.includes("null") || (Array.isArray(schema.enum) && schema.enum.includes(null));
  const main = types.filter((t) => t !== "null");
  let words: string;
  if (Array.isArray(schema.enum)) {
    words = (schema.enum as unknown[])
      .filter((v) => v !== null)
      .map(enumWord)
      .join("|");
  } else if (schema.const !== undefined) {
    words = JSON.stringify(schema.const);
  } else if (main[0] === "array") {
    const item = schema.items ? typeWords(schema.items as JsonSchema, depth + 1) : "any";
    words = `${item.includes("|") ? `(${item})` : item}[]`;
  } else if (main[0] === "object" || schema.properties !== undefined) {
    words = objectWords(schema.properties as Record<string, JsonSchema> | undefined, depth);
  } else if (main.length === 1 && main[0] === "string" && typeof schema.format === "string") {
    words = schema.format; // "date-time" or "uri" says string already
  } else if (main.length > 0) {
    words = main.join("|");
  } else {
    words = "any";
  }
  return nullable ? `${words}|null` : words;
}

/** An enum value as a model reads it: bare when it is a plain token, JSON otherwise (so 7 and "7" stay apart). */
function enumWord(value: unknown): string {
  return typeof value === "string" && /^[A-Za-z_][\w.*-]*$/.test(value) ? value : JSON.stringify(value);
}

function objectWords(properties: Record<string, JsonSchema> | undefined, depth: number): string {
  if (properties === undefined || Object.keys(properties).length === 0) return "object";
  const keys = Object.keys(properties);
  // Below the first level only the keys are named: the words would grow with every level for little gain.
  if (depth >= 1) return `{${keys.join(", ")}}`;
  const groups: Array<{ keys: string[]; words: string }> = [];
  for (const key of keys) {
    const words = typeWords(properties[key]!, depth + 1);
    const last = groups.at(-1);
    if (last !== undefined && last.words === words) last.keys.push(key);
    else groups.push({ keys: [key], words });
  }
  return `{${groups.map((g) => `${g.keys.join(", ")}: ${g.words}`).join("; ")}}`;
}

function mergedObjectWords(parts: JsonSchema[], depth: number): string {
  const properties: Record<string, JsonSchema> = {};
  for (const part of parts)
    Object.assign(properties, (part.properties as Record<string, JsonSchema> | undefined) ?? {});
  return objectWords(properties, depth);
}
