"""test_dashboard.py — `--dashboard ADDR`: the live page and its JSON feed.

- The feed (plain HTTP): GET /data answers at once with the run's
  description, the state and the rows so far; a long poll
  (/data?from=N&wait=1) comes back with row N as soon as that second is
  merged; a long poll still held when the run ends is answered with
  "ended": true and the final verdict. Hostile clients: more idle
  connections than the server's 32 slots are closed at once, an oversized
  request head gets 431, a non-numeric or negative from gets 400 with its
  reason on one line, an idle one is dropped after its 5 s deadline, and
  none of them holds salvo: it exits on time (the planned duration plus a
  margin for start and drain) with the port closed behind it.
- --dashboard-linger keeps the final state served after the run; Ctrl-C
  ends the wait with the run's own exit code.
- With --scrape (here `salvo target`'s own /metrics), the feed carries the
  scraped series while the run goes on: a "scrape" array whose counter
  series has per-second points near the request rate, before the run ends.
- Headless Chromium (Debian's chromium, as in test_report.py) loads the
  page mid-run through the DevTools protocol (a minimal WebSocket client
  here, Python stdlib only) and reads its numbers twice: the elapsed
  seconds and requests sent must advance between the reads, the latency
  chart must have a drawn line; after the run the same page says
  'run ended' and keeps its numbers.
"""

import base64
import json
import os
import signal
import socket
import struct
import subprocess
import time
import urllib.request

import harness as h
from harness import check, test

CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
nginx = None


def setup():
    global nginx
    nginx = h.Nginx().start()


def get(port, path, timeout=5):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return r.status, r.headers, r.read()


def feed(port, path="/data", timeout=5):
    status, _, body = get(port, path, timeout)
    check(status == 200, "GET %s: %d" % (path, status))
    return json.loads(body)


def wait_feed(port, s, want_rows=1, within=8.0):
    """Polls /data until it has want_rows rows; salvo must still run."""
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        check(s.proc.poll() is None, "salvo exited early (%s)" % s.proc.returncode)
        try:
            last = feed(port)
            if last["nrows"] >= want_rows:
                return last
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("no %d rows on the feed within %.0f s: %s" % (want_rows, within, str(last)[:400]))


def dashboard_run(duration, extra=()):
    port = h.free_port()
    s = h.Salvo(["run", nginx.url, "-r", "100", "-d", duration, "-t", "1", "-q", "--allow-invalid",
                 "--threshold", "errors.rate < 50%", "--dashboard", "127.0.0.1:%d" % port] + list(extra))
    return port, s


