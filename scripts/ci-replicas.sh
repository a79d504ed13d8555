#!/usr/bin/env bash
# Three replicas behind a real nginx, one stopped mid-load: no request may fail and no message may be sent twice.
#
# Runs deploy/nginx.conf itself, with only the replica addresses, the listen address and the file paths rewritten
# to loopback and a temporary folder. Needs a build (npm run build) and root (nginx is installed with apt-get when
# missing, and started as root). Everything listens on 127.0.0.1; every process it starts is stopped on exit.
#
# Ports (override with the environment): replicas 18781-18783, nginx 18780, fake upstream 18790.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"

LB_PORT="${LB_PORT:-18780}"
UPSTREAM_PORT="${UPSTREAM_PORT:-18790}"
REPLICA_PORTS=("${REPLICA1_PORT:-18781}" "${REPLICA2_PORT:-18782}" "${REPLICA3_PORT:-18783}")
STOP_INDEX=1 # the second replica is the one stopped mid-run

say() { printf '[ci-replicas] %s\n' "$*" >&2; }
die() {
  printf '[ci-replicas] FAILED: %s\n' "$*" >&2
  exit 1
}

[[ -f dist/pilot-status-mcp.mjs ]] || die "dist/pilot-status-mcp.mjs is missing: run npm run build first"
[[ -f deploy/nginx.conf ]] || die "deploy/nginx.conf is missing"

# ---- nginx, the Debian package ----
if ! command -v nginx >/dev/null 2>&1 && [[ ! -x /usr/sbin/nginx ]]; then
  say "nginx is not installed: installing the Debian package with apt-get"
  [[ "$(id -u)" == "0" ]] || die "nginx is not installed and this is not root, so apt-get cannot install it (run as root or install nginx)"
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx; } >&2; then
    die "apt-get could not install nginx (no network or no Debian mirror?); the replica test cannot run without it"
  fi
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
[[ -x "$NGINX" ]] || die "nginx was installed but no nginx binary was found"
say "using $("$NGINX" -v 2>&1)"

