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
import re
import resource
import signal
import socket
import subprocess
import threading
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


# ---------------------------------------------------------------- salvo target


class Target:
    """A `salvo target` started here, optionally under a low descriptor limit (soft = hard)."""

    def __init__(self, nofile=None, listen=("--listen", "127.0.0.1:0")):
        def limit():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.proc = subprocess.Popen([h.SALVO_BIN, "target", *listen, "--workers", "1"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, preexec_fn=limit)
        line = b""
        deadline = time.monotonic() + 30
        os.set_blocking(self.proc.stdout.fileno(), False)
        while b"\n" not in line and time.monotonic() < deadline and self.proc.poll() is None:
            try:
                line += self.proc.stdout.read() or b""
            except (BlockingIOError, TypeError):
                pass
            time.sleep(0.02)
        m = re.search(rb"listening on ([0-9.]+):(\d+)", line)
        if not m:
            self.stop()
            raise AssertionError("salvo target did not start: %r" % line)
        self.host, self.port = m.group(1).decode(), int(m.group(2))

    @property
    def pid(self):
        return self.proc.pid

    def get(self, path="/health", timeout=3.0):
        """One well-behaved request on a new connection: the status code, 0 when none came."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path.encode())
            data = b""
            try:
                while b"\r\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except (socket.timeout, ConnectionResetError):
                return 0
        parts = data.split(b" ", 2)
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0

    def metric(self, name):
        with socket.create_connection(("127.0.0.1", self.port), timeout=3) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        m = re.search(rb"\n" + name.encode() + rb" (\d+)", data)
        return int(m.group(1)) if m else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
        return self.proc.returncode, err


def settle_fds(pid, want, seconds=5.0):
    """Waits (bounded) until the process holds at most want descriptors; returns the last count."""
    deadline, n = time.monotonic() + seconds, fd_count(pid)
    while n > want and time.monotonic() < deadline:
        time.sleep(0.1)
        n = fd_count(pid)
    return n


def hostile_case(target, name, attack, seconds=2.0):
    """Runs attack(stop_event) in a thread for at most `seconds` while a good client keeps asking /health.

    Checks: the good client is answered 200 every time, the target used under half a CPU, it is alive,
    and after the attack its descriptors come back to what they were.
    """
    base = settle_fds(target.pid, 0, seconds=0.2)
    stop = threading.Event()
    errors = []

    def run():
        try:
            attack(stop)
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    t = threading.Thread(target=run, daemon=True)
    cpu0 = cpu_seconds(target.pid)
    start = time.monotonic()
    t.start()
    time.sleep(0.2)
    statuses = []
    while time.monotonic() - start < seconds:
        statuses.append(target.get())
        time.sleep(0.1)
    stop.set()
    t.join(timeout=5)
    cpu = cpu_seconds(target.pid) - cpu0
    elapsed = time.monotonic() - start
    check(not t.is_alive(), "%s: the attack did not stop" % name)
    check(not errors, "%s: the attack failed: %s" % (name, errors[:1]))
    check(target.proc.poll() is None, "%s: salvo target died (exit %s)" % (name, target.proc.returncode))
    check(statuses and all(st == 200 for st in statuses), "%s: a well-behaved client got %s" % (name, statuses))
    after = settle_fds(target.pid, base)
    h.log("  %s: %d good requests all 200, %.2f s CPU in %.1f s, fds %d -> %d" % (name, len(statuses), cpu, elapsed,
                                                                                 base, after))
    check(cpu < 0.5 * elapsed, "%s: %.2f s of CPU in %.1f s (spinning)" % (name, cpu, elapsed))
    check(after <= base, "%s: fd leak: %d before, %d after" % (name, base, after))


def slowloris(port, n=50):
    def attack(stop):
        socks = [socket.create_connection(("127.0.0.1", port), timeout=2) for _ in range(n)]
        head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-a: " + b"a" * 4000
        i = 0
        while not stop.is_set() and i < len(head):
            for s in socks:
                try:
                    s.send(head[i:i + 1])
                except OSError:
                    pass
            i += 1
            stop.wait(0.05)
        for s in socks:
            s.close()
    return attack


def huge_headers(port):
    def attack(stop):
        while not stop.is_set():
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                try:
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-big: " + b"b" * (1 << 20) + b"\r\n\r\n")
                except OSError:
                    pass  # the target answered 431 and closed while we were still sending
                try:
                    s.recv(4096)
                except OSError:
                    pass
            stop.wait(0.01)
    return attack


def garbage(port):
    def attack(stop):
        junk = os.urandom(64 * 1024) + b"\r\n\r\n" + b"GET / HTTP/1.1\r\n\r\n" * 100 + b"\x00\xff" * 1000
        while not stop.is_set():
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                try:
                    s.sendall(junk)
                    s.recv(4096)
                except OSError:
                    pass
            stop.wait(0.01)
    return attack


def half_closed(port, n=100):
    def attack(stop):
        socks = []
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" if i % 2 else b"")
            s.shutdown(socket.SHUT_WR)
            socks.append(s)
        stop.wait(1.0)
        for s in socks:
            s.close()
    return attack


@test
def test_target_hostile_clients():
    """Slowloris, 1 MB headers, pipelined garbage, half-closed sockets: the target keeps serving, no leak, no spin."""
    target = Target()
    try:
        for name, attack in [("slowloris", slowloris(target.port)), ("1 MB headers", huge_headers(target.port)),
                             ("pipelined garbage", garbage(target.port)), ("half-closed", half_closed(target.port))]:
            hostile_case(target, name, attack)
    finally:
        rc, err = target.stop()
    check(rc == 0, "salvo target exited %s: %s" % (rc, err[-400:]))


@test
def test_target_connection_flood_evicts_oldest():
    """Idle connections up to the cap plus 2000 more: the oldest idle ones are evicted, good clients still served."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    nofile = 264  # the target keeps 64 spare descriptors: a cap of 200 connections
    cap = nofile - 64
    need = cap + 2000 + 200
    if soft < need:  # this client process raises its own limit (install-deps and CI run with 20 000 or more)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, need), hard))
    check(resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= need, "cannot raise RLIMIT_NOFILE to %d" % need)
    target = Target(nofile=nofile)
    held = []
    try:
        base = fd_count(target.pid)
        cpu0, start = cpu_seconds(target.pid), time.monotonic()
        for _ in range(cap + 2000):
            held.append(socket.create_connection(("127.0.0.1", target.port), timeout=2))
        statuses = [target.get() for _ in range(20)]
        elapsed = time.monotonic() - start
        cpu = cpu_seconds(target.pid) - cpu0
        open_fds = fd_count(target.pid)
        evicted = target.metric("salvo_target_connections_evicted_total")
        h.log("  %d idle connections against a cap of %d: %d fds open, %s evicted, good clients %s, %.2f s CPU in %.1f s"
              % (len(held), cap, open_fds, evicted, sorted(set(statuses)), cpu, elapsed))
        check(all(st == 200 for st in statuses), "beside a flood of idle connections a good client got %s" % statuses)
        check(open_fds <= base + cap, "the target holds %d fds, more than its cap allows" % open_fds)
        check(evicted is not None and evicted >= 2000, "expected >= 2000 evictions, the target says %s" % evicted)
        check(elapsed < 5.0 and cpu < 0.5 * elapsed + 0.5, "%.2f s of CPU in %.1f s" % (cpu, elapsed))
        for s in held:
            s.close()
        held = []
        after = settle_fds(target.pid, base)
        check(after <= base, "fd leak after the flood: %d before, %d after" % (base, after))
        check(target.get() == 200, "after the flood the target should answer")
    finally:
        for s in held:
            s.close()
        rc, err = target.stop()
    check(rc == 0, "salvo target exited %s: %s" % (rc, err[-400:]))


if __name__ == "__main__":
    h.main(setup)
