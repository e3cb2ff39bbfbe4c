#!/usr/bin/env bash
# House rules a reviewer should not have to check by eye:
#   - every tracked C++ file is formatted by .clang-format (clang-format 14);
#   - no function in services/ or gateway/ is longer than 60 lines (a ctags
#     count from the first line to the closing brace, mains and lambdas included);
#   - no file in services/ or gateway/ is longer than 500 lines (split by use case);
#   - layers: a folder of services/common or gateway/ includes only from the
#     folders below it (the table below), and the gateway nothing of the
#     database or the gRPC server;
#   - the project speaks of itself: no tracker numbers ("issue 7") anywhere;
#   - clang-tidy (the checks .clang-tidy chooses, each finding an error) is
#     clean on every .cc file in services/ and gateway/, headers included.
# Exits non-zero and names each offender.
#
#   CALNDRO_BUILD_DIR  the configured build whose compile_commands.json
#                      clang-tidy reads (build); deploy/test.sh passes its own

set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

MAX_FUNCTION_LINES=60
MAX_FILE_LINES=500
failures=0

mapfile -t cpp_files < <(git ls-files '*.cc' '*.h')
unformatted=()
for f in "${cpp_files[@]}"; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    unformatted+=("$f")
  fi
done
if [ ${#unformatted[@]} -gt 0 ]; then
  echo "style: not formatted (run: clang-format -i FILE): ${unformatted[*]}"
  failures=$((failures + 1))
else
  echo "style: ${#cpp_files[@]} C++ files formatted"
fi

mapfile -t code_files < <(git ls-files 'services/*.cc' 'services/*.h' 'gateway/*.cc' 'gateway/*.h')
long_functions=$(ctags --fields=+ne --kinds-C++=f -o - "${code_files[@]}" 2>/dev/null |
  awk -F'\t' -v max="$MAX_FUNCTION_LINES" '{
      line = ""; end = "";
      for (i = 4; i <= NF; i++) {
        if ($i ~ /^line:/) line = substr($i, 6);
        if ($i ~ /^end:/) end = substr($i, 5);
      }
      if (line != "" && end != "" && end - line + 1 > max) printf "  %s:%s %s (%d lines)\n", $2, line, $1, end - line + 1;
    }')
if [ -n "$long_functions" ]; then
  echo "style: functions longer than $MAX_FUNCTION_LINES lines:"
  echo "$long_functions"
  failures=$((failures + 1))
else
  echo "style: no function in services/ or gateway/ over $MAX_FUNCTION_LINES lines (${#code_files[@]} files)"
fi

long_files=$(wc -l "${code_files[@]}" | awk -v max="$MAX_FILE_LINES" '$2 != "total" && $1 > max { printf "  %s (%d lines)\n", $2, $1 }')
if [ -n "$long_files" ]; then
  echo "style: files longer than $MAX_FILE_LINES lines (split them by use case):"
  echo "$long_files"
  failures=$((failures + 1))
else
  echo "style: no file in services/ or gateway/ over $MAX_FILE_LINES lines"
fi

# Each folder and the folders its files may include from (its own and those
# below it). A file obeys the longest folder that holds it. The CMake
# libraries link the same way, so an include outside its row would either
# not link or drag a layer into binaries that do not use it.
layers="
services/common/text     common/text
services/common/crypto   common/crypto
services/common/base     common/base common/text common/crypto
services/common/metrics  common/metrics common/base
services/common/grpc     common/grpc common/base common/text
services/common/db       common/db common/base common/metrics
services/common/rpc      common/rpc common/base common/grpc common/metrics common/db
gateway/web              gateway/web
gateway/api              gateway/api gateway/web common/text common/crypto common/base common/metrics common/grpc
gateway/server           gateway/server gateway/api gateway/web common/text common/crypto common/base common/metrics common/grpc
gateway                  gateway/server gateway/api gateway/web common/text common/crypto common/base common/metrics common/grpc
"
layer_breaks=$(git grep -n -E '^#include "(common|gateway)/' -- services/common gateway |
  awk -v layers="$layers" '
    BEGIN {
      n = split(layers, rows, "\n");
      for (i = 1; i <= n; i++) {
        if (split(rows[i], cell, " ") < 2) continue;
        allowed[cell[1]] = rows[i];
      }
    }
    {
      split($0, part, ":"); file = part[1];
      match($0, /"[^"]+"/); included = substr($0, RSTART + 1, RLENGTH - 2);
      best = "";
      for (folder in allowed) {
        if (index(file, folder "/") == 1 && length(folder) > length(best)) best = folder;
      }
      if (best == "") next;
      split(allowed[best], cell, " "); ok = 0;
      for (j = 2; j in cell; j++) if (index(included, cell[j] "/") == 1) ok = 1;
      if (!ok) printf "  %s:%s includes %s (%s may include only: %s)\n", file, part[2], included, best, substr(allowed[best], length(best) + 2);
    }' | sed 's/  */ /g; s/^ /  /')
if [ -n "$layer_breaks" ]; then
  echo "style: includes across layers:"
  echo "$layer_breaks"
  failures=$((failures + 1))
else
  echo "style: services/common and gateway/ include only from the layers below them"
fi

if git grep -n -i -E '\bissues? ?#?[0-9]+' -- . ':!tests/style/check.sh'; then
  echo "style: tracker numbers above; the project should speak of itself"
  failures=$((failures + 1))
else
  echo "style: no tracker numbers"
fi

# clang-tidy needs each file's compile command (the build's
# compile_commands.json, which CMakeLists.txt always writes) and protoc's
# headers, which the proto target generates; it installs nothing (clang-tidy
# comes with deploy/install-deps.sh --all). About 25 CPU-seconds a file, most
# of it the checks matching over gRPC's and protobuf's headers: some 15
# minutes for services/ and gateway/ on 2 idle cores.
BUILD_DIR=${CALNDRO_BUILD_DIR:-build}
mapfile -t tidy_files < <(git ls-files 'services/*.cc' 'gateway/*.cc')
if ! command -v clang-tidy >/dev/null 2>&1; then
  echo "style: clang-tidy is missing (deploy/install-deps.sh --all installs it)"
  failures=$((failures + 1))
elif [ ! -f "$BUILD_DIR/compile_commands.json" ]; then
  echo "style: no $BUILD_DIR/compile_commands.json for clang-tidy (configure first: cmake -S . -B $BUILD_DIR)"
  failures=$((failures + 1))
elif ! cmake --build "$BUILD_DIR" --target calndro_proto >/dev/null; then
  echo "style: could not generate the protobuf headers clang-tidy needs (cmake --build $BUILD_DIR --target calndro_proto)"
  failures=$((failures + 1))
else
  tidy_start=$SECONDS
  # One clang-tidy per file, as many at once as there are cores; a file's
  # findings are printed together, and only when there are some.
  # shellcheck disable=SC2016  # expanded by the inner shell
  if printf '%s\0' "${tidy_files[@]}" | xargs -0 -P "$(nproc)" -n 1 sh -c \
      'out=$(clang-tidy --quiet -p "$0" "$1" 2>&1) || { printf "%s\n" "$out"; exit 1; }' "$BUILD_DIR"; then
    echo "style: clang-tidy clean on ${#tidy_files[@]} files in services/ and gateway/ ($((SECONDS - tidy_start)) s)"
  else
    echo "style: clang-tidy findings above (.clang-tidy says which checks and why)"
    failures=$((failures + 1))
  fi
fi

[ "$failures" = 0 ]
