#!/usr/bin/env bash
# Private PostgreSQL 15 cluster and SMTP sink helpers for calndro.
#
# Source it (functions below) or run it:
#   deploy/lib/pg-cluster.sh init  DIR PORT   # initdb (once) + role/database calndro
#   deploy/lib/pg-cluster.sh start DIR PORT   # start (initialises when needed)
#   deploy/lib/pg-cluster.sh stop  DIR
#   deploy/lib/pg-cluster.sh url   DIR PORT   # prints the database URL
#   deploy/lib/pg-cluster.sh smtp-start MAILDIR PORT PIDFILE LOGFILE
#   deploy/lib/pg-cluster.sh smtp-stop PIDFILE
#
# The cluster listens on 127.0.0.1:PORT only, keeps its unix socket in DIR,
# trusts local connections (it is private to this machine's loopback) and
# runs with durable settings (fsync and synchronous_commit on).
# PostgreSQL refuses to run as root: as root, a system user `calndro` is
# created when missing, DIR is chowned to it and the server runs through
# `runuser -u calndro --`.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_OS_USER=${PG_OS_USER:-calndro}

_pg_log() { echo "pg-cluster: $*" >&2; }

# Runs a command as the cluster's OS user (or as ourselves when not root).
_pg_as() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$PG_OS_USER" -- "$@"
  else
    "$@"
  fi
}

_pg_prepare_user() {
  local dir=$1
  if [ "$(id -u)" = 0 ]; then
    if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
      useradd --system --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$PG_OS_USER"
    fi
    chown "$PG_OS_USER:" "$dir"
    # The server must be able to reach DIR: make sure every parent is traversable.
    local p
    p=$(dirname "$(readlink -f "$dir")")
    while [ "$p" != / ]; do
      if ! runuser -u "$PG_OS_USER" -- test -x "$p"; then
        chmod o+x "$p"
      fi
      p=$(dirname "$p")
    done
  fi
}

pg_cluster_url() {
  local port=$2
  echo "postgresql://calndro@127.0.0.1:${port}/calndro"
}

pg_cluster_init() {
  local dir=$1 port=$2
  [ -n "$dir" ] && [ -n "$port" ] || { _pg_log "usage: init DIR PORT"; return 2; }
  mkdir -p "$dir"
  dir=$(readlink -f "$dir")
  _pg_prepare_user "$dir"
  if [ ! -f "$dir/pgdata/PG_VERSION" ]; then
    _pg_log "initdb in $dir/pgdata"
    _pg_as "$PG_BIN/initdb" -D "$dir/pgdata" -U calndro --auth=trust \
      -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; return 1; }
    cat >>"$dir/pgdata/postgresql.conf" <<CONF
# calndro private cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 300
CONF
  fi
}

pg_cluster_is_running() {
  local dir=$1
  _pg_as "$PG_BIN/pg_ctl" -D "$dir/pgdata" status >/dev/null 2>&1
}

pg_cluster_start() {
  local dir=$1 port=$2
  [ -n "$dir" ] && [ -n "$port" ] || { _pg_log "usage: start DIR PORT"; return 2; }
  pg_cluster_init "$dir" "$port" || return 1
  dir=$(readlink -f "$dir")
  if ! pg_cluster_is_running "$dir"; then
    _pg_as "$PG_BIN/pg_ctl" -D "$dir/pgdata" -l "$dir/postgres.log" -w -t 60 \
      -o "-p $port -k $dir" start >/dev/null \
      || { tail -n 30 "$dir/postgres.log" >&2; return 1; }
  fi
  # Role calndro is the bootstrap superuser; the database is made once.
  if ! "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U calndro -d postgres -Atqc \
      "SELECT 1 FROM pg_database WHERE datname = 'calndro'" | grep -q 1; then
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U calndro -O calndro calndro
  fi
}

pg_cluster_stop() {
  local dir=$1
  [ -n "$dir" ] || { _pg_log "usage: stop DIR"; return 2; }
  [ -f "$dir/pgdata/PG_VERSION" ] || return 0
  if pg_cluster_is_running "$dir"; then
    _pg_as "$PG_BIN/pg_ctl" -D "$dir/pgdata" -m fast -w -t 60 stop >/dev/null
  fi
}

# SMTP sink: aiosmtpd writing every message into a Maildir.
smtp_sink_start() {
  local maildir=$1 port=$2 pidfile=$3 logfile=$4
  [ -n "$maildir" ] && [ -n "$port" ] && [ -n "$pidfile" ] || { _pg_log "usage: smtp-start MAILDIR PORT PIDFILE [LOGFILE]"; return 2; }
  logfile=${logfile:-/dev/null}
  # aiosmtpd's Mailbox makes a Maildir only when the folder is missing.
  mkdir -p "$maildir/tmp" "$maildir/new" "$maildir/cur"
  /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$port" \
    -c aiosmtpd.handlers.Mailbox "$maildir" >"$logfile" 2>&1 &
  echo $! >"$pidfile"
  local i
  for i in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    kill -0 "$(cat "$pidfile")" 2>/dev/null || { _pg_log "SMTP sink died"; cat "$logfile" >&2 2>/dev/null; return 1; }
    sleep 0.1
  done
  _pg_log "SMTP sink did not open port $port"
  return 1
}

smtp_sink_stop() {
  local pidfile=$1
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cmd=${1:-}
  shift || true
  case "$cmd" in
    init) pg_cluster_init "$@" ;;
    start) pg_cluster_start "$@" ;;
    stop) pg_cluster_stop "$@" ;;
    url) pg_cluster_url "$@" ;;
    smtp-start) smtp_sink_start "$@" ;;
    smtp-stop) smtp_sink_stop "$@" ;;
    *) echo "usage: $0 init|start|stop|url DIR [PORT] | smtp-start MAILDIR PORT PIDFILE [LOG] | smtp-stop PIDFILE" >&2; exit 2 ;;
  esac
fi
