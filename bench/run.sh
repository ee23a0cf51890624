#!/usr/bin/env bash
# make bench: each API row next to its ceilings, measured in one run:
# nginx answering a static `return 200`, and pgbench running the minimal
# SQL for the same operation (and the module's own SQL).  Also the
# large-tenant list rows (200,000 vs 1,000 payouts), the webhook latency
# row (a loopback receiver) and the memory row (worker RSS after 10,000
# and after 500,000 mixed requests).  Reports ratios; never pass/fail.
# Writes a markdown table to $OUT (bench/results.md) for
# docs/performance.md.
#
#   bench/run.sh     DURATION=10 CONNECTIONS=32 THREADS=2 POOL=4
#                    BIG=200000 SMALL=1000 MEM_REQUESTS=500000
#                    WEBHOOK_RATE=200 WEBHOOK_SECONDS=5 OUT=...
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
duration=${DURATION:-10}
conns=${CONNECTIONS:-32}
threads=${THREADS:-2}
pool=${POOL:-4}
big_n=${BIG:-200000}
small_n=${SMALL:-1000}
mem_requests=${MEM_REQUESTS:-500000}
out=${OUT:-$top/bench/results.md}
work=$(mktemp -d /tmp/payout-bench-XXXXXX)
chmod 777 "$work"
pg_port=$(( 20000 + RANDOM % 20000 ))
ngx_port=$(( 40000 + RANDOM % 20000 ))
db="host=127.0.0.1 port=$pg_port dbname=payouts user=payout"
api="http://127.0.0.1:$ngx_port"

cleanup() {
    [ -f "$work/nginx.pid" ] && kill -QUIT "$(cat "$work/nginx.pid")" || true
    sleep 0.5
    "$top/tools/pg.sh" stop "$work/pg" || true
    rm -rf "$work"
}
trap cleanup EXIT

sql() { psql "$db" -qAtc "$1"; }

"$top/tools/pg.sh" start "$work/pg" "$pg_port"
export PAYOUT_DATABASE="$db" PAYOUT_MIGRATIONS="$top/sql"
"$top/build/payoutctl" migrate --sandbox > /dev/null

tenant() {      # name -> its test key
    "$top/build/payoutctl" tenant create "$1" > /dev/null
    "$top/build/payoutctl" key create --tenant "$1" --mode test 2>/dev/null
}
key=$(tenant bench)
big_key=$(tenant big)
small_key=$(tenant small)
tid() { sql "SELECT id FROM tenants WHERE name = '$1'"; }
tenant_id=$(tid bench)
big_id=$(tid big)
small_id=$(tid small)

# the large and the small tenant: n payouts each to one recipient, with
# the mix of statuses a live tenant has, on a gateway no nginx has (so
# the reconciler leaves them alone); the counters' triggers run as usual
fill() {        # tenant id, count
    sql "INSERT INTO recipients (tenant_id, gateway, recipient_type,
             name, bank_code, bank_account_name, account_number_last4,
             fingerprint)
         VALUES ($1, 'bench-rows', 'bank_account', 'Bench', '058',
                 'BENCH', '6789', sha256('$1'::bytea))"
    sql "INSERT INTO payouts (tenant_id, recipient_id, amount, currency,
             gateway, status, sub_status, narration, gateway_payout_id)
         SELECT $1, (SELECT max(id) FROM recipients WHERE tenant_id = $1),
                1000 + g, 'NGN', 'bench-rows',
                (ARRAY['pending', 'success', 'success', 'canceled'])[g % 4 + 1],
                (ARRAY['pending_promise', 'success', 'success',
                       'canceled_failure'])[g % 4 + 1],
                'bench row ' || g, 'tr_' || g
         FROM generate_series(1, $2) g"
}
fill "$big_id" "$big_n"
fill "$small_id" "$small_n"
sql "ANALYZE"

