"""test_target.py — end-to-end tests of `salvo target`, the demo routing API.

Starts the real binary (env SALVO_BIN, default build/salvo under the
repository root) on 127.0.0.1 with --listen 127.0.0.1:0, reads the chosen
port from the first stdout line, and talks raw HTTP/1.1 to it over sockets:
health, routes (a miss, then the cached repeat), 400s that name the
parameter, 404, 405, 413, 431, garbage, pipelining, /metrics, 503 from a
burst against --workers 1 --queue 1, --gen-trips, bad options, and a clean
exit on SIGTERM and SIGINT; POST /api/login, --auth and --error-bodies
(over http.client, as a client library would).

Python 3 stdlib only. Every wait is bounded; only processes started here are
signalled, by PID; all traffic goes to 127.0.0.1. Ends with cmocka-style
totals for tests/run.sh and exits non-zero if anything failed.
"""

import atexit
import http.client
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SALVO_BIN = os.environ.get("SALVO_BIN") or os.path.join(REPO_ROOT, "build", "salvo")
if not os.path.isabs(SALVO_BIN):
    SALVO_BIN = os.path.join(REPO_ROOT, SALVO_BIN)

# The map's box (roadmap_default_bounds) and two far-apart points in it.
LAT_MIN, LAT_MAX, LNG_MIN, LNG_MAX = 52.45, 52.60, 13.25, 13.50
SW = "52.46,13.26"
NE = "52.59,13.49"

_live = []  # Popen objects started here and not yet reaped


def log(msg):
    print(msg, flush=True)


def _cleanup():
    for p in list(_live):
        if p.poll() is None:
            p.kill()
            p.wait(timeout=5)
        _live.remove(p)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))


