# Helpers the benchmark scripts share; sourced from the project root by bench/*.sh.
# shellcheck shell=bash

# Listening ports are taken below the kernel's ephemeral range (32768-60999 by default), where no
# outgoing connection or port-0 listener (the Vert.x event bus) can take one before it is bound.
read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || ephemeral_low=32768
port_low=10000 port_high=$((ephemeral_low - 1))
((port_high - port_low >= 1000)) || port_low=1024
used_ports=" "
# port VAR: a free loopback port (nothing listens on it), distinct from those already given.
port() {
  local candidate
  while :; do
    candidate=$((port_low + (RANDOM * 32768 + RANDOM) % (port_high - port_low + 1)))
    [[ $used_ports == *" $candidate "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
      used_ports+="$candidate "
      printf -v "$1" '%s' "$candidate"
      return
    fi
  done
}

# log_tail NAME [LINES]: the end of $work/NAME.log, indented.
log_tail() { tail -n "${2:-5}" "$work/$1.log" 2>/dev/null | sed 's/^/    | /'; }

# http_status URL: the status of a GET (000 when nothing answers), certificates not checked.
http_status() { curl -sk -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null || true; }

# wait_for URL PID SECONDS: until URL answers 200; fails when PID exits or time is up.
wait_for() {
  local url=$1 pid=$2 deadline=$((SECONDS + $3))
  until [[ $(http_status "$url") == 200 ]]; do
    kill -0 "$pid" 2>/dev/null || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}
