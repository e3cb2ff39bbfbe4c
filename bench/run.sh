#!/usr/bin/env bash
# calndro benchmark: builds in Release into build-bench/, starts the
# whole stack on free ports with a private, durable PostgreSQL and an SMTP
# sink, seeds data, runs every scenario with wrk, measures the pgbench
# ceiling for scenario (a) against the same database, and prints one table.
#
#   bench/run.sh                 everything
#   BENCH_SKIP_BUILD=1           skip install and build (binaries in build-bench/bin)
#   BENCH_DURATION=10            seconds measured per scenario
#   BENCH_WARMUP=3               seconds of warm-up per scenario (not measured)
#   BENCH_CONNECTIONS=16 BENCH_THREADS=2
#   BENCH_KEEP=1                 leave the state folder (build-bench/bench-state) for inspection
#   BENCH_ONLY="a b"             run only these scenarios (seeding is always done)
#   BENCH_PROFILE="a g2"         perf record (cpu-clock sampling) the calndro processes during these
#                                scenarios; reports in build-bench/bench-state/logs/perf-*.txt
#   BENCH_EMAIL_TOKEN_CACHE_SECONDS=0    the event service's email-token cache (default 0: off, as shipped)
#   BENCH_PRELOAD=/path/lib.so    LD_PRELOAD for the three calndro processes only (e.g. an allocator, for A/B)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=../deploy/lib/pg-cluster.sh
source "$ROOT/deploy/lib/pg-cluster.sh"

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-3}
CONNS=${BENCH_CONNECTIONS:-16}
THREADS=${BENCH_THREADS:-2}
ONLY=${BENCH_ONLY:-"a b c d e f g h"}
BUILD_DIR=$ROOT/build-bench
BIN=$BUILD_DIR/bin
export BENCH_DIR=$ROOT/bench

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

# --- state and ports -----------------------------------------------------
STATE=$BUILD_DIR/bench-state
if [ -d "$STATE/pg" ]; then
  pg_cluster_stop "$STATE/pg" 2>/dev/null || true
fi
rm -rf "$STATE"
mkdir -p "$STATE/logs"
STATE=$(readlink -f "$STATE")

# A free port in 20000-29999 (clear of 9000, 5005x, 5432, 55999 and 56xxx).
USED_PORTS=" "
free_port() {
  local p
  while true; do
    p=$((20000 + RANDOM % 10000))
    case "$USED_PORTS" in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      USED_PORTS="$USED_PORTS$p "
      echo "$p"
      return
    fi
  done
}
PG_PORT=$(free_port); SMTP_PORT=$(free_port); EVENTS_PORT=$(free_port)
NOTIFY_PORT=$(free_port); HTTP_PORT=$(free_port)

