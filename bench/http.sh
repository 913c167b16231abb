#!/usr/bin/env bash
# HTTP proxy benchmark on loopback. In one run, over the same backends (nginx by default, or
# bench/Backend.java): the backends directly; the Teller balancer over HTTP, HTTPS and h2 (HTTP/2
# over TLS); HAProxy with 1 and with 2 threads and nginx with 1 and with 2 workers, each as the
# same least-connection proxy over HTTP, HTTPS and h2 (HTTP/1.1 keep-alive to the backends).
# HTTP/1.1 rows are measured with wrk, h2 rows with h2load, in alternating rounds after a
# warm-up; the table gives the median req/s, p50 and p99 latency of each, the CPU its proxy used
# (from /proc/<pid>/stat) and the requests per second of proxy CPU.
# Run after `mvn -B -DskipTests package`; `bench/http.sh --help` lists the options.
set -euo pipefail
cd "$(dirname "$0")/.."

all_proxies=teller,haproxy-1t,haproxy-2t,nginx-1w,nginx-2w
# Not in the default set: netty-proto, bench/NettyForward.java (a minimal forwarder written directly on
# Netty, HTTP and HTTPS rows only), the ceiling of a Netty-level rewrite of Teller's request path.
known_proxies=netty-proto,$all_proxies
usage() {
  cat <<EOF
usage: bench/http.sh [options]
  --install          apt-get update, then apt-get install -y wrk nginx haproxy nghttp2-client
                     (as root, or with sudo), then run
  --duration S       seconds per target per measured round (default 10)
  --rounds N         measured rounds; targets alternate within each round (default 3)
  --warmup S         warm-up seconds per JVM target before the first round (default 20);
                     native targets (nginx, HAProxy, the nginx backend) get min(5, S)
  --connections N    wrk connections, HTTP/1.1 rows (default 64)
  --threads N        wrk threads, and h2load threads up to --h2-clients (default 2)
  --h2-clients N     h2load connections, h2 rows (default 16)
  --h2-streams N     h2load concurrent streams per connection (default 4)
  --backends N       backend ports served by the one backend process (default 3)
  --backend KIND     nginx (one nginx, 1 worker) or java (bench/Backend.java, one event loop);
                     default nginx when nginx is installed, java otherwise
  --proxies LIST     comma-separated, from $known_proxies
                     (default $all_proxies); the direct row is always measured
  -h, --help         this text
  Quick smoke run: bench/http.sh --rounds 1 --duration 3 --warmup 3
Environment: BALANCER_JAVA_OPTS, JVM options for the Teller balancer (default: none, as ./teller);
  NETTY_PROTO_TRANSPORT, netty-proto's transport: io_uring (default, Teller's), epoll or nio.
EOF
}

