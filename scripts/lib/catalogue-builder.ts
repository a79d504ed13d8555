import {
  type ArgSpec,
  type HttpMethod,
  type JsonSchema,
  TOOLSETS,
  type ToolAnnotations,
} from "../../src/catalogue/types.js";
import { outputSchemaFor } from "./output-schema.js";

/** A tool as the generator sees it, before it is rendered as TypeScript. */
export interface GeneratedTool {
  name: string;
  title: string;
  description: string;
  toolset: string;
  method: HttpMethod;
  path: string;
  args: ArgSpec[];
  hasBody: boolean;
  inputSchema: JsonSchema;
  /** zod source for the input object. */
  inputZod: string;
  responseSchema: JsonSchema | undefined;
  outputSchema: JsonSchema | undefined;
  refine: string | undefined;
  annotations: ToolAnnotations;
  unconfirmed: boolean;
  returnsSecrets: boolean;
  untrustedText: string[][];
}

type Node = Record<string, unknown>;

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const PROPERTY_KEY = /^[a-zA-Z0-9_.-]{1,64}$/;
const METHODS = ["get", "post", "put", "patch", "delete"] as const;
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
const ANNOTATION_KEYS = ["readOnlyHint", "destructiveHint", "idempotentHint"] as const;
const NUMBER_HEADER = "x-whatsapp-number-id";

function fail(where: string, message: string): never {
  throw new Error(`${where}: ${message}`);
}

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

