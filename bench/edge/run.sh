#!/usr/bin/env bash
# Edge vs nginx, same upstream, same run: wrk with 50 connections for 15 s against each.
# Usage: bash bench/edge/run.sh   (env: DURATION=15s CONNECTIONS=50 THREADS=2 WORKERS=1 ROUNDS=1 WAF_ROW=1 MIX=1)
# WORKERS=W runs the edge as W processes on one socket (as `palisade serve --edge-workers W`) and nginx with
# W worker processes (NGINX_WORKERS overrides nginx's alone); CPU per request counts every process of each.
# MIX=1 (default) sends bench/edge/mix.lua's benign mix (GET pages and API reads, form and JSON POST/PUT);
# MIX=0 sends GET / only.
# WAF_ROW=1 adds two rows: the edge with its WAF running the OWASP CRS (paranoia 1) on every request, and what a
# user would pick instead: nginx + libmodsecurity3 (Debian's libnginx-mod-http-modsecurity) with the same CRS.
# Needs: nginx, wrk (Debian packages), node 20. Uses ports 18080-18082 on 127.0.0.1 only.
set -euo pipefail

DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-2}
WORKERS=${WORKERS:-1}
NGINX_WORKERS=${NGINX_WORKERS:-$WORKERS}
ROUNDS=${ROUNDS:-1}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/palisade-bench-edge.XXXXXX)
WAF_ROW=${WAF_ROW:-1}
MIX=${MIX:-1}
UP_PORT=18081 NGINX_PORT=18080 EDGE_PORT=18082 WAF_PORT=18083 MS_PORT=18084 MIN_PORT=18085
BODY='{"ok":true,"service":"bench-upstream","padding":"0123456789abcdef0123456789abcdef"}'
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$WORK/up/nginx.pid" ] && kill "$(cat "$WORK/up/nginx.pid")" 2>/dev/null || true
  [ -f "$WORK/px/nginx.pid" ] && kill "$(cat "$WORK/px/nginx.pid")" 2>/dev/null || true
  [ -f "$WORK/ms/nginx.pid" ] && kill "$(cat "$WORK/ms/nginx.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT

common() { # $1 = prefix dir
  cat <<CONF
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
CONF
}
temps() { # $1 = prefix dir
  cat <<CONF
  client_body_temp_path $1/body; proxy_temp_path $1/proxy; fastcgi_temp_path $1/fcgi;
  uwsgi_temp_path $1/uwsgi; scgi_temp_path $1/scgi;
CONF
}
USER_LINE=''
[ "$(id -u)" = 0 ] && USER_LINE='user root;'

# The edge runs compiled, as `palisade serve` runs it.
(cd "$ROOT" && npm run build --silent)

