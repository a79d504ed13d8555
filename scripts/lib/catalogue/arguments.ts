/**
 * An operation's arguments: its path, query and header parameters and the properties of its JSON body, flattened
 * into one object of named arguments, each remembering where it travels.
 */
import type { ArgSpec, JsonSchema } from "../../../src/catalogue/types.js";
import { fail, isNode, type Node, PROPERTY_KEY, type RefResolver } from "./document.js";
import { literal } from "./zod-source.js";

const NUMBER_HEADER = "x-whatsapp-number-id";

export interface Argument {
  spec: ArgSpec;
  required: boolean;
  raw: Node;
  json: JsonSchema;
}

export function operationArguments(
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
