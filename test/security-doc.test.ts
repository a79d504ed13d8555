import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ENV_NAMES, loadConfig } from "../src/config.js";

// SECURITY.md states limits and settings as facts: each setting it names must be one the server reads, and each
// default it gives must be the one the server uses.

const doc = readFileSync(new URL("../SECURITY.md", import.meta.url), "utf8");

describe("SECURITY.md", () => {
  it("names only settings config.ts reads", () => {
    const named = [...new Set([...doc.matchAll(/`((?:MCP|PILOT_STATUS)_[A-Z_]+)/g)].map((m) => m[1]!))];
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((name) => !ENV_NAMES.includes(name))).toEqual([]);
  });

  it("gives the defaults the server uses", () => {
    const config = loadConfig({});
    const row = (setting: string) => new RegExp(`\\(\`${setting}\`\\) \\| ([^|]+) \\|`).exec(doc)?.[1]?.trim();
    expect(row("MCP_MAX_BODY_BYTES")).toBe(`${config.maxBodyBytes / 1024 / 1024} MiB`);
    expect(row("MCP_HEADERS_TIMEOUT_MS")).toBe(`${config.headersTimeoutMs / 1000} s`);
    expect(row("PILOT_STATUS_MAX_RESPONSE_BYTES")).toBe(`${config.maxResponseBytes / 1024 / 1024} MiB`);
    expect(row("PILOT_STATUS_TIMEOUT_MS")).toBe(`${config.timeoutMs / 1000} s`);
    expect(row("MCP_MAX_RESULT_CHARS")).toBe(config.maxResultChars.toLocaleString("en-US"));
  });
});
