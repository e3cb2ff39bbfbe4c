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
#   CALNDRO_BUILD_DIR  the build folder (build); clang-tidy gets a build of
#                      its own inside it, configured here (see below), so a
#                      fresh clone needs nothing built first

set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1

# shellcheck source=tests/lib/check.sh
source tests/lib/check.sh

MAX_FUNCTION_LINES=60
MAX_FILE_LINES=500

# report OFFENDERS PROBLEM OK: a rule's verdict, one check of the summary.
# With offenders (one a line) it fails naming the problem and lists them;
# without, it passes saying OK.
report() {
  local offenders=$1 problem=$2 ok=$3
  if [ -n "$offenders" ]; then
    ko "$problem:"
    echo "$offenders"
  else
    ok "$ok"
  fi
}

mapfile -t cpp_files < <(git ls-files '*.cc' '*.h')
unformatted=$(for f in "${cpp_files[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "  $f"
done)
report "$unformatted" "not formatted (run: clang-format -i FILE)" "${#cpp_files[@]} C++ files formatted"

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
report "$long_functions" "functions longer than $MAX_FUNCTION_LINES lines" \
  "no function in services/ or gateway/ over $MAX_FUNCTION_LINES lines (${#code_files[@]} files)"

long_files=$(wc -l "${code_files[@]}" | awk -v max="$MAX_FILE_LINES" '$2 != "total" && $1 > max { printf "  %s (%d lines)\n", $2, $1 }')
report "$long_files" "files longer than $MAX_FILE_LINES lines (split them by use case)" \
  "no file in services/ or gateway/ over $MAX_FILE_LINES lines"

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
report "$layer_breaks" "includes across layers" \
  "services/common and gateway/ include only from the layers below them"

tracker_numbers=$(git grep -n -i -E '\bissues? ?#?[0-9]+' -- . ':!tests/style/check.sh' | sed 's/^/  /')
report "$tracker_numbers" "tracker numbers (the project should speak of itself)" "no tracker numbers"

# clang-tidy runs over the unity translation units of a build of its own
# (CMake's unity_N_cxx.cxx, each including up to eight .cc files of one
# target): gRPC's, protobuf's and httplib's headers are then parsed and
# matched once per chunk of eight files rather than once per file, the part
# of clang-tidy's time that the project's own code barely adds to. That build is only
# configured; of it only protoc's headers are made (calndro_proto_sources),
# nothing is compiled, so a fresh clone needs no build first.
#
# Its folder has "UnifiedSource" in its path on purpose: clang's static
# analyzer runs its path-sensitive checks (null dereference, use after move)
# over a .cc file included by the main file only when the main file's path
# holds that word (WebKit's unified sources, AnalysisManager::isInCodeFile);
# otherwise it takes the included .cc files for headers and skips them. The
# header filter is anchored at this checkout: the project's own .h and
# included .cc files report, the build folder's generated ones (protoc's,
# the embedded migrations) do not.
ROOT=$(pwd -P)
TIDY_DIR=$(realpath -m "${CALNDRO_BUILD_DIR:-build}/clang-tidy-UnifiedSource")

regex_quote() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'; }

# tidy BUILD_DIR HEADER_FILTER UNIT...: one clang-tidy per translation
# unit, as many at once as there are cores; a unit's findings are printed
# together, and only when there are some. .clang-tidy is named: the unity
# files sit in the build folder, which may be outside the checkout.
tidy() {
  local build_dir=$1 header_filter=$2
  shift 2
  # shellcheck disable=SC2016  # expanded by the inner shell
  printf '%s\0' "$@" | xargs -0 -P "$(nproc)" -n 1 sh -c \
    'out=$(clang-tidy --quiet --config-file="$0/.clang-tidy" -p "$1" --header-filter="$2" "$3" 2>&1) && exit 0
     status=$?
     printf "%s\n" "$out" | grep -v "^[0-9]* warnings\{0,1\} generated\.$"
     echo "  clang-tidy exited $status on $3"' "$ROOT" "$build_dir" "$header_filter"
}

