#!/usr/bin/env bash
# Instructions one tools/call costs a server, counted by valgrind rather than timed (docs/decisions.md #49): on a
# shared VM settled counts agree within 1-2% while CPU time per request moves by a third. Not part of npm test;
# `npm run bench` runs it for ours and the floor when valgrind is installed (Debian: apt-get install valgrind).
# It needs a build (npm run build). Run one at a time: a server slowed by another beside it counts more.
#
# usage: bench/instructions.sh [ours|floor] [scenario ...]   (scenarios: message_get (the default), messages_send,
#        message_get_2026; CALLS=2000 counted per turn, WARMUP=6000, REPEAT=3)
# Every scenario runs against one server process: each is warmed up in turn, the process is left idle a few
# seconds (under valgrind its compiler threads only run when the main thread waits), then the scenarios are
# counted in turn, REPEAT times over (the counters zeroed before and dumped after each turn). A variant and its
# legacy call are so priced in one process with the same compiled code, as a server that serves both eras runs.
# A turn whose window held a major GC, or a young generation still growing, counts more: each scenario's figure is
# its least turn (docs/decisions.md #50).
# prints, per scenario: instructions per call on the server's main thread, and on all its threads in that turn
# (GC helpers and the compiler included), then every turn's main-thread figure
set -euo pipefail
cd "$(dirname "$0")/.."
WHO=${1:-ours}
shift || true
KEYS=("$@")
[ "${#KEYS[@]}" -gt 0 ] || KEYS=(message_get)
CALLS=${CALLS:-2000}
WARMUP=${WARMUP:-6000}
REPEAT=${REPEAT:-3}
UP_PORT=${UP_PORT:-9311}
PORT=${PORT:-9312}
OUT=$(mktemp -d)
trap 'kill "${SERVER:-}" "${UPSTREAM:-}" 2>/dev/null || true; rm -rf "$OUT"' EXIT

# Each scenario's request, exactly as the bench sends it: one autocannon argument per line, in $OUT/<scenario>.args.
for KEY in "${KEYS[@]}"; do
  node --import tsx --input-type=module -e '
    const { SCENARIOS } = await import("./bench/scenarios.ts");
    const s = SCENARIOS.find((s) => s.key === process.argv[1]);
    if (s === undefined) throw new Error(`no scenario ${process.argv[1]}: ${SCENARIOS.map((s) => s.key).join(", ")}`);
    for (const [name, value] of Object.entries(s.headers)) console.log("-H\n" + `${name}=${value}`);
    console.log("-b\n" + s.body);
  ' "$KEY" >"$OUT/$KEY.args"
  [ -s "$OUT/$KEY.args" ] || exit 2
done
load() { # scenario, calls, [autocannon flags...]
  local key=$1 calls=$2
  shift 2
  local args
  mapfile -t args <"$OUT/$key.args"
  node_modules/.bin/autocannon -c 32 -m POST -t 60 "${args[@]}" -a "$calls" "$@" "$URL"
}

PORT=$UP_PORT node --import tsx bench/fake-upstream.ts >/dev/null 2>&1 &
UPSTREAM=$!
# callgrind_control finds a process by a file named after HOST, so HOST is the same for both.
export HOST=127.0.0.1
VALGRIND=(valgrind --tool=callgrind --smc-check=all-non-file --separate-threads=yes --dump-instr=no
  "--callgrind-out-file=$OUT/cg.%p")
if [ "$WHO" = floor ]; then
  # FLOOR_JS: the floor as the bench runs it, transpiled to plain ESM (npm run bench passes it); else through tsx.
  if [ -n "${FLOOR_JS:-}" ]; then FLOOR=(node "$FLOOR_JS"); else FLOOR=(node --import tsx bench/floor-forwarder.ts); fi
  PORT=$PORT PILOT_STATUS_API_URL=http://127.0.0.1:$UP_PORT "${VALGRIND[@]}" "${FLOOR[@]}" 2>"$OUT/valgrind.log" &
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

for KEY in "${KEYS[@]}"; do load "$KEY" "$WARMUP" >/dev/null 2>&1; done
sleep 5
TURN=0
for _ in $(seq "$REPEAT"); do
  for KEY in "${KEYS[@]}"; do
    TURN=$((TURN + 1))
    callgrind_control -z "$SERVER" >/dev/null
    load "$KEY" "$CALLS" --json 2>/dev/null >"$OUT/turn-$TURN.json"
    callgrind_control -d "$SERVER" >/dev/null
  done
done
kill -INT "$SERVER"
wait "$SERVER" 2>/dev/null || true

node -e '
  const { readFileSync, readdirSync } = require("node:fs");
  const [dir, calls, repeat, who, ...keys] = process.argv.slice(1);
  const files = readdirSync(dir);
  const total = (f) => Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(`${dir}/${f}`, "utf8"))?.[1] ?? 0);
  /** Turn t (1-based) is dump part t; one file per thread, thread 1 (the main thread) first. */
  const turn = (t, key) => {
    const load = JSON.parse(readFileSync(`${dir}/turn-${t}.json`, "utf8"));
    if (load["2xx"] !== Number(calls)) throw new Error(`${key}: only ${load["2xx"]} of ${calls} calls answered 2xx`);
    const part = files.filter((f) => new RegExp(`^cg\\.\\d+\\.${t}-\\d+$`).test(f)).sort();
    if (part.length === 0) throw new Error(`${key}: no callgrind dump for turn ${t}`);
    return { main: total(part[0]) / Number(calls), all: part.reduce((sum, f) => sum + total(f), 0) / Number(calls) };
  };
  const n = (v) => Math.round(v).toLocaleString("en-US");
  keys.forEach((key, i) => {
    const turns = Array.from({ length: Number(repeat) }, (_, r) => turn(r * keys.length + i + 1, key));
    const least = turns.reduce((a, b) => (b.main < a.main ? b : a));
    console.log(
      `${who} ${key}: ${n(least.main)} instructions per call on the main thread, ${n(least.all)} on all threads` +
        ` (turns: ${turns.map((t) => n(t.main)).join(" ")})`,
    );
  });
' "$OUT" "$CALLS" "$REPEAT" "$WHO" "${KEYS[@]}"
