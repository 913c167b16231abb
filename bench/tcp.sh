#!/usr/bin/env bash
# L4 (TCP) benchmark on loopback: echo backends (bench/TcpEcho.java) measured directly, through
# the Teller balancer's TCP listener (tcp.listeners, least-connections) and through HAProxy in
# `mode tcp` (leastconn), in one run. Two loads, from bench/TcpLoad.java:
#   bulk  - a few long connections streaming 64 KiB writes, echoed back: MiB/s each way
#   conns - many small connections (connect, 64 bytes there and back, close): conn/s, p50, p99
# Each load run is short (default 8 s); targets alternate within a round. Only 127.0.0.1.
# Run after `mvn -B -DskipTests package`; `bench/tcp.sh --help` lists the options.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
usage: bench/tcp.sh [options]
  --duration S       seconds per load run (default 8, at most 10)
  --rounds N         measured rounds; targets alternate within each round (default 1)
  --warmup S         warm-up seconds for the JVM proxies (Teller, netty-l4) before measuring (default 10)
  --streams N        connections of the bulk load (default 4)
  --concurrency N    clients of the many-connections load (default 16)
  --backends N       echo ports served by the one backend process (default 3)
  --netty-proto      also measure bench/NettyTcpForward.java (target netty-l4): a minimal
                     forwarder on bare Netty, what Netty's channels cost with nothing of Teller's
  -h, --help         this text
Environment: BALANCER_JAVA_OPTS, extra JVM options for the Teller balancer (and netty-l4);
  TELLER_B_JAR, a second balancer build measured beside the first (target teller-b);
  NETTY_PROTO_TRANSPORT, netty-l4's transport: io_uring (default, Teller's), epoll or nio.
EOF
}

