/**
 * What is measured over HTTP: tools/call message_get and messages_send, and tools/list, as a legacy (2025-06-18)
 * client sends them; and tools/call message_get as a 2026-07-28 client sends it (the version, capabilities and
 * client in params._meta; MCP-Protocol-Version, Mcp-Method and Mcp-Name headers), which ours must answer with
 * resultType "complete". Only ours speaks 2026-07-28; (d) ignores `_meta` and the headers and runs it as context:
 * it prices the bigger request itself.
 */
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";
import { ALL, type ServerId } from "./servers.js";
import { API_KEY, SKIP_MODERN } from "./settings.js";

/** How many tools every server must list: the whole catalogue. */
export const TOOL_COUNT = TOOL_SPECS.length;

/** What a legacy client sends with every POST (it negotiated 2025-06-18 at initialize). */
const LEGACY_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "x-api-key": API_KEY,
  "mcp-protocol-version": "2025-06-18",
};
export const MODERN_VERSION = "2026-07-28";
/** What a 2026-07-28 client puts in every request's params._meta (no initialize in that revision). */
const MODERN_META = {
  "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "bench", version: "0" },
};

export interface Scenario {
  readonly key: string;
  readonly label: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly isCall: boolean;
  /** A 2026-07-28 request: ours must answer it with resultType "complete". */
  readonly modern: boolean;
  /** The servers measured on it. */
  readonly servers: readonly ServerId[];
  /** Scenarios of one group are measured in the same rounds, interleaved, so their per-round ratios pair up. */
  readonly group: string;
  /** The legacy scenario this one is a variant of: ours' variant/legacy ratio is printed and judged. */
  readonly variantOf?: string;
}

const MESSAGE_GET = { name: "message_get", arguments: { messageId: "msg_1" } };

export const SCENARIOS: readonly Scenario[] = [
  {
    key: "message_get",
    label: "tools/call message_get",
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: MESSAGE_GET }),
    headers: LEGACY_HEADERS,
    isCall: true,
    modern: false,
    servers: ALL,
    group: "message_get",
  },
  ...(SKIP_MODERN
    ? []
    : [
        {
          key: "message_get_2026",
          label: `tools/call message_get ${MODERN_VERSION}`,
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: 1,
            method: "tools/call",
            params: { ...MESSAGE_GET, _meta: MODERN_META },
          }),
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            "x-api-key": API_KEY,
            "MCP-Protocol-Version": MODERN_VERSION,
            "Mcp-Method": "tools/call",
            "Mcp-Name": "message_get",
          },
          isCall: true,
          modern: true,
          servers: ["a", "d"],
          group: "message_get",
          variantOf: "message_get",
        } satisfies Scenario,
      ]),
  {
    key: "messages_send",
    label: "tools/call messages_send",
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "messages_send", arguments: { destinationNumber: "+5511999999999", text: "hi" } },
    }),
    headers: LEGACY_HEADERS,
    isCall: true,
    modern: false,
    servers: ALL,
    group: "messages_send",
  },
  {
    key: "tools_list",
    label: "tools/list",
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    headers: LEGACY_HEADERS,
    isCall: false,
    modern: false,
    servers: ALL,
    group: "tools_list",
  },
];
export const TOOLS_LIST = SCENARIOS.find((s) => s.key === "tools_list")!;
/** Scenario groups, in order: each is measured in its own rounds. */
export const GROUPS: readonly (readonly Scenario[])[] = [...new Set(SCENARIOS.map((s) => s.group))].map((g) =>
  SCENARIOS.filter((s) => s.group === g),
);
/** (scenario, server) pairs: one measurement each per connection count and round. */
export const JOB_COUNT = SCENARIOS.reduce((sum, s) => sum + s.servers.length, 0);