mkdir -p "$WORK/up" "$WORK/px" "$WORK/ms"
# The upstream: nginx answering a fixed JSON body (fast enough not to be the bottleneck).
cat >"$WORK/up/nginx.conf" <<CONF
$USER_LINE
worker_processes 1;
$(common "$WORK/up")
http {
$(temps "$WORK/up")
  access_log off;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$UP_PORT;
    location / { default_type application/json; return 200 '$BODY'; }
  }
}
CONF
# The reference: nginx as a reverse proxy with a keep-alive upstream block and a JSON-ish access log.
cat >"$WORK/px/nginx.conf" <<CONF
$USER_LINE
worker_processes $NGINX_WORKERS;
$(common "$WORK/px")
http {
$(temps "$WORK/px")
  log_format edge escape=json '{"time":"\$time_iso8601","host":"\$host","method":"\$request_method","uri":"\$request_uri","status":\$status,"bytes":\$body_bytes_sent,"rt":\$request_time,"ip":"\$remote_addr","ua":"\$http_user_agent"}';
  access_log $WORK/px/access.log edge buffer=64k;
  keepalive_requests 100000;
  upstream app { server 127.0.0.1:$UP_PORT; keepalive 128; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$host;
      proxy_set_header X-Request-Id \$request_id;
    }
  }
}
CONF
# The alternative with a WAF: the same reverse proxy plus ModSecurity v3 running CRS 3.3.4 in blocking mode
# (paranoia 1, anomaly threshold 5), request body inspection on, audit log for relevant (blocked) requests only.
cat >"$WORK/ms/modsecurity.conf" <<CONF
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 10485760
SecRequestBodyNoFilesLimit 1048576
SecRequestBodyLimitAction Reject
SecResponseBodyAccess Off
SecAuditEngine RelevantOnly
SecAuditLogRelevantStatus "^(?:5|4(?!04))"
SecAuditLogParts ABIJDEFHZ
SecAuditLogType Serial
SecAuditLog $WORK/ms/audit.log
SecRule REQUEST_HEADERS:Content-Type "(?:application(?:/soap\\+|/)|text/)xml" "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.'"
# The methods Palisade's default set-up allows (DESIGN.md §8); Debian's crs-setup.conf leaves CRS's GET HEAD POST OPTIONS.
SecAction "id:900200,phase:1,nolog,pass,t:none,setvar:'tx.allowed_methods=GET HEAD POST PUT PATCH DELETE OPTIONS'"
Include /etc/modsecurity/crs/crs-setup.conf
Include /etc/modsecurity/crs/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf
Include /usr/share/modsecurity-crs/rules/*.conf
Include /etc/modsecurity/crs/RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf
CONF
sed -e "s#^http {#http {\n  modsecurity on;\n  modsecurity_rules_file $WORK/ms/modsecurity.conf;#" \
    -e "s#$WORK/px#$WORK/ms#g" -e "s#listen 127.0.0.1:$NGINX_PORT#listen 127.0.0.1:$MS_PORT#" \
    -e "s#^worker_processes#load_module /usr/lib/nginx/modules/ngx_http_modsecurity_module.so;\nworker_processes#" \
    "$WORK/px/nginx.conf" >"$WORK/ms/nginx.conf"
nginx -c "$WORK/up/nginx.conf" -p "$WORK/up" -e "$WORK/up/error.log"
nginx -c "$WORK/px/nginx.conf" -p "$WORK/px" -e "$WORK/px/error.log"
(cd "$ROOT" && BENCH_WORKERS=$WORKERS exec node --import tsx bench/edge/edge-server.ts "$EDGE_PORT" "$UP_PORT" "$WORK/edge-access.log") &
PIDS+=($!)
(cd "$ROOT" && exec node --import tsx bench/edge/minimal-proxy.ts "$MIN_PORT" "$UP_PORT") &
MIN_PID=$!
PIDS+=($MIN_PID)
PORTS="$UP_PORT $NGINX_PORT $EDGE_PORT $MIN_PORT"
if [ "$WAF_ROW" = 1 ]; then
  (cd "$ROOT" && BENCH_WORKERS=$WORKERS BENCH_WAF=crs exec node --import tsx bench/edge/edge-server.ts "$WAF_PORT" "$UP_PORT" "$WORK/waf-access.log") &
  WAF_PID=$!
  PIDS+=($WAF_PID)
  nginx -c "$WORK/ms/nginx.conf" -p "$WORK/ms" -e "$WORK/ms/error.log"
  PORTS="$PORTS $WAF_PORT $MS_PORT"
fi

for port in $PORTS; do
  for _ in $(seq 1 300); do
    curl -s -o /dev/null -H 'Host: bench.localhost' "http://127.0.0.1:$port/" && break
    sleep 0.1
  done
done
[ "$(curl -s -H 'Host: bench.localhost' "http://127.0.0.1:$EDGE_PORT/")" = "$BODY" ] || { echo "edge does not proxy" >&2; exit 1; }
[ "$(curl -s -H 'Host: bench.localhost' "http://127.0.0.1:$NGINX_PORT/")" = "$BODY" ] || { echo "nginx does not proxy" >&2; exit 1; }
if [ "$WAF_ROW" = 1 ]; then
  [ "$(curl -s -A wrk/bench -H 'Host: bench.localhost' "http://127.0.0.1:$WAF_PORT/")" = "$BODY" ] || { echo "edge+WAF does not proxy" >&2; exit 1; }
  code=$(curl -s -o /dev/null -w '%{http_code}' -A wrk/bench -H 'Host: bench.localhost' "http://127.0.0.1:$WAF_PORT/?id=1'%20OR%20'1'='1")
  [ "$code" = 403 ] || { echo "edge+WAF does not block SQLi (got $code)" >&2; exit 1; }
  [ "$(curl -s -A wrk/bench -H 'Host: bench.localhost' "http://127.0.0.1:$MS_PORT/")" = "$BODY" ] || { echo "nginx+ModSecurity does not proxy" >&2; exit 1; }
  code=$(curl -s -o /dev/null -w '%{http_code}' -A wrk/bench -H 'Host: bench.localhost' "http://127.0.0.1:$MS_PORT/?id=1'%20OR%20'1'='1")
  [ "$code" = 403 ] || { echo "nginx+ModSecurity does not block SQLi (got $code)" >&2; exit 1; }
fi

# to_ms "1.23ms" | "456.00us" | "1.20s" → milliseconds
to_ms() { awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.2f", n }'; }
# What a browser-ish client sends; without User-Agent/Accept the CRS would score the request.
HDRS=(-H 'Host: bench.localhost' -H 'User-Agent: wrk/bench' -H 'Accept: */*')
[ "$MIX" = 1 ] && HDRS=(-s "$ROOT/bench/edge/mix.lua")
ticks_each() { # user+system clock ticks of each process of $1 (a pid list), space-separated
  for pid in $1; do awk '{ printf "%d ", $14 + $15 }' "/proc/$pid/stat"; done
}
machine_ticks() { # aggregate CPU ticks of the machine: "busy idle softirq"
  awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6, $8 }' /proc/stat
}
measure() { # $1 = port, $2 = pids of the proxy → "rps p50ms p99ms cpu_us_per_request proxy_cores machine_idle_% softirq_%"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d5s "${HDRS[@]}" "http://127.0.0.1:$1/" >/dev/null # warm-up
  local out m0 m1 each0 each1
  each0=$(ticks_each "$2")
  m0=$(machine_ticks)
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${HDRS[@]}" "http://127.0.0.1:$1/")
  m1=$(machine_ticks)
  each1=$(ticks_each "$2")
  # The proxy's ticks over the window, all its processes together.
  local ticks; ticks=$(awk -v a="$each0" -v b="$each1" 'BEGIN { n = split(a, p, " "); split(b, q, " "); for (i = 1; i <= n; i++) t += q[i] - p[i]; print t }')
  echo "$out" >>"$WORK/wrk.txt"
  local rps p50 p99 errs
  rps=$(echo "$out" | awk '/^Requests\/sec/ { print $2 }')
  p50=$(echo "$out" | awk '$1 == "50%" { print $2 }')
  p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
  errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ { print }' | tr '\n' ' ')
  [ -n "$errs" ] && echo "warning on port $1: $errs" >&2
  local total; total=$(echo "$out" | awk '/requests in/ { print $1 }')
  local seconds; seconds=$(echo "$out" | awk '/requests in/ { sub(/s,?$/, "", $4); print $4 }')
  local cpu; cpu=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v n="$total" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
  # Where the machine's cores went meanwhile: the proxy's share (in cores; with several processes, each busy one's
  # too: an uneven spread of connections shows there), idle and softirq (kernel network work charged to no process)
  # as % of all cores; the rest is the load generator, the upstream and everything else.
  local shares; shares=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v s="$seconds" -v a="$m0" -v b="$m1" \
    -v e0="$each0" -v e1="$each1" 'BEGIN {
    split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; idle = y[2] - x[2]; soft = y[3] - x[3]; all = busy + idle
    n = split(e0, p, " "); split(e1, q, " "); parts = ""; busyProcs = 0
    for (i = 1; i <= n; i++) { c = (q[i] - p[i]) / hz / s; if (c >= 0.05) { parts = parts (busyProcs++ ? "+" : "") sprintf("%.2f", c) } }
    cores = sprintf("%.2f", t / hz / s); if (busyProcs > 1) cores = cores "_(" parts ")"
    printf "%s %.0f %.0f", cores, 100 * idle / all, 100 * soft / all }')
  echo "$rps $(to_ms "$p50") $(to_ms "$p99") $cpu $shares"
}

