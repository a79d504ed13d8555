import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.js";
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";
import { parseCommand } from "../src/cli-args.js";
import { loadConfig } from "../src/config.js";
import { prepareCatalogue } from "../src/registry/registry.js";
import { type Selection, SelectionError, selectTools } from "../src/registry/selection.js";
import { startTestHttpServer, type TestHttpServer } from "./helpers/http-server.js";
import { connectInProcessStdio } from "./helpers/stdio-in-process.js";
import { FakeUpstream } from "./helpers/upstream.js";

const ALL = prepareCatalogue(TOOL_SPECS);
const names = (selection: Selection) =>
  selectTools(ALL, selection)
    .map((t) => t.spec.name)
    .sort();
const inToolset = (toolset: string) =>
  TOOL_SPECS.filter((t) => t.toolset === toolset)
    .map((t) => t.name)
    .sort();
const readOnly = TOOL_SPECS.filter((t) => t.annotations.readOnlyHint)
  .map((t) => t.name)
  .sort();

describe("selectTools (pure)", () => {
  it.each<[string, Selection, string[]]>([
    ["nothing: every tool", {}, TOOL_SPECS.map((t) => t.name).sort()],
    ["one toolset", { toolsets: ["calls"] }, inToolset("calls")],
    ["two toolsets", { toolsets: ["groups", "channels"] }, [...inToolset("groups"), ...inToolset("channels")].sort()],
    ["'all'", { toolsets: ["all"] }, TOOL_SPECS.map((t) => t.name).sort()],
    ["tools alone: only those", { tools: ["message_get", "numbers_list"] }, ["message_get", "numbers_list"]],
    ["toolset plus a tool", { toolsets: ["channels"], tools: ["message_get"] }, ["message_get", "newsletters_list"]],
    [
      "toolset minus a tool",
      { toolsets: ["templates"], excludeTools: ["templates_delete"] },
      inToolset("templates").filter((n) => n !== "templates_delete"),
    ],
    [
      "exclude alone: all but those",
      { excludeTools: ["messages_send"] },
      TOOL_SPECS.map((t) => t.name)
        .filter((n) => n !== "messages_send")
        .sort(),
    ],
    ["read-only", { readOnly: true }, readOnly],
    [
      "read-only wins over explicit tools",
      { tools: ["messages_send", "message_get"], readOnly: true },
      ["message_get"],
    ],
    [
      "read-only within a toolset",
      { toolsets: ["numbers"], readOnly: true },
      ["numbers_get", "numbers_list", "numbers_status"],
    ],
  ])("%s", (_label, selection, expected) => {
    expect(names(selection)).toEqual(expected);
  });

  it("names every unknown toolset and tool", () => {
    expect(() => selectTools(ALL, { toolsets: ["calls", "sms"], tools: ["send_fax"], excludeTools: ["nope"] })).toThrow(
      SelectionError,
    );
    try {
      selectTools(ALL, { toolsets: ["calls", "sms"], tools: ["send_fax"], excludeTools: ["nope"] });
    } catch (error) {
      expect((error as Error).message).toMatch(
        /unknown toolset "sms" \(toolsets: messaging, .*account, or all\); unknown tool "send_fax"; unknown excluded tool "nope"/,
      );
    }
  });

  it("says numbers_connect is not read-only even though it is a GET", () => {
    expect(names({ readOnly: true })).not.toContain("numbers_connect");
  });
});

