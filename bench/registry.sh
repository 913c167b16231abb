#!/usr/bin/env bash
# Registry benchmark: 10,000 registrations across 1,000 services over REST (rate, latency),
# the registry's heap afterwards, and REST write -> event-bus subscriber latency on another node.
# One registry process on loopback, a cluster of its own. Run after `mvn -B -DskipTests package`.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
cluster="bench-registry-$$"
token=bench-token
# shellcheck source=bench/lib.sh
source bench/lib.sh
port api_port
port cluster_port
export TELLER_CLUSTER_NAME=$cluster TELLER_CLUSTER_PORT=$cluster_port \
  TELLER_CLUSTER_MEMBERS=127.0.0.1:$cluster_port TELLER_REGISTRY_PORT=$api_port \
  TELLER_LISTEN_HOST=127.0.0.1 TELLER_API_TOKEN=$token TELLER_DATA_DIR="$work/data"
java -Xmx1g -XX:TieredStopAtLevel=1 -jar registry/target/teller-registry.jar >"$work/registry.log" 2>&1 &
registry=$!
until grep -q " ready in " "$work/registry.log"; do
  kill -0 $registry 2>/dev/null || { cat "$work/registry.log"; exit 1; }
  sleep 0.1
done
unset TELLER_CLUSTER_PORT TELLER_REGISTRY_PORT
# The client on C1 too: on two cores its C2 compiler threads took half a core from the registry.
java -XX:TieredStopAtLevel=1 -cp registry/target/teller-registry.jar bench/RegistryBench.java "$api_port" $token "$cluster" \
  "127.0.0.1:$cluster_port" \
  "${1:-10000}" "${2:-1000}" "${3:-32}" $registry 2>"$work/bench.err" || { cat "$work/bench.err"; exit 1; }
jcmd $registry GC.run >/dev/null
echo "registry heap after GC: $(jcmd $registry GC.heap_info | awk '/used/ {print; exit}' | sed 's/^ *//')"
