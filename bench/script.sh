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
# A report, not a test: exits 0 whatever it measured. Loopback only; kills
# only what it started, by PID.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SALVO=${SALVO_BIN:-$ROOT/build/salvo}
case $SALVO in /*) ;; *) SALVO=$ROOT/$SALVO ;; esac
NGINX=${NGINX_BIN:-/usr/sbin/nginx}
PAIRS=${BENCH_PAIRS:-5}
SECS=${BENCH_SECS:-3}

WORK=$(mktemp -d /tmp/salvo-bench-script.XXXXXX)
NGINX_PID=
CHILD_PID=
cleanup() {
    [ -n "$CHILD_PID" ] && kill -KILL "$CHILD_PID" 2>/dev/null
    if [ -n "$NGINX_PID" ]; then
        kill -TERM "$NGINX_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$NGINX_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "script.sh: $*" >&2; exit 0; }

[ -x "$SALVO" ] || die "no salvo binary at $SALVO (run make first)"
[ -x "$NGINX" ] || die "no nginx at $NGINX"
command -v wrk >/dev/null || die "wrk is not installed"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT/
. "$(dirname "$0")/nginx.sh"
write_nginx_conf "$WORK" "$PORT"
KB=$(python3 -c 'print("x" * 1024)')
sed -i "s|location / {|location /kb { return 200 \"$KB\"; }\n        location / {|" "$WORK/nginx.conf"
"$NGINX" -p "$WORK/" -c "$WORK/nginx.conf" -e "$WORK/error.log" </dev/null >"$WORK/nginx.out" 2>&1 &
NGINX_PID=$!
for _ in $(seq 100); do
    curl -s -o /dev/null --max-time 1 "$URL" && break
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx did not start"
    sleep 0.1
done

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

# bounded LIMIT OUT CMD... — runs CMD, SIGKILLs it after LIMIT s.
bounded() {
    local limit=$1 out=$2 i; shift 2
    "$@" </dev/null >"$out" 2>&1 &
    CHILD_PID=$!
    for ((i = 0; i < limit * 10; i++)); do kill -0 "$CHILD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$CHILD_PID" 2>/dev/null
    wait "$CHILD_PID" 2>/dev/null
    CHILD_PID=
}
salvo_rps() {
    rm -f "$WORK/r.json"
    bounded 60 "$WORK/salvo.out" "$SALVO" run "$URL" --closed -t 1 -c 50 -d "${SECS}s" -q --json "$WORK/r.json" "$@"
    python3 -c 'import json,sys
try:
    d=json.load(open(sys.argv[1])); r=d["requests"]; print((r["ok"]+r["http_error"])/d["duration_s"])
except Exception: print("nan")' "$WORK/r.json"
}
wrk_rps() {
    bounded 60 "$WORK/wrk.out" wrk -t1 -c50 -d"${SECS}s" "$@" "$URL"
    awk '/^Requests\/sec:/ {print $2; f=1} END {if (!f) print "nan"}' "$WORK/wrk.out"
}

declare -A RUNS
for ((p = 1; p <= PAIRS; p++)); do
    echo "round $p/$PAIRS..." >&2
    RUNS[prebuilt]+=" $(salvo_rps --script "$WORK/prebuilt.lua")"
    RUNS[none]+=" $(salvo_rps)"
    RUNS[wrk]+=" $(wrk_rps -s "$WORK/prebuilt.lua")"
    RUNS[counter]+=" $(salvo_rps --script "$WORK/counter.lua")"
    RUNS[wrk_counter]+=" $(wrk_rps -s "$WORK/counter.lua")"
done

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
open_run() { # OUTJSON ARGS... — one bounded open-model run
    local json=$1; shift
    rm -f "$json"
    bounded 60 "$WORK/salvo.out" "$SALVO" run "$URL" -t 1 -d 4s -q --json "$json" "$@"
}
echo "sessions..." >&2
open_run "$WORK/mem.json" --script "$WORK/mem.lua" -r 5000
open_run "$WORK/plain.json" -r 10000
open_run "$WORK/two.json" --script "$WORK/two.lua" -r 5000

WORK=$WORK python3 - "${RUNS[prebuilt]}" "${RUNS[none]}" "${RUNS[wrk]}" "${RUNS[counter]}" "${RUNS[wrk_counter]}" "$PAIRS" "$SECS" <<'PY'
import statistics, sys
def med(s):
    v = [float(x) for x in s.split() if x != "nan"]
    return statistics.median(v) if v else float("nan")
pre, none, wrk, cnt, wcnt = (med(a) for a in sys.argv[1:6])
print("closed model, nginx, 1 thread, 50 conns, %s rounds of %s s, median req/s" % (sys.argv[6], sys.argv[7]))
print("%-44s %10s %10s %7s  %s" % ("case", "salvo", "reference", "ratio", "goal"))
def row(name, a, b, goal):
    r = a / b if b else float("nan")
    print("%-44s %10.0f %10.0f %7.2f  %-8s %s" % (name, a, b, r, ">= %.1f" % goal, "PASS" if r >= goal else "MISS"))
row("pre-built request() vs salvo without script", pre, none, 0.8)
row("pre-built request() vs wrk, same script", pre, wrk, 1.0)
row("wrk.format counter path vs wrk, same script", cnt, wcnt, 1.0)
import json, os
def load(name):
    try:
        return json.load(open(os.path.join(os.environ["WORK"], name)))
    except Exception:
        return {}
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
PY