openssl rand -hex 32 > "$work/master.key"
chmod 600 "$work/master.key"
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
    payout_database_pool $pool;
    payout_master_key_file $work/master.key;
    payout_gateway sandbox connector=sandbox
                   url=http://127.0.0.1:$ngx_port/sandbox timeout=5s;
    payout_sandbox_webhook_url http://127.0.0.1:$ngx_port/hooks/sandbox;
    # the webhook row's receiver is on loopback
    payout_webhook_allow_private on;
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

# CPU accounting, so that a row shows where its time goes: the whole
# machine's busy ticks (/proc/stat), nginx's workers' ticks (they outlive
# a row; PostgreSQL's pgbench backends do not), and the load generator's
# own (bash's `times` in the subshell that ran it).  What is left of the
# machine's is PostgreSQL's (and the kernel's work for its sockets).
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
# the sum over nginx's workers of what $1 prints for a worker's pid
workers_sum() {
    local total=0 pid
    for pid in $(pgrep -P "$(cat "$work/nginx.pid")"); do
        total=$(( total + $("$1" "$pid") ))
    done
    echo "$total"
}
pid_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pid_rss() { ps -o rss= -p "$1"; }
nginx_ticks() { workers_sum pid_ticks; }
hz=$(getconf CLK_TCK)
# the children's user and system time from the output of `times` (its
# second line, "0m1.234s 0m0.567s") in ticks; `times` must run in the
# subshell that ran the generator, so its output is parsed here
times_ticks() {
    awk -v hz="$hz" '$1 == "times" {getline; getline
        s = 0
        for (i = 1; i <= 2; i++) {
            split($i, ms, "m"); s += ms[1] * 60 + ms[2]
        }
        printf "%d", s * hz }'
}
# microseconds per request from ticks and a request count
per_request() {
    awk -v t="$1" -v n="$2" -v hz="$hz" \
        'BEGIN { printf "%.0f", (n > 0 ? t * 1e6 / hz / n : 0) }'
}

# "req/s p99 G/N/P" from wrk's --latency output: CPU microseconds per
# request of the generator (wrk), nginx and PostgreSQL
wrk_run() {
    local out m0 n0 m1 n1 gen count
    m0=$(machine_ticks)
    n0=$(nginx_ticks)
    out=$(wrk -t"$threads" -c"$conns" -d"${duration}s" --latency "$@"
          echo times; times)
    m1=$(machine_ticks)
    n1=$(nginx_ticks)
    gen=$(times_ticks <<< "$out")
    count=$(awk '/requests in/ {print $1}' <<< "$out")
    awk -v g="$(per_request "$gen" "$count")" \
        -v n="$(per_request $(( n1 - n0 )) "$count")" \
        -v d="$(per_request $(( m1 - m0 - gen - (n1 - n0) )) "$count")" \
        '/Requests\/sec/ {rps = $2} $1 == "99%" {p99 = $2}
         END {print rps, p99, g "/" n "/" d}' <<< "$out"
}

# as many database connections as the module's pools hold (2 workers);
# pgbench sends :variables as parameters of prepared statements, as the
# module does, so both run under the same plans
pg_clients=$(( 2 * pool ))
pgb() {         # "tps G/-/P", as wrk_run
    local out m0 m1 gen count
    m0=$(machine_ticks)
    out=$(pgbench -n -M prepared -c "$pg_clients" -j "$threads" \
              -T "$duration" -f "$1" "$db" 2>/dev/null
          echo times; times)
    m1=$(machine_ticks)
    gen=$(times_ticks <<< "$out")
    count=$(awk '/actually processed/ {print $NF}' <<< "$out")
    awk -v g="$(per_request "$gen" "$count")" \
        -v d="$(per_request $(( m1 - m0 - gen )) "$count")" \
        '/^tps/ {tps = $3} END {printf "%.0f %s/-/%s\n", tps, g, d}' <<< "$out"
}

