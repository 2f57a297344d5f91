#!/usr/bin/env bash
# What the monitor's per-request work costs the edge, measured as `palisade serve` does it (edge worker → supervisor →
# control plane, bench/monitor/pipeline.ts) with the feed switched on and off in the SAME processes, in short windows
# alternating on/off, off/on (ABBA), so that a noisy shared machine disturbs both halves of each pair alike.
# Reports per pair the CPU per request of the three processes together and the rate, then the median ratio and a
# bootstrap 95 % interval of the mean cost.
# Usage: bash bench/monitor/pipeline-ab.sh   (env: PAIRS=30 WINDOW=3s CONNECTIONS=32 FEED=kept|followed|metrics; ports 18195-18196)
# FEED=kept (default) is serve with nobody following the environment: counters, and each line kept in the worker's
# ring for `palisade logs`; FEED=followed: someone follows it, every line travels to the control plane;
# FEED=metrics: the counters alone.
# Needs wrk and node 20; builds dist/ first (the compiled modules serve runs).
set -euo pipefail
PAIRS=${PAIRS:-30}
WINDOW=${WINDOW:-3s}
CONNECTIONS=${CONNECTIONS:-32}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/palisade-bench-pipe.XXXXXX)
UP=18195 EDGE=18196
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 1; rm -rf "$WORK"; }
trap cleanup EXIT
cd "$ROOT"
npm run build --silent >/dev/null
node --import tsx bench/monitor/upstream.ts $UP >"$WORK/up.log" 2>&1 & PIDS+=($!)
BENCH_FEED=${FEED:-kept} node --import tsx bench/monitor/pipeline.ts $EDGE $UP >"$WORK/pipe.out" 2>"$WORK/access.log" & PIDS+=($!)
for _ in $(seq 1 300); do grep -q '^pids' "$WORK/pipe.out" 2>/dev/null && break; sleep 0.1; done
read -r _ CONTROL RELAY WORKER < <(grep '^pids' "$WORK/pipe.out") || { echo "the pipeline did not start" >&2; cat "$WORK/pipe.out" "$WORK/access.log" >&2; exit 1; }
# CPU ticks of the three processes together, then of the worker alone.
cpu() { for p in $CONTROL $RELAY $WORKER; do awk '{ print $14 + $15 }' "/proc/$p/stat"; done | awk '{ s += $1; w = $1 } END { print s, w }'; }
HZ=$(getconf CLK_TCK)
per_request() { awk -v t="$1" -v hz="$HZ" -v n="$2" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }'; }
window() { # $1 = on|off → "rate us_per_request requests worker_us_per_request"
  if [ "$1" = on ]; then kill -USR1 "$WORKER"; else kill -USR2 "$WORKER"; fi
  sleep 0.6 # the last batch of the other half (flushed every 250 ms) is counted before the window opens
  local before after out rate total wb wa
  read -r before wb < <(cpu)
  out=$(wrk -t1 -c"$CONNECTIONS" -d"$WINDOW" -H 'Host: bench.localhost' "http://127.0.0.1:$EDGE/")
  sleep 0.6 # and this half's last batch is counted inside it
  read -r after wa < <(cpu)
  rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  [ -n "$rate" ] && [ -n "$total" ] || { echo "wrk reported no rate ($1)" >&2; return 1; }
  echo "$rate $(per_request $((after - before)) "$total") $total $(per_request $((wa - wb)) "$total")"
}
wrk -t1 -c"$CONNECTIONS" -d5s -H 'Host: bench.localhost' "http://127.0.0.1:$EDGE/" >/dev/null # warm-up, feed on
: >"$WORK/pairs"
on_total=0
for i in $(seq 1 "$PAIRS"); do
  if ((i % 2)); then read -r r1 c1 n1 w1 < <(window on); read -r r0 c0 n0 w0 < <(window off)
  else read -r r0 c0 n0 w0 < <(window off); read -r r1 c1 n1 w1 < <(window on); fi
  on_total=$((on_total + n1))
  echo "$r0 $c0 $r1 $c1" >>"$WORK/pairs"
  printf 'pair %2d: off %8s req/s %7s us/req (worker %7s) | on %8s req/s %7s us/req (worker %7s)\n' \
    "$i" "$r0" "$c0" "$w0" "$r1" "$c1" "$w1"
done
node -e '
const pairs = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split(" ").map(Number))
const cpu = pairs.map(([, c0, , c1]) => c1 / c0 - 1), rate = pairs.map(([r0, , r1]) => 1 - r1 / r0)
const median = (a) => { const s = [...a].sort((x, y) => x - y), m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }
const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length
let seed = 12345; const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
const ci = (a) => { const m = []; for (let k = 0; k < 5000; k++) m.push(mean(a.map(() => a[Math.floor(rnd() * a.length)]))); m.sort((x, y) => x - y); return [m[125], m[4874]] }
const pct = (x) => (x * 100).toFixed(1) + " %"
for (const [name, a] of [["CPU per request", cpu], ["rate", rate]]) {
  const [lo, hi] = ci(a)
  console.log(`${name}: cost median ${pct(median(a))}, mean ${pct(mean(a))}, 95 % interval of the mean [${pct(lo)}, ${pct(hi)}] over ${a.length} pairs`)
}' "$WORK/pairs"
kill "${PIDS[1]}"; wait "${PIDS[1]}" 2>/dev/null || true
counted=$(awk '/^counted/ {print $2}' "$WORK/pipe.out")
followed=$(awk '/^followed/ {print $2}' "$WORK/pipe.out")
echo "the monitor counted $counted requests, the follower got $followed lines; the on windows sent $on_total (the warm-up's are counted too)"
