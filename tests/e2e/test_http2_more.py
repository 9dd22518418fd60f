"""test_http2_more.py — HTTP/2 options, figures and combinations, against a
scripted python3-h2 server (tests/e2e/h2server.py), nghttpd, nginx and
`salvo chaos`.

- --h2-window 20, --h2-conn-window 1MiB, --h2-header-table 0 reach the
  server: its log shows SETTINGS_INITIAL_WINDOW_SIZE 1048575,
  HEADER_TABLE_SIZE 0 and a connection WINDOW_UPDATE of 1048576 - 65535;
  the server's own SETTINGS (7 streams, a 70000-byte window, an 8192-byte
  table) are counted in h2.settings once per connection.
- A server that allows 0 streams: the open model does not open a storm of
  connections (at most a dozen in 2 s at 200/s with one thread, where one
  per request would be 400); zero_limit and zero_holds count it; every
  request ends in one outcome.
- Request bodies of 200 000 bytes to a server that returns window credit
  100 ms late: every stream waited (h2.flow_wait), each at least 200 ms
  and never longer than its latency.
- --closed -r over h2c is paced like HTTP/1.1: about 400/s for 2 s on both.
- --chaos with an http_* toxic and --h2c is a usage error (exit 2);
  https:// without --http2 then offers http/1.1 only; a byte toxic
  (latency) through salvo chaos in front of nghttpd works over h2c.
- merge refuses shards that asked different protocols and marks shards
  that spoke different ones "mixed" (hint and warning); compare refuses
  runs that spoke different protocols.
- Bad values and HTTP/2 options with HTTP/1.1 are usage errors.

Loopback only; every run and wait is bounded.
"""

import json
import os
import subprocess
import sys
import time

import harness as h
from harness import check, check_counts_add_up, excerpt, test

HERE = os.path.dirname(os.path.abspath(__file__))
tmp = None


