#!/usr/bin/env bash
# Runs the official MCP conformance scenarios against the built server on 127.0.0.1.
# The scenarios send no credentials, so the server gets a fallback key (DECISIONS #7); no scenario calls a tool
# upstream, so the API URL points at a closed port.
set -euo pipefail
cd "$(dirname "$0")/.."

port="${CONFORMANCE_PORT:-18787}"
log="$(mktemp)"
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
  out="$(npx --no-install conformance server --url "http://127.0.0.1:$port/mcp" --scenario "$scenario" 2>&1)" || status=1
  echo "$out" | grep -E "SUCCESS|FAIL|WARN|Passed:" || true
  echo "$out" | grep -q " 0 failed" || { echo "conformance scenario $scenario failed:"; echo "$out"; status=1; }
done
[ "$status" -eq 0 ] || { echo "server log:"; cat "$log"; }
exit "$status"
