import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";
import { createLogger } from "../src/log.js";
import type { McpRequest } from "../src/mcp/handler.js";
import { prepareCatalogue, Surfaces } from "../src/registry/registry.js";
import { hostMatcher, originMatcher } from "../src/transports/http/guards.js";
import {
  acceptsEventStream,
  checkAccept,
  checkEraHeaders,
  checkHostAndOrigin,
  checkLegacyVersionHeader,
  checkMediaType,
  corsHeaders,
  credentialsOrChallenge,
  decodeHeaderValue,
  invalidTokenChallenge,
  parseBody,
  Refusal,
  readBody,
  selectSurface,
} from "../src/transports/http/steps.js";

// Each rule of POST /mcp on its own (steps.ts); eras-http.test.ts and http.test.ts drive them through the server.

const body = (refusal: unknown) =>
  JSON.parse((refusal as Refusal).body) as { id?: unknown; error: { code: number; message: string; data?: unknown } };
const logger = createLogger("silent");

describe("1. Host and Origin", () => {
  const hosts = hostMatcher(["localhost", "mcp.example.test:443"]);
  const origins = originMatcher(["https://mcp.example.test", "http://localhost"]);
  it("refuses a foreign Host, a missing Host and a foreign Origin with 403; no Origin is fine", () => {
    expect(checkHostAndOrigin({ host: "localhost:8787" }, hosts, origins)).toBeUndefined();
    expect(
      checkHostAndOrigin({ host: "mcp.example.test:443", origin: "https://mcp.example.test" }, hosts, origins),
    ).toBeUndefined();
    for (const headers of [
      { host: "evil.example" },
      {},
      { host: "mcp.example.test:8443" },
      { host: "localhost", origin: "https://evil.example" },
    ]) {
      const refusal = checkHostAndOrigin(headers, hosts, origins);
      expect(refusal?.status, JSON.stringify(headers)).toBe(403);
      expect(body(refusal)).not.toHaveProperty("id");
    }
  });
  it("gives the same answer for a Host seen before, allowed or not, past the memo's bound too", () => {
    const memo = hostMatcher(["localhost"]);
    for (let round = 0; round < 2; round++) {
      expect(memo("localhost:8787")).toBe(true);
      expect(memo("evil.example")).toBe(false);
      for (let i = 0; i < 100; i++) expect(memo(`host-${i}.example`)).toBe(false);
      expect(memo("LOCALHOST")).toBe(true);
    }
  });
  it("CORS headers only answer an Origin", () => {
    expect(corsHeaders(undefined)).toEqual({});
    expect(corsHeaders("http://localhost:6274")).toMatchObject({
      "access-control-allow-origin": "http://localhost:6274",
      vary: "Origin",
    });
  });
});

describe("2. media type", () => {
  it("wants uncompressed UTF-8 application/json", () => {
    expect(checkMediaType({ "content-type": "application/json" })).toBeUndefined();
    expect(checkMediaType({ "content-type": "application/json; charset=utf-8" })).toBeUndefined();
    expect(
      checkMediaType({ "content-type": "Application/JSON; charset=UTF-8", "content-encoding": "identity" }),
    ).toBeUndefined();
    expect(checkMediaType({ "content-type": "text/plain" })?.status).toBe(415);
    expect(checkMediaType({})?.status).toBe(415);
    expect(checkMediaType({ "content-type": "application/json-patch+json" })?.status).toBe(415);
    expect(body(checkMediaType({ "content-type": "application/json; charset=latin1" })).error.message).toContain(
      "UTF-8",
    );
    // The common content type takes a short cut; the encoding is still checked.
    expect(
      checkMediaType({ "content-type": "application/json; charset=utf-8", "content-encoding": "br" })?.status,
    ).toBe(415);
    const gzip = checkMediaType({ "content-type": "application/json", "content-encoding": "gzip" });
    expect(gzip?.status).toBe(415);
    expect(gzip?.headers).toEqual({ "accept-encoding": "identity" });
  });
});

describe("3. accept", () => {
  it("wants JSON accepted (or nothing said); an event stream only where asked", () => {
    for (const accept of [undefined, "application/json, text/event-stream", "*/*", "application/*"])
      expect(checkAccept({ accept })).toBeUndefined();
    expect(checkAccept({ accept: "text/html" })?.status).toBe(406);
    expect(acceptsEventStream({ accept: "application/json, text/event-stream" })).toBe(true);
    expect(acceptsEventStream({})).toBe(true);
    expect(acceptsEventStream({ accept: "application/json" })).toBe(false);
  });
});

