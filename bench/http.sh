#!/usr/bin/env bash
# HTTP proxy benchmark on loopback: one backend directly, the Teller balancer over HTTP and over
# HTTPS, and nginx and HAProxy as the same least-connection HTTPS proxy (TLS termination,
# HTTP/1.1 keep-alive to the backends), all over the same backends (bench/Backend.java). Each
# target is measured with wrk in alternating rounds after a warm-up; the table gives the median
# req/s, p50 and p99 latency of each and its ratio to the backend measured directly.
# Run after `mvn -B -DskipTests package`; `bench/http.sh --help` lists the options.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
usage: bench/http.sh [options]
  --install          apt-get update, then apt-get install -y wrk nginx haproxy (as root), then run
  --duration S       seconds per target per measured round (default 15)
  --rounds N         measured rounds; targets alternate within each round (default 2)
  --warmup S         warm-up seconds per JVM target before the first round (default 20);
                     nginx and HAProxy get min(5, S)
  --connections N    wrk connections (default 64)
  --threads N        wrk threads (default 2)
  --backends N       backend ports served by the one backend process (default 3)
  -h, --help         this text
Environment: BALANCER_JAVA_OPTS, extra JVM options for the Teller balancer.
EOF
}

install=false duration=15 rounds=2 warmup=20 connections=64 threads=2 backends=3
positive_int() { [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "bench/http.sh: $1 needs a positive integer, got '$2'" >&2; exit 2; }; }
while (($#)); do
  case $1 in
    --install) install=true ;;
    --duration | --rounds | --warmup | --connections | --threads | --backends)
      (($# >= 2)) || { echo "bench/http.sh: $1 needs a value" >&2; exit 2; }
      positive_int "$1" "$2"
      declare "${1#--}=$2"
      shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench/http.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

if $install; then
  if ((EUID == 0)); then sudo=()
  elif command -v sudo >/dev/null; then sudo=(sudo)
  else echo "bench/http.sh: --install needs root (apt-get)" >&2; exit 1
  fi
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y wrk nginx haproxy
fi

# Finds a program also in the sbin directories, which a non-root PATH often lacks.
find_program() {
  PATH="$PATH:/usr/sbin:/sbin:/usr/local/sbin" command -v "$1" 2>/dev/null || true
}
wrk_bin=$(find_program wrk)
nginx_bin=$(find_program nginx)
haproxy_bin=$(find_program haproxy)
[[ -n $wrk_bin ]] || {
  echo "bench/http.sh: wrk not found; install it with 'bench/http.sh --install' (as root) or 'apt-get install wrk'" >&2
  exit 1
}
for jar in sample-backend/target/teller-sample-backend.jar registry/target/teller-registry.jar \
    balancer/target/teller-balancer.jar; do
  [[ -f $jar ]] || { echo "bench/http.sh: $jar missing; build first: mvn -B -DskipTests package" >&2; exit 1; }
done

# --- processes and clean-up ------------------------------------------------------------------
work=$(mktemp -d -t teller-bench-http.XXXXXX)
pids=()
cleanup() {
  local pid deadline
  trap - EXIT INT TERM
  [[ -z ${wrk_pid:-} ]] || pids+=("$wrk_pid")
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  deadline=$((SECONDS + 15))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME COMMAND...: runs COMMAND in the background, output to $work/NAME.log.
start() {
  local name=$1; shift
  "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  last_pid=$!
}

log_tail() { tail -n "${2:-5}" "$work/$1.log" 2>/dev/null | sed 's/^/    | /'; }

# Listening ports are taken below the kernel's ephemeral range (32768-60999 by default), where no
# outgoing connection or port-0 listener (the Vert.x event bus) can take one before it is bound.
read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || ephemeral_low=32768
port_low=10000 port_high=$((ephemeral_low - 1))
((port_high - port_low >= 1000)) || port_low=1024
used_ports=" "
# port VAR: a free loopback port (nothing listens on it), distinct from those already given.
port() {
  local candidate
  while :; do
    candidate=$((port_low + (RANDOM * 32768 + RANDOM) % (port_high - port_low + 1)))
    [[ $used_ports == *" $candidate "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
      used_ports+="$candidate "
      printf -v "$1" '%s' "$candidate"
      return
    fi
  done
}

# http_status URL: the status of a GET (000 when nothing answers), certificates not checked.
http_status() { curl -sk -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null || true; }

# wait_for URL PID SECONDS: until URL answers 200; fails when PID exits or time is up.
wait_for() {
  local url=$1 pid=$2 deadline=$((SECONDS + $3))
  until [[ $(http_status "$url") == 200 ]]; do
    kill -0 "$pid" 2>/dev/null || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# --- backends --------------------------------------------------------------------------------
backend_ports=()
for ((i = 0; i < backends; i++)); do port p; backend_ports+=("$p"); done
echo "starting the backend (one JVM, one event loop) on ports ${backend_ports[*]}"
start backend java -cp sample-backend/target/teller-sample-backend.jar bench/Backend.java "${backend_ports[@]}"
backend_pid=$last_pid
deadline=$((SECONDS + 60))
until grep -q "backend ready" "$work/backend.log"; do
  if ! kill -0 "$backend_pid" 2>/dev/null || ((SECONDS >= deadline)); then
    echo "bench/http.sh: the backend did not start:" >&2; log_tail backend 20 >&2; exit 1
  fi
  sleep 0.1
done

# --- targets ---------------------------------------------------------------------------------
# Each target: a name, a URL, whether it is a JVM (longer warm-up), and why it is skipped if so.
names=() urls=() jvm=() skip=()
add_target() { names+=("$1"); urls+=("$2"); jvm+=("$3"); skip+=("$4"); }
add_target "direct (HTTP)" "http://127.0.0.1:${backend_ports[0]}/" true ""

# The certificate nginx and HAProxy serve: EC P-256 for localhost, like the balancer's own.
mkdir -p "$work/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$work/tls/key.pem" -out "$work/tls/cert.pem" 2>/dev/null
cat "$work/tls/cert.pem" "$work/tls/key.pem" >"$work/tls/haproxy.pem"

# Mozilla "intermediate" (v5): TLS 1.2 + 1.3, forward-secret AEAD suites only; the same list the
# balancer's TlsOptions uses.
tls12_ciphers=ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384
tls12_ciphers+=:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305
tls12_ciphers+=:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305
tls13_suites=TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256

# The Teller stack: a registry and a balancer, in a cluster of their own.
teller_reason=""
port registry_port; port registry_cluster_port; port balancer_cluster_port
port https_port; port http_port; port admin_port
token="bench-token-$$-$RANDOM"
common_env=(TELLER_CLUSTER_NAME="bench-http-$$-$RANDOM" TELLER_CLUSTER_MEMBERS="127.0.0.1:$registry_cluster_port"
  TELLER_LISTEN_HOST=127.0.0.1 TELLER_API_TOKEN="$token")
echo "starting the Teller registry (:$registry_port) and balancer (https :$https_port, http :$http_port, admin :$admin_port)"
start registry env "${common_env[@]}" TELLER_CLUSTER_PORT="$registry_cluster_port" \
  TELLER_REGISTRY_PORT="$registry_port" TELLER_DATA_DIR="$work/registry-data" \
  java -jar registry/target/teller-registry.jar
registry_pid=$last_pid
# shellcheck disable=SC2086 # BALANCER_JAVA_OPTS is a list of options
start balancer env "${common_env[@]}" TELLER_CLUSTER_PORT="$balancer_cluster_port" \
  TELLER_REGISTRY_PORT="$registry_port" TELLER_HTTPS_PORT="$https_port" TELLER_HTTP_PORT="$http_port" \
  TELLER_HTTP_REDIRECT=false TELLER_ADMIN_PORT="$admin_port" TELLER_DATA_DIR="$work/balancer-data" \
  java ${BALANCER_JAVA_OPTS:-} -jar balancer/target/teller-balancer.jar
balancer_pid=$last_pid

registry_api="http://127.0.0.1:$registry_port/v1"
# api METHOD PATH JSON: a registry write; prints the status.
api() {
  curl -s -o "$work/api-response" -m 5 -w '%{http_code}' -X "$1" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' --data "$3" "$registry_api$2" || true
}

if ! wait_for "http://127.0.0.1:$registry_port/healthz" "$registry_pid" 60; then
  teller_reason="registry did not start"
  echo "  the registry did not become ready:"; log_tail registry
else
  # TELLER_BENCH_SHARED_COUNTS=false measures the least-connection counts kept local (issue: overhead of sharing).
  status=$(api PUT /services/bench "{\"routes\":[{\"pathPrefix\":\"/\"}],\"strategy\":\"least-connections\",\"sharedCounts\":${TELLER_BENCH_SHARED_COUNTS:-true}}")
  if [[ $status != 2* ]]; then
    teller_reason="registry refused the service"
    echo "  PUT /v1/services/bench answered $status: $(cat "$work/api-response")"
  fi
  for p in "${backend_ports[@]}"; do
    [[ -z $teller_reason ]] || break
    status=$(api POST /services/bench/instances "{\"host\":\"127.0.0.1\",\"port\":$p}")
    if [[ $status != 2* ]]; then
      teller_reason="registry refused an instance"
      echo "  POST /v1/services/bench/instances answered $status: $(cat "$work/api-response")"
    fi
  done
  [[ -n $teller_reason ]] || echo "  registered service 'bench' (least-connections, pathPrefix /) with ${#backend_ports[@]} instances"
fi
if [[ -z $teller_reason ]] && ! wait_for "http://127.0.0.1:$admin_port/healthz" "$balancer_pid" 60; then
  teller_reason="balancer did not start"
  echo "  the balancer did not become ready:"; log_tail balancer
fi
teller_http_reason=$teller_reason teller_https_reason=$teller_reason
if [[ -z $teller_reason ]]; then
  # Until a request through the balancer is answered 200 on each listener (deadline 30 s).
  deadline=$((SECONDS + 30)) http_ok=false https_ok=false
  while ! { $http_ok && $https_ok; } && ((SECONDS < deadline)) && kill -0 "$balancer_pid" 2>/dev/null; do
    $http_ok || [[ $(http_status "http://127.0.0.1:$http_port/") != 200 ]] || http_ok=true
    $https_ok || [[ $(http_status "https://127.0.0.1:$https_port/") != 200 ]] || https_ok=true
    sleep 0.2
  done
  $http_ok || teller_http_reason="balancer did not answer"
  $https_ok || teller_https_reason="balancer did not answer"
  if ! $http_ok || ! $https_ok; then
    echo "  the balancer did not answer 200 on $($http_ok || echo "HTTP :$http_port ")$($https_ok || echo "HTTPS :$https_port ")within 30 s; its log ends:"
    log_tail balancer
  fi
fi
if [[ -n $teller_http_reason && -n $teller_https_reason ]]; then
  # Nothing to measure: stop the Teller processes so that they take no CPU from the others.
  kill -TERM "$balancer_pid" "$registry_pid" 2>/dev/null || true
  wait "$balancer_pid" "$registry_pid" 2>/dev/null || true
fi
add_target "teller HTTP" "http://127.0.0.1:$http_port/" true "$teller_http_reason"
add_target "teller HTTPS" "https://127.0.0.1:$https_port/" true "$teller_https_reason"

# Connection limits for nginx and HAProxy: room for every client and backend connection, and
# within the usual open-file limit (HAProxy needs two descriptors per connection).
max_connections=$((connections * 2 + 1024 > 4096 ? connections * 2 + 1024 : 4096))

# nginx: 2 worker processes, least_conn, keep-alive upstream connections.
if [[ -z $nginx_bin ]]; then
  add_target "nginx HTTPS" "" false "not installed; bench/http.sh --install installs it"
  echo "nginx not installed: skipped (bench/http.sh --install installs it)"
else
  port nginx_port
  mkdir -p "$work/nginx"
  {
    # As root, the workers would switch to nginx's default user; keep them as the current user.
    ((EUID != 0)) || echo "user root root;"
    cat <<EOF
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections $max_connections; }
http {
  access_log off;
  client_body_temp_path $work/nginx/client_body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 75s;
  upstream bench {
    least_conn;
$(for p in "${backend_ports[@]}"; do echo "    server 127.0.0.1:$p;"; done)
    keepalive 64;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $work/tls/cert.pem;
    ssl_certificate_key $work/tls/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    ssl_ciphers $tls12_ciphers;
    ssl_conf_command Ciphersuites $tls13_suites;
    ssl_prefer_server_ciphers off;
    ssl_session_cache shared:bench:10m;
    ssl_session_timeout 1d;
    ssl_session_tickets off;
    location / {
      proxy_pass http://bench;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
  } >"$work/nginx/nginx.conf"
  start nginx "$nginx_bin" -c "$work/nginx/nginx.conf" -g 'daemon off;'
  if wait_for "https://127.0.0.1:$nginx_port/" "$last_pid" 15; then
    add_target "nginx HTTPS" "https://127.0.0.1:$nginx_port/" false ""
  else
    add_target "nginx HTTPS" "" false "did not start"
    echo "  nginx did not answer 200:"; log_tail nginx; tail -n 5 "$work/nginx/error.log" 2>/dev/null | sed 's/^/    | /'
  fi
fi

# HAProxy: 2 threads, leastconn, idle backend connections reused by any client.
if [[ -z $haproxy_bin ]]; then
  add_target "haproxy HTTPS" "" false "not installed; bench/http.sh --install installs it"
  echo "haproxy not installed: skipped (bench/http.sh --install installs it)"
else
  port haproxy_port
  mkdir -p "$work/haproxy"
  cat >"$work/haproxy/haproxy.cfg" <<EOF
global
  nbthread 2
  maxconn $max_connections
  ssl-default-bind-curves X25519:prime256v1:secp384r1
  ssl-default-bind-ciphers $tls12_ciphers
  ssl-default-bind-ciphersuites $tls13_suites
  ssl-default-bind-options prefer-client-ciphers ssl-min-ver TLSv1.2 no-tls-tickets
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 75s
frontend bench
  bind 127.0.0.1:$haproxy_port ssl crt $work/tls/haproxy.pem alpn http/1.1
  default_backend bench
backend bench
  balance leastconn
  http-reuse always
$(i=0; for p in "${backend_ports[@]}"; do echo "  server b$((++i)) 127.0.0.1:$p"; done)
EOF
  start haproxy "$haproxy_bin" -f "$work/haproxy/haproxy.cfg" -db
  if wait_for "https://127.0.0.1:$haproxy_port/" "$last_pid" 15; then
    add_target "haproxy HTTPS" "https://127.0.0.1:$haproxy_port/" false ""
  else
    add_target "haproxy HTTPS" "" false "did not start"
    echo "  haproxy did not answer 200:"; log_tail haproxy
  fi
fi

# --- machine ---------------------------------------------------------------------------------
echo
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null), Linux $(uname -r)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) (1/5/15-minute load average before measuring; other work on the machine skews the figures)"
# first_line COMMAND...: the first line of what COMMAND prints (stdout and stderr), whatever its exit.
first_line() { local out; out=$("$@" 2>&1 || true); echo "${out%%$'\n'*}"; }
echo "java:    $(first_line java -version)"
wrk_version=$(first_line "$wrk_bin" -v); echo "wrk:     ${wrk_version% Copyright*}"
if [[ -n $nginx_bin ]]; then nginx_version=$(first_line "$nginx_bin" -v); else nginx_version="not installed"; fi
echo "nginx:   ${nginx_version#nginx version: }"
if [[ -n $haproxy_bin ]]; then haproxy_version=$(first_line "$haproxy_bin" -v); else haproxy_version="not installed"; fi
echo "haproxy: ${haproxy_version% - https*}"
echo "openssl: $(openssl version)"
tls_line=$(grep -o "TLS with the .*" "$work/balancer.log" 2>/dev/null | head -n 1 || true)
[[ -z $tls_line ]] || echo "teller:  $tls_line"
# The protocol and cipher each HTTPS target negotiates with an OpenSSL client (wrk's library).
for i in "${!names[@]}"; do
  [[ ${urls[i]} == https://* && -z ${skip[i]} ]] || continue
  hostport=${urls[i]#https://}; hostport=${hostport%/}
  negotiated=$(openssl s_client -connect "$hostport" -servername localhost </dev/null 2>/dev/null |
    grep -m 1 -E '^New, ' | sed 's/^New, //' || true)
  printf '%-15s %s\n' "tls ${names[i]%% *}:" "${negotiated:-?}"
done
echo "wrk run: -t$threads -c$connections --latency; warm-up ${warmup} s per JVM target," \
  "$((warmup < 5 ? warmup : 5)) s per native one; $rounds round(s) of $duration s per target, alternating"

# --- measuring -------------------------------------------------------------------------------
mkdir -p "$work/wrk"
# to_ms VALUE: a wrk latency (123.00us, 1.23ms, 1.02s, 2.00m) in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
    if (f < 0) print "nan"; else printf "%.3f", n * f }'
}

# cpu_snapshot: "all busy ours" in clock ticks since boot: every CPU tick, the busy ones charged to
# processes or taken by the hypervisor (user, nice, system, steal; not irq/softirq, where the
# loopback traffic of the benchmark itself is mostly spent), and the busy ones of this benchmark:
# the processes of this script's process group (backend, Teller, nginx, HAProxy) plus its reaped
# children (wrk).
process_group=$(ps -o pgid= -p $$ | tr -d ' ')
cpu_snapshot() {
  { head -n 1 /proc/stat; cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pg="$process_group" -v self=$$ '
    NR == 1 { all = $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; busy = $2 + $3 + $4 + $9; next }
    { pid = $1; sub(/^.*\) /, ""); # fields from the state on: $3 pgrp, $12 utime, $13 stime, $14-15 children
      if ($3 == pg) ours += $12 + $13
      if (pid == self) ours += $14 + $15 }
    END { printf "%d %d %d\n", all, busy, ours }'
}
# others_cpu BEFORE AFTER: the share of the machine's CPU time used by everything but this
# benchmark between two snapshots, in percent.
others_cpu() {
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ")
    all = y[1] - x[1]; other = (y[2] - x[2]) - (y[3] - x[3]); if (other < 0) other = 0
    if (all > 0) printf "%.0f", 100 * other / all; else print "?" }'
}

# measure INDEX SECONDS FILE: one wrk run against target INDEX; output kept in FILE.
# wrk runs in the background so that a signal to this script stops the run at once (the trap
# kills wrk too).
measure() {
  "$wrk_bin" -t"$threads" -c"$connections" -d"${2}s" --latency "${urls[$1]}" >"$3" 2>&1 &
  wrk_pid=$!
  wait "$wrk_pid" || true
  wrk_pid=""
}

# parse FILE: prints "req/s p50_ms p99_ms errors" (errors: non-2xx/3xx answers + socket errors).
parse() {
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$1")
  p50=$(awk '$1 == "50%" {print $2}' "$1")
  p99=$(awk '$1 == "99%" {print $2}' "$1")
  errors=$(awk '/Non-2xx or 3xx responses:/ {e += $NF}
    /Socket errors:/ {for (i = 3; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) e += $i}
    END {print e + 0}' "$1")
  if [[ -z $rps || -z $p50 || -z $p99 ]]; then echo "nan nan nan $errors"; return; fi
  echo "$rps $(to_ms "$p50") $(to_ms "$p99") $errors"
}

echo
echo "warming up..."
for i in "${!names[@]}"; do
  [[ -z ${skip[i]} ]] || continue
  seconds=$warmup
  ${jvm[i]} || seconds=$((warmup < 5 ? warmup : 5))
  measure "$i" "$seconds" "$work/wrk/warmup-$i.txt"
done

declare -A results # results[i,round] = "rps p50 p99 errors others%"
for ((r = 1; r <= rounds; r++)); do
  echo "round $r of $rounds..."
  # Each round starts at a different target so that none is always first or last.
  count=${#names[@]}
  for ((k = 0; k < count; k++)); do
    i=$(((k + r - 1) % count))
    [[ -z ${skip[i]} ]] || continue
    before=$(cpu_snapshot)
    measure "$i" "$duration" "$work/wrk/round-$r-$i.txt"
    others=$(others_cpu "$before" "$(cpu_snapshot)")
    results[$i,$r]="$(parse "$work/wrk/round-$r-$i.txt") $others"
    read -r rps p50 p99 errors _ <<<"${results[$i,$r]}"
    printf '  %-15s %10s req/s  p50 %8s ms  p99 %8s ms  other processes %3s%% CPU%s\n' "${names[i]}" "$rps" \
      "$p50" "$p99" "$others" "$( ((errors == 0)) || echo "  ($errors errors)")"
  done
done

# median I F: the median over rounds of field F (1 req/s, 2 p50, 3 p99) of target I, failed runs left out.
median() {
  local i=$1 f=$2 r
  for ((r = 1; r <= rounds; r++)); do echo "${results[$i,$r]}" | awk -v f="$f" '$f != "nan" {print $f}'; done |
    sort -g | awk '{a[NR] = $1} END {
      if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# max_others I: the most CPU other processes took during one of target I's rounds, in percent.
max_others() {
  local i=$1 r
  for ((r = 1; r <= rounds; r++)); do echo "${results[$i,$r]}"; done |
    awk '$5 != "?" && $5 + 0 > m {m = $5 + 0} END {print m + 0}'
}
# total_errors I: wrk's errors over all of target I's rounds.
total_errors() {
  local i=$1 r
  for ((r = 1; r <= rounds; r++)); do echo "${results[$i,$r]}"; done | awk '{e += $4} END {print e + 0}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

echo
echo "load average after measuring: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
echo "results: median of $rounds round(s) of ${duration} s; ratio = target / direct (req/s: higher is better; latency:"
echo "lower is better); others = the most CPU that processes outside this benchmark took during one of the target's rounds"
printf '%-15s %10s %6s %9s %6s %9s %6s %7s %7s  %s\n' target req/s ratio "p50 ms" ratio "p99 ms" ratio errors others "req/s per round"
direct_rps=$(median 0 1) direct_p50=$(median 0 2) direct_p99=$(median 0 3)
for i in "${!names[@]}"; do
  if [[ -n ${skip[i]} ]]; then
    printf '%-15s n/a (%s)\n' "${names[i]}" "${skip[i]}"
    continue
  fi
  rps=$(median "$i" 1) p50=$(median "$i" 2) p99=$(median "$i" 3)
  per_round=$(for ((r = 1; r <= rounds; r++)); do echo "${results[$i,$r]}" | awk '{printf "%.0f ", $1}'; done)
  printf '%-15s %10.0f %6s %9.3f %6s %9.3f %6s %7s %6s%%  %s\n' "${names[i]}" "$rps" "$(ratio "$rps" "$direct_rps")" \
    "$p50" "$(ratio "$p50" "$direct_p50")" "$p99" "$(ratio "$p99" "$direct_p99")" "$(total_errors "$i")" \
    "$(max_others "$i")" "$per_round"
done
