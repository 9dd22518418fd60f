"""test_http2.py — HTTP/2 against real servers: nginx (h2 by ALPN over TLS)
and nghttpd (h2c with prior knowledge).

- ALPN: https against nginx with http2 speaks h2 (the JSON's protocol says
  so and the h2 figures count its connections); --http1.1 forces
  HTTP/1.1 against the same server; against nginx without http2 the
  default falls back to HTTP/1.1 and --http2 fails every request with the
  kind h2_not_negotiated, one clear line on stderr, exit 1 (ERROR).
- h2c against nghttpd with a stream limit of 4: every request ok, never
  more than 4 streams in flight on a connection, the limit it sent is
  reported.
- Flow control: 1 MB responses on 10 streams of one connection (more
  than both 65 535-byte windows) and 200 kB POST bodies complete, every
  byte counted.
- GOAWAY: nginx with keepalive_requests 300 ends each connection with a
  GOAWAY; across 20 000 requests none is lost (h2load loses many there:
  bench/h2.sh prints both).
- A 1 s SIGSTOP of nginx's worker (h2c) with --timeout 300ms: the
  streams in flight time out, are reset with CANCEL, and the connections
  serve on after the freeze.
- Contradictory protocol options are usage errors (exit 2) before any
  traffic.

Every request is accounted (scheduled = ok + http_error + failed +
timeout + unsent) in every run. Loopback only; every run and wait is
bounded.
"""

import os
import signal
import subprocess
import time

import harness as h
from harness import check, check_counts_add_up, excerpt, test

BIG = 1 << 20  # bytes of nghttpd's big.bin: 16 times both 65 535-byte windows
nginx_h2 = None  # TLS with http2
nginx_h1 = None  # TLS without http2
nginx_goaway = None  # TLS with http2, keepalive_requests 300


