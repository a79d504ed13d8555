#!/usr/bin/env node
// A Kubernetes rolling update, replayed on one machine: what the Deployment controller, the kubelet and the
// endpoints controller do when deploy/kubernetes/base rolls out a new version, done to real server processes
// (dist/pilot-status-mcp.mjs) behind the real nginx of deploy/nginx.conf, under a steady mixed load.
//
// Everything it times comes from the rendered manifests (kustomize build deploy/kubernetes/base): the replica count,
// maxSurge/maxUnavailable, the settings of the ConfigMap, the probe paths, ports, periods and thresholds, the
// pre-stop pause and terminationGracePeriodSeconds. For each old pod in turn: start a new pod; probe it as the
// kubelet does (startupProbe, then readinessProbe) and only when it is Ready add it to the balancer; then terminate
// an old pod the way the kubelet does: the endpoints controller drops it from the balancer a moment after the pod
// is marked terminating (here: 1 s, well inside the pause), the preStop pause runs, then SIGTERM; readiness keeps
// being probed and must turn 503; the process must exit 0 within the grace period. Checked at the end: no request
// failed, every send reached the API exactly once, the new pods took the traffic.
//
// Run by scripts/ci-replicas.sh (which installs nginx). Environment: NGINX_BIN (the nginx binary, default: from PATH;
// not NGINX, which nginx itself reads).
// Prints a JSON summary; exits 1 when a check fails.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Agent, fetch } from "undici";
import { parseAllDocuments } from "yaml";
import { kustomizeBuild } from "./lib/kustomize.mjs";
import { nginxConf } from "./lib/nginx-conf.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "dist/pilot-status-mcp.mjs");
const NGINX = process.env.NGINX_BIN ?? "nginx";
const ENDPOINT_PROPAGATION_MS = 1000;
const WORKERS = 12;
const RUN = Date.now().toString(36);

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message) => process.stderr.write(`[kube-rollout] ${message}\n`);
const failures = [];
const fail = (what, detail = {}) => failures.push({ what, ...detail });

// ---- The manifests, as kustomize renders them ----
const rendered = kustomizeBuild("base");
const objects = parseAllDocuments(rendered).map((doc) => doc.toJS());
const deployment = objects.find((o) => o.kind === "Deployment");
const settings = objects.find((o) => o.kind === "ConfigMap").data;
const podSpec = deployment.spec.template.spec;
const container = podSpec.containers[0];
const replicas = deployment.spec.replicas;
const { maxSurge, maxUnavailable } = deployment.spec.strategy.rollingUpdate;
const preStop = container.lifecycle.preStop.exec.command;
if (preStop[0] !== "sleep")
  throw new Error(`the preStop hook is ${JSON.stringify(preStop)}; this replay knows only sleep`);
const preStopMs = Number(preStop[1]) * 1000;
const graceMs = podSpec.terminationGracePeriodSeconds * 1000;
if (maxSurge !== 1 || maxUnavailable !== 0)
  throw new Error(`this replay follows maxSurge 1 / maxUnavailable 0, not ${maxSurge}/${maxUnavailable}`);

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const tmp = mkdtempSync(join(tmpdir(), "kube-rollout-"));
chmodSync(tmp, 0o755); // nginx workers (an unprivileged user when started as root) create their temp files below it
const children = new Set();
function start(command, args, env, name) {
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? "/root", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  child.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  child.output = () => output;
  child.label = name;
  children.add(child);
  void child.exited.then(() => children.delete(child));
  return child;
}

