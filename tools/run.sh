#!/bin/sh
# `make run` and `make stop`: a private PostgreSQL under var/, migrations,
# tenant "demo" with a test key in var/demo.key, and nginx with the module
# on 127.0.0.1:$PORT.  Running it again is harmless.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
var=$top/var
port=${PORT:-8080}
pg_port=${PG_PORT:-54329}
ctl=$top/build/payoutctl
db="host=127.0.0.1 port=$pg_port dbname=payouts user=payout"

nginx_stop() {
    if [ -f "$var/nginx/nginx.pid" ] \
       && kill -0 "$(cat "$var/nginx/nginx.pid")" 2>/dev/null; then
        kill -QUIT "$(cat "$var/nginx/nginx.pid")"
        for _ in $(seq 50); do
            [ -f "$var/nginx/nginx.pid" ] || break
            sleep 0.1
        done
    fi
}

case ${1:-start} in
stop)
    nginx_stop
    "$top/tools/pg.sh" stop "$var/pg"
    echo "stopped nginx and PostgreSQL"
    exit 0
    ;;
esac

mkdir -p "$var/nginx/body"

if [ ! -s "$var/master.key" ]; then
    (umask 077 && openssl rand -hex 32 > "$var/master.key")
fi
[ "$(id -u)" = 0 ] && chown nobody "$var/nginx/body"

"$top/tools/pg.sh" start "$var/pg" "$pg_port"

export PAYOUT_DATABASE="$db" PAYOUT_MIGRATIONS="$top/sql"
"$ctl" migrate --sandbox
"$ctl" tenant create demo --if-not-exists 2>/dev/null || true

if ! [ -s "$var/demo.key" ] \
   || ! "$ctl" key verify --file "$var/demo.key" > /dev/null 2>&1; then
    umask 077
    "$ctl" key create --tenant demo --mode test > "$var/demo.key" 2>/dev/null
    umask 022
fi

sed -e "s|@MODULE@|$top/build/plain/ngx_http_payout_module.so|" \
    -e "s|@VAR@|$var|g" -e "s|@PORT@|$port|" -e "s|@PG_PORT@|$pg_port|" \
    -e "s|@CONF@|$top/conf|" \
    "$top/conf/nginx.dev.conf" > "$var/nginx/nginx.conf"

nginx -t -q -p "$var/nginx" -c "$var/nginx/nginx.conf" -e "$var/nginx/error.log"

if [ -f "$var/nginx/nginx.pid" ] \
   && kill -0 "$(cat "$var/nginx/nginx.pid")" 2>/dev/null; then
    # already running: pick up a new module or config
    nginx_stop
fi

nginx -p "$var/nginx" -c "$var/nginx/nginx.conf" -e "$var/nginx/error.log"

for _ in $(seq 50); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/v1/health" && break
    sleep 0.1
done

cat <<MSG

  ngx_http_payout_module is running on http://127.0.0.1:$port/v1/
  PostgreSQL: $db (data in var/pg)
  API key of tenant "demo" (test mode): var/demo.key

  Try:
    curl -H "Authorization: Bearer \$(cat var/demo.key)" http://127.0.0.1:$port/v1/payouts

  Logs: var/nginx/error.log, var/nginx/access.log.  Stop with: make stop
MSG
