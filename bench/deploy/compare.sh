#!/usr/bin/env bash
# Deploy and rollback times of an earlier commit beside this one, in the same run, on the same app:
#   bash bench/deploy/compare.sh [COMMIT (default 8e81184, before immutable releases)] [RUNS (default 5)]
# As root the platform runs with its sandboxes (BENCH_ISOLATE=1), as `palisade serve` does.
set -euo pipefail
cd "$(dirname "$0")/../.."
old=${1:-8e81184}
runs=${2:-5}
isolate=0; [ "$(id -u)" -eq 0 ] && isolate=1
source bench/support/old-checkout.sh
old_checkout "$old"
# The same measuring script on both sides.
cp bench/deploy/run.ts "$WT/bench/deploy/run.ts"
echo "== $old"
(cd "$WT" && BENCH_ISOLATE=$isolate node --import tsx bench/deploy/run.ts "$runs") | grep -E '^(deploys|rollbacks):'
echo "== $(git rev-parse --short HEAD)"
BENCH_ISOLATE=$isolate node --import tsx bench/deploy/run.ts "$runs" | grep -E '^(deploys|rollbacks):'
