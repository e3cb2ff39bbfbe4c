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
#   CALNDRO_BUILD_DIR     build folder (build)
#   CALNDRO_SKIP_BUILD=1  skip install and build (deploy/test.sh uses this)
#
# A first start installs only what running needs (install-deps.sh --run: the
# compiler and the -dev libraries, then, while the build runs, PostgreSQL,
# the SMTP sink, httpie and jq) and builds only the four binaries it runs,
# with ccache when present. The tests, their libraries (GTest) and their
# tools (ccache, clang, Docker, node, ...) are deploy/test.sh's.
#
# build/ is shared with deploy/test.sh. run-local configures it only when it
# has never been configured, for the quickest build of the four binaries:
# Release (no debug information, which was a quarter of the compile time),
# unity translation units (CALNDRO_UNITY_BUILD: 2.4 times less CPU)
# with the tests off (CALNDRO_BUILD_TESTS=OFF). test.sh configures the same
# folder for testing (RelWithDebInfo, tests on), which compiles everything
# once; from then on run-local runs what build/ holds and rebuilds nothing.
# A second start runs no apt and no cmake configure; the build of the four
# targets is a no-op unless a source changed (then ccache helps).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BUILD_DIR=${CALNDRO_BUILD_DIR:-$ROOT/build}
if [ "${CALNDRO_SKIP_BUILD:-0}" != 1 ]; then
  # What building needs first; what only running needs (PostgreSQL, the SMTP
  # sink, httpie, jq: the longer half of the install) installs while the
  # compiler works.
  bash "$ROOT/deploy/install-deps.sh" --build-only
  # A configured folder reconfigures itself when a CMakeLists.txt changes:
  # cmake runs here only for a folder never configured, or whose configure
  # failed (then with the options already in its cache).
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    launcher=()
    if command -v ccache >/dev/null 2>&1; then
      launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    fi
    cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCALNDRO_BUILD_TESTS=OFF -DCALNDRO_UNITY_BUILD=ON "${launcher[@]}"
  elif [ ! -f "$BUILD_DIR/Makefile" ] && [ ! -f "$BUILD_DIR/build.ninja" ]; then
    cmake -S . -B "$BUILD_DIR"
  fi
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target calndro-events calndro-notify calndro-gateway calndro-admin &
  build_pid=$!
  install_status=0
  bash "$ROOT/deploy/install-deps.sh" --run --no-update || install_status=$?
  build_status=0
  wait "$build_pid" || build_status=$?
  if [ "$install_status" != 0 ] || [ "$build_status" != 0 ]; then
    echo "run-local: the install (exit $install_status) or the build (exit $build_status) failed" >&2
    exit 1
  fi
fi
BIN=$BUILD_DIR/bin
STACK_BIN=$BIN
# shellcheck source=lib/stack.sh
source "$ROOT/deploy/lib/stack.sh"

STATE=${CALNDRO_STATE_DIR:-$ROOT/.calndro}
HTTP_PORT=${CALNDRO_HTTP_PORT:-9000}
EVENTS_PORT=${CALNDRO_EVENTS_PORT:-50051}
NOTIFY_PORT=${CALNDRO_NOTIFY_PORT:-50052}
PG_PORT=${CALNDRO_PG_PORT:-55432}
SMTP_PORT=${CALNDRO_SMTP_PORT:-1025}
# Listen and peer addresses and the links' base the user set win over the
# launcher's loopback defaults.
USER_ENV=$(export -p | grep -E '^declare -x CALNDRO_((EVENTS|NOTIFY|HTTP)_(LISTEN|ADDR)|PUBLIC_BASE_URL)=' || true)

stack_init "$STATE" run-local
STATE=$STACK_DIR
# shellcheck disable=SC2317  # called by the launcher on exit
stack_after_stop() { echo "run-local: stopped"; }

# Database.
if [ -n "${CALNDRO_DATABASE_URL:-}" ]; then
  STACK_DATABASE_URL=$CALNDRO_DATABASE_URL
  echo "run-local: using CALNDRO_DATABASE_URL (no private cluster)"
else
  stack_postgres "$PG_PORT"
  echo "run-local: PostgreSQL in $STATE/pg on 127.0.0.1:$PG_PORT"
fi

# Mail.
if [ -n "${CALNDRO_SMTP_URL:-}" ]; then
  STACK_SMTP_URL=$CALNDRO_SMTP_URL
  echo "run-local: mail goes to $STACK_SMTP_URL"
else
  stack_smtp "$SMTP_PORT"
  echo "run-local: SMTP sink on 127.0.0.1:$SMTP_PORT, mail in $STATE/mail/new/"
fi

# The internal credential between the services, made once.
if [ ! -s "$STATE/internal-token" ]; then
  (umask 077 && od -An -tx1 -N20 /dev/urandom | tr -d ' \n' >"$STATE/internal-token")
fi
CALNDRO_INTERNAL_TOKEN=$(cat "$STATE/internal-token")
stack_export_env "$EVENTS_PORT" "$NOTIFY_PORT" "$HTTP_PORT"
export CALNDRO_HTTP_LISTEN=0.0.0.0:$HTTP_PORT
# Exported to every process started below: notify builds the links in mails
# from it alone (no request's Host reaches it), events the URL in event.ics.
# Reached under another name, set CALNDRO_ALLOWED_HOSTS too (the gateway's
# Host check).
export CALNDRO_PUBLIC_BASE_URL=http://localhost:$HTTP_PORT
eval "$USER_ENV"

cat >"$STATE/env" <<ENV
CALNDRO_DATABASE_URL=$CALNDRO_DATABASE_URL
CALNDRO_HTTP_PORT=$HTTP_PORT
CALNDRO_EVENTS_PORT=$EVENTS_PORT
CALNDRO_NOTIFY_PORT=$NOTIFY_PORT
CALNDRO_SMTP_URL=$CALNDRO_SMTP_URL
ENV
chmod 600 "$STATE/env"

if [ -x "$BIN/calndro-notify" ]; then
  stack_start calndro-notify "$NOTIFY_PORT"
else
  echo "run-local: calndro-notify is not built; notify will answer 503" >&2
fi
stack_start calndro-events "$EVENTS_PORT"
stack_start calndro-gateway "$HTTP_PORT"

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
wait -n "${STACK_PID[@]}"
echo "run-local: a service exited; see $STATE/logs/" >&2
exit 1