rows=()
# row label, req/s, p99, CPU, ceiling label, ceiling req/s, its CPU
row() { rows+=("$1|$2|$3|$4|$5|$6|$7"); }

read -r static_rps static_p99 static_cpu < <(wrk_run "$api/static")
row "static \`return 200\` (nginx ceiling)" "$static_rps" "$static_p99" \
    "$static_cpu" "-" "" ""

# -- create: the module, the gateway side's SQL, the sandbox's own share
cat > "$work/create.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
wrk.body = '{"amount": 1000, "currency": "NGN", "gateway": "sandbox", ' ..
           '"bank_account_number": "0123456789", ' ..
           '"bank_account_name": "BENCH", "bank_code": "058"}'
LUA
fp=$(openssl rand -hex 32)
# the two transactions of the gateway side: the create, the transition
cat > "$work/create.sql" <<SQL
SELECT payout_id AS pid FROM payout_create(p_tenant => $tenant_id, p_livemode => false, p_idempotency_key => NULL, p_request_hash => '\\x00', p_amount => 1000, p_currency => 'NGN', p_gateway => 'sandbox', p_narration => NULL, p_metadata => NULL, p_webhook_urls => NULL, p_webhook_secret_enc => NULL, p_stage => false, p_recipient_uuid => NULL, p_type => 'bank_account', p_fingerprint => '\\x$fp', p_name => NULL, p_email => NULL, p_phone => NULL, p_bank_code => '058', p_bank_name => NULL, p_bank_account_name => 'BENCH', p_account_enc => '\\x0102', p_account_last4 => '6789', p_mm_provider => NULL, p_mm_enc => NULL, p_mm_last4 => NULL, p_account_id => NULL, p_country => NULL, p_balance_id => NULL) \\gset
SELECT * FROM payout_transition(p_id => :pid, p_from => '{pending_created}', p_to => 'pending_promise', p_source => 'provider', p_gateway_payout_id => 'sbx_tr_0', p_failure_reason => NULL, p_detail => NULL);
SQL
# the sandbox provider's own transaction (remote in production)
cat > "$work/sandbox.sql" <<SQL
SELECT * FROM sandbox.sandbox_transfer_create(gen_random_uuid(), 1000, 'NGN', 'bank_account', '6789', '058', NULL, NULL, 'succeed', 1000);
SQL
read -r create_rps create_p99 create_cpu < <(wrk_run -s "$work/create.lua" \
    "$api/v1/payouts")
read -r pg_create pg_create_cpu < <(pgb "$work/create.sql")
read -r pg_sandbox pg_sandbox_cpu < <(pgb "$work/sandbox.sql")

