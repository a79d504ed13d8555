import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type LoopbackServer, listenOnLoopback } from "./loopback.js";

/**
 * A small OAuth 2.1 authorization server on loopback, standing in for the Pilot Status sign-in: RFC 8414 metadata,
 * RFC 7591 dynamic registration of public clients, an authorization endpoint that consents at once (302 back to
 * the redirect URI), and a token endpoint that checks PKCE S256 for real and rotates refresh tokens. It records
 * what it saw so tests can assert on it; the tokens it issues are the only ones the fake upstream accepts.
 */

export interface RecordedRegistration {
  readonly body: Record<string, unknown>;
  readonly clientId: string | undefined;
  readonly error: string | undefined;
}

export interface RecordedAuthorization {
  /** The query of the authorization request, as the client built it. */
  readonly params: Record<string, string>;
  /** Where the auto-consent sent the user agent (undefined when the request was refused with 400). */
  readonly location: string | undefined;
  readonly error: string | undefined;
}

export interface PkceCheck {
  readonly challenge: string;
  readonly method: string;
  /** base64url(SHA-256(code_verifier)) as computed here. */
  readonly computed: string;
  readonly matched: boolean;
}

export interface RecordedTokenRequest {
  readonly contentType: string | undefined;
  readonly params: Record<string, string>;
  /** Set for authorization_code grants that reached the PKCE check. */
  readonly pkce: PkceCheck | undefined;
  readonly accessToken: string | undefined;
  readonly refreshToken: string | undefined;
  readonly error: string | undefined;
}

interface RegisteredClient {
  readonly clientId: string;
  readonly redirectUris: readonly string[];
}

interface PendingCode {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly challenge: string;
  readonly method: string;
  readonly resource: string | undefined;
  readonly scope: string | undefined;
}

interface Grant {
  readonly clientId: string;
  readonly resource: string | undefined;
  readonly scope: string | undefined;
}

class OAuthFailure extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(`${error}: ${description}`);
  }
}

const PKCE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const PKCE_S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

const token = (prefix: string) => `${prefix}_${randomBytes(24).toString("base64url")}`;

export function s256(verifier: string): string {
  return createHash("sha256").update(verifier, "ascii").digest("base64url");
}

export class FakeAuthServer {
  readonly registrations: RecordedRegistration[] = [];
  readonly authorizations: RecordedAuthorization[] = [];
  readonly tokenRequests: RecordedTokenRequest[] = [];
  /** Every metadata document request (path), to see how often the client rediscovers. */
  readonly metadataRequests: string[] = [];
  /** Every access token ever issued, oldest first (revoked ones included). */
  readonly issuedAccessTokens: string[] = [];
  /**
   * RFC 8707 resource indicators this server issues tokens for; a request naming another is refused with
   * invalid_target. Empty: any resource is accepted.
   */
  allowedResources: string[] = [];
  url = "";

  private readonly clients = new Map<string, RegisteredClient>();
  private readonly codes = new Map<string, PendingCode>();
  private readonly activeAccessTokens = new Map<string, Grant>();
  private readonly refreshTokens = new Map<string, Grant>();
  private server: LoopbackServer | undefined;

  static async start(): Promise<FakeAuthServer> {
    const authServer = new FakeAuthServer();
    await authServer.listen();
    return authServer;
  }

  get metadata(): Record<string, unknown> {
    return {
      issuer: this.url,
      authorization_endpoint: `${this.url}/authorize`,
      token_endpoint: `${this.url}/token`,
      registration_endpoint: `${this.url}/register`,
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["none"],
    };
  }

  /** Whether the upstream should accept this access token. */
  isActive(accessToken: string): boolean {
    return this.activeAccessTokens.has(accessToken);
  }

  /** The grant behind an active access token (which client, for which resource). */
  grantOf(accessToken: string): Grant | undefined {
    return this.activeAccessTokens.get(accessToken);
  }

  /** The access tokens expire (the refresh tokens still work). */
  expireAccessTokens(): void {
    this.activeAccessTokens.clear();
  }

