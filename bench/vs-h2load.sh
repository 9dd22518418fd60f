#!/usr/bin/env bash
# vs-h2load.sh — salvo against h2load on the same h2c server (issue 13's speed goal).
#
#   bash bench/vs-h2load.sh     (PAIRS=5 DURATION=5 SALVO_BIN NGINX_BIN H2LOAD_BIN override)
#
# A private nginx (1 worker, `listen … http2` without TLS: h2c, `return 200`)
# and, in PAIRS alternating rounds, h2load `-t1 -c50 -m10 -D DURATION` then
# salvo `--h2c --closed -c 50 --streams 10 -t 1 -d DURATION`. For each it
# records requests/s and the CPU (user + system, from the process's rusage)
# per request; the medians' ratios are printed against the goals (throughput
# ≥ 1.0, CPU per request ≤ 1.0). Then an open-model salvo run at half
# salvo's closed rate: valid, and latency p50 ≤ 1.2× its service-time p50.
# A report, not a test: it exits 0 whatever it measured. Loopback only;
# every run is bounded; it kills only the processes it started, by PID.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SALVO=${SALVO_BIN:-$ROOT/build/salvo}
case $SALVO in /*) ;; *) SALVO=$ROOT/$SALVO ;; esac
NGINX=${NGINX_BIN:-/usr/sbin/nginx}
H2LOAD=${H2LOAD_BIN:-$(command -v h2load)}
PAIRS=${PAIRS:-5}
DURATION=${DURATION:-5}

. "$(dirname "$0")/lib.sh"
bench_begin vs-h2load
[ -x "$SALVO" ] || die "no salvo binary at '$SALVO' (run make first)"
[ -x "$NGINX" ] || die "no nginx at '$NGINX'"
[ -n "$H2LOAD" ] && [ -x "$H2LOAD" ] || die "no h2load (scripts/install-deps.sh installs nghttp2-client)"

PORT=$(free_port)
URL=http://127.0.0.1:$PORT/
write_nginx_conf "$WORK" "$PORT"
sed -i -e "s|listen 127.0.0.1:$PORT backlog=4096;|listen 127.0.0.1:$PORT backlog=4096 http2;|" "$WORK/nginx.conf"
start_nginx "$PORT"

# timed OUT CMD... — runs CMD bounded (DURATION + 30 s), stdout+stderr to OUT;
# prints the CPU seconds (user + system) it used.
timed() {
    python3 - "$((DURATION + 30))" "$@" <<'PY'
import os, resource, subprocess, sys
limit, out, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
with open(out, "w") as f:
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)
    try:
        p.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f" % (ru.ru_utime + ru.ru_stime))
PY
}

: >"$WORK/h2load.txt"
: >"$WORK/salvo.txt"
for i in $(seq "$PAIRS"); do
    cpu=$(timed "$WORK/h2load.out" "$H2LOAD" -t1 -c50 -m10 -D "$DURATION" "$URL")
    line=$(grep -E '^requests:' "$WORK/h2load.out")
    ok=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) succeeded.*/\1/')
    echo "$ok $cpu" >>"$WORK/h2load.txt"
    rm -f "$WORK/s.json"
    cpu=$(timed "$WORK/salvo.out" "$SALVO" run "$URL" --h2c --closed -c 50 --streams 10 -t 1 -d "${DURATION}s" \
        -q --allow-invalid --progress off --json "$WORK/s.json")
    ok=$(jget "$WORK/s.json" 'd["requests"]["ok"]')
    echo "$ok $cpu" >>"$WORK/salvo.txt"
    echo "round $i: h2load $(tail -n 1 "$WORK/h2load.txt"), salvo $(tail -n 1 "$WORK/salvo.txt") (requests, CPU s)" >&2
done

python3 - "$WORK/h2load.txt" "$WORK/salvo.txt" "$DURATION" <<'PY'
import statistics, sys
def load(p):
    rows = [l.split() for l in open(p) if l.strip()]
    rows = [(float(a), float(b)) for a, b in rows if a not in ("nan", "") and float(a) > 0]
    return rows
d = float(sys.argv[3])
h, s = load(sys.argv[1]), load(sys.argv[2])
if not h or not s:
    print("vs-h2load: no usable rounds"); sys.exit(0)
hr = statistics.median(r / d for r, _ in h); sr = statistics.median(r / d for r, _ in s)
hc = statistics.median(c / r * 1e6 for r, c in h); sc = statistics.median(c / r * 1e6 for r, c in s)
print("%-34s %12s %12s %8s %8s %6s" % ("h2c, 1 thread, 50 conns x 10 streams", "h2load", "salvo", "ratio", "goal", ""))
print("%-34s %12.0f %12.0f %8.2f %8s %6s" % ("requests/s (median)", hr, sr, sr / hr, ">= 1.0", "PASS" if sr >= hr else "MISS"))
print("%-34s %12.2f %12.2f %8.2f %8s %6s" % ("CPU us per request (median)", hc, sc, sc / hc, "<= 1.0", "PASS" if sc <= hc else "MISS"))
print("%d rounds of %g s each" % (min(len(h), len(s)), d))
open(sys.argv[2] + ".rate", "w").write("%.0f" % sr)
PY

RATE=$(( $(cat "$WORK/salvo.txt.rate" 2>/dev/null || echo 2000) / 2 ))
rm -f "$WORK/o.json"
timed "$WORK/open.out" "$SALVO" run "$URL" --h2c -r "$RATE" -c 50 -t 1 -d "${DURATION}s" -q --allow-invalid \
    --progress off --json "$WORK/o.json" >/dev/null
python3 - "$WORK/o.json" "$RATE" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("open model: no result (%s)" % e); sys.exit(0)
lat, svc = d["latency_us"]["p50"], d["service_time_us"]["p50"]
ratio = lat / svc if svc else float("nan")
print("open model at %s/s: valid %s; latency p50 %s us, service-time p50 %s us, ratio %.2f (goal <= 1.2: %s)"
      % (sys.argv[2], d.get("valid"), lat, svc, ratio, "PASS" if d.get("valid") and ratio <= 1.2 else "MISS"))
PY
exit 0