class RefResolver {
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

// ---------------------------------------------------------------------------------------------- zod source

function literal(value: unknown): string {
  return JSON.stringify(value);
}

/** zod source for one cleaned-but-annotated schema node (the raw node still carries x-error-hint). */
function zodFor(raw: Node, resolver: RefResolver, where: string): string {
  const schema = resolver.resolve(raw, where);
  for (const key of ["oneOf", "anyOf"] as const) {
    const options = schema[key];
    if (Array.isArray(options)) {
      return `z.union([${options.map((o, i) => zodFor(o as Node, resolver, `${where}.${key}[${i}]`)).join(", ")}])`;
    }
  }
  if (schema.allOf !== undefined) fail(where, "allOf is not supported in tool inputs");

  let types = schema.type;
  let nullable = false;
  if (Array.isArray(types)) {
    const nonNull = types.filter((t) => t !== "null");
    nullable = nonNull.length !== types.length;
    if (nonNull.length !== 1) fail(where, `type lists must be [T, "null"], got ${literal(types)}`);
    types = nonNull[0];
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
  } else {
    switch (types) {
      case "string":
        code = zodString(schema, where);
        break;
      case "integer":
      case "number":
        code = types === "integer" ? "z.number().int()" : "z.number()";
        if (typeof schema.minimum === "number") code += `.min(${schema.minimum})`;
        if (typeof schema.exclusiveMinimum === "number") code += `.gt(${schema.exclusiveMinimum})`;
        if (typeof schema.maximum === "number") code += `.max(${schema.maximum})`;
        break;
      case "boolean":
        code = "z.boolean()";
        break;
      case "array": {
        const item = schema.items === undefined ? "z.unknown()" : zodFor(schema.items as Node, resolver, `${where}[]`);
        code = `z.array(${item})`;
        if (typeof schema.minItems === "number") code += `.min(${schema.minItems})`;
        if (typeof schema.maxItems === "number") code += `.max(${schema.maxItems})`;
        break;
      }
      case "object":
        code = zodObject(schema, resolver, where, false);
        break;
      case undefined:
        code = "z.unknown()";
        break;
      default:
        fail(where, `unsupported type ${literal(types)}`);
    }
  }
  return nullable ? `${code}.nullable()` : code;
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

function zodObject(schema: Node, resolver: RefResolver, where: string, strict: boolean): string {
  const properties = isNode(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const additional = schema.additionalProperties;
  const fields = Object.entries(properties).map(([name, child]) => {
    const code = zodFor(child as Node, resolver, `${where}.${name}`);
    return `${literal(name)}: ${required.has(name) ? code : `${code}.optional()`}`;
  });
  if (fields.length === 0 && isNode(additional)) {
    return `z.record(z.string(), ${zodFor(additional, resolver, `${where}{}`)})`;
  }
  const body = `{ ${fields.join(", ")} }`;
  if (strict || additional === false) return `z.strictObject(${body})`;
  if (isNode(additional)) return `z.object(${body}).catchall(${zodFor(additional, resolver, `${where}{}`)})`;
  return `z.looseObject(${body})`;
}

// ---------------------------------------------------------------------------------------------- tools

function deriveAnnotations(method: HttpMethod, title: string, overrides: unknown, where: string): ToolAnnotations {
  const annotations = {
    title,
    readOnlyHint: method === "GET",
    destructiveHint: method === "PUT" || method === "PATCH" || method === "DELETE",
    idempotentHint: method !== "POST",
    openWorldHint: true,
  };
  if (overrides === undefined) return annotations;
  if (!isNode(overrides)) fail(where, "x-annotations must be an object");
  for (const [key, value] of Object.entries(overrides)) {
    if (!(ANNOTATION_KEYS as readonly string[]).includes(key) || typeof value !== "boolean") {
      fail(where, `x-annotations.${key} is not a boolean hint`);
    }
    annotations[key as (typeof ANNOTATION_KEYS)[number]] = value;
  }
  if (annotations.readOnlyHint && annotations.destructiveHint) fail(where, "a read-only tool cannot be destructive");
  return annotations;
}

interface Argument {
  spec: ArgSpec;
  required: boolean;
  raw: Node;
  json: JsonSchema;
}

function operationArguments(
  op: Node,
  pathItem: Node,
  resolver: RefResolver,
  where: string,
): { args: Argument[]; hasBody: boolean } {
  const args: Argument[] = [];
  const byName = new Map<string, Argument>();
  const add = (argument: Argument): void => {
    const name = argument.spec.arg;
    if (!PROPERTY_KEY.test(name)) fail(where, `argument "${name}" is outside ${PROPERTY_KEY}`);
    const clash = byName.get(name);
    if (clash) fail(where, `argument "${name}" is used by ${clash.spec.in} and ${argument.spec.in}`);
    byName.set(name, argument);
    args.push(argument);
  };

  const parameters = [...((pathItem.parameters as unknown[]) ?? []), ...((op.parameters as unknown[]) ?? [])];
  for (const [i, entry] of parameters.entries()) {
    const param = resolver.resolve(entry, `${where}.parameters[${i}]`);
    const wire = param.name;
    const location = param.in;
    if (typeof wire !== "string") fail(where, `parameter ${i} has no name`);
    if (location !== "path" && location !== "query" && location !== "header") {
      fail(where, `parameter ${wire} has unsupported location ${literal(location)}`);
    }
    const pwhere = `${where} parameter ${wire}`;
    const rawSchema = resolver.resolve(param.schema ?? {}, pwhere);
    const trueValue = param["x-query-true-value"];
    let raw: Node = { ...rawSchema };
    if (trueValue !== undefined) {
      if (location !== "query" || typeof trueValue !== "string") fail(pwhere, "x-query-true-value is for query flags");
      raw = { type: "boolean" };
    }
    if (typeof param.description === "string") raw.description = param.description;
    const arg = typeof param["x-mcp-name"] === "string" ? param["x-mcp-name"] : wire;
    add({
      spec: { arg, in: location, wire, ...(typeof trueValue === "string" ? { trueValue } : {}) },
      required: location === "path" || param.required === true,
      raw,
      json: resolver.clean(raw, pwhere, true),
    });
  }

  const requestBody =
    op.requestBody === undefined ? undefined : resolver.resolve(op.requestBody, `${where}.requestBody`);
  let hasBody = false;
  if (requestBody) {
    const content = requestBody.content;
    const media = isNode(content) ? content["application/json"] : undefined;
    if (!isNode(media)) fail(where, "requestBody needs application/json content");
    const body = resolver.resolve(media.schema, `${where}.requestBody`);
    if (body.type !== "object" || !isNode(body.properties))
      fail(where, "request body must be an object with properties");
    for (const key of ["oneOf", "anyOf", "allOf"]) {
      if (body[key] !== undefined) fail(where, `request body uses root ${key}; use x-refine instead`);
    }
    hasBody = true;
    const required = new Set(Array.isArray(body.required) ? (body.required as string[]) : []);
    for (const [name, child] of Object.entries(body.properties)) {
      const bwhere = `${where} body.${name}`;
      const raw = resolver.resolve(child, bwhere);
      const sameAs = raw["x-mcp-same-as"];
      if (sameAs !== undefined) {
        const header = args.find((a) => a.spec.in === "header" && a.spec.wire === sameAs);
        if (!header) fail(bwhere, `x-mcp-same-as names no header parameter ${literal(sameAs)}`);
        if (header.spec.arg !== name)
          fail(bwhere, `x-mcp-same-as header argument is "${header.spec.arg}", not "${name}"`);
        continue; // one argument, sent as the header only
      }
      add({
        spec: { arg: name, in: "body", wire: name },
        required: required.has(name),
        raw,
        json: resolver.clean(raw, bwhere, true),
      });
    }
  }

  // Header arguments other than the number selector would be a surprise; keep the door shut until one is needed.
  for (const a of args) {
    if (a.spec.in === "header" && a.spec.wire !== NUMBER_HEADER)
      fail(where, `unexpected header parameter ${a.spec.wire}`);
  }
  return { args, hasBody };
}

/** The first documented 2xx JSON answer's schema as written (refs and x- extensions kept), and where it is. */
function successSchema(op: Node, resolver: RefResolver, where: string): { schema: unknown; where: string } | undefined {
  const responses = op.responses;
  if (!isNode(responses)) fail(where, "responses missing");
  const success = Object.keys(responses)
    .filter((code) => /^2\d\d$/.test(code))
    .sort();
  if (success.length === 0) fail(where, "no 2xx response");
  for (const code of success) {
    const response = resolver.resolve(responses[code], `${where}.responses.${code}`);
    const media = isNode(response.content) ? response.content["application/json"] : undefined;
    if (isNode(media) && media.schema !== undefined)
      return { schema: media.schema, where: `${where}.responses.${code}` };
  }
  return undefined;
}

/**
 * Where the answer carries text written by WhatsApp contacts: the fields marked `x-untrusted-text: true`, as
 * paths of property names with "*" for "every item of this array" (and for every value of a map).
 */
function untrustedTextPaths(node: unknown, resolver: RefResolver, where: string, path: string[] = []): string[][] {
  if (node === undefined) return [];
  const schema = resolver.resolve(node, where);
  const marked = schema["x-untrusted-text"];
  if (marked !== undefined && marked !== true) fail(where, "x-untrusted-text must be true");
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (marked === true) {
    if (!types.includes("string")) fail(where, "x-untrusted-text marks string fields only");
    return [path];
  }
  const out: string[][] = [];
  if (isNode(schema.properties)) {
    for (const [name, child] of Object.entries(schema.properties)) {
      out.push(...untrustedTextPaths(child, resolver, `${where}.${name}`, [...path, name]));
    }
  }
  if (schema.items !== undefined) out.push(...untrustedTextPaths(schema.items, resolver, `${where}[]`, [...path, "*"]));
  if (isNode(schema.additionalProperties)) {
    out.push(...untrustedTextPaths(schema.additionalProperties, resolver, `${where}{}`, [...path, "*"]));
  }
  for (const key of ["oneOf", "anyOf", "allOf"] as const) {
    const list = schema[key];
    if (!Array.isArray(list)) continue;
    for (const [i, child] of list.entries())
      out.push(...untrustedTextPaths(child, resolver, `${where}.${key}[${i}]`, path));
  }
  return out;
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

export function buildCatalogue(document: Node): GeneratedTool[] {
  const resolver = new RefResolver(document);
  const paths = document.paths;
  if (!isNode(paths)) fail("openapi", "paths missing");
  const tools: GeneratedTool[] = [];
  const names = new Set<string>();

  for (const [path, pathItemRaw] of Object.entries(paths)) {
    const pathItem = resolver.resolve(pathItemRaw, path);
    for (const method of METHODS) {
      const op = pathItem[method];
      if (op === undefined) continue;
      const where = `${method.toUpperCase()} ${path}`;
      if (!isNode(op)) fail(where, "operation must be an object");
      const name = op["x-mcp-tool"];
      if (typeof name !== "string" || !TOOL_NAME.test(name))
        fail(where, `x-mcp-tool ${literal(name)} is outside ${TOOL_NAME}`);
      if (names.has(name)) fail(where, `duplicate tool name ${name}`);
      names.add(name);
      const toolset = op["x-toolset"];
      if (typeof toolset !== "string" || !(TOOLSETS as readonly string[]).includes(toolset)) {
        fail(where, `x-toolset ${literal(toolset)} is not one of ${TOOLSETS.join(", ")}`);
      }
      const title = op.summary;
      const description = op.description;
      if (typeof title !== "string" || title.trim() === "") fail(where, "summary (the tool title) is missing");
      if (typeof description !== "string" || description.trim() === "") fail(where, "description is missing");

      const { args, hasBody } = operationArguments(op, pathItem, resolver, where);
      const templateNames = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const pathArgs = args.filter((a) => a.spec.in === "path").map((a) => a.spec.wire);
      if ([...templateNames].sort().join() !== [...pathArgs].sort().join()) {
        fail(
          where,
          `path template names {${templateNames.join(", ")}} do not match path parameters [${pathArgs.join(", ")}]`,
        );
      }
      for (const a of args) {
        if (typeof a.json.description !== "string") fail(where, `argument ${a.spec.arg} has no description`);
      }

      const httpMethod = method.toUpperCase() as HttpMethod;
      const properties = Object.fromEntries(args.map((a) => [a.spec.arg, a.json]));
      const required = args.filter((a) => a.required).map((a) => a.spec.arg);
      const inputSchema: JsonSchema = {
        type: "object",
        properties,
        ...(required.length > 0 ? { required } : {}),
        additionalProperties: false,
      };
      const objectNode: Node = {
        type: "object",
        properties: Object.fromEntries(args.map((a) => [a.spec.arg, a.raw])),
        required,
      };
      const success = successSchema(op, resolver, where);
      const responseSchema = success === undefined ? undefined : resolver.clean(success.schema, success.where, false);
      const refine = op["x-refine"];
      if (refine !== undefined && typeof refine !== "string") fail(where, "x-refine must be a rule name");
      tools.push({
        name,
        title: title.trim(),
        description: description.trim().replace(/\s+\n/g, "\n"),
        toolset,
        method: httpMethod,
        path,
        args: args.map((a) => a.spec),
        hasBody,
        inputSchema,
        inputZod: zodObject(objectNode, resolver, where, true),
        responseSchema,
        outputSchema: outputSchemaFor(responseSchema),
        refine,
        annotations: deriveAnnotations(httpMethod, title.trim(), op["x-annotations"], where),
        unconfirmed: op["x-unconfirmed"] === true,
        returnsSecrets: flag(op, "x-returns-secrets", where),
        untrustedText:
          success === undefined ? [] : dedupePaths(untrustedTextPaths(success.schema, resolver, success.where)),
      });
    }
  }
  return tools.sort((a, b) => a.name.localeCompare(b.name));
}

function flag(node: Node, key: string, where: string): boolean {
  const value = node[key];
  if (value !== undefined && typeof value !== "boolean") fail(where, `${key} must be a boolean`);
  return value === true;
}

function dedupePaths(paths: string[][]): string[][] {
  const seen = new Set<string>();
  return paths.filter((p) => {
    const key = JSON.stringify(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function indent(text: string, spaces: number): string {
  return text.replace(/\n/g, `\n${" ".repeat(spaces)}`);
}

export function renderCatalogueModule(tools: readonly GeneratedTool[]): string {
  const entries = tools.map((t) => {
    const fields = [
      `name: ${literal(t.name)}`,
      `title: ${literal(t.title)}`,
      `description: ${literal(t.description)}`,
      `toolset: ${literal(t.toolset)}`,
      `method: ${literal(t.method)}`,
      `path: ${literal(t.path)}`,
      `args: ${literal(t.args)}`,
      `hasBody: ${t.hasBody}`,
      `inputSchema: ${indent(JSON.stringify(t.inputSchema, null, 2), 4)}`,
      `responseSchema: ${t.responseSchema === undefined ? "undefined" : indent(JSON.stringify(t.responseSchema, null, 2), 4)}`,
      `outputSchema: ${t.outputSchema === undefined ? "undefined" : indent(JSON.stringify(t.outputSchema, null, 2), 4)}`,
      `input: ${t.inputZod}`,
      `refine: ${t.refine === undefined ? "undefined" : literal(t.refine)}`,
      `annotations: ${literal(t.annotations)}`,
      `unconfirmed: ${t.unconfirmed}`,
      `returnsSecrets: ${t.returnsSecrets}`,
      `untrustedText: ${literal(t.untrustedText)}`,
    ];
    return `  {\n    ${fields.join(",\n    ")},\n  }`;
  });
  return [
    "// Generated by scripts/generate.ts from openapi/pilot-status-v1.yaml: do not edit.",
    "// Change the OpenAPI document and run `npm run generate`.",
    'import * as z from "zod";',
    'import { httpUrl, isoDateTime, patterned } from "./schema-helpers.js";',
    'import type { ToolSpec } from "./types.js";',
    "",
    "// Referenced so the import list stays stable whichever helpers the current document needs.",
    "void [httpUrl, isoDateTime, patterned];",
    "",
    "export const TOOL_SPECS: readonly ToolSpec[] = [",
    `${entries.join(",\n")},`,
    "];",
    "",
  ].join("\n");
}
