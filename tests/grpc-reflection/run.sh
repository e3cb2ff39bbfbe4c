#!/usr/bin/env bash
# grpcurl's part, played by client.js (a generic client over server reflection):
# starts a whole private stack (PostgreSQL cluster, aiosmtpd sink,
# calndro-notify, calndro-events, calndro-gateway on free ports), creates
# users with calndro-admin, then lists, describes and calls both services with
# JSON and credentials in metadata, and asks grpc.health.v1 on both.
# Prints one line per check and "N passed, M failed"; exits 1 on any failure.
# Everything it started is stopped (by pid) on exit.
#
#   CALNDRO_BUILD_DIR   where bin/ is (default: build)
#   CALNDRO_TEST_KEEP=1 keep the temp folder (logs, database, mail)
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD_DIR=${CALNDRO_BUILD_DIR:-$ROOT/build}
BIN=$BUILD_DIR/bin
STACK_BIN=$BIN
# shellcheck source=../../deploy/lib/stack.sh
source "$ROOT/deploy/lib/stack.sh"

# shellcheck source=../lib/check.sh
source "$ROOT/tests/lib/check.sh"

for b in calndro-events calndro-notify calndro-gateway calndro-admin; do
  [ -x "$BIN/$b" ] || die "$BIN/$b is not built (cmake --build $BUILD_DIR)"
done
command -v node >/dev/null 2>&1 || die "node is missing (deploy/install-deps.sh installs it)"
if [ ! -d "$HERE/node_modules/grpc-js-reflection-client" ] || [ ! -d "$HERE/node_modules/@grpc/grpc-js" ]; then
  echo "grpc-reflection: npm ci"
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
fi

TMP=$(mktemp -d /tmp/calndro-grpc-reflection.XXXXXX)
stack_init "$TMP" grpc-reflection
# shellcheck disable=SC2317  # called by the launcher on exit
stack_after_stop() {
  if [ "${CALNDRO_TEST_KEEP:-0}" = 1 ]; then
    echo "grpc-reflection: kept $TMP"
  else
    rm -rf "$TMP"
  fi
}

read -r PG_PORT SMTP_PORT EVENTS_PORT NOTIFY_PORT HTTP_PORT GW2_PORT < <(stack_free_ports 6)
[ -n "$GW2_PORT" ] || die "no free ports"
stack_postgres "$PG_PORT" >"$TMP/pg-start.log" 2>&1 || { cat "$TMP/pg-start.log" >&2; die "PostgreSQL did not start"; }
stack_smtp "$SMTP_PORT" || die "SMTP sink did not start"
stack_export_env "$EVENTS_PORT" "$NOTIFY_PORT" "$HTTP_PORT"
INTERNAL_TOKEN=$CALNDRO_INTERNAL_TOKEN
# The event service reaches notify through a dns:/// target, as on Kubernetes.
export CALNDRO_NOTIFY_ADDR=dns:///127.0.0.1:$NOTIFY_PORT
stack_services || die "the stack did not start"
echo "grpc-reflection: events 127.0.0.1:$EVENTS_PORT, notify 127.0.0.1:$NOTIFY_PORT, gateway 127.0.0.1:$HTTP_PORT, PostgreSQL $PG_PORT, SMTP $SMTP_PORT"

# Users: a staff user who creates the event, and a registered non-party.
PWD_OPS=$(od -An -tx1 -N9 /dev/urandom | tr -d ' \n')
PWD_OTHER=$(od -An -tx1 -N9 /dev/urandom | tr -d ' \n')
printf '%s\n' "$PWD_OPS" | "$BIN/calndro-admin" user add ops@calndro.test --username ops --staff --password-stdin >>"$TMP/logs/admin.log" 2>&1 \
  || { cat "$TMP/logs/admin.log" >&2; die "calndro-admin user add failed"; }
printf '%s\n' "$PWD_OTHER" | "$BIN/calndro-admin" user add other@calndro.test --username other --password-stdin >>"$TMP/logs/admin.log" 2>&1 \
  || { cat "$TMP/logs/admin.log" >&2; die "calndro-admin user add failed"; }
BASIC_OPS="authorization: Basic $(printf 'ops:%s' "$PWD_OPS" | base64 -w0)"
BASIC_OTHER="authorization: Basic $(printf 'other@calndro.test:%s' "$PWD_OTHER" | base64 -w0)"
BASIC_WRONG="authorization: Basic $(printf 'ops:%s' "not-the-password" | base64 -w0)"