TMP="$(mktemp -d /tmp/ci-replicas.XXXXXX)"
chmod 755 "$TMP" # nginx workers (an unprivileged user) create their temp files below it
PIDS=()
NGINX_PID=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n "$NGINX_PID" ]] && kill -0 "$NGINX_PID" 2>/dev/null; then kill -QUIT "$NGINX_PID" 2>/dev/null || true; fi
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  # Give them a moment, then make sure.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    local alive=0
    for pid in "${PIDS[@]}" ${NGINX_PID:+"$NGINX_PID"}; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.2
  done
  for pid in "${PIDS[@]}" ${NGINX_PID:+"$NGINX_PID"}; do kill -KILL "$pid" 2>/dev/null || true; done
  if [[ $status != 0 ]]; then
    say "logs kept in $TMP"
    for f in "$TMP"/*.log; do
      [[ -s "$f" ]] || continue
      say "--- tail of $(basename "$f")"
      tail -n 20 "$f" >&2 || true
    done
  else
    rm -rf "$TMP"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_http() { # url, what
  for _ in $(seq 1 100); do
    if node -e "fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "$2 did not answer at $1"
}

# ---- fake upstream ----
node scripts/fake-upstream.mjs "$UPSTREAM_PORT" >"$TMP/upstream.log" 2>&1 &
PIDS+=("$!")
UPSTREAM_URL="http://127.0.0.1:$UPSTREAM_PORT"
wait_http "$UPSTREAM_URL/__stats" "the fake upstream"

# ---- three replicas, each with its own upstream path prefix so the upstream can tell them apart ----
REPLICA_PIDS=()
for i in 0 1 2; do
  n=$((i + 1))
  env -i PATH="$PATH" HOME="${HOME:-/root}" \
    PORT="${REPLICA_PORTS[$i]}" HOST=127.0.0.1 LOG_LEVEL=warn \
    PILOT_STATUS_API_URL="$UPSTREAM_URL/r$n" \
    node "$ROOT/dist/pilot-status-mcp.mjs" http >"$TMP/replica$n.log" 2>&1 &
  REPLICA_PIDS+=("$!")
  PIDS+=("$!")
done
for i in 0 1 2; do wait_http "http://127.0.0.1:${REPLICA_PORTS[$i]}/health" "replica $((i + 1))"; done

# ---- nginx: deploy/nginx.conf, rewritten to loopback and $TMP ----
CONF="$TMP/nginx.conf"
node scripts/lib/nginx-conf.mjs "$TMP" "$LB_PORT" "${REPLICA_PORTS[@]}" >"$CONF"
for want in "pid $TMP/nginx.pid;" "access_log $TMP/access.log mcp;" "listen 127.0.0.1:$LB_PORT;" \
  "server 127.0.0.1:${REPLICA_PORTS[0]}" "server 127.0.0.1:${REPLICA_PORTS[1]}" "server 127.0.0.1:${REPLICA_PORTS[2]}" \
  "proxy_next_upstream error timeout;" "proxy_temp_path $TMP/proxy;"; do
  grep -qF "$want" "$CONF" || die "deploy/nginx.conf no longer has the shape this script rewrites (missing: $want)"
done
if grep -qE '^\s*proxy_next_upstream\s[^;]*non_idempotent' "$CONF"; then die "deploy/nginx.conf retries non-idempotent requests: a retried send would message someone twice"; fi
if grep -qE "mcp-[0-9]:8787|/var/log/nginx" "$CONF"; then die "deploy/nginx.conf still names a compose host or a system path after rewriting"; fi
"$NGINX" -t -q -p "$TMP" -e "$TMP/error.log" -c "$CONF" || die "nginx rejects the configuration ($CONF)"
"$NGINX" -p "$TMP" -e "$TMP/error.log" -c "$CONF" &
NGINX_PID="$!"
LB_URL="http://127.0.0.1:$LB_PORT"
wait_http "$LB_URL/health" "nginx"
say "3 replicas on 127.0.0.1:${REPLICA_PORTS[*]} behind nginx on $LB_URL; upstream $UPSTREAM_URL"

# ---- the load; a quarter of the way through, the second replica gets a rolling restart ----
# As an operator would: mark it down in nginx and reload, SIGTERM it (it drains and exits 0), then put its address
# back while it is dead, so nginx meets a refused connection and must retry those requests on the others.
STOP_PID="${REPLICA_PIDS[$STOP_INDEX]}"
STOP_SERVER="server 127.0.0.1:${REPLICA_PORTS[$STOP_INDEX]}"
cp "$CONF" "$TMP/nginx.all.conf"
sed -e "s#^\(\s*$STOP_SERVER[^;]*\);#\1 down;#" "$CONF" >"$TMP/nginx.down.conf"
grep -qE "$STOP_SERVER[^;]* down;" "$TMP/nginx.down.conf" || die "could not mark the stopped replica down in the nginx configuration"
RELOAD="\"$NGINX\" -q -p \"$TMP\" -e \"$TMP/error.log\" -c \"$CONF\" -s reload"
set +e
LB_URL="$LB_URL" UPSTREAM_URL="$UPSTREAM_URL" STOP_PID="$STOP_PID" ACCESS_LOG="$TMP/access.log" \
  BALANCER_DOWN_CMD="cp '$TMP/nginx.down.conf' '$CONF' && $RELOAD" \
  BALANCER_UP_CMD="cp '$TMP/nginx.all.conf' '$CONF' && $RELOAD" \
  node scripts/replicas-load.mjs >"$TMP/summary.json"
LOAD_STATUS=$?
set -e
cat "$TMP/summary.json"

# ---- the stopped replica drained and exited 0; the others are still serving ----
STOP_STATUS=""
for _ in $(seq 1 150); do
  if ! kill -0 "$STOP_PID" 2>/dev/null; then break; fi
  sleep 0.1
done
if kill -0 "$STOP_PID" 2>/dev/null; then
  STOP_STATUS="still running 15 s after SIGTERM"
else
  set +e
  wait "$STOP_PID"
  STOP_STATUS=$?
  set -e
fi
ALIVE=0
for i in 0 1 2; do
  [[ $i == "$STOP_INDEX" ]] && continue
  kill -0 "${REPLICA_PIDS[$i]}" 2>/dev/null && ALIVE=$((ALIVE + 1))
done
REFUSED=$(grep -c "Connection refused" "$TMP/error.log" || true)

say "summary: load checks $([[ $LOAD_STATUS == 0 ]] && echo passed || echo FAILED); stopped replica exit status: $STOP_STATUS;" \
  "replicas still serving: $ALIVE/2; nginx connection errors to the stopped replica (each retried): $REFUSED"
[[ $LOAD_STATUS == 0 ]] || die "the load checks failed (see the summary above)"
[[ "$STOP_STATUS" == "0" ]] || die "the stopped replica did not exit 0 ($STOP_STATUS); its log: $(tail -n 5 "$TMP/replica$((STOP_INDEX + 1)).log")"
[[ $ALIVE == 2 ]] || die "a replica that was not stopped has exited"
wait_http "$LB_URL/health" "nginx after the stop"
say "passed: no request failed, every send reached the upstream exactly once, the stopped replica drained and exited 0"

# ---- A Kubernetes rolling update of deploy/kubernetes/base, replayed against real processes behind this nginx ----
say "replaying a Kubernetes rolling update (scripts/kube-rollout.mjs)"
NGINX_BIN="$NGINX" node scripts/kube-rollout.mjs >"$TMP/rollout.json" || {
  cat "$TMP/rollout.json" >&2
  die "the rolling-update replay failed (see its summary above)"
}
node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.error(`[ci-replicas] rollout: ${s.requests} requests, statuses ${JSON.stringify(s.httpStatuses)}, sends once ${s.sendsReachedApiExactlyOnce}, rollout ${s.rolloutMs} ms, old pods exited ${s.oldPods.map(p=>p.exit.code).join("/")}`)' "$TMP/rollout.json"
say "passed: the rolling update lost no request; readiness turned 503 on SIGTERM; every old pod drained and exited 0"
