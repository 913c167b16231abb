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
exec java $JAVA_OPTS -jar "/app/teller-$program.jar" "$@"
