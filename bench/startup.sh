#!/usr/bin/env bash
# Start-up time to "ready" of each program, JVM start included: median of N runs (default 5).
# Uses a cluster of its own on loopback; the balancer and backend runs join a registry started
# first. Run after `mvn -B -DskipTests package`.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
export TELLER_CLUSTER_NAME="bench-startup-$$" TELLER_DATA_DIR="$work/data" TELLER_LISTEN_HOST=127.0.0.1
export TELLER_CLUSTER_PORT=47001 TELLER_CLUSTER_MEMBERS=127.0.0.1:47001

now_ms() { date +%s%3N; }

# time_to_ready JAR LOG: starts JAR, waits for its "ready in" line, prints the wall time in ms.
time_to_ready() {
  local jar=$1 log=$2 start
  start=$(now_ms)
  : >"$log"
  java -jar "$jar" >"$log" 2>&1 &
  local pid=$!
  until grep -q " ready in " "$log"; do
    kill -0 "$pid" 2>/dev/null || { echo "failed: $(cat "$log")" >&2; exit 1; }
    sleep 0.02
  done
  echo $(( $(now_ms) - start ))
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

report() {
  local name=$1 jar=$2 extra_env=$3 times=()
  for i in $(seq "$runs"); do
    times+=("$(env $extra_env bash -c "$(declare -f time_to_ready now_ms); time_to_ready $jar $work/$name-$i.log")")
  done
  printf '%-15s median %5s ms   runs: %s   jar %s\n' "$name" "$(printf '%s\n' "${times[@]}" | median)" \
    "${times[*]}" "$(du -h "$jar" | cut -f1)"
}

report registry registry/target/teller-registry.jar "TELLER_REGISTRY_PORT=47100"

# A registry for the lite members to join.
TELLER_REGISTRY_PORT=47101 java -jar registry/target/teller-registry.jar >"$work/registry.log" 2>&1 &
until grep -q " ready in " "$work/registry.log"; do sleep 0.05; done
report balancer balancer/target/teller-balancer.jar "TELLER_CLUSTER_PORT=47010 TELLER_ADMIN_PORT=47102"
report sample-backend sample-backend/target/teller-sample-backend.jar "TELLER_CLUSTER_PORT=47020"
