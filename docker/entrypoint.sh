#!/bin/sh
# Starts one Teller program. Each container advertises its own address to the cluster unless
# TELLER_CLUSTER_HOST says otherwise.
set -e
program=${1:-registry}
shift || true
case $program in
  registry|balancer|sample-backend) ;;
  *) echo "usage: registry | balancer | sample-backend [--conf FILE]" >&2; exit 2 ;;
esac
if [ -z "$TELLER_CLUSTER_HOST" ]; then
  TELLER_CLUSTER_HOST=$(hostname -i | awk '{print $1}')
  export TELLER_CLUSTER_HOST
fi
echo "$program" > /tmp/teller-program
# The registry runs on the C1 compiler alone (as ./teller starts it: its writes come in bursts,
# which C2 compiling in the background slowed); JAVA_OPTS come after, so they can override it.
defaults=""
[ "$program" != registry ] || defaults="-XX:TieredStopAtLevel=1"
# shellcheck disable=SC2086 # the options are words
exec java $defaults $JAVA_OPTS -jar "/app/teller-$program.jar" "$@"
