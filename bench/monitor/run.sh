#!/usr/bin/env bash
# Edge requests per second and CPU per request with the monitor's counters off and on (same upstream, alternating rounds), then the
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
  local out before after
  before=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -H 'Host: bench.localhost' "http://127.0.0.1:$EDGE/")
  after=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local rate total
  rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  [ -n "$rate" ] && [ -n "$total" ] || { echo "wrk reported no rate (metrics $1)" >&2; return 1; }
  # The edge's own CPU time per request: far steadier than the rate on a shared machine.
  echo "$rate $(awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" -v n="$total" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')"
}
off=(); on=(); off_cpu=(); on_cpu=()
for r in $(seq 1 "$ROUNDS"); do
  read -r rate cpu < <(rps off) && off+=("$rate") && off_cpu+=("$cpu")
  read -r rate cpu < <(rps on) && on+=("$rate") && on_cpu+=("$cpu")
  [ "${#on[@]}" -eq "$r" ] && [ "${#off[@]}" -eq "$r" ] || { echo "a measurement failed" >&2; exit 1; }
  echo "round $r: off ${off[-1]} req/s ${off_cpu[-1]} us/req, on ${on[-1]} req/s ${on_cpu[-1]} us/req"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m_off=$(median "${off[@]}"); m_on=$(median "${on[@]}")
c_off=$(median "${off_cpu[@]}"); c_on=$(median "${on_cpu[@]}")
echo "median: metrics off $m_off req/s, on $m_on req/s, cost $(awk -v a="$m_off" -v b="$m_on" 'BEGIN {printf "%.1f", (a-b)/a*100}') %"
echo "median CPU per request: off $c_off us, on $c_on us, cost $(awk -v a="$c_off" -v b="$c_on" 'BEGIN {printf "%.1f", (b-a)/a*100}') %"
node --import tsx bench/monitor/scrape.ts 100
