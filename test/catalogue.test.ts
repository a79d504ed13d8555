import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { buildCatalogue } from "../scripts/lib/catalogue/build.js";
import { REFINEMENTS } from "../src/catalogue/refinements.js";
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";
import { TOOLSETS } from "../src/catalogue/types.js";
import { INSTRUCTIONS, modernToolsListBytes } from "../src/mcp/answers.js";
import { buildSurface, prepareCatalogue } from "../src/registry/registry.js";

// Invariants over the whole catalogue: what every model sees must hold for every tool at once.

const EXPECTED_NAMES = [
  "messages_send",
  "message_get",
  "messages_cancel",
  "messages_group",
  "messages_unread",
  "conversations_list",
  "webhooks_list",
  "webhook_get",
  "webhooks_create",
  "webhooks_update",
  "webhooks_delete",
  "webhook_events",
  "groups_list",
  "groups_create",
  "group_info",
  "group_participants_add",
  "group_participants_remove",
  "group_participants_promote",
  "group_participants_demote",
  "group_invite",
  "group_pin",
  "newsletters_list",
  "numbers_list",
  "numbers_get",
  "numbers_create",
  "numbers_status",
  "numbers_connect",
  "numbers_delete",
  "numbers_remote_pairing",
  "numbers_check",
  "templates_list",
  "templates_get",
  "templates_create",
  "templates_update",
  "templates_delete",
  "call_initiate",
  "calls_list",
  "call_get",
  "call_accept",
  "call_reject",
  "call_terminate",
  "call_settings_get",
  "call_settings_update",
  "call_permission_get",
  "call_permission_request",
  "api_keys_list",
  "api_keys_regenerate_number",
  "subscription_extra_numbers_get",
  "subscription_extra_numbers_add",
  "billing_checkout",
  "branding_get",
  "branding_upsert",
  "analytics_dashboard",
  "media_get",
];
const TENANT_ONLY = new Set([
  "numbers_list",
  "numbers_get",
  "numbers_create",
  "numbers_status",
  "numbers_connect",
  "numbers_delete",
  "numbers_remote_pairing",
  "api_keys_list",
  "api_keys_regenerate_number",
  "subscription_extra_numbers_get",
  "subscription_extra_numbers_add",
  "billing_checkout",
  "branding_get",
  "branding_upsert",
]);
const UNCONFIRMED = [
  "group_invite",
  "group_participants_demote",
  "group_participants_promote",
  "group_participants_remove",
  "group_pin",
  "newsletters_list",
];

const readDocument = (): Record<string, unknown> =>
  parse(readFileSync(new URL("../openapi/pilot-status-v1.yaml", import.meta.url), "utf8")) as Record<string, unknown>;

const byName = new Map(TOOL_SPECS.map((t) => [t.name, t]));
const tool = (name: string) => {
  const t = byName.get(name);
  if (!t) throw new Error(`no tool ${name}`);
  return t;
};

function propertyKeys(schema: unknown, out: string[] = []): string[] {
  if (schema === null || typeof schema !== "object") return out;
  const node = schema as Record<string, unknown>;
  if (node.properties && typeof node.properties === "object") {
    for (const [key, child] of Object.entries(node.properties)) {
      out.push(key);
      propertyKeys(child, out);
    }
  }
  for (const key of ["items", "additionalProperties"]) propertyKeys(node[key], out);
  for (const key of ["oneOf", "anyOf"]) for (const child of (node[key] as unknown[]) ?? []) propertyKeys(child, out);
  return out;
}

/** The fields of an answer as the API documents them; a list answer arrives as { items }. */
function topLevelFields(schema: Record<string, unknown>): string[] {
  const type = schema.type;
  if (type === "array" || (Array.isArray(type) && type.includes("array"))) return ["items"];
  const parts = Array.isArray(schema.allOf) ? (schema.allOf as Record<string, unknown>[]) : [schema];
  return parts.flatMap((p) => Object.keys((p.properties as Record<string, unknown> | undefined) ?? {}));
}

