import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { kustomizeBuild } from "../scripts/lib/kustomize.mjs";
import { ENV_NAMES, loadConfig } from "../src/config.js";
import { startTestHttpServer, type TestHttpServer } from "./helpers/http-server.js";

// deploy/kubernetes, rendered with the real kustomize and checked offline: every object against the Kubernetes API
// schemas (kubernetes-models), then the invariants that tie the manifests to the server itself. The rolling-update
// replay against real processes behind nginx is scripts/kube-rollout.mjs (run by scripts/ci-replicas.sh in CI).

const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

// deploy/kubernetes holds only plain object manifests; each kind is one of these.
type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: kubernetes-models checks the rendered types.
  spec?: any;
  data?: Record<string, string>;
};
const MODELS: Record<string, string> = {
  "apps/v1/Deployment": "kubernetes-models/apps/v1/Deployment",
  "v1/Service": "kubernetes-models/v1/Service",
  "v1/ConfigMap": "kubernetes-models/v1/ConfigMap",
  "autoscaling/v2/HorizontalPodAutoscaler": "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler",
  "policy/v1/PodDisruptionBudget": "kubernetes-models/policy/v1/PodDisruptionBudget",
  "networking.k8s.io/v1/Ingress": "kubernetes-models/networking.k8s.io/v1/Ingress",
};

/** kustomize build of a folder under deploy/kubernetes, as parsed objects. */
function render(folder: string): K8sObject[] {
  return parseAllDocuments(kustomizeBuild(folder)).map((doc) => doc.toJS() as K8sObject);
}

/** Validates against the API schema of its kind; throws with the schema's complaint. */
function validate(object: K8sObject): void {
  const module = MODELS[`${object.apiVersion}/${object.kind}`];
  if (module === undefined) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  const Model = require(module)[object.kind] as new (data: unknown) => { validate(): void };
  new Model(object).validate();
}

