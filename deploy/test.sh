#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit and integration
# tests through ctest against a private PostgreSQL cluster (in a temp folder),
# then the scenario scripts in tests/scenario/ against a stack started like
# deploy/run-local.sh, the other suites, and the fault soak (tests/soak/).
# Exits non-zero on any failure.
#
#   CALNDRO_BUILD_DIR   build folder (build)
#   CALNDRO_BUILD_TYPE  Debug or RelWithDebInfo (RelWithDebInfo)
#   CALNDRO_CTEST_ARGS  extra ctest arguments (e.g. "-L integration")
#   CALNDRO_FUZZ_SECONDS  seconds per fuzz target in tests/fuzz/run.sh (15)
#   CALNDRO_UNITY_BUILD   ON (default) or OFF: every service file compiled alone
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=lib/stack.sh
source "$ROOT/deploy/lib/stack.sh"

BUILD_DIR=${CALNDRO_BUILD_DIR:-$ROOT/build}
BUILD_TYPE=${CALNDRO_BUILD_TYPE:-RelWithDebInfo}
JOBS=$(nproc)

# Where the run's time goes, printed with the summary (CI's budget is minutes).
STAGE_TIMES=()
STAGE_STARTED=$SECONDS
stage_done() {
  STAGE_TIMES+=("$1 $((SECONDS - STAGE_STARTED)) s")
  STAGE_STARTED=$SECONDS
}
summary() {
  echo "================================================================"
  local stage
  for stage in "${STAGE_TIMES[@]}"; do echo "deploy/test.sh: time: $stage"; done
  echo "deploy/test.sh: time: total $SECONDS s"
  echo "deploy/test.sh: $*"
}

# Everything: the packages deploy/run-local.sh installs and what the tests add.
bash "$ROOT/deploy/install-deps.sh" --all || { summary "FAILED (installing packages)"; exit 1; }
stage_done "packages"
# ccache (installed by install-deps) makes a rebuild on the same machine cheap.
LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# The tests on, and the services unity-built as run-local builds them (275
# CPU-s instead of 669: CI has 2 cores and 30 minutes). What a unity build
# could hide, a file that compiles only because another one in its chunk
# included something for it, CALNDRO_UNITY_BUILD=OFF finds (the build
# folder's default); clang-tidy reads its own unity build either way.
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DCALNDRO_BUILD_TESTS=ON \
  -DCALNDRO_UNITY_BUILD="${CALNDRO_UNITY_BUILD:-ON}" "${LAUNCHER[@]}" \
  || { summary "FAILED (cmake configure)"; exit 1; }
cmake --build "$BUILD_DIR" -j"$JOBS" || { summary "FAILED (build)"; exit 1; }
stage_done "build"

TMP=$(mktemp -d /tmp/calndro-test.XXXXXX)
declare -A BACKGROUND_PID=()
stack_init "$TMP" deploy/test.sh

# The two suites that only compute, the house style (clang-tidy) and the
# sanitizer stage (a clang build, the unit tests under ASan+UBSan, the fuzz
# smoke), start now beside the tests, at the lowest priority: the
# integration tests mostly wait on their stacks, and what they leave of the
# two cores goes to these. They are waited for last, after docker-compose
# and the soak (which mostly wait too), and their output is printed then.
BACKGROUND_SUITES=(tests/style/check.sh "tests/fuzz/run.sh ${CALNDRO_FUZZ_SECONDS:-15}")
for suite in "${BACKGROUND_SUITES[@]}"; do
  log="$TMP/suite-${suite%% *}.log"
  mkdir -p "$(dirname "$log")"
  # shellcheck disable=SC2086
  CALNDRO_BUILD_DIR="$BUILD_DIR" setsid nice -n 19 bash "$ROOT"/$suite >"$log" 2>&1 &
  BACKGROUND_PID[$suite]=$!
done
# shellcheck disable=SC2317  # called by the launcher on exit
stack_after_stop() {
  # A background suite still running (this script stopped early): its
  # process group, which setsid gave it, goes with it.
  local pid
  for pid in "${BACKGROUND_PID[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  if [ -z "${CALNDRO_TEST_KEEP:-}" ]; then
    rm -rf "$TMP"
  else
    echo "deploy/test.sh: kept $TMP"
  fi
}