describe("4. credentials", () => {
  const challenge = 'Bearer resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp"';
  it("takes the caller's, else the fallback, else answers 401 with the challenge", () => {
    expect(credentialsOrChallenge({ "x-api-key": "ps_a", "x-api-key-id": "k" }, undefined, challenge)).toEqual({
      apiKey: "ps_a",
      apiKeyId: "k",
      authorization: undefined,
    });
    expect(credentialsOrChallenge({ authorization: "Bearer t" }, { apiKey: "ps_env" }, challenge)).toMatchObject({
      authorization: "Bearer t",
    });
    expect(credentialsOrChallenge({}, { apiKey: "ps_env" }, challenge)).toEqual({ apiKey: "ps_env" });
    const refusal = credentialsOrChallenge({ "x-api-key-id": "k" }, undefined, challenge) as Refusal;
    expect(refusal.status).toBe(401);
    expect(refusal.headers["www-authenticate"]).toBe(challenge);
    expect(body(refusal).error.code).toBe(-32001);
  });
});

describe("5. body", () => {
  it("decodes the text once, whole: a character split between chunks survives", async () => {
    const bytes = Buffer.from('{"text":"olá ✓"}');
    const cut = bytes.indexOf(0xc3) + 1; // between the two bytes of "á"
    const split = Object.assign(Readable.from([bytes.subarray(0, cut), bytes.subarray(cut)]), { headers: {} });
    expect(await readBody(split as unknown as IncomingMessage, 100)).toBe('{"text":"olá ✓"}');
  });
  const incoming = (chunks: string[], headers: Record<string, string> = {}) =>
    Object.assign(Readable.from(chunks.map((c) => Buffer.from(c))), { headers }) as unknown as IncomingMessage;
  it("reads up to the limit and refuses past it with 413 and Connection: close", async () => {
    expect(await readBody(incoming(['{"a":', "1}"]), 100)).toBe('{"a":1}');
    const tooLong = await readBody(incoming(["x".repeat(60), "y".repeat(60)]), 100);
    expect(tooLong).toBeInstanceOf(Refusal);
    expect((tooLong as Refusal).status).toBe(413);
    expect((tooLong as Refusal).headers).toEqual({ connection: "close" });
    const declared = await readBody(incoming([], { "content-length": "101" }), 100);
    expect((declared as Refusal).status).toBe(413);
  });

  it("reads an oversized body to its end before refusing it, keeping none of it", async () => {
    let pulled = 0;
    const chunks = function* () {
      for (let i = 0; i < 50; i++) {
        pulled++;
        yield Buffer.alloc(1000, 120);
      }
    };
    const req = Object.assign(Readable.from(chunks()), { headers: {} }) as unknown as IncomingMessage;
    const refused = await readBody(req, 1500, { bytes: 1_000_000, ms: 5_000 });
    expect((refused as Refusal).status).toBe(413);
    expect(pulled).toBe(50); // the whole body was read (and dropped), so the client is no longer writing
    const declared = Object.assign(Readable.from(chunks()), {
      headers: { "content-length": "50000" },
    }) as unknown as IncomingMessage;
    pulled = 0;
    expect(((await readBody(declared, 1500, { bytes: 1_000_000, ms: 5_000 })) as Refusal).status).toBe(413);
    expect(pulled).toBe(50);
  });

  it("stops reading an oversized body past the drain bound (bytes or time)", async () => {
    let pulled = 0;
    const endless = function* () {
      for (;;) {
        pulled++;
        yield Buffer.alloc(1000, 120);
      }
    };
    const req = Object.assign(Readable.from(endless()), { headers: {} }) as unknown as IncomingMessage;
    expect(((await readBody(req, 1500, { bytes: 10_000, ms: 5_000 })) as Refusal).status).toBe(413);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pulled).toBeLessThan(40); // 11 chunks pass the bound; the stream's read-ahead adds a few, no more
    const stalled = Object.assign(new Readable({ read() {} }), {
      headers: { "content-length": "999999" },
    }) as unknown as IncomingMessage;
    const started = Date.now();
    expect(((await readBody(stalled, 1500, { bytes: 10_000, ms: 50 })) as Refusal).status).toBe(413);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });
});

describe("6. parse", () => {
  it("gives the message, -32700 for non-JSON, -32600 for a batch, neither with an id", () => {
    expect(parseBody('{"jsonrpc":"2.0","id":1,"method":"ping"}')).toEqual({
      jsonrpc: "2.0",
      id: 1,
      method: "ping",
    });
    const broken = parseBody('{"id":1,');
    expect((broken as Refusal).status).toBe(400);
    expect(body(broken)).toEqual({ jsonrpc: "2.0", error: { code: -32700, message: expect.any(String) } });
    expect(body(parseBody("[]")).error.code).toBe(-32600);
  });
});

