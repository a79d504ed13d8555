/**
 * openapi/pilot-status-v1.yaml -> one record per tool. Strict: a duplicate tool name, an argument name used in
 * two places, a name outside the MCP patterns or a schema keyword it does not know fails the generation, so
 * nothing in the document is silently lost.
 */
import {
  type ArgSpec,
  type HttpMethod,
  type JsonSchema,
  TOOLSETS,
  type ToolAnnotations,
} from "../../../src/catalogue/types.js";
import { outputSchemaFor } from "../output-schema.js";
import { dedupePaths, successSchema, untrustedTextPaths } from "./answers.js";
import { operationArguments } from "./arguments.js";
import { fail, isNode, type Node, RefResolver } from "./document.js";
import { Fragments } from "./fragments.js";
import { literal, ZodSource } from "./zod-source.js";

/** Source text whose shared pieces are tokens of `fragments` (see fragments.ts). */
export interface SharedSource {
  readonly text: string;
  readonly fragments: Fragments;
}

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
  inputZod: SharedSource;
  /** The documented 2xx answer (refs inlined): what the outputSchema is made from; not shipped. */
  responseSchema: JsonSchema | undefined;
  outputSchema: JsonSchema | undefined;
  refine: string | undefined;
  annotations: ToolAnnotations;
  unconfirmed: boolean;
  returnsSecrets: boolean;
  untrustedText: string[][];
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const METHODS = ["get", "post", "put", "patch", "delete"] as const;
const ANNOTATION_KEYS = ["readOnlyHint", "destructiveHint", "idempotentHint"] as const;

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

export function buildCatalogue(document: Node): GeneratedTool[] {
  const resolver = new RefResolver(document);
  // Input schemas shorter than this are cheaper inline than as a named const.
  const fragments = new Fragments("Input", 40);
  const zod = new ZodSource(resolver, fragments);
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
        inputZod: {
          text: zod.input(Object.fromEntries(args.map((a) => [a.spec.arg, a.raw])), required, where),
          fragments,
        },
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
