#!/bin/bash
# compare.sh — how often `salvo compare` is right, and how fast it is.
#
# 1. PAIRS pairs of runs against two identical servers (2 ms hold): how many
#    give "no significant change" overall (goal: at least 9 of 10).
# 2. PAIRS pairs, 2 ms against 2.4 ms: how many say latency.p50 and
#    latency.p99 "regressed" (goal: at least 9 of 10).
# 3. The time of `salvo compare` on two synthesized 10-minute results (one
#    name, and ten names), made by repeating the seconds of real runs
#    (goal: under 1 s).
#
# The servers are the e2e test's (tests/e2e/test_compare.py): Python, an
# absolute-deadline hold, every 25th request 10x longer so that p99 is the
# service's and not the machine's scheduling noise. The two runs of a pair
# run at the same time, so both see the same machine.
#
# Usage: bench/compare.sh   (PAIRS=10 DURATION=10 RATE=250 BUILD=build SALVO_OLD=)
# Everything goes to 127.0.0.1; every process started here is stopped by PID.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SALVO=$PWD/$BUILD/salvo
PAIRS=${PAIRS:-10}
DURATION=${DURATION:-10}
RATE=${RATE:-250}
WORK=$(mktemp -d /tmp/salvo-bench-compare.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

python3 - "$WORK/server.py" <<'EOF'
import re, sys
src = open("tests/e2e/test_compare.py").read()
server = re.search(r"SERVER = r'''(.*?)'''", src, re.S).group(1)
open(sys.argv[1], "w").write(server)
EOF

start_server() { # port hold_ms
    python3 "$WORK/server.py" "$1" "$2" 25 10 &
    PIDS+=($!)
    for _ in $(seq 50); do
        (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "server on $1 did not start" >&2
    exit 1
}

FAST=18931
SLOW=18932
TWIN=18933 # a second 2 ms server: two runs at once against one would collide (same schedule, one GIL)
start_server $FAST 2
start_server $SLOW 2.4
start_server $TWIN 2

run_pair() { # port_a port_b out_a out_b
    "$SALVO" run "http://127.0.0.1:$1/item" -r "$RATE" -d "${DURATION}s" -t 1 -q --allow-invalid --json "$3" &
    local a=$!
    "$SALVO" run "http://127.0.0.1:$2/item" -r "$RATE" -d "${DURATION}s" -t 1 -q --allow-invalid --json "$4" &
    local b=$!
    wait $a $b
}

verdict_of() { # comparison.json figure|overall
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
if sys.argv[2] == "overall":
    moved = [r["figure"] for r in d["figures"] if r["name"] is None and r["verdict"] in ("regressed", "improved")]
    print(d["verdict"] + (" (%s)" % ", ".join(moved) if moved else ""))
else:
    print(next(r["verdict"] for r in d["figures"] if r["figure"] == sys.argv[2] and r["name"] is None))
' "$1" "$2"
}

same_ok=0
slow_ok=0
for i in $(seq "$PAIRS"); do
    run_pair $FAST $TWIN "$WORK/a.json" "$WORK/b.json"
    "$SALVO" compare "$WORK/a.json" "$WORK/b.json" -q --allow-invalid --json "$WORK/same.json" 2>/dev/null
    v=$(verdict_of "$WORK/same.json" overall)
    [ "$v" = "no significant change" ] && same_ok=$((same_ok + 1))
    echo "pair $i, same server: $v"
    run_pair $FAST $SLOW "$WORK/a.json" "$WORK/b.json"
    "$SALVO" compare "$WORK/a.json" "$WORK/b.json" --allow-invalid --json "$WORK/slow.json" >"$WORK/slow-$i.txt" 2>/dev/null
    p50=$(verdict_of "$WORK/slow.json" latency.p50)
    p99=$(verdict_of "$WORK/slow.json" latency.p99)
    [ "$p50" = regressed ] && [ "$p99" = regressed ] && slow_ok=$((slow_ok + 1))
    echo "pair $i, 2 ms vs 2.4 ms: p50 $p50, p99 $p99"
    [ "$p99" = regressed ] || grep -E "^latency" "$WORK/slow-$i.txt"
done
echo "same server: no significant change in $same_ok of $PAIRS pairs"
echo "2 ms vs 2.4 ms: p50 and p99 regressed in $slow_ok of $PAIRS pairs"

# Two 10-minute results, synthesized from the last pair's seconds.
python3 - "$WORK" <<'EOF'
import copy, json, sys
w = sys.argv[1]
for name, src in (("base", "a.json"), ("cand", "b.json")):
    d = json.load(open("%s/%s" % (w, src)))
    rows = [r for r in d["timeline"] if r["done"] > 0]
    tl = []
    for i in range(600):
        r = copy.deepcopy(rows[i % len(rows)])
        r["t"] = i
        tl.append(r)
    d["timeline"] = tl
    d["duration_s"] = 600
    d["config"]["duration_s"] = 600.0
    d["config"]["url"] = "http://127.0.0.1:1/item"
    json.dump(d, open("%s/%s1.json" % (w, name), "w"), indent=2)
    g0 = list(d["groups"].values())[0]
    d["groups"] = {}
    for k in range(10):
        g = copy.deepcopy(g0)
        g["timeline_hdr_latency_us"] = [r["hdr_latency_us"] for r in tl]
        d["groups"]["/n%d" % k] = g
    json.dump(d, open("%s/%s10.json" % (w, name), "w"), indent=2)
EOF
# Each timed 3 times (the best is the machine's noise removed); with
# SALVO_OLD=path/to/an/older/salvo the same files are timed with it too,
# for a before/after in one run.
time_compare() { # binary label n
    local best=
    for _ in 1 2 3; do
        /usr/bin/time -f "%e %U %M" -o "$WORK/time" "$1" compare "$WORK/base$3.json" "$WORK/cand$3.json" -q \
            --allow-invalid --json "$WORK/cmp$3.json" 2>/dev/null
        read -r wall user rss <"$WORK/time"
        if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best=$wall
            best_user=$user
            best_rss=$rss
        fi
    done
    full=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("resamples_full_way", "-"))' \
        "$WORK/cmp$3.json" 2>/dev/null)
    echo "  $2: compare took $best s (user $best_user s), max RSS $best_rss KB, resamples the full way: $full"
}
for n in 1 10; do
    ls -l "$WORK/base$n.json" | awk -v n=$n '{printf "10-minute result, %d name(s): %.1f MB (goal: compare under 1 s)\n", n, $5 / 1e6}'
    time_compare "$SALVO" "this salvo" $n
    [ -n "${SALVO_OLD:-}" ] && time_compare "$SALVO_OLD" "SALVO_OLD" $n
done
