import {
  Client as Client2,
  StreamableHTTPClientTransport as HttpTransport2,
  ReadBuffer as ReadBuffer2,
  serializeMessage as serializeMessage2,
} from "@modelcontextprotocol/client";
import { Client as Client1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as HttpTransport1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";
import { startTestHttpServer, type TestHttpServer } from "./helpers/http-server.js";
import { connectInProcessStdio, serveInProcessStdio } from "./helpers/stdio-in-process.js";
import { FakeUpstream } from "./helpers/upstream.js";

// The real client libraries, in every mode they have, over both transports of src/ in process: SDK 1.32 (legacy
// only) and @modelcontextprotocol/client 2.4 in legacy, auto (probes with server/discover, falls back) and
// pinned-2026 modes. Over stdio each library frames the messages with its own stdio code; the bin's own pipes are
// driven in test/bin.test.ts.

const KEY = "ps_clients_key";
const CLIENT_INFO = { name: "pilot-status-mcp-tests", version: "0.0.0" };
type Mode = "legacy" | "auto" | "pinned";
const MODES: readonly Mode[] = ["legacy", "auto", "pinned"];
const ERA: Record<Mode, "legacy" | "modern"> = { legacy: "legacy", auto: "modern", pinned: "modern" };

function client2(mode: Mode): Client2 {
  const versionNegotiation =
    mode === "legacy"
      ? { mode: "legacy" as const }
      : mode === "auto"
        ? { mode: "auto" as const }
        : { mode: { pin: "2026-07-28" } };
  return new Client2(CLIENT_INFO, { versionNegotiation });
}

let upstream: FakeUpstream;
let server: TestHttpServer;

beforeAll(async () => {
  upstream = await FakeUpstream.start();
  server = await startTestHttpServer({ PILOT_STATUS_API_URL: upstream.url });
});
afterAll(async () => {
  await server?.close();
  await upstream?.close();
});
beforeEach(() => {
  upstream.reset();
  upstream.respond((req) => ({ status: 200, body: { id: req.path.split("/").pop(), status: "delivered" } }));
});

/** What every client must manage: every tool listed, one call that reaches the API with the caller's key. */
async function exercise(client: Pick<Client2, "listTools" | "callTool">, messageId: string): Promise<void> {
  const { tools } = await client.listTools();
  expect(tools).toHaveLength(TOOL_SPECS.length);
  // With the list cached, the 2.x client checks structuredContent against the tool's outputSchema.
  const result = await client.callTool({ name: "message_get", arguments: { messageId } });
  expect(result.isError).toBeFalsy();
  expect(result.structuredContent).toEqual({ id: messageId, status: "delivered" });
  const got = upstream.requests.find((r) => r.path === `/v1/messages/${messageId}`);
  expect(got?.headers["x-api-key"]).toBe(KEY);
}

/** Records the HTTP requests a client sends (method header and version header), passing them on unchanged. */
function recordingFetch(
  seen: Array<Record<string, string | undefined>>,
  rewrite?: (headers: Headers, body: string) => void,
): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    const body = typeof init?.body === "string" ? init.body : "";
    rewrite?.(headers, body);
    seen.push({
      version: headers.get("mcp-protocol-version") ?? undefined,
      method: headers.get("mcp-method") ?? undefined,
      body,
    });
    return fetch(input, { ...init, headers });
  };
}

describe("SDK 1.32 Client (legacy)", () => {
  it("over HTTP", async () => {
    const client = new Client1(CLIENT_INFO);
    await client.connect(
      new HttpTransport1(new URL(server.mcpUrl), { requestInit: { headers: { "x-api-key": KEY } } }),
    );
    expect(client.getServerVersion()).toMatchObject({ name: "pilot-status-mcp" });
    await exercise(client as unknown as Client2, "msg_v1_http");
    await client.close();
  });

  it("over stdio", async () => {
    const session = await connectInProcessStdio({ PILOT_STATUS_API_URL: upstream.url, PILOT_STATUS_API_KEY: KEY });
    await exercise(session.client as unknown as Client2, "msg_v1_stdio");
    await session.close();
  });
});

