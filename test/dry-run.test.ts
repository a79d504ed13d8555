import request from "supertest";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";
import { parseCommand } from "../src/cli-args.js";
import { TOOL_CASES, type ToolCase } from "./fixtures/tool-cases.js";
import { connectClient, startTestHttpServer, type TestHttpServer } from "./helpers/http-server.js";
import { INITIALIZE_2025, legacy, modern, modernHeaders } from "./helpers/messages.js";
import { connectInProcessStdio } from "./helpers/stdio-in-process.js";
import { FakeUpstream } from "./helpers/upstream.js";

// Dry run: every tool that is not read-only validates its arguments as usual and then returns the request it
// would have sent, sending nothing; read-only tools still read. Checked against the hand-written per-tool
// expectations (fixtures/tool-cases.ts) with a loopback upstream that counts what reaches it.

const KEY = "ps_live_dry_run_key_0001";
const KEY_ID = "k_dry_run";
const READ_ONLY = new Map(TOOL_SPECS.map((spec) => [spec.name, spec.annotations.readOnlyHint]));
const WRITES = TOOL_CASES.filter((c) => READ_ONLY.get(c.tool) === false);
const READS = TOOL_CASES.filter((c) => READ_ONLY.get(c.tool) === true);
const ANSWER = { echo: "real", items: [1, 2] };

