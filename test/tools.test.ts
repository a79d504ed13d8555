import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";
import { TOOL_CASES } from "./fixtures/tool-cases.js";
import { connectClient, startTestHttpServer, type TestHttpServer } from "./helpers/http-server.js";
import { connectInProcessStdio, type InProcessStdio } from "./helpers/stdio-in-process.js";
import { FakeUpstream } from "./helpers/upstream.js";

// Every tool, end to end over both transports of src/ (in process, no build): the SDK client -> stdio or streamable
// HTTP -> a loopback upstream that records exactly what arrived. The expectations are written out by hand from the
// OpenAPI document (fixtures/tool-cases.ts). The built bin is driven by test/bin.test.ts, test/package.test.ts
// and test/bundle.test.ts.

const KEY = "ps_live_tools_suite_key_0001";
const KEY_ID = "k_tools_suite";

let upstream: FakeUpstream;
let stdio: InProcessStdio;
let http: TestHttpServer;
let httpClient: Client;

beforeAll(async () => {
  upstream = await FakeUpstream.start((req) => ({ status: 200, body: { echo: req.method, items: [1, 2] } }));
  stdio = await connectInProcessStdio({
    PILOT_STATUS_API_URL: upstream.url,
    PILOT_STATUS_API_KEY: KEY,
    PILOT_STATUS_API_KEY_ID: KEY_ID,
  });
  http = await startTestHttpServer({ PILOT_STATUS_API_URL: upstream.url, LOG_LEVEL: "silent" });
  httpClient = await connectClient(http.mcpUrl, { "x-api-key": KEY, "x-api-key-id": KEY_ID });
});

afterAll(async () => {
  await stdio?.close();
  await httpClient?.close();
  await http?.close();
  await upstream?.close();
});

beforeEach(() => upstream.reset());

const TRANSPORTS: ReadonlyArray<readonly [string, () => Client]> = [
  ["stdio", () => stdio.client],
  ["streamable HTTP", () => httpClient],
];

describe.each(TRANSPORTS)("every tool forwards exactly the documented request (%s)", (_transport, client) => {
  it("covers every tool of the catalogue", async () => {
    const { tools } = await client().listTools();
    expect(new Set(TOOL_CASES.map((c) => c.tool))).toEqual(new Set(tools.map((t) => t.name)));
    expect(tools).toHaveLength(TOOL_SPECS.length);
  });

  it.each(TOOL_CASES.map((c) => [c.name, c] as const))("%s", async (_label, c) => {
    const result = await client().callTool({ name: c.tool, arguments: { ...c.args } });
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(upstream.requests).toHaveLength(1);
    const got = upstream.requests[0]!;
    expect(got.method).toBe(c.expect.method);
    expect(got.path).toBe(c.expect.path);
    expect(got.query).toEqual(c.expect.query);
    expect(got.headers["x-whatsapp-number-id"]).toBe(c.expect.numberHeader);
    if (c.expect.body === undefined) {
      expect(got.rawBody).toBe("");
    } else {
      expect(got.headers["content-type"]).toBe("application/json");
      expect(got.body).toEqual(c.expect.body);
    }
    // The caller's credentials and nothing else of theirs.
    expect(got.headers["x-api-key"]).toBe(KEY);
    expect(got.headers["x-api-key-id"]).toBe(KEY_ID);
    expect(got.headers.authorization).toBeUndefined();
    expect(got.headers["user-agent"]).toMatch(/^pilot-status-mcp\/\d+\.\d+\.\d+/);
    // The answer comes back as text and as structured content.
    expect(result.structuredContent).toEqual({ echo: c.expect.method, items: [1, 2] });
    expect(JSON.parse((result.content as Array<{ text: string }>)[0]!.text)).toEqual({
      echo: c.expect.method,
      items: [1, 2],
    });
  });
});
