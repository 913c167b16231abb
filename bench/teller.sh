#!/usr/bin/env bash
# The teller test as a benchmark: three tellers (backends serving one request at a time, 20 ms
# each), three balancer processes and one closed-loop client per balancer, with least-connection
# counts shared between the balancers and without. Prints, for both: the fraction of requests
# that had to wait, p50 and p99 latency, throughput; and how stale peers' counts were.
#   bench/teller.sh [SECONDS]   (default 10 per mode, after a warm-up)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
mvn -B -q verify -pl e2e -am -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
  -Dfailsafe.failIfNoSpecifiedTests=false -Dit.test=TellerHallIT -Dteller.hall.seconds="$seconds" \
  >/tmp/teller-bench-$$.log 2>&1 || { tail -40 /tmp/teller-bench-$$.log; exit 1; }
grep -h "teller test" e2e/target/failsafe-reports/io.teller.e2e.TellerHallIT-output.txt \
  | grep -v summary | sed 's/.*teller test: //' | tail -5
rm -f /tmp/teller-bench-$$.log
