#!/usr/bin/env bash
# Two balancer builds side by side: one registry and two balancers (build A's jar and build B's)
# in a Teller cluster of their own on loopback, over the same nginx backends; after a warm-up of
# both, wrk (or h2load) rounds alternate between them (A, B, A, B, ...), each round measuring req/s, p99 and
# the CPU seconds the balancer's process used (/proc/PID/stat), so req per CPU second. The machine's
# drift between rounds hits both builds alike, which separate runs of bench/http.sh cannot promise.
# Run after `mvn -B -DskipTests package`; `bench/builds.sh --help` lists the options.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<EOF
usage: bench/builds.sh [options] JAR_A JAR_B
  JAR_A, JAR_B       two balancer jars (e.g. a copy of balancer/target/teller-balancer.jar built
                     from main, and one from a branch)
  --mode MODE        https (default) or http: which balancer listener wrk loads; h2: h2load
                     (-c16 -m4, HTTP/2 over TLS) on the HTTPS listener
  --rounds N         measured rounds, each one run of A then one of B (default 8, at most 50)
  --duration S       seconds of load per build per round (default 5, at most 30)
  --warmup S         warm-up seconds per build before the first round (default 20, at most 120)
  --connections N    wrk connections (default 64)
  --threads N        wrk threads (default 2)
  -h, --help         this text
  Needs wrk and nginx (bench/http.sh --install installs both). Quick smoke run:
  bench/builds.sh --rounds 1 --duration 2 --warmup 2 A.jar B.jar
Environment: BALANCER_JAVA_OPTS, JVM options for both balancers; BALANCER_A_JAVA_OPTS and
BALANCER_B_JAVA_OPTS, for one of them (in place of BALANCER_JAVA_OPTS). The same jar twice with
different options compares JVM options:
  BALANCER_B_JAVA_OPTS=-XX:+UseParallelGC bench/builds.sh A.jar A.jar
EOF
}

mode=https rounds=8 duration=5 warmup=20 connections=64 threads=2 jars=()
positive_int() {
  [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "bench/builds.sh: $1 needs a positive integer, got '$2'" >&2; exit 2; }
  (($2 <= $3)) || { echo "bench/builds.sh: $1 is at most $3, got $2" >&2; exit 2; }
}
while (($#)); do
  case $1 in
    --mode) [[ ${2:-} =~ ^(https|http|h2)$ ]] || { echo "bench/builds.sh: --mode is https, http or h2" >&2; exit 2; }; mode=$2; shift 2 ;;
    --rounds) positive_int "$1" "${2:-}" 50; rounds=$2; shift 2 ;;
    --duration) positive_int "$1" "${2:-}" 30; duration=$2; shift 2 ;;
    --warmup) positive_int "$1" "${2:-}" 120; warmup=$2; shift 2 ;;
    --connections) positive_int "$1" "${2:-}" 10000; connections=$2; shift 2 ;;
    --threads) positive_int "$1" "${2:-}" 64; threads=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "bench/builds.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) jars+=("$1"); shift ;;
  esac
