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
import sys
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


# A client process: raises its own descriptor limit, opens N connections, says how many, holds them until stdin closes.
FLOOD_CLIENT = r"""
import resource, socket, sys
n, port = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 64), hard))
held = []
for _ in range(n):
    try:
        held.append(socket.create_connection(("127.0.0.1", port), timeout=2))
    except OSError:
        pass
print(len(held), flush=True)
sys.stdin.read()
"""


@test
def test_target_connection_flood_evicts_oldest():
    """Idle connections up to the cap plus 2000 more, from two client processes: good clients are still served."""
    nofile = 264  # the target keeps 64 spare descriptors: a cap of 200 connections
    cap = nofile - 64
    target = Target(nofile=nofile)
    clients = []
    try:
        base = fd_count(target.pid)
        cpu0, start = cpu_seconds(target.pid), time.monotonic()
        share = (cap + 2000) // 2
        for _ in range(2):
            clients.append(subprocess.Popen([sys.executable, "-c", FLOOD_CLIENT, str(share), str(target.port)],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        opened = sum(int(c.stdout.readline() or 0) for c in clients)
        check(opened == 2 * share, "the client processes opened %d of %d connections" % (opened, 2 * share))
        statuses = [target.get() for _ in range(20)]
        elapsed = time.monotonic() - start
        cpu = cpu_seconds(target.pid) - cpu0
        open_fds = fd_count(target.pid)
        evicted = target.metric("salvo_target_connections_evicted_total")
        h.log("  %d idle connections from 2 processes against a cap of %d: %d fds open, %s evicted, good clients %s, "
              "%.2f s CPU in %.1f s" % (opened, cap, open_fds, evicted, sorted(set(statuses)), cpu, elapsed))
        check(all(st == 200 for st in statuses), "beside a flood of idle connections a good client got %s" % statuses)
        check(open_fds <= base + cap, "the target holds %d fds, more than its cap allows" % open_fds)
        check(evicted is not None and evicted >= 2000, "expected >= 2000 evictions, the target says %s" % evicted)
        check(elapsed < 5.0 and cpu < 0.5 * elapsed + 0.5, "%.2f s of CPU in %.1f s" % (cpu, elapsed))
        for c in clients:
            c.stdin.close()
            c.wait(timeout=5)
        clients = []
        after = settle_fds(target.pid, base)
        check(after <= base, "fd leak after the flood: %d before, %d after" % (base, after))
        check(target.get() == 200, "after the flood the target should answer")
    finally:
        for c in clients:
            c.kill()
            c.wait(timeout=5)
        rc, err = target.stop()
    check(rc == 0, "salvo target exited %s: %s" % (rc, err[-400:]))


# ---------------------------------------------------------------- chaos API against garbage


@test
def test_chaos_api_answers_garbage_with_4xx():
    """Garbage, huge heads, bad lengths, a stalled request: a 4xx within 5 s each, and the API still answers."""
    chaos = h.Chaos(nginx.port)
    try:
        base = fd_count(chaos.proc.pid)
        cases = [
            ("binary garbage", os.urandom(300)),
            ("garbage line", b"\x16\x03\x01 hello\r\n\r\n"),
            ("lower-case method", b"get / HTTP/1.1\r\n\r\n"),
            ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
            ("no version", b"GET /\r\n\r\n"),
            ("1 MB header", b"GET /version HTTP/1.1\r\nX-a: " + b"a" * (1 << 20) + b"\r\n\r\n"),
            ("1 MB request line", b"GET /" + b"v" * (1 << 20) + b" HTTP/1.1\r\n\r\n"),
            ("huge content-length", b"POST /proxies HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n"),
            ("negative content-length", b"POST /proxies HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
            ("chunked body", b"POST /proxies HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
            ("bad JSON", b"POST /proxies HTTP/1.1\r\nContent-Length: 5\r\n\r\n{{{{{"),
            ("JSON not an object", b"POST /proxies/salvo HTTP/1.1\r\nContent-Length: 2\r\n\r\n[]"),
            ("deep JSON", b"POST /proxies HTTP/1.1\r\nContent-Length: 20000\r\n\r\n" + b"[" * 20000),
            ("unknown path", b"GET /%00/../../etc/passwd HTTP/1.1\r\n\r\n"),
            ("stalled head", b"GET /version HTTP/1.1\r\nHost: x\r\n"),
            ("stalled body", b"POST /proxies HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"),
        ]
        for name, request in cases:
            start = time.monotonic()
            try:
                status = api_status(chaos.api_addr, request, timeout=7)
            except (BrokenPipeError, ConnectionResetError):
                status = -1  # the API answered and closed while we were still sending
            took = time.monotonic() - start
            h.log("  %-24s -> %s in %.2f s" % (name, status, took))
            check(status == -1 or 400 <= status < 500, "%s: answered %s, want a 4xx" % (name, status))
            check(took < 6.0, "%s: took %.1f s" % (name, took))
        status = api_status(chaos.api_addr, b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")
        check(status == 200, "after the garbage the API should still answer: %s" % status)
        after = settle_fds(chaos.proc.pid, base)
        check(after <= base, "API fd leak: %d before, %d after" % (base, after))
    finally:
        rc, err = chaos.stop()
    check(rc == 0, "salvo chaos exited %s: %s" % (rc, err[-400:]))


# ---------------------------------------------------------------- chaos proxy between hostile peers


def hostile_upstream(kind):
    """A loopback upstream that misbehaves: resets, stalls (never reads), floods garbage, or half-closes."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(512)
    srv.settimeout(0.2)
    stop = threading.Event()
    conns = []

    def serve():
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except (socket.timeout, OSError):
                continue
            conns.append(c)
            try:
                if kind == "reset":
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    c.close()
                elif kind == "garbage":
                    c.setblocking(False)
                    for _ in range(64):
                        c.send(os.urandom(4096))
                elif kind == "half-close":
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
                    c.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # "stall" does nothing: it never reads and never writes

    t = threading.Thread(target=serve, daemon=True)
    t.start()

    def close():
        stop.set()
        t.join(timeout=2)
        for c in conns:
            c.close()
        srv.close()
    return srv.getsockname()[1], close


def hostile_clients(port, stop):
    """Slowloris, garbage, half-closed and connect-and-vanish clients against one proxy port, bounded."""
    socks = []
    while not stop.is_set() and len(socks) < 400:
        for mode in range(4):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=1)
                if mode == 0:
                    s.send(b"GET / HTTP/1.1\r\nHo")
                elif mode == 1:
                    s.send(os.urandom(8192))
                elif mode == 2:
                    s.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                    s.shutdown(socket.SHUT_WR)
                else:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    s.close()
                    continue
                socks.append(s)
            except OSError:
                pass
        stop.wait(0.02)
    stop.wait(5)
    for s in socks:
        s.close()


@test
def test_chaos_between_hostile_peers():
    """Hostile clients against proxies to hostile upstreams: no crash, no fd leak, no spin, good traffic flows."""
    chaos = h.Chaos(nginx.port, toxics=["http_latency latency=1 toxicity=0.5"])  # frame HTTP: the framer faces it too
    closers = []
    try:
        base = fd_count(chaos.proc.pid)
        ports = []
        for kind in ("reset", "stall", "garbage", "half-close"):
            up, close = hostile_upstream(kind)
            closers.append(close)
            status, p = chaos.api("POST", "/proxies", {"name": "hostile-" + kind, "listen": "127.0.0.1:0",
                                                       "upstream": "127.0.0.1:%d" % up})
            check(status == 201, "create %s: %s %s" % (kind, status, p))
            chaos.api("POST", "/proxies/hostile-%s/toxics" % kind, {"type": "http_status", "toxicity": 0.3})
            ports.append(int(p["listen"].rsplit(":", 1)[1]))
        base_with_proxies = fd_count(chaos.proc.pid)
        stop = threading.Event()
        threads = [threading.Thread(target=hostile_clients, args=(port, stop), daemon=True) for port in ports]
        cpu0, start = cpu_seconds(chaos.proc.pid), time.monotonic()
        for t in threads:
            t.start()
        good = []
        while time.monotonic() - start < 3.0:
            try:
                with socket.create_connection(("127.0.0.1", chaos.port), timeout=2) as s:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    data = b""
                    while True:
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                good.append(data.startswith(b"HTTP/1.1 200") and data.endswith(b"hello\n"))
            except OSError:
                good.append(False)
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join(timeout=10)
        elapsed = time.monotonic() - start
        cpu = cpu_seconds(chaos.proc.pid) - cpu0
        for close in closers:
            close()
        closers = []
        after = settle_fds(chaos.proc.pid, base_with_proxies)
        h.log("  %d good requests, %d ok; %.2f s CPU in %.1f s; fds %d -> %d" % (len(good), sum(good), cpu, elapsed,
                                                                              base_with_proxies, after))
        check(chaos.proc.poll() is None, "salvo chaos died: %s" % chaos.stderr()[-400:])
        check(good and all(good), "a good client through the proxy beside the hostile ones: %s" % good)
        check(cpu < 0.5 * elapsed, "salvo chaos used %.2f s of CPU in %.1f s" % (cpu, elapsed))
        check(after <= base_with_proxies, "proxy fd leak: %d before, %d after" % (base_with_proxies, after))
        status = api_status(chaos.api_addr, b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")
        check(status == 200, "the API after the storm: %s" % status)
        check(base > 0, "")
    finally:
        for close in closers:
            close()
        rc, err = chaos.stop()
    check(rc == 0, "salvo chaos exited %s: %s" % (rc, err[-400:]))


# ---------------------------------------------------------------- loopback by default


def bound_addresses(pid):
    """The local addresses of the process's listening TCP sockets, from /proc (IPv4 and IPv6)."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    found = []
    for table, width in (("tcp", 8), ("tcp6", 32)):
        with open("/proc/%d/net/%s" % (pid, table)) as f:
            for line in f.read().splitlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and cols[9] in inodes:  # LISTEN
                    addr = cols[1].split(":")[0]
                    found.append((table, addr))
    return found


LOOPBACK = {("tcp", "0100007F"), ("tcp6", "00000000000000000000000001000000")}


@test
def test_listeners_bind_loopback_by_default():
    """`salvo target` and `salvo chaos` (proxy ':PORT' and the API) bind loopback unless told otherwise."""
    port = h.free_port()
    target = None
    try:
        for _ in range(3):  # the default port 8080 may be taken for a moment by another test
            try:
                target = Target(listen=())
                break
            except AssertionError:
                time.sleep(1)
        check(target is not None, "salvo target with its default --listen did not start")
        addrs = bound_addresses(target.pid)
        check(addrs and set(addrs) <= LOOPBACK, "salvo target listens on %s by default" % addrs)
    finally:
        if target:
            target.stop()
    args = [h.SALVO_BIN, "chaos", "--listen", ":%d" % port, "--upstream", ":%d" % nginx.port]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        addrs = []
        while time.monotonic() < deadline and len(addrs) < 2 and proc.poll() is None:
            time.sleep(0.1)
            addrs = bound_addresses(proc.pid)
        check(len(addrs) == 2, "salvo chaos should listen twice (proxy and API on 8474): %s, %s"
              % (addrs, proc.stderr.read1().decode(errors="replace") if proc.poll() is not None else ""))
        check(set(addrs) <= LOOPBACK, "salvo chaos listens on %s by default" % addrs)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=5)


if __name__ == "__main__":
    h.main(setup)