NGINX_PIDS=$(pgrep -P "$(cat "$WORK/px/nginx.pid")" | tr '\n' ' ')
EDGE_PID=${PIDS[0]} # the subshell exec-ed node, so this is the edge process
[ -r "/proc/$EDGE_PID/stat" ] || { echo "edge process not found" >&2; exit 1; }
[ "$MIX" = 1 ] && echo "requests: bench/edge/mix.lua (10 kinds: GET pages and API reads, form and JSON POST/PUT)" || echo "requests: GET /"
echo
echo "| round | proxy | rps | p50 (ms) | p99 (ms) | proxy CPU per request (µs) | proxy cores | machine idle % | softirq % |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
NG_RPS=0 ED_RPS=0 NG_P99=0 ED_P99=0
for round in $(seq 1 "$ROUNDS"); do
  read -r nr n50 n99 ncpu ncores nidle nsoft < <(measure $NGINX_PORT "$NGINX_PIDS")
  read -r er e50 e99 ecpu ecores eidle esoft < <(measure $EDGE_PORT "$EDGE_PID $(pgrep -P "$EDGE_PID" | tr '\n' ' ')")
  echo "| $round | nginx $(nginx -v 2>&1 | sed 's/.*\///') ($NGINX_WORKERS worker) | $nr | $n50 | $n99 | $ncpu | ${ncores//_/ } | $nidle | $nsoft |"
  echo "| $round | palisade edge (node $(node -v), $WORKERS worker) | $er | $e50 | $e99 | $ecpu | ${ecores//_/ } | $eidle | $esoft |"
  read -r pr p50 p99 pcpu pcores pidle psoft < <(measure $MIN_PORT "$MIN_PID")
  echo "| $round | minimal Node proxy (bench/edge/minimal-proxy.ts: no checks, no log) | $pr | $p50 | $p99 | $pcpu | ${pcores//_/ } | $pidle | $psoft |"
  if [ "$WAF_ROW" = 1 ]; then
    read -r wr w50 w99 wcpu wcores widle wsoft < <(measure $WAF_PORT "$WAF_PID $(pgrep -P "$WAF_PID" | tr '\n' ' ')")
    echo "| $round | palisade edge + WAF (CRS, PL1, $WORKERS worker) | $wr | $w50 | $w99 | $wcpu | ${wcores//_/ } | $widle | $wsoft |"
    read -r mr m50 m99 mcpu mcores midle msoft < <(measure $MS_PORT "$(pgrep -P "$(cat "$WORK/ms/nginx.pid")" | tr '\n' ' ')")
    echo "| $round | nginx + ModSecurity 3 + CRS (PL1, $NGINX_WORKERS worker) | $mr | $m50 | $m99 | $mcpu | ${mcores//_/ } | $midle | $msoft |"
    WF_RPS=$(awk -v a="${WF_RPS:-0}" -v b="$wr" 'BEGIN{print a+b}'); MS_RPS=$(awk -v a="${MS_RPS:-0}" -v b="$mr" 'BEGIN{print a+b}')
    WF_P99=$(awk -v a="${WF_P99:-0}" -v b="$w99" 'BEGIN{print a+b}'); MS_P99=$(awk -v a="${MS_P99:-0}" -v b="$m99" 'BEGIN{print a+b}')
  fi
  NG_RPS=$(awk -v a="$NG_RPS" -v b="$nr" 'BEGIN{print a+b}'); ED_RPS=$(awk -v a="$ED_RPS" -v b="$er" 'BEGIN{print a+b}')
  NG_P99=$(awk -v a="$NG_P99" -v b="$n99" 'BEGIN{print a+b}'); ED_P99=$(awk -v a="$ED_P99" -v b="$e99" 'BEGIN{print a+b}')
done
echo
awk -v nr="$NG_RPS" -v er="$ED_RPS" -v np="$NG_P99" -v ep="$ED_P99" 'BEGIN {
  printf "edge/nginx rps ratio: %.2f (goal >= 0.80)\n", er / nr
  printf "edge/nginx p99 ratio: %.2f (goal <= 1.50)\n", ep / np
}'
if [ "$WAF_ROW" = 1 ]; then
  awk -v wr="$WF_RPS" -v mr="$MS_RPS" -v wp="$WF_P99" -v mp="$MS_P99" 'BEGIN {
    printf "edge+WAF / nginx+ModSecurity rps ratio: %.2f\n", wr / mr
    printf "edge+WAF / nginx+ModSecurity p99 ratio: %.2f\n", wp / mp
  }'
fi
echo "edge access log lines: $(wc -l <"$WORK/edge-access.log" 2>/dev/null || echo 0)"