interface Result {
  content: Array<{ type: string; text: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

let upstream: FakeUpstream;
let dryServer: TestHttpServer;
let liveServer: TestHttpServer;

beforeAll(async () => {
  upstream = await FakeUpstream.start(() => ({ status: 200, body: ANSWER }));
  dryServer = await startTestHttpServer({ PILOT_STATUS_API_URL: `${upstream.url}`, PILOT_STATUS_DRY_RUN: "true" });
  liveServer = await startTestHttpServer({ PILOT_STATUS_API_URL: upstream.url });
});
afterAll(async () => {
  await dryServer?.close();
  await liveServer?.close();
  await upstream?.close();
});
beforeEach(() => upstream.reset());

/** The dry-run answer must describe exactly the request the fixture says the real call sends. */
function expectDescribes(result: Result, c: ToolCase, credentialHeaders: string[]): void {
  expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
  const structured = result.structuredContent as {
    dryRun: boolean;
    sent: boolean;
    tool: string;
    request: Record<string, unknown>;
  };
  expect(structured).toMatchObject({ dryRun: true, sent: false, tool: c.tool });
  const described = structured.request as {
    method: string;
    url: string;
    path: string;
    query: unknown;
    headers: Record<string, string>;
    credentialHeaders: string[];
    body?: unknown;
  };
  expect(described.method).toBe(c.expect.method);
  expect(described.path).toBe(c.expect.path);
  expect(described.query).toEqual(c.expect.query);
  expect(described.headers["x-whatsapp-number-id"]).toBe(c.expect.numberHeader);
  expect(described.credentialHeaders).toEqual(credentialHeaders);
  if (c.expect.body === undefined) {
    expect("body" in described).toBe(false);
    expect(described.headers["content-type"]).toBeUndefined();
  } else {
    expect(described.body).toEqual(c.expect.body);
    expect(described.headers["content-type"]).toBe("application/json");
  }
  const url = new URL(described.url);
  expect(url.pathname).toBe(c.expect.path);
  expect(Object.fromEntries(url.searchParams)).toEqual(c.expect.query);
  // Plainly marked, the same description as text, and no credential value anywhere.
  expect(result.content).toHaveLength(1);
  const text = result.content[0]!.text;
  expect(text).toMatch(/^DRY RUN: nothing was sent to the Pilot Status API\./);
  expect(JSON.parse(text.slice(text.indexOf("\n") + 1))).toEqual(structured);
  expect(JSON.stringify(result)).not.toContain(KEY);
  expect(JSON.stringify(result)).not.toContain(KEY_ID);
}

describe("PILOT_STATUS_DRY_RUN=true over HTTP", () => {
  it("covers both kinds of tool", () => {
    expect(new Set(WRITES.map((c) => c.tool)).size + new Set(READS.map((c) => c.tool)).size).toBe(TOOL_SPECS.length);
    expect(WRITES.length).toBeGreaterThan(20);
  });

  it.each(WRITES.map((c) => [c.name, c] as const))("%s: describes the request and sends nothing", async (_label, c) => {
    const client = await connectClient(dryServer.mcpUrl, { "x-api-key": KEY, "x-api-key-id": KEY_ID });
    const result = (await client.callTool({ name: c.tool, arguments: { ...c.args } })) as Result;
    await client.close();
    expectDescribes(result, c, ["x-api-key", "x-api-key-id"]);
    expect(upstream.requests).toHaveLength(0);
  });

  it.each(READS.map((c) => [c.name, c] as const))("%s: read-only, so it still reads the API", async (_label, c) => {
    const client = await connectClient(dryServer.mcpUrl, { "x-api-key": KEY, "x-api-key-id": KEY_ID });
    const result = (await client.callTool({ name: c.tool, arguments: { ...c.args } })) as Result;
    await client.close();
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(result.structuredContent).toEqual(ANSWER);
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]!.path).toBe(c.expect.path);
  });

  it("still refuses invalid arguments, naming the field, and sends nothing", async () => {
    const client = await connectClient(dryServer.mcpUrl, { "x-api-key": KEY });
    const result = (await client.callTool({
      name: "messages_send",
      arguments: { text: "oi", mediaType: "hologram" },
    })) as Result;
    await client.close();
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toMatch(/^Invalid arguments for messages_send; nothing was sent:/);
    expect(result.content[0]!.text).toContain("mediaType");
    expect(result.structuredContent).toBeUndefined();
    expect(upstream.requests).toHaveLength(0);
  });

  it("names a bearer's header, never its token, and keeps a credential pasted into an argument out", async () => {
    const token = "oauth_access_token_dry_0001";
    const client = await connectClient(dryServer.mcpUrl, { authorization: `Bearer ${token}` });
    const result = (await client.callTool({
      name: "messages_send",
      arguments: { groupId: "1203@g.us", text: `my token is ${token}` },
    })) as Result;
    await client.close();
    const described = (result.structuredContent as { request: { credentialHeaders: string[]; body: { text: string } } })
      .request;
    expect(described.credentialHeaders).toEqual(["authorization"]);
    expect(described.body.text).toBe("my token is [REDACTED]");
    expect(JSON.stringify(result)).not.toContain(token);
    expect(upstream.requests).toHaveLength(0);
  });

  it("says so in the instructions of both eras, and leaves tools/list as it is", async () => {
    const client = await connectClient(dryServer.mcpUrl, { "x-api-key": KEY });
    expect(client.getInstructions()).toContain("DRY RUN IS ON");
    const dryList = await client.listTools();
    await client.close();
    const live = await connectClient(liveServer.mcpUrl, { "x-api-key": KEY });
    expect(live.getInstructions()).not.toContain("DRY RUN");
    expect(dryList).toEqual(await live.listTools()); // descriptions and annotations stay true for the real run
    await live.close();
    const discover = await request(dryServer.url)
      .post("/mcp")
      .set({
        "content-type": "application/json",
        accept: "application/json",
        "x-api-key": KEY,
        ...modernHeaders("server/discover"),
      })
      .send(JSON.stringify(modern("server/discover")));
    expect(discover.body.result.instructions).toContain("DRY RUN IS ON");
    expect(discover.body.result.cacheScope).toBe("public"); // the server's own setting: the same for every caller
  });

  it("cannot be switched off by X-MCP-Dry-Run: false", async () => {
    const client = await connectClient(dryServer.mcpUrl, { "x-api-key": KEY, "x-mcp-dry-run": "false" });
    expect(client.getInstructions()).toContain("DRY RUN IS ON");
    const result = (await client.callTool({ name: "webhooks_delete", arguments: { webhookId: "wh_1" } })) as Result;
    await client.close();
    expect(result.structuredContent).toMatchObject({
      dryRun: true,
      request: { method: "DELETE", path: "/v1/webhooks/wh_1" },
    });
    expect(upstream.requests).toHaveLength(0);
  });
});

