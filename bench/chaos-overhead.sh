#!/usr/bin/env bash
# chaos-overhead.sh — what `salvo chaos` costs when it injects nothing.
#
# Starts its own nginx (1 worker, access_log off, `return 200`) and a
# `salvo chaos` proxy without toxics in front of it, both on free loopback
# ports, and prints one table measured in this run on this machine:
#   1. closed-model throughput (50 connections, 1 salvo thread, 5 s) through
#      the proxy vs direct, as a ratio (goal: >= 0.7);
#   2. p50/p99 latency of open-model runs at a quarter and at half the
#      slower closed rate (capped at 20000/s, 5 s), through the proxy vs
#      direct (near half load a hiccup can make the open model open many
#      connections, each of which costs the proxy an accept and a connect);
#   3. the closed rate through bench/floor-forwarder.c, the least an epoll
#      proxy can do (one read, one write per chunk): salvo chaos against it
#      says what salvo itself costs, the floor against direct what the
#      kernel's second TCP hop costs on this machine;
#   4. the closed rate against the demo routing service (`salvo target
#      --cache 0`, random trips: milliseconds of A* per request), direct and
#      through a second proxy: the overhead a real service sees;
#   5. the same two through toxiproxy when `toxiproxy-server` is on PATH
#      (goal: salvo chaos costs less than toxiproxy).
# It is a report, not a test: it exits 0 whatever it measured. Loopback only;
# every wait is bounded; it kills only the processes it started, by PID.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SALVO=${SALVO_BIN:-$ROOT/build/salvo}
case $SALVO in /*) ;; *) SALVO=$ROOT/$SALVO ;; esac
NGINX=${NGINX_BIN:-/usr/sbin/nginx}
DURATION=${BENCH_DURATION:-5s}

. "$(dirname "$0")/lib.sh"
bench_begin chaos-overhead
fmt() { python3 -c 'import sys
try: print("%.2f" % float(sys.argv[1]))
except Exception: print(sys.argv[1])' "$1"; }
verdict() { python3 -c 'import sys
try: print("PASS" if eval(sys.argv[1]) else "MISS")
except Exception: print("n/a")' "$1"; }

[ -x "$SALVO" ] || die "no salvo binary at $SALVO (run make first)"
[ -x "$NGINX" ] || die "no nginx at $NGINX"

# ---------------------------------------------------------------- servers
NGINX_PORT=$(free_port)
write_nginx_conf "$WORK" "$NGINX_PORT"
start_nginx "$NGINX_PORT"

CHAOS_PORT=$(free_port)
"$SALVO" chaos --listen "127.0.0.1:$CHAOS_PORT" --upstream "127.0.0.1:$NGINX_PORT" --api off \
    </dev/null >"$WORK/chaos.out" 2>&1 &
PIDS+=($!)
wait_port "$CHAOS_PORT" || die "salvo chaos did not start: $(cat "$WORK/chaos.out")"

FLOOR_PORT=
if cc -std=gnu11 -O2 -o "$WORK/floor-forwarder" "$ROOT/bench/floor-forwarder.c" 2>"$WORK/floor.out"; then
    FLOOR_PORT=$(free_port)
    "$WORK/floor-forwarder" "$FLOOR_PORT" "$NGINX_PORT" </dev/null >>"$WORK/floor.out" 2>&1 &
    PIDS+=($!)
    wait_port "$FLOOR_PORT" || FLOOR_PORT=
fi

TOXI_PORT=
if command -v toxiproxy-server >/dev/null; then
    TOXI_API=$(free_port)
    TOXI_PORT=$(free_port)
    toxiproxy-server -host 127.0.0.1 -port "$TOXI_API" </dev/null >"$WORK/toxiproxy.out" 2>&1 &
    PIDS+=($!)
    if wait_port "$TOXI_API"; then
        python3 -c 'import json,sys,urllib.request as u
r=u.Request("http://127.0.0.1:%s/proxies"%sys.argv[1],data=json.dumps({"name":"bench","listen":"127.0.0.1:"+sys.argv[2],"upstream":"127.0.0.1:"+sys.argv[3]}).encode(),method="POST")
u.urlopen(r,timeout=5).read()' "$TOXI_API" "$TOXI_PORT" "$NGINX_PORT" 2>/dev/null && wait_port "$TOXI_PORT" || TOXI_PORT=
    else
        TOXI_PORT=
    fi
fi

# salvo_run URL JSONFILE ARGS... — one salvo run, bounded by `timeout`.
salvo_run() {
    local url=$1 json=$2; shift 2
    rm -f "$json"
    timeout -k 5 120 "$SALVO" run "$url" "$@" -q --progress off --allow-invalid --json "$json" </dev/null \
        >"$WORK/salvo.out" 2>&1
    [ -s "$json" ] || { echo "  (salvo run wrote no JSON: $(tail -n 2 "$WORK/salvo.out"))" >&2; echo '{}' >"$json"; }
}
closed_rps() {
    salvo_run "$1" "$WORK/closed.json" --closed -c 50 -t 1 -d "$DURATION"
    jget "$WORK/closed.json" '(d["requests"]["ok"]+d["requests"]["http_error"])/d["duration_s"]'
}
# open_p50_p99 URL RATE — "p50 p99" of an open-model run, in µs.
open_p50_p99() {
    salvo_run "$1" "$WORK/open.json" -r "$2" -t 1 -d "$DURATION"
    jget "$WORK/open.json" '"%s %s" % (d["latency_us"]["p50"], d["latency_us"]["p99"])'
}

echo "salvo chaos overhead ($(nproc) cores; $("$SALVO" --version 2>/dev/null | head -n 1))" >&2
DIRECT=http://127.0.0.1:$NGINX_PORT/
PROXY=http://127.0.0.1:$CHAOS_PORT/

echo "1/2 closed-model throughput, direct and through the proxy..." >&2
D_RPS=$(closed_rps "$DIRECT")
P_RPS=$(closed_rps "$PROXY")
RATE=$(calc "min(20000, max(100, int(min($D_RPS, $P_RPS)/2)))")
LOW=$(calc "max(100, int($RATE/2))")
echo "2/2 open-model p99 at $LOW/s and $RATE/s, direct and through the proxy..." >&2
read -r D_P50 D_P99 <<<"$(open_p50_p99 "$DIRECT" "$RATE")"
read -r P_P50 P_P99 <<<"$(open_p50_p99 "$PROXY" "$RATE")"
read -r DL_P50 DL_P99 <<<"$(open_p50_p99 "$DIRECT" "$LOW")"
read -r PL_P50 PL_P99 <<<"$(open_p50_p99 "$PROXY" "$LOW")"

R1=$(calc "$P_RPS/$D_RPS")
printf '%-46s %12s %12s %8s  %-8s %s\n' "measure" "via proxy" "direct" "ratio" "goal" "verdict"
printf '%-46s %12s %12s %8s  %-8s %s\n' "closed req/s, 50 conns, 1 thread" "$(fmt "$P_RPS")" "$(fmt "$D_RPS")" \
    "$(fmt "$R1")" ">= 0.7" "$(verdict "$R1 >= 0.7")"
printf '%-46s %12s %12s %8s  %-8s %s\n' "open p50 us at $LOW/s (quarter load)" "$(fmt "$PL_P50")" "$(fmt "$DL_P50")" \
    "$(fmt "$(calc "$PL_P50/$DL_P50")")" "-" "-"
printf '%-46s %12s %12s %8s  %-8s %s\n' "open p99 us at $LOW/s (quarter load)" "$(fmt "$PL_P99")" "$(fmt "$DL_P99")" \
    "$(fmt "$(calc "$PL_P99/$DL_P99")")" "-" "-"
printf '%-46s %12s %12s %8s  %-8s %s\n' "open p50 us at $RATE/s" "$(fmt "$P_P50")" "$(fmt "$D_P50")" \
    "$(fmt "$(calc "$P_P50/$D_P50")")" "-" "-"
printf '%-46s %12s %12s %8s  %-8s %s\n' "open p99 us at $RATE/s" "$(fmt "$P_P99")" "$(fmt "$D_P99")" \
    "$(fmt "$(calc "$P_P99/$D_P99")")" "-" "-"
if [ -n "$FLOOR_PORT" ]; then
    F_RPS=$(closed_rps "http://127.0.0.1:$FLOOR_PORT/")
    printf '%-46s %12s %12s %8s  %-8s %s\n' "closed req/s: bare forwarder (floor) vs direct" "$(fmt "$F_RPS")" "$(fmt "$D_RPS")" \
        "$(fmt "$(calc "$F_RPS/$D_RPS")")" "-" "-"
    printf '%-46s %12s %12s %8s  %-8s %s\n' "closed req/s: salvo chaos vs bare forwarder" "$(fmt "$P_RPS")" "$(fmt "$F_RPS")" \
        "$(fmt "$(calc "$P_RPS/$F_RPS")")" "-" "-"
else
    echo "(could not build bench/floor-forwarder.c: $(head -n 1 "$WORK/floor.out"))"
fi
TARGET_PORT=$(free_port)
ROUTE_PORT=$(free_port)
"$SALVO" target --listen "127.0.0.1:$TARGET_PORT" --cache 0 --workers 1 </dev/null >"$WORK/target.out" 2>&1 &
PIDS+=($!)
"$SALVO" chaos --listen "127.0.0.1:$ROUTE_PORT" --upstream "127.0.0.1:$TARGET_PORT" --api off \
    </dev/null >"$WORK/chaos2.out" 2>&1 &
PIDS+=($!)
if "$SALVO" target --gen-trips 20000 --out "$WORK/trips.csv" >/dev/null 2>&1 && wait_port "$TARGET_PORT" &&
    wait_port "$ROUTE_PORT"; then
    route_rps() {
        salvo_run "http://127.0.0.1:$1/api/route?from={from_lat},{from_lng}&to={to_lat},{to_lng}" "$WORK/route.json" \
            --data "$WORK/trips.csv" --closed -c 16 -t 1 -d "$DURATION"
        jget "$WORK/route.json" '(d["requests"]["ok"]+d["requests"]["http_error"])/d["duration_s"]'
    }
    RD_RPS=$(route_rps "$TARGET_PORT")
    RP_RPS=$(route_rps "$ROUTE_PORT")
    printf '%-46s %12s %12s %8s  %-8s %s\n' "closed req/s, routing service (uncached A*)" "$(fmt "$RP_RPS")" \
        "$(fmt "$RD_RPS")" "$(fmt "$(calc "$RP_RPS/$RD_RPS")")" ">= 0.7" "$(verdict "$RP_RPS/$RD_RPS >= 0.7")"
else
    echo "(salvo target did not start: no routing-service row)"
fi
if [ -n "$TOXI_PORT" ]; then
    TOXI=http://127.0.0.1:$TOXI_PORT/
    T_RPS=$(closed_rps "$TOXI")
    read -r _ T_P99 <<<"$(open_p50_p99 "$TOXI" "$RATE")"
    printf '%-46s %12s %12s %8s  %-8s %s\n' "closed req/s: salvo chaos vs toxiproxy" "$(fmt "$P_RPS")" "$(fmt "$T_RPS")" \
        "$(fmt "$(calc "$P_RPS/$T_RPS")")" ">= 1.0" "$(verdict "$P_RPS >= $T_RPS")"
    printf '%-46s %12s %12s %8s  %-8s %s\n' "open p99 us: salvo chaos vs toxiproxy" "$(fmt "$P_P99")" "$(fmt "$T_P99")" \
        "$(fmt "$(calc "$P_P99/$T_P99")")" "<= 1.0" "$(verdict "$P_P99 <= $T_P99")"
else
    echo "(toxiproxy-server is not on PATH: no comparison with toxiproxy)"
fi
exit 0