/** One HTTP GET with the probe's timeout; the status, or 0 when it did not answer. */
async function probe(port, { httpGet, timeoutSeconds = 1 }) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${httpGet.path}`, {
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

// ---- Pods ----
let podNumber = 0;
async function startPod() {
  podNumber += 1;
  const name = `pod-${podNumber}`;
  const port = await freePort();
  const metricsPort = await freePort();
  const env = {
    ...settings,
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    PILOT_STATUS_API_URL: `${upstreamUrl}/r${podNumber}`,
  };
  const process_ = start(process.execPath, [BIN, "http"], env, name);
  const pod = { name, port, process: process_, replica: `r${podNumber}`, readyStatuses: [] };
  // startupProbe: until it succeeds or failureThreshold periods pass.
  const startup = container.startupProbe;
  for (let attempt = 1; ; attempt++) {
    await pause(startup.periodSeconds * 1000);
    if ((await probe(port, startup)) === 200) break;
    if (attempt >= startup.failureThreshold)
      throw new Error(`${name} failed its startup probe: ${process_.output().slice(-500)}`);
  }
  // readinessProbe: Ready after successThreshold successes in a row.
  const readiness = container.readinessProbe;
  for (let successes = 0; successes < (readiness.successThreshold ?? 1); ) {
    successes = (await probe(port, readiness)) === 200 ? successes + 1 : 0;
    if (successes < (readiness.successThreshold ?? 1)) await pause(readiness.periodSeconds * 1000);
  }
  // The kubelet keeps probing readiness for the pod's whole life; terminatePod reads what it saw.
  pod.prober = (async () => {
    while (pod.process.exitCode === null && pod.process.signalCode === null) {
      await pause(readiness.periodSeconds * 1000);
      pod.readyStatuses.push({
        status: await probe(port, readiness),
        terminating: pod.terminatingSince !== undefined,
        sigterm: pod.sigtermAt !== undefined,
      });
    }
  })();
  return pod;
}

async function terminatePod(pod) {
  pod.terminatingSince = Date.now();
  // The endpoints controller and the balancer learn of it a moment later; the pod keeps serving meanwhile.
  const dropped = pause(ENDPOINT_PROPAGATION_MS).then(() => setEndpoints(endpoints.filter((p) => p !== pod)));
  await pause(preStopMs);
  await dropped;
  pod.sigtermAt = Date.now();
  pod.process.kill("SIGTERM");
  const deadline = pause(graceMs - preStopMs).then(() => "grace period over");
  const outcome = await Promise.race([pod.process.exited, deadline]);
  if (outcome === "grace period over") {
    pod.process.kill("SIGKILL");
    fail("grace", { pod: pod.name, reason: `still running ${graceMs} ms after termination began: SIGKILLed` });
    return;
  }
  await pod.prober;
  pod.exit = outcome;
  pod.drainMs = Date.now() - pod.sigtermAt;
  if (outcome.code !== 0) fail("exit", { pod: pod.name, outcome, log: pod.process.output().slice(-500) });
  if (!pod.readyStatuses.some((s) => s.sigterm && s.status === 503))
    fail("readiness", { pod: pod.name, reason: "readiness never answered 503 after SIGTERM", seen: pod.readyStatuses });
  if (pod.readyStatuses.some((s) => !s.sigterm && s.status !== 200))
    fail("readiness", { pod: pod.name, reason: "not ready before SIGTERM", seen: pod.readyStatuses });
}

// ---- The balancer ----
const lbPort = await freePort();
const confPath = join(tmp, "nginx.conf");
let endpoints = [];
let nginx;
function setEndpoints(pods) {
  endpoints = pods;
  writeFileSync(
    confPath,
    nginxConf(
      tmp,
      lbPort,
      pods.map((p) => p.port),
    ),
  );
  if (nginx !== undefined)
    execFileSync(NGINX, ["-q", "-p", tmp, "-e", join(tmp, "error.log"), "-c", confPath, "-s", "reload"], {
      stdio: ["ignore", "ignore", "inherit"],
    });
}

// ---- Load: a steady stream of clients through the balancer, each with its own key, message and destination ----
const oneConnectionPerRequest = new Agent({ pipelining: 0 });
let stopLoad = false;
let sent = 0;
const statuses = {};
const clients = [];
async function worker(w) {
  for (let i = 0; !stopLoad; i++) {
    const id = `${w}-${i}`;
    const c = {
      key: `ps_live_rollout_${RUN}_${id}`,
      messageId: `msg-${RUN}-${id}`,
      destination: `+55119${String(w).padStart(3, "0")}${String(i).padStart(5, "0")}`,
    };
    clients.push(c);
    for (const [name, args] of [
      ["message_get", { messageId: c.messageId }],
      ["messages_send", { destinationNumber: c.destination, text: `rollout ${RUN} ${id}` }],
    ]) {
      let status = 0;
      let text = "";
      try {
        const res = await fetch(`http://127.0.0.1:${lbPort}/mcp`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json",
            "x-api-key": c.key,
            "x-request-id": `rollout-${RUN}-${id}-${name}`,
          },
          body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } }),
          dispatcher: oneConnectionPerRequest,
        });
        status = res.status;
        text = await res.text();
      } catch (error) {
        text = `fetch failed: ${error?.cause?.code ?? error?.message ?? error}`;
      }
      sent += 1;
      statuses[status] = (statuses[status] ?? 0) + 1;
      let result;
      try {
        result = JSON.parse(text).result;
      } catch {
        result = undefined;
      }
      if (status !== 200 || result === undefined || result.isError)
        fail("request", { name, id, status, body: text.slice(0, 300) });
    }
  }
}