@test
def feed_long_poll_hostile_clients_and_exit_on_time():
    port, s = dashboard_run("6s")
    idle = []
    try:
        d = wait_feed(port, s)
        check(d["run"]["url"] == nginx.url and d["run"]["duration_s"] == 6, "run: %s" % d["run"])
        row = d["rows"][0]
        for k in ("t", "sent", "done", "errors", "p50_us", "p99_us", "inflight", "conns", "intended"):
            check(k in row, "row without %r: %s" % (k, row))
        check(row["t"] == 0 and row["intended"] > 0, "first row: %s" % row)
        thr = d["state"]["thresholds"]
        check(thr and thr[0]["expr"] == "errors.rate < 50%" and thr[0]["pass"] in (True, None),
              "live thresholds: %s" % thr)
        check(d["ended"] is False and d["state"]["verdict"] == "RUNNING", "state: %s" % d["state"])
        # The long poll: held until the next second is merged, then exactly that row.
        n = d["nrows"]
        t0 = time.monotonic()
        nxt = feed(port, "/data?from=%d&wait=1" % n, timeout=5)
        took = time.monotonic() - t0
        check(nxt["from"] == n and nxt["rows"] and nxt["rows"][0]["t"] == n,
              "long poll from %d gave from %s, rows %s" % (n, nxt["from"], [r["t"] for r in nxt["rows"]]))
        check(took < 2.6, "the long poll took %.2f s (a second is merged every 1 s)" % took)
        status, headers, page = get(port, "/")
        check(status == 200 and b"<svg id=\"ch-lat\"" in page and b"/data?from=" in page, "the page")
        check("connect-src 'self'" in headers.get("Content-Security-Policy", ""), "CSP: %s" % dict(headers))
        for bad in (b"src=\"http", b"href=\"http", b"@import", b"url("):
            check(bad not in page, "the page references something outside itself: %r" % bad)
        # Hostile clients: an oversized head, then more idle sockets than slots.
        big = socket.create_connection(("127.0.0.1", port), timeout=5)
        big.sendall(b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n")
        answer = big.recv(200)
        big.close()
        check(answer.startswith(b"HTTP/1.1 431"), "an oversized request head got %r" % answer[:60])
        for _ in range(40):
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            c.settimeout(0.05)
            idle.append(c)
        time.sleep(0.5)
        closed = 0
        for c in idle:
            try:
                closed += c.recv(1) == b""
            except (socket.timeout, BlockingIOError):
                pass
            except ConnectionResetError:
                closed += 1
        check(closed >= 8, "40 idle connections and %d were closed: the server keeps at most 32" % closed)
        for c in idle:
            c.close()
        idle = []
        # A poll still held when the run ends gets the final state.
        held = socket.create_connection(("127.0.0.1", port), timeout=8)
        rebound = socket.create_connection(("127.0.0.1", port), timeout=5)
        rebound.sendall(b"GET /data HTTP/1.1\r\nHost: attacker.example:%d\r\n\r\n" % port)
        check(rebound.recv(64).startswith(b"HTTP/1.1 403"), "a foreign Host (DNS rebinding) must get 403")
        rebound.close()
        for q in ("abc", "-1", ""):  # not every row: a one-line reason
            bad = socket.create_connection(("127.0.0.1", port), timeout=5)
            bad.sendall(b"GET /data?from=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % q.encode())
            answer = bad.recv(4096)
            bad.close()
            head, _, body = answer.partition(b"\r\n\r\n")
            check(head.startswith(b"HTTP/1.1 400") and b"'from'" in body and body.count(b"\n") == 1,
                  "/data?from=%s got %r" % (q, answer[:300]))
        held.sendall(b"GET /data?from=100000&wait=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        lingering = socket.create_connection(("127.0.0.1", port), timeout=8)  # says nothing, ever
        rc, _, _, err = s.finish(timeout=30)
        elapsed = s.elapsed
        raw = b""
        while True:
            chunk = held.recv(65536)
            if not chunk:
                break
            raw += chunk
        held.close()
        lingering.close()
    except BaseException:
        if s.proc.poll() is not None:
            rc, _, _, err = s.finish(timeout=5)
            h.log("  salvo had exited %d after %.2f s: %s" % (rc, time.monotonic() - s.t_start, err.strip()[-500:]))
        raise
    finally:
        for c in idle:
            c.close()
    check(rc == 0, "the run exited %d: %s" % (rc, err.strip()[-300:]))
    check(elapsed < 6 + 3.5, "a 6 s run with a dashboard and an idle client took %.2f s to exit" % elapsed)
    head, _, body = raw.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 200"), "the held poll got %r" % raw[:80])
    final = json.loads(body)
    check(final["ended"] is True and final["state"]["verdict"] == "PASS" and final["state"]["exit_code"] == 0,
          "final state: %s" % final["state"])
    check(final["state"]["thresholds"][0]["pass"] is True, "final thresholds: %s" % final["state"]["thresholds"])
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        raise AssertionError("the dashboard port still accepts after salvo exited")
    except ConnectionRefusedError:
        pass
    h.log("  exit after %.2f s of a 6 s run; %d of 40 surplus idle sockets closed at once" % (elapsed, closed))


@test
def linger_serves_the_final_state_and_ctrl_c_ends_it():
    port, s = dashboard_run("1s", ["--dashboard-linger", "20s"])
    deadline = time.monotonic() + 10
    d = None
    while time.monotonic() < deadline:
        check(s.proc.poll() is None, "salvo exited during its linger (%s)" % s.proc.returncode)
        try:
            d = feed(port)
            if d["ended"]:
                break
        except OSError:
            pass
        time.sleep(0.2)
    check(d and d["ended"] and d["state"]["verdict"] == "PASS", "no final state while lingering: %s" % d)
    t0 = time.monotonic()
    s.signal(signal.SIGINT)
    rc, _, _, err = s.finish(timeout=10)
    took = time.monotonic() - t0
    check(rc == 0, "Ctrl-C during the linger must keep the run's exit code 0, got %d: %s" % (rc, err[-300:]))
    check(took < 2, "Ctrl-C ended the linger after %.2f s" % took)


@test
def scraped_series_on_the_feed_mid_run():
    tgt = subprocess.Popen([h.SALVO_BIN, "target", "--listen", "127.0.0.1:0"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    s = None
    try:
        line = tgt.stdout.readline()  # bounded: the target prints it before serving or exits
        check(line.startswith("listening on 127.0.0.1:"), "target did not start: %r" % line)
        tport = int(line.split(":")[1].split()[0])
        port = h.free_port()
        s = h.Salvo(["run", "http://127.0.0.1:%d/health" % tport, "-r", "100", "-d", "6s", "-t", "1", "-q",
                     "--scrape", "http://127.0.0.1:%d/metrics" % tport, "--scrape-match", "requests_total", "--allow-invalid",
                     "--dashboard", "127.0.0.1:%d" % port])
        deadline = time.monotonic() + 8
        d, hold = None, None
        while time.monotonic() < deadline and hold is None:
            check(s.proc.poll() is None, "salvo exited before the feed had scraped points (%s)" % s.proc.returncode)
            try:
                d = feed(port)
            except OSError:
                d = None
            for se in (d or {}).get("scrape") or []:
                pts = [p for p in se.get("points", []) if p[1] is not None]
                if se["name"] == 'salvo_target_requests_total{code="200"}' and len(pts) >= 2:
                    hold = se
            time.sleep(0.2)
        check(hold is not None, "no scraped counter with 2 points on the live feed: %s" % str(d)[:600])
        check(d["ended"] is False, "the points came only after the run: %s" % d["state"])
        check(hold.get("unit") == "/s", "a counter's unit is /s: %s" % hold)
        vals = [p[1] for p in hold["points"] if p[1] is not None]
        check(all(isinstance(p[0], int) and p[0] >= 0 for p in hold["points"]), "points: %s" % hold["points"])
        check(any(50 <= v <= 200 for v in vals), "the 200s' rate should be near 100/s: %s" % vals)
        rc, _, _, err = s.finish(timeout=20)
        check(rc == 0, "exit %d: %s" % (rc, err[-300:]))
        h.log("  live scrape: %d series, 200s/s %s" % (len(d["scrape"]), vals))
    finally:
        if s and s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait(timeout=5)
        tgt.terminate()  # by PID: our own child
        tgt.wait(timeout=5)


# ---------------------------------------------------------------- headless chromium via DevTools


class DevTools:
    """A minimal DevTools client: one page target over a WebSocket (RFC 6455, client side)."""

    def __init__(self, ws_url):
        assert ws_url.startswith("ws://")
        hostport, _, path = ws_url[5:].partition("/")
        host, _, port = hostport.partition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=20)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key))
                          .encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            check(chunk, "DevTools closed the WebSocket handshake")
            head += chunk
        check(head.startswith(b"HTTP/1.1 101"), "DevTools handshake: %r" % head[:200])
        self.buf = head.split(b"\r\n\r\n", 1)[1]
        self.next_id = 0

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            check(chunk, "DevTools closed the WebSocket")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _frame(self):
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._read(8))[0]
        return b0 & 0x0F, self._read(n)

    def call(self, method, **params):
        self.next_id += 1
        msg = json.dumps({"id": self.next_id, "method": method, "params": params}).encode()
        mask = os.urandom(4)
        hdr = bytes([0x81]) + (bytes([0x80 | len(msg)]) if len(msg) < 126 else
                               bytes([0x80 | 126]) + struct.pack(">H", len(msg)))
        self.sock.sendall(hdr + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(msg)))
        for _ in range(1000):
            op, data = self._frame()
            if op == 1:
                reply = json.loads(data)
                if reply.get("id") == self.next_id:
                    return reply
        raise AssertionError("no DevTools reply to %s" % method)

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        res = r.get("result", {})
        if "exceptionDetails" in res or "error" in r:
            h.log("  DevTools: %s" % json.dumps(r)[:400])
        return res.get("result", {}).get("value")

    def close(self):
        self.sock.close()


