#!/usr/bin/env node
// Mixed MCP load through the balancer for scripts/ci-replicas.sh, with one replica stopped mid-run.
//
// Each "client" runs what an MCP client does, one request after another, each on whatever replica the balancer
// picks: initialize, tools/list, tools/call message_get, tools/call messages_send. Every client has its own API key,
// message id and destination, so the fake upstream's record proves which request arrived, from which replica, with
// which key and how many times. After STOP_AFTER requests have completed, the replica STOP_PID is sent SIGTERM.
//
// Environment: LB_URL, UPSTREAM_URL, STOP_PID, ACCESS_LOG (nginx access log in deploy/nginx.conf's format),
// CLIENTS (default 160), CONCURRENCY (default 16), STOP_AFTER (default 35% of the requests).
// Prints a JSON summary on stdout; exits 1 when any check fails.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent, fetch } from "undici";
// The built library entry (ci-replicas.sh runs after npm run build): the replicas must list the whole catalogue.
import { TOOL_SPECS } from "../dist/index.mjs";

const LB_URL = required("LB_URL");
const UPSTREAM_URL = required("UPSTREAM_URL");
const STOP_PID = Number(required("STOP_PID"));
const ACCESS_LOG = required("ACCESS_LOG");
const CLIENTS = Number(process.env.CLIENTS ?? 160);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const STEPS = ["initialize", "tools/list", "message_get", "messages_send"];
const TOTAL = CLIENTS * STEPS.length;
const STOP_AFTER = Number(process.env.STOP_AFTER ?? Math.round(TOTAL * 0.25));
const EXPECTED_TOOLS = TOOL_SPECS.length;
const PROTOCOL = "2025-06-18";
const RUN = Date.now().toString(36);

function required(name) {
  const value = process.env[name];
  if (value === undefined || value === "") {
    process.stderr.write(`replicas-load: ${name} is not set\n`);
    process.exit(2);
  }
  return value;
}

const failures = [];
function fail(what, detail) {
  failures.push({ what, ...detail });
}

const client = (i) => ({
  key: `ps_live_load_${RUN}_${i}`,
  messageId: `msg-${RUN}-${i}`,
  destination: `+55119${String(i).padStart(8, "0")}`,
});

function body(step, i, c) {
  const base = { jsonrpc: "2.0", id: `${i}-${step}` };
  switch (step) {
    case "initialize":
      return {
        ...base,
        method: "initialize",
        params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: "replicas-load", version: "0" } },
      };
    case "tools/list":
      return { ...base, method: "tools/list", params: {} };
    case "message_get":
      return { ...base, method: "tools/call", params: { name: "message_get", arguments: { messageId: c.messageId } } };
    case "messages_send":
      return {
        ...base,
        method: "tools/call",
        params: {
          name: "messages_send",
          arguments: { destinationNumber: c.destination, text: `load test ${RUN} ${i}` },
        },
      };
    default:
      throw new Error(step);
  }
}

/** The answer was made for this client (its owner), and the server scrubbed the key the fake API quoted back. */
function answeredTo(s, c) {
  return s.owner === c.key.replace(/^ps_live_/, "") && s.key === "[REDACTED]";
}

/** Is this the right JSON-RPC answer to this step of this client? Returns a reason when not. */

function check(step, i, c, json) {
  if (json?.jsonrpc !== "2.0" || json.id !== `${i}-${step}`) return "wrong JSON-RPC envelope or id";
  if (json.error !== undefined) return `JSON-RPC error ${JSON.stringify(json.error)}`;
  const result = json.result;
  switch (step) {
    case "initialize":
      return result?.protocolVersion === PROTOCOL && typeof result.serverInfo?.name === "string"
        ? undefined
        : "bad initialize result";
    case "tools/list":
      return result?.tools?.length === EXPECTED_TOOLS
        ? undefined
        : `tools/list returned ${result?.tools?.length} tools`;
    case "message_get": {
      const s = result?.structuredContent;
      if (result?.isError) return `tool error ${JSON.stringify(result.content)}`;
      return s?.id === c.messageId && answeredTo(s, c) ? undefined : `message_get answered ${JSON.stringify(s)}`;
    }
    case "messages_send": {
      const s = result?.structuredContent;
      if (result?.isError) return `tool error ${JSON.stringify(result.content)}`;
      return s?.destinationNumber === c.destination && answeredTo(s, c)
        ? undefined
        : `messages_send answered ${JSON.stringify(s)}`;
    }
    default:
      return "unknown step";
  }
}

