#!/bin/sh
# Style and layering checks on the C sources, run by `make style` and
# `make test`.  Each check prints the offending lines; every check runs,
# and the script fails if any found something.
#   tools/check_style.sh
set -u

cd "$(dirname "$0")/.." || exit 1

# every C source and header of the module, its tools, tests and fuzzers
files="ngx_http_payout_module.c $(find src tools fuzz t/unit -type f \
    -name '*.[ch]' -not -path 'fuzz/corpus/*' -not -path 'fuzz/regressions/*' \
    | LC_ALL=C sort)"

# the layers that must build without nginx: unit tests, fuzzers, payoutctl
pure="$(find src/core src/connectors -type f -name '*.[ch]' 2>/dev/null \
    | LC_ALL=C sort)"

failed=0


# check what command...: the command prints what breaks the rule, and
# exits 0 when it found something (as grep does)
check() {
    what=$1
    shift
    echo "style: $what"
    if "$@"; then
        failed=1
    fi
}

# include_of file...: the #include lines of the files, file:line:text
include_of() {
    [ $# -gt 0 ] || return 1
    grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' "$@"
}

nginx_includes() {
    # shellcheck disable=SC2086
    include_of $pure | grep -E '[<"](ngx_|nginx)' | grep -v '[<"]ngx_payout_'
}


# $files and $pure are split into file names on purpose
# shellcheck disable=SC2086
check "no line longer than 80 columns" \
    env LC_ALL=C.UTF-8 grep -nE '^.{81,}' $files

# shellcheck disable=SC2086
check "no tab character" grep -n "$(printf '\t')" $files

# shellcheck disable=SC2086
check "no trailing whitespace" grep -nE '[[:space:]]+$' $files

check "src/core/ and src/connectors/ include no nginx header" nginx_includes


# Among the nginx-side files, only the bridge (ngx_http_payout_provider)
# and the configuration file include the connector interface: everything
# else talks to connectors through the bridge.  Only the sandbox server
# (the fake provider: its API, and its event sender, which signs with its
# codec's helpers) includes a connector's own header.
bridge='src/ngx_http_payout_provider\.[ch]|src/ngx_http_payout_conf\.c'

connector_includes() {
    include_of ngx_http_payout_module.c src/*.[ch] \
        | grep 'ngx_payout_connector\.h' \
        | grep -v -E "^($bridge):"
}

codec_includes() {
    include_of ngx_http_payout_module.c src/*.[ch] \
        | grep '"connectors/' \
        | grep -v -E '^src/ngx_http_payout_sandbox(_events)?\.c:'
}

check "only the bridge and _conf.c include the connector header" \
    connector_includes

check "only the sandbox server includes a connector's header" \
    codec_includes


# The glue reads a result's columns by name (an enum beside its SQL) with
# the pool's row getters, never by a literal position; libpq's own getters
# are the pool's alone.
glue="$(find src -maxdepth 1 -type f -name '*.[ch]' \
    -not -name 'ngx_http_payout_pg.[ch]' | LC_ALL=C sort)"

literal_columns() {
    getter='ngx_http_payout_pg_(text|int|bool|isnull)'
    # shellcheck disable=SC2086
    grep -nE "PQget(value|isnull|length) *\\(" $glue
    # shellcheck disable=SC2086
    grep -nE "($getter) *\\(([^,]*,){2} *[0-9]+ *[,)]" $glue
    # shellcheck disable=SC2086
    grep -nE "ngx_http_payout_pg_copy *\\(([^,]*,){3} *[0-9]+ *[,)]" $glue
}

check "the glue reads columns by name, not literal position" \
    literal_columns

if [ $failed = 1 ]; then
    echo "style: FAILED" >&2
    exit 1
fi
