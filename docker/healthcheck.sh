#!/bin/bash
# Docker HEALTHCHECK: the health endpoint of whichever program this container runs, asked over
# bash's /dev/tcp so that the image needs no HTTP client of its own.
case $(cat /tmp/teller-program 2>/dev/null) in
  registry) port=${TELLER_REGISTRY_PORT:-9000} path=/healthz ;;
  balancer) port=${TELLER_ADMIN_PORT:-9100} path=/healthz ;;
  sample-backend) port=${TELLER_BACKEND_PORT:-8080} path=/health ;;
  *) exit 1 ;;
esac
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$path" >&3
read -r -t 2 _ status _ <&3 || exit 1
[ "$status" = 200 ]
