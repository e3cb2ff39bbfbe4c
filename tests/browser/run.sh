#!/usr/bin/env bash
# Browser tests of the page behind the link in the mail: headless
# Debian Chromium driven by npm's playwright-core (which never downloads a
# browser), against the whole stack started here: a private PostgreSQL
# cluster, an aiosmtpd sink writing a Maildir, calndro-notify, calndro-events
# and calndro-gateway from $CALNDRO_BUILD_DIR/bin (default build/).
#
#   bash tests/browser/run.sh
#
#   CALNDRO_BUILD_DIR        build folder holding bin/ (build)
#   CALNDRO_BROWSER_KEEP=1   keep the temporary folder (database, mail, logs)
# Screenshots land in tests/artifacts/. Exits non-zero on any failure.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../../deploy/lib/pg-cluster.sh
source "$ROOT/deploy/lib/pg-cluster.sh"

BUILD_DIR=${CALNDRO_BUILD_DIR:-$ROOT/build}
BIN=$(readlink -f "$BUILD_DIR")/bin
log() { echo "tests/browser: $*" >&2; }

for binary in calndro-notify calndro-events calndro-gateway calndro-admin; do
  if [ ! -x "$BIN/$binary" ]; then
    log "$BIN/$binary is missing: build first (cmake -S . -B build && cmake --build build)"
    exit 1
  fi
done

if [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get install -y chromium || { $SUDO apt-get update && $SUDO apt-get install -y chromium; } || {
    log "could not install chromium"
    exit 1
  }
fi
command -v node >/dev/null && command -v npm >/dev/null || { log "node and npm are needed"; exit 1; }

(cd "$HERE" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) || {
  log "npm ci failed"
  exit 1
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

TMP=$(mktemp -d /tmp/calndro-browser.XXXXXX)
chmod 755 "$TMP"
mkdir -p "$TMP/logs"
PIDS=()
cleanup() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${PIDS[$i]}" 2>/dev/null || true
  done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    wait "${PIDS[$i]}" 2>/dev/null || true
  done
  smtp_sink_stop "$TMP/smtp.pid"
  pg_cluster_stop "$TMP/pg" >/dev/null 2>&1 || true
  if [ -n "${CALNDRO_BROWSER_KEEP:-}" ]; then
    log "kept $TMP"
  else
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PG_PORT=$(free_port)
SMTP_PORT=$(free_port)
EVENTS_PORT=$(free_port)
NOTIFY_PORT=$(free_port)
HTTP_PORT=$(free_port)

pg_cluster_start "$TMP/pg" "$PG_PORT" || { log "PostgreSQL did not start"; exit 1; }
smtp_sink_start "$TMP/mail" "$SMTP_PORT" "$TMP/smtp.pid" "$TMP/logs/smtp.log" || { log "SMTP sink did not start"; exit 1; }

export CALNDRO_DATABASE_URL
CALNDRO_DATABASE_URL=$(pg_cluster_url "$TMP/pg" "$PG_PORT")
export CALNDRO_SMTP_URL=smtp://127.0.0.1:$SMTP_PORT
export CALNDRO_EVENTS_LISTEN=127.0.0.1:$EVENTS_PORT CALNDRO_EVENTS_ADDR=127.0.0.1:$EVENTS_PORT
export CALNDRO_NOTIFY_LISTEN=127.0.0.1:$NOTIFY_PORT CALNDRO_NOTIFY_ADDR=127.0.0.1:$NOTIFY_PORT
export CALNDRO_HTTP_LISTEN=127.0.0.1:$HTTP_PORT
export CALNDRO_EVENTS_PORT=$EVENTS_PORT CALNDRO_NOTIFY_PORT=$NOTIFY_PORT CALNDRO_HTTP_PORT=$HTTP_PORT
export CALNDRO_INTERNAL_TOKEN
CALNDRO_INTERNAL_TOKEN=$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')

wait_port() {  # name port pid
  local i
  for i in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$3" 2>/dev/null; then
      log "$1 exited:"
      tail -n 30 "$TMP/logs/$1.log" >&2
      return 1
    fi
    sleep 0.1
  done
  log "$1 did not listen on port $2"
  return 1
}
start() {  # binary port
  "$BIN/$1" >>"$TMP/logs/$1.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_port "$1" "$2" "$pid"
}
start calndro-notify "$NOTIFY_PORT" || exit 1
start calndro-events "$EVENTS_PORT" || exit 1
start calndro-gateway "$HTTP_PORT" || exit 1

PROPOSER=prop@example.net
PASSWORD=$(od -An -tx1 -N9 /dev/urandom | tr -d ' \n')
printf '%s\n' "$PASSWORD" | "$BIN/calndro-admin" user add "$PROPOSER" --username prop --password-stdin \
  >>"$TMP/logs/admin.log" 2>&1 || { log "calndro-admin failed:"; cat "$TMP/logs/admin.log" >&2; exit 1; }

mkdir -p "$ROOT/tests/artifacts"
STATUS=0
CALNDRO_BASE_URL=http://127.0.0.1:$HTTP_PORT \
  CALNDRO_MAILDIR=$TMP/mail \
  CALNDRO_PSQL="$PG_BIN/psql" \
  CALNDRO_PROPOSER=$PROPOSER CALNDRO_PASSWORD=$PASSWORD \
  CALNDRO_ARTIFACTS=$ROOT/tests/artifacts \
  CALNDRO_BROWSER_TMP=$TMP \
  node "$HERE/page.test.mjs" || STATUS=$?
if [ "$STATUS" != 0 ]; then
  log "failed; last gateway log lines:"
  tail -n 15 "$TMP/logs/calndro-gateway.log" >&2
fi
exit "$STATUS"
