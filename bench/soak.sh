#!/usr/bin/env bash
# soak.sh — a long open-model run through `salvo chaos` with rotating toxics
# to `salvo target`: does anything grow, leak or lose count over time?
#
# Starts, on free loopback ports, the demo routing service (`salvo target`),
# a `salvo chaos` proxy with its control API in front of it, and one
# `salvo run` at a moderate open-model rate (SOAK_RATE, default 200/s) over
# random trips, for SOAK_DURATION (default 30m). Every SOAK_ROTATE seconds
# (default 30) the toxic on the proxy is replaced through the API by the
# next of: latency, http_status 503 on a share, slicer, bandwidth,
# http_latency, reset_peer on a share, none. Every 10 s the RSS and open
# file descriptors of the three processes are sampled from /proc.
#
# It prints, measured in this run:
#   - RSS of each process, mean of the first and of the last window
#     (5 minutes, or a sixth of a shorter run; the first window starts
#     after a minute of warm-up), goal: within max(2 %, 512 KiB);
#   - open fds of the proxy and the target before the load and after it has
#     drained (goal: equal), and of salvo run at the start and end of the
#     load (goal: equal within its connection pool's churn);
#   - the run's outcomes: scheduled = ok + http_error + failed + timeout +
#     unsent (goal: adds up, and scheduled = rate x duration).
# It is a report, not a test: it exits 0 whatever it measured (1 only when
# it could not run). Loopback only; every wait is bounded; it signals only
# the processes it started, by PID.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SALVO=${SALVO_BIN:-$ROOT/build/salvo}
case $SALVO in /*) ;; *) SALVO=$ROOT/$SALVO ;; esac
DURATION=${SOAK_DURATION:-30m}
RATE=${SOAK_RATE:-200}
ROTATE=${SOAK_ROTATE:-30}

. "$(dirname "$0")/lib.sh"
bench_begin soak 1
seconds_of() { python3 -c 'import re,sys
m=re.fullmatch(r"(\d+)(ms|s|m|h)?",sys.argv[1]); n=int(m.group(1)); u=m.group(2) or "s"
print(int(n*{"ms":0.001,"s":1,"m":60,"h":3600}[u]))' "$1"; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
api() { # METHOD PATH [JSON]
    python3 -c 'import sys,urllib.request as u
r=u.Request("http://127.0.0.1:%s%s"%(sys.argv[1],sys.argv[3]),data=(sys.argv[4].encode() if len(sys.argv)>4 else None),method=sys.argv[2])
try: u.urlopen(r,timeout=5).read()
except Exception as e: print("soak: api %s %s: %s"%(sys.argv[2],sys.argv[3],e),file=sys.stderr)' "$API_PORT" "$@"
}

[ -x "$SALVO" ] || die "no salvo binary at $SALVO (run make first)"
TOTAL_S=$(seconds_of "$DURATION") || die "bad SOAK_DURATION '$DURATION'"
[ "$TOTAL_S" -ge 60 ] || die "SOAK_DURATION must be at least 1m"

TARGET_PORT=$(free_port)
"$SALVO" target --listen "127.0.0.1:$TARGET_PORT" </dev/null >"$WORK/target.out" 2>&1 &
TARGET_PID=$!; PIDS+=($TARGET_PID)
wait_port "$TARGET_PORT" || die "salvo target did not start: $(cat "$WORK/target.out")"
PROXY_PORT=$(free_port); API_PORT=$(free_port)
"$SALVO" chaos --listen "127.0.0.1:$PROXY_PORT" --upstream "127.0.0.1:$TARGET_PORT" \
    --api "127.0.0.1:$API_PORT" --seed 7 </dev/null >"$WORK/chaos.out" 2>&1 &
CHAOS_PID=$!; PIDS+=($CHAOS_PID)
wait_port "$PROXY_PORT" && wait_port "$API_PORT" || die "salvo chaos did not start: $(cat "$WORK/chaos.out")"
"$SALVO" target --gen-trips 100000 --out "$WORK/trips.csv" >/dev/null 2>&1 || die "cannot generate trips"

sleep 1
CHAOS_FD0=$(fds $CHAOS_PID); TARGET_FD0=$(fds $TARGET_PID)
echo "soak: ${RATE}/s for $DURATION through salvo chaos to salvo target, toxics rotating every ${ROTATE}s"
"$SALVO" run "http://127.0.0.1:$PROXY_PORT/api/route?from={from_lat},{from_lng}&to={to_lat},{to_lng}" \
    --data "$WORK/trips.csv" --pick random -r "$RATE" -d "$DURATION" --timeout 5s \
    -q --progress off --allow-invalid --json "$WORK/soak.json" </dev/null >"$WORK/run.out" 2>&1 &
RUN_PID=$!; PIDS+=($RUN_PID)

TOXICS=(
    '{"name":"soak","type":"latency","attributes":{"latency":20,"jitter":5}}'
    '{"name":"soak","type":"http_status","toxicity":0.05,"attributes":{"status":503}}'
    '{"name":"soak","type":"slicer","attributes":{"average_size":64,"size_variation":32,"delay":200}}'
    '{"name":"soak","type":"bandwidth","attributes":{"rate":500}}'
    '{"name":"soak","type":"http_latency","toxicity":0.2,"attributes":{"latency":50}}'
    '{"name":"soak","type":"reset_peer","toxicity":0.02,"attributes":{"timeout":0}}'
    ''
)
start=$SECONDS; next_rotate=$ROTATE; i=0; have=0
: >"$WORK/samples.tsv"
while kill -0 $RUN_PID 2>/dev/null && [ $((SECONDS - start)) -lt $((TOTAL_S + 120)) ]; do
    t=$((SECONDS - start))
    printf '%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$(rss_kb $RUN_PID)" "$(rss_kb $CHAOS_PID)" "$(rss_kb $TARGET_PID)" \
        "$(fds $RUN_PID)" "$(fds $CHAOS_PID)" "$(fds $TARGET_PID)" >>"$WORK/samples.tsv"
    if [ "$t" -ge "$next_rotate" ] && [ "$t" -lt "$TOTAL_S" ]; then
        [ $have -eq 1 ] && api DELETE /proxies/salvo/toxics/soak
        spec=${TOXICS[$((i % ${#TOXICS[@]}))]}; have=0
        if [ -n "$spec" ]; then api POST /proxies/salvo/toxics "$spec" && have=1; fi
        i=$((i + 1)); next_rotate=$((next_rotate + ROTATE))
    fi
    sleep 10
done
[ $have -eq 1 ] && api DELETE /proxies/salvo/toxics/soak
wait $RUN_PID; RUN_RC=$?
sleep 3
CHAOS_FD1=$(fds $CHAOS_PID); TARGET_FD1=$(fds $TARGET_PID)
[ -s "$WORK/soak.json" ] || die "salvo run wrote no JSON (rc $RUN_RC): $(tail -n 3 "$WORK/run.out")"

python3 - "$WORK/samples.tsv" "$WORK/soak.json" "$TOTAL_S" "$RATE" "$RUN_RC" \
    "$CHAOS_FD0" "$CHAOS_FD1" "$TARGET_FD0" "$TARGET_FD1" "$i" <<'EOF'
import json, sys
samples, result, total, rate, rc = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
cfd0, cfd1, tfd0, tfd1, rotations = (int(x) for x in sys.argv[6:11])
rows = [list(map(int, l.split("\t"))) for l in open(samples) if l.strip()]
rows = [r for r in rows if r[0] < total]
window = min(300, total // 6)
warm = min(60, total // 6)  # the pool, caches and histograms fill up first
first = [r for r in rows if warm <= r[0] < warm + window]
last = [r for r in rows if r[0] >= total - window]
print("soak: %d samples, windows of %d s after %d s of warm-up, %d toxic rotations, salvo run exit %s" % (len(rows), window, warm, rotations, rc))
print("%-12s %14s %14s %10s %8s" % ("RSS", "first (KiB)", "last (KiB)", "change", "goal"))
for col, name in ((1, "salvo run"), (2, "salvo chaos"), (3, "salvo target")):
    a = sum(r[col] for r in first) / max(1, len(first))
    b = sum(r[col] for r in last) / max(1, len(last))
    ok = abs(b - a) <= max(0.02 * a, 512)
    print("%-12s %14.0f %14.0f %+9.2f%% %8s" % (name, a, b, 100 * (b - a) / a if a else 0, "PASS" if ok else "MISS"))
rf0 = max(r[4] for r in first) if first else 0
rf1 = max(r[4] for r in last) if last else 0
print("fds         chaos %d -> %d (%s), target %d -> %d (%s), salvo run max %d -> %d"
      % (cfd0, cfd1, "PASS" if cfd0 == cfd1 else "MISS", tfd0, tfd1, "PASS" if tfd0 == tfd1 else "MISS", rf0, rf1))
d = json.load(open(result))
q = d["requests"]
parts = sum(q.get(k, 0) for k in ("ok", "http_error", "check_failed", "failed", "timeout", "unsent"))
print("outcomes    scheduled %d = %s (%s); expected %d scheduled; errors %s"
      % (q["scheduled"], " + ".join("%s %d" % (k, q.get(k, 0)) for k in ("ok", "http_error", "failed", "timeout", "unsent")),
         "PASS" if parts == q["scheduled"] else "MISS", rate * total, json.dumps(d.get("errors", {}))))
print("latency     p50 %.0f us, p99 %.0f us; valid %s" % (d["latency_us"]["p50"], d["latency_us"]["p99"], d["valid"]))
EOF
exit 0
