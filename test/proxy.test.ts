import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createProxy, type ProxyServer } from "proxy";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { connectClient, startTestHttpServer } from "./helpers/http-server.js";
import { startStdioServer } from "./helpers/stdio-server.js";
import { makeTestPki } from "./helpers/tls.js";
import { FakeUpstream } from "./helpers/upstream.js";

// Corporate networks: the calls to the API go through the forward proxy that HTTPS_PROXY / HTTP_PROXY name
// (CONNECT tunnels, undici's own proxy agent), except for the hosts NO_PROXY lists, and an HTTPS API whose
// certificate a corporate root signed works once NODE_EXTRA_CA_CERTS names that root. A real forward proxy (the
// `proxy` package) and a real HTTPS upstream with a throwaway CA, against the built bin (NODE_EXTRA_CA_CERTS is
// read when a process starts) and in process over HTTP.

const KEY = "ps_live_proxy_suite_key_0001";
const PROXY_USER = "corp-user";
const PROXY_PASSWORD = "proxy-password-not-for-logs";

interface RecordingProxy {
  readonly url: string;
  /** The CONNECT targets it was asked for, in order. */
  readonly connects: string[];
  /** Proxy-Authorization headers of those CONNECTs. */
  readonly authorizations: Array<string | undefined>;
  close(): Promise<void>;
}

