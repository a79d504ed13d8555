/**
 * Context cost: how much a client puts in the model's context before the first call, measured as the size of the
 * tools/list result our server actually sends over HTTP (not computed from the catalogue, so whatever the server
 * adds or drops counts). Tokens are approximated as bytes / 4; a real tokenizer gives a different figure.
 */
import { postMcp } from "./answers.js";
import { TOOLS_LIST } from "./scenarios.js";

export interface ContextCost {
  /** The JSON-RPC `result` member (the tools and their schemas), serialized as the server sends JSON: compact. */
  readonly resultBytes: number;
  /** The whole HTTP answer body, JSON-RPC envelope included. */
  readonly answerBytes: number;
  /** resultBytes / 4, rounded: an approximation, not a tokenizer's count. */
  readonly approxTokens: number;
}

/** One tools/list, as the legacy client of the tools/list scenario sends it. */
export async function measureContextCost(url: string): Promise<ContextCost> {
  const { status, text } = await postMcp(url, TOOLS_LIST, 5000);
  const result = status === 200 ? (JSON.parse(text) as { result?: unknown }).result : undefined;
  if (result === undefined) throw new Error(`context cost: tools/list answered HTTP ${status}: ${text.slice(0, 200)}`);
  const resultBytes = Buffer.byteLength(JSON.stringify(result));
  return { resultBytes, answerBytes: Buffer.byteLength(text), approxTokens: Math.round(resultBytes / 4) };
}