EV=127.0.0.1:$EVENTS_PORT
NO=127.0.0.1:$NOTIFY_PORT
OUT=$TMP/out
ERR=$TMP/err
# grpcurl-like call; sets RC, output in $OUT, errors in $ERR.
g() {
  node "$HERE/client.js" -plaintext "$@" >"$OUT" 2>"$ERR"
  RC=$?
}
show() { sed 's/^/      /' "$OUT" "$ERR" | head -n 20; }
expect_ok() {  # description; RC must be 0
  if [ "$RC" = 0 ]; then ok "$1"; else ko "$1 (exit $RC)"; show; fi
}
contains() {  # description needle...; RC 0 and every needle in the output
  local what=$1 n
  shift
  if [ "$RC" != 0 ]; then ko "$what (exit $RC)"; show; return; fi
  for n in "$@"; do
    if ! grep -qF -- "$n" "$OUT"; then ko "$what: '$n' not in the output"; show; return; fi
  done
  ok "$what"
}
json() {  # jq filter over $OUT
  /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$OUT" "$1" 2>/dev/null
}
expect_code() {  # description expected-grpc-code-name exit-code
  if [ "$RC" = "$3" ] && grep -q "Code: $2" "$ERR"; then ok "$1 → $2"; else ko "$1: expected $2 (exit $3), got exit $RC"; show; fi
}

# --- reflection: list, describe
g "$EV" list
contains "events: list services" calndro.events.v1.EventService grpc.health.v1.Health grpc.reflection.v1alpha.ServerReflection
g "$NO" list
contains "notify: list services" calndro.notify.v1.NotificationService grpc.health.v1.Health grpc.reflection.v1alpha.ServerReflection
g "$EV" list calndro.events.v1.EventService
contains "events: list methods" calndro.events.v1.EventService.ListEvents calndro.events.v1.EventService.CreateEvent \
  calndro.events.v1.EventService.GetEvent calndro.events.v1.EventService.UpdateEvent calndro.events.v1.EventService.DeleteEvent \
  calndro.events.v1.EventService.NotifyParties calndro.events.v1.EventService.GetEventLog calndro.events.v1.EventService.CreateApiToken \
  calndro.events.v1.EventService.AgreeEvent calndro.events.v1.EventService.ReopenEvent calndro.events.v1.EventService.GetEventCalendar \
  calndro.events.v1.EventService.AnswerSlots calndro.events.v1.EventService.GetLogKey \
  calndro.events.v1.EventService.WatchEvent
g "$EV" describe calndro.events.v1.EventService
contains "events: describe EventService" "service EventService {" \
  "rpc CreateEvent ( .calndro.events.v1.CreateEventRequest ) returns ( .calndro.events.v1.Event );" \
  "rpc DeleteEvent ( .calndro.events.v1.DeleteEventRequest ) returns ( .google.protobuf.Empty );" \
  "rpc WatchEvent ( .calndro.events.v1.WatchEventRequest ) returns ( stream .calndro.events.v1.EventChange );"
g "$EV" describe calndro.events.v1.Event
contains "events: describe Event" "int64 calendar_sequence = 8;" "string creator = 9;"
g "$EV" describe calndro.events.v1.CreateEventRequest
contains "events: describe CreateEventRequest" "repeated string parties = 2;" "repeated .calndro.common.v1.TimeSlot slots = 3;"
g "$EV" describe grpc.health.v1.Health
contains "events: describe grpc.health.v1.Health" "rpc Check ( .grpc.health.v1.HealthCheckRequest ) returns ( .grpc.health.v1.HealthCheckResponse );"
g "$NO" describe calndro.notify.v1.NotificationService
contains "notify: describe NotificationService" "rpc QueueNotifications" "rpc ResolveToken" "rpc ListDeliveries"

# --- calls with JSON and metadata
g -H "$BASIC_OPS" -d '{"title": "reflection", "parties": ["ops@calndro.test", "guest@calndro.test"],
  "slots": [{"begin": "2030-11-01T10:00:00Z", "duration": "3600s"}, {"begin": "2030-11-02T09:30:00.020Z", "duration": "1800s"}]}' \
  "$EV" calndro.events.v1.EventService/CreateEvent
contains "CreateEvent (authorization: Basic)" '"title": "reflection"' '"guest@calndro.test"' '"begin": "2030-11-01T10:00:00Z"' '"duration": "3600s"' '"begin": "2030-11-02T09:30:00.020Z"'
EVENT_ID=$(json 'd["id"]')
[ -n "$EVENT_ID" ] || EVENT_ID=0

