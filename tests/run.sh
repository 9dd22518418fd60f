#!/bin/bash
# run.sh — run every test program in its own process with a time limit and
# print the totals. Test programs report in cmocka's format
# ("[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)" / "[  SKIPPED ] N
# test(s)"); a program that reports nothing counts as one test judged by its
# exit code, and a program that crashes or times out counts as a failure
# whatever it printed. A program that ran no test at all (zero passed, zero
# failed, zero skipped, yet printed a cmocka header) is a failure too.
# A skip is never a pass: only what the machine cannot give may skip
# (network namespaces without CAP_NET_ADMIN); a tool that
# scripts/install-deps.sh installs is required, and its absence fails.
# The last line is "N passed, N failed, N skipped" (CI reads it).
set -u
BUILD=${BUILD:-build}
export SALVO_BIN=${SALVO_BIN:-$PWD/$BUILD/salvo}
LOG_DIR=$BUILD/test-logs
mkdir -p "$LOG_DIR"
passed=0; failed=0; skipped=0; failed_names=()

count() { # pattern log: sum of the N in "PATTERN N" lines
    grep -aoE "^\[  $1\] [0-9]+" "$2" | awk '{s+=$NF} END {print s+0}'
}

fail_one() { # name reason: a failure that is not a test program's
    failed=$((failed + 1)); failed_names+=("$1")
    echo "FAIL $1: $2"
}

exec_one() { # name timeout command...: runs it into its log, its exit code into LOG.rc
    local name=$1 limit=$2; shift 2
    local log="$LOG_DIR/$name.log" start=$SECONDS
    timeout -k 10 "$limit" "$@" >"$log" 2>&1
    echo "$? $((SECONDS - start))" >"$log.rc"
}

judge_one() { # name: counts what exec_one left and prints the line
    local name=$1
    local log="$LOG_DIR/$name.log"
    local rc secs p f s
    read -r rc secs <"$log.rc"
    p=$(count "PASSED  " "$log")
    f=$(count "FAILED  " "$log")
    s=$(count "SKIPPED " "$log")
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then
        if grep -aqE '^\[==========\]' "$log"; then
            f=1 # it reported, and ran nothing
        elif [ "$rc" -eq 0 ]; then p=1; else f=1; fi
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
    fi
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    if [ "$f" -gt 0 ]; then
        failed_names+=("$name")
        echo "FAIL $name (rc=$rc, ${secs}s) — log: $log"
        tail -n 25 "$log" | sed 's/^/    /'
    elif [ "$s" -gt 0 ]; then
        echo "ok   $name ($p tests, $s SKIPPED, ${secs}s) — log: $log"
        grep -a '^skip ' "$log" | sed 's/^/    /'
    else
        echo "ok   $name ($p tests, ${secs}s)"
    fi
}

run_one() { # name timeout command...
    exec_one "$@"
    judge_one "$1"
}

units=0
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    units=$((units + 1))
    run_one "unit-$(basename "$t")" 300 "$t"
done
[ "$units" -gt 0 ] || fail_one unit "no unit test binary in $BUILD/tests (make unit)"

# Every libFuzzer target replays its committed seeds (tests/fuzz/seeds/NAME/)
# and fuzzes for SALVO_FUZZ_SECONDS (default 3 s, at most 5 s; `make fuzz-long`
# is the long run). clang comes with scripts/install-deps.sh, so no
# fuzzer built is a failure; only `make asan` (SALVO_NO_FUZZ) leaves them out.
# Fuzzers are CPU-bound and share nothing: one runs per CPU at a time
# (SALVO_FUZZ_JOBS), then each is judged in order.
if [ -z "${SALVO_NO_FUZZ:-}" ]; then
    fuzzers=0 fuzz_jobs=${SALVO_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)} fuzz_names=()
    for fz in "$BUILD"/fuzz/fuzz_*; do
        [ -x "$fz" ] && [ -f "$fz" ] || continue
        fuzzers=$((fuzzers + 1))
        name=$(basename "$fz"); name=${name#fuzz_}
        seeds=tests/fuzz/seeds/$name
        if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
            fail_one "fuzz-$name" "no seed corpus in $seeds/"
            continue
        fi
        mkdir -p "$BUILD/fuzz/corpus/$name"
        while [ "$(jobs -rp | wc -l)" -ge "$fuzz_jobs" ]; do wait -n; done
        exec_one "fuzz-$name" 60 "$fz" -max_total_time="${SALVO_FUZZ_SECONDS:-3}" \
            "$BUILD/fuzz/corpus/$name" "$seeds" &
        fuzz_names+=("fuzz-$name")
    done
    wait
    for name in "${fuzz_names[@]}"; do judge_one "$name"; done
    [ "$fuzzers" -gt 0 ] || fail_one fuzz "no fuzzer in $BUILD/fuzz (make fuzz; clang comes with scripts/install-deps.sh)"
fi

for t in tests/e2e/test_*.py; do
    [ -f "$t" ] || continue
    run_one "e2e-$(basename "$t" .py)" 600 python3 "$t"
done

if [ ${#failed_names[@]} -gt 0 ]; then echo "failed: ${failed_names[*]}"; fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