  /** The user signed out everywhere: access and refresh tokens stop working. */
  revokeAll(): void {
    this.activeAccessTokens.clear();
    this.refreshTokens.clear();
  }

  /** Forget what was recorded (registered clients and live tokens stay). */
  resetRecords(): void {
    this.registrations.length = 0;
    this.authorizations.length = 0;
    this.tokenRequests.length = 0;
    this.metadataRequests.length = 0;
  }

  private async listen(): Promise<void> {
    this.server = await listenOnLoopback((req, res, rawBody) => this.handle(req, res, rawBody));
    this.url = this.server.url;
  }

  private async handle(req: IncomingMessage, res: ServerResponse, rawBody: string): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const route = `${req.method ?? ""} ${url.pathname}`;
    try {
      switch (route) {
        case "GET /.well-known/oauth-authorization-server":
          this.metadataRequests.push(url.pathname);
          return sendJson(res, 200, this.metadata);
        case "POST /register":
          return sendJson(res, 201, this.register(rawBody));
        case "GET /authorize":
          return this.authorize(url, res);
        case "POST /token":
          return sendJson(res, 200, this.token(req.headers["content-type"], rawBody), { "cache-control": "no-store" });
        default:
          if (url.pathname.startsWith("/.well-known/")) this.metadataRequests.push(url.pathname);
          return sendJson(res, 404, { error: "not_found" });
      }
    } catch (error) {
      if (error instanceof OAuthFailure)
        return sendJson(res, error.status, { error: error.error, error_description: error.description });
      return sendJson(res, 500, { error: "server_error", error_description: String(error) });
    }
  }

  /** RFC 7591: public clients only (token_endpoint_auth_method "none"), at least one redirect URI. */
  private register(rawBody: string): Record<string, unknown> {
    let body: Record<string, unknown> = {};
    const fail = (error: string, description: string): never => {
      this.registrations.push({ body, clientId: undefined, error });
      throw new OAuthFailure(error, description);
    };
    try {
      const parsed: unknown = JSON.parse(rawBody);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        fail("invalid_client_metadata", "body must be a JSON object");
      body = parsed as Record<string, unknown>;
    } catch (error) {
      if (error instanceof OAuthFailure) throw error;
      fail("invalid_client_metadata", "body is not JSON");
    }
    const redirectUris = body.redirect_uris;
    if (
      !Array.isArray(redirectUris) ||
      redirectUris.length === 0 ||
      !redirectUris.every((u) => typeof u === "string" && URL.canParse(u))
    ) {
      fail("invalid_redirect_uri", "redirect_uris must be a non-empty list of URLs");
    }
    const authMethod = body.token_endpoint_auth_method ?? "client_secret_basic";
    if (authMethod !== "none")
      fail("invalid_client_metadata", "only public clients (token_endpoint_auth_method none) are supported");
    const clientId = token("client");
    this.clients.set(clientId, { clientId, redirectUris: redirectUris as string[] });
    this.registrations.push({ body, clientId, error: undefined });
    return {
      ...body,
      client_id: clientId,
      client_id_issued_at: Math.floor(Date.now() / 1000),
      token_endpoint_auth_method: "none",
    };
  }

  /**
   * Authorization endpoint. An unknown client or redirect URI is refused with 400 (never redirect to an unchecked
   * URI); other problems go back to the redirect URI as error=…; a good request is consented at once.
   */
  private authorize(url: URL, res: ServerResponse): void {
    const params = Object.fromEntries(url.searchParams);
    const client = this.clients.get(params.client_id ?? "");
    const redirectUri = params.redirect_uri;
    if (client === undefined || redirectUri === undefined || !client.redirectUris.includes(redirectUri)) {
      const error = client === undefined ? "invalid_client" : "invalid_redirect_uri";
      this.authorizations.push({ params, location: undefined, error });
      sendJson(res, 400, { error, error_description: "unknown client_id or unregistered redirect_uri" });
      return;
    }
    const back = new URL(redirectUri);
    if (params.state !== undefined) back.searchParams.set("state", params.state);
    const problem = ((): string | undefined => {
      if (params.response_type !== "code") return "unsupported_response_type";
      if (params.code_challenge_method !== "S256") return "invalid_request";
      if (!PKCE_S256_CHALLENGE.test(params.code_challenge ?? "")) return "invalid_request";
      if (params.resource !== undefined && !this.resourceAllowed(params.resource)) return "invalid_target";
      return undefined;
    })();
    if (problem !== undefined) {
      back.searchParams.set("error", problem);
    } else {
      const code = token("code");
      this.codes.set(code, {
        clientId: client.clientId,
        redirectUri,
        challenge: params.code_challenge!,
        method: params.code_challenge_method!,
        resource: params.resource,
        scope: params.scope,
      });
      back.searchParams.set("code", code);
    }
    this.authorizations.push({ params, location: back.href, error: problem });
    res.writeHead(302, { location: back.href, "cache-control": "no-store" });
    res.end();
  }

  private token(contentType: string | undefined, rawBody: string): Record<string, unknown> {
    const params = Object.fromEntries(new URLSearchParams(rawBody));
    let pkce: PkceCheck | undefined;
    const fail = (error: string, description: string): never => {
      this.tokenRequests.push({ contentType, params, pkce, accessToken: undefined, refreshToken: undefined, error });
      throw new OAuthFailure(error, description);
    };
    if (!(contentType ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded")) {
      fail("invalid_request", "the token endpoint takes application/x-www-form-urlencoded");
    }
    const client = this.clients.get(params.client_id ?? "");
    if (client === undefined) fail("invalid_client", "unknown client_id");

    let grant: Grant;
    if (params.grant_type === "authorization_code") {
      const pending = this.codes.get(params.code ?? "");
      // Codes are single-use: gone whether or not this exchange succeeds.
      this.codes.delete(params.code ?? "");
      if (pending === undefined) return fail("invalid_grant", "unknown or used authorization code");
      if (pending.clientId !== client!.clientId) fail("invalid_grant", "the code was issued to another client");
      if (params.redirect_uri !== pending.redirectUri)
        fail("invalid_grant", "redirect_uri differs from the authorization request");
      const verifier = params.code_verifier ?? "";
      const computed = s256(verifier);
      pkce = {
        challenge: pending.challenge,
        method: pending.method,
        computed,
        matched: computed === pending.challenge,
      };
      if (!PKCE_VERIFIER.test(verifier)) fail("invalid_grant", "code_verifier is missing or malformed");
      if (!pkce.matched) fail("invalid_grant", "PKCE verification failed");
      // RFC 8707: the token request may repeat the resource; it must not name another.
      if (params.resource !== undefined && params.resource !== pending.resource)
        fail("invalid_target", "resource differs from the authorization request");
      grant = { clientId: pending.clientId, resource: pending.resource, scope: pending.scope };
    } else if (params.grant_type === "refresh_token") {
      const previous = this.refreshTokens.get(params.refresh_token ?? "");
      if (previous === undefined) return fail("invalid_grant", "unknown, revoked or rotated refresh token");
      if (previous.clientId !== client!.clientId)
        fail("invalid_grant", "the refresh token was issued to another client");
      if (params.resource !== undefined && params.resource !== previous.resource)
        fail("invalid_target", "resource differs from the original grant");
      // OAuth 2.1 §4.3.1: refresh tokens of public clients are rotated.
      this.refreshTokens.delete(params.refresh_token!);
      grant = previous;
    } else {
      return fail("unsupported_grant_type", `grant_type ${params.grant_type ?? "(none)"} is not supported`);
    }

    const accessToken = token("at");
    const refreshToken = token("rt");
    this.activeAccessTokens.set(accessToken, grant);
    this.refreshTokens.set(refreshToken, grant);
    this.issuedAccessTokens.push(accessToken);
    this.tokenRequests.push({ contentType, params, pkce, accessToken, refreshToken, error: undefined });
    return {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: 3600,
      refresh_token: refreshToken,
      ...(grant.scope !== undefined ? { scope: grant.scope } : {}),
    };
  }

  private resourceAllowed(resource: string): boolean {
    return this.allowedResources.length === 0 || this.allowedResources.includes(resource);
  }

  async close(): Promise<void> {
    await this.server?.close();
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}
