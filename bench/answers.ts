/**
 * Talking to a server over HTTP and judging its answers: one JSON-RPC POST, waiting until a server answers, the
 * close look at one answer per scenario before anything is measured, and the cheap check of every answer under load.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { type Child, checkFatal, tailOf } from "./children.js";
import { MODERN_VERSION, SCENARIOS, type Scenario, TOOL_COUNT, TOOLS_LIST } from "./scenarios.js";
import type { ServerDef, ServerId } from "./servers.js";

export interface JsonRpcAnswer {
  result?: {
    tools?: unknown[];
    content?: unknown[];
    structuredContent?: unknown;
    isError?: boolean;
    resultType?: unknown;
  };
  error?: { message?: string };
}

/** POST one JSON-RPC message; an SSE answer (the SDK transport's default, used by (c)) is reduced to its data. */
export async function postMcp(
  url: string,
  scenario: Scenario,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: "POST",
    headers: scenario.headers,
    body: scenario.body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  if (!(response.headers.get("content-type") ?? "").startsWith("text/event-stream"))
    return { status: response.status, text };
  const data = text
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice(5).trim());
  return { status: response.status, text: data.length === 1 ? data[0]! : text };
}

export async function waitReady(child: Child, url: string, timeoutMs: number): Promise<void> {
  const started = performance.now();
  const deadline = started + timeoutMs;
  let last = "";
  while (performance.now() < deadline) {
    checkFatal();
    try {
      const { status } = await postMcp(url, TOOLS_LIST, 1000);
      if (status === 200) return;
      last = `HTTP ${status}`;
    } catch (error) {
      last = String((error as Error).message ?? error);
    }
    await sleep(50);
  }
  throw new Error(`${child.name} did not answer tools/list within ${timeoutMs} ms (${last})${tailOf(child)}`);
}

/** Whether ours must answer this scenario as 2026-07-28 (resultType "complete"); the others run it as legacy. */
const answersModern = (scenario: Scenario, id: ServerId): boolean => scenario.modern && id === "a";

/** One request per scenario the server runs, checked for the right JSON-RPC shape before anything is measured. */
export async function sanityCheck(server: ServerDef, url: string): Promise<void> {
  for (const scenario of SCENARIOS.filter((s) => s.servers.includes(server.id))) {
    const { status, text } = await postMcp(url, scenario, 5000);
    let answer: JsonRpcAnswer | undefined;
    try {
      answer = JSON.parse(text) as JsonRpcAnswer;
    } catch {
      // reported below
    }
    const result = answer?.result;
    const problem =
      status !== 200
        ? `HTTP ${status}: ${text.slice(0, 300)}`
        : answer === undefined
          ? `body is not JSON: ${text.slice(0, 200)}`
          : result === undefined
            ? `no result (${answer.error?.message ?? "?"})`
            : answersModern(scenario, server.id) && result.resultType !== "complete"
              ? `resultType ${JSON.stringify(result.resultType)}, expected "complete": ${text.slice(0, 300)}`
              : scenario.isCall
                ? result.isError === true
                  ? `isError: ${JSON.stringify(result.content).slice(0, 200)}`
                  : typeof result.structuredContent !== "object"
                    ? "no structuredContent"
                    : undefined
                : result.tools?.length !== TOOL_COUNT
                  ? `${result.tools?.length ?? 0} tools, expected ${TOOL_COUNT}`
                  : undefined;
    if (problem === undefined) continue;
    const hint = scenario.modern
      ? ` (a server that does not speak ${MODERN_VERSION} yet: BENCH_SKIP_MODERN=1 measures the rest)`
      : "";
    throw new Error(`${server.label} ${scenario.label}: ${problem}${hint}`);
  }
}

const bodyText = (body: unknown): string =>
  typeof body === "string" ? body : Buffer.isBuffer(body) ? body.toString("utf8") : "";
const COMPLETE = /"resultType"\s*:\s*"complete"/;

/** The cheap check of every answer under load; the sanity check has already looked at one closely. */
export function verifierFor(scenario: Scenario, id: ServerId): (body: unknown) => boolean {
  const modern = answersModern(scenario, id);
  return (body) => {
    const text = bodyText(body);
    return text.includes('"result"') && !text.includes('"isError":true') && (!modern || COMPLETE.test(text));
  };
}