describe("X-MCP-Dry-Run: true on one HTTP request", () => {
  const post = (body: unknown, headers: Record<string, string>) =>
    request(liveServer.url)
      .post("/mcp")
      .set({ "content-type": "application/json", accept: "application/json", "x-api-key": KEY, ...headers })
      .send(JSON.stringify(body));
  const sendText = { name: "messages_send", arguments: { groupId: "120363025246125888@g.us", text: "Bom dia" } };

  it("turns dry run on for that request only", async () => {
    const dry = await post(legacy("tools/call", sendText), { "x-mcp-dry-run": "true" });
    expect(dry.status).toBe(200);
    expect(dry.body.result.structuredContent).toMatchObject({
      dryRun: true,
      request: {
        method: "POST",
        path: "/v1/messages/send",
        body: { groupId: "120363025246125888@g.us", text: "Bom dia" },
      },
    });
    expect(upstream.requests).toHaveLength(0);
    const real = await post(legacy("tools/call", sendText), {});
    expect(real.body.result.structuredContent).toEqual(ANSWER);
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]!.body).toEqual({ groupId: "120363025246125888@g.us", text: "Bom dia" });
  });

  it("over 2026-07-28 too, with the instructions saying so and cached privately", async () => {
    const call = await post(modern("tools/call", sendText), {
      ...modernHeaders("tools/call", "messages_send"),
      "x-mcp-dry-run": "1",
    });
    expect(call.status).toBe(200);
    expect(call.body.result).toMatchObject({
      resultType: "complete",
      structuredContent: { dryRun: true, sent: false },
    });
    const discover = await post(modern("server/discover"), {
      ...modernHeaders("server/discover"),
      "x-mcp-dry-run": "true",
    });
    expect(discover.body.result.instructions).toContain("DRY RUN IS ON");
    expect(discover.body.result.cacheScope).toBe("private");
    const init = await post(INITIALIZE_2025, { "x-mcp-dry-run": "yes" });
    expect(init.body.result.instructions).toContain("DRY RUN IS ON");
    const plain = await post(INITIALIZE_2025, { "x-mcp-dry-run": "false" });
    expect(plain.body.result.instructions).not.toContain("DRY RUN");
    expect(upstream.requests).toHaveLength(0);
  });

  it("combines with the other X-MCP-* headers, and a value that is not a flag is a 400 naming the header", async () => {
    const list = await post(legacy("tools/list"), { "x-mcp-toolsets": "calls", "x-mcp-dry-run": "true" });
    expect(list.body.result.tools.length).toBeGreaterThan(0);
    const bad = await post(legacy("tools/call", sendText), { "x-mcp-dry-run": "maybe" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("X-MCP-Dry-Run must be true or false");
    expect(upstream.requests).toHaveLength(0);
  });

  it("is a header a browser client may send", async () => {
    const preflight = await request(liveServer.url).options("/mcp").set({
      origin: "http://localhost:6274",
      "access-control-request-method": "POST",
      "access-control-request-headers": "x-mcp-dry-run",
    });
    expect(preflight.headers["access-control-allow-headers"]).toContain("x-mcp-dry-run");
  });
});

// Over the stdio transport of src/, in process; that the built bin takes --dry-run is in test/bin.test.ts.
describe("stdio reads PILOT_STATUS_DRY_RUN", () => {
  /** The variables the CLI lays over the environment for this command line. */
  const flags = (argv: string[]): Record<string, string> => {
    const command = parseCommand(argv);
    if (command.action !== "serve") throw new Error(`parsed as ${command.action}`);
    return { ...command.overrides };
  };

  it.each([
    ["the environment", { PILOT_STATUS_DRY_RUN: "true" }, ["stdio"]],
    ["the --dry-run flag", {}, ["stdio", "--dry-run"]],
  ] as const)("from %s", async (_label, env, args) => {
    const session = await connectInProcessStdio({
      PILOT_STATUS_API_URL: upstream.url,
      PILOT_STATUS_API_KEY: KEY,
      ...env,
      ...flags([...args]),
    });
    try {
      expect(session.client.getInstructions()).toContain("DRY RUN IS ON");
      const send = WRITES.find((c) => c.tool === "messages_send")!;
      expectDescribes(
        (await session.client.callTool({ name: send.tool, arguments: { ...send.args } })) as Result,
        send,
        ["x-api-key"],
      );
      expect(upstream.requests).toHaveLength(0);
      const read = (await session.client.callTool({ name: "messages_unread", arguments: {} })) as Result;
      expect(read.structuredContent).toEqual(ANSWER);
      expect(upstream.requests).toHaveLength(1);
    } finally {
      await session.close();
    }
  });
});
