import { randomBytes } from "node:crypto";
import { type OAuthClientProvider, UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeAuthServer, s256 } from "./helpers/auth-server.js";
import { startTestHttpServer, type TestHttpServer } from "./helpers/http-server.js";
import { FakeUpstream, type RecordedRequest, type Reply } from "./helpers/upstream.js";

/**
 * End to end OAuth 2.1 with the MCP SDK's own client-side OAuth: the client meets the server's 401 challenge,
 * discovers the authorization server through RFC 9728 metadata, registers, runs PKCE, gets a token, and the
 * server passes that token, untouched, to an API that accepts only tokens this authorization server issued.
 */

const CALLBACK = "http://127.0.0.1/callback";
const MESSAGE = { id: "msg_1", status: "delivered" };

// ---------------------------------------------------------------------------------------------------------------
// An in-memory OAuth client provider whose "browser" is a fetch that does not follow the redirect back.

class InMemoryOAuthProvider implements OAuthClientProvider {
  readonly redirectUrl = CALLBACK;
  readonly clientMetadata: OAuthClientMetadata = {
    client_name: "pilot-status-mcp oauth test",
    redirect_uris: [CALLBACK],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
  };
  /** Every authorization URL the SDK sent the user agent to. */
  readonly authorizationUrls: URL[] = [];
  /** Every authorization code the redirect back delivered, oldest first. */
  readonly codes: string[] = [];
  /** Every credential invalidation the SDK asked for. */
  readonly invalidations: string[] = [];
  /** Every token set the SDK saved, oldest first. */
  readonly savedTokens: OAuthTokens[] = [];
  private client: OAuthClientInformationMixed | undefined;
  private currentTokens: OAuthTokens | undefined;
  private verifier: string | undefined;
  private expectedState: string | undefined;

  state(): string {
    this.expectedState = randomBytes(16).toString("base64url");
    return this.expectedState;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.client;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.client = info;
  }

  tokens(): OAuthTokens | undefined {
    return this.currentTokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.currentTokens = tokens;
    this.savedTokens.push(tokens);
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.verifier = codeVerifier;
  }

  codeVerifier(): string {
    if (this.verifier === undefined) throw new Error("no PKCE code verifier saved");
    return this.verifier;
  }

  invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery"): void {
    this.invalidations.push(scope);
    if (scope === "all" || scope === "client") this.client = undefined;
    if (scope === "all" || scope === "tokens") this.currentTokens = undefined;
    if (scope === "all" || scope === "verifier") this.verifier = undefined;
  }

  /** The user agent: open the authorization URL, let the server consent, and catch the redirect to the callback. */
  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.authorizationUrls.push(authorizationUrl);
    const res = await fetch(authorizationUrl, { redirect: "manual" });
    const body = await res.text();
    const location = res.headers.get("location");
    if (res.status !== 302 || location === null)
      throw new Error(`authorization endpoint answered ${res.status}: ${body}`);
    const back = new URL(location);
    if (`${back.origin}${back.pathname}` !== CALLBACK) throw new Error(`redirected to ${location}, not to ${CALLBACK}`);
    if (back.searchParams.get("state") !== this.expectedState) throw new Error(`state mismatch in ${location}`);
    const error = back.searchParams.get("error");
    if (error !== null) throw new Error(`authorization refused: ${error}`);
    const code = back.searchParams.get("code");
    if (code === null) throw new Error(`no code in ${location}`);
    this.codes.push(code);
  }

  get lastCode(): string {
    const code = this.codes.at(-1);
    if (code === undefined) throw new Error("no authorization code received");
    return code;
  }
}

// ---------------------------------------------------------------------------------------------------------------

let authServer: FakeAuthServer;
let upstream: FakeUpstream;
let server: TestHttpServer;
let metadataUrl: string;
const openClients: Client[] = [];

