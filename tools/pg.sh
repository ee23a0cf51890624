#!/bin/sh
# A private PostgreSQL cluster for development and tests.
#   tools/pg.sh start DATADIR PORT     (initdb on first use)
#   tools/pg.sh stop DATADIR
# PostgreSQL refuses to run as root, so as root it runs as "postgres".
set -eu

cmd=$1
data=$2
port=${3:-54329}

bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# the postgres user must be able to reach DATADIR through every parent
open_parents() {
    [ "$(id -u)" = 0 ] || return 0
    d=$(dirname "$data")
    while [ "$d" != / ]; do
        if ! runuser -u postgres -- test -x "$d"; then
            chmod o+x "$d"
        fi
        d=$(dirname "$d")
    done
}

case $cmd in
start)
    mkdir -p "$data"
    data=$(cd "$data" && pwd)
    open_parents
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$data"
    fi
    chmod 700 "$data"

    if [ ! -f "$data/PG_VERSION" ]; then
        as_pg "$bindir/initdb" -D "$data" -U payout -A trust -E UTF8 \
            --locale=C.UTF-8 > "$data/../initdb.log" 2>&1 || {
                cat "$data/../initdb.log" >&2; exit 1; }
    fi

    if as_pg "$bindir/pg_ctl" -D "$data" status > /dev/null 2>&1; then
        exit 0
    fi

    as_pg "$bindir/pg_ctl" -D "$data" -l "$data/postgresql.log" -w -t 30 \
        -o "-p $port -c listen_addresses=127.0.0.1 \
            -c unix_socket_directories='' -c max_connections=200 \
            ${PG_OPTS:-}" start > /dev/null

    if ! as_pg "$bindir/psql" -h 127.0.0.1 -p "$port" -U payout \
            -d postgres -Atqc "SELECT 1 FROM pg_database
                               WHERE datname = 'payouts'" | grep -q 1; then
        as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U payout payouts
    fi
    ;;

stop)
    if [ -f "$data/PG_VERSION" ] \
       && as_pg "$bindir/pg_ctl" -D "$data" status > /dev/null 2>&1; then
        as_pg "$bindir/pg_ctl" -D "$data" -m fast -w stop > /dev/null
    fi
    ;;

*)
    echo "usage: $0 start|stop DATADIR [PORT]" >&2
    exit 2
    ;;
esac
