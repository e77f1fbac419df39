#!/usr/bin/env bash
# A throw-away PostgreSQL server for the real-database tests (test/catalog-live.test.ts), and for trying
# `rlscov --database-url` locally. Needs the server binaries (Debian/Ubuntu: apt-get install postgresql; macOS:
# brew install postgresql); nothing is installed or changed outside the temporary directory.
#
#   scripts/pg-test-server.sh start [--port N] [--dir DIR]
#       initdb a cluster in a new temporary directory (or DIR), start it on 127.0.0.1:N (default: a free port) with
#       password authentication, create the roles and the database below, and print shell assignments:
#         PGTEST_DIR=...  PGTEST_PORT=...  PGTEST_SUPERUSER_URL=...  PGTEST_OWNER_URL=...  PGTEST_APP_URL=...
#       Roles: postgres (superuser), rlscov_owner (owns the tables, NOBYPASSRLS), rlscov_app (the application,
#       NOBYPASSRLS). Database: rlscov, owned by rlscov_owner.
#   scripts/pg-test-server.sh apply DIR DATABASE [PORT]
#       create DATABASE (owned by rlscov_owner) and apply DIR/*.sql in version order, each file in one
#       transaction, as rlscov_owner (psql, ON_ERROR_STOP). PORT defaults to $PGTEST_PORT.
#   scripts/pg-test-server.sh stop DIR
#       stop the server started in DIR (immediate shutdown) and delete DIR.
#
# initdb refuses to run as root: as root, the server runs as the `postgres` system user (runuser or su), which
# the Debian package creates. Passwords are fixed test values; the server only listens on 127.0.0.1.
set -euo pipefail

SUPER_PW=rlscov-super-pw
OWNER_PW=rlscov-owner-pw
APP_PW=rlscov-app-pw

die() {
  echo "pg-test-server: $*" >&2
  exit 1
}

find_bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1; then
    d="$(pg_config --bindir 2>/dev/null || true)"
    if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  fi
  for d in /usr/lib/postgresql/*/bin /usr/local/pgsql/bin /opt/homebrew/bin /usr/local/bin /usr/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  die "PostgreSQL server binaries (initdb, pg_ctl) not found; install them (Debian/Ubuntu: apt-get install -y postgresql)"
}

# Runs a command as the server's user: postgres when we are root, else ourselves.
as_server_user() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root, but there is no 'postgres' user to run the server as (initdb refuses root)"
    if command -v runuser >/dev/null 2>&1; then
      runuser -u postgres -- "$@"
    else
      su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
  else
    "$@"
  fi
}

free_port() {
  if command -v node >/dev/null 2>&1; then
    node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1]);s.close()"
  else
    echo $((40000 + RANDOM % 20000))
  fi
}

psql_bin() {
  local bindir="$1"
  if [ -x "$bindir/psql" ]; then echo "$bindir/psql"; elif command -v psql >/dev/null 2>&1; then command -v psql; else die "psql not found"; fi
}

cmd_start() {
  local port="" dir=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --port) port="$2"; shift 2 ;;
      --dir) dir="$2"; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  local bindir; bindir="$(find_bindir)"
  local psql; psql="$(psql_bin "$bindir")"
  [ -n "$port" ] || port="$(free_port)"
  [ -n "$dir" ] || dir="$(mktemp -d "${TMPDIR:-/tmp}/rlscov-pg.XXXXXX")"
  mkdir -p "$dir"
  chmod 755 "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
  local pwfile="$dir/pwfile"
  printf '%s\n' "$SUPER_PW" >"$pwfile"
  if [ "$(id -u)" = 0 ]; then chown postgres "$pwfile"; fi
  chmod 600 "$pwfile"

  as_server_user "$bindir/initdb" -D "$dir/data" -U postgres --pwfile="$pwfile" --auth-host=scram-sha-256 \
    --auth-local=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
    || as_server_user "$bindir/initdb" -D "$dir/data" -U postgres --pwfile="$pwfile" --auth-host=scram-sha-256 \
      --auth-local=scram-sha-256 -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed (log above)"; }
  rm -f "$pwfile"
  # Only TCP on loopback; the socket lives in the temp dir so nothing clashes with a system server.
  as_server_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null 2>&1 || { cat "$dir/server.log" >&2 || true; die "the server did not start (log above)"; }

  PGPASSWORD="$SUPER_PW" "$psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres <<SQL >/dev/null
CREATE ROLE rlscov_owner LOGIN PASSWORD '$OWNER_PW' NOSUPERUSER NOBYPASSRLS;
CREATE ROLE rlscov_app LOGIN PASSWORD '$APP_PW' NOSUPERUSER NOBYPASSRLS;
CREATE DATABASE rlscov OWNER rlscov_owner;
SQL
  echo "PGTEST_DIR=$dir"
  echo "PGTEST_PORT=$port"
  echo "PGTEST_BINDIR=$bindir"
  echo "PGTEST_SUPERUSER_URL=postgres://postgres:$SUPER_PW@127.0.0.1:$port/postgres"
  echo "PGTEST_OWNER_URL=postgres://rlscov_owner:$OWNER_PW@127.0.0.1:$port/rlscov"
  echo "PGTEST_APP_URL=postgres://rlscov_app:$APP_PW@127.0.0.1:$port/rlscov"
}

cmd_apply() {
  local migdir="${1:?usage: apply DIR DATABASE [PORT]}" db="${2:?usage: apply DIR DATABASE [PORT]}" port="${3:-${PGTEST_PORT:-}}"
  [ -n "$port" ] || die "apply: no port (pass it or set PGTEST_PORT)"
  [ -d "$migdir" ] || die "apply: $migdir is not a directory"
  local bindir; bindir="$(find_bindir)"
  local psql; psql="$(psql_bin "$bindir")"
  if [ "$db" != rlscov ]; then
    PGPASSWORD="$SUPER_PW" "$psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
      -c "CREATE DATABASE \"$db\" OWNER rlscov_owner" >/dev/null
  fi
  local f
  while IFS= read -r f; do
    [ -n "$f" ] || continue
    PGPASSWORD="$OWNER_PW" "$psql" -X -q -v ON_ERROR_STOP=1 -1 -h 127.0.0.1 -p "$port" -U rlscov_owner -d "$db" -f "$f" >/dev/null \
      || die "apply: $f failed"
  done < <(find "$migdir" -maxdepth 1 -name '*.sql' | sort -V)
}

cmd_stop() {
  local dir="${1:?usage: stop DIR}"
  [ -d "$dir/data" ] || { rm -rf "$dir"; return 0; }
  local bindir; bindir="$(find_bindir)"
  as_server_user "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  apply) shift; cmd_apply "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) die "usage: $0 start [--port N] [--dir DIR] | apply DIR DATABASE [PORT] | stop DIR" ;;
esac