read -r PG_PORT < <(stack_free_ports 1)
if [ -z "$PG_PORT" ] || ! stack_postgres "$PG_PORT"; then
  summary "FAILED (could not start PostgreSQL)"
  exit 1
fi
export CALNDRO_TEST_PG_URL="postgresql://calndro@127.0.0.1:$PG_PORT/postgres"
echo "deploy/test.sh: PostgreSQL on 127.0.0.1:$PG_PORT (CALNDRO_TEST_PG_URL=$CALNDRO_TEST_PG_URL)"

CTEST_STATUS=0
# shellcheck disable=SC2086
(cd "$BUILD_DIR" && ctest --output-on-failure -j"$JOBS" ${CALNDRO_CTEST_ARGS:-}) || CTEST_STATUS=$?

# Scale-out: the HTTP and direct-gRPC suites again, with two replicas of the
# event service behind the gateway and two of the notification service behind
# it (tests/support/stack.h). The suites that stop or kill processes on
# purpose (operations, notify_service, scale_out) run once, above.
if [ -z "${CALNDRO_CTEST_ARGS:-}" ]; then
  echo "deploy/test.sh: scale-out pass (CALNDRO_TEST_REPLICAS=2)"
  (cd "$BUILD_DIR" && CALNDRO_TEST_REPLICAS=2 ctest --output-on-failure -j"$JOBS" \
      -R 'integration\.(http_api|notify_http|grpc_direct)_test') || CTEST_STATUS=$?
fi
stage_done "ctest"