async function stats() {
  const res = await fetch(`${UPSTREAM_URL}/__stats`);
  return res.json();
}

let completed = 0;
let stopState; // undefined, then a promise while stopping, then the snapshot
let stoppedAtCompleted;
let inFlight = 0;
let inFlightAtStop;
const statusCounts = {};

// The rolling restart an operator runs: take the replica out of the balancer (BALANCER_DOWN_CMD), stop it with
// SIGTERM, and once it has exited put its address back (BALANCER_UP_CMD), so the balancer meets a dead replica
// and must retry on the others.
// Each request on its own connection to nginx: a reload closes the old workers' idle client connections, and that
// client-side race (a POST written into a closing connection) is not what this test is about.
const oneConnectionPerRequest = new Agent({ pipelining: 0 });
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const run = (command) => command && execFileSync("bash", ["-c", command], { stdio: ["ignore", "ignore", "inherit"] });
let stoppedReplicaBackInBalancer = false;

async function maybeStop() {
  if (stopState !== undefined || completed < STOP_AFTER) return;
  stopState = (async () => {
    const before = await stats();
    run(process.env.BALANCER_DOWN_CMD);
    await pause(500); // old nginx workers finish what they had
    inFlightAtStop = inFlight;
    stoppedAtCompleted = completed;
    process.kill(STOP_PID, "SIGTERM");
    void (async () => {
      while (alive(STOP_PID)) await pause(20);
      run(process.env.BALANCER_UP_CMD);
      stoppedReplicaBackInBalancer = true;
    })();
    return before.byReplica;
  })();
}

async function runClient(i) {
  const c = client(i);
  for (const step of STEPS) {
    const rid = `load-${RUN}-${i}-${step.replace("/", "_")}`;
    const headers = {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "x-api-key": c.key,
      "x-request-id": rid,
    };
    if (step !== "initialize") headers["mcp-protocol-version"] = PROTOCOL;
    inFlight += 1;
    let status = 0;
    let text = "";
    try {
      const res = await fetch(`${LB_URL}/mcp`, {
        method: "POST",
        headers,
        body: JSON.stringify(body(step, i, c)),
        dispatcher: oneConnectionPerRequest,
      });
      status = res.status;
      text = await res.text();
    } catch (error) {
      text = `fetch failed: ${error?.cause?.code ?? error?.message ?? error}`;
    } finally {
      inFlight -= 1;
    }
    completed += 1;
    statusCounts[status] = (statusCounts[status] ?? 0) + 1;
    if (status !== 200) {
      fail("http status", { rid, status, body: text.slice(0, 300) });
    } else {
      let json;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const reason = check(step, i, c, json);
      if (reason !== undefined) fail("result", { rid, reason, body: text.slice(0, 300) });
    }
    await maybeStop();
  }
}

const started = Date.now();
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < CLIENTS) await runClient(next++);
  }),
);
const elapsedMs = Date.now() - started;

// ---- What the upstream saw ----
const replicasBeforeStop = stopState === undefined ? undefined : await stopState;
if (replicasBeforeStop === undefined)
  fail("stop", { reason: `the load finished before ${STOP_AFTER} requests completed; nothing was stopped` });
else
  for (const r of ["r1", "r2", "r3"])
    if (!(replicasBeforeStop[r] > 0))
      fail("round-robin", { reason: `replica ${r} served no upstream call before the stop`, replicasBeforeStop });