g -H "$BASIC_OPS" -d "{\"id\": \"$EVENT_ID\"}" "$EV" calndro.events.v1.EventService/GetEvent
if [ "$RC" = 0 ] && [ "$(json 'd["id"]')" = "$EVENT_ID" ] && [ "$(json 'd["title"]')" = reflection ] \
    && [ "$(json 'len(d["slots"])')" = 2 ]; then
  ok "GetEvent $EVENT_ID returns what CreateEvent made"
else
  ko "GetEvent $EVENT_ID (exit $RC)"; show
fi

g -H "$BASIC_OTHER" -d "{\"id\": $EVENT_ID}" "$EV" calndro.events.v1.EventService/GetEvent
expect_code "GetEvent by a registered non-party" PermissionDenied 71
g -d "{\"id\": $EVENT_ID}" "$EV" calndro.events.v1.EventService/GetEvent
expect_code "GetEvent without credentials" Unauthenticated 80
g -H "$BASIC_WRONG" -d "{\"id\": $EVENT_ID}" "$EV" calndro.events.v1.EventService/GetEvent
expect_code "GetEvent with a wrong password" Unauthenticated 80
g -H "$BASIC_OTHER" -d '{"parties": [], "slots": []}' "$EV" calndro.events.v1.EventService/CreateEvent
expect_code "CreateEvent with no parties" InvalidArgument 67
g -H "$BASIC_OTHER" -d '{"parties": ["other@calndro.test"], "slots": [{"begin": "2030-02-30T10:00:00Z", "duration": "60s"}]}' \
  "$EV" calndro.events.v1.EventService/CreateEvent
if [ "$RC" = 1 ] && grep -q "not a valid timestamp" "$ERR"; then ok "the client refuses an impossible date (2030-02-30) as grpcurl does"; else ko "client accepted 2030-02-30 (exit $RC)"; show; fi

