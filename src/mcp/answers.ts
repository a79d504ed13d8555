import type { InitializeResult } from "@modelcontextprotocol/sdk/types.js";
import { SERVER_NAME, SERVER_TITLE, VERSION } from "../identity.js";
import type { Surface } from "../registry/registry.js";
import { LEGACY_PROTOCOL_VERSIONS, META, SUPPORTED_PROTOCOL_VERSIONS } from "./eras.js";

/**
 * The answers that do not depend on the request, serialised once at start-up (or once per tool surface): the
 * initialize results of every legacy revision, server/discover, and the modern decorations of a result.
 */

export const SERVER_INFO = { name: SERVER_NAME, title: SERVER_TITLE, version: VERSION } as const;

export const INSTRUCTIONS = [
  "Tools for the Pilot Status WhatsApp platform. They act on a real WhatsApp account: sends, calls, group changes",
  "and purchases really happen, so confirm with the user before any tool that is not read-only.",
  // Number-scoped tools' whatsappNumberId descriptions point here rather than repeat it 40 times, so this says
  // every rule of number selection.
  "Account tools (numbers_* except numbers_check, api_keys_*, branding_*, subscription_*, billing_checkout) need a",
  "tenant-scoped key. Every other tool acts on one WhatsApp number, chosen by the credential or by its optional",
  "whatsappNumberId argument: a number-scoped key acts on its own number and whatsappNumberId is then ignored; with",
  "a tenant key or an OAuth grant pass whatsappNumberId, the id of a number from numbers_list. With a tenant key the",
  "webhook tools other than webhooks_create may leave it out and act across the tenant. Under a grant limited to",
  "chosen numbers it is always required.",
].join(" ");

/** Said in the instructions whenever dry run is on, server-wide or for the request (docs/decisions.md #34). */
export const DRY_RUN_INSTRUCTIONS = [
  "DRY RUN IS ON: tools that are not read-only check their arguments and return the request they would have sent,",
  "marked dryRun, and send nothing, so no message, call, change or purchase happens. Read-only tools still read",
  "the real account.",
].join(" ");

export function instructionsFor(dryRun: boolean): string {
  return dryRun ? `${INSTRUCTIONS} ${DRY_RUN_INSTRUCTIONS}` : INSTRUCTIONS;
}

const CAPABILITIES = { tools: { listChanged: false } } as const;

/**
 * How long a client may keep server/discover and tools/list answers: the catalogue is fixed for the life of the
 * process, so only a redeploy changes it, and an hour is a short wait for a new tool to appear.
 */
export const LIST_TTL_MS = 60 * 60 * 1000;

/** initialize answers by requested revision (an unknown one gets the newest legacy revision's). */
export function initializeAnswers(dryRun: boolean): ReadonlyMap<string, string> {
  const answers = new Map<string, string>();
  const instructions = instructionsFor(dryRun);
  for (const protocolVersion of LEGACY_PROTOCOL_VERSIONS) {
    const result = {
      protocolVersion,
      capabilities: CAPABILITIES,
      serverInfo: SERVER_INFO,
      instructions,
    } satisfies InitializeResult;
    answers.set(protocolVersion, JSON.stringify(result));
  }
  return answers;
}

const SERVER_META_JSON = JSON.stringify({ [META.serverInfo]: SERVER_INFO });

/**
 * A modern result around a serialised legacy-shaped result: every 2026-07-28 result says `resultType` and names
 * the server in its `_meta` (spliced, so a tool result is not serialised twice). `extra` holds more members,
 * already serialised (`"ttlMs":…`); `meta` more `_meta` entries.
 */
export function modernResultJson(resultJson: string, extra = "", meta?: Readonly<Record<string, unknown>>): string {
  const metaJson = meta === undefined ? SERVER_META_JSON : JSON.stringify({ ...meta, [META.serverInfo]: SERVER_INFO });
  const head = `{"resultType":"complete","_meta":${metaJson}${extra === "" ? "" : `,${extra}`}`;
  return resultJson === "{}" ? `${head}}` : `${head},${resultJson.slice(1)}`;
}

/** `cacheScope` is private when per-request headers narrowed the surface: a client's cache key lacks them. */
function cachingMembers(surface: Surface): string {
  return `"ttlMs":${LIST_TTL_MS},"cacheScope":"${surface.narrowed ? "private" : "public"}"`;
}

export function discoverResultJson(surface: Surface): string {
  const body = JSON.stringify({
    supportedVersions: SUPPORTED_PROTOCOL_VERSIONS,
    capabilities: CAPABILITIES,
    instructions: instructionsFor(surface.dryRun),
  });
  return modernResultJson(body, cachingMembers(surface));
}

export function modernToolsListBytes(surface: Surface): Buffer {
  return Buffer.from(modernResultJson(surface.listResultBytes.toString("utf8"), cachingMembers(surface)), "utf8");
}
