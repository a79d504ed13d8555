import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildCatalogue } from "../scripts/lib/catalogue/build.js";
import { trailingComments } from "../scripts/lib/catalogue/document.js";
import { README_COUNT, withToolCount } from "../scripts/lib/tool-count.js";

// The generator's own checks, on small documents built for each failure.

const NUMBER_HEADER = {
  name: "x-whatsapp-number-id",
  in: "header",
  required: false,
  description: "Which number.",
  "x-mcp-name": "whatsappNumberId",
  schema: { type: "string" },
};

function op(overrides: Record<string, unknown> = {}) {
  return {
    summary: "Do Something",
    description: "Does something useful for the test.",
    "x-mcp-tool": "thing_do",
    "x-toolset": "messaging",
    responses: {
      "200": {
        description: "ok",
        content: { "application/json": { schema: { type: "object", properties: { id: { type: "string" } } } } },
      },
    },
    ...overrides,
  };
}
const doc = (paths: Record<string, unknown>) => ({ openapi: "3.1.0", paths, components: {} });
const body = (properties: Record<string, unknown>, required: string[] = []) => ({
  required: true,
  content: { "application/json": { schema: { type: "object", properties, required } } },
});

describe("generator checks", () => {
  it("builds a tool with arguments by location, annotations and an output schema", () => {
    const [tool] = buildCatalogue(
      doc({
        "/v1/things/{id}": {
          put: op({
            parameters: [
              {
                name: "id",
                in: "path",
                required: true,
                description: "Thing id.",
                "x-mcp-name": "thingId",
                schema: { type: "string" },
              },
              NUMBER_HEADER,
            ],
            requestBody: body({ label: { type: "string", description: "Label." } }, ["label"]),
          }),
        },
      }),
    );
    expect(tool!.args).toEqual([
      { arg: "thingId", in: "path", wire: "id" },
      { arg: "whatsappNumberId", in: "header", wire: "x-whatsapp-number-id" },
      { arg: "label", in: "body", wire: "label" },
    ]);
    expect(tool!.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
      openWorldHint: true,
    });
    expect(tool!.inputSchema).toMatchObject({ required: ["thingId", "label"], additionalProperties: false });
    expect(tool!.outputSchema).toEqual({ type: "object", description: "id: string" });
  });

  it("describes the answer in one line a field (its own description left to the tool), neighbours alike together", () => {
    const answer = {
      type: "object",
      description: "A thing.",
      properties: {
        createdAt: { type: "string", format: "date-time" },
        sentAt: { type: ["string", "null"], format: "date-time" },
        readAt: { type: ["string", "null"], format: "date-time" },
        status: { type: "string", enum: ["OPEN", "not sure", 7], description: "Where it stands." },
        tags: { type: ["array", "null"], items: { type: "object", properties: { a: {}, b: {} } } },
        owner: { type: "object", properties: { id: { type: "string" }, name: { type: "string" }, ok: {} } },
      },
    };
    const responses = { "200": { description: "ok", content: { "application/json": { schema: answer } } } };
    const [tool] = buildCatalogue(doc({ "/v1/things": { get: op({ responses }) } }));
    expect(tool!.outputSchema).toEqual({
      type: "object",
      description: [
        "createdAt: date-time",
        "sentAt, readAt: date-time|null",
        'status: OPEN|"not sure"|7. Where it stands.',
        "tags: {a, b}[]|null",
        "owner: {id, name: string; ok: any}",
      ].join("\n"),
    });
  });

  it("finds a plain YAML value that a ' #' would cut short, and leaves quoted, folded and comment lines alone", () => {
    const source = [
      "# a comment line",
      "  description: Accent color as #RRGGBB; null resets it.",
      '  x-error-hint: "a #RRGGBB color"',
      "  description: >-",
      "    Folded text may say #RRGGBB.",
      "  pattern: '^#[0-9A-Fa-f]{6}$'",
      "  - description: Listed value with # inside",
    ].join("\n");
    expect(trailingComments(source)).toEqual([2, 7]);
    expect(trailingComments(readFileSync(new URL("../openapi/pilot-status-v1.yaml", import.meta.url), "utf8"))).toEqual(
      [],
    );
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ["a duplicate tool name", { "/v1/a": { get: op() }, "/v1/b": { get: op() } }, /duplicate tool name thing_do/],
    [
      "a tool name outside the pattern",
      { "/v1/a": { get: op({ "x-mcp-tool": "thing do!" }) } },
      /x-mcp-tool "thing do!" is outside/,
    ],
    ["an unknown toolset", { "/v1/a": { get: op({ "x-toolset": "sms" }) } }, /x-toolset "sms" is not one of/],
    [
      "an argument in two locations",
      {
        "/v1/a": {
          post: op({
            parameters: [{ name: "label", in: "query", description: "q", schema: { type: "string" } }],
            requestBody: body({ label: { type: "string", description: "b" } }),
          }),
        },
      },
      /argument "label" is used by query and body/,
    ],
    [
      "a property key outside the pattern",
      { "/v1/a": { post: op({ requestBody: body({ "bad key": { type: "string", description: "x" } }) }) } },
      /"bad key" is outside/,
    ],
    [
      "a nested key outside the pattern",
      {
        "/v1/a": {
          post: op({
            requestBody: body({ o: { type: "object", description: "x", properties: { "a/b": { type: "string" } } } }),
          }),
        },
      },
      /property key "a\/b" is outside/,
    ],
    [
      "an argument without a description",
      { "/v1/a": { post: op({ requestBody: body({ label: { type: "string" } }) }) } },
      /argument label has no description/,
    ],
    [
      "a pattern without a hint",
      { "/v1/a": { post: op({ requestBody: body({ p: { type: "string", pattern: "^x$", description: "x" } }) }) } },
      /pattern needs an x-error-hint/,
    ],
    [
      "an unknown schema keyword",
      { "/v1/a": { post: op({ requestBody: body({ p: { type: "string", description: "x", multipleOf: 2 } }) }) } },
      /unsupported schema keyword "multipleOf"/,
    ],
    [
      "a root oneOf in the body",
      {
        "/v1/a": {
          post: op({
            requestBody: {
              content: {
                "application/json": {
                  schema: { type: "object", properties: { a: { type: "string", description: "a" } }, oneOf: [] },
                },
              },
            },
          }),
        },
      },
      /root oneOf; use x-refine/,
    ],
    ["a path name without a parameter", { "/v1/a/{id}": { get: op() } }, /path template names \{id\} do not match/],
    [
      "a same-as naming no header",
      {
        "/v1/a": {
          post: op({
            requestBody: body({
              whatsappNumberId: { type: "string", description: "x", "x-mcp-same-as": "x-whatsapp-number-id" },
            }),
          }),
        },
      },
      /x-mcp-same-as names no header parameter/,
    ],
    [
      "read-only and destructive at once",
      { "/v1/a": { get: op({ "x-annotations": { destructiveHint: true } }) } },
      /read-only tool cannot be destructive/,
    ],
    [
      "a oneOf in a tool input, however deep",
      {
        "/v1/a": {
          post: op({
            requestBody: body({
              p: {
                type: "object",
                description: "x",
                properties: { q: { oneOf: [{ type: "string" }, { type: "integer" }] } },
              },
            }),
          }),
        },
      },
      /oneOf in a tool input/,
    ],
    [
      "an anyOf in a query parameter",
      {
        "/v1/a": {
          get: op({
            parameters: [
              {
                name: "q",
                in: "query",
                description: "x",
                schema: { anyOf: [{ type: "string" }, { type: "integer" }] },
              },
            ],
          }),
        },
      },
      /anyOf in a tool input/,
    ],
    [
      "an unresolved $ref",
      { "/v1/a": { post: op({ requestBody: body({ p: { $ref: "#/components/schemas/Missing" } }) }) } },
      /unresolved \$ref/,
    ],
  ])("fails on %s", (_label, paths, message) => {
    expect(() => buildCatalogue(doc(paths))).toThrow(message);
  });

  it("writes a type list as one node for the model and a union for the validator", () => {
    const [tool] = buildCatalogue(
      doc({
        "/v1/a": {
          post: op({
            requestBody: body({
              content: {
                type: ["object", "string"],
                description: "An object with text, or the text alone.",
                properties: { text: { type: "string", minLength: 1 } },
                required: ["text"],
                minLength: 1,
                maxLength: 10,
              },
            }),
          }),
        },
      }),
    );
    expect((tool!.inputSchema.properties as Record<string, unknown>).content).toEqual({
      type: ["object", "string"],
      description: "An object with text, or the text alone.",
      properties: { text: { type: "string", minLength: 1 } },
      required: ["text"],
      minLength: 1,
      maxLength: 10,
    });
    const [validator] = tool!.inputZod.fragments.resolve([tool!.inputZod.text]).texts;
    expect(validator).toMatch(
      /^z\.strictObject\(\{ "content": z\.union\(\[z\.looseObject\(.*\), z\.string\(\)\.min\(1\)\.max\(10\)\]\)/,
    );
  });

  it("folds a body field that means the same as the number header into one argument", () => {
    const [tool] = buildCatalogue(
      doc({
        "/v1/a": {
          post: op({
            parameters: [NUMBER_HEADER],
            requestBody: body({
              whatsappNumberId: { type: "string", description: "x", "x-mcp-same-as": "x-whatsapp-number-id" },
            }),
          }),
        },
      }),
    );
    expect(tool!.args).toEqual([{ arg: "whatsappNumberId", in: "header", wire: "x-whatsapp-number-id" }]);
  });
});

describe("the tool count in prose", () => {
  it("rewrites the count where the pattern says, and fails when the sentence is gone", () => {
    const readme = "the public `/v1` REST API as\n54 tools (messaging, …) over /v1";
    expect(withToolCount(readme, 55, README_COUNT, "README.md")).toBe(
      "the public `/v1` REST API as\n55 tools (messaging, …) over /v1",
    );
    expect(() => withToolCount("A rewritten opening.", 55, README_COUNT, "README.md")).toThrow(
      /README.md: no text matches/,
    );
  });
});
