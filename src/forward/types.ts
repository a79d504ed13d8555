/** The CallToolResult shapes this server produces (a subset of the MCP type, kept local to avoid runtime imports). */
export interface TextContent {
  readonly type: "text";
  readonly text: string;
}

export interface CallToolResult {
  readonly content: readonly TextContent[];
  readonly structuredContent?: Record<string, unknown>;
  readonly isError?: boolean;
}
