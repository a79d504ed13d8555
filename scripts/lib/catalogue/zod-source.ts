/**
 * zod source for tool inputs, from the document's schemas (which still carry our x- extensions, such as the
 * x-error-hint a pattern's message is made from). The validator is what the server runs on every call.
 */
import { fail, isNode, type Node, type RefResolver } from "./document.js";
import type { Fragments } from "./fragments.js";

export function literal(value: unknown): string {
  return JSON.stringify(value);
}

export class ZodSource {
  constructor(
    private readonly resolver: RefResolver,
    private readonly fragments: Fragments,
  ) {}

  /** The input object of one tool: its arguments, strict (an unknown argument is an error, not ignored). */
  input(properties: Readonly<Record<string, Node>>, required: readonly string[], where: string): string {
    return this.object({ type: "object", properties, required }, where, true);
  }

  /** One schema node. Inputs say one thing per node: combinators (oneOf, anyOf, allOf) are refused. */
  private node(raw: Node, where: string): string {
    const schema = this.resolver.resolve(raw, where);
    for (const key of ["oneOf", "anyOf", "allOf"] as const) {
      if (schema[key] !== undefined) {
        fail(where, `${key} in a tool input: some clients cannot read it; use a type list, or x-refine for rules`);
      }
    }

    let nullable = false;
    let types: unknown[] = Array.isArray(schema.type) ? schema.type : schema.type === undefined ? [] : [schema.type];
    if (types.includes("null")) {
      nullable = true;
      types = types.filter((t) => t !== "null");
    }

    let code: string;
    if (schema.const !== undefined) {
      code = `z.literal(${literal(schema.const)})`;
    } else if (Array.isArray(schema.enum)) {
      const values = schema.enum.filter((v) => v !== null);
      if (values.length !== schema.enum.length) nullable = true;
      code = values.every((v) => typeof v === "string")
        ? `z.enum(${literal(values)})`
        : `z.union([${values.map((v) => `z.literal(${literal(v)})`).join(", ")}])`;
    } else if (types.length > 1) {
      // A type list such as [object, string]: each type's own keywords apply to it (JSON Schema's rule).
      code = `z.union([${types.map((type) => this.typed(schema, type, where)).join(", ")}])`;
    } else {
      code = this.typed(schema, types[0], where);
    }
    return nullable ? `${code}.nullable()` : code;
  }

  private typed(schema: Node, type: unknown, where: string): string {
    switch (type) {
      case "string":
        return zodString(schema, where);
      case "integer":
      case "number": {
        let code = type === "integer" ? "z.number().int()" : "z.number()";
        if (typeof schema.minimum === "number") code += `.min(${schema.minimum})`;
        if (typeof schema.exclusiveMinimum === "number") code += `.gt(${schema.exclusiveMinimum})`;
        if (typeof schema.maximum === "number") code += `.max(${schema.maximum})`;
        return code;
      }
      case "boolean":
        return "z.boolean()";
      case "array": {
        const item = schema.items === undefined ? "z.unknown()" : this.node(schema.items as Node, `${where}[]`);
        let code = `z.array(${item})`;
        if (typeof schema.minItems === "number") code += `.min(${schema.minItems})`;
        if (typeof schema.maxItems === "number") code += `.max(${schema.maxItems})`;
        return code;
      }
      case "object":
        return this.object(schema, where, false);
      case undefined:
        return "z.unknown()";
      default:
        fail(where, `unsupported type ${literal(type)}`);
    }
  }

  private object(schema: Node, where: string, strict: boolean): string {
    const properties = isNode(schema.properties) ? schema.properties : {};
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
    const additional = schema.additionalProperties;
    const fields = Object.entries(properties).map(([name, child]) => {
      const code = this.fragments.share(this.node(child as Node, `${where}.${name}`), name);
      return `${literal(name)}: ${required.has(name) ? code : `${code}.optional()`}`;
    });
    if (fields.length === 0 && isNode(additional)) {
      return `z.record(z.string(), ${this.node(additional, `${where}{}`)})`;
    }
    const body = `{ ${fields.join(", ")} }`;
    if (strict || additional === false) return `z.strictObject(${body})`;
    if (isNode(additional)) return `z.object(${body}).catchall(${this.node(additional, `${where}{}`)})`;
    return `z.looseObject(${body})`;
  }
}

function zodString(schema: Node, where: string): string {
  const pattern = schema.pattern;
  const hint = schema["x-error-hint"];
  if (pattern !== undefined && typeof hint !== "string") fail(where, "a pattern needs an x-error-hint");
  let code: string;
  if (schema.format === "date-time") code = "isoDateTime()";
  else if (schema.format === "uri") code = "httpUrl()";
  else if (schema.format !== undefined) fail(where, `unsupported format ${literal(schema.format)}`);
  else code = typeof pattern === "string" ? `patterned(${literal(pattern)}, ${literal(hint)})` : "z.string()";
  if (typeof pattern === "string" && schema.format !== undefined) {
    code += `.regex(new RegExp(${literal(pattern)}), { message: ${literal(`must be ${hint}`)} })`;
  }
  if (typeof schema.minLength === "number") code += `.min(${schema.minLength})`;
  if (typeof schema.maxLength === "number") code += `.max(${schema.maxLength})`;
  return code;
}
