# Counting checks in the shell suites, written once: each check prints one
# line, the suite ends with a summary line and fails when any check failed.
# deploy/test.sh reads the exit status; people read the lines.
#
#   source "$ROOT/tests/lib/check.sh"
#   ok WHAT                  "ok   - WHAT", counted as passed
#   ko WHAT                  "FAIL - WHAT", counted as failed
#   add_counts NAME STATUS OUTPUT
#                            adds the counts of a sub-checker whose last line of
#                            OUTPUT is "N passed, M failed" (a failure when it
#                            has none, or exited STATUS != 0 with no failure)
#   die WHAT                 ko WHAT, summary, exit 1 (a check nothing can follow)
#   summary                  "N passed, M failed"; returns 1 when any failed,
#                            so a suite can end with it
# shellcheck shell=bash

PASS=0
FAIL=0

ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
ko() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }

summary() {
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" = 0 ]
}

die() {
  ko "$*"
  summary
  exit 1
}

add_counts() {  # NAME STATUS OUTPUT
  local name=$1 status=$2 last
  last=$(printf '%s\n' "$3" | tail -n 1)
  if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    PASS=$((PASS + BASH_REMATCH[1]))
    FAIL=$((FAIL + BASH_REMATCH[2]))
    if [ "$status" != 0 ] && [ "${BASH_REMATCH[2]}" = 0 ]; then
      ko "$name exited $status"
    fi
  else
    ko "$name gave no summary (exit $status)"
  fi
}