class Target:
    """A `salvo target` process on a free loopback port."""

    def __init__(self, *args):
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [SALVO_BIN, "target", "--listen", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE, stderr=self.stderr, stdin=subprocess.DEVNULL)
        _live.append(self.proc)
        line = self._read_line(timeout=30)
        m = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            self.stop()
            raise AssertionError("first stdout line was %r; stderr: %s" % (line, self.err()))
        self.port = int(m.group(1))

    def _read_line(self, timeout):
        fd = self.proc.stdout.fileno()
        data = b""
        deadline = time.monotonic() + timeout
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return data.decode(errors="replace")
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
        return data.split(b"\n", 1)[0].decode(errors="replace")

    def err(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM):
        """Signals the process by PID and returns its exit code."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait(timeout=5)
            raise AssertionError("did not exit within 10 s of %s" % sig)
        finally:
            if self.proc in _live:
                _live.remove(self.proc)
            self.proc.stdout.close()
        return rc

    def connect(self, timeout=10):
        return Conn(self.port, timeout)

    def get(self, path, **kw):
        return request(self, "GET", path, **kw)


class Conn:
    """A client connection that keeps the bytes read past one response."""

    def __init__(self, port, timeout):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.pending = b""

    def sendall(self, data):
        self.sock.sendall(data)

    def recv(self, n):
        return self.sock.recv(n)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_response(sock, head_only=False):
    """Reads one response from a Conn; returns (status, headers, body), or None at EOF before a status line."""
    buf = sock.pending
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            if buf:
                raise AssertionError("connection closed inside a head: %r" % buf[:200])
            return None
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    length = 0 if head_only else int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed inside a body")
        rest += chunk
    sock.pending = rest[length:]
    return status, headers, rest[:length]


def request(target, method, path, headers=(), body=b"", close=True):
    with target.connect() as s:
        req = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % (method, path)
        for h in headers:
            req += h + "\r\n"
        if body:
            req += "Content-Length: %d\r\n" % len(body)
        if close:
            req += "Connection: close\r\n"
        s.sendall(req.encode() + b"\r\n" + body)
        return read_response(s, head_only=(method == "HEAD"))


def json_body(resp):
    return json.loads(resp[2].decode())


def raw_exchange(target, payload, timeout=10):
    """Sends raw bytes, then reads everything until the server closes; returns the bytes."""
    with target.connect(timeout=timeout) as s:
        try:
            s.sendall(payload)
        except OSError:
            pass  # the server may answer and close before taking everything
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        return data


def metrics(target):
    status, headers, body = target.get("/metrics")
    assert status == 200, status
    assert headers["content-type"].startswith("text/plain"), headers
    values = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def run_salvo(*args, timeout=60):
    p = subprocess.run([SALVO_BIN, *args], capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


# ---- Tests --------------------------------------------------------------

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


@test
def health_and_route_cache(t):
    status, headers, body = t.get("/health")
    assert status == 200 and json.loads(body) == {"status": "ok"}, (status, body)
    assert headers["content-type"] == "application/json", headers
    first = t.get("/api/route?from=%s&to=%s" % (SW, NE))
    assert first[0] == 200, first
    r1 = json_body(first)
    assert r1["cached"] is False, r1
    for key in ("distance_m", "duration_s", "nodes", "from_node", "to_node"):
        assert key in r1, (key, r1)
    assert r1["distance_m"] > 20000 and r1["duration_s"] > 600 and r1["nodes"] > 300, r1
    r2 = json_body(t.get("/api/route?from=%s&to=%s" % (SW, NE)))
    assert r2["cached"] is True, r2
    assert {k: v for k, v in r2.items() if k != "cached"} == {k: v for k, v in r1.items() if k != "cached"}
    # A nearby point snaps to the same intersection: still a cache hit.
    r3 = json_body(t.get("/api/route?from=52.46001,13.26001&to=%s" % NE))
    assert r3["cached"] is True and r3["from_node"] == r1["from_node"], r3
    # The reverse trip is another route (one-way streets).
    r4 = json_body(t.get("/api/route?from=%s&to=%s" % (NE, SW)))
    assert r4["cached"] is False and r4["from_node"] == r1["to_node"], r4
    # Same point twice: a route of one intersection.
    r5 = json_body(t.get("/api/route?from=%s&to=%s" % (SW, SW)))
    assert r5["nodes"] == 1 and r5["duration_s"] == 0, r5


@test
def bad_parameters_are_named(t):
    cases = [
        ("/api/route?to=" + NE, "from", "missing"),
        ("/api/route?from=" + SW, "to", "missing"),
        ("/api/route?from=%s&to=52.5;13.4" % SW, "to", "malformed"),
        ("/api/route?from=abc&to=" + NE, "from", "malformed"),
        ("/api/route?from=48.85,2.35&to=" + NE, "from", "outside the map"),
        ("/api/route?from=%s&to=95,13.4" % SW, "to", "out of range"),
        ("/api/route", "from", "missing"),
    ]
    for path, param, word in cases:
        status, _, body = t.get(path)
        doc = json.loads(body)
        assert status == 400, (path, status, body)
        assert doc["parameter"] == param and word in doc["error"], (path, doc)


@test
def not_found_and_wrong_method(t):
    status, _, body = t.get("/nope")
    assert status == 404 and "error" in json.loads(body), (status, body)
    status, _, _ = t.get("/api/route/")
    assert status == 404, status
    status, headers, body = request(t, "POST", "/health", body=b"{}")
    assert status == 405 and headers.get("allow") == "GET, HEAD", (status, headers)
    status, headers, body = request(t, "HEAD", "/health")
    assert status == 200 and body == b"" and headers["content-length"] == "15", (status, headers, body)


@test
def oversized_requests(t):
    big = "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "a" * 9000 + "\r\n\r\n"
    data = raw_exchange(t, big.encode())
    assert data.startswith(b"HTTP/1.1 431 "), data[:100]
    assert b"Connection: close" in data, data[:300]
    data = raw_exchange(t, b"GET /health HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000)
    assert data.startswith(b"HTTP/1.1 413 "), data[:100]
    # A small body is read and ignored, and the connection stays usable.
    with t.connect() as s:
        s.sendall(b"GET /health HTTP/1.1\r\nContent-Length: 4\r\n\r\nbodyGET /health HTTP/1.1\r\n\r\n")
        assert read_response(s)[0] == 200
        assert read_response(s)[0] == 200


@test
def garbage_is_refused_and_survived(t):
    for payload in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(200),
                    b"GET / HTTP/9.9\r\n\r\n", b"HELLO\r\n\r\n", b"GET /health HTTP/1.1\r\nBad Header\r\n\r\n",
                    b"\x00" * 100, b"GET /health HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"):
        data = raw_exchange(t, payload)
        assert data == b"" or data.startswith(b"HTTP/1.1 400 "), (payload[:20], data[:100])
    data = raw_exchange(t, b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 501 "), data[:100]
    # Half a request and a hang-up; random bytes on many connections.
    with t.connect() as s:
        s.sendall(b"GET /api/route?from=52.5")
    for _ in range(50):
        with t.connect() as s:
            s.sendall(os.urandom(int.from_bytes(os.urandom(2), "big") % 3000 + 1))
    assert t.get("/health")[0] == 200


@test
def keep_alive_and_pipelining(t):
    with t.connect() as s:
        # Three requests in one segment, the middle one a computed route: answered in order.
        s.sendall(b"GET /health HTTP/1.1\r\n\r\n"
                  b"GET /api/route?from=52.50,13.30&to=52.55,13.45 HTTP/1.1\r\n\r\n"
                  b"GET /nope HTTP/1.1\r\n\r\n")
        codes = [read_response(s)[0] for _ in range(3)]
        assert codes == [200, 200, 404], codes
        # The connection is still open for more.
        for _ in range(20):
            s.sendall(b"GET /api/route?from=52.50,13.30&to=52.55,13.45 HTTP/1.1\r\n\r\n")
            status, _, body = read_response(s)
            assert status == 200 and json.loads(body)["cached"] is True
        s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        status, headers, _ = read_response(s)
        assert status == 200 and headers.get("connection") == "close", headers
        assert read_response(s) is None  # HTTP/1.0 without keep-alive: closed


@test
def metrics_page(t):
    before = metrics(t)
    t.get("/api/route?from=52.47,13.27&to=52.58,13.48")
    t.get("/api/route?from=52.47,13.27&to=52.58,13.48")
    t.get("/nope")
    m = metrics(t)
    assert m['salvo_target_requests_total{code="200"}'] >= before['salvo_target_requests_total{code="200"}'] + 3, m
    assert m['salvo_target_requests_total{code="404"}'] >= 1
    assert m["salvo_target_cache_hits_total"] == before["salvo_target_cache_hits_total"] + 1
    assert m["salvo_target_cache_misses_total"] == before["salvo_target_cache_misses_total"] + 1
    assert m["salvo_target_queue_depth"] == 0 and m["salvo_target_queue_capacity"] == 128
    assert m["salvo_target_workers"] == 2
    count = m["salvo_target_route_compute_seconds_count"]
    assert count >= 1 and m['salvo_target_route_compute_seconds_bucket{le="+Inf"}'] == count, m
    buckets = [v for k, v in m.items() if k.startswith("salvo_target_route_compute_seconds_bucket")]
    assert buckets == sorted(buckets), buckets
    assert m["salvo_target_route_compute_seconds_sum"] > 0


@test
def overload_answers_503(_):
    t = Target("--workers", "1", "--queue", "1", "--cache", "0")
    try:
        socks = [t.connect() for _ in range(8)]
        # Far-apart trips, all different, sent together: at most 2 can be outstanding.
        for i, s in enumerate(socks):
            path = "/api/route?from=52.46,%.3f&to=52.59,%.3f" % (13.26 + i * 0.001, 13.49 - i * 0.001)
            s.sendall(("GET %s HTTP/1.1\r\n\r\n" % path).encode())
        answers = [read_response(s) for s in socks]
        for s in socks:
            s.close()
        codes = sorted(a[0] for a in answers)
        assert 200 in codes and 503 in codes, codes
        refused = [a for a in answers if a[0] == 503]
        assert all(a[1].get("retry-after") == "1" for a in refused), refused
        assert all("error" in json.loads(a[2]) for a in refused), refused
        m = metrics(t)
        assert m['salvo_target_requests_total{code="503"}'] == len(refused), m
        assert m["salvo_target_cache_capacity"] == 0
    finally:
        assert t.stop() == 0


@test
def client_gone_while_computing(t):
    before = metrics(t)["salvo_target_route_compute_seconds_count"]
    for i in range(6):
        with t.connect() as c:
            path = "/api/route?from=52.455,%.4f&to=52.595,%.4f" % (13.255 + i * 0.003, 13.495 - i * 0.003)
            c.sendall(("GET %s HTTP/1.1\r\n\r\n" % path).encode())
            time.sleep(0.01)  # a reset would discard the request if it were still unread
            # Reset instead of a graceful close, while the route is being computed (tens of ms).
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    deadline = time.monotonic() + 10
    while metrics(t)["salvo_target_route_compute_seconds_count"] < before + 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    m = metrics(t)
    assert m["salvo_target_route_compute_seconds_count"] == before + 6, m
    assert m["salvo_target_inflight"] == 0, m
    assert t.get("/health")[0] == 200


@test
def pipelined_flood_with_slow_reader(t):
    count = 3000
    with t.connect(timeout=30) as c:
        payload = b"GET /health HTTP/1.1\r\n\r\n" * count
        sender = threading.Thread(target=c.sendall, args=(payload,))
        sender.start()
        time.sleep(0.3)  # let both sides' buffers fill up before reading anything
        codes = [read_response(c)[0] for _ in range(count)]
        sender.join(timeout=30)
        assert codes == [200] * count


@test
def many_connections(t):
    socks = [t.connect() for _ in range(300)]
    for s in socks:
        s.sendall(b"GET /health HTTP/1.1\r\n\r\n")
    for s in socks:
        assert read_response(s)[0] == 200
        s.close()


@test
def gen_trips(_):
    rc, out, err = run_salvo("target", "--gen-trips", "200", "--seed", "7")
    assert rc == 0, (rc, err)
    lines = out.splitlines()
    assert lines[0] == "from_lat,from_lng,to_lat,to_lng" and len(lines) == 201, lines[:3]
    for line in lines[1:]:
        a, b, c, d = (float(x) for x in line.split(","))
        assert LAT_MIN <= a <= LAT_MAX and LAT_MIN <= c <= LAT_MAX, line
        assert LNG_MIN <= b <= LNG_MAX and LNG_MIN <= d <= LNG_MAX, line
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "trips.csv")
        rc, out2, err = run_salvo("target", "--gen-trips", "200", "--seed", "7", "--out", path)
        assert rc == 0 and out2 == "", (rc, out2, err)
        with open(path) as f:
            assert f.read() == out  # same seed, same trips
        rc, _, err = run_salvo("target", "--gen-trips", "5", "--out", os.path.join(d, "no", "such", "dir.csv"))
        assert rc == 1 and err.startswith("salvo: cannot write") and "dir.csv" in err, (rc, err)
    rc, out3, _ = run_salvo("target", "--gen-trips", "200", "--seed", "8")
    assert rc == 0 and out3 != out


@test
def bad_options(_):
    cases = [
        (["--workers", "0"], "--workers"), (["--workers", "x"], "--workers"), (["--queue", "-1"], "--queue"),
        (["--cache", "99999999999"], "--cache"), (["--seed", "1.5"], "--seed"), (["--listen", "nonsense"], "--listen"),
        (["--listen", "127.0.0.1:70000"], "--listen"), (["--frobnicate"], "--frobnicate"), (["extra"], "extra"),
        (["--gen-trips", "0"], "--gen-trips"), (["--out", "x.csv"], "--out"), (["--seed"], "--seed"),
        (["--auth=yes"], "--auth"),
    ]
    for args, culprit in cases:
        rc, out, err = run_salvo("target", *args, timeout=10)
        lines = err.strip().splitlines()
        assert rc == 2, (args, rc, err)
        assert len(lines) == 1 and lines[0].startswith("salvo: ") and culprit in lines[0], (args, err)
    rc, out, _ = run_salvo("target", "--help")
    assert rc == 0 and "--gen-trips" in out


def http_call(port, method, path, body=None, headers=None):
    """One request over http.client; returns (status, headers with lower-case names, body)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def login(port, user, form=False):
    body = ("user=" + user) if form else json.dumps({"user": user})
    ctype = "application/x-www-form-urlencoded" if form else "application/json"
    status, _, data = http_call(port, "POST", "/api/login", body, {"Content-Type": ctype})
    assert status == 200, (status, data)
    doc = json.loads(data)
    assert doc["user"] == user and doc["token"].startswith(user + "."), doc
    return doc["token"]