/** The Pilot Status API as the tests model it: it accepts exactly the live tokens the authorization server issued. */
function acceptIssuedTokensOnly(req: RecordedRequest): Reply {
  const authorization = req.headers.authorization;
  const match = typeof authorization === "string" ? /^Bearer (\S+)$/.exec(authorization) : null;
  if (match === null || !authServer.isActive(match[1]!)) {
    return { status: 401, body: { error: "Invalid or expired access token", code: "UNAUTHORIZED" } };
  }
  if (req.method === "GET" && req.path === "/v1/messages/msg_1") return { status: 200, body: MESSAGE };
  return { status: 404, body: { error: "Not found", code: "NOT_FOUND" } };
}

function newClient(provider: OAuthClientProvider): { client: Client; transport: StreamableHTTPClientTransport } {
  const transport = new StreamableHTTPClientTransport(new URL(server.mcpUrl), { authProvider: provider });
  const client = new Client({ name: "pilot-status-mcp-oauth-tests", version: "0.0.0" });
  openClients.push(client);
  return { client, transport };
}

/** The whole interactive sign-in as an MCP host does it; returns a connected client holding a token. */
async function signIn(provider = new InMemoryOAuthProvider()) {
  const first = newClient(provider);
  await expect(first.client.connect(first.transport)).rejects.toBeInstanceOf(UnauthorizedError);
  await first.transport.finishAuth(provider.lastCode);
  const second = newClient(provider);
  await second.client.connect(second.transport);
  return { provider, ...second };
}

const callMessageGet = (client: Client) => client.callTool({ name: "message_get", arguments: { messageId: "msg_1" } });

beforeAll(async () => {
  authServer = await FakeAuthServer.start();
  upstream = await FakeUpstream.start(acceptIssuedTokensOnly);
  // MCP_RESOURCE_URL is http://127.0.0.1:<its port>/mcp, so the SDK's discovery leads back to this server.
  server = await startTestHttpServer(
    {
      PILOT_STATUS_API_URL: upstream.url,
      PILOT_STATUS_AUTH_SERVER_URL: authServer.url,
      // No PILOT_STATUS_API_KEY (loadConfig reads only this object): only the caller's own token reaches the API.
    },
    { ownResourceUrl: true },
  );
  expect(server.url).toBe(new URL(server.mcpUrl).origin);
  metadataUrl = `${server.url}/.well-known/oauth-protected-resource/mcp`;
  authServer.allowedResources = [server.mcpUrl];
});

afterAll(async () => {
  await server?.close();
  await upstream?.close();
  await authServer?.close();
});

beforeEach(() => {
  upstream.reset();
  upstream.respond(acceptIssuedTokensOnly);
  authServer.resetRecords();
});

afterEach(async () => {
  await Promise.all(openClients.splice(0).map((client) => client.close()));
});

