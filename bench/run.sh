#!/usr/bin/env bash
# calndro benchmark: builds in Release into build-bench/, starts the whole
# stack (deploy/lib/stack.sh) with a private, durable PostgreSQL and an SMTP
# sink, seeds data, runs the scenarios listed in bench/scenarios with wrk,
# measures the pgbench ceiling for scenario (a) against the same database,
# and prints one table (bench/report.py).
#
#   bench/run.sh                 everything
#   BENCH_SKIP_BUILD=1           skip install and build (binaries in build-bench/bin)
#   BENCH_DURATION=10            seconds measured per scenario
#   BENCH_WARMUP=3               seconds of warm-up per scenario (not measured)
#   BENCH_CONNECTIONS=16 BENCH_THREADS=2   (a scenario may name its own connections: bench/scenarios)
#   BENCH_KEEP=1                 leave the state folder (build-bench/bench-state) for inspection
#   BENCH_ONLY="a b"             run only these scenarios (seeding is always done)
#   BENCH_PROFILE="a g2"         perf record (cpu-clock sampling) the calndro processes during these
#                                scenarios; reports in build-bench/bench-state/logs/perf-*.txt
#   BENCH_EMAIL_TOKEN_CACHE_SECONDS=0    the event service's email-token cache (default 0: off, as shipped)
#   BENCH_PRELOAD=/path/lib.so    LD_PRELOAD for the three calndro processes only (e.g. an allocator, for A/B)
#   BENCH_STREAMS=1000           (k): change streams open on the gateway (GET /ID/changes/)
#   BENCH_STREAMS_OPEN=1         keep BENCH_STREAMS streams open (idle but for heartbeats) during every
#                                other scenario, to compare their figures with a run without
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD_DIR=$ROOT/build-bench
BIN=$BUILD_DIR/bin
STACK_BIN=$BIN
# shellcheck source=../deploy/lib/stack.sh
source "$ROOT/deploy/lib/stack.sh"

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-3}
CONNS=${BENCH_CONNECTIONS:-16}
THREADS=${BENCH_THREADS:-2}
ONLY=${BENCH_ONLY:-"a b c d e f g h i j k"}
STREAMS=${BENCH_STREAMS:-1000}
export BENCH_DIR=$ROOT/bench
SEED=$ROOT/services/events/seed
REPORT=(/usr/bin/python3 "$BENCH_DIR/report.py")

say() { echo "bench: $*" >&2; }

