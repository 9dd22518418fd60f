"""test_hostile_servers.py — salvo's servers facing hostile clients.

`salvo chaos` (its proxy and its control API) and `salvo target` against
clients that misbehave: out of file descriptors, slowloris, 1 MB headers,
pipelined garbage, half-closed sockets, floods of idle connections. Each
case is bounded (at most 5 s of hostility) and asserts that the server does
not crash, leak descriptors (/proc/PID/fd before and after), spin a CPU
(/proc/PID/stat CPU time), or stop serving a well-behaved client beside
the hostile ones; the chaos API answers garbage with a 4xx; every listener
binds loopback by default.

Python stdlib only. All traffic goes to 127.0.0.1; only processes started
here are signalled, by PID.
"""

import os
import resource
import socket
import time

import harness as h
from harness import check, test

nginx = None

TICKS = os.sysconf("SC_CLK_TCK")


def setup():
    global nginx
    nginx = h.Nginx(access_log=False).start()


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def api_status(addr, request, timeout=3.0):
    """Sends raw bytes to the API; returns the status code of the answer (0: none before timeout or close)."""
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        try:
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            return 0
    parts = data.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


# ---------------------------------------------------------------- chaos API out of descriptors


@test
def test_chaos_api_out_of_fds_does_not_spin():
    """Out of descriptors the API pauses accept instead of spinning, and answers once fds free up."""
    chaos = h.Chaos(nginx.port)
    held = []
    try:
        pid = chaos.proc.pid
        limit = fd_count(pid) + 8
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, limit))
        host, port = chaos.api_addr.rsplit(":", 1)
        for _ in range(40):  # 8 get accepted, the rest wait in the backlog: the listener stays readable
            held.append(socket.create_connection((host, int(port)), timeout=2))
        time.sleep(0.3)
        check(fd_count(pid) >= limit - 1, "the API should have used its descriptors up: %d of %d" % (fd_count(pid), limit))
        before = cpu_seconds(pid)
        time.sleep(2.0)
        used = cpu_seconds(pid) - before
        h.log("  out of fds for 2 s: %.2f s of CPU" % used)
        check(used < 0.3, "salvo chaos used %.2f s of CPU in 2 s while out of descriptors (spinning)" % used)
        for s in held:
            s.close()
        held = []
        deadline, status = time.monotonic() + 5, 0
        while time.monotonic() < deadline and status != 200:
            try:
                status = api_status(chaos.api_addr, b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n", timeout=1)
            except OSError:
                status = 0
            time.sleep(0.1)
        check(status == 200, "once descriptors are free the API should answer again: %s" % status)
    finally:
        for s in held:
            s.close()
        rc, err = chaos.stop()
        check(rc == 0, "salvo chaos exited %s: %s" % (rc, err[-400:]))


if __name__ == "__main__":
    h.main(setup)