describe("8. era headers", () => {
  const modern = (method: string, params: Record<string, unknown> = {}): McpRequest => ({
    id: 5,
    method,
    params,
    era: "modern",
    version: "2026-07-28",
  });
  const legacyRequest: McpRequest = { id: 5, method: "tools/list", params: {}, era: "legacy" };
  const good = { "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "message_get" };

  it("legacy: no header, a legacy revision or (tolerated) 2026-07-28 pass; anything else is 400 with the id", () => {
    for (const version of [undefined, "2025-11-25", "2024-11-05", "2026-07-28"]) {
      expect(checkEraHeaders(legacyRequest, { "mcp-protocol-version": version }, logger, "r")).toBeUndefined();
    }
    const refusal = checkEraHeaders(legacyRequest, { "mcp-protocol-version": "2027-01-01" }, logger, "r");
    expect(refusal?.status).toBe(400);
    expect(body(refusal)).toMatchObject({ id: 5, error: { code: -32000 } });
    expect(
      body(checkLegacyVersionHeader({ "mcp-protocol-version": "x" }, undefined, "notification", logger, "r")),
    ).not.toHaveProperty("id");
  });

  it("modern: version, method and name headers must match the body; a legacy version header is tolerated", () => {
    const call = modern("tools/call", { name: "message_get" });
    expect(checkEraHeaders(call, good, logger, "r")).toBeUndefined();
    expect(checkEraHeaders(call, { ...good, "mcp-protocol-version": "2025-11-25" }, logger, "r")).toBeUndefined();
    expect(
      checkEraHeaders(
        modern("tools/list"),
        { "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/list" },
        logger,
        "r",
      ),
    ).toBeUndefined();
    for (const headers of [
      { ...good, "mcp-protocol-version": undefined },
      { ...good, "mcp-protocol-version": "2027-01-01" },
      { ...good, "mcp-method": undefined },
      { ...good, "mcp-method": "tools/list" },
      { ...good, "mcp-name": undefined },
      { ...good, "mcp-name": "other" },
      { ...good, "mcp-name": "=?base64?!!!?=" },
    ]) {
      const refusal = checkEraHeaders(call, headers, logger, "r");
      expect(refusal?.status, JSON.stringify(headers)).toBe(400);
      expect(body(refusal)).toMatchObject({ id: 5, error: { code: -32020, data: { mismatch: expect.any(Object) } } });
    }
    const unknownVersion = { ...call, version: "2099-01-01" };
    expect(
      body(checkEraHeaders(unknownVersion, { ...good, "mcp-protocol-version": "2025-11-25" }, logger, "r")).error.code,
    ).toBe(-32020);
  });

  it("decodes the =?base64?…?= form and refuses a malformed one", () => {
    expect(decodeHeaderValue("message_get")).toBe("message_get");
    expect(decodeHeaderValue(`=?base64?${Buffer.from("Hello, 世界").toString("base64")}?=`)).toBe("Hello, 世界");
    expect(decodeHeaderValue("=?base64?SGVsbG8?=")).toBeUndefined(); // not padded
    expect(decodeHeaderValue("=?base64?SGVs!!!bG8=?=")).toBeUndefined();
    expect(decodeHeaderValue("=?base64?/w==?=")).toBeUndefined(); // not UTF-8
  });
});

describe("9. selection", () => {
  const surfaces = new Surfaces(prepareCatalogue(TOOL_SPECS), {});
  it("no headers: the configured surface; headers narrow it; unknown names are 400 with the id", () => {
    expect(selectSurface({}, surfaces, 1)).toBe(surfaces.base);
    const narrowed = selectSurface({ "x-mcp-toolsets": "calls", "x-mcp-readonly": "true" }, surfaces, 1);
    expect(narrowed).not.toBeInstanceOf(Refusal);
    expect(narrowed).toMatchObject({ narrowed: true });
    const refusal = selectSurface({ "x-mcp-tools": "no_such_tool" }, surfaces, "a");
    expect((refusal as Refusal).status).toBe(400);
    expect(body(refusal)).toMatchObject({
      id: "a",
      error: { code: -32600, message: expect.stringContaining("no_such_tool") },
    });
  });
});

describe("11. challenge rewrite", () => {
  it("an upstream 401 becomes HTTP 401 invalid_token with the request's id", () => {
    const refusal = invalidTokenChallenge(9, 'Bearer error="invalid_token"');
    expect(refusal.status).toBe(401);
    expect(refusal.headers).toEqual({ "www-authenticate": 'Bearer error="invalid_token"' });
    expect(body(refusal)).toMatchObject({ id: 9, error: { code: -32001 } });
  });
});
