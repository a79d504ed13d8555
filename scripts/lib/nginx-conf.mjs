#!/usr/bin/env node
// deploy/nginx.conf, rewritten to run on loopback from a temporary folder: the replica list, the listen address and
// the file paths change; every proxy_* rule stays as shipped. Used by scripts/ci-replicas.sh and
// scripts/kube-rollout.mjs, so both test the very file users deploy.
//
//   node scripts/lib/nginx-conf.mjs <tmp dir> <listen port> <replica port>...   prints the configuration
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const TEMPLATE = fileURLToPath(new URL("../../deploy/nginx.conf", import.meta.url));
const REPLICA_LINE = /^(\s*)server mcp-\d+:8787([^;]*);\n/gm;

/** The configuration for `replicaPorts` on 127.0.0.1 behind 127.0.0.1:`listenPort`, with files below `tmp`. */
export function nginxConf(tmp, listenPort, replicaPorts) {
  const template = readFileSync(TEMPLATE, "utf8");
  const lines = [...template.matchAll(REPLICA_LINE)];
  if (lines.length === 0) throw new Error("deploy/nginx.conf has no `server mcp-N:8787 ...;` lines to rewrite");
  const [, indent, params] = lines[0];
  let first = true;
  const servers = template.replace(REPLICA_LINE, () => {
    if (!first) return "";
    first = false;
    return replicaPorts.map((port) => `${indent}server 127.0.0.1:${port}${params};\n`).join("");
  });
  const temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((name) => `    ${name}_temp_path ${tmp}/${name};`)
    .join("\n");
  return `daemon off;\n${servers
    .replace(/^(\s*)pid .*;/m, `$1pid ${tmp}/nginx.pid;`)
    .replace(/^(\s*)error_log .*;/m, `$1error_log ${tmp}/error.log warn;`)
    .replace(/^(\s*)access_log \/var\/log\/nginx\/access.log mcp;/m, `$1access_log ${tmp}/access.log mcp;`)
    .replace(/^(\s*)listen 8080;/m, `$1listen 127.0.0.1:${listenPort};`)
    .replace(/^http \{/m, `http {\n${temps}`)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [tmp, listen, ...ports] = process.argv.slice(2);
  if (tmp === undefined || listen === undefined || ports.length === 0) {
    process.stderr.write("usage: nginx-conf.mjs <tmp dir> <listen port> <replica port>...\n");
    process.exit(2);
  }
  process.stdout.write(nginxConf(tmp, listen, ports));
}
