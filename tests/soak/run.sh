#!/usr/bin/env bash
# The fault soak: the whole stack from $CALNDRO_BUILD_DIR/bin (default build/)
# on 127.0.0.1 (a private PostgreSQL cluster, an aiosmtpd sink, calndro-notify,
# calndro-events, calndro-gateway), a mixed workload from several concurrent
# clients (tests/soak/workload.py: create, PATCH narrowing the slots with and
# without If-Match, notify, create and notify with and without Idempotency-Key,
# GET, GET log), and meanwhile, one after the other:
#
#   PostgreSQL restarted (pg_ctl restart -m fast)
#   kill -9 of calndro-notify, then of calndro-events, then of calndro-gateway,
#     each started again at once
#   the SMTP sink stopped for 20 s
#   PostgreSQL crashed (stop -m immediate) and started again
#
# Then a bounded wait for queued mail, and the checks of tests/soak/verify.py
# (docs/RELIABILITY.md): every acknowledged write present, its log entries
# and mails there exactly once, nothing for refused writes, the stack ready.
# About two minutes; stops everything it started (by pid), and only that.
#
#   bash tests/soak/run.sh              the soak
#   bash tests/soak/run.sh --self-test  the checks' own test (under a minute): 15 s of
#                                       workload, no faults, then a few events and mails
#                                       tampered with; passes when every tampering is caught
#
#   CALNDRO_BUILD_DIR         build folder holding bin/ (build)
#   CALNDRO_SOAK_CLIENTS      concurrent clients (4)
#   CALNDRO_SOAK_FREEZE=1     one more fault: calndro-events frozen (SIGSTOP) for 7 s,
#                             longer than the gateway's deadline, then thawed
#   CALNDRO_SOAK_KEEP=1       keep the database too (the records, mail and logs are kept anyway)
# Results (records, findings.json, summary.json, mail, logs) stay in the
# folder it prints. Exits non-zero when anything was lost, doubled or
# unlogged, or a check failed.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../deploy/lib/stack.sh
source "$HERE/../../deploy/lib/stack.sh"
ROOT=$STACK_ROOT
BIN=$STACK_BIN
CLIENTS=${CALNDRO_SOAK_CLIENTS:-4}
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the checkout
SELF_TEST=""
case "${1:-}" in
  "") ;;
  --self-test) SELF_TEST=--self-test ;;
  *) echo "usage: $0 [--self-test]" >&2; exit 2 ;;
esac
log() { echo "tests/soak: $(date -u +%T) $*" >&2; }

stack_require_binaries || exit 1
[[ "$CLIENTS" =~ ^[1-9][0-9]?$ ]] || { log "CALNDRO_SOAK_CLIENTS must be 1-99, got '$CLIENTS'"; exit 2; }

TMP=$(mktemp -d /tmp/calndro-soak.XXXXXX)
OUT=$TMP/out
mkdir -p "$OUT"
stack_init "$TMP" tests/soak
# shellcheck disable=SC2317  # called by the launcher on exit
stack_after_stop() {
  [ -n "${CALNDRO_SOAK_KEEP:-}" ] || rm -rf "$TMP/pg"
  log "results in $TMP (out/, mail/, logs/)"
}

read -r PG_PORT SMTP_PORT EVENTS_PORT NOTIFY_PORT HTTP_PORT M1 M2 M3 < <(stack_free_ports 8)
stack_postgres "$PG_PORT" && stack_smtp "$SMTP_PORT" || exit 1
stack_export_env "$EVENTS_PORT" "$NOTIFY_PORT" "$HTTP_PORT"
export CALNDRO_EVENTS_METRICS_LISTEN=127.0.0.1:$M1 CALNDRO_NOTIFY_METRICS_LISTEN=127.0.0.1:$M2
export CALNDRO_GATEWAY_METRICS_LISTEN=127.0.0.1:$M3
# Mail held back by the sink's outage is retried within seconds rather than
# the production back-off's minutes, so the drain below stays short.
export CALNDRO_RETRY_BASE_MS=500 CALNDRO_RETRY_MAX_MS=4000
# The event service's notify relay: the same short back-off.
export CALNDRO_NOTIFY_RELAY_MAX_BACKOFF_SECONDS=4
stack_services || exit 1
BASE=http://127.0.0.1:$HTTP_PORT

# One staff user for the checks, one registered user per client.
add_user() {  # EMAIL USERNAME PASSWORD [--staff]
  printf '%s\n' "$3" | "$BIN/calndro-admin" user add "$1" --username "$2" ${4:+"$4"} --password-stdin \
    >>"$TMP/logs/admin.log" 2>&1 || { log "calndro-admin user add $1 failed (logs/admin.log)"; exit 1; }
}
password() { od -An -tx1 -N12 /dev/urandom | tr -d ' \n'; }
pwd_staff=$(password)
add_user soak-staff@soak.test soakstaff "$pwd_staff" --staff
clients_json=""
for ((i = 0; i < CLIENTS; i++)); do
  pwd_client=$(password)
  add_user "c$i@soak.test" "soakc$i" "$pwd_client"
  clients_json+="${clients_json:+,}{\"email\": \"c$i@soak.test\", \"username\": \"soakc$i\", \"password\": \"$pwd_client\"}"
