#!/usr/bin/env bash
# Measures deploy/run-local.sh's first and second start as a new user meets
# them: a fresh Debian 12 root (mmdebstrap --variant=apt: essential packages
# and apt, nothing else, so no compiler and no PostgreSQL), this checkout
# cloned into it, run-local started there with chroot as root. The time
# counted is from run-local's start to the gateway's first 200 on /readyz
# (events and notify both answering). The second start stops the first with
# SIGINT and starts again: no install, no configure, nothing to compile.
#
#   bash bench/first-start.sh [DIR]   (root; DIR default: a new folder in /tmp)
#
# It needs network access to the Debian mirror of /etc/apt/sources.list.d/
# (the install is part of the first start). The root's services listen on
# 127.0.0.1 ports offset from run-local's defaults (HTTP 19000), so a stack
# already running here is not disturbed. It removes DIR at the end unless
# CALNDRO_KEEP=1. The run takes about ten minutes on two cores; run it on a
# quiet machine, the number is the wall time a user waits.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "first-start: needs root (mmdebstrap, chroot)" >&2; exit 2; }
command -v mmdebstrap >/dev/null || { echo "first-start: needs mmdebstrap (apt-get install mmdebstrap)" >&2; exit 2; }

DIR=${1:-$(mktemp -d /tmp/calndro-first-start.XXXXXX)}
HTTP_PORT=19000
LOG=$DIR.log
mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
  if [ "${CALNDRO_KEEP:-0}" != 1 ]; then rm -rf "$DIR"; fi
}
trap cleanup EXIT

echo "first-start: a fresh Debian 12 root in $DIR (not counted)"
mmdebstrap --quiet --variant=apt bookworm "$DIR" /etc/apt/sources.list.d/debian.sources
for m in proc sys dev dev/pts; do
  mount --rbind "/$m" "$DIR/$m"
  mounted+=("$DIR/$m")
done
cp /etc/resolv.conf "$DIR/etc/resolv.conf"
# The checkout as a user's git clone would leave it: committed files only.
mkdir -p "$DIR/root/calndro"
git -C "$ROOT" archive HEAD | tar -x -C "$DIR/root/calndro"

# start LABEL: runs run-local in the root, prints the seconds until /readyz
# answers 200 (at most 30 minutes), leaves it running.
RUN_PID=""
start() {
  local label=$1 t0 now
  t0=$(date +%s)
  setsid chroot "$DIR" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 CALNDRO_HTTP_PORT=$HTTP_PORT CALNDRO_EVENTS_PORT=$((HTTP_PORT + 1)) \
    CALNDRO_NOTIFY_PORT=$((HTTP_PORT + 2)) CALNDRO_PG_PORT=$((HTTP_PORT + 3)) CALNDRO_SMTP_PORT=$((HTTP_PORT + 4)) \
    CALNDRO_EVENTS_METRICS_LISTEN=127.0.0.1:$((HTTP_PORT + 5)) \
    CALNDRO_NOTIFY_METRICS_LISTEN=127.0.0.1:$((HTTP_PORT + 6)) \
    CALNDRO_GATEWAY_METRICS_LISTEN=127.0.0.1:$((HTTP_PORT + 7)) \
    bash /root/calndro/deploy/run-local.sh > >(while IFS= read -r line; do
      printf '%4d %s\n' $(($(date +%s) - t0)) "$line"
    done >>"$LOG") 2>&1 &
  RUN_PID=$!
  while :; do
    now=$(date +%s)
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/readyz" 2>/dev/null)" = 200 ]; then
      echo "first-start: $label: served after $((now - t0)) s"
      return 0
    fi
    if ! kill -0 "$RUN_PID" 2>/dev/null; then
      echo "first-start: $label: run-local ended after $((now - t0)) s without serving (log: $LOG)" >&2
      tail -n 30 "$LOG" >&2
      return 1
    fi
    if [ $((now - t0)) -gt 1800 ]; then
      echo "first-start: $label: not served in 30 minutes (log: $LOG)" >&2
      return 1
    fi
    sleep 1
  done
}
stop() {
  kill -INT -- "-$RUN_PID" 2>/dev/null || kill -INT "$RUN_PID" 2>/dev/null || true
  for _ in $(seq 60); do kill -0 "$RUN_PID" 2>/dev/null || return 0; sleep 1; done
  kill -KILL -- "-$RUN_PID" 2>/dev/null || true
}

: >"$LOG"
echo "first-start: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git -C "$ROOT" rev-parse --short HEAD)"
status=0
if start "first start (install, build, start)"; then
  grep -E 'Setting up postgresql-15 |Built target calndro-(events|notify|gateway|admin)' "$LOG" | sed 's/^/  /' || true
  stop
  if start "second start"; then stop; else status=1; fi
else
  status=1
  stop
fi
echo "first-start: log in $LOG"
exit "$status"
