#!/usr/bin/env bash
# vs-wrk.sh — salvo side by side with wrk (and wrk2 if on PATH), same run.
#
# Starts its own nginx (1 worker, access_log off, `return 200`) on a free
# loopback port and prints one table whose ratios are all measured in this
# run on this machine:
#   1. closed-model throughput, 1 thread, 50 connections, 10 s, vs wrk;
#   2. the highest open-model rate one salvo thread sustains (achieved within
#      1% of intended, nothing lost), found by a bounded bisection of 5 s
#      runs, vs wrk's closed-model maximum;
#   3. accuracy at 5000/s: salvo's p50 latency vs the true service time (p50
#      of a one-connection closed loop), salvo's send-lag p99, and wrk2's p50
#      at the same rate if wrk2 exists;
#   4. memory: salvo's VmRSS at 4 s and 20 s of a 20 s run at 20000/s.
# Each line shows its goal and PASS/MISS. It is a report, not a test: it
# exits 0 whatever it measured. Loopback only; every loop is bounded; it kills
# only the processes it started, by PID, on any exit.
set -u

# BENCH_OLD=path/to/old/salvo: compare two salvo builds instead (bench/seam.sh).
if [ -n "${BENCH_OLD:-}" ]; then exec bash "$(dirname "$0")/seam.sh"; fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SALVO=${SALVO_BIN:-$ROOT/build/salvo}
case $SALVO in /*) ;; *) SALVO=$ROOT/$SALVO ;; esac
NGINX=${NGINX_BIN:-/usr/sbin/nginx}
STEPS=${BENCH_STEPS:-7}         # open-rate bisection: at most this many 5 s runs

. "$(dirname "$0")/lib.sh"
bench_begin vs-wrk

[ -x "$SALVO" ] || die "no salvo binary at $SALVO (run make first)"
[ -x "$NGINX" ] || die "no nginx at $NGINX"
command -v wrk >/dev/null || die "wrk is not installed"
WRK2=$(command -v wrk2 || true)

PORT=$(free_port)
URL=http://127.0.0.1:$PORT/

# ---------------------------------------------------------------- nginx
write_nginx_conf "$WORK" "$PORT"
start_nginx "$PORT"

# ---------------------------------------------------------------- helpers

# salvo_run JSONFILE ARGS... — one bounded salvo run (no terminal summary).
salvo_run() {
    local json=$1; shift
    rm -f "$json"
    run_bounded 120 "$WORK/salvo.out" "$SALVO" run "$URL" "$@" -q --json "$json"
    [ -s "$json" ] || { echo "  (salvo $* wrote no JSON: $(tail -n 2 "$WORK/salvo.out"))" >&2; echo '{}' >"$json"; }
}

# wrk_rps ARGS... — wrk's Requests/sec.
wrk_rps() {
    run_bounded 60 "$WORK/wrk.out" wrk "$@" "$URL"
    awk '/^Requests\/sec:/ {print $2; f=1} END {if (!f) print "nan"}' "$WORK/wrk.out"
}

# to_us VALUE — a wrk latency like 1.23ms / 850.00us / 1.02s in microseconds.
to_us() {
    python3 -c 'import re,sys
m=re.match(r"([0-9.]+)(us|ms|s|m)$", sys.argv[1])
f={"us":1,"ms":1e3,"s":1e6,"m":6e7}
print(float(m.group(1))*f[m.group(2)] if m else "nan")' "$1"
}

ROWS=()
# row NAME SALVO REFERENCE RATIO GOAL VERDICT
row() { ROWS+=("$(printf '%-44s %12s %12s %8s  %-12s %s' "$@")"); }

# verdict EXPR — PASS if the Python expression is true, MISS otherwise (or n/a).
verdict() { python3 -c 'import sys
try: print("PASS" if eval(sys.argv[1]) else "MISS")
except Exception: print("n/a")' "$1"; }

fmt() { python3 -c 'import sys
try: print("%.2f" % float(sys.argv[1]))
except Exception: print(sys.argv[1])' "$1"; }

echo "salvo vs wrk on $URL ($(nproc) cores; salvo $("$SALVO" --version 2>/dev/null | head -n 1))" >&2

# ---------------------------------------------------------------- 1. closed throughput
echo "1/4 closed-model throughput (10 s each)..." >&2
WRK_RPS=$(wrk_rps -t1 -c50 -d10s)
salvo_run "$WORK/closed.json" --closed -c 50 -t 1 -d 10s
S_RPS=$(jget "$WORK/closed.json" '(d["requests"]["ok"]+d["requests"]["http_error"])/d["duration_s"]')
R1=$(calc "$S_RPS/$WRK_RPS")
row "closed req/s, 1 thread, 50 conns (vs wrk)" "$(fmt "$S_RPS")" "$(fmt "$WRK_RPS")" "$(fmt "$R1")" ">= 1.0" "$(verdict "$R1 >= 1.0")"

# ---------------------------------------------------------------- 2. open-model max rate
echo "2/4 highest sustained open-model rate, 1 thread (<= $STEPS runs of 5 s)..." >&2
# sustains RATE — 0 if achieved is within 1% of intended and <= 1% was lost.
sustains() {
    salvo_run "$WORK/open.json" -r "$1" -t 1 -d 5s
    local ok
    ok=$(jget "$WORK/open.json" 'int(abs(d["rate"]["achieved"]-d["rate"]["intended"]) <= 0.01*d["rate"]["intended"] and d["requests"]["failed"]+d["requests"]["timeout"]+d["requests"]["unsent"] <= 0.01*d["requests"]["scheduled"])')
    echo "  rate $1: achieved $(jget "$WORK/open.json" 'round(d["rate"]["achieved"])'), lost $(jget "$WORK/open.json" 'd["requests"]["failed"]+d["requests"]["timeout"]+d["requests"]["unsent"]'), valid $(jget "$WORK/open.json" 'd["valid"]') -> $([ "$ok" = 1 ] && echo sustained || echo not sustained)" >&2
    [ "$ok" = 1 ]
}
BEST=0
W=$(calc "int($WRK_RPS)")
if [ "$W" != nan ] && [ "$W" -gt 0 ]; then
    LO=0; HI=$(calc "int($W*1.5)")
    TRY=$(calc "int($W*0.8)")           # the goal first: one run answers PASS/MISS
    for _ in $(seq "$STEPS"); do
        if sustains "$TRY"; then LO=$TRY; else HI=$TRY; fi
        [ $((HI - LO)) -le $((W / 50 + 1)) ] && break
        TRY=$(((LO + HI) / 2))
    done
    BEST=$LO
fi
R2=$(calc "$BEST/$WRK_RPS")
row "open max sustained req/s, 1 thread (vs wrk)" "$BEST" "$(fmt "$WRK_RPS")" "$(fmt "$R2")" ">= 0.8" "$(verdict "$R2 >= 0.8")"

# ---------------------------------------------------------------- 3. accuracy at 5000/s
echo "3/4 accuracy at 5000/s (5 s runs)..." >&2
salvo_run "$WORK/service.json" --closed -c 1 -t 1 -d 5s
TRUE_P50=$(jget "$WORK/service.json" 'd["latency_us"]["p50"]')
salvo_run "$WORK/r5000.json" -r 5000 -t 1 -d 5s
S_P50=$(jget "$WORK/r5000.json" 'd["latency_us"]["p50"]')
LAG99=$(jget "$WORK/r5000.json" 'd["generator"]["send_lag_us"]["p99"]')
R3=$(calc "$S_P50/$TRUE_P50")
row "p50 us at 5000/s (vs true service p50)" "$(fmt "$S_P50")" "$(fmt "$TRUE_P50")" "$(fmt "$R3")" "<= 1.5" "$(verdict "$R3 <= 1.5")"
row "send lag p99 us at 5000/s" "$(fmt "$LAG99")" "-" "-" "<= 20" "$(verdict "$LAG99 <= 20")"
# The same with a short spin before each deadline (trades CPU for precision).
salvo_run "$WORK/r5000spin.json" -r 5000 -t 1 -d 5s --spin 50us
LAG99S=$(jget "$WORK/r5000spin.json" 'd["generator"]["send_lag_us"]["p99"]')
row "send lag p99 us at 5000/s with --spin 50us" "$(fmt "$LAG99S")" "-" "-" "<= 20" "$(verdict "$LAG99S <= 20")"
if [ -n "$WRK2" ]; then
    run_bounded 60 "$WORK/wrk2.out" "$WRK2" -t1 -c50 -R5000 -d15s --latency "$URL"
    W2=$(awk '$1 == "50.000%" {print $2; exit}' "$WORK/wrk2.out")
    W2_P50=$(to_us "${W2:-x}")
    R3W=$(calc "$W2_P50/$TRUE_P50")
    row "wrk2 p50 us at 5000/s (vs true service p50)" "-" "$(fmt "$W2_P50")" "$(fmt "$R3W")" "info" "-"
else
    row "wrk2 p50 us at 5000/s" "-" "no wrk2" "-" "info" "-"
fi

# ---------------------------------------------------------------- 4. memory
echo "4/4 memory, 20 s at 20000/s..." >&2
rm -f "$WORK/mem.json"
"$SALVO" run "$URL" -t 1 -r 20000 -d 20s -q --json "$WORK/mem.json" </dev/null >"$WORK/salvo.out" 2>&1 &
CHILD_PID=$!
RSS4=nan; RSS20=nan
for i in $(seq 1 20); do
    sleep 1
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$CHILD_PID/status" 2>/dev/null)
    [ -n "$kb" ] || break
    [ "$i" -eq 4 ] && RSS4=$kb
    RSS20=$kb                       # the last sample, at 20 s if salvo still runs
done
reap_bounded 20
MAXRSS=$(jget "$WORK/mem.json" 'd["generator"]["max_rss_kb"]')
row "RSS MB at 4 s, 20000/s" "$(fmt "$(calc "$RSS4/1024")")" "-" "-" "< 16" "$(verdict "$RSS4/1024 < 16")"
row "RSS MB at 20 s, 20000/s (no growth)" "$(fmt "$(calc "$RSS20/1024")")" "$(fmt "$(calc "$RSS4/1024")")" "$(fmt "$(calc "$RSS20/$RSS4")")" "< 16, <=1.05x" "$(verdict "$RSS20/1024 < 16 and $RSS20 <= 1.05*$RSS4")"
row "generator.max_rss_kb MB (salvo's own figure)" "$(fmt "$(calc "$MAXRSS/1024")")" "-" "-" "info" "-"

# ---------------------------------------------------------------- table
echo
printf '%-44s %12s %12s %8s  %-12s %s\n' "measure" "salvo" "reference" "ratio" "goal" "result"
printf '%s\n' "${ROWS[@]}"
exit 0