const after = await stats();
const sends = new Map();
const gets = new Map();
for (const r of after.requests) {
  if (r.method === "POST" && r.path === "/v1/messages/send")
    sends.set(r.destination, [...(sends.get(r.destination) ?? []), r]);
  if (r.messageId !== null) gets.set(r.messageId, [...(gets.get(r.messageId) ?? []), r]);
}
let sendsExactlyOnce = 0;
let getsExactlyOnce = 0;
for (let i = 0; i < CLIENTS; i += 1) {
  const c = client(i);
  const s = sends.get(c.destination) ?? [];
  if (s.length === 1 && s[0].key === c.key) sendsExactlyOnce += 1;
  else fail("send count", { destination: c.destination, times: s.length, keys: s.map((r) => r.key) });
  const g = gets.get(c.messageId) ?? [];
  if (g.length === 1 && g[0].key === c.key) getsExactlyOnce += 1;
  else fail("get count", { messageId: c.messageId, times: g.length, keys: g.map((r) => r.key) });
}
const unexpected = after.requests.filter(
  (r) => !(r.method === "POST" && r.path === "/v1/messages/send") && r.messageId === null,
);
if (unexpected.length > 0) fail("upstream", { reason: "unexpected upstream requests", sample: unexpected.slice(0, 3) });

// ---- What nginx logged ----
const lines = readFileSync(ACCESS_LOG, "utf8")
  .split("\n")
  .filter((l) => l.includes(`rid=load-${RUN}-`));
const retried = [];
const servedBy = new Map(); // client -> set of replica addresses
for (const line of lines) {
  const rid = /rid=(\S+)/.exec(line)?.[1] ?? "";
  const upstream = /upstream=\[([^\]]*)\]/.exec(line)?.[1] ?? "";
  const upstreamStatus = /upstream_status=\[([^\]]*)\]/.exec(line)?.[1] ?? "";
  const tried = upstream
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (tried.length > 1) retried.push({ rid, upstream, upstreamStatus });
  const clientId = rid.split("-")[2];
  if (!servedBy.has(clientId)) servedBy.set(clientId, new Set());
  servedBy.get(clientId).add(tried.at(-1));
}
if (lines.length !== TOTAL) fail("access log", { reason: `nginx logged ${lines.length} of ${TOTAL} requests` });
const clientsOnSeveralReplicas = [...servedBy.values()].filter((s) => s.size > 1).length;
// The stopped replica refused new connections while load went on, so nginx must have moved some requests on.
if (replicasBeforeStop !== undefined && retried.length === 0)
  fail("retry", { reason: "no request was retried on another replica: the stop did not meet any load" });
if (clientsOnSeveralReplicas === 0)
  fail("round-robin", { reason: "no client's requests were spread over more than one replica" });

const summary = {
  ok: failures.length === 0,
  requests: TOTAL,
  clients: CLIENTS,
  concurrency: CONCURRENCY,
  elapsedMs,
  httpStatuses: statusCounts,
  stoppedReplicaPid: STOP_PID,
  stoppedAfterRequests: stoppedAtCompleted,
  stoppedReplicaBackInBalancerBeforeTheEnd: stoppedReplicaBackInBalancer,
  inFlightThroughBalancerAtStop: inFlightAtStop,
  upstreamCallsPerReplicaBeforeStop: replicasBeforeStop,
  upstreamCallsPerReplicaAtEnd: after.byReplica,
  sendsReachedUpstreamExactlyOnce: `${sendsExactlyOnce}/${CLIENTS}`,
  getsReachedUpstreamExactlyOnce: `${getsExactlyOnce}/${CLIENTS}`,
  nginxRetriedOnNextReplica: retried.length,
  nginxRetriedSample: retried.slice(0, 5),
  clientsWhoseRequestsSpannedSeveralReplicas: `${clientsOnSeveralReplicas}/${CLIENTS}`,
  failures: failures.length,
  failureSample: failures.slice(0, 10),
};
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
process.exit(summary.ok ? 0 : 1);
