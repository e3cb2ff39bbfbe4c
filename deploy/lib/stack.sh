#!/usr/bin/env bash
# The calndro stack launcher, sourced by deploy/run-local.sh, deploy/test.sh,
# bench/run.sh, tests/browser/run.sh and tests/grpc-reflection/run.sh.
#
#   source deploy/lib/stack.sh
#   stack_init DIR NAME            state folder (DIR/logs made), message prefix;
#                                  stops everything started below on exit
#   read -r A B C < <(stack_free_ports 3)
#   stack_postgres PORT            private cluster in DIR/pg
#                                  -> STACK_DATABASE_URL
#   stack_smtp PORT                aiosmtpd sink writing DIR/mail (a Maildir)
#                                  -> STACK_SMTP_URL, STACK_MAILDIR
#   stack_export_env EVENTS_PORT NOTIFY_PORT HTTP_PORT
#                                  exports the CALNDRO_* the three processes read
#                                  (loopback listeners, the URLs above, a random
#                                  internal token unless CALNDRO_INTERNAL_TOKEN is set:
#                                  the gateway sends it to events, events to notify)
#   stack_require_binaries         fails, saying how to build, unless the four
#                                  binaries are in $STACK_BIN
#   stack_services                 calndro-notify, calndro-events, calndro-gateway from
#                                  $STACK_BIN (default build/bin), each waited for
#   stack_start NAME PORT [CMD...] starts CMD (default $STACK_BIN/NAME) with its output
#                                  in DIR/logs/NAME.log, waits until PORT accepts
#   stack_spawn NAME CMD...        starts CMD in the background, stopped on exit
#   stack_wait_port NAME PORT      waits (30 s) for PORT; fails when NAME exits first
#   stack_kill NAME                stops one started process now
#   STACK_PID[NAME]                pid of a started process
#
# For fault tests (tests/soak/run.sh):
#   stack_kill9 NAME               SIGKILL one started process and reap it; start it
#                                  again with stack_start (its pid is replaced)
#   stack_postgres_restart         pg_ctl restart -m fast of the private cluster
#   stack_postgres_stop [MODE]     stops the private cluster (fast, or immediate: a crash)
#   stack_postgres_resume          starts it again on its port
#   stack_smtp_stop                stops the SMTP sink (mail already written stays)
#   stack_smtp_resume              starts it again on its port and Maildir
#
# Optional: STACK_PRELOAD (LD_PRELOAD for the processes stack_start runs) and
# a function stack_after_stop, called last on exit (e.g. to remove DIR).
# Everything is stopped by pid, in reverse order: processes (SIGTERM, then
# waited for), the SMTP sink, the cluster. Only what was started here is
# stopped: a cluster or sink given from outside is left alone.

STACK_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR
source "$STACK_LIB/pg-cluster.sh"

STACK_ROOT=$(cd "$STACK_LIB/../.." && pwd)
# The binaries: $STACK_BIN, else $CALNDRO_BUILD_DIR/bin, else build/bin.
STACK_BIN=${STACK_BIN:-$(readlink -f "${CALNDRO_BUILD_DIR:-$STACK_ROOT/build}")/bin}
STACK_NAME=stack
STACK_DIR=""
STACK_NAMES=()
declare -A STACK_PID=()
STACK_STARTED_PG=0
STACK_STARTED_SMTP=0

stack_say() { echo "$STACK_NAME: $*" >&2; }

stack_require_binaries() {
  local binary
  for binary in calndro-notify calndro-events calndro-gateway calndro-admin; do
    if [ ! -x "$STACK_BIN/$binary" ]; then
      echo "$STACK_BIN/$binary is missing: build first (cmake -S . -B build && cmake --build build)" >&2
      return 1
    fi
  done
}

