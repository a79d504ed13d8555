import type { CallToolResult as SdkCallToolResult } from "@modelcontextprotocol/sdk/types.js";

/** The CallToolResult shapes this server produces: a subset of the MCP type, checked against the SDK's below. */
export interface TextContent {
  readonly type: "text";
  readonly text: string;
}

export interface CallToolResult {
  readonly content: readonly TextContent[];
  readonly structuredContent?: Record<string, unknown>;
  readonly isError?: boolean;
}

/** Fails to compile if our results stop being valid MCP results (a type-only import: nothing of it ships). */
type Mutable<T> = { -readonly [K in keyof T]: T[K] extends ReadonlyArray<infer U> ? U[] : T[K] };
type ResultsAreMcpResults = Mutable<CallToolResult> extends SdkCallToolResult ? true : never;
const resultsAreMcpResults: ResultsAreMcpResults = true;
void resultsAreMcpResults;
