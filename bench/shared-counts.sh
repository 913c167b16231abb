#!/usr/bin/env bash
# Shared least-connection counts on vs off, with enough rounds to resolve a few percent.
# One registry and two balancers in a Teller cluster of their own, on loopback; two services over
# the same backends, identical but for sharedCounts (true on /shared/, false on /local/), both
# least-connections. After a warm-up of both, wrk HTTPS keep-alive rounds alternate between the
# two paths inside the same warmed JVMs; the figures are per-mode medians and the paired
# difference (round i shared against round i local) with a bootstrap interval of its median.
# Run after `mvn -B -DskipTests package`; `bench/shared-counts.sh --help` lists the options.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<EOF
usage: bench/shared-counts.sh [options]
  --rounds N         measured rounds, each one run of each mode (default 10, at most 50)
  --duration S       seconds of load per mode per round (default 5, at most 30)
  --warmup S         warm-up seconds per mode before the first round (default 20, at most 120)
  --through WHERE    both: load through both balancers at once, half the connections and
                     threads each (default); first: all load through the first balancer, the
                     second only exchanges counts
  --connections N    wrk connections in all (default 64)
  --threads N        wrk threads in all (default 2)
  --backends N       backend ports served by the one backend process (default 3)
  --backend KIND     nginx (one nginx, 1 worker) or java (bench/Backend.java, one event loop);
                     default nginx when installed, java otherwise
  --resamples N      bootstrap resamples for the interval (default 2000, at most 20000)
  -h, --help         this text
  Quick smoke run: bench/shared-counts.sh --rounds 2 --duration 2 --warmup 3
Environment: BALANCER_JAVA_OPTS, JVM options for both balancers (default: none, as ./teller).
EOF
}