PIDS=()
cleanup() {
  trap - INT TERM EXIT
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${PIDS[$i]}" 2>/dev/null || true
  done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    wait "${PIDS[$i]}" 2>/dev/null || true
  done
  smtp_sink_stop "$STATE/smtp.pid" 2>/dev/null || true
  pg_cluster_stop "$STATE/pg" 2>/dev/null || true
  if [ "${BENCH_KEEP:-0}" != 1 ]; then
    rm -rf "$STATE/pg" "$STATE/mail"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_port() {  # name port pid
  local i
  for i in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
    kill -0 "$3" 2>/dev/null || { say "$1 exited:"; tail -n 20 "$STATE/logs/$1.log" >&2; return 1; }
    sleep 0.1
  done
  say "$1 did not listen on $2"; return 1
}

# --- the stack -----------------------------------------------------------
pg_cluster_start "$STATE/pg" "$PG_PORT"
DATABASE_URL=$(pg_cluster_url "$STATE/pg" "$PG_PORT")
say "PostgreSQL on 127.0.0.1:$PG_PORT ($("$PSQL" -h 127.0.0.1 -p "$PG_PORT" -U calndro -d calndro -Atc \
  "SELECT 'fsync=' || current_setting('fsync') || ' synchronous_commit=' || current_setting('synchronous_commit')"))"
smtp_sink_start "$STATE/mail" "$SMTP_PORT" "$STATE/smtp.pid" "$STATE/logs/smtp.log"

export CALNDRO_DATABASE_URL=$DATABASE_URL
export CALNDRO_SMTP_URL=smtp://127.0.0.1:$SMTP_PORT
export CALNDRO_EVENTS_PORT=$EVENTS_PORT CALNDRO_NOTIFY_PORT=$NOTIFY_PORT CALNDRO_HTTP_PORT=$HTTP_PORT
export CALNDRO_EVENTS_LISTEN=127.0.0.1:$EVENTS_PORT CALNDRO_NOTIFY_LISTEN=127.0.0.1:$NOTIFY_PORT
export CALNDRO_HTTP_LISTEN=127.0.0.1:$HTTP_PORT
export CALNDRO_EVENTS_ADDR=127.0.0.1:$EVENTS_PORT CALNDRO_NOTIFY_ADDR=127.0.0.1:$NOTIFY_PORT
export CALNDRO_EVENTS_METRICS_LISTEN=off CALNDRO_NOTIFY_METRICS_LISTEN=off CALNDRO_GATEWAY_METRICS_LISTEN=off
export CALNDRO_PUBLIC_BASE_URL=http://127.0.0.1:$HTTP_PORT
# wrk's connections all come from 127.0.0.1: one client address standing for
# many clients, so the gateway's per-address cap (16) must not apply.
export CALNDRO_HTTP_MAX_CONNECTIONS_PER_ADDRESS=100000
# (f) is one sender notifying one event thousands of times a second: the
# hourly mail limit per sender (100) would answer nearly all of it with 429.
export CALNDRO_NOTIFY_MAILS_PER_HOUR=1000000
# The event service's cache of resolved email tokens: off, as shipped (see
# docs/PERFORMANCE.md); BENCH_EMAIL_TOKEN_CACHE_SECONDS=60 measures (c) with it.
export CALNDRO_EMAIL_TOKEN_CACHE_SECONDS=${BENCH_EMAIL_TOKEN_CACHE_SECONDS:-0}
CALNDRO_INTERNAL_TOKEN=$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')
export CALNDRO_INTERNAL_TOKEN

declare -A PID_OF
start() {  # binary port
  LD_PRELOAD=${BENCH_PRELOAD:-} "$BIN/$1" >>"$STATE/logs/$1.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  PID_OF[$1]=$pid
  wait_port "$1" "$2" "$pid"
}
start calndro-notify "$NOTIFY_PORT"
start calndro-events "$EVENTS_PORT"
start calndro-gateway "$HTTP_PORT"
say "stack up: gateway http://127.0.0.1:$HTTP_PORT events :$EVENTS_PORT notify :$NOTIFY_PORT smtp :$SMTP_PORT"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# --- seed ----------------------------------------------------------------
API=http://127.0.0.1:$HTTP_PORT
sql() { "$PSQL" -h 127.0.0.1 -p "$PG_PORT" -U calndro -d calndro -v ON_ERROR_STOP=1 -Atq "$@"; }
PASSWORD=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
for who in alice hank ivy bulk; do
  printf '%s\n' "$PASSWORD" | "$BIN/calndro-admin" user add "$who@bench.test" --username "$who" \
    --password-stdin >>"$STATE/logs/admin.log" 2>&1
done
BASIC="Basic $(printf 'alice:%s' "$PASSWORD" | base64 -w0)"
token_for() {
  curl -sf -H 'Content-Type: application/json' -d "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}" \
    "$API/api-token-auth/" | jq -r .token
}
TOKEN=$(token_for alice)
APITOKEN="Token $TOKEN"

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
EVS_E=; EVS_F=
for i in $(seq 1 "$CONNS"); do
  EVS_E="$EVS_E$(new_event "patch $i"),"; EVS_F="$EVS_F$(new_event "notify $i"),"
done
EV_E=${EVS_E%%,*}; EV_F=${EVS_F%%,*}
EV_G_SMALL=$(new_event "log 100"); EV_G_BIG=$(new_event "log 10000")

# (c): a real email token, from the mail the notify flow delivers to carol.
curl -sf -o /dev/null -H "Authorization: $APITOKEN" -H 'Content-Type: application/json' \
  -d "{\"parties\":[\"carol@bench.test\"],\"slots\":$SLOTS3}" "$API/$EV_C/notify/"
ET=
for _ in $(seq 1 100); do
  ET=$(grep -rhoE "/$EV_C/\?et=[0-9a-f]{40}" "$STATE/mail/new" 2>/dev/null | head -n1 | sed 's/.*et=//' || true)
  [ -n "$ET" ] && break
  sleep 0.1
done
[ -n "$ET" ] || { say "no mail with an email token arrived"; exit 1; }

# (g): the log of two events grown to 100 and 10,000 entries with fast SQL
# (the creation entry came through the API; the rest are VIEW entries as a
# GET /ID/ writes them).
grow_log() {  # event total
  sql -c "INSERT INTO events.log_entries (event_id, at, occurrence, effector, slots, data)
          SELECT $1, now() + i * interval '1 millisecond', 'VIEW', 'alice@bench.test',
                 (SELECT slots FROM events.log_entries WHERE event_id = $1 ORDER BY id LIMIT 1), '{}'::jsonb
          FROM generate_series(2, $2) AS i"
}
grow_log "$EV_G_SMALL" 100
grow_log "$EV_G_BIG" 10000

# (h) small: hank is a party of 1,000 events, about all there are.
bulk_events() {  # count user every
  # Events created by bulk@, with 2 other parties each, 2 slots and the
  # creation log entry, as CreateEvent writes them; $2 is a party of every $3rd.
  sql <<SQL
INSERT INTO events.users (email) SELECT 'p' || i || '@bulk.test' FROM generate_series(0, 999) AS i
  ON CONFLICT (email) DO NOTHING;
CREATE TEMP TABLE b AS SELECT i, nextval('events.events_id_seq') AS id FROM generate_series(1, $1) AS i;
INSERT INTO events.events (id, title, created_by, created_at, parties, slots)
  SELECT b.id, 'bulk ' || b.i, (SELECT id FROM events.users WHERE email = 'bulk@bench.test'), now(),
         CASE WHEN b.i % $3 = 0
              THEN json_build_array('bulk@bench.test', 'p' || (b.i % 1000) || '@bulk.test', '$2@bench.test')
              ELSE json_build_array('bulk@bench.test', 'p' || (b.i % 1000) || '@bulk.test') END,
         (SELECT json_agg(json_build_array((extract(epoch FROM t) * 1000000)::bigint, 3600000000) ORDER BY t)
          FROM (SELECT timestamptz '2031-01-01 09:00Z' + (b.i % 300) * interval '1 day' + k * interval '1 hour'
                FROM generate_series(0, 1) AS k) AS s(t))
  FROM b;
INSERT INTO events.event_parties (event_id, user_id, position)
  SELECT b.id, (SELECT id FROM events.users WHERE email = 'bulk@bench.test'), 1 FROM b;
INSERT INTO events.event_parties (event_id, user_id, position)
  SELECT b.id, u.id, 2 FROM b JOIN events.users u ON u.email = 'p' || (b.i % 1000) || '@bulk.test';
INSERT INTO events.event_parties (event_id, user_id, position)
  SELECT b.id, (SELECT id FROM events.users WHERE email = '$2@bench.test'), 3 FROM b WHERE b.i % $3 = 0;
INSERT INTO events.log_entries (event_id, at, occurrence, effector, slots, data)
  SELECT b.id, now(), 'UPDATE', 'bulk@bench.test', e.slots::jsonb, '{"opened": "created"}'::jsonb
  FROM b JOIN events.events e ON e.id = b.id;
ANALYZE;
SQL
}
bulk_events 1000 hank 1
HANK_TOKEN="Token $(token_for hank)"
IVY_TOKEN="Token $(token_for ivy)"
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

# --- scenarios -----------------------------------------------------------
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
declare -A ROW CPU
ORDER=()
# CPU time (utime + stime, in clock ticks) of one process, and of the whole
# PostgreSQL cluster (the postmaster and every backend and helper under it):
# where each request's CPU goes, read from /proc around each scenario.
ticks_of() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
  # Backends that exited (pgbench's) are counted in the postmaster's
  # cutime + cstime once it has reaped them.
  local pm total pid
  pm=$(head -n1 "$STATE/pg/pgdata/postmaster.pid")
  total=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")
  for pid in $(ps --ppid "$pm" -o pid= 2>/dev/null); do
    total=$((total + $(ticks_of "$pid")))
  done
  echo "$total"
}
cpu_snapshot() {
  echo "$(ticks_of "${PID_OF[calndro-gateway]}") $(ticks_of "${PID_OF[calndro-events]}") $(ticks_of "${PID_OF[calndro-notify]}") $(pg_ticks)"
}
CLK_TCK=$(getconf CLK_TCK)
run_wrk() {  # key label auth script url [event ids for the script]
  local key=$1 label=$2 auth=$3 script=$4 url=$5 out
  export BENCH_EVENTS=${6:-} BENCH_THREADS=$THREADS
  if [ "$WARMUP" -gt 0 ]; then
    BENCH_AUTH=$auth wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" -s "$BENCH_DIR/$script" "$url" \
      >"$STATE/logs/wrk-$key-warmup.txt" 2>&1 || true
  fi
  local perf_pids=()
  case " ${BENCH_PROFILE:-} " in
    *" $key "*)
      local proc
      for proc in calndro-events calndro-gateway calndro-notify; do
        perf record -e cpu-clock -F 999 -g -o "$STATE/logs/perf-$key-$proc.data" -p "${PID_OF[$proc]}" \
          >/dev/null 2>&1 &
        perf_pids+=($!)
      done
      ;;
  esac
  local cpu_before
  cpu_before=$(cpu_snapshot)
  out=$(BENCH_AUTH=$auth wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "$BENCH_DIR/$script" "$url" \
    2>"$STATE/logs/wrk-$key.err" | tee "$STATE/logs/wrk-$key.txt" | sed -n 's/^RESULT //p')
  [ -n "$out" ] || { say "wrk gave no result for $key"; cat "$STATE/logs/wrk-$key.err" >&2; out="0 0 0 0 0 -1 -1"; }
  # CPU ms per request: gateway, events, notify, PostgreSQL.
  CPU[$key]=$(awk -v before="$cpu_before" -v after="$(cpu_snapshot)" -v requests="${out%% *}" -v hz="$CLK_TCK" 'BEGIN {
    split(before, b, " "); split(after, a, " ");
    for (i = 1; i <= 4; i++) printf "%s%.2f", (i > 1 ? " " : ""), (requests > 0 ? (a[i] - b[i]) * 1000 / hz / requests : 0) }')
  if [ ${#perf_pids[@]} -gt 0 ]; then
    kill -INT "${perf_pids[@]}" 2>/dev/null || true
    wait "${perf_pids[@]}" 2>/dev/null || true
    for proc in calndro-events calndro-gateway calndro-notify; do
      perf report -i "$STATE/logs/perf-$key-$proc.data" --stdio --no-children --sort dso,symbol 2>/dev/null \
        | grep -v '^$' | grep -E '^ +[0-9]' | head -n 40 >"$STATE/logs/perf-$key-$proc.txt" || true
    done
  fi
  ROW[$key]="$label|$out"
  ORDER+=("$key")
  say "$key: $out (VmHWM so far: events $(hwm "${PID_OF[calndro-events]}") kB, gateway $(hwm "${PID_OF[calndro-gateway]}") kB)"
}
want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }

