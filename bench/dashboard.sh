#!/usr/bin/env bash
# Dashboard benchmark: what the dashboard's stream costs a registry with 1,000 instances and three
# balancers reporting (in-flight counts every 10 ms, traffic once a second), with 0, 1 and 5 pages
# open. One registry process on loopback, a cluster of its own. Run after `mvn -B -DskipTests
# package`. Arguments: [instances (1000)] [seconds per phase (20)].
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cluster="bench-dashboard-$$"
token=bench-token
export TELLER_CLUSTER_NAME=$cluster TELLER_CLUSTER_PORT=47301 TELLER_CLUSTER_MEMBERS=127.0.0.1:47301 \
  TELLER_REGISTRY_PORT=47300 TELLER_LISTEN_HOST=127.0.0.1 TELLER_API_TOKEN=$token TELLER_DATA_DIR="$work/data"
java -Xmx1g -XX:TieredStopAtLevel=1 -jar registry/target/teller-registry.jar >"$work/registry.log" 2>&1 &
registry=$!
until grep -q " ready in " "$work/registry.log"; do
  kill -0 $registry 2>/dev/null || { cat "$work/registry.log"; exit 1; }
  sleep 0.1
done
unset TELLER_CLUSTER_PORT TELLER_REGISTRY_PORT
java -cp registry/target/teller-registry.jar bench/DashboardBench.java 47300 $token "$cluster" 127.0.0.1:47301 \
  $registry "${1:-1000}" "${2:-20}" 2>"$work/bench.err" || { cat "$work/bench.err"; exit 1; }
