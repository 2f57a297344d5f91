#!/usr/bin/env bash
# Edge requests per second with the monitor's counters off and on (same upstream, alternating rounds), then the
# /metrics render time with 100 environments. Usage: bash bench/monitor/run.sh  (env: DURATION=8s ROUNDS=3
# CONNECTIONS=32 THREADS=1). Needs wrk (Debian package) and node 20. Uses ports 18191-18193 on 127.0.0.1.
set -euo pipefail
DURATION=${DURATION:-8s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/palisade-bench-mon.XXXXXX)
UP=18191 EDGE=18192
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.3; rm -rf "$WORK"; }
trap cleanup EXIT
cd "$ROOT"
node --import tsx bench/monitor/upstream.ts $UP > "$WORK/up.log" 2>&1 & PIDS+=($!)
rps() { # $1 = on|off
  node --import tsx bench/monitor/edge-server.ts $EDGE $UP "$1" "$WORK/access-$1.log" > "$WORK/edge.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 300); do grep -q listening "$WORK/edge.log" 2>/dev/null && break; sleep 0.1; done
  if ! grep -q listening "$WORK/edge.log" 2>/dev/null; then
    # A port in use or a start error: say so instead of measuring nothing.
    echo "the edge (metrics $1) did not start: $(cat "$WORK/edge.log")" >&2
    kill "$pid" 2>/dev/null || true
    return 1
  fi
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -H 'Host: bench.localhost' "http://127.0.0.1:$EDGE/" > /dev/null # warm-up
  local result
  result=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -H 'Host: bench.localhost' "http://127.0.0.1:$EDGE/" \
    | awk '/Requests\/sec/ {print $2}')
  kill "$pid"; wait "$pid" 2>/dev/null || true
  [ -n "$result" ] || { echo "wrk reported no rate (metrics $1)" >&2; return 1; }
  echo "$result"
}
off=(); on=()
for r in $(seq 1 "$ROUNDS"); do
  off+=("$(rps off)"); on+=("$(rps on)") # a failed measurement stops the script (set -e)
  echo "round $r: off ${off[-1]} req/s, on ${on[-1]} req/s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m_off=$(median "${off[@]}"); m_on=$(median "${on[@]}")
echo "median: metrics off $m_off req/s, on $m_on req/s, cost $(awk -v a="$m_off" -v b="$m_on" 'BEGIN {printf "%.1f", (a-b)/a*100}') %"
node --import tsx bench/monitor/scrape.ts 100