describe("selection over HTTP", () => {
  let upstream: FakeUpstream;
  let open: TestHttpServer;
  let narrowed: TestHttpServer;

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
    open = await startTestHttpServer({ PILOT_STATUS_API_URL: upstream.url });
    narrowed = await startTestHttpServer({
      PILOT_STATUS_API_URL: upstream.url,
      PILOT_STATUS_TOOLSETS: "messaging,calls",
      PILOT_STATUS_EXCLUDE_TOOLS: "call_initiate",
    });
  });
  afterAll(async () => {
    await open?.close();
    await narrowed?.close();
    await upstream?.close();
  });

  const list = async (server: TestHttpServer, headers: Record<string, string>) => {
    const res = await request(server.url)
      .post("/mcp")
      .set({ "content-type": "application/json", accept: "application/json", "x-api-key": "ps_sel", ...headers })
      .send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }));
    return {
      status: res.status,
      body: res.body,
      names: (res.body.result?.tools ?? []).map((t: { name: string }) => t.name).sort() as string[],
    };
  };

  it.each<[string, Record<string, string>, string[]]>([
    ["X-MCP-Toolsets", { "x-mcp-toolsets": "calls" }, inToolset("calls")],
    ["X-MCP-Tools", { "x-mcp-tools": "message_get, numbers_list" }, ["message_get", "numbers_list"]],
    [
      "X-MCP-Exclude-Tools",
      { "x-mcp-toolsets": "templates", "x-mcp-exclude-tools": "templates_delete,templates_update" },
      ["templates_create", "templates_get", "templates_list"],
    ],
    ["X-MCP-Readonly", { "x-mcp-readonly": "true" }, readOnly],
    [
      "X-MCP-Readonly wins over X-MCP-Tools",
      { "x-mcp-tools": "messages_send,message_get", "x-mcp-readonly": "1" },
      ["message_get"],
    ],
  ])("%s narrows tools/list", async (_label, headers, expected) => {
    expect((await list(open, headers)).names).toEqual(expected);
  });

  it("answers unknown names with 400 naming them", async () => {
    const res = await list(open, { "x-mcp-toolsets": "calls,fax", "x-mcp-tools": "teleport" });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('unknown toolset "fax"');
    expect(res.body.error.message).toContain('unknown tool "teleport"');
    const flag = await list(open, { "x-mcp-readonly": "maybe" });
    expect(flag.status).toBe(400);
  });

  it("cannot widen the server's configuration", async () => {
    const configured = [...inToolset("messaging"), ...inToolset("calls")].filter((n) => n !== "call_initiate").sort();
    expect((await list(narrowed, {})).names).toEqual(configured);
    expect((await list(narrowed, { "x-mcp-toolsets": "numbers" })).names).toEqual([]);
    expect((await list(narrowed, { "x-mcp-tools": "call_initiate,numbers_list,message_get" })).names).toEqual([
      "message_get",
    ]);
    expect((await list(narrowed, { "x-mcp-readonly": "false" })).names).toEqual(configured);
  });

  it("makes a tool outside the selection a JSON-RPC error, and sends nothing", async () => {
    upstream.reset();
    const res = await request(narrowed.url)
      .post("/mcp")
      .set({ "content-type": "application/json", accept: "application/json", "x-api-key": "ps_sel" })
      .send(
        JSON.stringify({
          jsonrpc: "2.0",
          id: 9,
          method: "tools/call",
          params: { name: "numbers_list", arguments: {} },
        }),
      );
    expect(res.body).toMatchObject({ id: 9, error: { code: -32602, message: "Unknown tool: numbers_list" } });
    const viaHeader = await request(open.url)
      .post("/mcp")
      .set({
        "content-type": "application/json",
        accept: "application/json",
        "x-api-key": "ps_sel",
        "x-mcp-readonly": "true",
      })
      .send(
        JSON.stringify({
          jsonrpc: "2.0",
          id: 10,
          method: "tools/call",
          params: { name: "messages_send", arguments: { destinationNumber: "+5511999999999", text: "x" } },
        }),
      );
    expect(viaHeader.body).toMatchObject({ id: 10, error: { code: -32602 } });
    expect(upstream.requests).toHaveLength(0);
  });

  it.each(["/.well-known/mcp.json", "/.well-known/mcp/server-card.json"])(
    "%s lists exactly what tools/list lists",
    async (path) => {
      for (const server of [open, narrowed]) {
        const card = await request(server.url).get(path);
        expect(card.status).toBe(200);
        expect(card.headers["access-control-allow-origin"]).toBe("*");
        expect(card.body).toMatchObject({
          name: expect.any(String),
          version: expect.stringMatching(/^\d+\.\d+\.\d+/),
          description: expect.any(String),
          remotes: [{ type: "streamable-http", url: "https://mcp.pilotstatus.com.br/mcp" }],
          authentication: {
            oauth2: {
              protectedResourceMetadata: "https://mcp.pilotstatus.com.br/.well-known/oauth-protected-resource/mcp",
            },
            apiKey: { header: "x-api-key" },
          },
        });
        const listed = await list(server, {});
        const full = listed.body.result.tools as Array<{ name: string; title: string; annotations: unknown }>;
        expect(card.body.tools.map((t: { name: string }) => t.name).sort()).toEqual(listed.names);
        for (const tool of card.body.tools as Array<{ name: string; title: string; annotations: unknown }>) {
          const same = full.find((t) => t.name === tool.name)!;
          expect(tool.title).toBe(same.title);
          expect(tool.annotations).toEqual(same.annotations);
        }
      }
    },
  );
});

// Over the stdio transport of src/, in process; that the bin exits 2 on unknown names is in test/bin.test.ts.
describe("selection over stdio", () => {
  it("reads PILOT_STATUS_READ_ONLY and the toolset variables", async () => {
    const session = await connectInProcessStdio({
      PILOT_STATUS_API_KEY: "ps_x",
      PILOT_STATUS_READ_ONLY: "true",
      PILOT_STATUS_TOOLSETS: "numbers,account",
    });
    const { tools } = await session.client.listTools();
    await session.close();
    expect(tools.map((t) => t.name).sort()).toEqual(
      readOnly.filter((n) => [...inToolset("numbers"), ...inToolset("account")].includes(n)),
    );
  });

  it("takes flags, which win over the environment", async () => {
    const command = parseCommand(["stdio", "--toolsets=channels", "--tools", "message_get"]);
    if (command.action !== "serve") throw new Error(`parsed as ${command.action}`);
    // As the CLI lays them: the flags' variables over the environment.
    const session = await connectInProcessStdio({
      PILOT_STATUS_API_KEY: "ps_x",
      PILOT_STATUS_TOOLSETS: "account",
      ...command.overrides,
    });
    const { tools } = await session.client.listTools();
    await session.close();
    expect(tools.map((t) => t.name).sort()).toEqual(["message_get", "newsletters_list"]);
  });

  it("refuses to start with unknown names, naming them", () => {
    const config = loadConfig({
      MCP_TRANSPORT: "stdio",
      PILOT_STATUS_API_KEY: "ps_x",
      PILOT_STATUS_TOOLSETS: "telepathy",
      PILOT_STATUS_EXCLUDE_TOOLS: "warp_drive",
    });
    expect(() => createApp(config)).toThrow(SelectionError);
    expect(() => createApp(config)).toThrow(/unknown toolset "telepathy".*unknown excluded tool "warp_drive"/);
  });
});