class Nghttpd:
    """nghttpd (Debian nghttp2-server) serving a small file over h2c on 127.0.0.1."""

    def __init__(self, max_streams):
        self.max_streams = max_streams
        self.port = h.free_port()
        self.dir = None
        self.proc = None

    @property
    def url(self):
        return "http://127.0.0.1:%d/index.html" % self.port

    def start(self, timeout=10.0):
        exe = h.require_tool("nghttpd")
        self.dir = h.make_temp_dir("salvo-e2e-nghttpd-")
        with open(os.path.join(self.dir, "index.html"), "w") as f:
            f.write("hello over h2c\n")
        with open(os.path.join(self.dir, "big.bin"), "wb") as f:
            f.write(os.urandom(BIG))
        self.proc = subprocess.Popen(
            [exe, "--no-tls", "-m", str(self.max_streams), "-d", self.dir, str(self.port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            check(self.proc.poll() is None, "nghttpd exited with %s" % self.proc.returncode)
            if h.port_answers(self.port):
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("nghttpd did not answer on port %d" % self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.dir:
            h.remove_temp_dir(self.dir)
            self.dir = None


def setup():
    global nginx_h2, nginx_h1, nginx_goaway
    nginx_h2 = h.Nginx(tls=True, http2=True, access_log=False).start()
    nginx_h1 = h.Nginx(tls=True, access_log=False).start()
    nginx_goaway = h.Nginx(tls=True, http2=True, access_log=False, keepalive_requests=300).start()


def teardown():
    for n in (nginx_h2, nginx_h1, nginx_goaway):
        if n:
            n.stop()


def run_ok(args, timeout=40):
    """Runs salvo; returns (data, counts) after checking a JSON exists and its outcomes add up."""
    rc, data, out, err = h.run_salvo(["run"] + args + ["--allow-invalid"], timeout=timeout)
    check(rc >= 0, "salvo died from signal %d" % -rc)
    check(data is not None, "no results JSON (rc %d); stderr: %s" % (rc, err.strip()[-500:]))
    return rc, data, check_counts_add_up(data), err


@test
def alpn_picks_h2():
    rc, data, c, err = run_ok([nginx_h2.url, "-k", "-r", "400", "-d", "2s", "-c", "4"])
    check(c["ok"] == c["scheduled"] and c["scheduled"] == 800,
          "every request should be ok: %s %s" % (c, excerpt(data, "errors")))
    check(data["protocol"] == "h2", "protocol %r, want h2 (ALPN offered h2)" % data["protocol"])
    check(data["config"]["protocol"] == "auto", "config.protocol %r" % data["config"]["protocol"])
    check(data["h2"]["conns"] >= 1 and data["h2"]["conns"] == data["pool"]["opened"],
          "h2 connections %s of %s opened" % (data["h2"]["conns"], data["pool"]["opened"]))
    check(rc == 0, "exit code %d, want 0" % rc)


@test
def http11_forced():
    rc, data, c, err = run_ok([nginx_h2.url, "-k", "-r", "200", "-d", "1s", "--http1.1"])
    check(c["ok"] == c["scheduled"] > 0, "every request should be ok: %s" % c)
    check(data["protocol"] == "http/1.1", "protocol %r, want http/1.1 (--http1.1)" % data["protocol"])
    check(data["h2"]["conns"] == 0, "h2 figures counted connections: %s" % data["h2"])


@test
def alpn_falls_back_to_http11():
    rc, data, c, err = run_ok([nginx_h1.url, "-k", "-r", "200", "-d", "1s"])
    check(c["ok"] == c["scheduled"] > 0, "every request should be ok: %s" % c)
    check(data["protocol"] == "http/1.1", "protocol %r against a server without h2" % data["protocol"])


@test
def http2_required_fails_clearly():
    rc, data, c, err = run_ok([nginx_h1.url, "-k", "-r", "100", "-d", "1s", "--http2"])
    check(c["failed"] == c["scheduled"] > 0, "every request should fail: %s" % c)
    h.check_errors_named(data, ["h2_not_negotiated"], total=c["failed"])
    check("h2" in data["first_error"] and "ALPN" in data["first_error"],
          "first_error does not say why: %r" % data["first_error"])
    said = [l for l in err.splitlines() if "ALPN" in l]
    check(len(said) == 1 and said[0].startswith("salvo: ERROR: ") and "h2" in said[0],
          "want one stderr line saying the server did not pick h2, got %r" % err[-600:])
    check(rc == 1, "exit code %d, want 1 (no response at all)" % rc)


@test
def h2c_stream_limit_honoured():
    srv = Nghttpd(max_streams=4).start()
    try:
        rc, data, c, err = run_ok([srv.url, "--h2c", "-r", "2000", "-d", "2s", "-c", "2", "-t", "1"])
    finally:
        srv.stop()
    check(c["ok"] == c["scheduled"] == 4000, "every request should be ok: %s %s" % (c, excerpt(data, "errors")))
    check(data["protocol"] == "h2c", "protocol %r, want h2c" % data["protocol"])
    h2 = data["h2"]
    check(h2["settings_max_streams_min"] == 4, "the server's limit was not seen: %s" % h2)
    check(1 <= h2["streams_max"] <= 4, "streams in flight max %s, above the server's limit 4" % h2["streams_max"])
    check(data["pool"]["max_open"] <= 2, "max open %s above -c 2" % data["pool"]["max_open"])


@test
def flow_control_large_bodies():
    srv = Nghttpd(max_streams=100).start()
    body = os.path.join(srv.dir, "body.txt")
    with open(body, "w") as f:
        f.write("a" * 200000)  # three times the 65 535-byte stream window
    try:
        rc, data, c, err = run_ok([srv.url.replace("index.html", "big.bin"), "--h2c", "--closed", "-c", "1",
                                   "--streams", "10", "-d", "1s", "-t", "1"])
        rc2, post, c2, err2 = run_ok([srv.url, "--h2c", "-m", "POST", "--body-file", body, "-r", "50", "-d", "1s",
                                      "-c", "2", "-t", "1"])
    finally:
        srv.stop()
    check(c["ok"] == c["scheduled"] >= 10, "1 MB responses on 10 streams: %s %s" % (c, excerpt(data, "errors")))
    check(data["h2"]["streams_max"] == 10, "streams in flight max %s, want 10" % data["h2"]["streams_max"])
    check(data["bytes"]["in"] >= c["ok"] * BIG, "bytes in %d for %d responses of %d bytes"
          % (data["bytes"]["in"], c["ok"], BIG))
    check(c2["ok"] == c2["scheduled"] == 50, "200 kB POST bodies: %s %s" % (c2, excerpt(post, "errors")))
    check(post["bytes"]["out"] >= 50 * 200000, "bytes out %d for 50 bodies of 200 kB" % post["bytes"]["out"])


@test
def goaway_loses_nothing():
    rc, data, c, err = run_ok([nginx_goaway.url, "-k", "-r", "4000", "-d", "5s", "-c", "4"], timeout=60)
    check(c["scheduled"] == 20000, "scheduled %d, want 20000" % c["scheduled"])
    check(c["ok"] == c["scheduled"],
          "requests lost across GOAWAYs: %s %s" % (c, excerpt(data, "errors", "pool", "h2")))
    check(data["protocol"] == "h2", "protocol %r" % data["protocol"])
    # 300 requests per connection, and at the end up to -c 4 connections are open short of their 300th:
    # at least (20000 - 4 * 299) / 300 = 62.7 connections ended by a GOAWAY (64 of 68 were seen here).
    want = -(-(20000 - 4 * 299) // 300)
    check(data["h2"]["goaways"] >= want, "GOAWAYs %s, want %d: %s" % (data["h2"]["goaways"], want, data["h2"]))


@test
def timeout_cancels_streams_in_a_freeze():
    srv = h.Nginx(http2=True, access_log=False).start()  # h2c
    try:
        run = h.Salvo(["run", "http://127.0.0.1:%d/" % srv.port, "--h2c", "-r", "200", "-d", "3s", "-c", "2",
                       "--timeout", "300ms", "--allow-invalid"])
        time.sleep(1.0)
        worker = srv.worker_pid()
        os.kill(worker, signal.SIGSTOP)
        try:
            time.sleep(1.0)
        finally:
            os.kill(worker, signal.SIGCONT)
        rc, data, out, err = run.finish(30)
    finally:
        srv.stop()
    check(data is not None, "no results JSON (rc %d); stderr: %s" % (rc, err.strip()[-500:]))
    c = check_counts_add_up(data)
    check(c["scheduled"] == 600, "scheduled %d, want 600" % c["scheduled"])
    # A 1 s freeze at 200/s with a 300 ms timeout: roughly 140 to 200 requests time out.
    check(100 <= c["timeout"] <= 260, "timeouts %d for a 1 s freeze: %s" % (c["timeout"], c))
    check(c["failed"] == 0, "failures: %s" % excerpt(data, "errors"))
    check(data["h2"]["cancels"] >= 1 and data["h2"]["cancels"] <= c["timeout"],
          "streams cancelled at the timeout: %s, timeouts %d" % (data["h2"], c["timeout"]))
    check(c["ok"] >= 300, "the connection did not serve on after the freeze: %s" % c)


@test
def contradictory_options_are_usage_errors():
    port = h.free_port()  # nothing listens: a usage error must come before any traffic
    cases = [
        (["https://127.0.0.1:%d/" % port, "--h2c"], "--h2c"),
        (["http://127.0.0.1:%d/" % port, "--http2"], "--http2"),
        (["https://127.0.0.1:%d/" % port, "--http2", "--http1.1"], "--http1.1"),
        (["http://127.0.0.1:%d/" % port, "--h2c", "--pipeline", "4"], "--pipeline"),
        (["https://127.0.0.1:%d/" % port, "--http1.1", "--streams", "8"], "--streams"),
        (["http://127.0.0.1:%d/" % port, "--streams", "8"], "--streams"),
    ]
    for args, culprit in cases:
        rc, data, out, err = h.run_salvo(["run"] + args + ["-r", "10", "-d", "1s"], timeout=20, json_out=False)
        check(rc == 2, "%s: exit code %d, want 2; stderr %r" % (" ".join(args), rc, err[-300:]))
        lines = [l for l in err.strip().splitlines() if l]
        check(len(lines) == 1 and lines[0].startswith("salvo: ") and culprit in lines[0],
              "%s: want one 'salvo: ...' line naming %s, got %r" % (" ".join(args), culprit, err))


if __name__ == "__main__":
    h.main(setup=setup, teardown=teardown)
