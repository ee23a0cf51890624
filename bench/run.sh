#!/usr/bin/env bash
# Throughput of the API next to this machine's own ceilings, measured in
# one run: nginx answering a static `return 200`, and pgbench running the
# same SQL the module runs.  Reports ratios; never a pass/fail test.
#   bench/run.sh            (DURATION=10 CONNECTIONS=32 by default)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
duration=${DURATION:-10}
conns=${CONNECTIONS:-32}
threads=${THREADS:-2}
work=$(mktemp -d /tmp/payout-bench-XXXXXX)
chmod 777 "$work"
pg_port=$(( 20000 + RANDOM % 20000 ))
ngx_port=$(( 40000 + RANDOM % 20000 ))
db="host=127.0.0.1 port=$pg_port dbname=payouts user=payout"
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

cleanup() {
    [ -f "$work/nginx.pid" ] && kill -QUIT "$(cat "$work/nginx.pid")" || true
    sleep 0.5
    "$top/tools/pg.sh" stop "$work/pg" || true
    rm -rf "$work"
}
trap cleanup EXIT

"$top/tools/pg.sh" start "$work/pg" "$pg_port"
export PAYOUT_DATABASE="$db" PAYOUT_MIGRATIONS="$top/sql"
"$top/build/payoutctl" migrate > /dev/null
"$top/build/payoutctl" tenant create bench > /dev/null
key=$("$top/build/payoutctl" key create --tenant bench --mode test 2>/dev/null)
tenant_id=$(psql "$db" -Atc "SELECT id FROM tenants WHERE name = 'bench'")
prefix=${key:0:16}

mkdir -p "$work/body"
chmod 777 "$work/body"
cat > "$work/nginx.conf" <<CONF
load_module $top/build/plain/ngx_http_payout_module.so;
worker_processes 2;
error_log $work/error.log warn;
pid $work/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/body;
    payout_database "$db";
    payout_database_pool ${POOL:-4};
    server {
        listen 127.0.0.1:$ngx_port;
        location = /static { return 200 "ok"; }
        location /v1/ { payout_api; }
    }
}
CONF
nginx -p "$work" -c "$work/nginx.conf" -e "$work/error.log"
sleep 0.5

# rps and p99 (ms) from wrk's --latency output
wrk_run() {
    local out rps p99
    out=$(wrk -t"$threads" -c"$conns" -d"${duration}s" --latency "$@")
    rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
    p99=$(awk '$1 == "99%" {print $2}' <<< "$out")
    echo "$rps $p99"
}

# the module's two statements for GET /v1/payouts: the key, then the page
cat > "$work/list.sql" <<SQL
SELECT k.tenant_id, k.mode, encode(k.key_hash, 'hex'), t.name FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_prefix = '$prefix' AND k.revoked_at IS NULL;
SELECT (SELECT count(*) FROM payouts WHERE tenant_id = $tenant_id), coalesce(json_agg(payout_json(s.p) ORDER BY (s.p).id DESC, (s.p).id DESC), '[]') FROM (SELECT p FROM payouts p WHERE p.tenant_id = $tenant_id ORDER BY p.id DESC, p.id DESC LIMIT 50 OFFSET 0) s;
SQL

pgb() {
    pgbench -n -M ${PGBENCH_MODE:-prepared} -c "$conns" -j "$threads" -T "$duration" \
        -f "$1" "$db" 2>/dev/null | awk '/^tps/ {print $3; exit}'
}

read -r static_rps static_p99 < <(wrk_run "http://127.0.0.1:$ngx_port/static")
read -r list_rps list_p99 < <(wrk_run -H "Authorization: Bearer $key" \
    "http://127.0.0.1:$ngx_port/v1/payouts")
pg_list_tps=$(pgb "$work/list.sql")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

printf '\n%-28s %12s %10s %14s %14s\n' "endpoint" "req/s" "p99" \
    "vs static" "vs pgbench"
printf '%-28s %12s %10s %14s %14s\n' "static return 200 (ceiling)" \
    "$static_rps" "$static_p99" "1.00" "-"
printf '%-28s %12s %10s %14s %14s\n' "pgbench, list SQL (ceiling)" \
    "$pg_list_tps" "-" "-" "1.00"
printf '%-28s %12s %10s %14s %14s\n' "GET /v1/payouts (empty)" \
    "$list_rps" "$list_p99" "$(ratio "$list_rps" "$static_rps")" \
    "$(ratio "$list_rps" "$pg_list_tps")"
printf '\n%s connections, %s threads, %ss each, pool %s per worker, ' \
    "$conns" "$threads" "$duration" "${POOL:-4}"
printf '2 workers, %s cores.\n' "$(nproc)"

if grep -E '\[(alert|crit|emerg)\]' "$work/error.log"; then
    echo "nginx logged alerts during the benchmark" >&2
    exit 1
fi