describe("@modelcontextprotocol/client 2.4 over HTTP", () => {
  it.each(MODES)("%s mode", async (mode) => {
    const seen: Array<Record<string, string | undefined>> = [];
    const client = client2(mode);
    await client.connect(
      new HttpTransport2(new URL(server.mcpUrl), {
        requestInit: { headers: { "x-api-key": KEY } },
        fetch: recordingFetch(seen),
      }),
    );
    expect(client.getProtocolEra()).toBe(ERA[mode]);
    expect(client.getServerVersion()).toMatchObject({ name: "pilot-status-mcp" });
    await exercise(client, `msg_v2_http_${mode}`);
    await client.close();
    const posts = seen.filter((s) => s.body !== "");
    if (mode === "legacy") {
      expect(JSON.parse(posts[0]!.body!).method).toBe("initialize");
    } else {
      // the probe, answered modern
      expect(posts[0]).toMatchObject({ version: "2026-07-28", method: "server/discover" });
      expect(posts.every((p) => p.version === "2026-07-28" && p.method !== undefined)).toBe(true);
      expect(posts.some((p) => JSON.parse(p.body!).method === "initialize")).toBe(false);
    }
  });
});

describe("@modelcontextprotocol/client 2.4 over stdio", () => {
  it.each(MODES)("%s mode", async (mode) => {
    const stdio = serveInProcessStdio({ PILOT_STATUS_API_URL: upstream.url, PILOT_STATUS_API_KEY: KEY });
    const client = client2(mode);
    await client.connect(stdio.transport({ ReadBuffer: ReadBuffer2, serializeMessage: serializeMessage2 }));
    expect(client.getProtocolEra()).toBe(ERA[mode]);
    await exercise(client, `msg_v2_stdio_${mode}`);
    await client.close();
    await stdio.served;
  });
});

describe("client quirks, as the clients send them", () => {
  it("claude.ai: MCP-Protocol-Version 2026-07-28 on every request after negotiating 2025-11-25 (SDK 1.32 legacy client)", async () => {
    const seen: Array<Record<string, string | undefined>> = [];
    const quirk = (headers: Headers, body: string) => {
      if (body !== "" && JSON.parse(body).method !== "initialize") headers.set("mcp-protocol-version", "2026-07-28");
    };
    const client = new Client1(CLIENT_INFO);
    await client.connect(
      new HttpTransport1(new URL(server.mcpUrl), {
        requestInit: { headers: { "x-api-key": KEY } },
        fetch: recordingFetch(seen, quirk),
      }),
    );
    await exercise(client as unknown as Client2, "msg_quirk_legacy_header");
    await client.close();
    expect(
      seen.filter((s) => s.body !== "" && JSON.parse(s.body!).method === "tools/call").map((s) => s.version),
    ).toEqual(["2026-07-28"]);
  });

  it("claude.ai: a 2026-07-28 _meta under MCP-Protocol-Version 2025-11-25 (2.4 client pinned to 2026-07-28)", async () => {
    const seen: Array<Record<string, string | undefined>> = [];
    const quirk = (headers: Headers) => headers.set("mcp-protocol-version", "2025-11-25");
    const client = client2("pinned");
    await client.connect(
      new HttpTransport2(new URL(server.mcpUrl), {
        requestInit: { headers: { "x-api-key": KEY } },
        fetch: recordingFetch(seen, quirk),
      }),
    );
    expect(client.getProtocolEra()).toBe("modern");
    await exercise(client, "msg_quirk_modern_meta");
    await client.close();
    const calls = seen.filter((s) => s.method === "tools/call");
    expect(calls).toHaveLength(1);
    expect(calls[0]!.version).toBe("2025-11-25");
    expect(JSON.parse(calls[0]!.body!).params._meta["io.modelcontextprotocol/protocolVersion"]).toBe("2026-07-28");
  });

  it("Claude Desktop: an object argument as a JSON string, through the 2.4 client in both eras", async () => {
    for (const mode of ["legacy", "pinned"] as const) {
      upstream.reset();
      const client = client2(mode);
      await client.connect(
        new HttpTransport2(new URL(server.mcpUrl), { requestInit: { headers: { "x-api-key": KEY } } }),
      );
      const result = await client.callTool({
        name: "messages_send",
        arguments: {
          templateId: "onboarding",
          destinationNumber: "5511999999999",
          variables: '{"name":"Ana","code":"42"}',
        },
      });
      await client.close();
      expect(result.isError, mode).toBeFalsy();
      expect(upstream.requests[0]!.body).toEqual({
        templateId: "onboarding",
        destinationNumber: "5511999999999",
        variables: { name: "Ana", code: "42" },
      });
    }
  });
});