g -d "{\"username\": \"ops\", \"password\": \"$PWD_OPS\"}" "$EV" calndro.events.v1.EventService/CreateApiToken
API_TOKEN=$(json 'd["token"]')
if [ "$RC" = 0 ] && [ ${#API_TOKEN} -ge 20 ]; then ok "CreateApiToken (no metadata)"; else ko "CreateApiToken (exit $RC)"; show; fi
g -H "authorization: Token $API_TOKEN" -d "{\"id\": $EVENT_ID, \"title\": \"renamed\"}" "$EV" calndro.events.v1.EventService/UpdateEvent
contains "UpdateEvent (authorization: Token)" '"title": "renamed"'
g -H "$BASIC_OPS" -d "{\"id\": $EVENT_ID, \"parties\": [\"guest@calndro.test\"],
  \"slots\": [{\"begin\": \"2030-11-02T09:30:00.020Z\", \"duration\": \"1800s\"}, {\"begin\": \"2030-11-01T10:00:00Z\", \"duration\": \"3600s\"}]}" \
  "$EV" calndro.events.v1.EventService/NotifyParties
contains "NotifyParties (events -> notify over dns:///)" '"guest@calndro.test"' '"sender": "ops@calndro.test"'
for _ in $(seq 1 100); do
  grep -lq "guest@calndro.test" "$STACK_MAILDIR"/new/* 2>/dev/null && break
  sleep 0.1
done
if grep -lq "guest@calndro.test" "$STACK_MAILDIR"/new/* 2>/dev/null; then ok "the mail reached the SMTP sink"; else ko "no mail for guest@calndro.test in the SMTP sink"; fi
g -H "$BASIC_OPS" -d "{\"id\": $EVENT_ID}" "$EV" calndro.events.v1.EventService/GetEventLog
contains "GetEventLog" '"occurrence": "OCCURRENCE_UPDATE"' '"occurrence": "OCCURRENCE_VIEW"' '"occurrence": "OCCURRENCE_NOTIFY"' '"effector": "ops@calndro.test"'
g -H "$BASIC_OPS" -d "{\"id\": $EVENT_ID, \"slots\": {\"slots\": [{\"begin\": \"2030-11-01T12:00:00+02:00\", \"duration\": \"1800s\"}]}}" \
  "$EV" calndro.events.v1.EventService/UpdateEvent
contains "UpdateEvent replaces the slots (SlotSet, offset time)" '"begin": "2030-11-01T10:00:00Z"' '"duration": "1800s"'
# Agree and reopen, as docs/OPERATIONS.md shows them: the creator may, another user may not.
g -H "$BASIC_OTHER" -d "{\"id\": $EVENT_ID, \"slot\": {\"begin\": \"2030-11-01T10:00:00Z\", \"duration\": \"1800s\"}}" \
  "$EV" calndro.events.v1.EventService/AgreeEvent
expect_code "AgreeEvent by a registered non-party" PermissionDenied 71
g -H "$BASIC_OPS" -d "{\"id\": $EVENT_ID, \"slot\": {\"begin\": \"2030-11-01T10:00:00Z\", \"duration\": \"1800s\"}}" \
  "$EV" calndro.events.v1.EventService/AgreeEvent
contains "AgreeEvent (the creator)" '"EVENT_STATE_AGREED"' '"begin": "2030-11-01T10:00:00Z"'
AGREED_SEQUENCE=$(json 'd["calendarSequence"]')
contains "AgreeEvent names the creator and the calendar sequence" '"creator": "ops@calndro.test"' '"calendarSequence": "1"'
# The agreed event's document: one CONFIRMED VEVENT, the invitations' UID and
# SEQUENCE, the agreed slot, the creator as ORGANIZER; its URL from the
# service's own CALNDRO_PUBLIC_BASE_URL (a caller names no base).
g -H "$BASIC_OPS" -d "{\"id\": $EVENT_ID}" "$EV" calndro.events.v1.EventService/GetEventCalendar
ICS_CHECK='d["fileName"] == "calndro-@ID@.ics" and d["ics"].count("BEGIN:VEVENT") == 1 and all(
  "\r\n" + l + "\r\n" in d["ics"] for l in ["METHOD:PUBLISH", "STATUS:CONFIRMED", "UID:event-@ID@@calndro",
  "SEQUENCE:@SEQ@", "DTSTART:20301101T100000Z", "DTEND:20301101T103000Z", "ORGANIZER:mailto:ops@calndro.test",
  "URL:@BASE@/@ID@/"])'
ICS_CHECK=${ICS_CHECK//@ID@/$EVENT_ID}
ICS_CHECK=${ICS_CHECK//@BASE@/$CALNDRO_PUBLIC_BASE_URL}
if [ "$RC" = 0 ] && [ -n "$AGREED_SEQUENCE" ] && [ "$(json "${ICS_CHECK//@SEQ@/$AGREED_SEQUENCE}")" = True ]; then
  ok "GetEventCalendar of the agreed event: one CONFIRMED entry, UID event-$EVENT_ID@calndro, SEQUENCE $AGREED_SEQUENCE, ORGANIZER"
else
  ko "GetEventCalendar of the agreed event (exit $RC)"; show
fi
g -H "$BASIC_OTHER" -d "{\"id\": $EVENT_ID}" "$EV" calndro.events.v1.EventService/GetEventCalendar
expect_code "GetEventCalendar by a registered non-party" PermissionDenied 71
g -H "$BASIC_OPS" -d "{\"id\": $EVENT_ID, \"slots\": {\"slots\": []}}" "$EV" calndro.events.v1.EventService/UpdateEvent
expect_code "UpdateEvent of the slots while agreed" FailedPrecondition 73
g -H "$BASIC_OPS" -d "{\"id\": $EVENT_ID}" "$EV" calndro.events.v1.EventService/ReopenEvent
contains "ReopenEvent (the creator)" '"EVENT_STATE_OPEN"' '"calendarSequence": "2"'
g -H "$BASIC_OPS" -d "{\"id\": $EVENT_ID}" "$EV" calndro.events.v1.EventService/GetEventCalendar
if [ "$RC" = 0 ] && [ "$(json 'd["ics"].count("\r\nSTATUS:TENTATIVE\r\n") == 1 and "CONFIRMED" not in d["ics"] and "@calndro\r\n" in d["ics"] and "UID:event-'"$EVENT_ID"'@calndro" not in d["ics"]')" = True ]; then
  ok "GetEventCalendar after ReopenEvent: a TENTATIVE entry per slot, not the agreed UID"
else
  ko "GetEventCalendar after ReopenEvent (exit $RC)"; show
fi
# Answers and a deadline, as docs/OPERATIONS.md shows them: each party for
# itself (ops created the event, so is a party), the deadline the creator's.
g -H "$BASIC_OPS" -d "{\"id\": $EVENT_ID, \"answers\": [
  {\"slot\": {\"begin\": \"2030-11-01T10:00:00Z\", \"duration\": \"1800s\"}, \"answer\": \"ANSWER_YES\"}]}" \
  "$EV" calndro.events.v1.EventService/AnswerSlots
contains "AnswerSlots (a party for itself)" '"party": "ops@calndro.test"' '"ANSWER_YES"' '"yes": 1' '"bestSlot"'
g -H "$BASIC_OTHER" -d "{\"id\": $EVENT_ID, \"answers\": []}" "$EV" calndro.events.v1.EventService/AnswerSlots
expect_code "AnswerSlots by a registered non-party" PermissionDenied 71
# The key that signs the log heads: public, no metadata (docs/AUDIT-LOG.md).
g -d '{}' "$EV" calndro.events.v1.EventService/GetLogKey
contains "GetLogKey (no metadata)" '"alg": "Ed25519"' '"keyId": "' '"publicKey": "'
g -H "$BASIC_OPS" -d "{\"id\": $EVENT_ID, \"respond_by\": {\"at\": \"2030-10-25T18:00:00Z\"}, \"remind_before\": \"7200s\"}" \
  "$EV" calndro.events.v1.EventService/UpdateEvent
contains "UpdateEvent sets the deadline and the reminder's lead" '"respondBy": "2030-10-25T18:00:00Z"' '"remindBefore": "7200s"'
# A change stream (SPEC §11), as docs/OPERATIONS.md shows it: the event at
# once, then heartbeats; it runs until the call's deadline passes (exit 68).
g -max-time 3 -H "$BASIC_OPS" -d "{\"id\": $EVENT_ID}" "$EV" calndro.events.v1.EventService/WatchEvent
if [ "$RC" = 68 ] && grep -qF '"version": "' "$OUT" && grep -qF '"title": "renamed"' "$OUT"; then
  ok "WatchEvent: the event first, the stream open until the deadline"
else
  ko "WatchEvent (exit $RC)"; show
fi
g -H "$BASIC_OTHER" -d "{\"id\": $EVENT_ID}" "$EV" calndro.events.v1.EventService/WatchEvent
expect_code "WatchEvent by a registered non-party" PermissionDenied 71
g -H "$BASIC_OPS" -d '{"page_size": 10}' "$EV" calndro.events.v1.EventService/ListEvents
contains "ListEvents" '"renamed"'

# The notification service refuses callers without the internal credential.
g "$NO" calndro.notify.v1.NotificationService/ListDeliveries
if [ "$RC" -gt 64 ]; then ok "NotificationService/ListDeliveries without x-calndro-internal is refused ($(sed -n 's/ *Code: //p' "$ERR"))"; else ko "ListDeliveries without x-calndro-internal (exit $RC)"; show; fi
g -H "x-calndro-internal: $INTERNAL_TOKEN" -d "{\"event_id\": $EVENT_ID, \"page_size\": 20}" "$NO" calndro.notify.v1.NotificationService/ListDeliveries
contains "NotificationService/ListDeliveries with x-calndro-internal" '"recipient": "guest@calndro.test"'

# --- health
g -d '{}' "$EV" grpc.health.v1.Health/Check
contains "events: grpc.health.v1.Health/Check" '"status": "SERVING"'
g -d '{"service": ""}' "$NO" grpc.health.v1.Health/Check
contains "notify: grpc.health.v1.Health/Check" '"status": "SERVING"'

# The Kubernetes manifests give the gRPC clients dns:/// targets (headless
# Services, round_robin): a second gateway with such a target must serve.
stack_start gateway-dns "$GW2_PORT" env CALNDRO_HTTP_LISTEN=127.0.0.1:"$GW2_PORT" \
  CALNDRO_EVENTS_ADDR=dns:///127.0.0.1:"$EVENTS_PORT" CALNDRO_NOTIFY_ADDR=dns:///127.0.0.1:"$NOTIFY_PORT" \
  "$BIN/calndro-gateway"
code=$(curl -s -o "$OUT" -w '%{http_code}' -u "ops:$PWD_OPS" "http://127.0.0.1:$GW2_PORT/$EVENT_ID/" 2>"$ERR")
if [ "$code" = 200 ]; then
  ok "gateway with CALNDRO_EVENTS_ADDR=dns:///127.0.0.1:$EVENTS_PORT serves GET /$EVENT_ID/"
else
  ko "gateway with a dns:/// events target: HTTP ${code:-none}"
  sed 's/^/      /' "$TMP/logs/gateway-dns.log" | tail -n 5
fi
stack_kill gateway-dns

# The binaries' self-check mode (used by docker-compose healthchecks), once built in.
for b in calndro-events calndro-notify calndro-gateway; do
  if grep -q -- '--health-check' "$BIN/$b"; then
    if timeout 15 "$BIN/$b" --health-check >"$OUT" 2>"$ERR"; then
      ok "$b --health-check exits 0 against the running stack"
    else
      ko "$b --health-check (exit $?)"; show
    fi
  else
    echo "skip - $b has no --health-check mode in this build"
  fi
done

summary
