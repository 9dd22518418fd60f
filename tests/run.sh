#!/bin/bash
# run.sh — run every test program in its own process with a time limit and
# print the totals. Test programs report in cmocka's format
# ("[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)"); a program that
# reports nothing counts as one test judged by its exit code, and a program
# that crashes or times out counts as a failure whatever it printed.
# The last line is "N passed, N failed" (CI reads it).
set -u
BUILD=${BUILD:-build}
export SALVO_BIN=${SALVO_BIN:-$PWD/$BUILD/salvo}
LOG_DIR=$BUILD/test-logs
mkdir -p "$LOG_DIR"
passed=0; failed=0; failed_names=()

run_one() { # name timeout command...
    local name=$1 limit=$2; shift 2
    local log="$LOG_DIR/$name.log"
    local start=$SECONDS
    timeout -k 10 "$limit" "$@" >"$log" 2>&1
    local rc=$?
    local p f
    p=$(grep -aoE '^\[  PASSED  \] [0-9]+' "$log" | awk '{s+=$NF} END {print s+0}')
    f=$(grep -aoE '^\[  FAILED  \] [0-9]+' "$log" | awk '{s+=$NF} END {print s+0}')
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
        if [ $rc -eq 0 ]; then p=1; else f=1; fi
    elif [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
    fi
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
        failed_names+=("$name")
        echo "FAIL $name (rc=$rc, $((SECONDS - start))s) — log: $log"
        tail -n 25 "$log" | sed 's/^/    /'
    else
        echo "ok   $name ($p tests, $((SECONDS - start))s)"
    fi
}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    run_one "unit-$(basename "$t")" 300 "$t"
done

if [ -z "${SALVO_NO_FUZZ:-}" ] && [ -x "$BUILD/fuzz/fuzz_parser" ]; then
    mkdir -p "$BUILD/fuzz/corpus"
    run_one fuzz-parser 120 "$BUILD/fuzz/fuzz_parser" -max_total_time=30 \
        -max_len=4096 "$BUILD/fuzz/corpus" tests/fuzz/seeds
fi

for t in tests/e2e/test_*.py; do
    [ -f "$t" ] || continue
    run_one "e2e-$(basename "$t" .py)" 600 python3 "$t"
done

if [ ${#failed_names[@]} -gt 0 ]; then echo "failed: ${failed_names[*]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