describe("OAuth 2.1 with the SDK client", () => {
  it("signs in through discovery, registration and PKCE, then reaches the API with the issued token", async () => {
    const provider = new InMemoryOAuthProvider();

    // 1. No token: the server challenges, the SDK discovers, registers and sends the user agent to sign in.
    const first = newClient(provider);
    await expect(first.client.connect(first.transport)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(upstream.requests).toHaveLength(0);
    expect(provider.authorizationUrls).toHaveLength(1);
    expect(provider.codes).toHaveLength(1);
    expect(provider.tokens()).toBeUndefined();

    // Discovery went from the challenge's resource_metadata to this authorization server's RFC 8414 document.
    expect(authServer.metadataRequests).toContain("/.well-known/oauth-authorization-server");

    // Dynamic registration of a public client with our redirect URI.
    expect(authServer.registrations).toHaveLength(1);
    const registration = authServer.registrations[0]!;
    expect(registration.error).toBeUndefined();
    expect(registration.body).toMatchObject({
      redirect_uris: [CALLBACK],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
    });
    const clientId = registration.clientId!;
    expect(provider.clientInformation()).toMatchObject({ client_id: clientId, issuer: authServer.url });

    // The authorization request: code flow, PKCE S256, our state, and the RFC 8707 resource = MCP_RESOURCE_URL.
    expect(authServer.authorizations).toHaveLength(1);
    const authorization = authServer.authorizations[0]!;
    expect(authorization.error).toBeUndefined();
    expect(authorization.params).toMatchObject({
      response_type: "code",
      client_id: clientId,
      redirect_uri: CALLBACK,
      code_challenge_method: "S256",
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      state: expect.any(String),
      resource: server.mcpUrl,
    });
    expect(authorization.params.scope).toBeUndefined();
    expect(provider.authorizationUrls[0]!.origin).toBe(authServer.url);
    expect(authServer.tokenRequests).toHaveLength(0);

    // 2. The host hands the code back: the SDK exchanges it, proving possession of the PKCE verifier.
    await first.transport.finishAuth(provider.lastCode);
    expect(authServer.tokenRequests).toHaveLength(1);
    const exchange = authServer.tokenRequests[0]!;
    expect(exchange.error).toBeUndefined();
    expect(exchange.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(exchange.params).toMatchObject({
      grant_type: "authorization_code",
      code: provider.codes[0],
      client_id: clientId,
      redirect_uri: CALLBACK,
      resource: server.mcpUrl,
    });
    expect(exchange.params.client_secret).toBeUndefined();
    expect(exchange.pkce).toEqual({
      challenge: authorization.params.code_challenge,
      method: "S256",
      computed: s256(exchange.params.code_verifier!),
      matched: true,
    });
    const accessToken = exchange.accessToken!;
    expect(provider.tokens()).toMatchObject({
      access_token: accessToken,
      token_type: "Bearer",
      refresh_token: exchange.refreshToken,
    });
    expect(authServer.grantOf(accessToken)).toEqual({ clientId, resource: server.mcpUrl, scope: undefined });

    // 3. A new connection with the same provider: no new sign-in, and the token reaches the API untouched.
    const { client, transport } = newClient(provider);
    await client.connect(transport);
    expect(provider.authorizationUrls).toHaveLength(1);
    const result = await callMessageGet(client);
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual(MESSAGE);

    expect(upstream.requests).toHaveLength(1);
    const got = upstream.requests[0]!;
    expect(got.method).toBe("GET");
    expect(got.path).toBe("/v1/messages/msg_1");
    expect(got.headers.authorization).toBe(`Bearer ${accessToken}`);
    expect(got.headers["x-api-key"]).toBeUndefined();
    expect(got.headers["x-api-key-id"]).toBeUndefined();

    // Nothing more was asked of the authorization server, and the server never wrote a secret to its log.
    expect(authServer.tokenRequests).toHaveLength(1);
    const log = server.rawLog();
    expect(log).not.toContain(accessToken);
    expect(log).not.toContain(exchange.refreshToken!);
    expect(log).not.toContain(provider.codes[0]!);
  });

  it("answers a token the API rejects with an invalid_token challenge; the SDK refreshes once, then gives up", async () => {
    const { provider, client } = await signIn();
    const staleToken = provider.tokens()!.access_token;
    const staleRefresh = provider.tokens()!.refresh_token!;
    authServer.resetRecords();
    upstream.reset();
    // The API now refuses every token, even freshly issued ones.
    upstream.respond(() => ({ status: 401, body: { error: "Invalid or expired access token", code: "UNAUTHORIZED" } }));

    const failure = await callMessageGet(client).then(
      () => undefined,
      (error: unknown) => error,
    );
    // What the SDK (1.32) does on a 401 after sign-in: it re-runs auth(), which silently refreshes the token
    // (no user interaction), retries the request once, and on a second 401 rejects with a StreamableHTTPError.
    expect(failure).toBeInstanceOf(StreamableHTTPError);
    expect((failure as StreamableHTTPError).code).toBe(401);
    expect((failure as Error).message).toMatch(/401 after successful authentication/);
    expect(provider.authorizationUrls).toHaveLength(1);

    expect(authServer.tokenRequests).toHaveLength(1);
    const refresh = authServer.tokenRequests[0]!;
    expect(refresh.error).toBeUndefined();
    expect(refresh.params).toMatchObject({
      grant_type: "refresh_token",
      refresh_token: staleRefresh,
      resource: server.mcpUrl,
    });
    const refreshedToken = refresh.accessToken!;
    expect(provider.tokens()).toMatchObject({ access_token: refreshedToken, refresh_token: refresh.refreshToken });

    // The API saw the call twice: with the old token, then with the refreshed one; never an API key.
    expect(upstream.requests.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${staleToken}`,
      `Bearer ${refreshedToken}`,
    ]);
    expect(
      upstream.requests.every((r) => r.path === "/v1/messages/msg_1" && r.headers["x-api-key"] === undefined),
    ).toBe(true);

    // On the wire, the server's answer is an RFC 6750 invalid_token challenge pointing at its RFC 9728 metadata.
    const res = await fetch(server.mcpUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        authorization: `Bearer ${staleToken}`,
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: { name: "message_get", arguments: { messageId: "msg_1" } },
      }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(
      `Bearer error="invalid_token", resource_metadata="${metadataUrl}"`,
    );
    const body = (await res.json()) as { jsonrpc: string; id: unknown; error: { code: number; message: string } };
    expect(body).toMatchObject({ jsonrpc: "2.0", id: 7, error: { code: -32001 } });
    expect(JSON.stringify(body)).not.toContain(staleToken);
    expect(upstream.requests.at(-1)!.headers.authorization).toBe(`Bearer ${staleToken}`);

    // The metadata the challenge points at names this server and the authorization server.
    const metadata = (await (await fetch(metadataUrl)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({ resource: server.mcpUrl, authorization_servers: [authServer.url] });
  });

  it("recovers transparently when the access token expired but the refresh token is still good", async () => {
    const { provider, client } = await signIn();
    const expiredToken = provider.tokens()!.access_token;
    authServer.resetRecords();
    upstream.reset();
    authServer.expireAccessTokens();

    const result = await callMessageGet(client);
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual(MESSAGE);

    expect(authServer.tokenRequests.map((r) => [r.params.grant_type, r.error])).toEqual([["refresh_token", undefined]]);
    const freshToken = authServer.tokenRequests[0]!.accessToken!;
    expect(provider.tokens()!.access_token).toBe(freshToken);
    expect(upstream.requests.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${expiredToken}`,
      `Bearer ${freshToken}`,
    ]);
    expect(provider.authorizationUrls).toHaveLength(1);

    // And the next call carries the fresh token straight away.
    upstream.reset();
    await callMessageGet(client);
    expect(upstream.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${freshToken}`]);
  });

  it("sends the user to sign in again when the refresh token is revoked too", async () => {
    const { provider, client, transport } = await signIn();
    authServer.resetRecords();
    upstream.reset();
    authServer.revokeAll();

    // The refresh fails with invalid_grant: the SDK drops the tokens and starts a new authorization.
    await expect(callMessageGet(client)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(authServer.tokenRequests.map((r) => [r.params.grant_type, r.error])).toEqual([
      ["refresh_token", "invalid_grant"],
    ]);
    expect(provider.invalidations).toEqual(["tokens"]);
    expect(provider.tokens()).toBeUndefined();
    expect(provider.authorizationUrls).toHaveLength(2);
    expect(authServer.registrations).toHaveLength(0); // the client registration is kept
    expect(upstream.requests).toHaveLength(1);

    // After the host finishes the new sign-in, the same client works again.
    await transport.finishAuth(provider.lastCode);
    const newToken = provider.tokens()!.access_token;
    expect(authServer.isActive(newToken)).toBe(true);
    const result = await callMessageGet(client);
    expect(result.isError).toBeFalsy();
    expect(upstream.requests.at(-1)!.headers.authorization).toBe(`Bearer ${newToken}`);
  });

  it("challenges without credentials and never uses a server-side key when none is configured", async () => {
    const res = await fetch(server.mcpUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "message_get", arguments: { messageId: "msg_1" } },
      }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${metadataUrl}"`);
    await res.body?.cancel();
    expect(upstream.requests).toHaveLength(0);
  });
});