# (h) small data first: the list of 1,000 events before the 100,000 arrive.
if want h; then
  run_wrk h1 "(h) GET / list, party to 1,000 of ~1,000 events" "$HANK_TOKEN" get.lua "$API/"
fi
[ "${BENCH_STOP_AFTER_SMALL:-0}" = 1 ] && exit 0  # for EXPLAIN on the small data set (with BENCH_KEEP=1)
bulk_events 100000 ivy 100
# The seeding wrote a few hundred MB of WAL into a fresh cluster. A
# checkpoint now writes the seeded pages out and makes the old WAL segments
# reusable, as on a server that has been running: otherwise the write
# scenarios pay for the seeding's checkpoint and for creating (zero-filling)
# new 16 MB WAL segments while commits wait.
sql -c "CHECKPOINT"
if want a; then run_wrk a "(a) GET /ID/ detail, API token" "$APITOKEN" get.lua "$API/$EV_A/"; fi
if want b; then run_wrk b "(b) GET /ID/ detail, Basic" "$BASIC" get.lua "$API/$EV_B/"; fi
if want c; then run_wrk c "(c) GET /ID/?et= detail, email token" "" get.lua "$API/$EV_C/?et=$ET"; fi
if want d; then run_wrk d "(d) POST / create, 3 parties, 3 slots" "$APITOKEN" create.lua "$API/"; fi
if want e; then run_wrk e "(e) PATCH /ID/ narrowing ($CONNS events)" "$APITOKEN" patch.lua "$API/" "$EVS_E"; fi
if want f; then
  run_wrk f "(f) POST /ID/notify/, 1 recipient ($CONNS events)" "$APITOKEN" notify.lua "$API/" "$EVS_F"
  # (f) queued thousands of mails: let the dispatcher send them before the
  # next scenario, or its work (SMTP, outbox updates) is measured there.
  drain_started=$(date +%s)
  for _ in $(seq 1 600); do
    [ "$(sql -c "SELECT count(*) FROM notify.outbox WHERE state = 'queued'")" = 0 ] && break
    sleep 0.5
  done
  say "outbox drained in $(($(date +%s) - drain_started)) s: $(sql -c "SELECT count(*) FROM notify.outbox WHERE state = 'sent'") mails sent, $(sql -c "SELECT count(*) FROM notify.outbox WHERE state <> 'sent'") not"
