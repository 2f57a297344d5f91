#!/usr/bin/env bash
# The WAF engine of an earlier commit beside the one in this checkout, on the same benign mix, run alternately.
# Usage: bash bench/waf/compare.sh COMMIT [ROUNDS=3] [SECONDS=10]
# Prints requests per CPU second and µs per request of each engine per round, then the ratio of the means.
set -euo pipefail
COMMIT=${1:?usage: compare.sh COMMIT [ROUNDS] [SECONDS]}
ROUNDS=${2:-3}
SECONDS_PER_RUN=${3:-10}
# The old sources resolve their packages from this checkout's node_modules; both engines run compiled, as
# `palisade` runs them.
source "$(dirname "$0")/../support/old-checkout.sh"
old_checkout "$COMMIT"
(cd "$WT" && "$ROOT/node_modules/.bin/tsc" -p tsconfig.build.json)
(cd "$ROOT" && npm run build --silent)

run() { # $1 = src dir → "rps_per_cpu_second us_per_request"
  (cd "$ROOT" && BENCH_SRC="$1" node --import tsx bench/waf/eval-rps.ts "$SECONDS_PER_RUN" 1) |
    node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(r.rpsPerCpuSecond, (1e6 / r.rpsPerCpuSecond).toFixed(1))'
}

echo "| round | engine | requests per CPU second | µs CPU per request |"
echo "| --- | --- | ---: | ---: |"
OLD_SUM=0 NEW_SUM=0
for round in $(seq 1 "$ROUNDS"); do
  read -r old_rps old_us < <(run "$WT/dist")
  echo "| $round | $COMMIT | $old_rps | $old_us |"
  read -r new_rps new_us < <(run "$ROOT/dist")
  echo "| $round | this checkout | $new_rps | $new_us |"
  OLD_SUM=$((OLD_SUM + old_rps)) NEW_SUM=$((NEW_SUM + new_rps))
done
awk -v o="$OLD_SUM" -v n="$NEW_SUM" 'BEGIN { printf "\nthis checkout / %s: %.2fx the requests per CPU second\n", "'"$COMMIT"'", n / o }'
