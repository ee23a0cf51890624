#!/bin/sh
# Entry point of docker/postgres/Dockerfile: like the official image's, a
# first start (an empty $PGDATA) runs initdb with POSTGRES_USER and
# POSTGRES_PASSWORD (scram-sha-256 over TCP), then creates POSTGRES_DB on
# a server listening on the Unix socket only, so that a TCP health check
# passes only once the real server is up.  Then execs postgres on all
# addresses.
set -eu

user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}

if [ "${1:-}" != postgres ]; then
    exec "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    [ -n "${POSTGRES_PASSWORD:-}" ] || {
        echo "postgres-entrypoint: POSTGRES_PASSWORD is not set" >&2
        exit 1
    }
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" -E UTF8 \
        --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"

    pg_ctl -D "$PGDATA" -w -o "-c listen_addresses=''" start
    if [ "$db" != postgres ]; then
        createdb -U "$user" "$db"
    fi
    pg_ctl -D "$PGDATA" -w -m fast stop
fi

shift
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
