#!/bin/sh
# Entry point of the payout gateway image (installed as
# /usr/local/bin/payout-entrypoint).  When the command is nginx (the
# default), it
#   1. waits up to PAYOUT_DB_WAIT seconds (default 30) for PostgreSQL,
#   2. applies the migrations: payoutctl migrate, with --sandbox unless
#      PAYOUT_SANDBOX=0 (the image's configuration serves the sandbox),
#   3. if PAYOUT_BOOTSTRAP_TENANT is set and $PAYOUT_KEY_DIR/<tenant>.key
#      does not exist yet, creates that tenant and a test-mode API key and
#      writes the key to that file (mode 600),
#   4. writes the payout_database directive from PAYOUT_DATABASE to
#      $PAYOUT_RUN_DIR/database.conf, which /etc/nginx/nginx.conf includes
#      (nginx cannot read environment variables itself),
#   5. execs the command.
# Any other command (sh, payoutctl ...) is run as is, with no set-up.
set -eu

run_dir=${PAYOUT_RUN_DIR:-/run/payout}
key_dir=${PAYOUT_KEY_DIR:-/var/lib/payout}
wait_secs=${PAYOUT_DB_WAIT:-30}
sandbox=${PAYOUT_SANDBOX:-1}

log() {
    printf 'payout-entrypoint: %s\n' "$*" >&2
}

die() {
    log "$*"
    exit 1
}

if [ "${1:-}" != nginx ]; then
    exec "$@"
fi

# --- the database ---------------------------------------------------------

[ -n "${PAYOUT_DATABASE:-}" ] || die "PAYOUT_DATABASE is not set; give it" \
    "a libpq conninfo such as 'host=db dbname=payouts user=payout" \
    "password=...'"

nl='
'
cr=$(printf '\r')
case $PAYOUT_DATABASE in
*"$nl"* | *"$cr"*) die "PAYOUT_DATABASE must be a single line" ;;
esac

case $wait_secs in
'' | *[!0-9]*) die "PAYOUT_DB_WAIT must be a number of seconds" ;;
esac

tenant=${PAYOUT_BOOTSTRAP_TENANT:-}

# payoutctl checks the name too; checking it here, before anything is
# done, also keeps it a plain file name
case $tenant in
'') ;;
[!a-z0-9]* | *[!a-z0-9_-]*)
    die "PAYOUT_BOOTSTRAP_TENANT: invalid tenant name \"$tenant\"" \
        "(use a-z, 0-9, \"_\" and \"-\", starting with a letter or digit)"
    ;;
esac

export PAYOUT_DATABASE

# payoutctl reads PAYOUT_DATABASE and PAYOUT_MIGRATIONS.  Bound each
# connection attempt so that an unreachable host cannot outlast the wait.
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-5}"

# Wait with the read-only "migrate --status" (no lock, creates nothing), so
# that a migration that fails is reported once rather than retried.
start=$(date +%s)
waited=
until err=$(payoutctl migrate --status 2>&1 > /dev/null); do
    if [ $(($(date +%s) - start)) -ge "$wait_secs" ]; then
        printf '%s\n' "$err" >&2
        die "PostgreSQL is not reachable after ${wait_secs}s, giving up"
    fi
    if [ -z "$waited" ]; then
        log "waiting for PostgreSQL (up to ${wait_secs}s)"
        waited=1
    fi
    sleep 1
done

if [ "$sandbox" = 0 ]; then
    payoutctl migrate || die "payoutctl migrate failed"
else
    payoutctl migrate --sandbox || die "payoutctl migrate failed"
fi

# --- the master key ---------------------------------------------------------

# Created once, in the data volume; never replaced, since stored account
# numbers can only be read with the key that sealed them.
if [ ! -s "$key_dir/master.key" ]; then
    mkdir -p "$key_dir"
    (umask 077 &&
     head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' \
         > "$key_dir/.master.key.$$" &&
     mv "$key_dir/.master.key.$$" "$key_dir/master.key")
    log "created the master key $key_dir/master.key: back it up"
fi

# --- the bootstrap tenant and key -----------------------------------------

if [ -n "$tenant" ]; then
    key_file=$key_dir/$tenant.key

    if [ -e "$key_file" ]; then
        # Never replace a key file: the key may have been revoked on
        # purpose.
        if ! payoutctl key verify --file "$key_file" > /dev/null 2>&1; then
            log "warning: $key_file does not hold a valid key (revoked," \
                "or the database was reset); delete it and restart to get" \
                "a new one"
        fi
    else
        mkdir -p "$key_dir"
        payoutctl tenant create "$tenant" --if-not-exists
        tmp=$key_dir/.$tenant.key.$$
        rm -f "$tmp"
        saved_umask=$(umask)
        umask 077
        if ! payoutctl key create --tenant "$tenant" --mode test > "$tmp"
        then
            rm -f "$tmp"
            die "could not create a key for tenant \"$tenant\""
        fi
        umask "$saved_umask"
        mv "$tmp" "$key_file"
        log "wrote the API key of tenant \"$tenant\" (test mode) to $key_file"
    fi
fi

# --- the nginx configuration ----------------------------------------------

# Inside an nginx double-quoted string, \ and " must be escaped with a
# backslash; nothing else is special there ($ is not, for this directive).
escaped=$(printf '%s' "$PAYOUT_DATABASE" | sed -e 's/[\\"]/\\&/g')

mkdir -p "$run_dir"
saved_umask=$(umask)
umask 077                       # the conninfo may hold a password
{
    printf '# written by payout-entrypoint from PAYOUT_DATABASE\n'
    printf 'payout_database "%s";\n' "$escaped"
} > "$run_dir/database.conf.tmp"
umask "$saved_umask"
mv "$run_dir/database.conf.tmp" "$run_dir/database.conf"

exec "$@"
