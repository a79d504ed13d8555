import { SUPPORTED_PROTOCOL_VERSIONS as SDK_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";
import { serialisedSuccess, standsForValue } from "../src/forward/result.js";
import { modernResultJson } from "../src/mcp/answers.js";
import {
  eraOf,
  LEGACY_PROTOCOL_VERSIONS,
  modernMetaProblem,
  SUPPORTED_PROTOCOL_VERSIONS,
  unsupportedVersion,
} from "../src/mcp/eras.js";
import { prepareCatalogue } from "../src/registry/registry.js";

// The protocol module alone: which era a message belongs to, what a modern _meta needs, how results are dressed.

const meta = (version?: string, capabilities: unknown = {}) => ({
  _meta: {
    ...(version === undefined ? {} : { "io.modelcontextprotocol/protocolVersion": version }),
    "io.modelcontextprotocol/clientCapabilities": capabilities,
  },
});

describe("eras", () => {
  it("a message is modern when its _meta claims a version or its method exists only in 2026-07-28", () => {
    expect(eraOf("tools/list", {})).toBe("legacy");
    expect(eraOf("tools/list", { _meta: { progressToken: 1 } })).toBe("legacy");
    expect(eraOf("tools/list", meta(undefined))).toBe("legacy"); // capabilities alone claim nothing
    expect(eraOf("tools/list", meta("2026-07-28"))).toBe("modern");
    // a claim, even a wrong one, is modern: -32022 follows
    expect(eraOf("initialize", meta("2025-11-25"))).toBe("modern");
    expect(eraOf("server/discover", {})).toBe("modern");
    expect(eraOf("subscriptions/listen", {})).toBe("modern");
  });

  it("a modern _meta needs the version (a string) and the client's capabilities (an object)", () => {
    expect(modernMetaProblem(meta("2026-07-28"))).toBeUndefined();
    expect(modernMetaProblem({})?.code).toBe(-32602);
    expect(modernMetaProblem(meta("2026-07-28", "all"))?.message).toContain("clientCapabilities");
    expect(
      modernMetaProblem({
        _meta: {
          "io.modelcontextprotocol/protocolVersion": 20260728,
          "io.modelcontextprotocol/clientCapabilities": {},
        },
      })?.message,
    ).toContain("protocolVersion");
  });

  it("only 2026-07-28 travels in _meta; -32022 lists every version served", () => {
    expect(unsupportedVersion("2026-07-28")).toBeUndefined();
    expect(unsupportedVersion("2030-01-01")).toEqual({
      code: -32022,
      message: "Unsupported protocol version: 2030-01-01",
      data: { supported: SUPPORTED_PROTOCOL_VERSIONS, requested: "2030-01-01" },
    });
  });

  it("the legacy versions are the SDK's (generated from it; npm run generate -- --check keeps them in step)", () => {
    expect(LEGACY_PROTOCOL_VERSIONS).toEqual(SDK_VERSIONS);
    expect(SUPPORTED_PROTOCOL_VERSIONS).toEqual(["2026-07-28", ...SDK_VERSIONS]);
  });
});

describe("modern results", () => {
  it("add resultType and the server's identity to any result, empty or not", () => {
    const full = JSON.parse(modernResultJson('{"content":[],"isError":true}')) as Record<string, unknown>;
    expect(full).toEqual({
      resultType: "complete",
      _meta: { "io.modelcontextprotocol/serverInfo": expect.objectContaining({ name: "pilot-status-mcp" }) },
      content: [],
      isError: true,
    });
    const empty = JSON.parse(
      modernResultJson("{}", '"ttlMs":0', { "io.modelcontextprotocol/subscriptionId": 3 }),
    ) as Record<string, unknown>;
    expect(empty).toEqual({
      resultType: "complete",
      _meta: { "io.modelcontextprotocol/subscriptionId": 3, "io.modelcontextprotocol/serverInfo": expect.any(Object) },
      ttlMs: 0,
    });
  });
});

describe("JSON-string arguments", () => {
  it("are accepted for exactly the arguments typed object or array", () => {
    const picked = prepareCatalogue(TOOL_SPECS).flatMap((t) => t.jsonStringArgs.map((a) => `${t.spec.name}.${a.arg}`));
    expect(picked).toEqual(
      expect.arrayContaining([
        "messages_send.variables",
        "messages_send.buttons",
        "messages_cancel.messageIds",
        "call_settings_update.call_hours",
        "webhooks_create.events",
      ]),
    );
    // templates_create.body is a string or an object: a string there is a string.
    expect(picked).not.toContain("templates_create.body");
    expect(picked.some((name) => name.endsWith(".text") || name.endsWith(".messageId"))).toBe(false);
  });
});

describe("a success result serialised in one pass", () => {
  it.each([
    ["an object", { id: "msg_1", text: 'olá \u2028 "quoted"', n: 1.5 }, {}],
    ["an array (wrapped as items)", [{ id: 1 }, { id: 2 }], {}],
    ["a primitive (wrapped as value)", "plain", {}],
    ["a page with more to come (a second content item)", { page: 1, totalPages: 3, data: [1, 2] }, {}],
    ["a full calls page (a before hint)", { calls: [{ createdAt: "2026-01-01T00:00:00Z" }] }, { limit: 1 }],
    [
      "an answer over the cap (cut, serialised the usual way)",
      { items: Array.from({ length: 500 }, (_, i) => ({ i, pad: "x".repeat(20) })) },
      {},
    ],
  ])("%s: the JSON is exactly JSON.stringify(result)", (_label, value, args) => {
    const { result, json } = serialisedSuccess(value, 5_000, args);
    expect(json).toBe(JSON.stringify(result));
  });

  it("uses the API's own one-line object text as it stands, and parses to the same result", () => {
    const apiText = '{"id":"msg_1", "text":"ol\\u00e1","n":1.50}';
    const value = JSON.parse(apiText) as Record<string, unknown>;
    expect(standsForValue(apiText)).toBe(true);
    const { result, json } = serialisedSuccess(value, 5_000, {}, undefined, apiText);
    expect(json).toBe(`{"content":[{"type":"text","text":${JSON.stringify(apiText)}}],"structuredContent":${apiText}}`);
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(result)));
  });

  it("serialises again what cannot stand as it is: pretty-printed, not an object, padded, or long", () => {
    const long = `{"text":"${"x".repeat(2_100)}"}`;
    for (const apiText of ['{\n  "id": "msg_1"\n}', '[{"id":1}]', '"plain"', ' {"id":1}', '{"id":1}\n', long]) {
      expect(standsForValue(apiText), apiText).toBe(false);
    }
    // An array is wrapped as items, so even a text that claims to stand for it is not used.
    const { result, json } = serialisedSuccess([{ id: 1 }], 5_000, {}, undefined, '[{"id": 1}]');
    expect(json).toBe(JSON.stringify(result));
  });
});
