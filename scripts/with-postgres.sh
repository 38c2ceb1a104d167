#!/usr/bin/env bash
# with-postgres.sh CMD...: runs CMD with a throwaway PostgreSQL server of its own, then stops it
# and removes its data, whatever CMD did (also on Ctrl-C). CMD finds the server in
# SHEGONG_TEST_POSTGRES_URL (postgres://postgres@127.0.0.1:PORT/postgres). Exits with CMD's status.
#
# Debian's PostgreSQL (package `postgresql`, any version: the newest in /usr/lib/postgresql is
# used). initdb and postgres refuse to run as root, so as root they run as the `postgres` system
# user. The cluster lives in a new temporary directory (its unix socket too), listens on a free
# port of 127.0.0.1 only, trusts local connections (nothing else can reach it), and keeps
# fsync on: the tests' durability is PostgreSQL's real one.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/postgres" ]; then
  echo "with-postgres: PostgreSQL is not installed (apt-get install postgresql; scripts/setup.sh does)" >&2
  exit 1
fi

as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  as_pg=(runuser -u postgres --)
fi

dir=$(mktemp -d /tmp/shegong-pg.XXXXXX)
chmod 755 "$dir"
mkdir "$dir/data" "$dir/run"
if [ ${#as_pg[@]} -gt 0 ]; then
  chown postgres:postgres "$dir/data" "$dir/run"
fi

started=""
stop() {
  local status=$?
  if [ -n "$started" ]; then
    # Immediate: the data is thrown away next, so no shutdown checkpoint (which, fsyncing the
    # files of every test's schema, can take a minute on a busy disk).
    "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  exit "$status"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"${as_pg[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
  >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }

# A port nobody listens on (PostgreSQL refuses a taken one, and then the next is tried).
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

start() {
  port=$(free_port)
  # Enough connections for the tests' pools running side by side; fsync stays on (the default).
  started=yes
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/run/postgres.log" -w -t 30 start -o \
    "-p $port -k $dir/run -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=64MB \
     -c fsync=on -c synchronous_commit=on" >/dev/null 2>&1
}

attempt=0
until start; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 5 ]; then
    echo "with-postgres: PostgreSQL did not start:" >&2
    cat "$dir/run/postgres.log" >&2
    exit 1
  fi
done

export SHEGONG_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $dir)" >&2
status=0
"$@" || status=$?
exit "$status"
