# lib.sh — what the bench scripts share, sourced after they set SALVO and
# NGINX: a private work directory, the processes they start (killed at
# exit, by PID), free ports, bounded waits, the nginx test peer, and the
# small JSON/arithmetic helpers their tables use.
#
# bench_begin NAME [DIE_RC] — makes WORK (/tmp/salvo-NAME.XXXXXX), removed at
# exit with every process in PIDS (TERM, then KILL after 5 s) and CHILD_PID
# (KILL). die() prints "NAME: ..." and exits DIE_RC: 0 by default, since a
# benchmark that cannot run on this machine is not a failed one.
. "$(dirname "${BASH_SOURCE[0]}")/nginx.sh"

bench_begin() {
    BENCH_NAME=$1
    BENCH_DIE_RC=${2:-0}
    WORK=$(mktemp -d "/tmp/salvo-$1.XXXXXX")
    PIDS=()
    CHILD_PID=
    NGINX_PID=
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

bench_cleanup() {
    local pid
    [ -n "$CHILD_PID" ] && kill -KILL "$CHILD_PID" 2>/dev/null
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}

die() { echo "$BENCH_NAME: $*" >&2; exit "$BENCH_DIE_RC"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_port PORT — bounded wait (10 s) until something accepts on 127.0.0.1:PORT.
wait_port() {
    for _ in $(seq 100); do
        python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2).close()' "$1" \
            2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# start_nginx PORT — runs nginx on WORK/nginx.conf (write_nginx_conf, then
# any edits), records its PID in NGINX_PID and PIDS, and waits until it
# accepts on PORT; dies with nginx's own words when it does not.
start_nginx() {
    "$NGINX" -p "$WORK/" -c "$WORK/nginx.conf" -e "$WORK/error.log" </dev/null >"$WORK/nginx.out" 2>&1 &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    wait_port "$1" || die "nginx did not start: $(cat "$WORK/nginx.out" "$WORK/error.log" 2>/dev/null)"
}

# jget FILE EXPR — evaluates a Python expression over the results JSON `d`.
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null || echo nan; }
# calc EXPR — floating-point arithmetic ("nan" if anything is missing).
calc() { python3 -c 'import sys
try: print(eval(sys.argv[1]))
except Exception: print("nan")' "$1"; }


# reap_bounded LIMIT — waits up to LIMIT s for CHILD_PID to exit, then SIGKILLs it.
reap_bounded() {
    local i
    for ((i = 0; i < $1 * 10; i++)); do
        kill -0 "$CHILD_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$CHILD_PID" 2>/dev/null
    wait "$CHILD_PID" 2>/dev/null
    CHILD_PID=
}

# run_bounded LIMIT OUTFILE CMD... — runs CMD in the background (its PID in
# CHILD_PID while it runs) and SIGKILLs it if it is still there after LIMIT s.
run_bounded() {
    local limit=$1 out=$2; shift 2
    "$@" </dev/null >"$out" 2>&1 &
    CHILD_PID=$!
    reap_bounded "$limit"
}