# The stage's premise, checked on two findings planted in a .cc file that
# is included the way CMake's unity files include theirs (a second or two):
# were a clang-tidy to stop reporting them there (another analyzer rule
# for unity files, another header filter), the stage would pass while blind.
tidy_blind_spots() {
  local canary=$TIDY_DIR/canary
  mkdir -p "$canary"
  printf '#include "%s/planted.cc"\n' "$canary" >"$canary/unity_0_cxx.cxx"
  cat >"$canary/planted.cc" <<'PLANTED'
#include <string>
#include <utility>
int planted_null(bool read) {
  int* nothing = nullptr;
  return read ? *nothing : 0;
}
std::size_t planted_moved(std::string text) {
  std::string taken = std::move(text);
  return text.size() + taken.size();
}
PLANTED
  printf '[{"directory": "%s", "file": "%s", "command": "c++ -std=c++20 -c %s"}]\n' \
    "$canary" "$canary/unity_0_cxx.cxx" "$canary/unity_0_cxx.cxx" >"$canary/compile_commands.json"
  local out
  out=$(tidy "$canary" "^$(regex_quote "$canary")/" "$canary/unity_0_cxx.cxx")
  for check in clang-analyzer-core.NullDereference bugprone-use-after-move; do
    grep -q "planted\.cc:.*\[$check" <<<"$out" ||
      echo "  $check did not report its planted finding in a .cc file of a unity translation unit ($canary)"
  done
}

# Files of services/ and gateway/ that no translation unit clang-tidy reads
# holds: they would pass unread.
tidy_unread() {
  comm -23 <(printf '%s\n' "${tidy_files[@]}" | sort) \
    <({ printf '%s\n' "$@"; cat "$@" | sed -n 's/^#include "\(.*\)"$/\1/p'; } |
      awk -v root="$ROOT/" 'index($0, root) == 1 { print substr($0, length(root) + 1) }' | sort -u) |
    sed 's/^/  in no translation unit clang-tidy reads: /'
}

mapfile -t tidy_files < <(git ls-files 'services/*.cc' 'gateway/*.cc')
tidy_start=$SECONDS
if ! command -v clang-tidy >/dev/null 2>&1; then
  report "  clang-tidy is missing (deploy/install-deps.sh --all installs it)" "clang-tidy cannot run" ""
elif ! tidy_log=$(cmake -S . -B "$TIDY_DIR" -DCALNDRO_UNITY_BUILD=ON -DCALNDRO_BUILD_TESTS=OFF \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON 2>&1 && cmake --build "$TIDY_DIR" --target calndro_proto_sources 2>&1); then
  report "$tidy_log" "clang-tidy's build ($TIDY_DIR) could not be configured or its protobuf headers made" ""
else
  # The unity files, and any file of services/ or gateway/ compiled alone;
  # the biggest first, so the last to finish are short.
  mapfile -t tidy_units < <(grep -o '"file": "[^"]*"' "$TIDY_DIR/compile_commands.json" | cut -d'"' -f4 |
    awk -v root="$ROOT/" '/\/Unity\/unity_[0-9]+_cxx\.cxx$/ || index($0, root "services/") == 1 || index($0, root "gateway/") == 1' |
    xargs -r ls -S)
  tidy_output=$(
    tidy_blind_spots
    tidy_unread "${tidy_units[@]}"
    tidy "$TIDY_DIR" "^$(regex_quote "$ROOT")/(services|gateway)/" "${tidy_units[@]}"
  )
  report "$tidy_output" "clang-tidy findings (.clang-tidy says which checks and why)" \
    "clang-tidy clean on ${#tidy_files[@]} files in services/ and gateway/ (${#tidy_units[@]} translation units, $((SECONDS - tidy_start)) s)"
fi

summary