def start_chromium(url, work):
    profile = os.path.join(work, "profile")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--remote-debugging-port=0", "--user-data-dir=" + profile, url]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and not os.path.exists(port_file):
        check(p.poll() is None, "chromium exited (%s) before opening DevTools" % p.returncode)
        time.sleep(0.1)
    check(os.path.exists(port_file), "chromium opened no DevTools port in 40 s")
    time.sleep(0.1)
    with open(port_file) as f:
        dt_port = int(f.readline())
    return p, dt_port


def page_target(dt_port, url):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % dt_port, timeout=5) as r:
            for t in json.load(r):
                if t.get("type") == "page" and t.get("url", "").startswith(url):
                    return t["webSocketDebuggerUrl"]
        time.sleep(0.2)
    raise AssertionError("no page target for %s" % url)


READ = ("document.getElementById('elapsed') && JSON.stringify({rows: +(document.body.dataset.rows||0), elapsed: +document.getElementById('elapsed')"
        ".dataset.v, sent: +document.getElementById('sent').dataset.v, live: document.getElementById('live')"
        ".textContent, word: document.getElementById('verdict-word').textContent, "
        "p99: document.getElementById('p99').textContent, "
        "paths: [...document.querySelectorAll('#ch-lat path.line')].filter(p => p.getAttribute('d')).length})")