@test
def login_without_auth(t):
    # Without --auth the login works and routes need no token (today's behaviour).
    token = login(t.port, "alice")
    assert re.fullmatch(r"alice\.[0-9a-f]{16}", token), token
    assert login(t.port, "alice") == token  # stateless: the same name, the same token
    assert login(t.port, "bob", form=True) != token
    route = "/api/route?from=%s&to=%s" % (SW, NE)
    assert http_call(t.port, "GET", route)[0] == 200
    status, headers, _ = http_call(t.port, "GET", "/api/login")
    assert status == 405 and headers["allow"] == "POST", (status, headers)
    for body, word in [('{"name":"x"}', "missing"), ("user=a b", "letters"), ('{"user":"a"', "malformed"), ("", "missing")]:
        status, _, data = http_call(t.port, "POST", "/api/login", body)
        assert status == 400 and word in json.loads(data)["error"], (body, status, data)


@test
def auth_needs_a_valid_token(_):
    t = Target("--auth")
    other = Target("--auth", "--seed", "2")
    try:
        route = "/api/route?from=%s&to=%s" % (SW, NE)
        status, headers, data = http_call(t.port, "GET", route)
        assert status == 401 and headers["www-authenticate"] == "Bearer", (status, headers)
        assert "token" in json.loads(data)["error"], data
        token = login(t.port, "carol")
        status, _, data = http_call(t.port, "GET", route, headers={"Authorization": "Bearer " + token})
        assert status == 200 and json.loads(data)["distance_m"] > 20000, (status, data)
        # Scheme case and blanks do not matter; a changed byte, another name or another process's key does.
        assert http_call(t.port, "GET", route, headers={"Authorization": "bearer  " + token + " "})[0] == 200
        flipped = token[:-1] + ("0" if token[-1] != "0" else "1")
        forged = "dave" + token[len("carol"):]
        foreign = login(other.port, "carol")
        assert foreign != token
        for bad in ["Bearer " + flipped, "Bearer " + forged, "Bearer " + foreign, token, "Basic Y2Fyb2w6cHc="]:
            status, _, _ = http_call(t.port, "GET", route, headers={"Authorization": bad})
            assert status == 401, (bad, status)
        # Only the route is guarded: health and metrics answer without a token, and 401s are counted.
        assert http_call(t.port, "GET", "/health")[0] == 200
        m = metrics(t)
        assert m['salvo_target_requests_total{code="401"}'] == 6, m
        # Two Authorization headers are refused, whichever holds the valid token.
        for pair in (("Bearer " + flipped, "Bearer " + token), ("Bearer " + token, "Bearer " + token)):
            c = http.client.HTTPConnection("127.0.0.1", t.port, timeout=10)
            try:
                c.putrequest("GET", route)
                for value in pair:
                    c.putheader("Authorization", value)
                c.endheaders()
                r = c.getresponse()
                status, data = r.status, r.read()
            finally:
                c.close()
            assert status == 400 and "more than one Authorization" in json.loads(data)["error"], (pair, status, data)
    finally:
        t.stop()
        other.stop()


