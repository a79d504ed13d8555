import type { z } from "zod";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export const TOOLSETS = [
  "messaging",
  "webhooks",
  "groups",
  "channels",
  "numbers",
  "templates",
  "calls",
  "account",
] as const;
export type Toolset = (typeof TOOLSETS)[number];

export type ArgLocation = "path" | "query" | "header" | "body";

/** Where one flat tool argument travels upstream. */
export interface ArgSpec {
  readonly arg: string;
  readonly in: ArgLocation;
  /** Name on the wire: path template name, query key, header name or body property. */
  readonly wire: string;
  /** Boolean query flags: `true` is sent as this value, `false` sends nothing. */
  readonly trueValue?: string;
}

export interface ToolAnnotations {
  readonly title: string;
  readonly readOnlyHint: boolean;
  readonly destructiveHint: boolean;
  readonly idempotentHint: boolean;
  readonly openWorldHint: boolean;
}

export type JsonSchema = { readonly [key: string]: unknown };

/** One tool, as data: generated from openapi/ into tools.generated.ts. */
export interface ToolSpec {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly toolset: Toolset;
  readonly method: HttpMethod;
  /** Path template such as `/v1/groups/{groupId}/participants`. */
  readonly path: string;
  readonly args: readonly ArgSpec[];
  /** True when the operation takes a JSON body (sent even when empty: `{}`). */
  readonly hasBody: boolean;
  readonly inputSchema: JsonSchema;
  /** What tools/list declares: every documented field described, nothing a real answer could fail. */
  readonly outputSchema: JsonSchema | undefined;
  readonly input: z.ZodObject;
  readonly refine: string | undefined;
  readonly annotations: ToolAnnotations;
  /** Method or path is our best guess, not documented upstream. */
  readonly unconfirmed: boolean;
  /**
   * The tool exists to return API keys (`x-returns-secrets`): its answers pass on unchanged, never scrubbed
   * (docs/decisions.md #9), and never reach the log.
   */
  readonly returnsSecrets: boolean;
  /**
   * Fields of the answer that hold text written by WhatsApp contacts (`x-untrusted-text` on the response schema),
   * as property paths with "*" for every item of a list.
   */
  readonly untrustedText: readonly (readonly string[])[];
}
