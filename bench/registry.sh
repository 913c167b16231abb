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
# Ports below the ephemeral range, free when probed: a fixed port in that range was now and then
# taken by another program's outgoing connection ("Address already in use").
read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || ephemeral_low=32768
port_low=10000 port_high=$((ephemeral_low - 1))
((port_high - port_low >= 1000)) || port_low=1024
free_port() {
  local candidate
  while :; do
    candidate=$((port_low + (RANDOM * 32768 + RANDOM) % (port_high - port_low + 1)))
    [[ $candidate != "${api_port:-}" ]] || continue
    (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null || { echo "$candidate"; return; }
  done
}
api_port=$(free_port)
cluster_port=$(free_port)
export TELLER_CLUSTER_NAME=$cluster TELLER_CLUSTER_PORT=$cluster_port \
  TELLER_CLUSTER_MEMBERS=127.0.0.1:$cluster_port TELLER_REGISTRY_PORT=$api_port \
  TELLER_LISTEN_HOST=127.0.0.1 TELLER_API_TOKEN=$token TELLER_DATA_DIR="$work/data"
java -Xmx1g -jar registry/target/teller-registry.jar >"$work/registry.log" 2>&1 &
registry=$!
until grep -q " ready in " "$work/registry.log"; do
  kill -0 $registry 2>/dev/null || { cat "$work/registry.log"; exit 1; }
  sleep 0.1
done
unset TELLER_CLUSTER_PORT TELLER_REGISTRY_PORT
java -cp registry/target/teller-registry.jar bench/RegistryBench.java "$api_port" $token "$cluster" \
  "127.0.0.1:$cluster_port" \
  "${1:-10000}" "${2:-1000}" "${3:-32}" 2>"$work/bench.err" || { cat "$work/bench.err"; exit 1; }
jcmd $registry GC.run >/dev/null
echo "registry heap after GC: $(jcmd $registry GC.heap_info | awk '/used/ {print; exit}' | sed 's/^ *//')"
