#!/bin/sh
# Docker HEALTHCHECK: the health endpoint of whichever program this container runs.
case $(cat /tmp/teller-program 2>/dev/null) in
  registry) exec curl -fsS -o /dev/null "http://127.0.0.1:${TELLER_REGISTRY_PORT:-9000}/healthz" ;;
  balancer) exec curl -fsS -o /dev/null "http://127.0.0.1:${TELLER_ADMIN_PORT:-9100}/healthz" ;;
  sample-backend) exec curl -fsS -o /dev/null "http://127.0.0.1:${TELLER_BACKEND_PORT:-8080}/health" ;;
  *) exit 1 ;;
esac