let upstreamUrl;
let summary;
try {
  const upstreamPort = await freePort();
  start(process.execPath, [join(ROOT, "scripts/fake-upstream.mjs"), String(upstreamPort)], {}, "upstream");
  upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
  for (let i = 0; i < 50 && (await fetch(`${upstreamUrl}/__stats`).catch(() => undefined)) === undefined; i++)
    await pause(100);

  // The current version: `replicas` Ready pods, in the balancer.
  const old = [];
  for (let i = 0; i < replicas; i++) old.push(await startPod());
  setEndpoints(old);
  execFileSync(NGINX, ["-t", "-q", "-p", tmp, "-e", join(tmp, "error.log"), "-c", confPath], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  nginx = start(NGINX, ["-p", tmp, "-e", join(tmp, "error.log"), "-c", confPath], {}, "nginx");
  for (
    let i = 0;
    i < 50 && (await fetch(`http://127.0.0.1:${lbPort}/health`).catch(() => undefined))?.status !== 200;
    i++
  )
    await pause(100);
  log(
    `${replicas} pods behind nginx on 127.0.0.1:${lbPort}; preStop ${preStopMs} ms, grace ${graceMs} ms, readiness every ${container.readinessProbe.periodSeconds} s`,
  );

  const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  await pause(1000);
  const before = (await (await fetch(`${upstreamUrl}/__stats`)).json()).byReplica;

  // The rollout: surge one new pod, wait until it is Ready, add it, terminate one old pod; repeat.
  const started = Date.now();
  const terminations = [];
  const fresh = [];
  for (const pod of old) {
    const next = await startPod();
    fresh.push(next);
    setEndpoints([...endpoints, next]);
    log(`${next.name} Ready and in the balancer; terminating ${pod.name}`);
    terminations.push(terminatePod(pod));
  }
  await Promise.all(terminations);
  const rolloutMs = Date.now() - started;
  await pause(1000);
  stopLoad = true;
  await load;

  // ---- What the API saw ----
  const stats = await (await fetch(`${upstreamUrl}/__stats`)).json();
  const sends = new Map();
  const gets = new Map();
  for (const r of stats.requests) {
    if (r.method === "POST" && r.path === "/v1/messages/send")
      sends.set(r.destination, (sends.get(r.destination) ?? 0) + 1);
    if (r.messageId !== null) gets.set(r.messageId, (gets.get(r.messageId) ?? 0) + 1);
  }
  for (const c of clients) {
    if ((sends.get(c.destination) ?? 0) > 1)
      fail("send twice", { destination: c.destination, times: sends.get(c.destination) });
  }
  const sendsOnce = clients.filter((c) => sends.get(c.destination) === 1).length;
  const getsOnce = clients.filter((c) => gets.get(c.messageId) === 1).length;
  // A client still mid-way when the load stopped may lack its send; every finished pair must be there once.
  if (sendsOnce < clients.length - WORKERS)
    fail("sends", { reason: `only ${sendsOnce} of ${clients.length} sends reached the API once` });
  const newTraffic = fresh.reduce((n, p) => n + (stats.byReplica[p.replica] ?? 0), 0);
  const lateOld = old.filter((p) => (stats.byReplica[p.replica] ?? 0) === 0);
  if (newTraffic === 0) fail("traffic", { reason: "the new pods served nothing" });
  if (lateOld.length > 0 || Object.keys(before).length < replicas)
    fail("traffic", { reason: "an old pod served nothing before the rollout", before });

  summary = {
    ok: failures.length === 0,
    replicas,
    requests: sent,
    httpStatuses: statuses,
    rolloutMs,
    upstreamCallsByPod: stats.byReplica,
    sendsReachedApiExactlyOnce: `${sendsOnce}/${clients.length}`,
    getsReachedApiExactlyOnce: `${getsOnce}/${clients.length}`,
    oldPods: old.map((p) => ({
      pod: p.name,
      exit: p.exit,
      drainMsAfterSigterm: p.drainMs,
      readinessSeen: p.readyStatuses.map((s) => `${s.status}${s.sigterm ? "*" : ""}`).join(" "),
    })),
    failures: failures.length,
    failureSample: failures.slice(0, 10),
  };
} catch (error) {
  summary = { ok: false, error: String(error?.stack ?? error), failureSample: failures.slice(0, 10) };
} finally {
  stopLoad = true;
  for (const child of children) child.kill(child.label === "nginx" ? "SIGQUIT" : "SIGTERM");
  await Promise.race([Promise.all([...children].map((c) => c.exited)), pause(5000)]);
  for (const child of children) child.kill("SIGKILL");
}
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
if (summary.ok) rmSync(tmp, { recursive: true, force: true });
else log(`files kept in ${tmp}`);
process.exit(summary.ok ? 0 : 1);
