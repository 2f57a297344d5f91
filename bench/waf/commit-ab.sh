#!/usr/bin/env bash
# The WAF engine of an earlier commit and this checkout's in one process, taking turns on the same batches.
# Usage: bash bench/waf/commit-ab.sh COMMIT [BATCHES=60] [PARANOIA=1]
set -euo pipefail
COMMIT=${1:?usage: commit-ab.sh COMMIT [BATCHES] [PARANOIA]}
source "$(dirname "$0")/../support/old-checkout.sh"
old_checkout "$COMMIT"
(cd "$WT" && "$ROOT/node_modules/.bin/tsc" -p tsconfig.build.json)
(cd "$ROOT" && npm run build --silent)
cd "$ROOT" && BENCH_OLD="$WT/dist" node --import tsx bench/waf/commit-ab.ts "${2:-60}" "${3:-1}"
