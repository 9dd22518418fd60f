#!/usr/bin/env bash
# script.sh — the cost of --script: salvo with a wrk script vs salvo without
# one vs wrk running the same script (issue 14, "Speed and memory").
#
# Starts its own nginx (1 worker, `return 200`) on a free loopback port.
# Closed model, 1 thread, 50 connections, BENCH_PAIRS (default 5) alternating
# rounds of BENCH_SECS (default 3) s runs; prints the median req/s of each:
#   prebuilt: request() returns a request built once in init()
#   none:     salvo without a script
#   wrk:      wrk -t1 -c50 with the pre-built script
#   counter:  request() formats a new path from a counter (wrk.format) — salvo, then wrk
# Goals: prebuilt >= 0.8x none and >= 1.0x wrk; counter >= 1.0x wrk.
# Then sessions (open model, 1 thread, 4 s each):
#   memory:   5000 sessions/s, each a 1 KB GET with one check then a 2 s
#             think time (10 000 in flight): RSS <= 64 MB;
#   send lag: 2-step sessions at 5000/s vs a plain run at 10 000 requests/s:
#             the session run's send-lag p99 <= 1.5x the plain one's (both
#             runs' validity shown: on a busy machine both may be invalid).
#   p50:      a one-step session's latency p50 vs a plain run's at the same
#             rate (BENCH_P50_RATE, default 2000/s, 50 conns), BENCH_P50_RUNS
#             (default 3) alternating plain/session runs of BENCH_P50_SECS
#             (default 4) s, medians: within max(5 %, 20 us).
# BENCH_CASES picks the cases (default "throughput sessions p50").
# A report, not a test: exits 0 whatever it measured. Loopback only; kills
# only what it started, by PID.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SALVO=${SALVO_BIN:-$ROOT/build/salvo}
case $SALVO in /*) ;; *) SALVO=$ROOT/$SALVO ;; esac
NGINX=${NGINX_BIN:-/usr/sbin/nginx}
PAIRS=${BENCH_PAIRS:-5}
SECS=${BENCH_SECS:-3}
CASES=${BENCH_CASES:-throughput sessions p50}

. "$ROOT/bench/lib.sh"
bench_begin script

[ -x "$SALVO" ] || die "no salvo binary at $SALVO (run make first)"
[ -x "$NGINX" ] || die "no nginx at $NGINX"
case " $CASES " in *" throughput "*) command -v wrk >/dev/null || die "wrk is not installed" ;; esac

PORT=$(free_port)
URL=http://127.0.0.1:$PORT/
write_nginx_conf "$WORK" "$PORT"
KB=$(python3 -c 'print("x" * 1024)')
sed -i "s|location / {|location /kb { return 200 \"$KB\"; }\n        location / {|" "$WORK/nginx.conf"
start_nginx "$PORT"

cat >"$WORK/prebuilt.lua" <<'LUA'
init = function(args)
   req = wrk.format("GET", "/")
end
request = function()
   return req
end
LUA
cat >"$WORK/counter.lua" <<'LUA'
counter = 0
request = function()
   counter = counter + 1
   return wrk.format(nil, "/?n=" .. counter)
end
LUA

salvo_rps() {
    rm -f "$WORK/r.json"
    run_bounded 60 "$WORK/salvo.out" "$SALVO" run "$URL" --closed -t 1 -c 50 -d "${SECS}s" -q --json "$WORK/r.json" "$@"
    python3 -c 'import json,sys
try:
    d=json.load(open(sys.argv[1])); r=d["requests"]; print((r["ok"]+r["http_error"])/d["duration_s"])
except Exception: print("nan")' "$WORK/r.json"
}
wrk_rps() {
    run_bounded 60 "$WORK/wrk.out" wrk -t1 -c50 -d"${SECS}s" "$@" "$URL"
    awk '/^Requests\/sec:/ {print $2; f=1} END {if (!f) print "nan"}' "$WORK/wrk.out"
}

has() { case " $CASES " in *" $1 "*) return 0 ;; esac; return 1; }

declare -A RUNS
if has throughput; then
    for ((p = 1; p <= PAIRS; p++)); do
        echo "round $p/$PAIRS..." >&2
        RUNS[prebuilt]+=" $(salvo_rps --script "$WORK/prebuilt.lua")"
        RUNS[none]+=" $(salvo_rps)"
        RUNS[wrk]+=" $(wrk_rps -s "$WORK/prebuilt.lua")"
        RUNS[counter]+=" $(salvo_rps --script "$WORK/counter.lua")"
        RUNS[wrk_counter]+=" $(wrk_rps -s "$WORK/counter.lua")"
    done
fi

cat >"$WORK/mem.lua" <<'LUA'
function session(s)
   local r = s:get("/kb")
   s:check("kb", #r.body == 1024)
   s:sleep(2)
end
LUA
cat >"$WORK/two.lua" <<'LUA'
function session(s)
   s:get("/")
   s:get("/")
end
LUA
cat >"$WORK/one.lua" <<'LUA'
function session(s)
   s:get("/")
end
LUA
open_run() { # OUTJSON SECS ARGS... — one bounded open-model run
    local json=$1 secs=$2; shift 2
    rm -f "$json"
    run_bounded 60 "$WORK/salvo.out" "$SALVO" run "$URL" -t 1 -d "${secs}s" -q --json "$json" "$@"
}
if has sessions; then
    echo "sessions..." >&2
    open_run "$WORK/mem.json" 4 --script "$WORK/mem.lua" -r 5000
    open_run "$WORK/plain.json" 4 -r 10000
    open_run "$WORK/two.json" 4 --script "$WORK/two.lua" -r 5000
fi
# p50: a one-step session's latency p50 vs a plain run's at the same rate,
# P50_RUNS alternating plain/session runs (open model, 1 thread, 50 conns).
P50_RUNS=${BENCH_P50_RUNS:-3}
P50_RATE=${BENCH_P50_RATE:-2000}
P50_SECS=${BENCH_P50_SECS:-4}
if has p50; then
    for ((p = 1; p <= P50_RUNS; p++)); do
        echo "p50 round $p/$P50_RUNS..." >&2
        open_run "$WORK/p50-plain-$p.json" "$P50_SECS" -r "$P50_RATE" -c 50
        open_run "$WORK/p50-one-$p.json" "$P50_SECS" --script "$WORK/one.lua" -r "$P50_RATE" -c 50
    done
fi

WORK=$WORK CASES=$CASES P50_RUNS=$P50_RUNS P50_RATE=$P50_RATE P50_SECS=$P50_SECS python3 - \
    "${RUNS[prebuilt]:-}" "${RUNS[none]:-}" "${RUNS[wrk]:-}" "${RUNS[counter]:-}" "${RUNS[wrk_counter]:-}" "$PAIRS" "$SECS" <<'PY'
import json, os, statistics, sys
cases = os.environ["CASES"].split()
def med(s):
    v = [float(x) for x in s.split() if x != "nan"]
    return statistics.median(v) if v else float("nan")
def load(name):
    try:
        return json.load(open(os.path.join(os.environ["WORK"], name)))
    except Exception:
        return {}
print("%-44s %10s %10s %7s  %s" % ("case", "salvo", "reference", "ratio", "goal"))
if "throughput" in cases:
    pre, none, wrk, cnt, wcnt = (med(a) for a in sys.argv[1:6])
    print("closed model, nginx, 1 thread, 50 conns, %s rounds of %s s, median req/s" % (sys.argv[6], sys.argv[7]))
    def row(name, a, b, goal):
        r = a / b if b else float("nan")
        print("%-44s %10.0f %10.0f %7.2f  %-8s %s" % (name, a, b, r, ">= %.1f" % goal, "PASS" if r >= goal else "MISS"))
    row("pre-built request() vs salvo without script", pre, none, 0.8)
    row("pre-built request() vs wrk, same script", pre, wrk, 1.0)
    row("wrk.format counter path vs wrk, same script", cnt, wcnt, 1.0)
if "sessions" in cases:
    m, pl, tw = load("mem.json"), load("plain.json"), load("two.json")
    rss = m.get("generator", {}).get("max_rss_kb", float("nan")) / 1024
    ms = m.get("sessions", {})
    print("%-44s %10.1f %10s %7s  %-8s %s   (%s sessions completed, check %s)" % ("10 000 sessions in flight: RSS MB", rss, "", "",
          "<= 64", "PASS" if rss <= 64 else "MISS", ms.get("completed"), m.get("checks", {}).get("kb")))
    lp = pl.get("generator", {}).get("send_lag_us", {}).get("p99", float("nan"))
    lt = tw.get("generator", {}).get("send_lag_us", {}).get("p99", float("nan"))
    r = lt / lp if lp else float("nan")
    print("%-44s %10.0f %10.0f %7.2f  %-8s %s   (valid: sessions %s, plain %s)" % ("send-lag p99 us: 2-step 5000/s vs plain 10k/s",
          lt, lp, r, "<= 1.5", "PASS" if r <= 1.5 else "MISS", tw.get("valid"), pl.get("valid")))
if "p50" in cases:
    n, rate, secs = int(os.environ["P50_RUNS"]), os.environ["P50_RATE"], os.environ["P50_SECS"]
    def p50s(kind, key):
        out = []
        for p in range(1, n + 1):
            d = load("p50-%s-%d.json" % (kind, p))
            out.append((d.get(key, {}).get("p50", float("nan")), d.get("valid")))
        return out
    plain, one = p50s("plain", "latency_us"), p50s("one", "latency_us")
    sess = p50s("one", "session_us")
    def medv(v):
        v = [x for x, _ in v if x == x]
        return statistics.median(v) if v else float("nan")
    mp = medv(plain)
    print("open model, nginx, %s/s, 1 thread, 50 conns, %d alternating runs of %s s each, medians" % (rate, n, secs))
    for name, runs in (("one-step session's step latency_us p50 vs plain", one),
                       ("one-step session's session_us p50 vs plain", sess)):
        mo = medv(runs)
        allowed, diff = max(0.05 * mp, 20), abs(mo - mp)
        print("%-48s %6.0f %10.0f %7.2f  %-12s %s   (|diff| %.0f us, allowed %.0f; runs %s vs %s)"
              % (name, mo, mp, mo / mp if mp else float("nan"), "max(5%,20us)",
                 "PASS" if diff <= allowed else "MISS", diff, allowed, [x for x, _ in runs], [x for x, _ in plain]))
    print("  runs valid: plain %s, session %s" % ([v for _, v in plain], [v for _, v in one]))
PY