# Scenario scripts against a whole stack started like run-local.
SCEN_PASS=0
SCEN_FAIL=0
FAILED_SCENARIOS=()
shopt -s nullglob
scenarios=("$ROOT"/tests/scenario/*.sh)
if [ ${#scenarios[@]} -gt 0 ]; then
  export CALNDRO_STATE_DIR="$TMP/stack"
  read -r CALNDRO_HTTP_PORT CALNDRO_EVENTS_PORT CALNDRO_NOTIFY_PORT CALNDRO_SMTP_PORT < <(stack_free_ports 4)
  export CALNDRO_HTTP_PORT CALNDRO_EVENTS_PORT CALNDRO_NOTIFY_PORT CALNDRO_SMTP_PORT
  # The stack gets its own database on the test cluster.
  psql -q -h 127.0.0.1 -p "$PG_PORT" -U calndro -d postgres -c "CREATE DATABASE calndro_scenario" >/dev/null
  RUN_LOCAL_LOG=$TMP/logs/run-local.log
  stack_spawn run-local env CALNDRO_SKIP_BUILD=1 CALNDRO_BUILD_DIR="$BUILD_DIR" \
    CALNDRO_DATABASE_URL="postgresql://calndro@127.0.0.1:$PG_PORT/calndro_scenario" \
    bash "$ROOT/deploy/run-local.sh"
  for _ in $(seq 1 600); do
    if [ -s "$CALNDRO_STATE_DIR/demo-user" ] && grep -q "calndro is running" "$RUN_LOCAL_LOG"; then
      break
    fi
    kill -0 "${STACK_PID[run-local]}" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q "calndro is running" "$RUN_LOCAL_LOG"; then
    echo "deploy/test.sh: the stack for the scenarios did not start:" >&2
    cat "$RUN_LOCAL_LOG" >&2
    SCEN_FAIL=${#scenarios[@]}
    FAILED_SCENARIOS=("(stack did not start)")
  else
    for s in "${scenarios[@]}"; do
      echo "---- scenario $(basename "$s")"
      if bash "$s"; then
        SCEN_PASS=$((SCEN_PASS + 1))
      else
        SCEN_FAIL=$((SCEN_FAIL + 1))
        FAILED_SCENARIOS+=("$(basename "$s")")
      fi
    done
  fi
  stack_kill run-local
fi
stage_done "scenarios"

# Suites that bring their own stack or need no stack: the house style
# (formatting, lengths, layers, and clang-tidy over the unity files of a
# build it configures in $BUILD_DIR/clang-tidy-UnifiedSource), the browser page
# (headless Chromium), grpcurl's part (a reflection client from npm), the
# deployment files (docker-compose config, Kubernetes manifests), the
# sanitizer stage (its own clang build: the unit tests under ASan+UBSan, each
# fuzz target for CALNDRO_FUZZ_SECONDS, default 15), and docker-compose up on
# a private Docker engine (with the Kubernetes objects validated against the
# API schemas). The two started beside the tests are waited for after the
# soak: what is left of their run overlaps docker-compose's and the soak's.

# run_suite SUITE: runs SUITE (a path, maybe with arguments) and counts its
# result; one started beside the tests (above) is waited for instead, and
# its output printed now.
run_suite() {
  local suite=$1 status
  echo "---- suite $suite"
  if [ -n "${BACKGROUND_PID[$suite]:-}" ]; then
    wait "${BACKGROUND_PID[$suite]}"
    status=$?
    cat "$TMP/suite-${suite%% *}.log"
  else
    # shellcheck disable=SC2086
    CALNDRO_BUILD_DIR="$BUILD_DIR" bash "$ROOT"/$suite
    status=$?
  fi
  if [ "$status" = 0 ]; then
    SCEN_PASS=$((SCEN_PASS + 1))
  else
    SCEN_FAIL=$((SCEN_FAIL + 1))
    FAILED_SCENARIOS+=("$suite")
  fi
  stage_done "$suite"
}

for suite in tests/deploy/check.sh tests/grpc-reflection/run.sh tests/browser/run.sh tests/deploy/compose-up.sh; do
  run_suite "$suite"
done

# The fault soak (tests/soak/run.sh, docs/RELIABILITY.md): the whole stack
# under a concurrent workload while PostgreSQL restarts and crashes, each
# service is killed (-9), the event service is frozen (SIGSTOP) for longer
# than the gateway's deadline and the SMTP sink stops; nothing acknowledged may be
# lost, doubled or unlogged, and `calndro-admin check` must find the
# database consistent. A mail whose two copies (one Message-ID) fall on either
# side of the kill of calndro-notify is reported as resent, not failed: the
# SMTP server took it just before the process died (services/notify/README.md). About 3 minutes; bounded at 10 (then SIGTERM, on
# which it stops what it started, by pid; SIGKILL 3 minutes later).
echo "---- soak tests/soak/run.sh"
SOAK_LOG=$TMP/soak.log
CALNDRO_BUILD_DIR="$BUILD_DIR" CALNDRO_SOAK_FREEZE=1 timeout -k 180 600 bash "$ROOT/tests/soak/run.sh" 2>&1 \
  | tee "$SOAK_LOG"
SOAK_STATUS=${PIPESTATUS[0]}
SOAK_LINE=$(grep -E '^lost: ' "$SOAK_LOG" | tail -1)
if [ "$SOAK_STATUS" = 0 ]; then
  SCEN_PASS=$((SCEN_PASS + 1))
  echo "deploy/test.sh: soak passed — ${SOAK_LINE:-?}; admin check consistent"
else
  SCEN_FAIL=$((SCEN_FAIL + 1))
  FAILED_SCENARIOS+=("tests/soak/run.sh")
  [ "$SOAK_STATUS" = 124 ] && SOAK_LINE="timed out after 600 s"
  echo "deploy/test.sh: soak FAILED (exit $SOAK_STATUS) — ${SOAK_LINE:-see its output above}"
fi
stage_done "soak"

for suite in "${BACKGROUND_SUITES[@]}"; do
  run_suite "$suite"
done

RESULT="PASSED"
if [ "$CTEST_STATUS" != 0 ] || [ "$SCEN_FAIL" != 0 ]; then
  RESULT="FAILED"
fi
CTEST_WORD=$([ "$CTEST_STATUS" = 0 ] && echo "all passed" || echo "failures (exit $CTEST_STATUS)")
summary "$RESULT — ctest: $CTEST_WORD; scenarios and suites: $SCEN_PASS passed, $SCEN_FAIL failed ${FAILED_SCENARIOS[*]:-}"
[ "$RESULT" = PASSED ]