# --- install and build ---------------------------------------------------
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  bash "$ROOT/deploy/install-deps.sh"
  extra=()
  for p in wrk postgresql-contrib; do
    if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then
      extra+=("$p")
    fi
  done
  if [ ${#extra[@]} -gt 0 ]; then
    SUDO=()
    [ "$(id -u)" = 0 ] || SUDO=(sudo)
    say "installing ${extra[*]}"
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${extra[@]}" >/dev/null \
      || { "${SUDO[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq \
             --no-install-recommends "${extra[@]}" >/dev/null; }
  fi
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD_DIR" -j2 --target calndro-events calndro-notify calndro-gateway calndro-admin
fi
for b in calndro-events calndro-notify calndro-gateway calndro-admin; do
  [ -x "$BIN/$b" ] || { say "$BIN/$b is missing (build first)"; exit 1; }
done
PGBENCH=$(command -v pgbench || echo "$PG_BIN/pgbench")
PSQL=$PG_BIN/psql

# --- the stack -----------------------------------------------------------
STATE=$BUILD_DIR/bench-state
if [ -d "$STATE/pg" ]; then
  pg_cluster_stop "$STATE/pg" 2>/dev/null || true
fi
rm -rf "$STATE"
stack_init "$STATE" bench
STATE=$STACK_DIR
# shellcheck disable=SC2317  # called by the launcher on exit
stack_after_stop() {
  if [ "${BENCH_KEEP:-0}" != 1 ]; then
    rm -rf "$STATE/pg" "$STATE/mail"
  fi
}
read -r PG_PORT SMTP_PORT EVENTS_PORT NOTIFY_PORT HTTP_PORT METRICS_PORT < <(stack_free_ports 6)
stack_postgres "$PG_PORT"
sql() { "$PSQL" -h 127.0.0.1 -p "$PG_PORT" -U calndro -d calndro -v ON_ERROR_STOP=1 -Atq "$@"; }
say "PostgreSQL on 127.0.0.1:$PG_PORT ($(sql -c \
  "SELECT 'fsync=' || current_setting('fsync') || ' synchronous_commit=' || current_setting('synchronous_commit')"))"
stack_smtp "$SMTP_PORT"
stack_export_env "$EVENTS_PORT" "$NOTIFY_PORT" "$HTTP_PORT"
export CALNDRO_NOTIFY_METRICS_LISTEN=off CALNDRO_GATEWAY_METRICS_LISTEN=off
# The event service's metrics: the audit log's sealing lag per scenario.
export CALNDRO_EVENTS_METRICS_LISTEN=127.0.0.1:$METRICS_PORT
# wrk's connections all come from 127.0.0.1, one client address, as a client
# pool or an office behind one NAT: the gateway's per-address limits stay at
# their defaults, which must serve 64 of them without a single 429.
# (f) is one sender notifying one event thousands of times a second: the
# hourly mail limit per sender (100) would answer nearly all of it with 429.
export CALNDRO_NOTIFY_MAILS_PER_HOUR=1000000
# The event service's cache of resolved email tokens: off, as shipped (see
# docs/PERFORMANCE.md); BENCH_EMAIL_TOKEN_CACHE_SECONDS=60 measures (c) with it.
export CALNDRO_EMAIL_TOKEN_CACHE_SECONDS=${BENCH_EMAIL_TOKEN_CACHE_SECONDS:-0}
# (k) holds all its streams as alice (one caller), on one replica: the
# per-caller limit (20 as shipped) would refuse all but 20.
export CALNDRO_STREAMS_PER_CALLER=$((STREAMS + 100))
STACK_PRELOAD=${BENCH_PRELOAD:-}
stack_services
say "stack up: gateway http://127.0.0.1:$HTTP_PORT events :$EVENTS_PORT notify :$NOTIFY_PORT smtp :$SMTP_PORT"
POSTMASTER=$(head -n1 "$STATE/pg/pgdata/postmaster.pid")
PROCESSES=("${STACK_PID[calndro-gateway]}" "${STACK_PID[calndro-events]}" "${STACK_PID[calndro-notify]}" "$POSTMASTER")
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# --- seed ----------------------------------------------------------------
API=http://127.0.0.1:$HTTP_PORT
PASSWORD=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
for who in alice hank ivy bulk; do
  printf '%s\n' "$PASSWORD" | "$BIN/calndro-admin" user add "$who@bench.test" --username "$who" \
    --password-stdin >>"$STATE/logs/admin.log" 2>&1
done
token_for() {
  curl -sf -H 'Content-Type: application/json' -d "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}" \
    "$API/api-token-auth/" | jq -r .token
}
TOKEN=$(token_for alice)
APITOKEN="Token $TOKEN"
# shellcheck disable=SC2034  # read as {NAME} in bench/scenarios
{
  BASIC="Basic $(printf 'alice:%s' "$PASSWORD" | base64 -w0)"
  HANK_TOKEN="Token $(token_for hank)"
  IVY_TOKEN="Token $(token_for ivy)"
}

SLOTS3='[{"begin":"2031-03-10T09:00:00Z","duration":"01:00"},{"begin":"2031-03-11T09:00:00Z","duration":"01:00"},{"begin":"2031-03-12T09:00:00Z","duration":"01:00"}]'
new_event() {  # title -> id (alice, bob, carol; 3 slots)
  curl -sf -H "Authorization: $APITOKEN" -H 'Content-Type: application/json' \
    -d "{\"title\":\"$1\",\"parties\":[\"alice@bench.test\",\"bob@bench.test\",\"carol@bench.test\"],\"slots\":$SLOTS3}" \
    "$API/" | jq -r .id
}
EV_A=$(new_event "detail token"); EV_B=$(new_event "detail basic"); EV_C=$(new_event "detail email token")
EV_PG=$(new_event "pgbench ceiling")
# (e) and (f) write: one event per connection, so the event's row lock
# (held by a PATCH or notify until commit) is not what is measured.
EVS_E=; EVS_F=; EVS_E64=; EVS_I=
for i in $(seq 1 "$CONNS"); do
  EVS_E="$EVS_E$(new_event "patch $i"),"; EVS_F="$EVS_F$(new_event "notify $i"),"
  EVS_I="$EVS_I$(new_event "answers $i"),"
done
for i in $(seq 1 64); do
  EVS_E64="$EVS_E64$(new_event "patch64 $i"),"
done
EV_E=${EVS_E%%,*}; EV_F=${EVS_F%%,*}
# (k): the streams spread over 100 events, 10 a piece at 1,000 streams.
EVS_K=
for i in $(seq 1 100); do
  EVS_K="$EVS_K$(new_event "streamed $i"),"
done
EV_G_SMALL=$(new_event "log 100"); EV_G_BIG=$(new_event "log 10000")
# (j): the largest event there may be (100 parties, 30 slots), every party
# having answered every slot (services/events/seed/bench_answers.sql).
EV_J=$(curl -sf -H "Authorization: $APITOKEN" -H 'Content-Type: application/json' \
  -d "$(jq -cn '{title: "answers 100 x 30",
                 parties: (["alice@bench.test"] + [range(99) | "p\(.)@answers.test"]),
                 slots: [range(30) | {begin: "2031-04-\(. + 1 | tostring | if length == 1 then "0" + . else . end)T09:00:00Z", duration: "01:00"}]}')" \
  "$API/" | jq -r .id)

# (c): a real email token, from the mail the notify flow delivers to carol.
curl -sf -o /dev/null -H "Authorization: $APITOKEN" -H 'Content-Type: application/json' \
  -d "{\"parties\":[\"carol@bench.test\"],\"slots\":$SLOTS3}" "$API/$EV_C/notify/"
ET=
for _ in $(seq 1 100); do
  ET=$(grep -rhoE "/$EV_C/\?et=[0-9a-f]{40}" "$STACK_MAILDIR/new" 2>/dev/null | head -n1 | sed 's/.*et=//' || true)
  [ -n "$ET" ] && break
  sleep 0.1
done
[ -n "$ET" ] || { say "no mail with an email token arrived"; exit 1; }

# (g) and (h): bulk SQL where the API would take minutes, from the seed files
# kept next to the migrations (a migration test runs them).
grow_log() {  # event total
  sql -v event="$1" -v total="$2" -v effector=alice@bench.test -f "$SEED/bench_log.sql"
}
bulk_events() {  # count party every
  sql -v count="$1" -v creator=bulk@bench.test -v party="$2@bench.test" -v every="$3" \
    -f "$SEED/bench_events.sql"
}
grow_log "$EV_G_SMALL" 100
sql -v event="$EV_J" -f "$SEED/bench_answers.sql"
[ "$(curl -sf -H "Authorization: $APITOKEN" "$API/$EV_J/" | jq '[.tally[] | .yes + .maybe + .no] | add')" = 3000 ] \
  || { say "the (j) event does not show 100 x 30 answers"; exit 1; }
grow_log "$EV_G_BIG" 10000
bulk_events 1000 hank 1
say "seeded: events a=$EV_A b=$EV_B c=$EV_C e=$EV_E f=$EV_F pg=$EV_PG log100=$EV_G_SMALL log10k=$EV_G_BIG"

# Paging, which (g) and (h) rely on: one page of `limit` (default 100, at
# most 1000), the next page in a Link header.
check_paging() {
  local headers body n next
  headers=$(mktemp); body=$(curl -sf -D "$headers" -H "Authorization: $APITOKEN" "$API/$EV_G_BIG/log/")
  n=$(jq '.entries | length' <<<"$body")
  next=$(sed -n 's/^Link: <\([^>]*\)>; rel="next".*/\1/p' "$headers" | tr -d '\r')
  [ "$n" = 100 ] && [ -n "$next" ] || { say "paging check failed: $n entries, next=<$next>"; return 1; }
  body=$(curl -sf -D "$headers" -H "Authorization: $APITOKEN" "$API/$EV_G_BIG/log/?limit=1000")
  [ "$(jq '.entries | length' <<<"$body")" = 1000 ] || { say "paging check failed: limit=1000"; return 1; }
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: $APITOKEN" "$API/$EV_G_BIG/log/?limit=1001")" = 400 ] \
    || { say "paging check failed: limit=1001 is not 400"; return 1; }
  body=$(curl -sf -H "Authorization: $APITOKEN" "$next")
  [ "$(jq '.entries | length' <<<"$body")" = 100 ] || { say "paging check failed: next page"; return 1; }
  rm -f "$headers"
  say "paging check: default page 100 entries + Link rel=next ($next), limit=1000 ok, limit=1001 -> 400, next page ok"
}
check_paging

# The seeding wrote its log entries straight into the table: the event
# service seals them (SPEC §10) before the scenarios start, as a live server
# would have long before, so that no scenario pays for that backlog. How long
# it took is the sealer's catch-up speed.
wait_sealed() {  # what
  local started unsealed
  started=$(date +%s.%N)
  unsealed=$(sql -c "SELECT count(*) FROM events.log_entries WHERE seq IS NULL")
  for _ in $(seq 1 1200); do
    [ "$(sql -c "SELECT count(*) FROM events.log_entries WHERE seq IS NULL")" = 0 ] && break
    sleep 0.5
  done
  say "sealed the $1: $unsealed entries in $(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
}
wait_sealed "seeded log entries"

# --- scenarios -----------------------------------------------------------
RESULTS=$STATE/results.tsv
: >"$RESULTS"
profile_start() {  # key: perf record of the three processes when BENCH_PROFILE names key
  PERF_PIDS=()
  case " ${BENCH_PROFILE:-} " in *" $1 "*) ;; *) return 0 ;; esac
  local proc
  for proc in calndro-events calndro-gateway calndro-notify; do
    perf record -e cpu-clock -F 999 -g -o "$STATE/logs/perf-$1-$proc.data" -p "${STACK_PID[$proc]}" >/dev/null 2>&1 &
    PERF_PIDS+=($!)
  done
}
profile_stop() {  # key
  [ ${#PERF_PIDS[@]} -gt 0 ] || return 0
  kill -INT "${PERF_PIDS[@]}" 2>/dev/null || true
  wait "${PERF_PIDS[@]}" 2>/dev/null || true
  local proc
  for proc in calndro-events calndro-gateway calndro-notify; do
    perf report -i "$STATE/logs/perf-$1-$proc.data" --stdio --no-children --sort dso,symbol 2>/dev/null \
      | grep -v '^$' | grep -E '^ +[0-9]' | head -n 40 >"$STATE/logs/perf-$1-$proc.txt" || true
  done
}
run_wrk() {  # key label auth script url events connections
  local key=$1 label=$2 auth=$3 script=$4 url=$5 conns=$7 out before
  export BENCH_EVENTS=$6 BENCH_THREADS=$THREADS BENCH_AUTH=$auth
  if [ "$WARMUP" -gt 0 ]; then
    wrk -t"$THREADS" -c"$conns" -d"${WARMUP}s" -s "$BENCH_DIR/$script" "$url" \
      >"$STATE/logs/wrk-$key-warmup.txt" 2>&1 || true
  fi
  profile_start "$key"
  curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >"$STATE/logs/metrics-$key-before.txt" || true
  before=$("${REPORT[@]}" ticks "${PROCESSES[@]}")
  out=$(wrk -t"$THREADS" -c"$conns" -d"${DURATION}s" --latency -s "$BENCH_DIR/$script" "$url" \
    2>"$STATE/logs/wrk-$key.err" | tee "$STATE/logs/wrk-$key.txt" | sed -n 's/^RESULT //p')
  [ -n "$out" ] || { say "wrk gave no result for $key"; cat "$STATE/logs/wrk-$key.err" >&2; out="0 0 0 0 0 -1 -1"; }
  printf 'wrk\t%s\t%s\t%s\t%s\t%s\t%s\n' "$key" "$label" "$conns" "$out" "$before" \
    "$("${REPORT[@]}" ticks "${PROCESSES[@]}")" >>"$RESULTS"
  profile_stop "$key"
  # What the scenario wrote is sealed within 2 s (SPEC §10): the lag of all
  # of it, the last entries included.
  sleep 3
  curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >"$STATE/logs/metrics-$key-after.txt" || true
  printf 'seal\t%s\t%s\t%s\n' "$key" "$label" "$(tr ' ' '\t' < <("${REPORT[@]}" lag \
    "$STATE/logs/metrics-$key-before.txt" "$STATE/logs/metrics-$key-after.txt"))" >>"$RESULTS"
  say "$key: $out (VmHWM so far, kB: events and gateway" \
    "$("${REPORT[@]}" hwm "${STACK_PID[calndro-events]}" "${STACK_PID[calndro-gateway]}"))"
}
# (f) queued thousands of mails: let the dispatcher send them before the
# next scenario, or its work (SMTP, outbox updates) is measured there.
drain_outbox() {
  local started
  started=$(date +%s)
  for _ in $(seq 1 600); do
    [ "$(sql -c "SELECT count(*) FROM notify.outbox WHERE state = 'queued'")" = 0 ] && break
    sleep 0.5
  done
  say "outbox drained in $(($(date +%s) - started)) s: $(sql -c "SELECT count(*) FROM notify.outbox WHERE state = 'sent'") mails sent, $(sql -c "SELECT count(*) FROM notify.outbox WHERE state <> 'sent'") not"
}
expand() {  # text: every {NAME} replaced by the value of $NAME, "-" by nothing
  local text=$1 name
  [ "$text" != - ] || text=
  while [[ $text =~ \{([A-Z_0-9]+)\} ]]; do
    name=${BASH_REMATCH[1]}
    text=${text//"{$name}"/${!name}}
  done
  printf '%s' "$text"
}
run_scenarios() {  # data set: small or large
  local key only data conns auth script path events after label
  while IFS='|' read -r -u 3 key only data conns auth script path events after label; do
    key=${key// /}; only=${only// /}; data=${data// /}; conns=${conns// /}
    case "$key" in '' | '#'*) continue ;; esac
    [ "$data" = "$1" ] || continue
    case " $ONLY " in *" $only "*) ;; *) continue ;; esac
    [ "$conns" != - ] || conns=$CONNS
    label=${label#"${label%%[! ]*}"}
    run_wrk "$key" "$(expand "$label")" "$(expand "${auth// /}")" "${script// /}" \
      "$API$(expand "${path// /}")" "$(expand "${events// /}")" "$conns"
    after=${after// /}
    [ "$after" = - ] || "$after"
  done 3<"$BENCH_DIR/scenarios"
}

# The streams held open during the other scenarios (BENCH_STREAMS_OPEN=1).
HELD_STREAMS=
if [ "${BENCH_STREAMS_OPEN:-0}" = 1 ]; then
  /usr/bin/python3 "$BENCH_DIR/streams.py" --base "$API" --auth "$APITOKEN" --events "$EVS_K" \
    --streams "$STREAMS" --hold 2>"$STATE/logs/streams-held.txt" &
  HELD_STREAMS=$!
  for _ in $(seq 1 600); do
    grep -q '^streams:' "$STATE/logs/streams-held.txt" && break
    sleep 0.1
  done
  say "held open during the scenarios: $(cat "$STATE/logs/streams-held.txt")"
fi

run_scenarios small
[ "${BENCH_STOP_AFTER_SMALL:-0}" = 1 ] && exit 0  # for EXPLAIN on the small data set (with BENCH_KEEP=1)
bulk_events 100000 ivy 100
wait_sealed "100,000 seeded events' creation entries"
# Sealing the seeded entries updated each of them once: 100,000 dead row
# versions in the log's table and its indexes, and no statistics yet. A
# server that has been running has had autovacuum through them long ago;
# here autovacuum would start in the middle of a scenario and every read of
# the log would step over the dead versions until then. VACUUM ANALYZE now.
sql -c "VACUUM ANALYZE"
# The seeding wrote a few hundred MB of WAL into a fresh cluster. A
# checkpoint now writes the seeded pages out and makes the old WAL segments
# reusable, as on a server that has been running: otherwise the write
# scenarios pay for the seeding's checkpoint and for creating (zero-filling)
# new 16 MB WAL segments while commits wait.
sql -c "CHECKPOINT"
run_scenarios large

# (k): BENCH_STREAMS streams open on the gateway while their events change
# 20 times a second; change-to-delivery on every stream, the gateway's RSS.
if [ -n "$HELD_STREAMS" ]; then
  kill -TERM "$HELD_STREAMS" 2>/dev/null || true
  wait "$HELD_STREAMS" 2>/dev/null || true
fi
case " $ONLY " in
  *" k "*)
    before=$("${REPORT[@]}" ticks "${PROCESSES[@]}")
    out=$(/usr/bin/python3 "$BENCH_DIR/streams.py" --base "$API" --auth "$APITOKEN" --events "$EVS_K" \
      --streams "$STREAMS" --duration "$((DURATION * 3))" --rate 20 2>"$STATE/logs/streams-k.err")
    printf 'streams\t%s\t%s\t%s\t%s\t%s\n' "$STREAMS" "$out" "$(grep -E '^VmRSS' \
      "/proc/${STACK_PID[calndro-gateway]}/status" | awk '{print $2}')" "$before" \
      "$("${REPORT[@]}" ticks "${PROCESSES[@]}")" >>"$RESULTS"
    say "k: $out"
    ;;
esac

# --- the ceiling: pgbench with scenario (a)'s statements -----------------
# Two ceilings for the same statements (bench/pgbench-a.sql): "tx" wraps them
# in one transaction, as the performance brief defines the ceiling; "as-run" lets each
# commit on its own, as calndro-events runs them for a GET (no BEGIN and
# COMMIT round trips), the stricter comparison.
TOKHASH=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
PG_SLOTS=$(sql -c "SELECT slots::text FROM events.log_entries WHERE event_id = $EV_PG ORDER BY id LIMIT 1" | tr -d ' ')
{ echo "BEGIN;"; grep -v '^--' "$BENCH_DIR/pgbench-a.sql"; echo "COMMIT;"; } >"$STATE/pgbench-a-tx.sql"
cp "$BENCH_DIR/pgbench-a.sql" "$STATE/pgbench-a-as-run.sql"
pgb() {  # seconds variant
  "$PGBENCH" -h 127.0.0.1 -p "$PG_PORT" -U calndro -n -M prepared -c "$CONNS" -j "$THREADS" -T "$1" \
    -D tokhash="$TOKHASH" -D eid="$EV_PG" -D us=1900000000000000 -D occ=VIEW -D effector=alice@bench.test \
    -D slots="$PG_SLOTS" -f "$STATE/pgbench-a-$2.sql" calndro
}
ceiling() {  # variant
  local log=$STATE/logs/pgbench-$1.txt before
  pgb "$WARMUP" "$1" >"$STATE/logs/pgbench-$1-warmup.txt" 2>&1 || true
  before=$("${REPORT[@]}" ticks "${PROCESSES[@]}")
  pgb "$DURATION" "$1" >"$log" 2>&1 || { say "pgbench ($1) failed"; cat "$log" >&2; }
  printf 'pgbench\t%s\t%s\t%s\t%s\n' "$1" "$log" "$before" "$("${REPORT[@]}" ticks "${PROCESSES[@]}")" >>"$RESULTS"
  say "pgbench ($1): $(grep -E '^(tps|latency average|number of failed)' "$log" | tr '\n' ' ')"
}
case " $ONLY " in *" a "*) ceiling tx; ceiling as-run ;; esac

# --- the table -----------------------------------------------------------
"${REPORT[@]}" table "$RESULTS" --threads "$THREADS" --connections "$CONNS" --duration "$DURATION" \
  --warmup "$WARMUP" --token-cache "$CALNDRO_EMAIL_TOKEN_CACHE_SECONDS" --load-before "$LOAD_BEFORE" \
  --logs "$STATE/logs" --events "${STACK_PID[calndro-events]}" --notify "${STACK_PID[calndro-notify]}" \
  --gateway "${STACK_PID[calndro-gateway]}" | tee "$STATE/result.txt"
# Every answer of every scenario must be 2xx (report.py's last line says which were not).
grep -q '^every answer 2xx' "$STATE/result.txt"