duration=8 rounds=1 warmup=10 streams=4 concurrency=16 backends=3 netty_proto=false
positive_int() { [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "bench/tcp.sh: $1 needs a positive integer, got '$2'" >&2; exit 2; }; }
while (($#)); do
  case $1 in
    --duration | --rounds | --warmup | --streams | --concurrency | --backends)
      (($# >= 2)) || { echo "bench/tcp.sh: $1 needs a value" >&2; exit 2; }
      positive_int "$1" "$2"
      declare "${1#--}=$2"
      shift ;;
    --netty-proto) netty_proto=true ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench/tcp.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
((duration <= 10)) || { echo "bench/tcp.sh: --duration is at most 10 (the machine is shared)" >&2; exit 2; }

haproxy_bin=$(PATH="$PATH:/usr/sbin:/sbin:/usr/local/sbin" command -v haproxy 2>/dev/null || true)
for jar in sample-backend/target/teller-sample-backend.jar registry/target/teller-registry.jar \
    balancer/target/teller-balancer.jar; do
  [[ -f $jar ]] || { echo "bench/tcp.sh: $jar missing; build first: mvn -B -DskipTests package" >&2; exit 1; }
done

# --- processes and clean-up (as bench/http.sh) -----------------------------------------------
work=$(mktemp -d -t teller-bench-tcp.XXXXXX)
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

start() {
  local name=$1; shift
  "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  last_pid=$!
}
# shellcheck source=bench/lib.sh
source bench/lib.sh
# tcp_open PORT: whether something accepts connections on PORT.
tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- backends --------------------------------------------------------------------------------
backend_ports=()
for ((i = 0; i < backends; i++)); do port p; backend_ports+=("$p"); done
echo "starting the echo backend (one JVM, one event loop) on ports ${backend_ports[*]}"
start backend java -cp sample-backend/target/teller-sample-backend.jar bench/TcpEcho.java "${backend_ports[@]}"
backend_pid=$last_pid
deadline=$((SECONDS + 60))
until grep -q "echo ready" "$work/backend.log"; do
  if ! kill -0 "$backend_pid" 2>/dev/null || ((SECONDS >= deadline)); then
    echo "bench/tcp.sh: the backend did not start:" >&2; log_tail backend 20 >&2; exit 1
  fi
  sleep 0.1
done

# The load client, compiled once (java source launcher compiles on every start otherwise).
mkdir -p "$work/classes"
javac -d "$work/classes" bench/TcpLoad.java

names=() ports=() jvm=() skip=() cpu_pids=()
# add_target NAME PORT JVM SKIP_REASON [PID]: PID is the proxy's process, whose CPU is measured.
add_target() { names+=("$1"); ports+=("$2"); jvm+=("$3"); skip+=("$4"); cpu_pids+=("${5:-}"); }
add_target "direct" "${backend_ports[0]}" false ""

# --- Teller ----------------------------------------------------------------------------------
teller_reason=""
port registry_port; port registry_cluster_port; port balancer_cluster_port
port https_port; port http_port; port admin_port; port teller_tcp_port
token="bench-token-$$-$RANDOM"
common_env=(TELLER_CLUSTER_NAME="bench-tcp-$$-$RANDOM" TELLER_CLUSTER_MEMBERS="127.0.0.1:$registry_cluster_port"
  TELLER_LISTEN_HOST=127.0.0.1 TELLER_API_TOKEN="$token")
echo "starting the Teller registry (:$registry_port) and balancer (TCP :$teller_tcp_port, admin :$admin_port)"
start registry env "${common_env[@]}" TELLER_CLUSTER_PORT="$registry_cluster_port" \
  TELLER_REGISTRY_PORT="$registry_port" TELLER_DATA_DIR="$work/registry-data" \
  java -jar registry/target/teller-registry.jar
registry_pid=$last_pid
# shellcheck disable=SC2086 # BALANCER_JAVA_OPTS is a list of options
start balancer env "${common_env[@]}" TELLER_CLUSTER_PORT="$balancer_cluster_port" \
  TELLER_HTTPS_PORT="$https_port" TELLER_HTTP_PORT="$http_port" TELLER_ADMIN_PORT="$admin_port" \
  TELLER_TCP_LISTENERS="$teller_tcp_port:tcpbench:least-connections" TELLER_DATA_DIR="$work/balancer-data" \
  java ${BALANCER_JAVA_OPTS:-} -jar balancer/target/teller-balancer.jar
balancer_pid=$last_pid
api() {
  curl -s -o "$work/api-response" -m 5 -w '%{http_code}' -X "$1" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' --data "$3" "http://127.0.0.1:$registry_port/v1$2" || true
}
if ! wait_for "http://127.0.0.1:$registry_port/healthz" "$registry_pid" 60; then
  teller_reason="registry did not start"; log_tail registry
else
  status=$(api PUT /services/tcpbench '{"strategy":"least-connections"}')
  [[ $status == 2* ]] || { teller_reason="registry refused the service"; cat "$work/api-response"; }
  for p in "${backend_ports[@]}"; do
    [[ -z $teller_reason ]] || break
    status=$(api POST /services/tcpbench/instances "{\"host\":\"127.0.0.1\",\"port\":$p}")
    [[ $status == 2* ]] || { teller_reason="registry refused an instance"; cat "$work/api-response"; }
  done
fi
if [[ -z $teller_reason ]] && ! wait_for "http://127.0.0.1:$admin_port/healthz" "$balancer_pid" 60; then
  teller_reason="balancer did not start"; log_tail balancer
fi
# forwards PORT: whether a connection through PORT is echoed within 30 s (a balancer forwards once
# the registry's instances have arrived).
forwards() {
  local deadline=$((SECONDS + 30))
  until java -cp "$work/classes" TcpLoad conns "$1" 1 1 2>/dev/null | grep -q 'errors=0'; do
    ((SECONDS < deadline)) || return 1
  done
}
if [[ -z $teller_reason ]] && ! forwards "$teller_tcp_port"; then
  teller_reason="balancer did not forward"; log_tail balancer
fi
add_target "teller" "$teller_tcp_port" true "$teller_reason" "$balancer_pid"

# --- teller-b (TELLER_B_JAR): a second balancer build, side by side with the first ----------
if [[ -n ${TELLER_B_JAR:-} ]]; then
  b_reason=""
  port b_cluster_port; port b_https_port; port b_http_port; port b_admin_port; port b_tcp_port
  echo "starting balancer B ($TELLER_B_JAR; TCP :$b_tcp_port, admin :$b_admin_port)"
  # shellcheck disable=SC2086 # BALANCER_JAVA_OPTS is a list of options
  start balancer-b env "${common_env[@]}" TELLER_CLUSTER_PORT="$b_cluster_port" \
    TELLER_HTTPS_PORT="$b_https_port" TELLER_HTTP_PORT="$b_http_port" TELLER_ADMIN_PORT="$b_admin_port" \
    TELLER_TCP_LISTENERS="$b_tcp_port:tcpbench:least-connections" TELLER_DATA_DIR="$work/balancer-b-data" \
    java ${BALANCER_JAVA_OPTS:-} -jar "$TELLER_B_JAR"
  b_pid=$last_pid
  if [[ -n $teller_reason ]]; then
    b_reason=$teller_reason
  elif ! wait_for "http://127.0.0.1:$b_admin_port/healthz" "$b_pid" 60; then
    b_reason="balancer B did not start"; log_tail balancer-b
  elif ! forwards "$b_tcp_port"; then
    b_reason="balancer B did not forward"; log_tail balancer-b
  fi
  add_target "teller-b" "$b_tcp_port" true "$b_reason" "$b_pid"
fi

# --- netty-l4 (--netty-proto) ----------------------------------------------------------------
if $netty_proto; then
  port netty_port
  netty_transport=${NETTY_PROTO_TRANSPORT:-io_uring}
  echo "starting netty-l4 (bench/NettyTcpForward.java, one 2-thread $netty_transport event loop group, :$netty_port)"
  # shellcheck disable=SC2086 # BALANCER_JAVA_OPTS is a list of options
  start netty-l4 java ${BALANCER_JAVA_OPTS:-} -Dnetty.transport="$netty_transport" \
    -cp balancer/target/teller-balancer.jar bench/NettyTcpForward.java "$netty_port" "${backend_ports[@]}"
  netty_pid=$last_pid netty_reason=""
  deadline=$((SECONDS + 60))
  until grep -q "netty-tcp-forward ready" "$work/netty-l4.log"; do
    if ! kill -0 "$netty_pid" 2>/dev/null || ((SECONDS >= deadline)); then
      netty_reason="did not start"; log_tail netty-l4; break
    fi
    sleep 0.1
  done
  if [[ -z $netty_reason ]] && ! forwards "$netty_port"; then
    netty_reason="did not forward"; log_tail netty-l4
  fi
  add_target "netty-l4" "$netty_port" true "$netty_reason" "$netty_pid"
fi

# --- HAProxy ---------------------------------------------------------------------------------
if [[ -z $haproxy_bin ]]; then
  add_target "haproxy" "" false "not installed (apt-get install haproxy)"
else
  port haproxy_port
  mkdir -p "$work/haproxy"
  cat >"$work/haproxy/haproxy.cfg" <<EOF
global
  nbthread 2
  maxconn 8192
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend bench
  bind 127.0.0.1:$haproxy_port
  default_backend bench
backend bench
  balance leastconn
$(i=0; for p in "${backend_ports[@]}"; do echo "  server b$((++i)) 127.0.0.1:$p"; done)
EOF
  start haproxy "$haproxy_bin" -f "$work/haproxy/haproxy.cfg" -db
  haproxy_pid=$last_pid
  deadline=$((SECONDS + 15))
  until tcp_open "$haproxy_port" || ((SECONDS >= deadline)); do sleep 0.1; done
  if tcp_open "$haproxy_port"; then add_target "haproxy" "$haproxy_port" false "" "$haproxy_pid"
  else add_target "haproxy" "" false "did not start"; log_tail haproxy; fi
fi

# --- machine ---------------------------------------------------------------------------------
first_line() { local out; out=$("$@" 2>&1 || true); echo "${out%%$'\n'*}"; }
echo
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null), Linux $(uname -r)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15-minute load average before measuring)"
echo "java:    $(first_line java -version)"
[[ -z $haproxy_bin ]] || { v=$(first_line "$haproxy_bin" -v); echo "haproxy: ${v% - https*}"; }
echo "loads:   bulk $streams streams x 64 KiB writes echoed; conns $concurrency clients x (connect, 64 B echo, close);" \
  "$duration s per run, $rounds round(s), warm-up ${warmup} s (JVM proxies)"

