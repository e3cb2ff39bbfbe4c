#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole calndro stack in the
# foreground: a private PostgreSQL cluster and an SMTP sink under
# $CALNDRO_STATE_DIR (default .calndro/ in the checkout), calndro-notify,
# calndro-events and calndro-gateway. Ctrl-C stops everything it started;
# a second start reuses the data.
#
#   CALNDRO_STATE_DIR     state folder (database, mail, logs, credentials)
#   CALNDRO_HTTP_PORT     gateway port (9000)
#   CALNDRO_EVENTS_PORT   event service port (50051)
#   CALNDRO_NOTIFY_PORT   notification service port (50052)
#   CALNDRO_PG_PORT       private PostgreSQL port (55432)
#   CALNDRO_SMTP_PORT     SMTP sink port (1025)
#   CALNDRO_DATABASE_URL  use this database; start no cluster
#   CALNDRO_SMTP_URL      use this SMTP server; start no sink
#   CALNDRO_PUBLIC_BASE_URL  base of links in mails (http://localhost:$CALNDRO_HTTP_PORT)
#   CALNDRO_SKIP_BUILD=1  skip install and build (deploy/test.sh uses this)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=lib/pg-cluster.sh
source "$ROOT/deploy/lib/pg-cluster.sh"

BUILD_DIR=${CALNDRO_BUILD_DIR:-$ROOT/build}
if [ "${CALNDRO_SKIP_BUILD:-0}" != 1 ]; then
  bash "$ROOT/deploy/install-deps.sh"
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake --build "$BUILD_DIR" -j"$(nproc)"
fi
BIN=$BUILD_DIR/bin

STATE=${CALNDRO_STATE_DIR:-$ROOT/.calndro}
mkdir -p "$STATE" "$STATE/logs"
STATE=$(readlink -f "$STATE")
HTTP_PORT=${CALNDRO_HTTP_PORT:-9000}
EVENTS_PORT=${CALNDRO_EVENTS_PORT:-50051}
NOTIFY_PORT=${CALNDRO_NOTIFY_PORT:-50052}
PG_PORT=${CALNDRO_PG_PORT:-55432}
SMTP_PORT=${CALNDRO_SMTP_PORT:-1025}

PIDS=()
STARTED_CLUSTER=0
STARTED_SMTP=0
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "run-local: stopping"
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${PIDS[$i]}" 2>/dev/null || true
  done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    wait "${PIDS[$i]}" 2>/dev/null || true
  done
  if [ "$STARTED_SMTP" = 1 ]; then
    smtp_sink_stop "$STATE/smtp.pid"
  fi
  if [ "$STARTED_CLUSTER" = 1 ]; then
    pg_cluster_stop "$STATE/pg" || true
  fi
  echo "run-local: stopped"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_port() {  # name port pid
  local i
  for i in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$3" 2>/dev/null; then
      echo "run-local: $1 exited; last lines of $STATE/logs/$1.log:" >&2
      tail -n 30 "$STATE/logs/$1.log" >&2 || true
      return 1
    fi
    sleep 0.1
  done
  echo "run-local: $1 did not listen on port $2" >&2
  return 1
}

# Database.
if [ -n "${CALNDRO_DATABASE_URL:-}" ]; then
  DATABASE_URL=$CALNDRO_DATABASE_URL
  echo "run-local: using CALNDRO_DATABASE_URL (no private cluster)"
else
  pg_cluster_start "$STATE/pg" "$PG_PORT"
  STARTED_CLUSTER=1
  DATABASE_URL=$(pg_cluster_url "$STATE/pg" "$PG_PORT")
  echo "run-local: PostgreSQL in $STATE/pg on 127.0.0.1:$PG_PORT"
fi

# Mail.
if [ -n "${CALNDRO_SMTP_URL:-}" ]; then
  SMTP_URL=$CALNDRO_SMTP_URL
  echo "run-local: mail goes to $SMTP_URL"
else
  smtp_sink_start "$STATE/mail" "$SMTP_PORT" "$STATE/smtp.pid" "$STATE/logs/smtp.log"
  STARTED_SMTP=1
  SMTP_URL=smtp://127.0.0.1:$SMTP_PORT
  echo "run-local: SMTP sink on 127.0.0.1:$SMTP_PORT, mail in $STATE/mail/new/"
fi

