import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { maskPhoneNumbers, scrubCredentials, secretValues } from "../src/log.js";
import { startTestHttpServer, type TestHttpServer } from "./helpers/http-server.js";
import { INITIALIZE_2025, legacy } from "./helpers/messages.js";
import { type StdioLines, startStdioLines } from "./helpers/stdio-lines.js";
import { FakeUpstream, type RecordedRequest, type Reply } from "./helpers/upstream.js";

// An API that quotes back everything it received, credentials included, in every shape an echo can take. Nothing
// of the caller's credentials may reach a tool result or any log line; the call's own argument values and phone
// numbers stay out of the log too (docs/decisions.md #32).

// Credentials that match no pattern the scrubber knows (no ps_ prefix, no "Bearer" before the echo): only
// scrubbing by value can catch them.
const KEY = "ps_live_Echo0key0Value0123";
const KEY_ID = "ck_echo0key0id0456";
const TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJlY2hvIn0.s1g/na+ture=";
const PHONE = "+5511987654321";
const TEXT_ARG = "Secret plans for Tuesday";

const STATUSES = [200, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503] as const;

/** Every form of a value an upstream might write: plain, with `/` escaped, with \u escapes, percent-encoded. */
function echoForms(value: string): string[] {
  const unicode = [...value].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
  return [value, value.replaceAll("/", "\\/"), unicode, encodeURIComponent(value)];
}

/** A JSON body (written by hand, so the escaped forms survive) quoting every credential header and the body. */
function echoBody(req: RecordedRequest): string {
  const said = [req.headers["x-api-key"], req.headers["x-api-key-id"], req.headers.authorization]
    .filter((v): v is string => typeof v === "string")
    .flatMap((v) => [v, ...echoForms(v), ...echoForms(v.replace(/^Bearer\s+/i, ""))]);
  const quoted = said.map((form) => `"${form.replaceAll('"', '\\"')}"`).join(",");
  // The escaped forms stay escapes: JSON.parse turns them back into the credential itself.
  const sent = req.rawBody.replaceAll("\\", "\\\\").replaceAll('"', '\\"');
  const error = `credential rejected for ${PHONE} / call +55 (11) 98765-4321: ${said.join(" | ")}; you sent ${sent}`;
  return `{"code":"VALIDATION_ERROR","error":"${error}","details":{"seen":[${quoted}],"headers":${JSON.stringify(req.headers)}},"echo":[${quoted}],"ok":true}`;
}

function echoReply(status: number, json: boolean): (req: RecordedRequest) => Reply {
  return (req) => ({
    status,
    headers: { "content-type": json ? "application/json" : "text/plain", "retry-after": "0" },
    body: json ? echoBody(req) : `upstream said no to ${JSON.stringify(req.headers)} with ${req.rawBody}`,
  });
}

/** Every secret form (plain, escaped, encoded) of the given credential values, for scanning output. */
function leaks(text: string, values: readonly string[]): string[] {
  const forms = values.flatMap((v) => [v, ...echoForms(v), JSON.stringify(v).slice(1, -1)]);
  return [...new Set(forms)].filter((form) => text.includes(form));
}

const SEND_ARGS = { destinationNumber: PHONE, text: TEXT_ARG };

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await FakeUpstream.start();
});
afterAll(async () => upstream.close());

describe("scrubbing by value", () => {
  it("replaces each credential in every form, whatever surrounds it, and skips values too short to be secrets", () => {
    const secrets = secretValues({ apiKey: "abc", apiKeyId: KEY_ID, authorization: `Bearer ${TOKEN}` });
    const text = `x${KEY_ID}y "${TOKEN.replaceAll("/", "\\/")}" ${encodeURIComponent(TOKEN)} Bearer ${TOKEN}! abc`;
    expect(scrubCredentials(text, secrets)).toBe('x[REDACTED]y "[REDACTED]" [REDACTED] [REDACTED]! abc');
  });

  it("masks phone-number-like digit runs and leaves short numbers", () => {
    expect(maskPhoneNumbers(`call ${PHONE} or +55 (11) 98765-4321, page 12 of 345`)).toBe(
      "call [number] or [number], page 12 of 345",
    );
  });
});

const KINDS: Array<{ kind: string; headers: Record<string, string>; secrets: string[] }> = [
  { kind: "x-api-key + x-api-key-id", headers: { "x-api-key": KEY, "x-api-key-id": KEY_ID }, secrets: [KEY, KEY_ID] },
  { kind: "OAuth bearer", headers: { authorization: `Bearer ${TOKEN}` }, secrets: [TOKEN, `Bearer ${TOKEN}`] },
];