done
((${#jars[@]} == 2)) || { usage >&2; exit 2; }
for jar in "${jars[@]}"; do [[ -f $jar ]] || { echo "bench/builds.sh: no jar at $jar" >&2; exit 2; }; done
tools=(wrk nginx curl java)
[[ $mode != h2 ]] || tools+=(h2load)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || { echo "bench/builds.sh: needs $tool" >&2; exit 2; }
done
[[ -f registry/target/teller-registry.jar ]] || { echo "bench/builds.sh: run mvn -B -DskipTests package first" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/teller-bench-builds.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=bench/lib.sh
source bench/lib.sh

port b1; port b2; port b3; port registry_port; port registry_cluster
cat >"$work/nginx.conf" <<EOF
worker_processes 1; daemon off; pid $work/nginx.pid; error_log $work/nginx-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 10000000; keepalive_timeout 75s;
  server { listen 127.0.0.1:$b1; listen 127.0.0.1:$b2; listen 127.0.0.1:$b3;
    location / { return 200 "teller-bench-backend-64-byte-body-0123456789abcdefghijklmnopqrs\n"; } } }
EOF
nginx -p "$work" -c "$work/nginx.conf" >"$work/nginx.log" 2>&1 &
pids+=($!)

token=bench-$RANDOM$RANDOM
common=(TELLER_CLUSTER_NAME="bench-builds-$$" TELLER_CLUSTER_MEMBERS="127.0.0.1:$registry_cluster"
  TELLER_LISTEN_HOST=127.0.0.1 TELLER_API_TOKEN="$token" TELLER_REGISTRY_PORT="$registry_port")
env "${common[@]}" TELLER_CLUSTER_PORT="$registry_cluster" TELLER_DATA_DIR="$work/registry" \
  java -jar registry/target/teller-registry.jar >"$work/registry.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$registry_port/healthz" "${pids[-1]}" 60 || { echo "registry did not start"; log_tail registry; exit 1; }

urls=() balancers=()
java_opts=("${BALANCER_A_JAVA_OPTS-${BALANCER_JAVA_OPTS:-}}" "${BALANCER_B_JAVA_OPTS-${BALANCER_JAVA_OPTS:-}}")
for i in 0 1; do
  port cluster; port https; port http; port admin
  env "${common[@]}" TELLER_CLUSTER_PORT="$cluster" TELLER_HTTPS_PORT="$https" TELLER_HTTP_PORT="$http" \
    TELLER_HTTP_REDIRECT=false TELLER_ADMIN_PORT="$admin" TELLER_DATA_DIR="$work/balancer-$i" \
    java ${java_opts[i]} -jar "${jars[i]}" >"$work/balancer-$i.log" 2>&1 &
  pids+=($!) balancers+=($!)
  if [[ $mode == http ]]; then urls+=("http://127.0.0.1:$http/"); else urls+=("https://127.0.0.1:$https/"); fi
done
api() {
  curl -sf -o /dev/null -X "$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data "$3" "http://127.0.0.1:$registry_port/v1$2"
}
api PUT /services/bench '{"routes":[{"pathPrefix":"/"}],"strategy":"least-connections"}'
for p in $b1 $b2 $b3; do api POST /services/bench/instances "{\"host\":\"127.0.0.1\",\"port\":$p}"; done
for i in 0 1; do
  wait_for "${urls[i]}" "${balancers[i]}" 90 || { echo "balancer ${jars[i]} did not answer"; log_tail "balancer-$i" 20; exit 1; }
done

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
echo "A = ${jars[0]}${java_opts[0]:+ (JVM options: ${java_opts[0]})}"
echo "B = ${jars[1]}${java_opts[1]:+ (JVM options: ${java_opts[1]})}"
# load URL SECONDS: one run of the load tool; prints "req/s requests p99_ms".
load() {
  if [[ $mode == h2 ]]; then
    local log=$work/h2load.log rps n p99
    rps=$(h2load -t"$threads" -c16 -m4 -D "$2" --npn-list=h2 --log-file="$log" "$1" 2>&1 |
      awk '/^finished in/ {print $4}')
    # h2load's log: start time, status, duration in µs, a line per request; p99 by nearest rank.
    n=$(wc -l <"$log")
    p99=$(cut -f3 "$log" | LC_ALL=C sort -n |
      awk -v n="$n" 'BEGIN { r = int(n * 0.99); if (r < n * 0.99) r++ } NR == r { printf "%.2f", $1 / 1000 }')
    rm -f "$log"
    printf '%.0f %d %s\n' "${rps:-0}" "$n" "${p99:-0}"
  else
    wrk -t"$threads" -c"$connections" -d"$2s" --latency "$1" | awk '
      /Requests\/sec/ { rps = $2 }
      /requests in/ { requests = $1 }
      $1 == "99%" { p99 = $2; if (p99 ~ /us$/) p99 = p99 / 1000; else if (p99 ~ /ms$/) p99 = p99 + 0; else p99 = p99 * 1000 }
      END { printf "%.0f %d %.2f\n", rps, requests, p99 }'
  fi
}
if [[ $mode == h2 ]]; then echo "h2load -t$threads -c16 -m4 ${duration}s per build per round, h2, after ${warmup}s of warm-up each"
else echo "wrk -t$threads -c$connections ${duration}s per build per round, $mode, after ${warmup}s of warm-up each"; fi
for i in 0 1; do load "${urls[i]}" "$warmup" >/dev/null; done

results=()
printf '%-6s %-5s %10s %9s %8s %14s\n' round build 'req/s' 'p99 ms' 'cpu s' 'req/cpu s'
for ((r = 1; r <= rounds; r++)); do
  for i in 0 1; do
    before=$(ticks "${balancers[i]}")
    read -r rps requests p99 < <(load "${urls[i]}" "$duration")
    after=$(ticks "${balancers[i]}")
    line=$(awk -v before="$before" -v after="$after" -v hz="$hz" -v rps="$rps" -v requests="$requests" -v p99="$p99" '
      BEGIN { cpu = (after - before) / hz; printf "%.0f %.2f %.2f %.0f", rps, p99, cpu, (cpu > 0 ? requests / cpu : 0) }')
    results+=("$r ${i} $line")
    read -r rps p99 cpu per <<<"$line"
    printf '%-6s %-5s %10s %9s %8s %14s\n' "$r" "$([[ $i == 0 ]] && echo A || echo B)" "$rps" "$p99" "$cpu" "$per"
  done
done

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
printf '%-22s %10s %10s %8s\n' 'median of rounds' A B 'B / A'
for col in 3:req/s 4:'p99 ms' 6:'req/cpu s'; do
  field=${col%%:*} name=${col#*:}
  a=$(printf '%s\n' "${results[@]}" | awk -v f="$field" '$2 == 0 { print $f }' | median)
  b=$(printf '%s\n' "${results[@]}" | awk -v f="$field" '$2 == 1 { print $f }' | median)
  printf '%-22s %10s %10s %8s\n' "$name" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')"
done
ratios=$(printf '%s\n' "${results[@]}" | awk '{ v[$1 " " $2] = $6 } END { for (r = 1; v[r " 0"] != ""; r++) printf "%.2f ", v[r " 1"] / v[r " 0"] }')
echo "B / A req per CPU second, round by round: $ratios"
