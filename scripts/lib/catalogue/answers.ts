/**
 * What the generator reads from an operation's answers: the documented success schema (for the outputSchema and
 * the tests) and where that answer carries text written by WhatsApp contacts.
 */
import { fail, isNode, type Node, type RefResolver } from "./document.js";

/** The first documented 2xx JSON answer's schema as written (refs and x- extensions kept), and where it is. */
export function successSchema(
  op: Node,
  resolver: RefResolver,
  where: string,
): { schema: unknown; where: string } | undefined {
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
export function untrustedTextPaths(
  node: unknown,
  resolver: RefResolver,
  where: string,
  path: string[] = [],
): string[][] {
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

export function dedupePaths(paths: string[][]): string[][] {
  const seen = new Set<string>();
  return paths.filter((p) => {
    const key = JSON.stringify(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