describe.each(KINDS)("an upstream that echoes the credentials back, over HTTP with $kind", ({ headers, secrets }) => {
  let server: TestHttpServer;
  beforeAll(async () => {
    server = await startTestHttpServer({ PILOT_STATUS_API_URL: upstream.url, MCP_ALLOWED_HOSTS: "127.0.0.1" });
  });
  afterAll(async () => server.close());
  afterEach(() => upstream.reset());

  async function call(name: string, args: Record<string, unknown>): Promise<{ status: number; text: string }> {
    const response = await fetch(server.mcpUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        // A fixed id: a random one is hex, and now and then holds the digits the log must not (98765).
        "x-request-id": "req-credential-echo",
        ...headers,
      },
      body: JSON.stringify(legacy("tools/call", { name, arguments: args }, 7)),
    });
    return { status: response.status, text: await response.text() };
  }

  it.each(
    STATUSES.flatMap((status) => [
      { status, json: true },
      { status, json: false },
    ]),
  )(
    "HTTP $status (JSON body: $json): no credential in the answer or the log, no argument or phone in the log",
    async ({ status, json }) => {
      upstream.respond(echoReply(status, json));
      const logsBefore = server.logs.length;
      const answer = await call("messages_send", SEND_ARGS);
      // The echo really reached the server: the upstream saw the credentials, and sent them back.
      const seen = upstream.requests.at(-1)!;
      expect(leaks(JSON.stringify(seen.headers), secrets)).not.toEqual([]);

      expect(leaks(answer.text, secrets)).toEqual([]);
      const log = JSON.stringify(server.logs.slice(logsBefore));
      expect(leaks(log, secrets)).toEqual([]);
      expect(log).not.toContain(TEXT_ARG);
      expect(log).not.toContain("98765");
      if (status === 401) expect(answer.status).toBe(401);
      else expect(answer.status).toBe(200);
      if (json && status >= 400 && status < 500 && status !== 401) {
        // The model still reads the API's own message, with the credentials cut out of it.
        expect(answer.text).toContain("API message (quoted)");
        expect(answer.text).toContain("[REDACTED]");
        expect(answer.text).toContain("credential rejected");
      }
      if (json && status === 200) expect(answer.text).toContain("[REDACTED]");
      if (status >= 500) {
        const line = server.logs.slice(logsBefore).find((l) => l.msg === "upstream unavailable");
        expect(line?.upstream).toMatchObject({ bodyChars: expect.any(Number) });
        if (json)
          expect(line?.upstream).toMatchObject({
            code: "VALIDATION_ERROR",
            error: expect.stringContaining("[number]"),
          });
        else expect(line?.upstream).not.toHaveProperty("error");
      }
    },
  );

  it("the key tools return keys unchanged (they exist to), and still log none", async () => {
    upstream.respond(echoReply(200, true));
    const logsBefore = server.logs.length;
    const answer = await call("api_keys_list", {});
    expect(leaks(answer.text, secrets)).not.toEqual([]);
    expect(leaks(JSON.stringify(server.logs.slice(logsBefore)), secrets)).toEqual([]);
  });

  it("an unreachable upstream logs no credential either", async () => {
    const dead = await startTestHttpServer({
      PILOT_STATUS_API_URL: "http://127.0.0.1:9/",
      MCP_ALLOWED_HOSTS: "127.0.0.1",
    });
    try {
      const response = await fetch(dead.mcpUrl, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
        body: JSON.stringify(legacy("tools/call", { name: "messages_send", arguments: SEND_ARGS }, 8)),
      });
      const text = await response.text();
      expect(text).toContain("unavailable");
      expect(leaks(text + JSON.stringify(dead.logs), secrets)).toEqual([]);
      expect(JSON.stringify(dead.logs)).toContain("tool call failed upstream");
    } finally {
      await dead.close();
    }
  });
});

describe("an upstream that echoes the key back, over stdio", () => {
  let stdio: StdioLines;
  beforeAll(() => {
    stdio = startStdioLines({
      PILOT_STATUS_API_URL: upstream.url,
      PILOT_STATUS_API_KEY: KEY,
      PILOT_STATUS_API_KEY_ID: KEY_ID,
    });
  });
  afterAll(async () => stdio.close());

  it.each(
    STATUSES.flatMap((status) => [
      { status, json: true },
      { status, json: false },
    ]),
  )("HTTP $status (JSON body: $json): no credential in the line or the log", async ({ status, json }) => {
    upstream.respond(echoReply(status, json));
    const id = `s${status}${json ? "j" : "t"}`;
    stdio.send(legacy("tools/call", { name: "messages_send", arguments: SEND_ARGS }, id));
    const line = await stdio.next((l) => l.id === id);
    expect(upstream.requests.at(-1)!.headers["x-api-key"]).toBe(KEY);
    expect(leaks(JSON.stringify(line), [KEY, KEY_ID])).toEqual([]);
    const log = JSON.stringify(stdio.logs);
    expect(leaks(log, [KEY, KEY_ID])).toEqual([]);
    expect(log).not.toContain(TEXT_ARG);
    expect(log).not.toContain("98765");
  });

  it("answers initialize and lists tools as usual", async () => {
    stdio.send(INITIALIZE_2025);
    expect((await stdio.next((l) => l.id === 1)).result).toMatchObject({ protocolVersion: "2025-11-25" });
  });
});