@test
def error_bodies_answer_200(t):
    outside = "/api/route?from=%s&to=52.70,13.40" % SW
    status, _, data = http_call(t.port, "GET", outside)
    assert status == 400 and "outside the map" in json.loads(data)["error"], (status, data)
    e = Target("--error-bodies")
    try:
        status, _, data = http_call(e.port, "GET", outside)
        doc = json.loads(data)
        assert status == 200 and "outside the map" in doc["error"] and doc["parameter"] == "to", (status, doc)
        # Malformed or missing parameters are the client's bug and stay 400; good routes are unchanged.
        assert http_call(e.port, "GET", "/api/route?from=abc&to=" + NE)[0] == 400
        assert http_call(e.port, "GET", "/api/route?from=" + SW)[0] == 400
        status, _, data = http_call(e.port, "GET", "/api/route?from=%s&to=%s" % (SW, NE))
        assert status == 200 and "error" not in json.loads(data), data
    finally:
        e.stop()


@test
def port_in_use_and_signals(t):
    rc, _, err = run_salvo("target", "--listen", "127.0.0.1:%d" % t.port, timeout=30)
    assert rc == 1 and err.startswith("salvo: cannot listen on") and "in use" in err, (rc, err)
    other = Target("--seed", "3")
    assert other.get("/health")[0] == 200
    assert other.stop(signal.SIGINT) == 0, other.err()


def main():
    if not os.access(SALVO_BIN, os.X_OK):
        log("FAIL setup: %s is not an executable (build it or set SALVO_BIN)" % SALVO_BIN)
        print("[  FAILED  ] 1 test(s)", flush=True)
        return 1
    passed = failed = 0
    shared = None
    try:
        shared = Target()
        for fn in TESTS:
            start = time.monotonic()
            try:
                fn(shared)
                passed += 1
                log("ok   %s (%.2fs)" % (fn.__name__, time.monotonic() - start))
            except Exception as e:  # a failed test must not stop the others
                failed += 1
                log("FAIL %s: %s" % (fn.__name__, e))
                traceback.print_exc(file=sys.stdout)
        assert shared.proc.poll() is None, "the shared target died: %s" % shared.err()
        rc = shared.stop()
        if rc != 0:
            raise AssertionError("exit code %d after SIGTERM; stderr: %s" % (rc, shared.err()))
        passed += 1
        log("ok   sigterm_exits_0")
    except Exception as e:
        failed += 1
        log("FAIL %s" % e)
    print("[  PASSED  ] %d test(s)." % passed, flush=True)
    if failed:
        print("[  FAILED  ] %d test(s)" % failed, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
