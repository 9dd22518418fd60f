"""test_netns.py — running out of ports, predicted and then seen.

In a network namespace this test creates (unshare -n: its own loopback and
its own sysctls), with tcp_tw_reuse=0 and a 100-port local range, a run
without keep-alive closes each connection first, so every port sits in
TIME_WAIT for 60 s: past 100 requests connects fail with EADDRNOTAVAIL.
`salvo doctor` must predict the failure for that plan, and `salvo run`
must report the connect errors by errno name. All traffic stays inside the
namespace's own loopback.
"""
import json
import os
import subprocess

import harness as h
from harness import check, test

SCRIPT = r'''
set -e
ip link set lo up
echo "40000 40099" > /proc/sys/net/ipv4/ip_local_port_range
echo 0 > /proc/sys/net/ipv4/tcp_tw_reuse
python3 -c '
import socket, threading, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 18181)); s.listen(512)
def serve(c):
    try:
        c.recv(4096)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        c.recv(1)  # wait for the client to close first
    except OSError:
        pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' &
SRV=$!
for i in $(seq 50); do python3 -c 'import socket; socket.create_connection(("127.0.0.1", 18181), 0.2)' 2>/dev/null && break; sleep 0.1; done
"$SALVO" doctor --rate 200 --no-keepalive --target 127.0.0.1:18181 --json > "$OUT/doctor.json" || true
"$SALVO" run http://127.0.0.1:18181/ -r 200 -d 3s -t 1 --no-keepalive --allow-invalid -q --json "$OUT/run.json" || true
kill $SRV
'''


@test
def port_exhaustion_is_predicted_and_reported():
    if not h.can_unshare_net():
        h.skip("no CAP_NET_ADMIN: this machine cannot create network namespaces")
    out = h.make_temp_dir("salvo-netns-")
    env = dict(os.environ, SALVO=h.SALVO_BIN, OUT=out)
    proc = subprocess.run(["unshare", "-n", "sh", "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=90)
    check(os.path.exists(os.path.join(out, "run.json")), "no run result: %s %s" % (proc.stdout[-500:], proc.stderr[-500:]))
    with open(os.path.join(out, "doctor.json")) as f:
        doctor = json.load(f)
    ports = [c for c in doctor["checks"] if c["name"] == "net.ipv4.ip_local_port_range"]
    check(ports and ports[0]["status"] == "fail", "doctor did not predict the port shortage: %s" % ports)
    with open(os.path.join(out, "run.json")) as f:
        run = json.load(f)
    c = h.check_counts_add_up(run)
    h.log("  requests %s connect_errors %s" % (c, run["connect_errors"]))
    check(run["connect_errors"].get("EADDRNOTAVAIL", 0) > 0, "no EADDRNOTAVAIL counted: %s" % run["connect_errors"])
    # 100 ports, each used once and then held in TIME_WAIT: at most ~100 requests can succeed.
    check(c["ok"] <= 110, "ok %d: more requests succeeded than there are ports" % c["ok"])
    check(c["ok"] >= 50, "ok %d: the first ~100 requests should have succeeded" % c["ok"])
    check(run["errors"].get("addr_not_avail", 0) == run["connect_errors"]["EADDRNOTAVAIL"],
          "errors and connect_errors disagree: %s vs %s" % (run["errors"], run["connect_errors"]))


if __name__ == "__main__":
    h.main()