install=false duration=10 rounds=3 warmup=20 connections=64 threads=2 backends=3
h2_clients=16 h2_streams=4 backend="" proxies=$all_proxies
positive_int() { [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "bench/http.sh: $1 needs a positive integer, got '$2'" >&2; exit 2; }; }
while (($#)); do
  case $1 in
    --install) install=true ;;
    --duration | --rounds | --warmup | --connections | --threads | --backends | --h2-clients | --h2-streams)
      (($# >= 2)) || { echo "bench/http.sh: $1 needs a value" >&2; exit 2; }
      positive_int "$1" "$2"
      name=${1#--}
      declare "${name//-/_}=$2"
      shift ;;
    --backend)
      if (($# < 2)) || [[ $2 != nginx && $2 != java ]]; then
        echo "bench/http.sh: --backend needs nginx or java" >&2; exit 2
      fi
      backend=$2
      shift ;;
    --proxies)
      (($# >= 2)) || { echo "bench/http.sh: --proxies needs a value" >&2; exit 2; }
      for p in ${2//,/ }; do
        [[ ,$known_proxies, == *,"$p",* ]] ||
          { echo "bench/http.sh: unknown proxy '$p' (known: $known_proxies)" >&2; exit 2; }
      done
      proxies=$2
      shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench/http.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
selected() { [[ ,$proxies, == *,"$1",* ]]; }
h2_threads=$((threads < h2_clients ? threads : h2_clients))

if $install; then
  if ((EUID == 0)); then sudo=()
  elif command -v sudo >/dev/null; then sudo=(sudo)
  else echo "bench/http.sh: --install needs root (apt-get)" >&2; exit 1
  fi
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y wrk nginx haproxy nghttp2-client
fi

# Finds a program also in the sbin directories, which a non-root PATH often lacks.
find_program() {
  PATH="$PATH:/usr/sbin:/sbin:/usr/local/sbin" command -v "$1" 2>/dev/null || true
}
wrk_bin=$(find_program wrk)
h2load_bin=$(find_program h2load)
nginx_bin=$(find_program nginx)
haproxy_bin=$(find_program haproxy)
# nginx_at_least VERSION: whether the installed nginx is VERSION or newer.
nginx_release=""
if [[ -n $nginx_bin ]]; then
  nginx_release=$("$nginx_bin" -v 2>&1 || true); nginx_release=${nginx_release##*nginx/}; nginx_release=${nginx_release%%[!0-9.]*}
fi
nginx_at_least() { [[ -n $nginx_release && $(printf '%s\n' "$1" "$nginx_release" | sort -V | head -n 1) == "$1" ]]; }
# nginx's h2 switch: a parameter of `listen` up to 1.25.0, its own directive (`http2 on;`) after.
nginx_h2_listen=" http2" nginx_h2_directive=""
if nginx_at_least 1.25.1; then nginx_h2_listen="" nginx_h2_directive="    http2 on;"; fi
[[ -n $wrk_bin ]] || {
  echo "bench/http.sh: wrk not found; install it with 'bench/http.sh --install' (as root) or 'apt-get install wrk'" >&2
  exit 1
}
if [[ -z $backend ]]; then
  if [[ -n $nginx_bin ]]; then backend=nginx; else backend=java; fi
elif [[ $backend == nginx && -z $nginx_bin ]]; then
  echo "bench/http.sh: --backend nginx needs nginx; install it with 'bench/http.sh --install' or use --backend java" >&2
  exit 1
fi
jars=(registry/target/teller-registry.jar balancer/target/teller-balancer.jar)
[[ $backend == nginx ]] || jars+=(sample-backend/target/teller-sample-backend.jar)
for jar in "${jars[@]}"; do
  [[ -f $jar ]] || { echo "bench/http.sh: $jar missing; build first: mvn -B -DskipTests package" >&2; exit 1; }
done
clock_ticks=$(getconf CLK_TCK)

# --- processes and clean-up ------------------------------------------------------------------
work=$(mktemp -d -t teller-bench-http.XXXXXX)
pids=()
cleanup() {
  local pid deadline
  trap - EXIT INT TERM
  [[ -z ${load_pid:-} ]] || pids+=("$load_pid")
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


# shellcheck source=bench/lib.sh
source bench/lib.sh

# Connection limits for the nginx instances and HAProxy: room for every client and backend
# connection, and within the usual open-file limit (HAProxy needs two descriptors per connection).
max_connections=$((connections * 2 + 1024 > 4096 ? connections * 2 + 1024 : 4096))

# nginx_head DIR WORKERS: the start of an nginx configuration whose files all live in DIR, up to
# and including the opening of the http block.
nginx_head() {
  local dir=$1 workers=$2
  # As root, the workers would switch to nginx's default user; keep them as the current user.
  ((EUID != 0)) || echo "user root root;"
  cat <<EOF
worker_processes $workers;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections $max_connections; }
http {
  access_log off;
  client_body_temp_path $dir/client_body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 75s;
EOF
}
# start_nginx NAME DIR: starts nginx in the foreground with DIR/nginx.conf (from 1.19.5 with its own
# error log from the start too, so that nothing is written outside DIR).
start_nginx() {
  local early_log=()
  ! nginx_at_least 1.19.5 || early_log=(-e "$2/error.log")
  start "$1" "$nginx_bin" -c "$2/nginx.conf" "${early_log[@]}" -g "daemon off;"
}

# --- backends --------------------------------------------------------------------------------
backend_ports=()
for ((i = 0; i < backends; i++)); do port p; backend_ports+=("$p"); done
# The body every backend answers with: 63 characters and a newline, as bench/Backend.java's.
backend_body=teller-bench-backend-64-byte-body-0123456789abcdefghijklmnopqrs
if [[ $backend == nginx ]]; then
  echo "starting the backend (one nginx, 1 worker) on ports ${backend_ports[*]}"
  dir=$work/backend
  mkdir -p "$dir"
  {
    nginx_head "$dir" 1
    cat <<EOF
  default_type text/plain;
  server {
$(for p in "${backend_ports[@]}"; do echo "    listen 127.0.0.1:$p;"; done)
    client_max_body_size 0;
    location / { return 200 "$backend_body\n"; }
  }
}
EOF
  } >"$dir/nginx.conf"
  start_nginx backend "$dir"
  backend_pid=$last_pid
  for p in "${backend_ports[@]}"; do
    wait_for "http://127.0.0.1:$p/" "$backend_pid" 15 || {
      echo "bench/http.sh: the nginx backend did not answer 200 on :$p:" >&2
      log_tail backend 20 >&2; tail -n 20 "$dir/error.log" 2>/dev/null | sed 's/^/    | /' >&2; exit 1
    }
  done
else
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
fi
body=$(curl -s -m 2 "http://127.0.0.1:${backend_ports[0]}/" || true)
[[ $body == "$backend_body" ]] || echo "  note: the backend answered '$body', not the expected body"

# --- targets ---------------------------------------------------------------------------------
# Each target: a name, a URL, the load tool (wrk for HTTP/1.1, h2load for h2), whether it is a JVM
# (longer warm-up), the process whose CPU (with its children's) is the proxy's, the proxy's name
# and protocol (for the summary), and why it is skipped if it is.
names=() urls=() tools=() jvm=() cpu_pids=() proxy_of=() protocol_of=() skip=()
add_target() {
  names+=("$1"); urls+=("$2"); tools+=("$3"); jvm+=("$4"); cpu_pids+=("$5"); proxy_of+=("$6")
  protocol_of+=("$7"); skip+=("$8")
}
backend_is_jvm=false
[[ $backend == nginx ]] || backend_is_jvm=true
add_target "direct (HTTP)" "http://127.0.0.1:${backend_ports[0]}/" wrk "$backend_is_jvm" "" direct HTTP ""

# h2_probe URL: one h2 request with h2load, ALPN offering h2 only; on success prints what was
# negotiated ("TLSv1.3 TLS_AES_256_GCM_SHA384 h2"), else fails.
h2_probe() {
  local out
  out=$(timeout -k 2 15 "$h2load_bin" -n1 -c1 --npn-list=h2 "$1" 2>&1 || true)
  grep -q '^Application protocol: h2$' <<<"$out" && grep -q ' 1 succeeded' <<<"$out" || return 1
  awk -F': ' '/^TLS Protocol:/ {p = $2} /^Cipher:/ {c = $2} END {print p, c, "h2"}' <<<"$out"
}
declare -A h2_negotiated # h2_negotiated[URL] = what h2_probe printed
# add_h2_target NAME URL JVM PID PROXY REASON: the h2 row of a proxy whose HTTPS listener is URL;
# REASON is the HTTPS listener's (empty when it answered).
add_h2_target() {
  local name=$1 url=$2 is_jvm=$3 pid=$4 proxy=$5 reason=$6
  if [[ -z $reason && -z $h2load_bin ]]; then
    reason="h2load not installed; bench/http.sh --install installs it (nghttp2-client)"
  elif [[ -z $reason ]]; then
    if h2_negotiated[$url]=$(h2_probe "$url"); then :; else
      reason="no h2 request answered over TLS with ALPN h2"
      echo "  $name: h2load could not get an h2 answer from $url"
    fi
  fi
  add_target "$name" "$url" h2load "$is_jvm" "$pid" "$proxy" h2 "$reason"
}
# add_skipped PROXY REASON: the three rows of a proxy that is not there.
add_skipped() {
  local protocol
  for protocol in HTTP HTTPS h2; do add_target "$1 $protocol" "" wrk false "" "$1" "$protocol" "$2"; done
}

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

# The Teller stack: a registry and a balancer, in a cluster of their own. The balancer's JVM
# options: BALANCER_JAVA_OPTS, else none, which is what ./teller starts it with (plain
# `java -jar`); if ./teller gains JVM options for the balancer, this default follows it.
balancer_java_opts=${BALANCER_JAVA_OPTS:-}
if selected teller; then
  teller_reason="" registry_port="" registry_cluster_port="" balancer_cluster_port="" https_port="" http_port="" admin_port=""
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
  # env execs java: the process started is the balancer's JVM, whose CPU the Teller rows report.
  # shellcheck disable=SC2086 # BALANCER_JAVA_OPTS is a list of options
  start balancer env "${common_env[@]}" TELLER_CLUSTER_PORT="$balancer_cluster_port" \
    TELLER_REGISTRY_PORT="$registry_port" TELLER_HTTPS_PORT="$https_port" TELLER_HTTP_PORT="$http_port" \
    TELLER_HTTP_REDIRECT=false TELLER_ADMIN_PORT="$admin_port" TELLER_DATA_DIR="$work/balancer-data" \
    java $balancer_java_opts -jar balancer/target/teller-balancer.jar
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
  add_target "teller HTTP" "http://127.0.0.1:$http_port/" wrk true "$balancer_pid" teller HTTP "$teller_http_reason"
  add_target "teller HTTPS" "https://127.0.0.1:$https_port/" wrk true "$balancer_pid" teller HTTPS "$teller_https_reason"
  add_h2_target "teller h2" "https://127.0.0.1:$https_port/" true "$balancer_pid" teller "$teller_https_reason"
  if [[ -n $teller_http_reason && -n ${skip[-2]} && -n ${skip[-1]} ]]; then
    # Nothing to measure: stop the Teller processes so that they take no CPU from the others.
    kill -TERM "$balancer_pid" "$registry_pid" 2>/dev/null || true
    wait "$balancer_pid" "$registry_pid" 2>/dev/null || true
  fi
fi

# start_nginx_proxy NAME WORKERS: nginx as a least-connection proxy with WORKERS worker processes,
# keep-alive upstream connections, one listener for HTTP and one for HTTPS and h2.
start_nginx_proxy() {
  local name=$1 workers=$2 dir=$work/$1 http https
  if [[ -z $nginx_bin ]]; then
    add_skipped "$name" "not installed; bench/http.sh --install installs it"
    echo "nginx not installed: $name skipped (bench/http.sh --install installs it)"
    return
  fi
  port http; port https
  mkdir -p "$dir"
  {
    nginx_head "$dir" "$workers"
    cat <<EOF
  upstream bench {
    least_conn;
$(for p in "${backend_ports[@]}"; do echo "    server 127.0.0.1:$p;"; done)
    keepalive 64;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:$http;
    listen 127.0.0.1:$https ssl$nginx_h2_listen;
$nginx_h2_directive
    ssl_certificate $work/tls/cert.pem;
    ssl_certificate_key $work/tls/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    ssl_ciphers $tls12_ciphers;
    ssl_conf_command Ciphersuites $tls13_suites;
    ssl_prefer_server_ciphers off;
    ssl_session_cache shared:$name:10m;
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
  } >"$dir/nginx.conf"
  echo "starting $name (nginx, $workers worker(s); http :$http, https and h2 :$https)"
  start_nginx "$name" "$dir"
  add_proxy_targets "$name" "$last_pid" "$http" "$https" || {
    echo "  $name did not answer 200:"; log_tail "$name"; tail -n 5 "$dir/error.log" 2>/dev/null | sed 's/^/    | /'
  }
}

# start_haproxy NAME THREADS: HAProxy as a least-connection proxy with THREADS threads, idle
# backend connections reused by any client, one bind for HTTP and one for HTTPS and h2.
start_haproxy() {
  local name=$1 threads=$2 dir=$work/$1 http https
  if [[ -z $haproxy_bin ]]; then
    add_skipped "$name" "not installed; bench/http.sh --install installs it"
    echo "haproxy not installed: $name skipped (bench/http.sh --install installs it)"
    return
  fi
  port http; port https
  mkdir -p "$dir"
  cat >"$dir/haproxy.cfg" <<EOF
global
  nbthread $threads
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
  bind 127.0.0.1:$http
  bind 127.0.0.1:$https ssl crt $work/tls/haproxy.pem alpn h2,http/1.1
  default_backend bench
backend bench
  balance leastconn
  http-reuse always
$(i=0; for p in "${backend_ports[@]}"; do echo "  server b$((++i)) 127.0.0.1:$p"; done)
EOF
  echo "starting $name (HAProxy, $threads thread(s); http :$http, https and h2 :$https)"
  start "$name" "$haproxy_bin" -f "$dir/haproxy.cfg" -db
  add_proxy_targets "$name" "$last_pid" "$http" "$https" || {
    echo "  $name did not answer 200:"; log_tail "$name"
  }
}

# add_proxy_targets NAME PID HTTP_PORT HTTPS_PORT: the three rows of a native proxy once it
# answers on both ports (up to 15 s); fails (rows n/a) when it does not.
add_proxy_targets() {
  local name=$1 pid=$2 http_url=http://127.0.0.1:$3/ https_url=https://127.0.0.1:$4/
  if wait_for "$http_url" "$pid" 15 && wait_for "$https_url" "$pid" 15; then
    add_target "$name HTTP" "$http_url" wrk false "$pid" "$name" HTTP ""
    add_target "$name HTTPS" "$https_url" wrk false "$pid" "$name" HTTPS ""
    add_h2_target "$name h2" "$https_url" false "$pid" "$name" ""
  else
    add_skipped "$name" "did not start"
    return 1
  fi
}

# netty-proto: bench/NettyForward.java, run from source with the balancer's shaded jar (Netty 4.2 and
# netty-tcnative BoringSSL), the same certificate as nginx and HAProxy, JVM options as Teller's.
if selected netty-proto; then
  np_http="" np_https="" netty_proto_transport=${NETTY_PROTO_TRANSPORT:-io_uring}
  port np_http; port np_https
  echo "starting netty-proto (bench/NettyForward.java, one 2-thread $netty_proto_transport event loop group; http :$np_http, https :$np_https)"
  # shellcheck disable=SC2086 # BALANCER_JAVA_OPTS is a list of options
  start netty-proto java $balancer_java_opts -Dnetty.transport="$netty_proto_transport" -cp balancer/target/teller-balancer.jar bench/NettyForward.java \
    "$np_http" "$np_https" "$work/tls/cert.pem" "$work/tls/key.pem" "${backend_ports[@]}"
  np_pid=$last_pid np_reason=""
  if wait_for "http://127.0.0.1:$np_http/" "$np_pid" 60 && wait_for "https://127.0.0.1:$np_https/" "$np_pid" 15; then
    for url in "http://127.0.0.1:$np_http/" "https://127.0.0.1:$np_https/"; do
      got=$(curl -sk -m 2 "$url" || true)
      [[ $got == "$backend_body" ]] || { np_reason="wrong body"; echo "  netty-proto answered '$got' on $url"; }
    done
  else
    np_reason="did not start"
    echo "  netty-proto did not answer 200:"; log_tail netty-proto
  fi
  add_target "netty-proto HTTP" "http://127.0.0.1:$np_http/" wrk true "$np_pid" netty-proto HTTP "$np_reason"
  add_target "netty-proto HTTPS" "https://127.0.0.1:$np_https/" wrk true "$np_pid" netty-proto HTTPS "$np_reason"
  add_target "netty-proto h2" "" wrk false "" netty-proto h2 "HTTP/1.1 only"
fi
selected haproxy-1t && start_haproxy haproxy-1t 1
selected haproxy-2t && start_haproxy haproxy-2t 2
selected nginx-1w && start_nginx_proxy nginx-1w 1
selected nginx-2w && start_nginx_proxy nginx-2w 2

# --- machine ---------------------------------------------------------------------------------
echo
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null), Linux $(uname -r)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) (1/5/15-minute load average before measuring; other work on the machine skews the figures)"
# first_line COMMAND...: the first line of what COMMAND prints (stdout and stderr), whatever its exit.
first_line() { local out; out=$("$@" 2>&1 || true); echo "${out%%$'\n'*}"; }
echo "java:    $(first_line java -version)"
wrk_version=$(first_line "$wrk_bin" -v); echo "wrk:     ${wrk_version% Copyright*}"
if [[ -n $h2load_bin ]]; then echo "h2load:  $(first_line "$h2load_bin" --version)"; else echo "h2load:  not installed"; fi
if [[ -n $nginx_bin ]]; then nginx_version=$(first_line "$nginx_bin" -v); else nginx_version="not installed"; fi
echo "nginx:   ${nginx_version#nginx version: }"
if [[ -n $haproxy_bin ]]; then haproxy_version=$(first_line "$haproxy_bin" -v); else haproxy_version="not installed"; fi
echo "haproxy: ${haproxy_version% - https*}"
echo "openssl: $(openssl version)"
if [[ $backend == nginx ]]; then
  echo "backend: nginx, 1 worker, ports ${backend_ports[*]} (200, ${#backend_body}+1-byte body, keep-alive)"
else
  echo "backend: bench/Backend.java, one event loop, ports ${backend_ports[*]}"
fi
if selected teller; then
  echo "teller:  balancer JVM options: ${balancer_java_opts:-none (as ./teller)}"
  tls_line=$(grep -o "TLS with the .*" "$work/balancer.log" 2>/dev/null | head -n 1 || true)
  [[ -z $tls_line ]] || echo "teller:  $tls_line"
fi
if selected netty-proto; then
  np_line=$(grep -m 1 "netty-forward ready" "$work/netty-proto.log" 2>/dev/null || true)
  echo "netty-proto: JVM options: ${balancer_java_opts:-none}; ${np_line:-not ready}"
fi
# What each TLS target negotiates: for HTTPS rows with an OpenSSL client offering no ALPN, as
# wrk does; for h2 rows what h2load negotiated when probed.
for i in "${!names[@]}"; do
  [[ ${urls[i]} == https://* && -z ${skip[i]} ]] || continue
  if [[ ${tools[i]} == h2load ]]; then
    negotiated=${h2_negotiated[${urls[i]}]:-}
  else
    hostport=${urls[i]#https://}; hostport=${hostport%/}
    negotiated=$(openssl s_client -connect "$hostport" -servername localhost </dev/null 2>/dev/null |
      grep -m 1 -E '^New, ' | sed 's/^New, //' || true)
  fi
  printf '%-22s %s\n' "tls ${names[i]}:" "${negotiated:-?}"
done
echo "wrk run:    -t$threads -c$connections --latency (HTTP and HTTPS rows)"
echo "h2load run: -t$h2_threads -c$h2_clients -m$h2_streams -D <s> --npn-list=h2 (h2 rows; p50/p99 from its per-request log)"
native_warmup=$((warmup < 5 ? warmup : 5))
echo "warm-up ${warmup} s per JVM target, ${native_warmup} s per native one; $rounds round(s) of $duration s per target, alternating"

# --- measuring -------------------------------------------------------------------------------
mkdir -p "$work/runs"
# to_ms VALUE: a wrk latency (123.00us, 1.23ms, 1.02s, 2.00m) in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
    if (f < 0) print "nan"; else printf "%.3f", n * f }'
}

# cpu_snapshot [PID]: "all busy ours proxy user system" in clock ticks since boot: every CPU tick, the busy ones
# charged to processes or taken by the hypervisor (user, nice, system, steal; not irq/softirq,
# where the loopback traffic of the benchmark itself is mostly spent), the busy ones of this
# benchmark: the processes of this script's process group (backend, Teller, nginx, HAProxy) plus
# its reaped children (wrk, h2load), and those of PID and its child processes (a proxy: nginx's
# master and workers, HAProxy, the balancer's JVM; utime + stime, all threads), and that of PID's
# split into user (the proxy's own code) and system (the kernel's work on its behalf: sockets, TCP).
process_group=$(ps -o pgid= -p $$ | tr -d ' ')
cpu_snapshot() {
  { head -n 1 /proc/stat; cat /proc/[0-9]*/stat 2>/dev/null || true; } |
    awk -v pg="$process_group" -v self=$$ -v root="${1:-0}" '
    NR == 1 { all = $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; busy = $2 + $3 + $4 + $9; next }
    { pid = $1; sub(/^.*\) /, "") # fields from the state on: $2 ppid, $3 pgrp, $12 utime, $13 stime, $14-15 children
      if ($3 == pg) ours += $12 + $13
      if (pid == self) ours += $14 + $15
      if (root > 0 && (pid == root || $2 == root)) { proxy += $12 + $13; usr += $12; sys += $13 } }
    END { printf "%d %d %d %d %d %d\n", all, busy, ours, proxy, usr, sys }'
}
# others_cpu BEFORE AFTER: the share of the machine's CPU time used by everything but this
# benchmark between two snapshots, in percent.
others_cpu() {
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ")
    all = y[1] - x[1]; other = (y[2] - x[2]) - (y[3] - x[3]); if (other < 0) other = 0
    if (all > 0) printf "%.0f", 100 * other / all; else print "?" }'
}
# proxy_cpu BEFORE AFTER SECONDS REQUESTS: "cores per_core user_us system_us": the proxy's CPU
# between two snapshots in cores (CPU seconds per wall-clock second), REQUESTS per CPU second, and
# its user and system CPU per request in microseconds; "nan nan nan nan" when there is no proxy or
# no CPU was seen.
proxy_cpu() {
  awk -v a="$1" -v b="$2" -v s="$3" -v n="$4" -v hz="$clock_ticks" 'BEGIN { split(a, x, " "); split(b, y, " ")
    cpu = (y[4] - x[4]) / hz
    if (cpu <= 0 || s <= 0 || n == "nan" || n <= 0) print "nan nan nan nan"
    else printf "%.3f %.0f %.2f %.2f\n", cpu / s, n / cpu, 1e6 * (y[5] - x[5]) / hz / n, 1e6 * (y[6] - x[6]) / hz / n }'
}

# measure INDEX SECONDS FILE: one run of the target's load tool, output kept in FILE (and h2load's
# per-request log in FILE.log). The tool runs in the background so that a signal to this script
# stops the run at once (the trap kills it too), under `timeout` so that no run outlasts its
# duration by more than 30 s.
measure() {
  local i=$1 seconds=$2 out=$3
  if [[ ${tools[i]} == wrk ]]; then
    timeout -k 5 $((seconds + 30)) "$wrk_bin" -t"$threads" -c"$connections" -d"${seconds}s" --latency \
      "${urls[i]}" >"$out" 2>&1 &
  else
    timeout -k 5 $((seconds + 30)) "$h2load_bin" -t"$h2_threads" -c"$h2_clients" -m"$h2_streams" \
      -D"$seconds" --npn-list=h2 --log-file="$out.log" "${urls[i]}" >"$out" 2>&1 &
  fi
  load_pid=$!
  wait "$load_pid" || true
  load_pid=""
}

# parse INDEX FILE: prints "req/s p50_ms p99_ms errors requests" (errors: answers other than
# 2xx/3xx, socket errors, failed requests). For h2load the percentiles are taken (nearest rank)
# from its per-request log, which is then removed.
parse() {
  local i=$1 file=$2 rps p50 p99 errors requests
  if [[ ${tools[i]} == wrk ]]; then
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$file")
    p50=$(awk '$1 == "50%" {print $2}' "$file")
    p99=$(awk '$1 == "99%" {print $2}' "$file")
    requests=$(awk '$2 == "requests" && $3 == "in" {print $1}' "$file")
    errors=$(awk '/Non-2xx or 3xx responses:/ {e += $NF}
      /Socket errors:/ {for (i = 3; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) e += $i}
      END {print e + 0}' "$file")
    [[ -z $p50 ]] || p50=$(to_ms "$p50")
    [[ -z $p99 ]] || p99=$(to_ms "$p99")
  else
    rps=$(awk '/^finished in/ {print $4}' "$file")
    requests=$(awk '/^requests:/ {for (i = 2; i < NF; i++) if ($(i + 1) ~ /^done/) print $i}' "$file")
    # "failed" counts every request not answered 2xx or 3xx: errored, timed out, other statuses.
    errors=$(awk '/^requests:/ {for (i = 2; i < NF; i++) if ($(i + 1) ~ /^failed/) e += $i} END {print e + 0}' "$file")
    grep -q '^Application protocol: h2$' "$file" || errors=$((errors + 1))
    read -r p50 p99 < <(
      n=$(wc -l <"$file.log" 2>/dev/null || echo 0)
      cut -f3 "$file.log" 2>/dev/null | LC_ALL=C sort -n |
        awk -v n="$n" 'BEGIN { r50 = int(n * 0.50); if (r50 < n * 0.50) r50++
                               r99 = int(n * 0.99); if (r99 < n * 0.99) r99++ }
          NR == r50 {p50 = $1} NR == r99 {p99 = $1}
          END { if (n > 0 && p99 != "") printf "%.3f %.3f\n", p50 / 1000, p99 / 1000; else print "nan nan" }')
    rm -f "$file.log"
  fi
  if [[ -z $rps || -z $p50 || -z $p99 || $p50 == nan ]]; then echo "nan nan nan $errors nan"; return; fi
  echo "$rps $p50 $p99 $errors ${requests:-nan}"
}

echo
echo "warming up..."
for i in "${!names[@]}"; do
  [[ -z ${skip[i]} ]] || continue
  seconds=$warmup
  ${jvm[i]} || seconds=$native_warmup
  measure "$i" "$seconds" "$work/runs/warmup-$i.txt"
  rm -f "$work/runs/warmup-$i.txt.log"
done

declare -A results # results[i,round] = "rps p50 p99 errors others% cores per_core user_us system_us"
for ((r = 1; r <= rounds; r++)); do
  echo "round $r of $rounds..."
  # Each round starts at a different target so that none is always first or last.
  count=${#names[@]}
  for ((k = 0; k < count; k++)); do
    i=$(((k + r - 1) % count))
    [[ -z ${skip[i]} ]] || continue
    file=$work/runs/round-$r-$i.txt
    before=$(cpu_snapshot "${cpu_pids[i]}")
    started=$EPOCHREALTIME
    measure "$i" "$duration" "$file"
    elapsed=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN {print b - a}')
    after=$(cpu_snapshot "${cpu_pids[i]}")
    others=$(others_cpu "$before" "$after")
    read -r rps p50 p99 errors requests < <(parse "$i" "$file")
    read -r cores per_core user_us system_us < <(proxy_cpu "$before" "$after" "$elapsed" "$requests")
    results[$i,$r]="$rps $p50 $p99 $errors $others $cores $per_core $user_us $system_us"
    cpu_text=""
    [[ $cores == nan ]] || cpu_text="  proxy $cores cores, $per_core req/s per core, $user_us + $system_us µs user + system per request"
    printf '  %-17s %10s req/s  p50 %8s ms  p99 %8s ms%s  other processes %3s%% CPU%s\n' "${names[i]}" "$rps" \
      "$p50" "$p99" "$cpu_text" "$others" "$( ((errors == 0)) || echo "  ($errors errors)")"
  done
done

# median I F: the median over rounds of field F (1 req/s, 2 p50, 3 p99, 6 proxy cores, 7 req/s per
# proxy core, 8 and 9 the proxy's user and system CPU µs per request) of target I, failed runs left
# out; nan when there is none.
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
# total_errors I: the load tool's errors over all of target I's rounds.
total_errors() {
  local i=$1 r
  for ((r = 1; r <= rounds; r++)); do echo "${results[$i,$r]}"; done | awk '{e += $4} END {print e + 0}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
# fmt FORMAT VALUE: VALUE with printf's FORMAT, or "-" when it is nan.
# shellcheck disable=SC2059 # the format is the argument
fmt() { if [[ $2 == nan ]]; then echo "-"; else printf "$1" "$2"; fi; }

echo
echo "load average after measuring: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
echo "results: median of $rounds round(s) of ${duration} s; ratio = target / direct (req/s: higher is better; latency:"
echo "lower is better); proxy cores = CPU seconds of the proxy's processes per second of the run; req/s/core ="
echo "requests per CPU second of the proxy; user/sys us = the proxy's CPU per request in user space (its own"
echo "code) and in the kernel (its sockets); others = the most CPU that processes outside this benchmark"
echo "took during one of the target's rounds"
printf '%-17s %10s %6s %9s %6s %9s %6s %6s %10s %7s %7s %7s %7s  %s\n' target req/s ratio "p50 ms" ratio "p99 ms" \
  ratio cores req/s/core "user us" "sys us" errors others "req/s per round"
direct_rps=$(median 0 1) direct_p50=$(median 0 2) direct_p99=$(median 0 3)
declare -A summary # summary[proxy,protocol,field] = the median
for i in "${!names[@]}"; do
  if [[ -n ${skip[i]} ]]; then
    printf '%-17s n/a (%s)\n' "${names[i]}" "${skip[i]}"
    continue
  fi
  rps=$(median "$i" 1) p50=$(median "$i" 2) p99=$(median "$i" 3) cores=$(median "$i" 6) per_core=$(median "$i" 7)
  user_us=$(median "$i" 8) system_us=$(median "$i" 9)
  for f in rps p99 per_core user_us system_us; do summary[${proxy_of[i]},${protocol_of[i]},$f]=${!f}; done
  per_round=$(for ((r = 1; r <= rounds; r++)); do echo "${results[$i,$r]}" | awk '{printf "%.0f ", $1}'; done)
  per_round=${per_round% }
  printf '%-17s %10s %6s %9s %6s %9s %6s %6s %10s %7s %7s %7s %6s%%  %s\n' "${names[i]}" "$(fmt %.0f "$rps")" \
    "$(ratio "$rps" "$direct_rps")" "$(fmt %.3f "$p50")" "$(ratio "$p50" "$direct_p50")" "$(fmt %.3f "$p99")" \
    "$(ratio "$p99" "$direct_p99")" "$(fmt %.2f "$cores")" "$(fmt %.0f "$per_core")" "$(fmt %.1f "$user_us")" \
    "$(fmt %.1f "$system_us")" "$(total_errors "$i")" "$(max_others "$i")" "$per_round"
done

# The same medians laid out as issue 15's table: one column per proxy, then Teller's ratio to
# HAProxy with 1 and with 2 threads (Markdown, to paste).
columns=()
for p in ${known_proxies//,/ }; do selected "$p" && columns+=("$p"); done
# cell PROXY PROTOCOL FIELD: one median, formatted.
cell() {
  local v=${summary[$1,$2,$3]:-nan}
  case $3 in
    p99) fmt "%.2f ms" "$v" ;;
    user_us | system_us) fmt "%.1f µs" "$v" ;;
    *) if [[ $v == nan ]]; then echo "-"; else awk -v v="$v" 'BEGIN { printf "%.1fk", v / 1000 }'; fi ;;
  esac
}
echo
echo "summary (medians as above; teller/haproxy, netty-proto/haproxy = that proxy's figure divided by HAProxy's):"
echo
line="| |"; rule="| --- |"
for p in "${columns[@]}"; do line+=" $p |"; rule+=" ---: |"; done
ratio_of=()
for q in netty-proto teller; do selected "$q" && ratio_of+=("$q"); done
for q in "${ratio_of[@]}"; do
  for p in haproxy-1t haproxy-2t; do selected "$p" && { line+=" $q/$p |"; rule+=" ---: |"; }; done
done
echo "$line"; echo "$rule"
for row in "HTTP/1.1 req/s:HTTP:rps" "HTTPS req/s:HTTPS:rps" "HTTPS p99:HTTPS:p99" "h2 req/s:h2:rps" \
    "h2 p99:h2:p99" "HTTP/1.1 req/s per proxy core:HTTP:per_core" "HTTPS req/s per proxy core:HTTPS:per_core" \
    "h2 req/s per proxy core:h2:per_core" "HTTP/1.1 user CPU per request:HTTP:user_us" \
    "HTTP/1.1 system CPU per request:HTTP:system_us" "HTTPS user CPU per request:HTTPS:user_us" \
    "HTTPS system CPU per request:HTTPS:system_us"; do
  IFS=: read -r label protocol field <<<"$row"
  line="| $label |"
  for p in "${columns[@]}"; do line+=" $(cell "$p" "$protocol" "$field") |"; done
  for q in "${ratio_of[@]}"; do
    for p in haproxy-1t haproxy-2t; do
      selected "$p" || continue
      line+=" $(ratio "${summary[$q,$protocol,$field]:-nan}" "${summary[$p,$protocol,$field]:-nan}") |"
    done
  done
  echo "$line"
done
