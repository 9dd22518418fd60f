#!/usr/bin/env bash
# h2.sh — requests lost across GOAWAYs: h2load beside salvo, same server.
#
#   bash bench/h2.sh            (SALVO_BIN, NGINX_BIN, H2LOAD_BIN override the binaries)
#
# A private nginx (1 worker, TLS, http2, `return 200`) with
# keepalive_requests 300 ends each connection with a GOAWAY after 300
# requests. h2load (`-c 4 -m 10 -n BENCH_N`, default 6000) and salvo
# (the same 4 connections × 10 streams in its closed model for 2 s, then
# an open-model run at 2000/s for 3 s with up to 4 connections) run
# against it; the script prints, for each, how many
# requests were asked for, how many succeeded and how many were lost
# (failed, errored or not done). A report, not a test: it exits 0 whatever
# it measured. Loopback only; every run is bounded; it kills only the
# processes it started, by PID.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SALVO=${SALVO_BIN:-$ROOT/build/salvo}
NGINX=${NGINX_BIN:-/usr/sbin/nginx}
H2LOAD=${H2LOAD_BIN:-$(command -v h2load)}
N=${BENCH_N:-6000}

. "$(dirname "$0")/lib.sh"
bench_begin h2
[ -x "$SALVO" ] || die "no salvo binary at '$SALVO' (run make first)"
[ -x "$NGINX" ] || die "no nginx at '$NGINX'"
[ -n "$H2LOAD" ] && [ -x "$H2LOAD" ] || die "no h2load (scripts/install-deps.sh installs nghttp2-client)"

PORT=$(free_port)
URL=https://127.0.0.1:$PORT/
write_nginx_conf "$WORK" "$PORT"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 || die "openssl req failed"
sed -i -e "s|listen 127.0.0.1:$PORT backlog=4096;|listen 127.0.0.1:$PORT backlog=4096 ssl http2;\n        ssl_certificate $WORK/cert.pem;\n        ssl_certificate_key $WORK/key.pem;|" \
    -e "s|keepalive_requests 100000;|keepalive_requests 300;|" "$WORK/nginx.conf"
start_nginx "$PORT"

printf '%-44s %8s %8s %8s\n' "run (nginx h2, keepalive_requests 300)" asked ok lost

out=$(timeout 60 "$H2LOAD" -c 4 -m 10 -n "$N" "$URL" 2>&1)
line=$(printf '%s\n' "$out" | grep -E '^requests:')
total=$(printf '%s' "$line" | sed -E 's/.*requests: ([0-9]+) total.*/\1/')
ok=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) succeeded.*/\1/')
printf '%-44s %8s %8s %8s\n' "h2load -c 4 -m 10 -n $N" "$total" "$ok" "$((total - ok))"

# salvo: h2load's shape in the closed model, then the open model.
for args in "--closed -c 4 --streams 10 -d 2s -t 1" "-r 2000 -d 3s -c 4 -t 1"; do
    # shellcheck disable=SC2086
    timeout 60 "$SALVO" run "$URL" -k $args --allow-invalid --json "$WORK/r.json" -q >/dev/null 2>&1
    python3 - "$WORK/r.json" "salvo $args" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["requests"]
lost = r["failed"] + r["timeout"] + r["unsent"]
print("%-44s %8d %8d %8d" % (sys.argv[2], r["scheduled"], r["ok"], lost))
PY
done
exit 0