rounds=10 duration=5 warmup=20 through=both connections=64 threads=2 backends=3 backend="" resamples=2000
positive_int() {
  [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "bench/shared-counts.sh: $1 needs a positive integer, got '$2'" >&2; exit 2; }
  (($2 <= $3)) || { echo "bench/shared-counts.sh: $1 is at most $3, got $2" >&2; exit 2; }
}
while (($#)); do
  case $1 in
    --rounds | --duration | --warmup | --connections | --threads | --backends | --resamples)
      (($# >= 2)) || { echo "bench/shared-counts.sh: $1 needs a value" >&2; exit 2; }
      case $1 in
        --rounds) max=50 ;; --duration) max=30 ;; --warmup) max=120 ;; --connections) max=1024 ;;
        --threads) max=16 ;; --backends) max=16 ;; --resamples) max=20000 ;;
      esac
      positive_int "$1" "$2" "$max"
      declare "${1#--}=$2"
      shift ;;
    --through)
      if (($# < 2)) || [[ $2 != both && $2 != first ]]; then
        echo "bench/shared-counts.sh: --through needs both or first" >&2; exit 2
      fi
      through=$2
      shift ;;
    --backend)
      if (($# < 2)) || [[ $2 != nginx && $2 != java ]]; then
        echo "bench/shared-counts.sh: --backend needs nginx or java" >&2; exit 2
      fi
      backend=$2
      shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench/shared-counts.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [[ $through == both ]] && ((threads < 2 || connections < 2)); then
  echo "bench/shared-counts.sh: --through both needs at least 2 threads and 2 connections" >&2; exit 2
fi

find_program() { PATH="$PATH:/usr/sbin:/sbin:/usr/local/sbin" command -v "$1" 2>/dev/null || true; }
wrk_bin=$(find_program wrk)
nginx_bin=$(find_program nginx)
[[ -n $wrk_bin ]] || { echo "bench/shared-counts.sh: wrk not found (apt-get install wrk)" >&2; exit 1; }
if [[ -z $backend ]]; then
  if [[ -n $nginx_bin ]]; then backend=nginx; else backend=java; fi
elif [[ $backend == nginx && -z $nginx_bin ]]; then
  echo "bench/shared-counts.sh: --backend nginx needs nginx; use --backend java" >&2; exit 1
fi
jars=(registry/target/teller-registry.jar balancer/target/teller-balancer.jar)
[[ $backend == nginx ]] || jars+=(sample-backend/target/teller-sample-backend.jar)
for jar in "${jars[@]}"; do
  [[ -f $jar ]] || { echo "bench/shared-counts.sh: $jar missing; build first: mvn -B -DskipTests package" >&2; exit 1; }
done
clock_ticks=$(getconf CLK_TCK)

# --- processes and clean-up ------------------------------------------------------------------
work=$(mktemp -d -t teller-bench-shared.XXXXXX)
pids=() load_pids=()
cleanup() {
  local pid deadline
  trap - EXIT INT TERM
  pids+=("${load_pids[@]}")
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
fail() { echo "bench/shared-counts.sh: $1" >&2; [[ -z ${2:-} ]] || log_tail "$2" 20 >&2; exit 1; }

# --- backends (as bench/http.sh starts them) -------------------------------------------------
backend_ports=()
for ((i = 0; i < backends; i++)); do port p; backend_ports+=("$p"); done
backend_body=teller-bench-backend-64-byte-body-0123456789abcdefghijklmnopqrs
if [[ $backend == nginx ]]; then
  echo "starting the backend (one nginx, 1 worker) on ports ${backend_ports[*]}"
  dir=$work/backend
  mkdir -p "$dir"
  {
    ((EUID != 0)) || echo "user root root;"
    cat <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/client_body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 75s;
  default_type text/plain;
  server {
$(for p in "${backend_ports[@]}"; do echo "    listen 127.0.0.1:$p;"; done)
    client_max_body_size 0;
    location / { return 200 "$backend_body\n"; }
  }
}
EOF
  } >"$dir/nginx.conf"
  # From nginx 1.19.5 its early error log goes into the temporary directory too.
  early_log=() release=$("$nginx_bin" -v 2>&1 || true); release=${release##*nginx/}; release=${release%%[!0-9.]*}
  [[ $(printf '%s\n' 1.19.5 "$release" | sort -V | head -n 1) != 1.19.5 ]] || early_log=(-e "$dir/error.log")
  start backend "$nginx_bin" -c "$dir/nginx.conf" "${early_log[@]}" -g "daemon off;"
  backend_pid=$last_pid
  for p in "${backend_ports[@]}"; do
    wait_for "http://127.0.0.1:$p/shared/x" "$backend_pid" 15 || fail "the nginx backend did not answer 200 on :$p" backend
  done
else
  echo "starting the backend (bench/Backend.java, one event loop) on ports ${backend_ports[*]}"
  start backend java -cp sample-backend/target/teller-sample-backend.jar bench/Backend.java "${backend_ports[@]}"
  backend_pid=$last_pid
  deadline=$((SECONDS + 60))
  until grep -q "backend ready" "$work/backend.log"; do
    if ! kill -0 "$backend_pid" 2>/dev/null || ((SECONDS >= deadline)); then fail "the backend did not start" backend; fi
    sleep 0.1
  done
fi

# --- Teller: one registry, two balancers -----------------------------------------------------
balancer_java_opts=${BALANCER_JAVA_OPTS:-}
registry_port="" registry_cluster_port=""
port registry_port; port registry_cluster_port
token="bench-token-$$-$RANDOM"
cluster_name="bench-shared-$$-$RANDOM"
common_env=(TELLER_CLUSTER_NAME="$cluster_name" TELLER_CLUSTER_MEMBERS="127.0.0.1:$registry_cluster_port"
  TELLER_LISTEN_HOST=127.0.0.1 TELLER_API_TOKEN="$token" TELLER_REGISTRY_PORT="$registry_port")
echo "starting the Teller registry (:$registry_port), cluster $cluster_name"
start registry env "${common_env[@]}" TELLER_CLUSTER_PORT="$registry_cluster_port" \
  TELLER_DATA_DIR="$work/registry-data" java -jar registry/target/teller-registry.jar
registry_pid=$last_pid
wait_for "http://127.0.0.1:$registry_port/healthz" "$registry_pid" 60 || fail "the registry did not become ready" registry

balancer_pids=() https_ports=() admin_ports=() cluster_port="" https_port="" http_port="" admin_port=""
for b in 1 2; do
  port cluster_port; port https_port; port http_port; port admin_port
  echo "starting balancer $b (https :$https_port, admin :$admin_port)"
  # env execs java: the process started is the balancer's JVM, whose CPU the rounds report.
  # shellcheck disable=SC2086 # BALANCER_JAVA_OPTS is a list of options
  start "balancer$b" env "${common_env[@]}" TELLER_CLUSTER_PORT="$cluster_port" \
    TELLER_HTTPS_PORT="$https_port" TELLER_HTTP_PORT="$http_port" TELLER_HTTP_REDIRECT=false \
    TELLER_ADMIN_PORT="$admin_port" TELLER_DATA_DIR="$work/balancer$b-data" \
    java $balancer_java_opts -jar balancer/target/teller-balancer.jar
  balancer_pids+=("$last_pid") https_ports+=("$https_port") admin_ports+=("$admin_port")
done

registry_api="http://127.0.0.1:$registry_port/v1"
# api METHOD PATH JSON: a registry write; prints the status.
api() {
  curl -s -o "$work/api-response" -m 5 -w '%{http_code}' -X "$1" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' --data "$3" "$registry_api$2" || true
}
# Two services, identical but for the name, the path prefix and sharedCounts.
for mode in shared local; do
  if [[ $mode == shared ]]; then flag=true; else flag=false; fi
  status=$(api PUT "/services/$mode" \
    "{\"routes\":[{\"pathPrefix\":\"/$mode\"}],\"strategy\":\"least-connections\",\"sharedCounts\":$flag}")
  [[ $status == 2* ]] || fail "PUT /v1/services/$mode answered $status: $(cat "$work/api-response")"
  for p in "${backend_ports[@]}"; do
    status=$(api POST "/services/$mode/instances" "{\"host\":\"127.0.0.1\",\"port\":$p}")
    [[ $status == 2* ]] || fail "POST /v1/services/$mode/instances answered $status: $(cat "$work/api-response")"
  done
  echo "  service '$mode': pathPrefix /$mode, least-connections, sharedCounts $flag, ${#backend_ports[@]} instances"
done
for b in 0 1; do
  wait_for "http://127.0.0.1:${admin_ports[b]}/healthz" "${balancer_pids[b]}" 60 ||
    fail "balancer $((b + 1)) did not become ready" "balancer$((b + 1))"
  for mode in shared local; do
    wait_for "https://127.0.0.1:${https_ports[b]}/$mode/" "${balancer_pids[b]}" 30 ||
      fail "balancer $((b + 1)) did not answer 200 on /$mode/ within 30 s" "balancer$((b + 1))"
  done
done
# Both balancers must see each other (registry + 2 balancers = 3 members) before anything counts.
members() { curl -s -m 2 "http://127.0.0.1:$1/healthz" 2>/dev/null | sed -n 's/.*"members":\([0-9]*\).*/\1/p'; }
deadline=$((SECONDS + 30))
until [[ $(members "${admin_ports[0]}") == 3 && $(members "${admin_ports[1]}") == 3 ]]; do
  ((SECONDS < deadline)) || fail "the balancers do not see 3 cluster members after 30 s"
  sleep 0.2
done
echo "  both balancers answer /shared/ and /local/ over HTTPS and see 3 cluster members"

# --- machine ---------------------------------------------------------------------------------
first_line() { local out; out=$("$@" 2>&1 || true); echo "${out%%$'\n'*}"; }
echo
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null), Linux $(uname -r)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15-minute load average before measuring)"
echo "java:    $(first_line java -version)"
wrk_version=$(first_line "$wrk_bin" -v); echo "wrk:     ${wrk_version% Copyright*}"
if [[ $backend == nginx ]]; then
  echo "backend: $(first_line "$nginx_bin" -v | sed 's/^nginx version: //'), 1 worker, ports ${backend_ports[*]}"
else
  echo "backend: bench/Backend.java, one event loop, ports ${backend_ports[*]}"
fi
echo "teller:  1 registry, 2 balancers; balancer JVM options: ${balancer_java_opts:-none (as ./teller)}"
if [[ $through == both ]]; then
  load_threads=$((threads / 2)) load_connections=$((connections / 2)) targets=(0 1)
  echo "load:    through both balancers at once: per balancer wrk -t$load_threads -c$load_connections --latency, HTTPS keep-alive;"
  echo "         req/s is the sum of both, p50/p99 the mean of the two wrk figures"
else
  load_threads=$threads load_connections=$connections targets=(0)
  echo "load:    through balancer 1: wrk -t$load_threads -c$load_connections --latency, HTTPS keep-alive; balancer 2 idle but in the cluster"
fi
echo "rounds:  warm-up $warmup s per mode, then $rounds round(s) of $duration s per mode; odd rounds start with shared, even with local"

# --- measuring -------------------------------------------------------------------------------
mkdir -p "$work/runs"
to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
    if (f < 0) print "nan"; else printf "%.3f", n * f }'
}
# cpu_snapshot: "all busy ours balancers" in clock ticks: the machine's, the busy ones, this
# benchmark's (its process group and reaped children, i.e. wrk) and the two balancer JVMs'.
process_group=$(ps -o pgid= -p $$ | tr -d ' ')
cpu_snapshot() {
  { head -n 1 /proc/stat; cat /proc/[0-9]*/stat 2>/dev/null || true; } |
    awk -v pg="$process_group" -v self=$$ -v b1="${balancer_pids[0]}" -v b2="${balancer_pids[1]}" '
    NR == 1 { all = $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; busy = $2 + $3 + $4 + $9; next }
    { pid = $1; sub(/^.*\) /, "")
      if ($3 == pg) ours += $12 + $13
      if (pid == self) ours += $14 + $15
      if (pid == b1 || pid == b2) bal += $12 + $13 }
    END { printf "%d %d %d %d\n", all, busy, ours, bal }'
}

