import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TOOL_CASES } from "./fixtures/tool-cases.js";
import { FakeUpstream } from "./helpers/upstream.js";
import { startStdioServer, type StdioSession } from "./helpers/stdio-server.js";

// Every tool, end to end: the SDK client -> the built binary over stdio -> a loopback upstream that records
// exactly what arrived. The expectations are written out by hand from the OpenAPI document (fixtures/tool-cases.ts).

const KEY = "ps_live_tools_suite_key_0001";
const KEY_ID = "k_tools_suite";

let upstream: FakeUpstream;
let session: StdioSession;

beforeAll(async () => {
  upstream = await FakeUpstream.start((req) => ({ status: 200, body: { echo: req.method, items: [1, 2] } }));
  session = await startStdioServer({
    PILOT_STATUS_API_URL: upstream.url,
    PILOT_STATUS_API_KEY: KEY,
    PILOT_STATUS_API_KEY_ID: KEY_ID,
  });
});

afterAll(async () => {
  await session?.close();
  await upstream?.close();
});

beforeEach(() => upstream.reset());

describe("every tool forwards exactly the documented request", () => {
  it("covers all 54 tools", async () => {
    const { tools } = await session.client.listTools();
    expect(new Set(TOOL_CASES.map((c) => c.tool))).toEqual(new Set(tools.map((t) => t.name)));
    expect(tools).toHaveLength(54);
  });

  it.each(TOOL_CASES.map((c) => [c.name, c] as const))("%s", async (_label, c) => {
    const result = await session.client.callTool({ name: c.tool, arguments: { ...c.args } });
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
    expect(JSON.parse((result.content as Array<{ text: string }>)[0]!.text)).toEqual({ echo: c.expect.method, items: [1, 2] });
  });
});