fi
# The same two on ONE event: every request waits for the row lock.
if want e; then run_wrk e1 "(e') PATCH /ID/ narrowing, all on 1 event" "$APITOKEN" patch.lua "$API/" "$EV_E,$EV_E"; fi
if want g; then
  run_wrk g1 "(g) GET /ID/log/, 100 entries (1 page)" "$APITOKEN" get.lua "$API/$EV_G_SMALL/log/"
  run_wrk g2 "(g) GET /ID/log/, 10,000 entries (1 page)" "$APITOKEN" get.lua "$API/$EV_G_BIG/log/"
fi
if want h; then
  run_wrk h2 "(h) GET / list, party to 1,000 of 100,000 events" "$IVY_TOKEN" get.lua "$API/"
fi

# --- the ceiling: pgbench with scenario (a)'s statements -----------------
# Two ceilings for the same statements (bench/pgbench-a.sql): "tx" wraps them
# in one transaction, as the performance brief defines the ceiling; "as-run" lets each
# commit on its own, as calndro-events runs them for a GET (no BEGIN and
# COMMIT round trips), the stricter comparison.
TOKHASH=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
EFFECTOR=alice@bench.test
PG_SLOTS=$(sql -c "SELECT slots::text FROM events.log_entries WHERE event_id = $EV_PG ORDER BY id LIMIT 1" | tr -d ' ')
{ echo "BEGIN;"; grep -v '^--' "$BENCH_DIR/pgbench-a.sql"; echo "COMMIT;"; } >"$STATE/pgbench-a-tx.sql"
cp "$BENCH_DIR/pgbench-a.sql" "$STATE/pgbench-a-as-run.sql"
pgb() {  # seconds variant
  "$PGBENCH" -h 127.0.0.1 -p "$PG_PORT" -U calndro -n -M prepared -c "$CONNS" -j "$THREADS" -T "$1" \
    -D tokhash="$TOKHASH" -D eid="$EV_PG" -D us=1900000000000000 -D occ=VIEW -D effector="$EFFECTOR" \
    -D slots="$PG_SLOTS" -f "$STATE/pgbench-a-$2.sql" calndro
}
declare -A PG_TPS PG_LAT PG_FAILED PG_CPU
ceiling() {  # variant
  local log=$STATE/logs/pgbench-$1.txt before after xacts
  pgb "$WARMUP" "$1" >"$STATE/logs/pgbench-$1-warmup.txt" 2>&1 || true
  before=$(pg_ticks)
  pgb "$DURATION" "$1" >"$log" 2>&1 || { say "pgbench ($1) failed"; cat "$log" >&2; }
  after=$(pg_ticks)
  PG_TPS[$1]=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$log")
  PG_LAT[$1]=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$log")
  PG_FAILED[$1]=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$log")
  xacts=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$log")
  PG_CPU[$1]=$(awk -v d=$((after - before)) -v n="${xacts:-0}" -v hz="$CLK_TCK" \
    'BEGIN { printf "%.2f", (n > 0 ? d * 1000 / hz / n : 0) }')
  say "pgbench ($1): tps=${PG_TPS[$1]} latency avg=${PG_LAT[$1]}ms failed=${PG_FAILED[$1]:-0}"
}
if want a; then
  ceiling tx
  ceiling as-run
