#!/usr/bin/env bash
# Instructions one tools/call costs a server, counted by valgrind rather than timed (docs/decisions.md #49): on a
# shared VM the count repeats to within 0.5% while CPU time per request moves by a third. Not part of npm test
# or the bench; it needs valgrind (Debian: apt-get install valgrind) and a build (npm run build).
#
# usage: bench/instructions.sh [ours|floor] [message_get|messages_send|message_get_2026] [calls]
# prints: instructions per call on the server's main thread, and on all its threads (GC and compiler included)
set -euo pipefail
cd "$(dirname "$0")/.."
WHO=${1:-ours}
KEY=${2:-message_get}
CALLS=${3:-2000}
WARMUP=6000
UP_PORT=${UP_PORT:-9311}
PORT=${PORT:-9312}
OUT=$(mktemp -d)
trap 'kill "${SERVER:-}" "${UPSTREAM:-}" 2>/dev/null || true; rm -rf "$OUT"' EXIT

# The scenario's request, exactly as the bench sends it, one autocannon argument per line.
mapfile -t LOAD < <(node --import tsx --input-type=module -e '
  const { SCENARIOS } = await import("./bench/scenarios.ts");
  const s = SCENARIOS.find((s) => s.key === process.argv[1]);
  if (s === undefined) throw new Error(`no scenario ${process.argv[1]}: ${SCENARIOS.map((s) => s.key).join(", ")}`);
  for (const [name, value] of Object.entries(s.headers)) console.log("-H\n" + `${name}=${value}`);
  console.log("-b\n" + s.body);
' "$KEY")
[ "${#LOAD[@]}" -gt 0 ] || exit 2

PORT=$UP_PORT node --import tsx bench/fake-upstream.ts >/dev/null 2>&1 &
UPSTREAM=$!
# callgrind_control finds a process by a file named after HOST, so HOST is the same for both.
export HOST=127.0.0.1
VALGRIND=(valgrind --tool=callgrind --smc-check=all-non-file --separate-threads=yes --dump-instr=no
  "--callgrind-out-file=$OUT/cg.%p")
if [ "$WHO" = floor ]; then
  PORT=$PORT PILOT_STATUS_API_URL=http://127.0.0.1:$UP_PORT "${VALGRIND[@]}" node --import tsx bench/floor-forwarder.ts \
    2>"$OUT/valgrind.log" &
else
  PORT=$PORT LOG_LEVEL=warn PILOT_STATUS_API_URL=http://127.0.0.1:$UP_PORT "${VALGRIND[@]}" node dist/pilot-status-mcp.mjs http \
    2>"$OUT/valgrind.log" &
fi
SERVER=$!
URL=http://127.0.0.1:$PORT/mcp
for _ in $(seq 180); do
  if curl -s -o /dev/null -X POST "$URL"; then break; fi
  sleep 1
done

AUTOCANNON=(node_modules/.bin/autocannon -c 32 -m POST -t 60 "${LOAD[@]}")
"${AUTOCANNON[@]}" -a "$WARMUP" "$URL" >/dev/null 2>&1
callgrind_control -z "$SERVER" >/dev/null
"${AUTOCANNON[@]}" -a "$CALLS" --json "$URL" 2>/dev/null >"$OUT/load.json"
callgrind_control -d "$SERVER" >/dev/null
kill -INT "$SERVER"
wait "$SERVER" 2>/dev/null || true

node -e '
  const { readFileSync, readdirSync } = require("node:fs");
  const [dir, calls, who, key] = process.argv.slice(1);
  const load = JSON.parse(readFileSync(`${dir}/load.json`, "utf8"));
  if (load["2xx"] !== Number(calls)) { console.error(`only ${load["2xx"]} of ${calls} calls answered 2xx`); process.exit(1); }
  // The dump after the measured calls is part 1; one file per thread, thread 1 first.
  const files = readdirSync(dir).filter((f) => /^cg\.\d+\.1-\d+$/.test(f)).sort();
  const total = (f) => Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(`${dir}/${f}`, "utf8"))?.[1] ?? 0);
  const main = total(files[0]);
  const all = files.reduce((sum, f) => sum + total(f), 0);
  const per = (n) => Math.round(n / Number(calls)).toLocaleString("en-US");
  console.log(`${who} ${key}: ${per(main)} instructions per call on the main thread, ${per(all)} on all threads`);
' "$OUT" "$CALLS" "$WHO" "$KEY"
