#!/bin/sh
# Builds the module against Debian's nginx source tree (nginx-dev) with the
# stock binary's full configure flags, so it loads into /usr/sbin/nginx.
#   tools/build.sh [plain|asan]
set -eu

flavour=${1:-plain}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/$flavour
src=$out/nginx-src

case $flavour in
plain) cc_opt="-g -O2 -Werror" ; ld_opt="" ;;
asan)  cc_opt="-g -O1 -fno-omit-frame-pointer -fsanitize=address -Werror"
       ld_opt="-fsanitize=address" ;;
*)     echo "usage: $0 [plain|asan]" >&2; exit 2 ;;
esac

# config gathers the sources by directory and reads LIBPQ_INC/LIBPQ_LIB:
# configure again when it, the list of files or those variables change
stamp="LIBPQ_INC=${LIBPQ_INC-} LIBPQ_LIB=${LIBPQ_LIB-} PG_CONFIG=${PG_CONFIG-}
$(cd "$top" && { ls -1 ngx_http_payout_module.c src/*.[ch] src/core/*.[ch] \
    src/connectors/*.[ch] 2>/dev/null || :; })
$(cd "$top" && cat html/payout/* 2>/dev/null | cksum)"

if [ ! -f "$src/objs/Makefile" ] \
   || [ "$top/config" -nt "$src/objs/Makefile" ] \
   || [ "$stamp" != "$(cat "$out/configure.stamp" 2>/dev/null)" ]
then
    rm -rf "$src"
    mkdir -p "$out"
    cp -r /usr/share/nginx/src "$src"
    # shellcheck disable=SC1091
    cd "$src"
    bash -c '. ./conf_flags && ./configure "${NGX_CONF_FLAGS[@]}" \
        --with-cc-opt="$0" --with-ld-opt="$1" --add-dynamic-module="$2"' \
        "$cc_opt" "$ld_opt" "$top" > "$out/configure.log" 2>&1 || {
            tail -30 "$out/configure.log" >&2
            exit 1
        }
    printf '%s\n' "$stamp" > "$out/configure.stamp"
fi

cd "$src"
make -s -j"$(nproc)" -f objs/Makefile modules > "$out/make.log" 2>&1 || {
    grep -E 'error|warning' "$out/make.log" | head -40 >&2
    tail -20 "$out/make.log" >&2
    exit 1
}

# a rename, not a copy over: a running nginx keeps its mapping intact
cp objs/ngx_http_payout_module.so "$out/ngx_http_payout_module.so.new"
mv -f "$out/ngx_http_payout_module.so.new" "$out/ngx_http_payout_module.so"
echo "built $out/ngx_http_payout_module.so"
