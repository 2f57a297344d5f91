# Sourced by the benchmarks that run an earlier commit beside this checkout (bench/waf/compare.sh,
# bench/waf/commit-ab.sh, bench/deploy/compare.sh).
# `old_checkout COMMIT` sets ROOT (this checkout) and WT (a detached worktree of COMMIT that resolves its packages
# from this checkout's node_modules), and removes the worktree when the script exits.
old_checkout() {
  ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  WT=$(mktemp -d /tmp/palisade-bench-old.XXXXXX)
  trap 'git -C "$ROOT" worktree remove --force "$WT" >/dev/null 2>&1 || rm -rf "$WT"' EXIT
  git -C "$ROOT" worktree add --detach "$WT" "$1" >/dev/null 2>&1
  ln -s "$ROOT/node_modules" "$WT/node_modules"
}
