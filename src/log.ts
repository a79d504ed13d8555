import { pino, type Logger } from "pino";
import type { LogLevel } from "./config.js";

export type { Logger };

// Any Pilot Status key, wherever it hides in a string (error texts, URLs, upstream bodies).
const PS_KEY = /\bps_[A-Za-z0-9_-]+/g;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi;

/** Removes credentials from free text before it is logged or shown to a model. */
export function scrubSecrets(text: string): string {
  return text.replace(PS_KEY, "ps_[REDACTED]").replace(BEARER, "$1 [REDACTED]");
}

/**
 * Structured JSON lines on stderr (stdout belongs to JSON-RPC in stdio mode). Credential headers are redacted by
 * path; free-text fields go through scrubSecrets where they are built.
 */
export function createLogger(level: LogLevel, destination: NodeJS.WritableStream | number = 2): Logger {
  const stream = typeof destination === "number" ? pino.destination({ fd: destination, sync: false }) : destination;
  return pino(
    {
      level,
      base: { service: "pilot-status-mcp" },
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
