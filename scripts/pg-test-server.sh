#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests.
#
#   pg-test-server.sh start DIR   initdb a cluster in DIR/data, start it on a free TCP port on
#                                 127.0.0.1 (unix socket in DIR), create database joinedup_test
#                                 and write its connection URL to DIR/url
#   pg-test-server.sh stop DIR    stop that server and remove DIR
#
# DIR should be under /tmp: when run as root the server runs as the `postgres` user, which owns
# DIR and needs to read nothing else (it may well be unable to read the source tree).
# Needs the PostgreSQL server binaries (Debian: apt-get install -y postgresql); without them
# `start` fails, saying so.
set -euo pipefail

die() { echo "pg-test-server: $*" >&2; exit 1; }

[[ $# -eq 2 ]] || die "usage: $0 start|stop DIR"
action=$1
dir=$2
[[ $dir == /* ]] || die "DIR must be an absolute path, got '$dir'"
marker="$dir/.joinedup-pg-test-server"

find_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -z $bin || ! -x $bin/initdb || ! -x $bin/pg_ctl ]]; then
    die "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin;" \
        "install them with: apt-get install -y postgresql"
  fi
  echo "$bin"
}

# Runs a command as the postgres user when we are root (initdb refuses to run as root).
as_db_user() {
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user"
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

stop_server() {
  local bin=$1
  if [[ -f $dir/data/postmaster.pid ]]; then
    as_db_user "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
}

case $action in
  start)
    bin=$(find_bin)
    if [[ -e $dir ]]; then
      # A leftover from an interrupted run: clear it, but only if it is one of ours.
      [[ -f $marker ]] || die "$dir exists and was not made by this script; refusing to reuse it"
      stop_server "$bin"
      rm -rf -- "$dir"
    fi
    mkdir -p -- "$dir"
    touch "$marker"
    if [[ $(id -u) -eq 0 ]]; then chown -R postgres: "$dir"; fi
    chmod 700 "$dir"
    as_db_user "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
      --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
      die "initdb failed; see $dir/initdb.log: $(tail -n 5 "$dir/initdb.log")"
    started=""
    for _ in $(seq 1 20); do
      port=$((20000 + RANDOM % 30000))
      port_in_use "$port" && continue
      if as_db_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
          -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
          start >/dev/null 2>&1; then
        started=$port
        break
      fi
    done
    [[ -n $started ]] || die "could not start PostgreSQL; see $dir/server.log: $(tail -n 5 "$dir/server.log" 2>/dev/null)"
    as_db_user "$bin/createdb" -h 127.0.0.1 -p "$started" -U postgres joinedup_test ||
      die "createdb failed"
    echo "postgresql://postgres@127.0.0.1:$started/joinedup_test" >"$dir/url"
    chmod 644 "$dir/url"
    echo "pg-test-server: PostgreSQL listening on 127.0.0.1:$started; URL in $dir/url"
    ;;
  stop)
    [[ -e $dir ]] || exit 0
    [[ -f $marker ]] || die "$dir was not made by this script; refusing to remove it"
    stop_server "$(find_bin)"
    rm -rf -- "$dir"
    ;;
  *)
    die "unknown action '$action'; use start or stop"
    ;;
esac