def read_page(dt, loaded=True):
    """The page's figures; None while it is still loading (when loaded is False)."""
    v = dt.eval(READ)
    if not v and not loaded:
        return None
    check(v, "the page could not be read")
    return json.loads(v)


@test
def chromium_page_advances_mid_run_and_keeps_its_final_state():
    h.require_tool(CHROMIUM, "scripts/install-deps.sh installs chromium")
    work = h.make_temp_dir("salvo-dash-chromium-")
    port, s = dashboard_run("10s")
    p = None
    dt = None
    try:
        wait_feed(port, s)
        url = "http://127.0.0.1:%d/" % port
        p, dt_port = start_chromium(url, work)
        dt = DevTools(page_target(dt_port, url))
        first = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            first = read_page(dt, loaded=False)
            if first and first["rows"] >= 1 and first["paths"] >= 1:
                break
            time.sleep(0.3)
        check(first and first["rows"] >= 1, "the page drew no second in 20 s: %s" % first)
        check(first["live"] == "live" and first["word"] == "RUNNING", "mid-run page: %s" % first)
        time.sleep(2.2)
        second = read_page(dt)
        h.log("  page mid-run: %s, then %s" % (first, second))
        check(second["elapsed"] > first["elapsed"] and second["sent"] > first["sent"] and
              second["rows"] > first["rows"],
              "the page's numbers did not advance in 2.2 s: %s then %s" % (first, second))
        check(second["paths"] >= 2 and second["p99"] not in ("", "—"), "the latency chart is empty: %s" % second)
        rc, _, _, err = s.finish(timeout=40)
        check(rc == 0, "the run exited %d: %s" % (rc, err.strip()[-300:]))
        deadline = time.monotonic() + 6
        last = read_page(dt)
        while time.monotonic() < deadline and last["live"] != "run ended":
            time.sleep(0.3)
            last = read_page(dt)
        h.log("  page after the run: %s" % last)
        check(last["live"] == "run ended" and last["rows"] >= second["rows"] and last["sent"] >= second["sent"],
              "after the run the page must say 'run ended' and keep its numbers: %s" % last)
        check(last["word"] == "PASS", "the final verdict on the page is %r" % last["word"])
    finally:
        if dt:
            dt.close()
        if p and p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)
        h.remove_temp_dir(work)


if __name__ == "__main__":
    h.main(setup=setup)
