import { LATEST_LEGACY_PROTOCOL_VERSION, LEGACY_PROTOCOL_VERSIONS } from "./legacy-versions.generated.js";
import { isObject, JSONRPC_INVALID_PARAMS, UNSUPPORTED_PROTOCOL_VERSION } from "./protocol.js";

/**
 * The two eras of MCP this server speaks on one endpoint and over stdio:
 * - legacy: 2025-11-25 back to 2024-10-07, opened by an `initialize` handshake (which a stateless server answers
 *   but needs nothing from);
 * - modern: 2026-07-28, no handshake; every request names its version and the client's capabilities in
 *   `params._meta`.
 * Each message is classified on its own (docs/decisions.md #27).
 */

export type Era = "legacy" | "modern";

export { LATEST_LEGACY_PROTOCOL_VERSION, LEGACY_PROTOCOL_VERSIONS };

/** The per-request-metadata era's revisions, newest first. */
export const MODERN_PROTOCOL_VERSIONS = ["2026-07-28"] as const;

/** Every revision this server speaks, newest first: what server/discover and -32022 errors list. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = [
  ...MODERN_PROTOCOL_VERSIONS,
  ...LEGACY_PROTOCOL_VERSIONS,
];

const MODERN_SET: ReadonlySet<string> = new Set(MODERN_PROTOCOL_VERSIONS);
const LEGACY_SET: ReadonlySet<string> = new Set(LEGACY_PROTOCOL_VERSIONS);

export const isModernVersion = (version: string): boolean => MODERN_SET.has(version);
export const isLegacyVersion = (version: string): boolean => LEGACY_SET.has(version);

/** The reserved `_meta` keys of 2026-07-28 that this server reads or writes. */
export const META = {
  protocolVersion: "io.modelcontextprotocol/protocolVersion",
  clientCapabilities: "io.modelcontextprotocol/clientCapabilities",
  clientInfo: "io.modelcontextprotocol/clientInfo",
  serverInfo: "io.modelcontextprotocol/serverInfo",
  subscriptionId: "io.modelcontextprotocol/subscriptionId",
} as const;

/** Methods that exist only in the modern era: a request for one is modern whatever its `_meta` says. */
const MODERN_ONLY_METHODS: ReadonlySet<string> = new Set(["server/discover", "subscriptions/listen"]);

/** modern when `_meta` claims a protocol version or the method exists only in 2026-07-28; legacy otherwise. */
export function eraOf(method: string, params: Readonly<Record<string, unknown>>): Era {
  const meta = params._meta;
  if (isObject(meta) && meta[META.protocolVersion] !== undefined) return "modern";
  return MODERN_ONLY_METHODS.has(method) ? "modern" : "legacy";
}

/** A JSON-RPC error to answer a request with: code, message, optional data. */
export interface ProtocolError {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

/**
 * What is missing from a modern request's `_meta`, or undefined when nothing is: the version and the client's
 * capabilities are required (-32602). Whether the version is one we speak is checked later (unsupportedVersion),
 * after the HTTP headers: a header that disagrees with the body is the more basic fault.
 */
export function modernMetaProblem(params: Readonly<Record<string, unknown>>): ProtocolError | undefined {
  const meta = isObject(params._meta) ? params._meta : {};
  const hasVersion = typeof meta[META.protocolVersion] === "string";
  const hasCapabilities = isObject(meta[META.clientCapabilities]);
  if (hasVersion && hasCapabilities) return undefined; // every valid request: nothing built
  const missing = [
    hasVersion ? undefined : `"${META.protocolVersion}" (a string)`,
    hasCapabilities ? undefined : `"${META.clientCapabilities}" (an object)`,
  ].filter((m) => m !== undefined);
  return { code: JSONRPC_INVALID_PARAMS, message: `Invalid params: params._meta must carry ${missing.join(" and ")}` };
}

/** -32022 for a modern request naming a version this server does not speak, listing the ones it does. */
export function unsupportedVersion(version: string): ProtocolError | undefined {
  if (isModernVersion(version)) return undefined;
  return {
    code: UNSUPPORTED_PROTOCOL_VERSION,
    message: isLegacyVersion(version)
      ? `Unsupported protocol version: ${version} is served through initialize, not per-request _meta (which speaks ${MODERN_PROTOCOL_VERSIONS.join(", ")})`
      : `Unsupported protocol version: ${version.slice(0, 40)}`,
    data: { supported: SUPPORTED_PROTOCOL_VERSIONS, requested: version },
  };
}

/** The protocol version a modern request names (after modernMetaProblem has passed it). */
export function modernVersionOf(params: Readonly<Record<string, unknown>>): string {
  return (params._meta as Record<string, unknown>)[META.protocolVersion] as string;
}