const one = (objects: K8sObject[], kind: string): K8sObject => {
  const found = objects.filter((o) => o.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};

const base = render("base");
const withIngress = render("overlays/ingress-tls");
const deployment = one(base, "Deployment");
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const configMap = one(base, "ConfigMap");
const settings = configMap.data!;
const portNamed = (name: string): number =>
  container.ports.find((p: { name: string }) => p.name === name)?.containerPort;
const preStopSeconds = (): number => {
  const command = container.lifecycle.preStop.exec.command as string[];
  expect(command[0]).toBe("sleep");
  return Number(command[1]);
};

describe("deploy/kubernetes renders and validates", () => {
  it("has the objects of a kustomize base, each valid against the Kubernetes API schemas", () => {
    expect(base.map((o) => o.kind).sort()).toEqual([
      "ConfigMap",
      "Deployment",
      "HorizontalPodAutoscaler",
      "PodDisruptionBudget",
      "Service",
    ]);
    expect(withIngress.map((o) => o.kind).sort()).toEqual([
      "ConfigMap",
      "Deployment",
      "HorizontalPodAutoscaler",
      "Ingress",
      "PodDisruptionBudget",
      "Service",
    ]);
    for (const object of withIngress)
      expect(() => validate(object), `${object.kind} ${object.metadata.name}`).not.toThrow();
  });

  it("the schema check is real: a wrong type or a missing field is refused", () => {
    const broken = structuredClone(deployment);
    broken.spec.replicas = "three";
    expect(() => validate(broken)).toThrow(/replicas must be integer/);
    const noContainers = structuredClone(deployment);
    delete noContainers.spec.template.spec.containers;
    expect(() => validate(noContainers)).toThrow(/containers/);
  });
});

describe("the manifests agree with the server", () => {
  let server: TestHttpServer;
  beforeAll(async () => {
    server = await startTestHttpServer({ ...settings, PORT: "0", METRICS_PORT: "" });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("configures only settings config.ts reads, with values it accepts, and nothing secret", () => {
    expect(Object.keys(settings).filter((name) => !ENV_NAMES.includes(name))).toEqual([]);
    const config = loadConfig(settings);
    expect(config.transport).toBe("http");
    expect(config.metricsPort).toBe(portNamed("metrics"));
    expect(config.port).toBe(portNamed("http"));
    for (const secret of ["PILOT_STATUS_API_KEY", "PILOT_STATUS_API_KEY_ID"])
      expect(settings).not.toHaveProperty(secret);
    expect(JSON.stringify(withIngress)).not.toMatch(/ps_(live|test)_/);
    // The container takes the ConfigMap kustomize generated (its name carries the content hash) and an optional Secret.
    expect(container.envFrom).toEqual([
      { configMapRef: { name: configMap.metadata.name } },
      { secretRef: { name: "pilot-status-mcp-secrets", optional: true } },
    ]);
  });

  it("probes real endpoints on a real port: /health for liveness and start-up, /ready for readiness", async () => {
    for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
      const { path, port } = container[probe].httpGet;
      expect(portNamed(port), `${probe} port ${port}`).toBe(loadConfig(settings).port);
      expect((await request(server.url).get(path)).status, `${probe} ${path}`).toBe(200);
    }
    expect(container.readinessProbe.httpGet.path).toBe("/ready");
    expect(container.livenessProbe.httpGet.path).toBe("/health");
    // Prometheus is pointed at the metrics port and path the server serves.
    const annotations = deployment.spec.template.metadata.annotations;
    expect(Number(annotations["prometheus.io/port"])).toBe(loadConfig(settings).metricsPort);
    expect(annotations["prometheus.io/path"]).toBe("/metrics");
  });

  it("gives a stopping replica time for the pre-stop pause and the whole drain", () => {
    const graceMs = loadConfig(settings).shutdownGraceMs;
    // The kubelet counts the grace period from the start of preStop; after the drain the server closes idle
    // connections after a quiet second.
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(preStopSeconds() * 1000 + graceMs + 1000);
    // The pause outlasts a readiness period, so the endpoint is gone from every balancer before SIGTERM.
    expect(preStopSeconds()).toBeGreaterThanOrEqual(
      container.readinessProbe.periodSeconds * container.readinessProbe.failureThreshold,
    );
  });

  it("runs as the image's non-root user, read-only, without capabilities", () => {
    const dockerfile = readFileSync(new URL("../Dockerfile", import.meta.url), "utf8");
    expect(dockerfile).toMatch(/^USER node$/m); // uid 1000 in the official node images
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(container.image).toBe(`pilot-status/mcp-server:${pkg.version}`);
    expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources.limits.memory).toBeDefined();
  });

  it("rolls out without losing capacity, and the Service, autoscaler and budget find the pods", () => {
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    const podLabels = deployment.spec.template.metadata.labels;
    const selects = (selector: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    expect(selects(deployment.spec.selector.matchLabels)).toBe(true);
    const service = one(base, "Service");
    expect(selects(service.spec.selector)).toBe(true);
    for (const port of service.spec.ports) expect(portNamed(port.targetPort), port.name).toBeDefined();
    const hpa = one(base, "HorizontalPodAutoscaler");
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: deployment.metadata.name,
    });
    expect(hpa.spec.minReplicas).toBe(deployment.spec.replicas);
    expect(hpa.spec.metrics[0].resource.name).toBe("cpu");
    const pdb = one(base, "PodDisruptionBudget");
    expect(selects(pdb.spec.selector.matchLabels)).toBe(true);
    expect(pdb.spec.maxUnavailable).toBeLessThan(deployment.spec.replicas);
  });

  it("the Ingress example terminates TLS, routes only the public port, and never retries a request already sent", () => {
    const ingress = one(withIngress, "Ingress");
    const service = one(withIngress, "Service");
    const rule = ingress.spec.rules[0];
    expect(ingress.spec.tls[0].hosts).toEqual([rule.host]);
    const backend = rule.http.paths[0].backend.service;
    expect(backend).toEqual({ name: service.metadata.name, port: { name: "http" } });
    expect(service.spec.ports.find((p: { name: string }) => p.name === "http").targetPort).toBe("http");
    const annotations = ingress.metadata.annotations!;
    expect(annotations["nginx.ingress.kubernetes.io/proxy-next-upstream"]).toBe("error timeout");
    expect(JSON.stringify(annotations)).not.toContain("non_idempotent");
    expect(Number(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) * 1000).toBeGreaterThan(
      loadConfig(settings).timeoutMs,
    );
    expect(new URL(settings.MCP_RESOURCE_URL!).host).toBe(rule.host);
  });
});