# measure MODE SECONDS PREFIX: one run of MODE through the target balancer(s), wrk output in
# PREFIX-<balancer>.txt; each wrk under `timeout` and in the background, so that Ctrl-C stops it.
measure() {
  local mode=$1 seconds=$2 prefix=$3 b
  load_pids=()
  for b in "${targets[@]}"; do
    timeout -k 5 $((seconds + 30)) "$wrk_bin" -t"$load_threads" -c"$load_connections" -d"${seconds}s" --latency \
      "https://127.0.0.1:${https_ports[b]}/$mode/" >"$prefix-$b.txt" 2>&1 &
    load_pids+=($!)
  done
  for b in "${load_pids[@]}"; do wait "$b" || true; done
  load_pids=()
}
# parse PREFIX: "req/s p50_ms p99_ms errors requests" over the target balancers' wrk outputs.
parse() {
  local b f rps p50 p99 requests errors out=""
  for b in "${targets[@]}"; do
    f=$1-$b.txt
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$f")
    p50=$(awk '$1 == "50%" {print $2}' "$f")
    p99=$(awk '$1 == "99%" {print $2}' "$f")
    requests=$(awk '$2 == "requests" && $3 == "in" {print $1}' "$f")
    errors=$(awk '/Non-2xx or 3xx responses:/ {e += $NF}
      /Socket errors:/ {for (i = 3; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) e += $i} END {print e + 0}' "$f")
    if [[ -z $rps || -z $p50 || -z $p99 || -z $requests ]]; then echo "nan nan nan $errors nan"; return; fi
    out+="$rps $(to_ms "$p50") $(to_ms "$p99") $errors $requests"$'\n'
  done
  awk '{ r += $1; p50 += $2; p99 += $3; e += $4; n += $5; k++ }
    END { printf "%.1f %.3f %.3f %d %d\n", r, p50 / k, p99 / k, e, n }' <<<"${out%$'\n'}"
}

echo
echo "warming up ($warmup s per mode, in two halves each)..."
half=$(((warmup + 1) / 2))
for mode in shared local shared local; do measure "$mode" "$half" "$work/runs/warmup"; done

declare -A results # results[mode,round] = "rps p50 p99 errors others% bal_cores req_per_bal_cpu_s"
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then order=(shared local); else order=(local shared); fi
  for mode in "${order[@]}"; do
    prefix=$work/runs/$mode-$r
    before=$(cpu_snapshot) started=$EPOCHREALTIME
    measure "$mode" "$duration" "$prefix"
    elapsed=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN {print b - a}')
    after=$(cpu_snapshot)
    read -r rps p50 p99 errors requests < <(parse "$prefix")
    read -r others cores per_cpu < <(awk -v a="$before" -v b="$after" -v s="$elapsed" -v n="$requests" -v hz="$clock_ticks" '
      BEGIN { split(a, x, " "); split(b, y, " ")
        all = y[1] - x[1]; other = (y[2] - x[2]) - (y[3] - x[3]); if (other < 0) other = 0
        cpu = (y[4] - x[4]) / hz
        printf "%s %s %s\n", (all > 0 ? sprintf("%.0f", 100 * other / all) : "?"),
          (s > 0 ? sprintf("%.2f", cpu / s) : "nan"), (cpu > 0 && n != "nan" ? sprintf("%.0f", n / cpu) : "nan") }')
    results[$mode,$r]="$rps $p50 $p99 $errors $others $cores $per_cpu"
    printf '  round %2d %-6s %9s req/s  p50 %7s ms  p99 %8s ms  balancers %s cores, %s req per CPU s  others %s%%%s\n' \
      "$r" "$mode" "$rps" "$p50" "$p99" "$cores" "$per_cpu" "$others" "$( ((errors == 0)) || echo "  ($errors errors)")"
  done
done
echo "load average after measuring: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- figures ---------------------------------------------------------------------------------
# column MODE F: field F of MODE's rounds, one a line (nan for a failed run).
column() { local r; for ((r = 1; r <= rounds; r++)); do echo "${results[$1,$r]}" | awk -v f="$2" '{print $f}'; done; }
median() { grep -v nan | sort -g | awk '{a[NR] = $1} END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# paired F: the per-round differences of field F, shared against local in percent of local, one a
# line (rounds where either run failed left out).
paired() {
  paste <(column shared "$1") <(column local "$1") |
    awk '$1 != "nan" && $2 != "nan" && $2 + 0 != 0 { printf "%.3f\n", 100 * ($1 - $2) / $2 }'
}
# interval: reads differences, prints "median lo hi coverage blo bhi min max n": lo .. hi the
# distribution-free interval of the median from the order statistics (sign test: the k-th smallest
# and k-th largest difference, k the largest with P(Binomial(n, 1/2) < k) <= 2.5%; coverage its
# exact confidence, in percent; with fewer than 6 pairs it is min .. max and covers less than 95%);
# blo .. bhi the 2.5% and 97.5% points of the median over $resamples bootstrap resamples of the
# pairs (fixed seed: the same rounds give the same interval).
interval() {
  local diffs; diffs=$(cat)
  [[ -n $diffs ]] || { echo "nan nan nan nan nan nan nan nan 0"; return; }
  local med sorted boot; med=$(median <<<"$diffs"); sorted=$(sort -g <<<"$diffs" | tr '\n' ' ')
  boot=$(awk -v B="$resamples" 'BEGIN { srand(20261126) } { d[++n] = $1 }
    END { for (b = 0; b < B; b++) {
            for (i = 1; i <= n; i++) s[i] = d[int(rand() * n) + 1]
            for (i = 2; i <= n; i++) { v = s[i]; j = i - 1; while (j > 0 && s[j] > v) { s[j + 1] = s[j]; j-- } s[j + 1] = v }
            print (n % 2) ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2 } }' <<<"$diffs" |
    sort -g | awk '{ m[NR] = $1 } END { lo = int(NR * 0.025) + 1; hi = int(NR * 0.975); if (hi < 1) hi = 1; print m[lo], m[hi] }')
  awk -v med="$med" -v sorted="$sorted" -v boot="$boot" 'BEGIN {
    n = split(sorted, d, " "); split(boot, b, " ")
    # P(X <= i) for X ~ Binomial(n, 1/2), accumulated until it exceeds 2.5%.
    p = 2 ^ -n; cum = p; k = 1
    for (i = 1; i < n; i++) { p = p * (n - i + 1) / i; if (cum + p > 0.025) break; cum += p; k = i + 1 }
    if (cum > 0.025) { k = 1; cum = 2 ^ -n }
    printf "%s %s %s %.1f %s %s %s %s %d\n", med, d[k], d[n - k + 1], 100 * (1 - 2 * cum), b[1], b[2], d[1], d[n], n }'
}
total_errors() { { column shared 4; column local 4; } | awk '{e += $1} END {print e + 0}'; }
max_others() { { column shared 5; column local 5; } | awk '$1 != "?" && $1 + 0 > m {m = $1 + 0} END {print m + 0}'; }

echo
echo "results: $rounds round(s) of $duration s per mode, medians over rounds"
printf '%-7s %10s %9s %9s %10s %12s  %s\n' mode req/s "p50 ms" "p99 ms" "bal cores" "req/CPU s" "req/s per round"
for mode in shared local; do
  printf '%-7s %10.0f %9.3f %9.3f %10.2f %12.0f  %s\n' "$mode" "$(column "$mode" 1 | median)" \
    "$(column "$mode" 2 | median)" "$(column "$mode" 3 | median)" "$(column "$mode" 6 | median)" \
    "$(column "$mode" 7 | median)" "$(column "$mode" 1 | awk '{printf "%.0f ", $1}')"
done
echo
echo "paired differences, shared vs local of the same round, in % of local (req/s: negative = sharing"
echo "slower; latency: positive = sharing slower). interval: distribution-free (sign-test) confidence"
echo "interval of the median paired difference, its exact coverage in brackets; bootstrap: 95% interval"
echo "of the median over $resamples resamples of the pairs"
printf '%-22s %8s %29s %21s %19s  %s\n' figure median "interval (coverage)" "bootstrap" "min .. max" "per round"
verdict_line=""
pct() { printf '%+.2f%%' "$1"; }
for spec in "req/s:1" "p50:2" "p99:3" "req per balancer CPU s:7"; do
  label=${spec%:*} f=${spec##*:}
  read -r med lo hi coverage blo bhi min max n < <(paired "$f" | interval)
  per_round=$(paired "$f" | awk '{printf "%+.1f ", $1}')
  printf '%-22s %8s %9s .. %-9s (%5s%%) %9s .. %-9s %8s .. %-8s  %s\n' "$label" "$(pct "$med")" "$(pct "$lo")" \
    "$(pct "$hi")" "$coverage" "$(pct "$blo")" "$(pct "$bhi")" "$(pct "$min")" "$(pct "$max")" "$per_round"
  if ((f == 1)); then
    verdict_line=$(awk -v m="$med" -v lo="$lo" -v hi="$hi" -v c="$coverage" -v n="$n" 'BEGIN {
      printf "req/s: median paired difference %+.2f%%, %.1f%% interval %+.2f%% .. %+.2f%% (%d pairs; the 5%% question", m, c, lo, hi, n
      printf " needs it inside -5%% .. +5%%): "
      if (lo >= -5 && hi <= 5) print "sharing is within 5% of local counts"
      else if (hi < -5) print "sharing costs more than 5%"
      else if (lo > 5) print "sharing is more than 5% faster (suspect: check the rounds)"
      else print "not resolved to 5% (run more or longer rounds)" }')
  fi
done
echo
echo "$verdict_line"
echo "errors: $(total_errors) over all runs; most CPU other processes took during a run: $(max_others)%"
# Evidence that counts really travelled: how many peer reports each balancer received, and how old.
for b in 0 1; do
  stale=$(curl -s -m 2 -H "Authorization: Bearer $token" "http://127.0.0.1:${admin_ports[b]}/counts" 2>/dev/null |
    grep -o '"peerStalenessMillis":{[^}]*}' || true)
  echo "balancer $((b + 1)) ${stale:-peerStalenessMillis: not available}"
done
