import { type Logger, pino } from "pino";
import type { LogLevel } from "./config.js";
import { SERVER_NAME } from "./identity.js";
import type { Credentials } from "./upstream/credentials.js";

export type { Logger };

// Any Pilot Status key, wherever it hides in a string (error texts, URLs, upstream bodies).
const PS_KEY = /\bps_[A-Za-z0-9_-]+/g;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi;

/** Removes anything shaped like a credential from free text before it is logged or shown to a model. */
export function scrubSecrets(text: string): string {
  return text.replace(PS_KEY, "ps_[REDACTED]").replace(BEARER, "$1 [REDACTED]");
}

export const REDACTED = "[REDACTED]";

/**
 * Values shorter than this are not scrubbed by value: no key, key id or token is this short, and replacing a
 * three-letter string everywhere would garble the text it is removed from (docs/decisions.md #35).
 */
const MIN_SECRET_LENGTH = 4;

/**
 * The secret strings of one request's credentials, in every form an echo can take: as sent, JSON-escaped,
 * with `/` escaped, and percent-encoded. Longest first, so a token is removed before a value it contains.
 */
export function secretValues(credentials: Credentials | undefined): readonly string[] {
  // Not cached: a call asks once, a plain key costs one regex test, and nothing outlives the request.
  return credentials === undefined ? [] : computeSecretValues(credentials);
}

/** Characters that read the same raw, JSON-escaped, with escaped slashes and percent-encoded. */
const PLAIN = /^[A-Za-z0-9_.~-]*$/;

function computeSecretValues(credentials: Credentials): readonly string[] {
  const { apiKey } = credentials;
  // The usual caller: one plain ps_ key and nothing else, whose only form is itself.
  if (
    apiKey !== undefined &&
    credentials.apiKeyId === undefined &&
    credentials.authorization === undefined &&
    apiKey.length >= MIN_SECRET_LENGTH &&
    PLAIN.test(apiKey)
  ) {
    return [apiKey];
  }
  const raw: string[] = [];
  if (credentials.apiKey !== undefined) raw.push(credentials.apiKey);
  if (credentials.apiKeyId !== undefined) raw.push(credentials.apiKeyId);
  if (credentials.authorization !== undefined) {
    raw.push(credentials.authorization);
    const token = /^\S+\s+(.+)$/.exec(credentials.authorization)?.[1];
    if (token !== undefined) raw.push(token);
  }
  const forms = new Set<string>();
  for (const value of raw) {
    if (value.length < MIN_SECRET_LENGTH) continue;
    forms.add(value);
    // A ps_ key or key id, the usual case: every other form is the value itself.
    if (PLAIN.test(value)) continue;
    const json = JSON.stringify(value).slice(1, -1);
    forms.add(json).add(json.replaceAll("/", "\\/")).add(encodeURIComponent(value));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** True when the text holds any of the values (a cheap check before a rewrite). */
export function containsAny(text: string, values: readonly string[]): boolean {
  for (const value of values) if (text.includes(value)) return true;
  return false;
}

/** Replaces each of the values wherever it stands in the text, whatever surrounds it, with the marker. */
export function replaceValues(text: string, values: readonly string[], marker = REDACTED): string {
  let out = text;
  for (const value of values) if (out.includes(value)) out = out.replaceAll(value, marker);
  return out;
}

/**
 * Replaces every value (see secretValues), then anything shaped like a key or a bearer token: the one scrubber
 * for text that leaves the process.
 */
export function scrubCredentials(text: string, values: readonly string[]): string {
  return scrubSecrets(replaceValues(text, values));
}

/**
 * Digit runs long enough to be a phone number (7 digits or more, with the usual separators), masked in what the
 * log keeps of an upstream message: a log is read by more people than the account's owner.
 */
const PHONE_LIKE = /\+?\d(?:[\s().-]{0,2}\d){6,}/g;

export function maskPhoneNumbers(text: string): string {
  return text.replace(PHONE_LIKE, "[number]");
}

/**
 * Structured JSON lines on stderr (stdout belongs to JSON-RPC in stdio mode). Credential headers are redacted by
 * path; free-text fields go through scrubSecrets where they are built.
 */
export function createLogger(level: LogLevel, destination: NodeJS.WritableStream | number = 2): Logger {
  const stream = typeof destination === "number" ? pino.destination({ fd: destination, sync: false }) : destination;
  // A client that goes away closes our stderr too: a log line that cannot be written is dropped, never a crash.
  stream.on("error", () => undefined);
  return pino(
    {
      level,
      base: { service: SERVER_NAME },
      redact: {
        paths: [
          "headers.authorization",
          'headers["x-api-key"]',
          'headers["x-api-key-id"]',
          "*.headers.authorization",
          '*.headers["x-api-key"]',
          '*.headers["x-api-key-id"]',
          "apiKey",
          "apiKeyId",
          "authorization",
          "key",
          "*.key",
        ],
        censor: "[REDACTED]",
      },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    stream,
  );
}

/** An error (with its stack when it has one) as a log field: scrubbed by value and by pattern, and capped. */
export function errorForLog(error: unknown, credentials?: Credentials): string {
  const text = String((error as Error | undefined)?.stack ?? error);
  return scrubCredentials(text.length > 4000 ? `${text.slice(0, 4000)}…` : text, secretValues(credentials));
}
