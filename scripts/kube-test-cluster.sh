#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for Palisade's tests and benchmarks: etcd (Debian's
# etcd-server), kube-apiserver and kube-controller-manager 1.20, built once from Debian bookworm's own
# `kubernetes` source package with Debian's Go and cached in $KUBE_CACHE (default
# /var/cache/palisade/kubernetes-1.20). There is no kubelet: pods stay Pending unless a test binds them
# (test/helpers/kube-kubelet.ts does, and is the only simulated part).
#
# Usage:
#   kube-test-cluster.sh build               build the binaries once (root: apt-get); a no-op when cached
#   kube-test-cluster.sh start DIR [PORT]    start etcd + apiserver + controller-manager; writes DIR/kubeconfig
#   kube-test-cluster.sh stop DIR            stop what `start DIR` started (pids in DIR/pids)
#   kube-test-cluster.sh ensure              build if needed, start in $PALISADE_KUBE_DIR (default
#                                            /var/lib/palisade/kube-test) unless already answering; prints
#                                            the kubeconfig path
# PORT defaults to 16443; etcd uses PORT+1 (client) and PORT+2 (peer); the controller-manager PORT+3.
set -euo pipefail
KUBE_CACHE=${KUBE_CACHE:-/var/cache/palisade/kubernetes-1.20}
BIN="$KUBE_CACHE/bin"
DEBIAN_KUBE_VERSION=1.20.5+really1.20.2-1.1+deb12u1

die() { echo "kube-test-cluster: $*" >&2; exit 1; }

build() {
  if [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ]; then
    echo "kube binaries already in $BIN"; return 0
  fi
  [ "$(id -u)" = 0 ] || die "build needs root (apt-get install of golang-go, etcd-server and the source package)"
  mkdir -p "$KUBE_CACHE"
  # One build at a time: a second caller waits for the first and then finds the binaries.
  exec 9>"$KUBE_CACHE/.build.lock"
  flock 9
  if [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ]; then
    echo "kube binaries already in $BIN"; return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends golang-go rsync jq etcd-server dpkg-dev make openssl curl \
    golang-github-modern-go-reflect2-dev golang-github-json-iterator-go-dev >/dev/null
  local work
  work=$(mktemp -d /var/tmp/kube-build.XXXXXX)
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" EXIT
  mkdir -p "$work/apt/lists/partial"
  # The deb-src list lives in the temporary directory: nothing under /etc/apt changes.
  cat >"$work/apt/src.sources" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  local aptopts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/apt" -o "Dir::State::Lists=$work/apt/lists")
  apt-get "${aptopts[@]}" update -qq
  (cd "$work" && apt-get "${aptopts[@]}" source --download-only "kubernetes=$DEBIAN_KUBE_VERSION" >/dev/null)
  (cd "$work" && dpkg-source -x --no-check kubernetes_*.dsc src >/dev/null)
  local src="$work/src"
  # The vendored reflect2 1.0.1 / json-iterator 1.1.10 crash (SIGSEGV) under Go >= 1.18 about 30 s after the
  # apiserver starts; Debian's packaged reflect2 1.0.2 / json-iterator 1.1.12 do not.
  local pair
  for pair in modern-go/reflect2 json-iterator/go; do
    rm -rf "$src/vendor/github.com/$pair"
    cp -r "/usr/share/gocode/src/github.com/$pair" "$src/vendor/github.com/$pair"
  done
  # GOPATH mode, as debian/rules builds it (module mode lacks the generated openapi).
  (
    export GOPATH="$src/.go" CGO_ENABLED=0 HOME="$work/home" GOCACHE="$KUBE_CACHE/go-cache"
    mkdir -p "$GOPATH/src/k8s.io" "$HOME"
    ln -s ../../.. "$GOPATH/src/k8s.io/kubernetes"
    cd "$src" && make WHAT="cmd/kube-apiserver cmd/kube-controller-manager"
  )
  mkdir -p "$BIN.tmp"
  cp "$src/_output/bin/kube-apiserver" "$src/_output/bin/kube-controller-manager" "$BIN.tmp/"
  rm -rf "$BIN" && mv "$BIN.tmp" "$BIN"
  rm -rf "$KUBE_CACHE/go-cache"
  "$BIN/kube-apiserver" --version
  echo "built into $BIN"
}