done
(umask 077 && cat >"$TMP/users.json" <<JSON
{"staff": {"username": "soakstaff", "password": "$pwd_staff"}, "clients": [$clients_json]}
JSON
)

ready() {  # bounded wait until the gateway is ready
  local i
  for i in $(seq 1 120); do
    [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$BASE/readyz")" = 200 ] && return 0
    sleep 0.5
  done
  log "not ready 60 s after the fault"
  return 1
}

# Each fault: its name, the time it began and the time the component was
# back (verify.py measures recovery from these).
fault() {  # NAME CMD...
  local name=$1 t_inject
  shift
  t_inject=$(date +%s.%N)
  log "fault: $name"
  "$@" || log "fault $name: '$*' failed"
  printf '%s\t%s\t%s\n' "$name" "$t_inject" "$(date +%s.%N)" >>"$OUT/faults.tsv"
  ready
}
at() {  # SECONDS since the workload started
  local wait
  wait=$(python3 -c "import time; print(max(0.0, $T0 + $1 - time.time()))")
  sleep "$wait"
}
# shellcheck disable=SC2317  # the faults below are called through fault()
restart_pg_fast() { stack_postgres_restart; }
crash_pg() { stack_postgres_stop immediate && sleep 2 && stack_postgres_resume; }
kill9() {  # NAME PORT
  stack_kill9 "$1" && sleep 1 && stack_start "$1" "$2"
}
smtp_outage() { stack_smtp_stop && sleep 20 && stack_smtp_resume; }
freeze_events() {
  kill -STOP "${STACK_PID[calndro-events]}" && sleep 7 && kill -CONT "${STACK_PID[calndro-events]}"
}

log "workload: $CLIENTS clients against $BASE"
stack_spawn workload /usr/bin/python3 "$HERE/workload.py" --base "$BASE" --users "$TMP/users.json" \
  --out "$OUT" --stop-file "$OUT/stop" --max-seconds 240
for _ in $(seq 1 600); do
  [ -s "$OUT/started" ] && break
  kill -0 "${STACK_PID[workload]}" 2>/dev/null || break
  sleep 0.1
done
[ -s "$OUT/started" ] || { log "the workload did not start (logs/workload.log)"; tail -n 20 "$TMP/logs/workload.log" >&2; exit 1; }
T0=$(cat "$OUT/started")

if [ -n "$SELF_TEST" ]; then
  at 15
else
  at 8 && fault pg-restart restart_pg_fast
  at 20 && fault kill9-notify kill9 calndro-notify "$NOTIFY_PORT"
  at 32 && fault kill9-events kill9 calndro-events "$EVENTS_PORT"
  at 44 && fault kill9-gateway kill9 calndro-gateway "$HTTP_PORT"
  at 54 && fault smtp-stop-20s smtp_outage
  if [ -n "${CALNDRO_SOAK_FREEZE:-}" ]; then
    at 76 && fault freeze-events freeze_events
  fi
  at 86 && fault pg-crash-restart crash_pg
  at 96
fi
log "stopping the workload"
touch "$OUT/stop"
# The workload ends after its requests in flight (20 s timeout each).
for _ in $(seq 1 600); do
  kill -0 "${STACK_PID[workload]}" 2>/dev/null || break
  sleep 0.1
done
stack_kill workload
cat "$TMP/logs/workload.log" >&2

down=""
for name in calndro-notify calndro-events calndro-gateway; do
  kill -0 "${STACK_PID[$name]}" 2>/dev/null || down+="$name "
done
pg_cluster_is_running "$TMP/pg" || down+="postgresql "
kill -0 "$(cat "$TMP/smtp.pid" 2>/dev/null)" 2>/dev/null || down+="smtp-sink "

log "checking (waits for queued mail first)"
/usr/bin/python3 "$HERE/verify.py" --base "$BASE" --users "$TMP/users.json" --out "$OUT" \
  --maildir "$STACK_MAILDIR" --logs "$TMP/logs" --faults "$OUT/faults.tsv" \
  --db "$STACK_DATABASE_URL" --psql "$PG_BIN/psql" --down "$down" $SELF_TEST | tee "$OUT/report.txt"
status=${PIPESTATUS[0]}
if [ -z "$SELF_TEST" ]; then
  log "calndro-admin check"
  CALNDRO_DATABASE_URL=$STACK_DATABASE_URL "$BIN/calndro-admin" check 2>&1 | tee "$OUT/check.txt"
  [ "${PIPESTATUS[0]}" -eq 0 ] || { log "calndro-admin check failed (check.txt)"; status=1; }
fi
exit "$status"