async function startProxy(requireAuth = false): Promise<RecordingProxy> {
  const connects: string[] = [];
  const authorizations: Array<string | undefined> = [];
  const server: ProxyServer = createProxy(createServer());
  server.prependListener("connect", (req: IncomingMessage) => {
    connects.push(req.url ?? "");
    authorizations.push(req.headers["proxy-authorization"]);
  });
  if (requireAuth) {
    const expected = `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString("base64")}`;
    server.authenticate = (req) => req.headers["proxy-authorization"] === expected;
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connects,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const pki = makeTestPki();
const caFile = join(mkdtempSync(join(tmpdir(), "pilot-status-mcp-ca-")), "corporate-root.pem");
writeFileSync(caFile, pki.caCert);

let httpsUpstream: FakeUpstream;
let httpUpstream: FakeUpstream;
let proxy: RecordingProxy;
let authProxy: RecordingProxy;

beforeAll(async () => {
  const answer = () => ({ status: 200, body: { id: "msg_1", status: "read" } });
  httpsUpstream = await FakeUpstream.start(answer, { tls: { key: pki.key, cert: pki.cert } });
  httpUpstream = await FakeUpstream.start(answer);
  proxy = await startProxy();
  authProxy = await startProxy(true);
});
afterAll(async () => {
  await Promise.all([httpsUpstream?.close(), httpUpstream?.close(), proxy?.close(), authProxy?.close()]);
});
beforeEach(() => {
  for (const p of [proxy, authProxy]) {
    p.connects.length = 0;
    p.authorizations.length = 0;
  }
  httpsUpstream.reset();
  httpUpstream.reset();
});

const httpsHost = (): string => new URL(httpsUpstream.url).host; // localhost:port

/** One message_get from the built bin over stdio with `env`; the result and everything the bin wrote to stderr. */
async function callFromBin(env: Record<string, string>): Promise<{ text: string; isError: boolean; stderr: string }> {
  const session = await startStdioServer({
    PILOT_STATUS_API_KEY: KEY,
    PILOT_STATUS_API_URL: httpsUpstream.url,
    LOG_LEVEL: "debug",
    ...env,
  });
  try {
    const result = (await session.client.callTool({ name: "message_get", arguments: { messageId: "msg_1" } })) as {
      content: Array<{ text: string }>;
      isError?: boolean;
    };
    // The call's log line may arrive on stderr a moment after its answer on stdout.
    for (const started = Date.now(); !session.stderr().includes('"msg":"tool call') && Date.now() - started < 5_000; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { text: result.content[0]!.text, isError: result.isError === true, stderr: session.stderr() };
  } finally {
    await session.close();
  }
}

describe("an HTTPS API behind a corporate proxy (built bin over stdio)", () => {
  it("tunnels through HTTPS_PROXY with CONNECT and trusts the root NODE_EXTRA_CA_CERTS names", async () => {
    const got = await callFromBin({ HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: caFile });
    expect(got.isError, got.text).toBe(false);
    expect(JSON.parse(got.text)).toEqual({ id: "msg_1", status: "read" });
    expect(proxy.connects).toEqual([httpsHost()]);
    expect(httpsUpstream.requests).toHaveLength(1);
    expect(httpsUpstream.requests[0]).toMatchObject({ method: "GET", path: "/v1/messages/msg_1" });
    expect(httpsUpstream.requests[0]!.headers["x-api-key"]).toBe(KEY); // through the tunnel, end to end
  });

  it("without that root the API's certificate is refused: the call fails cleanly, and nothing reached the API", async () => {
    const got = await callFromBin({ HTTPS_PROXY: proxy.url });
    expect(got.isError).toBe(true);
    expect(got.text).toMatch(/Pilot Status API unavailable/);
    expect(proxy.connects).toEqual([httpsHost()]);
    expect(httpsUpstream.requests).toHaveLength(0);
  });

  it("reads lowercase https_proxy, sends the proxy's credentials from its URL, and never logs them", async () => {
    const url = new URL(authProxy.url);
    url.username = PROXY_USER;
    url.password = PROXY_PASSWORD;
    const got = await callFromBin({ https_proxy: url.toString(), NODE_EXTRA_CA_CERTS: caFile });
    expect(got.isError, got.text).toBe(false);
    expect(authProxy.connects).toEqual([httpsHost()]);
    expect(authProxy.authorizations[0]).toBe(
      `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString("base64")}`,
    );
    expect(got.stderr).toContain('"msg":"tool call"'); // the log was on, at debug
    expect(got.stderr).not.toContain(PROXY_PASSWORD);
  });

  it("a proxy that refuses (407) is an unavailable API, not a crash, and its password stays out of the log", async () => {
    const url = new URL(authProxy.url);
    url.username = PROXY_USER;
    url.password = `${PROXY_PASSWORD}-wrong`;
    const got = await callFromBin({ HTTPS_PROXY: url.toString(), NODE_EXTRA_CA_CERTS: caFile });
    expect(got.isError).toBe(true);
    expect(got.text).toMatch(/Pilot Status API unavailable/);
    expect(httpsUpstream.requests).toHaveLength(0);
    expect(got.stderr).toContain('"msg":"tool call failed upstream"');
    expect(got.stderr).not.toContain(PROXY_PASSWORD);
  });

  it.each([
    ["the host", "localhost"],
    ["host:port", () => httpsHost()],
    ["a leading dot", ".localhost"],
    ["a *. wildcard in a list", "*.example.com, *.localhost,localhost"],
    ["*", "*"],
    ["lowercase no_proxy", "localhost"],
  ] as const)("NO_PROXY with %s goes direct: the proxy sees nothing", async (label, value) => {
    const noProxy = typeof value === "function" ? value() : value;
    const name = label.startsWith("lowercase") ? "no_proxy" : "NO_PROXY";
    const got = await callFromBin({ HTTPS_PROXY: proxy.url, [name]: noProxy, NODE_EXTRA_CA_CERTS: caFile });
    expect(got.isError, got.text).toBe(false);
    expect(proxy.connects).toEqual([]);
    expect(httpsUpstream.requests).toHaveLength(1);
  });

  it("NO_PROXY entries that do not match leave the proxy in use", async () => {
    const got = await callFromBin({
      HTTPS_PROXY: proxy.url,
      NO_PROXY: "example.com,.corp.internal,localhost:1",
      NODE_EXTRA_CA_CERTS: caFile,
    });
    expect(got.isError, got.text).toBe(false);
    expect(proxy.connects).toEqual([httpsHost()]);
  });
});

describe("an HTTP API behind HTTP_PROXY (in process, the streamable HTTP transport)", () => {
  it("tunnels each call through the proxy; without a proxy setting the calls go direct", async () => {
    const proxied = await startTestHttpServer({ PILOT_STATUS_API_URL: httpUpstream.url, HTTP_PROXY: proxy.url });
    const direct = await startTestHttpServer({ PILOT_STATUS_API_URL: httpUpstream.url });
    try {
      for (const server of [proxied, direct]) {
        const client = await connectClient(server.mcpUrl, { "x-api-key": KEY });
        const result = (await client.callTool({ name: "message_get", arguments: { messageId: "msg_1" } })) as {
          isError?: boolean;
        };
        await client.close();
        expect(result.isError).toBeFalsy();
      }
      expect(proxy.connects).toEqual([new URL(httpUpstream.url).host]); // the proxied server's call only
      expect(httpUpstream.requests).toHaveLength(2);
    } finally {
      await proxied.close();
      await direct.close();
    }
  });
});

describe("proxy settings in config.ts", () => {
  it("takes any casing, lowercase first, and a bare host:port as http://", () => {
    expect(loadConfig({ https_proxy: "http://low:1", HTTPS_PROXY: "http://up:2" }).proxy.httpsProxy).toBe(
      "http://low:1",
    );
    expect(loadConfig({ Https_Proxy: "http://mixed:3" }).proxy.httpsProxy).toBe("http://mixed:3");
    expect(loadConfig({ HTTP_PROXY: "proxy.corp:3128", no_proxy: "localhost,.corp" }).proxy).toEqual({
      httpsProxy: undefined,
      httpProxy: "http://proxy.corp:3128",
      noProxy: "localhost,.corp",
    });
    expect(loadConfig({}).proxy).toEqual({ httpsProxy: undefined, httpProxy: undefined, noProxy: undefined });
  });

  it("refuses what is not a proxy URL, naming the variable and never echoing the value (it may hold a password)", () => {
    let error: unknown;
    try {
      loadConfig({ HTTPS_PROXY: "ftp://user:hunter2secret@proxy:21" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain("HTTPS_PROXY must be a proxy URL");
    expect((error as ConfigError).message).not.toContain("hunter2secret");
  });
});
