#!/usr/bin/env bash
# find.sh — how many steps and how long `salvo find` takes, measured here.
#
# 1. `salvo target --service-time 20ms --workers 4` (capacity 200/s) and
#    `--service-time 2ms --workers 4` (2000/s): find with
#    --slo 'latency.p99 < 100ms' and the default 20 s steps; prints steps,
#    wall time, the answer, and the truth (workers / mean measured hold,
#    from the target's /metrics).
# 2. nginx (1 worker, `return 200`): find with a loose SLO; on a small
#    machine one salvo process cannot outrun it and find says so (exit 98).
# 3. The 1.02x case: a target with capacity 200/s and a queue deep enough
#    (--queue 100000) that nothing is refused, held at 1.02 x the measured
#    capacity for one 20 s step (--from = --max): p99 stays under a loose
#    SLO (2 s) while the queue grows ~4 requests/s, so the step must fail
#    on the trend rule ("in-flight growing"), not on the SLO.
# A report, not a test: it exits 0 whatever it measured. Loopback only;
# every wait is bounded; it kills only the processes it started, by PID.
# BENCH_KEEP=/some/dir keeps the JSON, stderr and target logs there.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SALVO=${SALVO_BIN:-$ROOT/build/salvo}
case $SALVO in /*) ;; *) SALVO=$ROOT/$SALVO ;; esac
NGINX=${NGINX_BIN:-/usr/sbin/nginx}
STEP=${BENCH_STEP:-20s}
CASES=${BENCH_CASES:-"cap200 cap2000 nginx over102"} # a subset: BENCH_CASES=over102
WORK=$(mktemp -d /tmp/salvo-bench-find.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    [ -n "${BENCH_KEEP:-}" ] && mkdir -p "$BENCH_KEEP" && cp -r "$WORK"/. "$BENCH_KEEP"/
    rm -rf "$WORK"
}
trap cleanup EXIT

# start_target NAME ARGS… — starts a target on a free port; sets PORT.
start_target() {
    local name=$1
    shift
    "$SALVO" target --listen 127.0.0.1:0 "$@" >"$WORK/$name.out" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 50); do
        PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/$name.out")
        [ -n "$PORT" ] && return 0
        sleep 0.1
    done
    echo "target $name did not start" >&2
    return 1
}

truth() { # PORT WORKERS — workers / mean measured hold
    curl -s "http://127.0.0.1:$1/metrics" |
        awk -v w="$2" '/^salvo_target_hold_seconds_sum/{s=$2} /^salvo_target_hold_seconds_count/{c=$2}
                       END{if (c > 0) printf "%.0f", w / (s / c); else print "-"}'
}

# run_find NAME URL ARGS… — one find; prints a row.
run_find() {
    local name=$1 url=$2
    shift 2
    local t0 t1 rc
    t0=$(date +%s.%N)
    timeout 900 "$SALVO" find "$url" --progress off -q --json "$WORK/$name.json" "$@" 2>"$WORK/$name.err"
    rc=$?
    t1=$(date +%s.%N)
    python3 - "$WORK/$name.json" "$name" "$rc" "$(echo "$t1 - $t0" | bc)" <<'PY'
import json, sys
path, name, rc, secs = sys.argv[1:5]
try:
    d = json.load(open(path))
except Exception:
    print("%-10s exit %s, no JSON" % (name, rc)); sys.exit(0)
steps = d["steps"]
print("%-10s exit %-3s steps %-3d %6.0f s  capacity %-8s bracket %-20s stopped_by %s"
      % (name, rc, len(steps), float(secs), "%.0f" % d["capacity"] if d["capacity"] else "-",
         d["bracket"], d["stopped_by"]))
for s in steps:
    f = s["find"]
    print("    %8.0f/s %-7s p99 %8.2f ms  trend %+7.1f/s (t %.1f)  %s"
          % (f["rate"], f["verdict"], (f["judged"].get("p99_us") or 0) / 1e3,
             f["inflight_trend"]["slope_per_s"], f["inflight_trend"]["t"], f["why"][:80]))
PY
}

echo "salvo find, $STEP steps, on $(nproc) CPUs (load $(cut -d' ' -f1-3 /proc/loadavg))"
want() { case " $CASES " in *" $1 "*) return 0 ;; esac; return 1; }
want cap200 && start_target t200 --service-time 20ms --workers 4 && {
    run_find cap200 "http://127.0.0.1:$PORT/" --slo 'latency.p99 < 100ms' --slo 'errors.rate < 1%' --step-duration "$STEP"
    echo "    truth: $(truth "$PORT" 4)/s"
}
want cap2000 && start_target t2000 --service-time 2ms --workers 4 && {
    run_find cap2000 "http://127.0.0.1:$PORT/" --slo 'latency.p99 < 100ms' --slo 'errors.rate < 1%' --step-duration "$STEP"
    echo "    truth: $(truth "$PORT" 4)/s"
}
if want nginx && [ -x "$NGINX" ]; then
    . "$ROOT/bench/nginx.sh"
    NPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    write_nginx_conf "$WORK" "$NPORT"
    "$NGINX" -c "$WORK/nginx.conf" -p "$WORK" 2>"$WORK/nginx.err" & # daemon off: stays our child
    PIDS+=($!)
    for _ in $(seq 50); do [ -s "$WORK/nginx.pid" ] && break; sleep 0.1; done
    if [ -s "$WORK/nginx.pid" ]; then
        run_find nginx "http://127.0.0.1:$NPORT/" --slo 'latency.p99 < 100ms' --from 1000 --step-duration "$STEP"
    fi
fi
want over102 && start_target deep --service-time 20ms --workers 4 --queue 100000 && {
    "$SALVO" run "http://127.0.0.1:$PORT/" -r 100 -d 3s -q --allow-invalid # 300 holds: a truth worth 1.02x of
    T=$(truth "$PORT" 4)
    R=$(python3 -c "print(round(1.02 * $T, 1))")
    run_find over102 "http://127.0.0.1:$PORT/" --slo 'latency.p99 < 2s' --from "$R" --max "$R" --step-duration "$STEP"
    echo "    1.02 x truth ($T/s) = $R/s; truth after the step: $(truth "$PORT" 4)/s"
}
exit 0
