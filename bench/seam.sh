#!/usr/bin/env bash
# seam.sh — is the new engine as fast as the old one? Same nginx, same run.
#
#   BENCH_OLD=/path/to/old/salvo bash bench/seam.sh     (or bench/vs-wrk.sh with BENCH_OLD set)
#
# Runs the old binary (BENCH_OLD: the commit before a change) and the new
# one (SALVO_BIN, default build/salvo) alternately against one private nginx
# (1 worker, `return 200`), BENCH_ROUNDS (default 5, at least 5) times each;
# the order flips every round so a drift of the shared machine hits both
# alike. Each round is:
#   - closed model, 1 thread, 50 connections, BENCH_CLOSED (default 5s):
#     throughput (responses/s) and the worker's CPU per response (µs);
#   - open model, 1 thread, 5000/s, BENCH_OPEN (default 5s): send-lag p99.
# It prints the medians, new/old ratios with their goals (throughput and
# CPU per request within 0.95..1.05, send-lag p99 no worse), each run's
# figures, and how busy the machine was (the median share of the run the
# salvo thread waited for a CPU, and the machine's busy share): on a shared
# machine those say how far to trust the ratios. A report, not a test: it
# exits 0 whatever it measured. Loopback only; every run is bounded; it
# kills only the processes it started, by PID.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NEW=${SALVO_BIN:-$ROOT/build/salvo}
OLD=${BENCH_OLD:-}
case $NEW in /*) ;; *) NEW=$ROOT/$NEW ;; esac
case $OLD in /* | "") ;; *) OLD=$PWD/$OLD ;; esac
NGINX=${NGINX_BIN:-/usr/sbin/nginx}
ROUNDS=${BENCH_ROUNDS:-5}
CLOSED_D=${BENCH_CLOSED:-5s}
OPEN_D=${BENCH_OPEN:-5s}
[ "$ROUNDS" -ge 5 ] 2>/dev/null || ROUNDS=5

. "$(dirname "$0")/lib.sh"
bench_begin seam
[ -n "$OLD" ] || die "set BENCH_OLD to the old salvo binary (e.g. built in a worktree of the commit before)"
[ -x "$OLD" ] || die "no old salvo binary at '$OLD'"
[ -x "$NEW" ] || die "no new salvo binary at '$NEW' (run make first)"
[ -x "$NGINX" ] || die "no nginx at '$NGINX'"

PORT=$(free_port)
URL=http://127.0.0.1:$PORT/
write_nginx_conf "$WORK" "$PORT"
start_nginx "$PORT"

# one BIN WHICH KIND ARGS... — one bounded run; appends a line of figures to WORK/WHICH.KIND.
one() {
    local bin=$1 which=$2 kind=$3; shift 3
    local json=$WORK/run.json
    rm -f "$json"
    run_bounded 60 "$WORK/salvo.out" "$bin" run "$URL" "$@" -q --allow-invalid --progress off --json "$json"
    python3 - "$json" >>"$WORK/$which.$kind" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    g, r = d["generator"], d["requests"]
    done = r["ok"] + r["http_error"]
    cpu_s = g["cpu_pct"] / 100 * d["duration_s"]
    print("%.1f %.3f %d %.1f %.1f %d" % (done / d["duration_s"], 1e6 * cpu_s / max(done, 1),
          g["send_lag_us"]["p99"], g.get("runq_wait_pct_max_thread", 0),
          g.get("machine_cpu", {}).get("busy_pct", 0), r["failed"] + r["timeout"]))
except Exception as e:
    print("nan nan nan nan nan nan")
PY
}

round() {
    local which=$1 bin=$2
    one "$bin" "$which" closed --closed -c 50 -t 1 -d "$CLOSED_D"
    one "$bin" "$which" open -r 5000 -t 1 -d "$OPEN_D"
}

echo "seam: old $OLD vs new $NEW on $URL, $ROUNDS rounds ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
for ((k = 1; k <= ROUNDS; k++)); do
    echo "  round $k/$ROUNDS" >&2
    if ((k % 2)); then round old "$OLD"; round new "$NEW"; else round new "$NEW"; round old "$OLD"; fi
done

python3 - "$WORK" "$ROUNDS" <<'PY'
import statistics as st, sys
work, rounds = sys.argv[1], int(sys.argv[2])

def load(which, kind):
    rows = []
    for line in open("%s/%s.%s" % (work, which, kind)):
        rows.append([float(x) for x in line.split()])
    return rows

def col(rows, i):
    v = [r[i] for r in rows if r[i] == r[i]]
    return v

def med(v):
    return st.median(v) if v else float("nan")

oc, nc, oo, no = load("old", "closed"), load("new", "closed"), load("old", "open"), load("new", "open")
rows = []
def row(name, o, n, goal, ok):
    ratio = n / o if o else float("nan")
    rows.append("%-40s %10.2f %10.2f %7.3f  %-14s %s" % (name, o, n, ratio, goal, ("PASS" if ok(ratio, o, n) else "MISS")))

row("closed responses/s (median)", med(col(oc, 0)), med(col(nc, 0)), "0.95..1.05+", lambda r, o, n: r >= 0.95)
row("closed CPU us per response (median)", med(col(oc, 1)), med(col(nc, 1)), "<= 1.05", lambda r, o, n: r <= 1.05)
row("open 5000/s send-lag p99 us (median)", med(col(oo, 2)), med(col(no, 2)), "no worse",
    lambda r, o, n: n <= o or n - o <= 2)
print()
print("%-40s %10s %10s %7s  %-14s %s" % ("measure", "old", "new", "ratio", "goal", "result"))
print("\n".join(rows))
print()
print("each run (closed: resp/s, CPU us/resp; open: lag p99 us; lost = failed + timeout):")
for which, c, o in (("old", oc, oo), ("new", nc, no)):
    print("  %s closed %s" % (which, "  ".join("%.0f/%.2f" % (r[0], r[1]) for r in c)))
    print("  %s open   %s" % (which, "  ".join("%d" % r[2] for r in o)))
    print("  %s lost   %d" % (which, sum(r[5] for r in c + o)))
allr = oc + nc + oo + no
print("noise: median run-queue wait of the salvo thread %.0f%% of the run (max %.0f%%), machine busy %.0f%%"
      % (med(col(allr, 3)), max(col(allr, 3) or [0]), med(col(allr, 4))))
print("       closed resp/s spread old %.0f..%.0f, new %.0f..%.0f" % (min(col(oc, 0)), max(col(oc, 0)),
      min(col(nc, 0)), max(col(nc, 0))))
PY
exit 0