clock_ticks=$(getconf CLK_TCK)
# proxy_ticks PID: "user system" CPU of PID (all its threads) and of its child processes (utime and
# stime), in clock ticks.
proxy_ticks() {
  [[ -n $1 ]] || { echo 0 0; return; }
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
    { pid = $1; sub(/^.*\) /, ""); if (pid == root || $2 == root) { u += $12; k += $13 } } END { print u + 0, k + 0 }'
}
# run MODE INDEX SECONDS: one load run against target INDEX; prints its result line, with
# cores=C (the proxy's CPU seconds per second of the run) when the target is a proxy, and for the
# connections load user_us=U sys_us=S: the proxy's user and system CPU per connection, in µs.
run() {
  local workers=$streams before after started elapsed
  [[ $1 == bulk ]] || workers=$concurrency
  before=$(proxy_ticks "${cpu_pids[$2]}")
  started=$(date +%s.%N)
  java -cp "$work/classes" TcpLoad "$1" "${ports[$2]}" "$3" "$workers" >"$work/load.out" 2>&1 &
  load_pid=$!
  wait "$load_pid" || true
  load_pid=""
  after=$(proxy_ticks "${cpu_pids[$2]}")
  elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  local result
  result=$(grep '^result' "$work/load.out") || { echo "result failed $(tail -n 1 "$work/load.out")"; return; }
  if [[ -n ${cpu_pids[$2]} ]]; then
    # The JVM start of the load client is in the wall time too: cores err low by its share.
    result+=" $(awk -v a="$before" -v b="$after" -v hz="$clock_ticks" -v s="$elapsed" -v line="$result" 'BEGIN {
      split(a, x, " "); split(b, y, " "); u = (y[1] - x[1]) / hz; k = (y[2] - x[2]) / hz
      printf "cores=%.2f", (u + k) / s
      # Connections in the run: its rate times its own measured seconds.
      if (match(line, /conn_s=[0-9.]+/)) c = substr(line, RSTART + 7, RLENGTH - 7)
      if (match(line, /seconds=[0-9.]+/)) t = substr(line, RSTART + 8, RLENGTH - 8)
      if (c * t > 0) printf " user_us=%.1f sys_us=%.1f", 1e6 * u / (c * t), 1e6 * k / (c * t) }')"
  fi
  echo "$result"
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

