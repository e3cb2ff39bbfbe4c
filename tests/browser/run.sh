#!/usr/bin/env bash
# Browser tests of the page behind the link in the mail: headless
# Debian Chromium driven by npm's playwright-core (which never downloads a
# browser), against the whole stack started here: a private PostgreSQL
# cluster, an aiosmtpd sink writing a Maildir, calndro-notify, calndro-events
# and calndro-gateway from $CALNDRO_BUILD_DIR/bin (default build/).
#
#   bash tests/browser/run.sh
#
#   CALNDRO_BUILD_DIR        build folder holding bin/ (build)
#   CALNDRO_BROWSER_KEEP=1   keep the temporary folder (database, mail, logs)
# Screenshots land in tests/artifacts/. Exits non-zero on any failure.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../deploy/lib/stack.sh
source "$HERE/../../deploy/lib/stack.sh"
ROOT=$STACK_ROOT
BIN=$STACK_BIN
log() { echo "tests/browser: $*" >&2; }

stack_require_binaries || exit 1

if [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get install -y chromium || { $SUDO apt-get update && $SUDO apt-get install -y chromium; } || {
    log "could not install chromium"
    exit 1
  }
fi
command -v node >/dev/null && command -v npm >/dev/null || { log "node and npm are needed"; exit 1; }

(cd "$HERE" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) || {
  log "npm ci failed"
  exit 1
}

TMP=$(mktemp -d /tmp/calndro-browser.XXXXXX)
stack_init "$TMP" tests/browser
# shellcheck disable=SC2317  # called by the launcher on exit
stack_after_stop() {
  if [ -n "${CALNDRO_BROWSER_KEEP:-}" ]; then
    log "kept $TMP"
  else
    rm -rf "$TMP"
  fi
}
read -r PG_PORT SMTP_PORT EVENTS_PORT NOTIFY_PORT HTTP_PORT < <(stack_free_ports 5)
stack_postgres "$PG_PORT" && stack_smtp "$SMTP_PORT" || exit 1
stack_export_env "$EVENTS_PORT" "$NOTIFY_PORT" "$HTTP_PORT"
stack_services || exit 1

PROPOSER=prop@example.net
PASSWORD=$(od -An -tx1 -N9 /dev/urandom | tr -d ' \n')
printf '%s\n' "$PASSWORD" | "$BIN/calndro-admin" user add "$PROPOSER" --username prop --password-stdin \
  >>"$TMP/logs/admin.log" 2>&1 || { log "calndro-admin failed:"; cat "$TMP/logs/admin.log" >&2; exit 1; }

mkdir -p "$ROOT/tests/artifacts"
STATUS=0
CALNDRO_BASE_URL=http://127.0.0.1:$HTTP_PORT \
  CALNDRO_MAILDIR=$STACK_MAILDIR \
  CALNDRO_PSQL="$PG_BIN/psql" \
  CALNDRO_PROPOSER=$PROPOSER CALNDRO_PASSWORD=$PASSWORD \
  CALNDRO_ARTIFACTS=$ROOT/tests/artifacts \
  CALNDRO_BROWSER_TMP=$TMP \
  node "$HERE/page.test.mjs" || STATUS=$?
if [ "$STATUS" != 0 ]; then
  log "failed; last gateway log lines:"
  tail -n 15 "$TMP/logs/calndro-gateway.log" >&2
fi
exit "$STATUS"