fi

# --- peak memory of each calndro process ---------------------------------
RSS_EVENTS=$(hwm "${PID_OF[calndro-events]}")
RSS_NOTIFY=$(hwm "${PID_OF[calndro-notify]}")
RSS_GATEWAY=$(hwm "${PID_OF[calndro-gateway]}")

# --- the table -----------------------------------------------------------
{
  echo
  echo "calndro benchmark: wrk -t$THREADS -c$CONNS -d${DURATION}s --latency (after ${WARMUP}s warm-up); $(date -u +%FT%TZ)"
  echo "email-token cache: CALNDRO_EMAIL_TOKEN_CACHE_SECONDS=$CALNDRO_EMAIL_TOKEN_CACHE_SECONDS"
  echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM; load before: $LOAD_BEFORE"
  echo
  printf '| %-50s | %9s | %8s | %8s | %7s | %-26s |\n' "scenario" "req/s" "p50 ms" "p99 ms" "non-2xx" \
    "CPU ms/req gw/ev/nt/pg"
  printf '|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..52})" "-----------" "----------" "----------" "---------" \
    "$(printf -- '-%.0s' {1..28})"
  for key in "${ORDER[@]}"; do
    IFS='|' read -r label result <<<"${ROW[$key]}"
    read -r _requests _dur rps p50 p99 bad sock <<<"$result"
    printf '| %-50s | %9s | %8s | %8s | %7s | %-26s |\n' "$label" "$rps" "$p50" "$p99" "$((bad + sock))" \
      "$(tr ' ' / <<<"${CPU[$key]}")"
  done
  if [ -n "${ROW[a]:-}" ] && [ -n "${PG_TPS[tx]:-}" ] && [ -n "${PG_TPS[as-run]:-}" ]; then
    read -r _ _ A_RPS _ <<<"${ROW[a]#*|}"
    printf '| %-50s | %9.1f | %8s | %8s | %7s | %-26s |\n' "pgbench, (a)'s statements in one transaction" \
      "${PG_TPS[tx]}" "avg ${PG_LAT[tx]}" "" "${PG_FAILED[tx]:-0}" "-/-/-/${PG_CPU[tx]}"
    printf '| %-50s | %9.1f | %8s | %8s | %7s | %-26s |\n' "pgbench, (a)'s statements as run (each commits)" \
      "${PG_TPS[as-run]}" "avg ${PG_LAT[as-run]}" "" "${PG_FAILED[as-run]:-0}" "-/-/-/${PG_CPU[as-run]}"
    echo
    awk -v a="$A_RPS" -v p="${PG_TPS[tx]}" -v q="${PG_TPS[as-run]}" 'BEGIN {
      printf "ratio (a) / pgbench ceiling (one transaction): %.2f  (%.1f req/s over %.1f tps)\n", a / p, a, p
      printf "ratio (a) / pgbench, statements as run:                 %.2f  (%.1f req/s over %.1f tps)\n", a / q, a, q }'
  fi
  echo
  echo "peak RSS (VmHWM): calndro-events $((RSS_EVENTS / 1024)) MiB, calndro-notify $((RSS_NOTIFY / 1024)) MiB, calndro-gateway $((RSS_GATEWAY / 1024)) MiB"
  echo "CPU ms/req: CPU time per request of calndro-gateway / calndro-events / calndro-notify / the PostgreSQL"
  echo "cluster during the scenario (2 CPUs are 2000 ms per second, shared with wrk or pgbench)"
  echo "logs and raw wrk/pgbench output: $STATE/logs/"
} | tee "$STATE/result.txt"