def h2_python():
    """An interpreter for h2server.py: this one if it imports python3-h2, else Debian's /usr/bin/python3."""
    if subprocess.run([sys.executable, "-c", "import h2"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode == 0:
        return sys.executable
    exe = h.require_tool("/usr/bin/python3", "scripts/install-deps.sh installs python3-h2")
    check(subprocess.run([exe, "-c", "import h2"], stderr=subprocess.DEVNULL).returncode == 0,
          "python3-h2 is missing: scripts/install-deps.sh installs it")
    return exe


class H2Server:
    """tests/e2e/h2server.py MODE on a free port; log() reads what it logged (JSON lines)."""

    def __init__(self, mode):
        self.mode = mode
        self.port = h.free_port()
        self.log_path = os.path.join(tmp, "h2server-%s-%d.log" % (mode, self.port))
        self.proc = None

    @property
    def url(self):
        return "http://127.0.0.1:%d/" % self.port

    def start(self):
        self.proc = subprocess.Popen([h2_python(), os.path.join(HERE, "h2server.py"), self.mode, str(self.port),
                                      self.log_path], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log_path + ".err", "w"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            check(self.proc.poll() is None, "h2server.py %s exited: %s" % (self.mode, self.stderr()))
            if h.port_answers(self.port):
                return self
            time.sleep(0.02)
        self.stop()
        raise AssertionError("h2server.py %s did not answer on port %d" % (self.mode, self.port))

    def stderr(self):
        try:
            with open(self.log_path + ".err") as f:
                return f.read()[-600:]
        except OSError:
            return ""

    def log(self):
        with open(self.log_path) as f:
            return [json.loads(l) for l in f if l.strip()]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Nghttpd:
    """nghttpd --no-tls serving index.html."""

    def __init__(self, max_streams=100):
        self.port = h.free_port()
        self.dir = os.path.join(tmp, "www-%d" % self.port)
        os.makedirs(self.dir)
        with open(os.path.join(self.dir, "index.html"), "w") as f:
            f.write("hello over h2c\n")
        self.proc = subprocess.Popen([h.require_tool("nghttpd"), "--no-tls", "-m", str(max_streams), "-d", self.dir,
                                      str(self.port)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not h.port_answers(self.port):
            check(self.proc.poll() is None and time.monotonic() < deadline, "nghttpd did not start")
            time.sleep(0.02)

    @property
    def url(self):
        return "http://127.0.0.1:%d/index.html" % self.port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)


def setup():
    global tmp
    tmp = h.make_temp_dir("salvo-e2e-h2more-")


def teardown():
    if tmp:
        h.remove_temp_dir(tmp)


last_stdout = ""


def run_ok(args, timeout=40):
    """Runs salvo run; returns (rc, data, counts, stderr) once a JSON exists and its outcomes add up."""
    global last_stdout
    rc, data, out, err = h.run_salvo(["run"] + args + ["--allow-invalid"], timeout=timeout)
    last_stdout = out
    check(rc >= 0, "salvo died from signal %d" % -rc)
    check(data is not None, "no results JSON (rc %d); stderr: %s" % (rc, err.strip()[-500:]))
    return rc, data, check_counts_add_up(data), err


def usage_error(args, culprit):
    rc, data, out, err = h.run_salvo(["run"] + args, timeout=20, json_out=False)
    check(rc == 2, "%s: exit code %d, want 2; stderr %r" % (" ".join(args), rc, err[-300:]))
    lines = [l for l in err.strip().splitlines() if l]
    check(len(lines) == 1 and lines[0].startswith("salvo: ") and culprit in lines[0],
          "%s: want one 'salvo: ...' line naming %s, got %r" % (" ".join(args), culprit, err))


@test
def windows_and_header_table_reach_the_server():
    srv = H2Server("echo").start()
    try:
        rc, data, c, err = run_ok([srv.url, "--h2c", "-r", "100", "-d", "1s", "-t", "1", "--h2-window", "20",
                                   "--h2-conn-window", "1MiB", "--h2-header-table", "0"])
    finally:
        srv.stop()
    check(c["ok"] == 100, "want 100 ok: %s %s" % (c, excerpt(data, "errors")))
    cfg = data["config"]
    check((cfg["h2_window"], cfg["h2_conn_window"], cfg["h2_header_table"]) == (1048575, 1048576, 0),
          "config says %s" % {k: cfg[k] for k in ("h2_window", "h2_conn_window", "h2_header_table")})
    log = srv.log()
    sent = [e["settings"] for e in log if e["event"] == "settings"]
    conns = data["h2"]["conns"]
    check(len(sent) == conns >= 1, "the server logged %d client SETTINGS for %d connections: %s" % (len(sent), conns, log))
    for s in sent:  # ids: 1 header table, 2 enable push, 4 initial window
        check(s.get("4") == 1048575 and s.get("1") == 0 and s.get("2") == 0, "client SETTINGS %s" % s)
    ups = [e["delta"] for e in log if e["event"] == "conn_window_update"]
    check(ups and ups[0] == 1048576 - 65535 and len(ups) >= conns,
          "connection WINDOW_UPDATEs %s, want %d first on each connection" % (ups, 1048576 - 65535))
    st = data["h2"]["settings"]
    want = {"max_concurrent_streams": {"7": conns}, "initial_window_size": {"70000": conns},
            "header_table_size": {"8192": conns}}
    for k, v in want.items():
        check(st.get(k) == v, "h2.settings.%s = %s, want %s (all: %s)" % (k, st.get(k), v, st))
    check("server SETTINGS: " in last_stdout and "max_concurrent_streams 7 (%d)" % conns in last_stdout,
          "the summary does not show the SETTINGS: %s" % last_stdout[-800:])


def write(data, name):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        json.dump(data, f)
    return path


@test
def zero_stream_limit_opens_no_storm():
    srv = H2Server("zero").start()
    try:
        rc, data, c, err = run_ok([srv.url, "--h2c", "-r", "200", "-d", "2s", "-t", "1", "--timeout", "500ms"])
    finally:
        srv.stop()
    h2 = data["h2"]
    check(c["scheduled"] == 400 and c["ok"] == 0, "want 400 scheduled, none answered: %s" % c)
    # Back-off 10, 20, 40 ... ms: about 9 connections in 2 s; one per request would be 400.
    check(2 <= data["pool"]["opened"] <= 15, "connections opened %s against a server allowing 0 streams: %s"
          % (data["pool"]["opened"], excerpt(data, "pool", "h2")))
    check(h2["zero_limit"] >= data["pool"]["opened"] - 1 and h2["zero_holds"] >= 1,
          "the back-off is not counted: %s" % h2)
    check(h2["settings"].get("max_concurrent_streams", {}).get("0") == h2["zero_limit"], "settings %s" % h2)
    check(c["timeout"] + c["failed"] == 400, "outcomes %s" % c)
    h.check_errors_named(data, ["h2_refused", "timeout", "eof", "conn_reset"])
    check(rc == 1, "no response at all: want exit 1 (ERROR), got %d" % rc)


@test
def flow_control_wait_is_timed():
    srv = H2Server("slowwin").start()
    body = os.path.join(tmp, "body200k")
    with open(body, "w") as f:
        f.write("x" * 200000)
    try:
        rc, data, c, err = run_ok([srv.url, "--h2c", "-m", "POST", "--body-file", body, "-r", "5", "-d", "1s",
                                   "-t", "1"])
    finally:
        srv.stop()
    check(c["ok"] == 5, "want 5 ok: %s %s" % (c, excerpt(data, "errors")))
    fw = data["h2"]["flow_wait"]
    # 200 000 bytes through 65 535-byte windows credited 100 ms late: three rounds, about 300 ms of waiting.
    check(fw["streams"] == 5, "streams that waited for window: %s, want 5" % fw)
    check(fw["total_ms"] >= 5 * 200 and fw["max_ms"] >= 200, "waits too short for 3 late credits: %s" % fw)
    lat_max_ms = data["latency_us"]["max"] / 1000
    check(fw["max_ms"] <= lat_max_ms + 1, "a stream waited %s ms, longer than the longest latency %.1f ms"
          % (fw["max_ms"], lat_max_ms))
    check(data["latency_us"]["p50"] >= 200e3, "latency p50 %s us below the 200 ms the window cost" %
          data["latency_us"]["p50"])


@test
def closed_rate_over_h2_is_paced_like_http1():
    srv = Nghttpd(max_streams=4)
    nginx = h.Nginx(access_log=False).start()
    try:
        rc, d2, c2, err = run_ok([srv.url, "--h2c", "--closed", "-r", "400", "-d", "2s", "-c", "4", "-t", "1"])
        rc1, d1, c1, err1 = run_ok(["http://127.0.0.1:%d/" % nginx.port, "--closed", "-r", "400", "-d", "2s", "-c",
                                    "4", "-t", "1"])
    finally:
        srv.stop()
        nginx.stop()
    for name, d, c in (("h2c", d2, c2), ("http/1.1", d1, c1)):
        check(d["protocol"] == name, "protocol %r, want %s" % (d["protocol"], name))
        check(c["ok"] == c["scheduled"], "%s: not every request ok: %s %s" % (name, c, excerpt(d, "errors")))
        check(h.within(d["rate"]["sent"], 800, 0.1), "%s: sent %s in 2 s at -r 400, want 800 +- 10%%"
              % (name, d["rate"]["sent"]))
    check(d2["h2"]["streams_max"] <= 4 and d2["pool"]["opened"] <= 4, "h2c: %s" % excerpt(d2, "pool", "h2"))


@test
def chaos_http_toxics_refused_with_h2_byte_toxics_work():
    srv = Nghttpd()
    chaos = h.Chaos(srv.port)
    nginx = h.Nginx(tls=True, http2=True, access_log=False).start()
    try:
        api = chaos.api_addr
        usage_error(["http://127.0.0.1:%d/" % chaos.port, "--h2c", "-r", "10", "-d", "2s", "--chaos",
                     "at=1s for=1s toxic=http_latency latency=100ms api=%s proxy=salvo" % api], "http_latency")
        # Without --http2, https:// offers http/1.1 alone so the http_* toxic means what it says.
        rc, data, c, err = run_ok(["https://127.0.0.1:%d/" % nginx.port, "-k", "-r", "50", "-d", "2s", "--chaos",
                                   "at=1s for=500ms toxic=http_status status=503 api=%s proxy=salvo" % api])
        check(data["protocol"] == "http/1.1" and data["h2"]["conns"] == 0,
              "https with an http_* toxic spoke %s: %s" % (data["protocol"], data["h2"]))
        rc, data, c, err = run_ok([chaos.url + "index.html", "--h2c", "-r", "100", "-d", "4s", "-t", "1", "--chaos",
                                   "at=1s for=2s toxic=latency latency=100ms api=%s proxy=salvo" % api])
    finally:
        chaos.stop()
        srv.stop()
        nginx.stop()
    check(data["protocol"] == "h2c" and c["ok"] == c["scheduled"] == 400,
          "over the latency toxic: %s %s %s" % (data["protocol"], c, excerpt(data, "errors")))
    w = data["chaos"][0]
    check(w["fired"] and w["requests"] >= 180, "the toxic window %s" % w)
    # The window's seconds: 2 delayed, at most one more partly (a late edge): the median is a delayed one.
    check(w["p50_us"] >= 100e3, "window p50 %s us: the 100 ms latency toxic did not delay h2 frames" % w["p50_us"])
    first = data["timeline"][0]
    check(first["p50_us"] < 50e3, "before the window latency p50 %s us" % first["p50_us"])


def salvo_cmd(args, timeout=30):
    p = subprocess.run([h.SALVO_BIN] + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


@test
def merge_and_compare_know_the_protocol():
    srv = Nghttpd()
    try:
        shards = []
        for k in (0, 1):
            rc, data, c, err = run_ok([srv.url, "--h2c", "-r", "200", "-d", "1s", "-t", "1", "--shard", "%d/2" % k])
            shards.append(write(data, "shard%d.json" % k))
        rc, data, c, err = run_ok([srv.url, "-r", "200", "-d", "1s", "-t", "1", "--shard", "1/2"])
        other = write(data, "shard1-h1.json")
    finally:
        srv.stop()
    merged = os.path.join(tmp, "merged.json")
    rc, out, err = salvo_cmd(["merge", shards[0], shards[1], "--json", merged, "-q"])
    check(rc == 0, "merge of two h2c shards: rc %d %s" % (rc, err))
    m = json.load(open(merged))
    s0, s1 = (json.load(open(p)) for p in shards)
    check(m["protocol"] == "h2c", "merged protocol %r" % m["protocol"])
    check(m["h2"]["conns"] == s0["h2"]["conns"] + s1["h2"]["conns"] and
          m["h2"]["streams_max"] == max(s0["h2"]["streams_max"], s1["h2"]["streams_max"]) and
          m["h2"]["settings_max_streams_min"] == 100,
          "merged h2 %s from %s and %s" % (m["h2"], s0["h2"], s1["h2"]))
    # Asked differently (--h2c against none): not one run.
    rc, out, err = salvo_cmd(["merge", shards[0], other, "--json", merged, "-q"])
    check(rc == 2 and "protocol" in err, "shards asking h2c and http/1.1 must be refused: rc %d %r" % (rc, err))
    # Spoken differently (as ALPN may answer shards of one https:// run): merged, flagged.
    s1["protocol"] = "http/1.1"
    rc, out, err = salvo_cmd(["merge", shards[0], write(s1, "shard1-spoke-h1.json"), "--json", merged, "-q"])
    m = json.load(open(merged))
    check(rc == 0 and m["protocol"] == "mixed", "rc %d, protocol %r" % (rc, m["protocol"]))
    check(any("shard 1: http/1.1" in x for x in m["hints"]) and "different protocols" in err,
          "the mix is not flagged: hints %s, stderr %r" % (m["hints"], err))
    # compare: what was spoken is part of comparability.
    rc, out, err = salvo_cmd(["compare", shards[0], write(dict(s0, protocol="h2"), "spoke-h2.json")])
    check(rc == 2 and "protocol spoken differs: h2c against h2" in err, "compare rc %d: %r" % (rc, err[-400:]))


@test
def bad_h2_options_are_usage_errors():
    port = h.free_port()  # nothing listens: a usage error must come before any traffic
    url, tls = "http://127.0.0.1:%d/" % port, "https://127.0.0.1:%d/" % port
    base = ["-r", "10", "-d", "1s"]
    usage_error([url, "--h2-window", "20"] + base, "--h2-window")
    usage_error([tls, "--http1.1", "--h2-header-table", "0"] + base, "--h2-header-table")
    usage_error([url, "--h2c", "--h2-window", "0"] + base, "--h2-window")
    usage_error([url, "--h2c", "--h2-conn-window", "3GiB"] + base, "--h2-conn-window")
    usage_error([url, "--h2c", "--h2-window", "2x"] + base, "--h2-window")
    usage_error([url, "--h2c", "--h2-header-table", "-1"] + base, "--h2-header-table")


if __name__ == "__main__":
    h.main(setup=setup, teardown=teardown)
