#!/usr/bin/env bash
# A/B of the edge's own CPU per request: two builds of the edge (A = $BASE_DIST, B = this tree's dist/) and the
# ten-line Node proxy, same upstream, runs interleaved (A, B, minimal, A, B, minimal, …) so that a shared,
# noisy machine disturbs all three alike. Prints CPU-microseconds per request of each run and the medians.
# Usage: BASE_DIST=/tmp/edge-ab/dist-base bash bench/edge/ab.sh
#        (env: A_ENV= B_ENV= ROUNDS=5 DURATION=4s CONNECTIONS=50 WORKERS=1 MIN_WORKERS=1 MIX=1 PROF=0; ports 19081-19085
#        on 127.0.0.1). MIN_WORKERS=$WORKERS runs the minimal proxy as that many processes too (the floor at equal workers).
# PROF=1 runs B under `node --cpu-prof` (profiles in $WORK/prof, kept) instead of measuring.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BASE_DIST=${BASE_DIST:?BASE_DIST names the baseline build}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-4s}
CONNECTIONS=${CONNECTIONS:-50}
WORKERS=${WORKERS:-1}
MIN_WORKERS=${MIN_WORKERS:-1}
MIX=${MIX:-1}
PROF=${PROF:-0}
# Extra environment for A or B alone, e.g. A_ENV=BENCH_NO_LOG=1 (what the access log costs); B_NODE_ARGS: Node/V8
# flags for B alone (e.g. --single-threaded-gc; workers inherit them).
A_ENV=${A_ENV:-}
B_ENV=${B_ENV:-}
B_NODE_ARGS=${B_NODE_ARGS:-}
WORK=$(mktemp -d /tmp/palisade-bench-ab.XXXXXX)
UP_PORT=19081 A_PORT=19082 B_PORT=19083 MIN_PORT=19085
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$WORK/up/nginx.pid" ] && kill "$(cat "$WORK/up/nginx.pid")" 2>/dev/null || true
  sleep 0.5
  [ "$PROF" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/up" "$WORK/prof"
USER_LINE=''
[ "$(id -u)" = 0 ] && USER_LINE='user root;'
cat >"$WORK/up/nginx.conf" <<CONF
$USER_LINE
worker_processes 1;
pid $WORK/up/nginx.pid;
error_log $WORK/up/error.log warn;
events { worker_connections 4096; }
http {
  client_body_temp_path $WORK/up/body; proxy_temp_path $WORK/up/proxy; fastcgi_temp_path $WORK/up/fcgi;
  uwsgi_temp_path $WORK/up/uwsgi; scgi_temp_path $WORK/up/scgi;
  access_log off;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$UP_PORT;
    location / { default_type application/json; return 200 '{"ok":true,"service":"bench-upstream"}'; }
  }
}
CONF
nginx -c "$WORK/up/nginx.conf" -p "$WORK/up" -e "$WORK/up/error.log"

PROF_ARGS=()
[ "$PROF" = 1 ] && PROF_ARGS=(--cpu-prof --cpu-prof-dir "$WORK/prof")
(cd "$ROOT" && BENCH_WORKERS=$WORKERS BENCH_DIST=$BASE_DIST exec env $A_ENV node --import tsx bench/edge/edge-server.ts "$A_PORT" "$UP_PORT" "$WORK/a.log") &
A_PID=$!
PIDS+=($A_PID)
(cd "$ROOT" && BENCH_WORKERS=$WORKERS exec env $B_ENV node "${PROF_ARGS[@]}" $B_NODE_ARGS --import tsx bench/edge/edge-server.ts "$B_PORT" "$UP_PORT" "$WORK/b.log") &
B_PID=$!
PIDS+=($B_PID)
(cd "$ROOT" && BENCH_WORKERS=$MIN_WORKERS exec node --import tsx bench/edge/minimal-proxy.ts "$MIN_PORT" "$UP_PORT") &
MIN_PID=$!
PIDS+=($MIN_PID)
for port in $UP_PORT $A_PORT $B_PORT $MIN_PORT; do
  for _ in $(seq 1 300); do
    curl -s -o /dev/null -H 'Host: bench.localhost' "http://127.0.0.1:$port/" && break
    sleep 0.1
  done
done

HDRS=(-H 'Host: bench.localhost' -H 'User-Agent: wrk/bench' -H 'Accept: */*')
[ "$MIX" = 1 ] && HDRS=(-s "$ROOT/bench/edge/mix.lua")
ticks() { local sum=0; for pid in $1; do sum=$((sum + $(awk '{ print $14 + $15 }' "/proc/$pid/stat"))); done; echo "$sum"; }
pids_of() { echo "$1 $(pgrep -P "$1" | tr '\n' ' ')"; }
run() { # $1 = port, $2 = root pid → CPU µs per request
  local pids before after out n
  pids=$(pids_of "$2")
  before=$(ticks "$pids")
  out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" "${HDRS[@]}" "http://127.0.0.1:$1/")
  after=$(ticks "$pids")
  n=$(echo "$out" | awk '/requests in/ { print $1 }')
  echo "$out" | grep -q 'Non-2xx' && echo "warning: non-2xx answers on port $1" >&2
  awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }'
}
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

if [ "$PROF" = 1 ]; then
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" "${HDRS[@]}" "http://127.0.0.1:$B_PORT/" | grep -E 'Requests/sec|Non-2xx'
  kill -INT "$B_PID"
  sleep 2
  echo "profiles: $WORK/prof"
  exit 0
fi
# warm-up (JIT) of all three
for port in $A_PORT $B_PORT $MIN_PORT; do wrk -t2 -c"$CONNECTIONS" -d2s "${HDRS[@]}" "http://127.0.0.1:$port/" >/dev/null; done
AS='' BS='' MS=''
echo "| round | A (base) µs/req | B (this tree) µs/req | minimal proxy µs/req |"
echo "| --- | ---: | ---: | ---: |"
for round in $(seq 1 "$ROUNDS"); do
  a=$(run $A_PORT $A_PID)
  b=$(run $B_PORT $B_PID)
  m=$(run $MIN_PORT $MIN_PID)
  AS="$AS $a" BS="$BS $b" MS="$MS $m"
  echo "| $round | $a | $b | $m |"
done
am=$(echo "$AS" | median) bm=$(echo "$BS" | median) mm=$(echo "$MS" | median)
echo
echo "medians: A $am, B $bm, minimal $mm µs/req; A/minimal $(awk -v a="$am" -v m="$mm" 'BEGIN{printf "%.2f", a/m}'), B/minimal $(awk -v b="$bm" -v m="$mm" 'BEGIN{printf "%.2f", b/m}')"