# The internal credential between the services, made once.
if [ ! -s "$STATE/internal-token" ]; then
  (umask 077 && od -An -tx1 -N20 /dev/urandom | tr -d ' \n' >"$STATE/internal-token")
fi

cat >"$STATE/env" <<ENV
CALNDRO_DATABASE_URL=$DATABASE_URL
CALNDRO_HTTP_PORT=$HTTP_PORT
CALNDRO_EVENTS_PORT=$EVENTS_PORT
CALNDRO_NOTIFY_PORT=$NOTIFY_PORT
CALNDRO_SMTP_URL=$SMTP_URL
ENV
chmod 600 "$STATE/env"

export CALNDRO_DATABASE_URL=$DATABASE_URL
export CALNDRO_SMTP_URL=$SMTP_URL
export CALNDRO_HTTP_PORT=$HTTP_PORT CALNDRO_EVENTS_PORT=$EVENTS_PORT CALNDRO_NOTIFY_PORT=$NOTIFY_PORT
export CALNDRO_EVENTS_LISTEN=${CALNDRO_EVENTS_LISTEN:-127.0.0.1:$EVENTS_PORT}
export CALNDRO_NOTIFY_LISTEN=${CALNDRO_NOTIFY_LISTEN:-127.0.0.1:$NOTIFY_PORT}
export CALNDRO_HTTP_LISTEN=${CALNDRO_HTTP_LISTEN:-0.0.0.0:$HTTP_PORT}
export CALNDRO_EVENTS_ADDR=${CALNDRO_EVENTS_ADDR:-127.0.0.1:$EVENTS_PORT}
export CALNDRO_NOTIFY_ADDR=${CALNDRO_NOTIFY_ADDR:-127.0.0.1:$NOTIFY_PORT}
# Links in mails point at the address served here, never at a request's
# Host; reached under another name, set CALNDRO_ALLOWED_HOSTS too.
export CALNDRO_PUBLIC_BASE_URL=${CALNDRO_PUBLIC_BASE_URL:-http://localhost:$HTTP_PORT}
CALNDRO_INTERNAL_TOKEN=$(cat "$STATE/internal-token")
export CALNDRO_INTERNAL_TOKEN

start() {  # binary port
  "$BIN/$1" >>"$STATE/logs/$1.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_port "$1" "$2" "$pid"
}
if [ -x "$BIN/calndro-notify" ]; then
  start calndro-notify "$NOTIFY_PORT"
else
  echo "run-local: calndro-notify is not built; notify will answer 503" >&2
fi
start calndro-events "$EVENTS_PORT"
start calndro-gateway "$HTTP_PORT"

# The demo staff user, made on first start; its credentials are kept.
if [ ! -s "$STATE/demo-user" ]; then
  pwd_demo=$(od -An -tx1 -N9 /dev/urandom | tr -d ' \n')
  if ! printf '%s\n' "$pwd_demo" | "$BIN/calndro-admin" user add you@here.net --username you \
      --staff --password-stdin >>"$STATE/logs/admin.log" 2>&1; then
    # It exists already (a database kept from elsewhere): reset its password.
    printf '%s\n' "$pwd_demo" | "$BIN/calndro-admin" user set-password you@here.net \
      --password-stdin >>"$STATE/logs/admin.log" 2>&1
    "$BIN/calndro-admin" user activate you@here.net >>"$STATE/logs/admin.log" 2>&1 || true
  fi
  (umask 077 && printf 'user=you\nemail=you@here.net\npassword=%s\n' "$pwd_demo" >"$STATE/demo-user")
fi
DEMO_PWD=$(sed -n 's/^password=//p' "$STATE/demo-user")

cat <<MSG

calndro is running on http://localhost:$HTTP_PORT/  (Ctrl-C stops it)
  staff user:  you  (or you@here.net)   password: $DEMO_PWD
  try:         http -a you:$DEMO_PWD POST :$HTTP_PORT/ parties:='["you@here.net", "they@thar.net"]' \\
                   slots:='[{"begin": "2030-11-01T10:00", "duration": "01:00"}]'
  admin:       set -a; . $STATE/env; set +a; $BIN/calndro-admin user list
  mail:        $STATE/mail/new/   (links point at $CALNDRO_PUBLIC_BASE_URL)
  logs:        $STATE/logs/
MSG

# Wait until a service exits or we are told to stop.
set +e
wait -n "${PIDS[@]}"
echo "run-local: a service exited; see $STATE/logs/" >&2
exit 1