ready() { # DIR
  local dir=$1 token port
  [ -f "$dir/kubeconfig" ] && [ -f "$dir/token" ] && [ -f "$dir/port" ] || return 1
  token=$(cat "$dir/token"); port=$(cat "$dir/port")
  curl -skf -m 3 -H "Authorization: Bearer $token" "https://127.0.0.1:$port/readyz" >/dev/null 2>&1
}

start() { # DIR [PORT]
  local dir=${1:?state directory} port=${2:-16443} token i
  [ -x "$BIN/kube-apiserver" ] || die "no binaries in $BIN: run '$0 build' first"
  command -v etcd >/dev/null || die "etcd not installed (apt-get install etcd-server)"
  mkdir -p "$dir/etcd" "$dir/certs"
  chmod 700 "$dir"
  : >"$dir/pids"
  token=$(openssl rand -hex 24)
  umask 077
  echo "$token" >"$dir/token"
  echo "$port" >"$dir/port"
  echo "$token,admin,admin,system:masters" >"$dir/tokens.csv"
  [ -f "$dir/sa.key" ] || openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
  etcd --data-dir "$dir/etcd" --listen-client-urls "http://127.0.0.1:$((port + 1))" \
    --advertise-client-urls "http://127.0.0.1:$((port + 1))" --listen-peer-urls "http://127.0.0.1:$((port + 2))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((port + 2))" \
    --initial-cluster "default=http://127.0.0.1:$((port + 2))" \
    >"$dir/etcd.log" 2>&1 8>&- &
  echo $! >>"$dir/pids"
  "$BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$((port + 1))" \
    --secure-port "$port" --insecure-port 0 --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
    --cert-dir "$dir/certs" --token-auth-file "$dir/tokens.csv" --authorization-mode Node,RBAC \
    --service-cluster-ip-range 10.96.0.0/24 --service-account-issuer https://kubernetes.default.svc \
    --service-account-signing-key-file "$dir/sa.key" --service-account-key-file "$dir/sa.key" \
    --disable-admission-plugins ServiceAccount >"$dir/apiserver.log" 2>&1 8>&- &
  echo $! >>"$dir/pids"
  for i in $(seq 1 90); do
    curl -skf -m 3 -H "Authorization: Bearer $token" "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 1
  done
  curl -skf -m 3 -H "Authorization: Bearer $token" "https://127.0.0.1:$port/readyz" >/dev/null ||
    { tail -20 "$dir/apiserver.log" >&2; stop "$dir"; die "apiserver did not become ready"; }
  cat >"$dir/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: palisade-test, cluster: {server: "https://127.0.0.1:$port", certificate-authority: "$dir/certs/apiserver.crt"}}]
users: [{name: admin, user: {token: "$token"}}]
contexts: [{name: palisade-test, context: {cluster: palisade-test, user: admin}}]
current-context: palisade-test
KC
  # No kubelet heartbeats here: the node lifecycle controller would mark the simulated node's pods NotReady.
  "$BIN/kube-controller-manager" --kubeconfig "$dir/kubeconfig" --bind-address 127.0.0.1 --secure-port $((port + 3)) \
    --service-account-private-key-file "$dir/sa.key" --use-service-account-credentials=false \
    --controllers '*,-serviceaccount-token,-nodelifecycle' --leader-elect=false >"$dir/kcm.log" 2>&1 8>&- &
  echo $! >>"$dir/pids"
  echo "$dir/kubeconfig"
}

stop() { # DIR
  local dir=${1:?state directory} pid
  [ -f "$dir/pids" ] || return 0
  # Only the processes this script started, by their pid, newest first.
  for pid in $(tac "$dir/pids"); do kill "$pid" 2>/dev/null || true; done
  for pid in $(tac "$dir/pids"); do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  : >"$dir/pids"
}

ensure() {
  local dir=${PALISADE_KUBE_DIR:-/var/lib/palisade/kube-test} port=${PALISADE_KUBE_PORT:-16443}
  if ready "$dir"; then echo "$dir/kubeconfig"; return 0; fi
  build >&2
  mkdir -p "$dir"
  # The lock is held on fd 8 while this script runs; the servers started below close it (8>&-), or they would
  # hold it for as long as they live and a later `ensure` (after one of them died) would wait for ever.
  exec 8>"$dir.lock"
  flock 8
  if ready "$dir"; then echo "$dir/kubeconfig"; return 0; fi
  stop "$dir"
  rm -rf "$dir/etcd"
  start "$dir" "$port"
}

case "${1:-}" in
  build) build ;;
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  ensure) ensure ;;
  *) die "usage: $0 build | start DIR [PORT] | stop DIR | ensure" ;;
esac
