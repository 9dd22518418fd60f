#!/usr/bin/env bash
# evidence.sh — what `--scrape` (200 series) and `--remote-write` cost the
# load (issue 16, "Speed and memory").
#
# Starts its own nginx (bench/lib.sh), a scrape endpoint serving 200 series
# (100 gauges, 100 counters that move every scrape; Python stdlib) and a
# remote-write sink (Python stdlib: reads the POST, answers 204; a real
# Prometheus would only add its own CPU to this shared machine), all on free
# loopback ports. Then PAIRS (default 5) pairs of open-model runs at RATE/s
# (default 20000) for DURATION (default 10m), alternating without and with
# `--scrape URL --remote-write URL` (which goes first alternates too), and
# prints: the median over the runs of each side of the send-lag p99, their
# ratio and difference against the goal max(10 %, 20 µs) of the plain side;
# the median max RSS of each side and the difference against the stated
# budget: the scrape's 8 B per series and planned second (docs/evidence.md)
# plus 300 B of key and state per series, plus remote write's 184 KB latency
# histogram per name and its 120-snapshot queue (docs/remote-write.md), plus
# 1 MB of slack (threads' stacks, TLS-free client buffers).
# It is a report, not a test: it exits 0 whatever it measured. Loopback only;
# every wait is bounded; it kills only the processes it started, by PID.
#   RATE=20000 DURATION=30s PAIRS=3 THREADS=1 bench/evidence.sh
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SALVO=${SALVO_BIN:-$ROOT/build/salvo}
case $SALVO in /*) ;; *) SALVO=$ROOT/$SALVO ;; esac
NGINX=${NGINX_BIN:-/usr/sbin/nginx}
RATE=${RATE:-20000}
DURATION=${DURATION:-10m}
PAIRS=${PAIRS:-5}
THREADS=${THREADS:-1}
SERIES=200

. "$(dirname "$0")/lib.sh"
bench_begin evidence
[ -x "$SALVO" ] || die "no salvo binary at $SALVO (run make first)"
[ -x "$NGINX" ] || die "no nginx at $NGINX"
DUR_S=$("$SALVO" --version >/dev/null 2>&1; python3 -c 'import re,sys
m=re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)?",sys.argv[1]) or sys.exit("bad DURATION "+sys.argv[1])
print(float(m[1])*{"ms":0.001,"s":1,"m":60,"h":3600,None:1}[m[2]])' "$DURATION") || die "bad DURATION '$DURATION'"

NGINX_PORT=$(free_port)
write_nginx_conf "$WORK" "$NGINX_PORT"
start_nginx "$NGINX_PORT"

# The scrape endpoint and the remote-write sink, one Python process each.
METRICS_PORT=$(free_port)
SINK_PORT=$(free_port)
cat >"$WORK/side.py" <<'PY'
import http.server, sys, threading, time
mode, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
hits = [0]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        hits[0] += 1
        t = time.time()
        out = []
        for i in range(n // 2):
            out.append("# TYPE bench_gauge_%d gauge\nbench_gauge_%d{shard=\"%d\"} %.3f\n" % (i, i, i % 7, (t * (i + 1)) % 1000))
        for i in range(n - n // 2):
            out.append("# TYPE bench_total_%d counter\nbench_total_%d{shard=\"%d\"} %d\n" % (i, i, i % 7, hits[0] * (i + 1)))
        body = "".join(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
python3 "$WORK/side.py" metrics "$METRICS_PORT" "$SERIES" </dev/null >"$WORK/metrics.out" 2>&1 &
PIDS+=($!)
python3 "$WORK/side.py" sink "$SINK_PORT" 0 </dev/null >"$WORK/sink.out" 2>&1 &
PIDS+=($!)
wait_port "$METRICS_PORT" || die "the scrape endpoint did not start: $(cat "$WORK/metrics.out")"
wait_port "$SINK_PORT" || die "the remote-write sink did not start: $(cat "$WORK/sink.out")"
GOT=$(curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | grep -vc '^#')
[ "$GOT" = "$SERIES" ] || die "the scrape endpoint serves $GOT series, not $SERIES"

EXTRA=(--scrape "http://127.0.0.1:$METRICS_PORT/metrics" --remote-write "http://127.0.0.1:$SINK_PORT/api/v1/write")
LIMIT=$(calc "int($DUR_S + 60)")
# one SIDE I — one run; SIDE is plain or evidence; appends "lag_p99_us rss_kb" to WORK/SIDE.txt.
one() {
    local side=$1 json=$WORK/$1-$2.json args=()
    [ "$side" = evidence ] && args=("${EXTRA[@]}")
    run_bounded "$LIMIT" "$WORK/$side-$2.out" "$SALVO" run "http://127.0.0.1:$NGINX_PORT/" -r "$RATE" -d "$DURATION" \
        -t "$THREADS" -q --progress off --allow-invalid --json "$json" "${args[@]}"
    local v
    v=$(jget "$json" '"%s %s %s" % (d["generator"]["send_lag_us"]["p99"], d["generator"]["max_rss_kb"], "%s/%s" % (len(d["scrape"]["series"]), d["remote_write"]["failed"]) if "scrape" in d else "-")')
    echo "$v" >>"$WORK/$side.txt"
    echo "  $side run $2: send-lag p99 / max RSS KB / series kept/failed pushes: $v" >&2
}
echo "evidence overhead: $PAIRS pairs at $RATE/s for $DURATION, $THREADS thread(s), $SERIES series ($(nproc) cores)" >&2
for ((i = 1; i <= PAIRS; i++)); do
    if ((i % 2)); then one plain "$i"; one evidence "$i"; else one evidence "$i"; one plain "$i"; fi
done

python3 - "$WORK" "$DUR_S" "$SERIES" <<'PY'
import statistics, sys
work, dur, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
def side(name):
    rows = []
    for line in open("%s/%s.txt" % (work, name)):
        f = line.split()
        try: rows.append((float(f[0]), float(f[1]), f[2]))
        except (ValueError, IndexError): pass
    return rows
p, e = side("plain"), side("evidence")
if not p or not e:
    print("no usable runs (plain %d, evidence %d)" % (len(p), len(e))); sys.exit(0)
lp, le = statistics.median(r[0] for r in p), statistics.median(r[0] for r in e)
rp, re_ = statistics.median(r[1] for r in p), statistics.median(r[1] for r in e)
goal = max(0.10 * lp, 20.0)
planned = dur + 2 + 16  # --timeout default 2 s, + 16 s of margin (docs/evidence.md)
budget_kb = (n * planned * 8 + n * 300 + 184 * 1024 + 120 * 8 * (n + 64) + 1024 * 1024) / 1024
print("%-34s %12s %12s %10s  %-22s %s" % ("measure (median of runs)", "plain", "+evidence", "ratio", "goal", "verdict"))
print("%-34s %12.0f %12.0f %10.2f  %-22s %s" % ("send-lag p99 us", lp, le, le / lp if lp else float("nan"),
      "diff %.0f <= %.0f" % (le - lp, goal), "PASS" if le - lp <= goal else "MISS"))
print("%-34s %12.0f %12.0f %10.2f  %-22s %s" % ("max RSS KB", rp, re_, re_ / rp if rp else float("nan"),
      "diff %.0f <= %.0f" % (re_ - rp, budget_kb), "PASS" if re_ - rp <= budget_kb else "MISS"))
print("runs: plain %d, evidence %d; series kept/failed pushes per evidence run: %s" % (len(p), len(e), ",".join(r[2] for r in e)))
PY
exit 0
