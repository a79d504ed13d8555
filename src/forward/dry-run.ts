import type { RequestPreview } from "../upstream/client.js";
import type { CallToolResult } from "./types.js";

/**
 * The answer of a tool that is not read-only while dry run is on (PILOT_STATUS_DRY_RUN, X-MCP-Dry-Run): the
 * request it would have sent, as text and as structured content, plainly marked; nothing reached the API.
 * Read-only tools never get here: they run as usual, so a task can be rehearsed against real data.
 */
export interface DryRunContent {
  readonly dryRun: true;
  readonly sent: false;
  readonly tool: string;
  readonly request: RequestPreview;
}

export function dryRunResult(tool: string, request: RequestPreview): CallToolResult {
  const structuredContent: DryRunContent = { dryRun: true, sent: false, tool, request };
  const lead = `DRY RUN: nothing was sent to the Pilot Status API. This is the request ${tool} would have made`;
  const detail = "(credential headers are named, their values left out); with dry run off the same call would send it.";
  return {
    content: [{ type: "text", text: `${lead} ${detail}\n${JSON.stringify(structuredContent)}` }],
    structuredContent: structuredContent as unknown as Record<string, unknown>,
  };
}