echo
echo "warming up the JVM proxies..."
for i in "${!names[@]}"; do
  [[ -z ${skip[i]} ]] && ${jvm[i]} || continue
  run conns "$i" "$(((warmup + 1) / 2))" >/dev/null
  run bulk "$i" "$((warmup / 2 > 0 ? warmup / 2 : 1))" >/dev/null
done

declare -A bulk conns
for ((r = 1; r <= rounds; r++)); do
  echo "round $r of $rounds..."
  count=${#names[@]}
  for mode in bulk conns; do
    for ((k = 0; k < count; k++)); do
      i=$(((k + r - 1) % count))
      [[ -z ${skip[i]} ]] || continue
      line=$(run "$mode" "$i" "$duration")
      cores=$(field cores "$line")
      cpu_text=""
      [[ -z $cores ]] || cpu_text="  proxy $cores cores"
      if [[ $mode == bulk ]]; then
        bulk[$i,$r]=$(field mib_s "$line")
        printf '  %-8s bulk  %8s MiB/s each way%s\n' "${names[i]}" "${bulk[$i,$r]:-failed}" "$cpu_text"
      else
        user_us=$(field user_us "$line") sys_us=$(field sys_us "$line")
        conns[$i,$r]="$(field conn_s "$line") $(field p50_ms "$line") $(field p99_ms "$line") $(field errors "$line") ${cores:-nan} ${user_us:-nan} ${sys_us:-nan}"
        read -r cps p50 p99 errors _ <<<"${conns[$i,$r]}"
        per_core=""
        [[ -z $cores ]] || per_core=$(awk -v c="$cps" -v k="$cores" 'BEGIN { if (k > 0) printf ", %.0f conn/s per core", c / k }')
        [[ -z $user_us ]] || per_core+=", $user_us + $sys_us µs user + system per connection"
        printf '  %-8s conns %8s conn/s  p50 %7s ms  p99 %7s ms  errors %s%s%s\n' "${names[i]}" "${cps:-failed}" "$p50" "$p99" "$errors" "$cpu_text" "$per_core"
      fi
    done
  done
done

median() { sort -g | awk '{a[NR] = $1} END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
echo
echo "load average after measuring: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "results: median of $rounds round(s); ratio = target / direct"
printf '%-8s %12s %6s %10s %6s %9s %9s %7s %12s %15s %8s %8s\n' target "bulk MiB/s" ratio "conn/s" ratio "p50 ms" "p99 ms" errors \
  "proxy cores" "conn/s per core" "user us" "sys us"
for i in "${!names[@]}"; do
  if [[ -n ${skip[i]} ]]; then printf '%-8s n/a (%s)\n' "${names[i]}" "${skip[i]}"; continue; fi
  b=$(for ((r = 1; r <= rounds; r++)); do echo "${bulk[$i,$r]:-nan}"; done | grep -v nan | median)
  c=$(for ((r = 1; r <= rounds; r++)); do echo "${conns[$i,$r]}" | awk '{print $1}'; done | grep -v '^$' | median)
  p50=$(for ((r = 1; r <= rounds; r++)); do echo "${conns[$i,$r]}" | awk '{print $2}'; done | grep -v '^$' | median)
  p99=$(for ((r = 1; r <= rounds; r++)); do echo "${conns[$i,$r]}" | awk '{print $3}'; done | grep -v '^$' | median)
  e=$(for ((r = 1; r <= rounds; r++)); do echo "${conns[$i,$r]}" | awk '{print $4}'; done | awk '{s += $1} END {print s + 0}')
  k=$(for ((r = 1; r <= rounds; r++)); do echo "${conns[$i,$r]}" | awk '$5 != "" && $5 != "nan" {print $5}'; done | median)
  us=$(for ((r = 1; r <= rounds; r++)); do echo "${conns[$i,$r]}" | awk '$6 != "" && $6 != "nan" {print $6}'; done | median)
  ks=$(for ((r = 1; r <= rounds; r++)); do echo "${conns[$i,$r]}" | awk '$7 != "" && $7 != "nan" {print $7}'; done | median)
  [[ $i == 0 ]] && { direct_b=$b; direct_c=$c; }
  printf '%-8s %12s %6s %10s %6s %9s %9s %7s %12s %15s %8s %8s\n' "${names[i]}" "$b" "$(ratio "$b" "$direct_b")" "$c" \
    "$(ratio "$c" "$direct_c")" "$p50" "$p99" "$e" "${k/nan/-}" "$(awk -v c="$c" -v k="$k" 'BEGIN { if (k != "nan" && k > 0) printf "%.0f", c / k; else print "-" }')" \
    "${us/nan/-}" "${ks/nan/-}"
done
if [[ -z $teller_reason ]]; then
  echo
  echo "Teller's /tcp for the listener:"
  curl -s -m 2 "http://127.0.0.1:$admin_port/tcp" | sed 's/^/  /'
  echo
fi
