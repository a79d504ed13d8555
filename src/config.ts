import * as z from "zod";
import { parseList } from "./registry/selection.js";
import type { ProxySettings } from "./upstream/client.js";

/**
 * Every setting, parsed once from the environment by one schema. Nothing else reads process.env.
 * Invalid values are all reported together, in plain words, naming the variable.
 */

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const blankToUndefined = (value: unknown): unknown =>
  typeof value === "string" && value.trim() === "" ? undefined : value;

const httpUrlSetting = (fallback: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .default(fallback)
      .refine((value) => {
        try {
          return ["http:", "https:"].includes(new URL(value).protocol);
        } catch {
          return false;
        }
      }, "must be an http:// or https:// URL")
      .transform((value) => value.replace(/\/+$/, "")),
  );

const integerSetting = (fallback: number, min: number, max: number) =>
  z.preprocess(
    blankToUndefined,
    z.coerce
      .number({ message: "must be a whole number" })
      .int("must be a whole number")
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`)
      .default(fallback),
  );

/** A comma-separated list, read the way flags and X-MCP-* headers are (undefined when blank). */
const listSetting = z.string().optional().transform(parseList);

const optionalSecret = z.preprocess(
  blankToUndefined,
  z
    .string()
    .optional()
    .refine((value) => value === undefined || !/[\r\n]/.test(value), "must be a single line"),
);

const booleanSetting = z.preprocess(
  blankToUndefined,
  z
    .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
    .default("false")
    .transform((value) => value === "true" || value === "1" || value === "yes"),
);

/**
 * A forward proxy's URL as curl takes it: a bare `host:port` means http://. Only http:// and https:// proxies
 * exist for undici. The value never appears in an error: it may hold the proxy's password.
 */
const proxySetting = z.preprocess(
  (value) => {
    const text = typeof value === "string" ? value.trim() : value;
    if (text === "" || text === undefined) return undefined;
    return typeof text === "string" && !text.includes("://") ? `http://${text}` : text;
  },
  z
    .string()
    .optional()
    .refine((value) => {
      if (value === undefined) return true;
      try {
        const url = new URL(value);
        return ["http:", "https:"].includes(url.protocol) && url.hostname !== "";
      } catch {
        return false;
      }
    }, "must be a proxy URL such as http://proxy.example:3128 (http:// or https://)"),
);

const EnvSchema = z.object({
  PILOT_STATUS_API_URL: httpUrlSetting("https://pilotstatus.com.br"),
  PILOT_STATUS_API_KEY: optionalSecret,
  PILOT_STATUS_API_KEY_ID: optionalSecret,
  MCP_RESOURCE_URL: httpUrlSetting("https://mcp.pilotstatus.com.br/mcp"),
  PILOT_STATUS_AUTH_SERVER_URL: httpUrlSetting("https://pilotstatus.com.br"),
  MCP_TRANSPORT: z.preprocess(
    (value) => (typeof value === "string" ? blankToUndefined(value.toLowerCase()) : value),
    z.enum(["stdio", "http"], { message: "must be stdio or http" }).default("stdio"),
  ),
  PORT: integerSetting(8787, 0, 65535),
  // Unset = no metrics listener at all (docs/decisions.md #33): the metrics never share the public port.
  METRICS_PORT: z.preprocess(
    blankToUndefined,
    z.coerce.number({ message: "must be a whole number" }).int("must be a whole number").min(1).max(65535).optional(),
  ),
  HOST: z.preprocess(blankToUndefined, z.string().default("0.0.0.0")),
  LOG_LEVEL: z.preprocess(
    (value) => (typeof value === "string" ? blankToUndefined(value.toLowerCase()) : value),
    z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
  ),
  PILOT_STATUS_TIMEOUT_MS: integerSetting(30_000, 100, 600_000),
  PILOT_STATUS_MAX_RESPONSE_BYTES: integerSetting(10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  MCP_MAX_BODY_BYTES: integerSetting(1024 * 1024, 1024, 100 * 1024 * 1024),
  MCP_MAX_RESULT_CHARS: integerSetting(100_000, 1_000, 10_000_000),
  MCP_ALLOWED_HOSTS: listSetting,
  MCP_ALLOWED_ORIGINS: listSetting,
  MCP_SHUTDOWN_GRACE_MS: integerSetting(10_000, 0, 600_000),
  MCP_HEADERS_TIMEOUT_MS: integerSetting(15_000, 1_000, 300_000),
  PILOT_STATUS_TOOLSETS: listSetting,
  PILOT_STATUS_TOOLS: listSetting,
  PILOT_STATUS_EXCLUDE_TOOLS: listSetting,
  PILOT_STATUS_READ_ONLY: booleanSetting,
  PILOT_STATUS_DRY_RUN: booleanSetting,
  // Read in any casing, lowercase first (see proxyVariables).
  HTTPS_PROXY: proxySetting,
  HTTP_PROXY: proxySetting,
  NO_PROXY: z.preprocess(blankToUndefined, z.string().optional()),
});

const PROXY_VARIABLES = ["HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"] as const;

/**
 * The proxy variables under their upper-case names, whatever casing the environment used: lowercase wins (as in
 * curl and undici), then upper case, then any other casing (Windows environments ignore case altogether).
 */
function proxyVariables(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const name of PROXY_VARIABLES) {
    const other = Object.keys(env).find(
      (key) => key.toUpperCase() === name && key !== name && key !== name.toLowerCase(),
    );
    out[name] = env[name.toLowerCase()] ?? env[name] ?? (other === undefined ? undefined : env[other]);
  }
  return out;
}

