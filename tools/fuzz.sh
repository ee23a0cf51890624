#!/bin/sh
# Runs every libFuzzer target built in build/fuzz for FUZZ_SECONDS on its
# seed corpus (with fuzz/dict/<name>.dict if there is one), then replays
# every file kept in fuzz/regressions/<name>/.
#   tools/fuzz.sh name...
# New inputs go to a scratch corpus under build/, never into fuzz/corpus;
# a crash input is written to build/fuzz/artifacts/ and named on failure.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FUZZ_SECONDS:-15}
out=$top/build/fuzz

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# the longest input worth trying, by target
max_len() {
    case $1 in
    validate) echo 8192 ;;
    json|query|sandbox|paystack) echo 4096 ;;
    *) echo 1024 ;;
    esac
}

failed=
mkdir -p "$out/artifacts"

for name in "$@"; do
    bin=$out/fuzz_$name
    seeds=$top/fuzz/corpus/$name
    work=$(mktemp -d "$out/corpus.$name.XXXXXX")
    log=$out/fuzz_$name.log

    [ -d "$seeds" ] || seeds=
    printf 'fuzz %-10s %ss ... ' "$name" "$seconds"

    dict=
    [ -f "$top/fuzz/dict/$name.dict" ] && dict=-dict=$top/fuzz/dict/$name.dict

    # shellcheck disable=SC2086
    if "$bin" -max_total_time="$seconds" -max_len="$(max_len "$name")" \
           -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $dict \
           -artifact_prefix="$out/artifacts/$name-" \
           "$work" $seeds > "$log" 2>&1
    then
        echo "ok, $(grep -o 'stat::number_of_executed_units: *[0-9]*' \
                    "$log" | grep -o '[0-9]*$') runs"
    else
        echo "FAILED (log: $log)"
        grep -E 'invariant failed|ERROR: |SUMMARY|Test unit written' \
            "$log" | head -5 >&2
        failed="$failed $name"
    fi

    rm -rf "$work"

    # the kept crash inputs, each run once (their names have no spaces)
    files=
    for f in "$top/fuzz/regressions/$name"/*; do
        [ -f "$f" ] && files="$files $f"
    done
    [ -z "$files" ] && continue

    printf 'replay %-8s %d regression input(s) ... ' "$name" \
        "$(echo $files | wc -w)"
    # shellcheck disable=SC2086
    if "$bin" $files > "$log.replay" 2>&1; then
        echo ok
    else
        echo "FAILED (log: $log.replay)"
        failed="$failed $name(regressions)"
    fi
done

if [ -n "$failed" ]; then
    echo "fuzz failed:$failed" >&2
    exit 1
fi