describe("catalogue", () => {
  it("has exactly the tools of the original, each once", () => {
    expect(TOOL_SPECS.map((t) => t.name).sort()).toEqual([...EXPECTED_NAMES].sort());
  });

  it.each(TOOL_SPECS.map((t) => [t.name, t] as const))("%s follows the catalogue rules", (_name, t) => {
    expect(t.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(TOOLSETS).toContain(t.toolset);
    expect(t.title.trim().length).toBeGreaterThan(3);
    expect(t.description.length).toBeGreaterThan(60);
    expect(t.path).toMatch(/^\/v1\//);
    for (const hint of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const) {
      expect(typeof t.annotations[hint], hint).toBe("boolean");
    }
    expect(t.annotations.openWorldHint).toBe(true);
    expect(t.annotations.title).toBe(t.title);
    if (t.annotations.readOnlyHint) expect(t.annotations.destructiveHint).toBe(false);

    const schema = t.inputSchema as {
      type: string;
      properties: Record<string, { description?: string }>;
      additionalProperties: boolean;
    };
    expect(schema.type).toBe("object");
    expect(schema.additionalProperties).toBe(false);
    for (const key of ["oneOf", "anyOf", "allOf"]) expect(schema).not.toHaveProperty(key);
    for (const key of propertyKeys(schema)) expect(key).toMatch(/^[a-zA-Z0-9_.-]{1,64}$/);
    for (const [arg, property] of Object.entries(schema.properties)) {
      expect(property.description, `${t.name}.${arg}`).toBeTruthy();
    }
    // Arguments and schema properties are the same set, and the zod validator knows the same keys.
    expect(t.args.map((a) => a.arg).sort()).toEqual(Object.keys(schema.properties).sort());
    expect(Object.keys(t.input.shape).sort()).toEqual(Object.keys(schema.properties).sort());
    if (t.refine !== undefined) expect(REFINEMENTS).toHaveProperty(t.refine);
  });

  it("offers no oneOf, anyOf or allOf anywhere in an input schema (some clients cannot read them)", () => {
    const combinators = (node: unknown, at: string): string[] => {
      if (node === null || typeof node !== "object") return [];
      return Object.entries(node).flatMap(([key, child]) => [
        ...(["oneOf", "anyOf", "allOf"].includes(key) ? [`${at}.${key}`] : []),
        ...combinators(child, `${at}.${key}`),
      ]);
    };
    expect(TOOL_SPECS.flatMap((t) => combinators(t.inputSchema, t.name))).toEqual([]);
  });

  it("sends whatsappNumberId only as the x-whatsapp-number-id header, on number-scoped tools", () => {
    for (const t of TOOL_SPECS) {
      const arg = t.args.find((a) => a.arg === "whatsappNumberId");
      if (t.name === "api_keys_regenerate_number") {
        expect(arg).toEqual({ arg: "whatsappNumberId", in: "body", wire: "whatsappNumberId" });
        expect((t.inputSchema as { required: string[] }).required).toContain("whatsappNumberId");
      } else if (TENANT_ONLY.has(t.name)) {
        expect(arg, t.name).toBeUndefined();
      } else {
        expect(arg, t.name).toEqual({ arg: "whatsappNumberId", in: "header", wire: "x-whatsapp-number-id" });
      }
      expect(t.args.filter((a) => a.arg === "whatsappNumberId").length).toBeLessThanOrEqual(1);
    }
  });

  it("states the rules of number selection once, in the instructions the whatsappNumberId descriptions point to", () => {
    expect(INSTRUCTIONS).toMatch(/tenant key or an OAuth grant pass whatsappNumberId/);
    expect(INSTRUCTIONS).toMatch(/from numbers_list/);
    expect(INSTRUCTIONS).toMatch(/number-scoped key acts on its own number and whatsappNumberId is then ignored/);
    expect(INSTRUCTIONS).toMatch(/grant limited to chosen numbers it is always required/);
    expect(INSTRUCTIONS).toMatch(/tenant key the webhook tools other than webhooks_create may leave it out/);
    for (const t of TOOL_SPECS.filter((s) => s.args.some((a) => a.in === "header" && a.arg === "whatsappNumberId"))) {
      const described = (t.inputSchema as { properties: Record<string, { description: string }> }).properties;
      expect(described.whatsappNumberId?.description, t.name).toMatch(/numbers_list.*instructions/);
    }
  });

  it("corrects the annotations where the API surprises (docs/decisions.md #13)", () => {
    expect(tool("numbers_connect").annotations).toMatchObject({ readOnlyHint: false, idempotentHint: false });
    expect(tool("subscription_extra_numbers_add").annotations).toMatchObject({
      destructiveHint: true,
      idempotentHint: false,
    });
    expect(tool("api_keys_regenerate_number").annotations).toMatchObject({
      destructiveHint: true,
      idempotentHint: false,
    });
    expect(tool("messages_cancel").annotations).toMatchObject({ destructiveHint: true, idempotentHint: true });
    expect(tool("api_keys_list").annotations).toMatchObject({ readOnlyHint: true });
    expect(tool("api_keys_list").description).toMatch(/secret|usable/i);
    expect(tool("api_keys_regenerate_number").description).toMatch(/secret|usable|new key/i);
    expect(tool("messages_send").annotations).toMatchObject({
      readOnlyHint: false,
      idempotentHint: false,
      destructiveHint: false,
    });
    for (const t of TOOL_SPECS.filter((s) => s.method === "GET" && s.name !== "numbers_connect")) {
      expect(t.annotations, t.name).toMatchObject({ readOnlyHint: true, idempotentHint: true, destructiveHint: false });
    }
  });

  it("declares an outputSchema that describes the answer and can never reject a real one (docs/decisions.md #15)", () => {
    // The documented answers are not shipped; the generator reads them from the document for this check.
    const documented = new Map(buildCatalogue(readDocument()).map((g) => [g.name, g.responseSchema]));
    expect([...documented.keys()].sort()).toEqual(TOOL_SPECS.map((t) => t.name).sort());
    for (const t of TOOL_SPECS) {
      if (documented.get(t.name) === undefined) {
        expect(t.outputSchema, t.name).toBeUndefined();
        continue;
      }
      // Words only: no property, so no real answer can fail it.
      const schema = t.outputSchema as { type: string; description?: string };
      expect(schema.type, t.name).toBe("object");
      expect(Object.keys(schema).every((k) => ["type", "description"].includes(k))).toBe(true);
      // Every documented top-level field has its line, naming it before its type.
      for (const field of topLevelFields(documented.get(t.name)!)) {
        expect(schema.description, `${t.name}.${field}`).toMatch(
          new RegExp(`(^|\\n)([\\w.-]+, )*${field}(, [\\w.-]+)*: \\S`),
        );
      }
    }
    expect(TOOL_SPECS.filter((t) => t.outputSchema !== undefined).length).toBeGreaterThanOrEqual(40);
  });

  it("marks exactly the six guessed operations as unconfirmed", () => {
    expect(
      TOOL_SPECS.filter((t) => t.unconfirmed)
        .map((t) => t.name)
        .sort(),
    ).toEqual(UNCONFIRMED);
  });

  it("requires examples on template writes and takes template media by URL only", () => {
    for (const name of ["templates_create", "templates_update"]) {
      const schema = tool(name).inputSchema as { required: string[] };
      expect(schema.required).toContain("examples");
      expect(propertyKeys(schema)).toContain("url");
      expect(propertyKeys(schema)).not.toContain("base64");
    }
  });

  it("keeps the whole catalogue's tools/list answer under its context budget of 60 KB", () => {
    // Every client that lists tools pays these bytes in context on every session (about a token per 4 bytes).
    // A change that crosses the budget says each thing once instead: see docs/decisions.md #46.
    const BUDGET_BYTES = 60_000;
    const surface = buildSurface(prepareCatalogue(TOOL_SPECS));
    expect(surface.tools.size).toBe(TOOL_SPECS.length);
    expect(surface.listResultBytes.length).toBeLessThan(BUDGET_BYTES);
    expect(modernToolsListBytes(surface).length).toBeLessThan(BUDGET_BYTES); // with the 2026-07-28 decoration
  });

  it("states the tools/list sizes in the README as they are", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8").replace(/\s+/g, " ");
    const prepared = prepareCatalogue(TOOL_SPECS);
    const bytes = (tools: typeof prepared) => buildSurface(tools).listResultBytes.length;
    const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`;
    const all = bytes(prepared);
    expect(readme).toContain(
      `answer of ${kb(all)} (${all.toLocaleString("en-US")} bytes, about ${(
        Math.round(all / 4 / 100) * 100
      ).toLocaleString("en-US")} tokens`,
    );
    expect(readme).toContain(
      `\`messaging\` toolset alone ${kb(bytes(prepared.filter((t) => t.spec.toolset === "messaging")))}`,
    );
    expect(readme).toContain(`read-only mode ${kb(bytes(prepared.filter((t) => t.spec.annotations.readOnlyHint)))}`);
  });

  it("keeps the tools/list answer a model sees under review (snapshot)", async () => {
    const surface = buildSurface(prepareCatalogue(TOOL_SPECS));
    const listed = JSON.parse(surface.listResultBytes.toString("utf8")) as { tools: unknown[] };
    expect(listed.tools).toHaveLength(TOOL_SPECS.length);
    await expect(`${JSON.stringify(listed, null, 2)}\n`).toMatchFileSnapshot("./__snapshots__/tools-list.json");
  });
});