/** Every environment variable the server reads (for documents and manifests that must name only real ones). */
export const ENV_NAMES: readonly string[] = Object.freeze(Object.keys(EnvSchema.shape));

export interface Config {
  readonly apiUrl: string;
  readonly apiKey: string | undefined;
  readonly apiKeyId: string | undefined;
  readonly resourceUrl: string;
  readonly authServerUrl: string;
  readonly transport: "stdio" | "http";
  readonly port: number;
  readonly metricsPort: number | undefined;
  readonly host: string;
  readonly logLevel: LogLevel;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly maxBodyBytes: number;
  readonly maxResultChars: number;
  readonly allowedHosts: readonly string[];
  readonly allowedOrigins: readonly string[];
  readonly shutdownGraceMs: number;
  /** Time a client has to send a request's headers; the idle keep-alive time is apart from it (65 s). */
  readonly headersTimeoutMs: number;
  /**
   * Forward proxies for the calls to the API (undici's EnvHttpProxyAgent semantics: an https API goes through
   * httpsProxy, or httpProxy when only that is set; noProxy lists hosts to reach directly). All unset: no proxy.
   */
  readonly proxy: ProxySettings;
  readonly selection: {
    readonly toolsets: readonly string[] | undefined;
    readonly tools: readonly string[] | undefined;
    readonly excludeTools: readonly string[] | undefined;
    readonly readOnly: boolean;
    /** Tools that are not read-only return the request they would send instead of sending it. */
    readonly dryRun: boolean;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"];

// Any port on a loopback host: local tools (inspectors, dev UIs) run on arbitrary ports.
const LOOPBACK_ORIGINS = [
  "http://localhost",
  "http://127.0.0.1",
  "http://[::1]",
  "https://localhost",
  "https://127.0.0.1",
  "https://[::1]",
];

export function loadConfig(env: NodeJS.ProcessEnv | Record<string, string | undefined>): Config {
  const parsed = EnvSchema.safeParse({ ...env, ...proxyVariables(env) });
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`));
  }
  const e = parsed.data;
  const resource = new URL(e.MCP_RESOURCE_URL);
  return Object.freeze({
    apiUrl: e.PILOT_STATUS_API_URL,
    apiKey: e.PILOT_STATUS_API_KEY,
    apiKeyId: e.PILOT_STATUS_API_KEY_ID,
    resourceUrl: e.MCP_RESOURCE_URL,
    authServerUrl: e.PILOT_STATUS_AUTH_SERVER_URL,
    transport: e.MCP_TRANSPORT,
    port: e.PORT,
    metricsPort: e.METRICS_PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    timeoutMs: e.PILOT_STATUS_TIMEOUT_MS,
    maxResponseBytes: e.PILOT_STATUS_MAX_RESPONSE_BYTES,
    maxBodyBytes: e.MCP_MAX_BODY_BYTES,
    maxResultChars: e.MCP_MAX_RESULT_CHARS,
    allowedHosts: Object.freeze(e.MCP_ALLOWED_HOSTS ?? [...LOOPBACK_HOSTS, resource.host.toLowerCase()]),
    allowedOrigins: Object.freeze(e.MCP_ALLOWED_ORIGINS ?? [resource.origin, ...LOOPBACK_ORIGINS]),
    shutdownGraceMs: e.MCP_SHUTDOWN_GRACE_MS,
    headersTimeoutMs: e.MCP_HEADERS_TIMEOUT_MS,
    proxy: Object.freeze({ httpsProxy: e.HTTPS_PROXY, httpProxy: e.HTTP_PROXY, noProxy: e.NO_PROXY }),
    selection: Object.freeze({
      toolsets: e.PILOT_STATUS_TOOLSETS,
      tools: e.PILOT_STATUS_TOOLS,
      excludeTools: e.PILOT_STATUS_EXCLUDE_TOOLS,
      readOnly: e.PILOT_STATUS_READ_ONLY,
      dryRun: e.PILOT_STATUS_DRY_RUN,
    }),
  });
}
