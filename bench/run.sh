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
"$top/build/payoutctl" migrate --sandbox > /dev/null
"$top/build/payoutctl" tenant create bench > /dev/null
key=$("$top/build/payoutctl" key create --tenant bench --mode test 2>/dev/null)
tenant_id=$(psql "$db" -Atc "SELECT id FROM tenants WHERE name = 'bench'")
prefix=${key:0:16}

openssl rand -hex 32 > "$work/master.key"
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
    payout_master_key_file $work/master.key;
    payout_gateway sandbox connector=sandbox
                   url=http://127.0.0.1:$ngx_port/sandbox timeout=5s;
    payout_sandbox_webhook_url http://127.0.0.1:$ngx_port/hooks/sandbox;
    # measure the API alone: settling the payouts made here (sandbox
    # webhooks, reconciler checks) would load the database in the
    # background of the next measurement
    payout_sandbox_webhook_delay 1h;
    payout_reconcile_grace 1h;
    server {
        listen 127.0.0.1:$ngx_port;
        location = /static { return 200 "ok"; }
        location /v1/ { payout_api; }
        location /sandbox/ { payout_sandbox; }
        location /hooks/ { payout_provider_webhook; }
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
# pgbench sends :variables as parameters of a prepared statement, as the
# module does, so both run under the same plans
cat > "$work/list.sql" <<SQL
\set tenant $tenant_id
\set lim 50
\set off 0
SELECT k.tenant_id, k.mode, encode(k.key_hash, 'hex'), t.name FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_prefix = '$prefix' AND k.revoked_at IS NULL;
SELECT (SELECT count(*) FROM payouts p WHERE p.tenant_id = :tenant AND TRUE), coalesce(json_agg(payout_json(s.p) ORDER BY (s.p).id DESC, (s.p).id DESC), '[]') FROM (SELECT p FROM payouts p WHERE p.tenant_id = :tenant AND TRUE ORDER BY p.id DESC, p.id DESC LIMIT :lim OFFSET :off) s;
SQL

# as many database connections as the module's pools hold (2 workers)
pg_clients=$(( 2 * ${POOL:-4} ))

pgb() {
    pgbench -n -M prepared -c "$pg_clients" -j "$threads" -T "$duration" \
        -f "$1" "$db" 2>/dev/null | awk '/^tps/ {printf "%.0f", $3; exit}'
}

# POST /v1/payouts, sandbox success, a new payout per request
cat > "$work/create.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
wrk.body = '{"amount": 1000, "currency": "NGN", "gateway": "sandbox", ' ..
           '"bank_account_number": "0123456789", ' ..
           '"bank_account_name": "BENCH", "bank_code": "058"}'
LUA

# the SQL the module runs for one create, in the same order: key, create
# (recipient reused by fingerprint), instruction, the sandbox's transfer,
# the transition to pending_promise
fp=$(openssl rand -hex 32)
cat > "$work/create.sql" <<SQL
SELECT k.tenant_id, k.mode, encode(k.key_hash, 'hex'), t.name FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_prefix = '$prefix' AND k.revoked_at IS NULL;
SELECT payout_id AS pid FROM payout_create($tenant_id, false, NULL, '\\x00', 1000, 'NGN', 'sandbox', NULL, NULL, NULL, NULL, false, NULL, 'bank_account', '\\x$fp', NULL, NULL, NULL, '058', NULL, 'BENCH', '\\x0102', '6789', NULL, NULL, NULL) \\gset
SELECT * FROM payout_instruction($tenant_id, :pid);
SELECT * FROM sandbox_transfer_create(gen_random_uuid(), 1000, 'NGN', 'bank_account', '6789', '058', NULL, NULL, 'succeed', 1000);
SELECT * FROM payout_transition(:pid, '{pending_created}', 'pending_promise', 'provider', 'sbx_tr_0', NULL, NULL);
SQL

read -r static_rps static_p99 < <(wrk_run "http://127.0.0.1:$ngx_port/static")

read -r create_rps create_p99 < <(wrk_run -s "$work/create.lua" \
    "http://127.0.0.1:$ngx_port/v1/payouts")
pg_create_tps=$(pgb "$work/create.sql")

# the list now has full pages
read -r list_rps list_p99 < <(wrk_run -H "Authorization: Bearer $key" \
    "http://127.0.0.1:$ngx_port/v1/payouts")
pg_list_tps=$(pgb "$work/list.sql")

# GET /v1/payouts/{uuid} of one of the payouts just made
uuid=$(psql "$db" -Atc "SELECT uuid FROM payouts ORDER BY id DESC LIMIT 1")
cat > "$work/get.sql" <<SQL
\set tenant $tenant_id
SELECT k.tenant_id, k.mode, encode(k.key_hash, 'hex'), t.name FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_prefix = '$prefix' AND k.revoked_at IS NULL;
SELECT payout_json(p) FROM payouts p WHERE p.tenant_id = :tenant AND p.uuid = '$uuid';
SQL
read -r get_rps get_p99 < <(wrk_run -H "Authorization: Bearer $key" \
    "http://127.0.0.1:$ngx_port/v1/payouts/$uuid")
pg_get_tps=$(pgb "$work/get.sql")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

printf '\n%-28s %12s %10s %14s %14s\n' "endpoint" "req/s" "p99" \
    "vs static" "vs pgbench"
printf '%-28s %12s %10s %14s %14s\n' "static return 200 (ceiling)" \
    "$static_rps" "$static_p99" "1.00" "-"
printf '%-28s %12s %10s %14s %14s\n' "pgbench, list SQL" \
    "$pg_list_tps" "-" "-" "-"
row() {
    printf '%-28s %12s %10s %14s %14s\n' "$1" "$2" "$3" \
        "$(ratio "$2" "$static_rps")" "$(ratio "$2" "$4")"
}

printf '%-28s %12s %10s %14s %14s\n' "pgbench, get SQL" "$pg_get_tps" \
    "-" "-" "-"
printf '%-28s %12s %10s %14s %14s\n' "pgbench, create SQL" \
    "$pg_create_tps" "-" "-" "-"
row "GET /v1/payouts (50/page)" "$list_rps" "$list_p99" "$pg_list_tps"
row "GET /v1/payouts/{uuid}" "$get_rps" "$get_p99" "$pg_get_tps"
row "POST /v1/payouts (sandbox)" "$create_rps" "$create_p99" \
    "$pg_create_tps"
printf '\n%s connections, %s threads, %ss each, pool %s per worker, ' \
    "$conns" "$threads" "$duration" "${POOL:-4}"
printf '2 workers, %s cores; pgbench: %s clients (the pools total),\n' \
    "$(nproc)" "$pg_clients"
printf 'prepared statements, the same SQL in the same order.\n'

if grep -E '\[(alert|crit|emerg)\]' "$work/error.log"; then
    echo "nginx logged alerts during the benchmark" >&2
    exit 1
fi
