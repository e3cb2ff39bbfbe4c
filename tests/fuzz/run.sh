#!/usr/bin/env bash
# The sanitizer stage of deploy/test.sh: builds build-sanitize (clang,
# ASan+UBSan, CALNDRO_SANITIZE=ON), runs the unit tests once under the
# sanitizers, then each libFuzzer target of tests/fuzz/ for a while on a copy
# of its seed corpus. Exits non-zero on any build failure, test failure,
# sanitizer report or fuzzer crash; crash inputs stay in
# build-sanitize/fuzz-artifacts/<target>/ and are printed.
#
#   tests/fuzz/run.sh [SECONDS_PER_TARGET]     (default 30)
#
#   CALNDRO_SANITIZE_BUILD_DIR   build folder (build-sanitize)
#   CALNDRO_FUZZ_TARGETS         targets to run (default: all), e.g. "email routes"
#
# Installs nothing: clang and libclang-rt-14-dev come from deploy/install-deps.sh.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SECONDS_PER_TARGET=${1:-30}
BUILD_DIR=${CALNDRO_SANITIZE_BUILD_DIR:-$ROOT/build-sanitize}
TARGETS=${CALNDRO_FUZZ_TARGETS:-time_format email json_mapping routes accept mail_composer}
JOBS=$(nproc)

if ! [[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]] || [ "$SECONDS_PER_TARGET" -lt 1 ]; then
  echo "tests/fuzz/run.sh: SECONDS_PER_TARGET must be a positive integer, not '$SECONDS_PER_TARGET'" >&2
  exit 2
fi
if ! command -v clang++ >/dev/null 2>&1; then
  echo "tests/fuzz/run.sh: clang++ is missing; run deploy/install-deps.sh" >&2
  exit 1
fi

step() { echo "== fuzz: $*"; }
STARTED=$(date +%s)

LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# The libraries under test are unity-built (as for a first start): the
# sanitizer build is the longest compile of the run, and per-file compilation
# of the same sources is already checked by the main build.
step "configure $BUILD_DIR"
mkdir -p "$BUILD_DIR"
if ! CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCALNDRO_SANITIZE=ON -DCALNDRO_UNITY_BUILD=ON "${LAUNCHER[@]}" >"$BUILD_DIR/configure.log" 2>&1; then
  cat "$BUILD_DIR/configure.log" >&2
  echo "tests/fuzz/run.sh: FAILED (configure)" >&2
  exit 1
fi
step "build (unit tests and fuzz targets, ASan+UBSan)"
if ! nice cmake --build "$BUILD_DIR" -j"$JOBS" --target calndro-sanitize; then
  echo "tests/fuzz/run.sh: FAILED (build)" >&2
  exit 1
fi
BUILT=$(date +%s)

# Any sanitizer report is a failure, with a stack to read.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

FAILED=()
step "unit tests under ASan+UBSan"
for binary in "$BUILD_DIR"/bin/calndro-unit-*; do
  name=$(basename "$binary")
  log="$BUILD_DIR/$name.log"
  if "$binary" --gtest_brief=1 >"$log" 2>&1; then
    echo "   $name: $(grep -E '^\[  PASSED  \]' "$log" | head -1)"
  else
    tail -n 80 "$log"
    echo "   $name: FAILED (log: $log)"
    FAILED+=("$name")
  fi
done
UNIT_DONE=$(date +%s)

ARTIFACTS="$BUILD_DIR/fuzz-artifacts"
mkdir -p "$ARTIFACTS"
for target in $TARGETS; do
  binary="$BUILD_DIR/bin/calndro-fuzz-$target"
  seeds="$ROOT/tests/fuzz/corpus/$target"
  work="$BUILD_DIR/fuzz-corpus/$target"
  log="$BUILD_DIR/fuzz-$target.log"
  if [ ! -x "$binary" ]; then
    echo "   $target: no binary $binary"
    FAILED+=("fuzz:$target")
    continue
  fi
  # A fresh copy each run: the seeds stay as committed, and a run's
  # findings do not carry over into the next (reproducible smoke runs).
  rm -rf "$work"
  mkdir -p "$work" "$ARTIFACTS/$target"
  cp "$seeds"/* "$work"/ 2>/dev/null || true
  step "fuzz $target for ${SECONDS_PER_TARGET}s"
  if "$binary" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
      -print_final_stats=1 -artifact_prefix="$ARTIFACTS/$target/" "$work" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -E '^#[0-9]+.*cov:' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+')
    echo "   $target: ok, ${execs:-?} executions, ${cov:-no coverage line}"
  else
    grep -E -A40 'ERROR: |runtime error|invariant failed|deadly signal' "$log" | head -n 80
    echo "   $target: FAILED (log: $log)"
    for artifact in "$ARTIFACTS/$target"/*; do
      [ -f "$artifact" ] || continue
      echo "   artifact $artifact ($(stat -c %s "$artifact") bytes):"
      head -c 512 "$artifact" | od -A d -c | head -n 20
    done
    FAILED+=("fuzz:$target")
  fi
done
DONE=$(date +%s)

echo "== fuzz: build $((BUILT - STARTED))s, unit tests $((UNIT_DONE - BUILT))s, fuzzing $((DONE - UNIT_DONE))s"
if [ ${#FAILED[@]} -ne 0 ]; then
  echo "tests/fuzz/run.sh: FAILED: ${FAILED[*]}"
  exit 1
fi
echo "tests/fuzz/run.sh: passed"