# -- get: the module, the minimal SELECT, the module's own statement
uuid=$(sql "SELECT uuid FROM payouts WHERE tenant_id = $tenant_id
            ORDER BY id DESC LIMIT 1")
cat > "$work/get_min.sql" <<SQL
\set tenant $tenant_id
SELECT p.*, r.* FROM payouts p LEFT JOIN recipients r ON r.id = p.recipient_id WHERE p.tenant_id = :tenant AND p.livemode = false AND p.uuid = '$uuid';
SQL
read -r get_rps get_p99 get_cpu < <(wrk_run -H "Authorization: Bearer $key" \
    "$api/v1/payouts/$uuid")
read -r pg_get_min pg_get_min_cpu < <(pgb "$work/get_min.sql")

# -- lists: page 1 of the small and the large tenant, unfiltered and by
# status, a deep page, a deep cursor page; the minimal page query
cat > "$work/list_min.sql" <<SQL
\set tenant $big_id
SELECT p.*, r.* FROM payouts p LEFT JOIN recipients r ON r.id = p.recipient_id WHERE p.tenant_id = :tenant AND p.livemode = false ORDER BY p.id DESC LIMIT 50;
SQL
deep_cursor=$(sql "SELECT id FROM payouts WHERE tenant_id = $big_id
                   ORDER BY id DESC OFFSET $(( big_n * 3 / 4 )) LIMIT 1")
deep_page=$(( big_n * 3 / 4 / 50 ))
list() {        # key, query
    wrk_run -H "Authorization: Bearer $1" "$api/v1/payouts?limit=50$2"
}
read -r ls_rps ls_p99 ls_cpu < <(list "$small_key" "")
read -r lb_rps lb_p99 lb_cpu < <(list "$big_key" "")
read -r lss_rps lss_p99 lss_cpu < <(list "$small_key" "&filter.status=pending")
read -r lbs_rps lbs_p99 lbs_cpu < <(list "$big_key" "&filter.status=pending")
read -r lbc_rps lbc_p99 lbc_cpu < <(list "$big_key" "&cursor=$deep_cursor")
read -r lbd_rps lbd_p99 lbd_cpu < <(list "$big_key" "&page=$deep_page")
read -r pg_list_min pg_list_min_cpu < <(pgb "$work/list_min.sql")

min_get="pgbench, minimal get"
min_list="pgbench, minimal page (large tenant)"
row "\`GET /v1/payouts/{uuid}\`" "$get_rps" "$get_p99" "$get_cpu" \
    "$min_get" "$pg_get_min" "$pg_get_min_cpu"
row "\`GET /v1/payouts\`, $small_n payouts" "$ls_rps" "$ls_p99" \
    "$ls_cpu" "$min_list" "$pg_list_min" "$pg_list_min_cpu"
row "\`GET /v1/payouts\`, $big_n payouts" "$lb_rps" "$lb_p99" \
    "$lb_cpu" "$min_list" "$pg_list_min" "$pg_list_min_cpu"
row "... \`filter.status=pending\`, $small_n" "$lss_rps" "$lss_p99" \
    "$lss_cpu" "$min_list" "$pg_list_min" "$pg_list_min_cpu"
row "... \`filter.status=pending\`, $big_n" "$lbs_rps" "$lbs_p99" \
    "$lbs_cpu" "$min_list" "$pg_list_min" "$pg_list_min_cpu"
row "... \`cursor\` at 3/4 deep, $big_n" "$lbc_rps" "$lbc_p99" \
    "$lbc_cpu" "$min_list" "$pg_list_min" "$pg_list_min_cpu"
row "... \`page=$deep_page\` (3/4 deep), $big_n" "$lbd_rps" "$lbd_p99" \
    "$lbd_cpu" "$min_list" "$pg_list_min" "$pg_list_min_cpu"
row "\`POST /v1/payouts\` (sandbox)" "$create_rps" "$create_p99" \
    "$create_cpu" "pgbench, create + transition" "$pg_create" \
    "$pg_create_cpu"
row "... the sandbox's own transaction" "$pg_sandbox" "-" \
    "$pg_sandbox_cpu" "-" "" ""

# -- webhooks: commit of the event to the receiver's 200, at a rate
read -r wh_n wh_p50 wh_p99 wh_rate < <(/usr/bin/python3 \
    "$top/bench/webhook_latency.py" "$api" "$key" "$db" \
    "${WEBHOOK_RATE:-200}" "${WEBHOOK_SECONDS:-5}")

# -- memory: worker RSS after the first 10,000 and after $mem_requests
# mixed requests (get, list, create, bad input), counted from wrk's runs
cat > "$work/mixed.lua" <<LUA
local n = 0
local list = {}
request = function()
    if #list == 0 then
        local h = {["Authorization"] = "Bearer $key",
                   ["Content-Type"] = "application/json"}
        local create = '{"amount": 1000, "currency": "NGN", ' ..
            '"gateway": "sandbox", "bank_account_number": "0123456789", ' ..
            '"bank_account_name": "BENCH", "bank_code": "058"}'
        for i = 1, 9 do
            list[#list + 1] = wrk.format("GET", "/v1/payouts/$uuid", h)
        end
        for i = 1, 6 do
            list[#list + 1] = wrk.format("GET", "/v1/payouts?limit=10", h)
        end
        for i = 1, 2 do
            list[#list + 1] = wrk.format("POST", "/v1/payouts", h, "{nope")
            list[#list + 1] = wrk.format("GET", "/v1/payouts?limit=x", h)
        end
        list[#list + 1] = wrk.format("POST", "/v1/payouts", h, create)
    end
    n = n + 1
    return list[n % #list + 1]
end
LUA
rss() { workers_sum pid_rss; }
mixed() {       # runs of $2 s until at least $1 requests; prints how many
    local total=0 n
    while [ "$total" -lt "$1" ]; do
        n=$(wrk -t"$threads" -c"$conns" -d"$2"s -s "$work/mixed.lua" "$api" \
            | awk '/requests in/ {print $1}')
        if [ "${n:-0}" -le 0 ]; then
            echo "wrk made no requests" >&2
            exit 1
        fi
        total=$(( total + n ))
    done
    echo "$total"
}
mem_first=$(mixed 10000 1)
rss_first=$(rss)
started=$(date +%s)
mem_total=$(( mem_first + $(mixed $(( mem_requests - mem_first )) 10) ))
mem_seconds=$(( $(date +%s) - started ))
rss_last=$(rss)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

{
    printf '| row | req/s | p99 | CPU µs/req | vs static | ceiling | '
    printf 'ceiling req/s | its CPU µs | vs ceiling |\n'
    printf '|---|---:|---:|---:|---:|---|---:|---:|---:|\n'
    for r in "${rows[@]}"; do
        IFS='|' read -r label rps p99 cpu ceil ceil_rps ceil_cpu <<< "$r"
        if [ -n "$ceil_rps" ]; then
            vs=$(ratio "$rps" "$ceil_rps")
        else
            vs="-"; ceil_rps="-"; ceil_cpu="-"
        fi
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
            "$label" "$rps" "$p99" "$cpu" "$(ratio "$rps" "$static_rps")" \
            "$ceil" "$ceil_rps" "$ceil_cpu" "$vs"
    done
    echo
    printf 'CPU µs/req: CPU time per request of the load generator (wrk '
    printf 'or pgbench) / nginx'"'"'s workers / PostgreSQL and the rest of '
    printf 'the machine.\n'
    echo
    printf '| webhooks: commit to the receiver'"'"'s 200 | p50 | p99 | received | creates/s |\n'
    printf '|---|---:|---:|---:|---:|\n'
    printf '| at %s payouts/s for %ss | %s ms | %s ms | %s | %s |\n' \
        "${WEBHOOK_RATE:-200}" "${WEBHOOK_SECONDS:-5}" "$wh_p50" \
        "$wh_p99" "$wh_n" "$wh_rate"
    echo
    printf '| memory: both workers'"'"' RSS | after %s requests | after %s | growth |\n' "$mem_first" "$mem_total"
    printf '|---|---:|---:|---:|\n'
    printf '| get, list, create, bad input (%ss) | %s kB | %s kB | %s kB |\n' \
        "$mem_seconds" "$rss_first" "$rss_last" \
        "$(( rss_last - rss_first ))"
    echo
    printf '%s, %s cores; %s wrk connections, %s threads, %ss a row; ' \
        "$(uname -sr)" "$(nproc)" "$conns" "$threads" "$duration"
    printf '2 workers, pool %s each; pgbench: %s clients (the pools ' \
        "$pool" "$pg_clients"
    printf 'total), prepared statements.\n'
} > "$out"

echo
cat "$out"
echo
echo "(written to $out)"

if grep -E '\[(alert|crit|emerg)\]' "$work/error.log"; then
    echo "nginx logged alerts during the benchmark" >&2
    exit 1
fi