stack_init() {  # DIR NAME
  STACK_DIR=$1
  STACK_NAME=${2:-stack}
  mkdir -p "$STACK_DIR/logs"
  chmod 755 "$STACK_DIR"
  STACK_DIR=$(readlink -f "$STACK_DIR")
  trap _stack_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# COUNT distinct ports free on 127.0.0.1, on one line, from 20000-29999: below
# the kernel's ephemeral range (no outgoing connection takes them meanwhile)
# and clear of the defaults (1025, 5432, 9000, 5005x, 55432).
stack_free_ports() {  # COUNT
  /usr/bin/python3 - "$1" <<'PY'
import random, socket, sys
wanted, found = int(sys.argv[1]), []
candidates = random.sample(range(20000, 30000), 10000)
for port in candidates:
    if len(found) == wanted:
        break
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    found.append(port)
if len(found) < wanted:
    sys.exit("stack: no free ports")
print(" ".join(map(str, found)))
PY
}

stack_postgres() {  # PORT
  pg_cluster_start "$STACK_DIR/pg" "$1" || { stack_say "PostgreSQL did not start"; return 1; }
  STACK_STARTED_PG=1
  STACK_PG_PORT=$1
  STACK_DATABASE_URL=$(pg_cluster_url "$STACK_DIR/pg" "$1")
}

stack_smtp() {  # PORT
  STACK_MAILDIR=$STACK_DIR/mail
  smtp_sink_start "$STACK_MAILDIR" "$1" "$STACK_DIR/smtp.pid" "$STACK_DIR/logs/smtp.log" \
    || { stack_say "SMTP sink did not start"; return 1; }
  STACK_STARTED_SMTP=1
  STACK_SMTP_PORT=$1
  STACK_SMTP_URL=smtp://127.0.0.1:$1
}

stack_postgres_restart() {
  _pg_as "$PG_BIN/pg_ctl" -D "$STACK_DIR/pg/pgdata" -l "$STACK_DIR/pg/postgres.log" -m fast -w -t 60 \
    restart >/dev/null || { stack_say "PostgreSQL did not restart"; return 1; }
}

stack_postgres_stop() {  # [MODE]
  _pg_as "$PG_BIN/pg_ctl" -D "$STACK_DIR/pg/pgdata" -m "${1:-fast}" -w -t 60 stop >/dev/null
}

stack_postgres_resume() {
  stack_postgres "$STACK_PG_PORT"
}

stack_smtp_stop() {
  smtp_sink_stop "$STACK_DIR/smtp.pid"
}

stack_smtp_resume() {
  stack_smtp "$STACK_SMTP_PORT"
}

stack_export_env() {  # EVENTS_PORT NOTIFY_PORT HTTP_PORT
  export CALNDRO_DATABASE_URL=$STACK_DATABASE_URL CALNDRO_SMTP_URL=$STACK_SMTP_URL
  export CALNDRO_EVENTS_PORT=$1 CALNDRO_NOTIFY_PORT=$2 CALNDRO_HTTP_PORT=$3
  export CALNDRO_EVENTS_LISTEN=127.0.0.1:$1 CALNDRO_NOTIFY_LISTEN=127.0.0.1:$2 CALNDRO_HTTP_LISTEN=127.0.0.1:$3
  export CALNDRO_EVENTS_ADDR=127.0.0.1:$1 CALNDRO_NOTIFY_ADDR=127.0.0.1:$2
  # Every process's: notify's links in mails, events' event.ics URL.
  export CALNDRO_PUBLIC_BASE_URL=http://127.0.0.1:$3
  if [ -z "${CALNDRO_INTERNAL_TOKEN:-}" ]; then
    CALNDRO_INTERNAL_TOKEN=$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')
  fi
  export CALNDRO_INTERNAL_TOKEN
  # The key that signs the audit log heads: made at the first start, kept
  # with the stack's state.
  export CALNDRO_LOG_KEY_FILE=${CALNDRO_LOG_KEY_FILE:-$STACK_DIR/log-signing.key}
  export CALNDRO_LOG_KEY_MISSING=${CALNDRO_LOG_KEY_MISSING:-create}
  # The key that encrypts the webhooks' secrets in the database: the same.
  export CALNDRO_WEBHOOK_KEY_FILE=${CALNDRO_WEBHOOK_KEY_FILE:-$STACK_DIR/webhook-secrets.key}
  export CALNDRO_WEBHOOK_KEY_MISSING=${CALNDRO_WEBHOOK_KEY_MISSING:-create}
}

stack_spawn() {  # NAME CMD...
  local name=$1
  shift
  "$@" >>"$STACK_DIR/logs/$name.log" 2>&1 &
  STACK_PID[$name]=$!
  # A name started again (after stack_kill9) keeps its place in the stop order.
  local known
  for known in "${STACK_NAMES[@]}"; do
    [ "$known" != "$name" ] || return 0
  done
  STACK_NAMES+=("$name")
}

stack_wait_port() {  # NAME PORT
  local name=$1 port=$2 i
  for i in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "${STACK_PID[$name]}" 2>/dev/null; then
      stack_say "$name exited; last lines of $STACK_DIR/logs/$name.log:"
      tail -n 30 "$STACK_DIR/logs/$name.log" >&2
      return 1
    fi
    sleep 0.1
  done
  stack_say "$name did not listen on port $port"
  return 1
}

stack_start() {  # NAME PORT [CMD...]
  local name=$1 port=$2
  shift 2
  [ $# -gt 0 ] || set -- "$STACK_BIN/$name"
  if [ -n "${STACK_PRELOAD:-}" ]; then
    set -- env LD_PRELOAD="$STACK_PRELOAD" "$@"
  fi
  stack_spawn "$name" "$@"
  stack_wait_port "$name" "$port"
}

stack_services() {
  stack_start calndro-notify "$CALNDRO_NOTIFY_PORT" \
    && stack_start calndro-events "$CALNDRO_EVENTS_PORT" \
    && stack_start calndro-gateway "$CALNDRO_HTTP_PORT"
}

stack_kill() {  # NAME
  local pid=${STACK_PID[$1]:-}
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stack_kill9() {  # NAME
  local pid=${STACK_PID[$1]:-}
  [ -n "$pid" ] || return 0
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stack_stop() {
  local i
  for ((i = ${#STACK_NAMES[@]} - 1; i >= 0; i--)); do
    kill -TERM "${STACK_PID[${STACK_NAMES[$i]}]}" 2>/dev/null || true
  done
  for ((i = ${#STACK_NAMES[@]} - 1; i >= 0; i--)); do
    wait "${STACK_PID[${STACK_NAMES[$i]}]}" 2>/dev/null || true
  done
  STACK_NAMES=()
  if [ "$STACK_STARTED_SMTP" = 1 ]; then
    smtp_sink_stop "$STACK_DIR/smtp.pid" 2>/dev/null || true
    STACK_STARTED_SMTP=0
  fi
  if [ "$STACK_STARTED_PG" = 1 ]; then
    pg_cluster_stop "$STACK_DIR/pg" >/dev/null 2>&1 || true
    STACK_STARTED_PG=0
  fi
}

_stack_exit() {
  trap - INT TERM EXIT
  stack_stop
  if declare -F stack_after_stop >/dev/null; then
    stack_after_stop
  fi
}
