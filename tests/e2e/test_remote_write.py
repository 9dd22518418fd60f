"""test_remote_write.py — `--remote-write` into a real Prometheus, and receivers that fail.

A private Prometheus from Debian (the `prometheus` package that
scripts/install-deps.sh installs; its absence is a failure, not a skip) runs
with its remote-write receiver on, an empty scrape config and its TSDB in a
temp dir. salvo pushes a two-name run into it; after the run the HTTP API
must give back, per name, the request counters with exactly the JSON's
counts, the latency histogram and quantiles, and several samples in time
order (Prometheus refuses out-of-order samples with a 400, which salvo
would count as a dropped push: the test wants none).

Then three receivers that fail, each with a baseline run without
--remote-write to compare against: one that refuses the connection, one
that answers 500, one that accepts and never answers. Each costs exactly one
warning and a count of dropped pushes in the JSON; the exit code, the
counts and duration_s stay those of a healthy run, and the process ends at
most 5 s later than the baseline (RW_FINAL_BUDGET_NS is 4 s).
"""

import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request

import harness as h
from harness import check, test

nginx = None
prom = None  # (process, port, dir)
baseline = None  # (elapsed s, JSON) of a run without --remote-write
RUN = ["-r", "200", "-d", "3s", "-t", "1", "--allow-invalid"]


def stop_prometheus():
    global prom
    if prom is None:
        return
    proc, _, d = prom
    prom = None
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    h.remove_temp_dir(d)


def start_prometheus():
    global prom
    binary = shutil.which("prometheus")
    check(binary, "prometheus not found: scripts/install-deps.sh installs the prometheus package")
    d = h.make_temp_dir("salvo-rw-prom-")
    cfg = os.path.join(d, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
    port = h.free_port()
    # Debian 12's 2.42 has the flag; older ones spell it --enable-feature=remote-write-receiver.
    flag = "--web.enable-remote-write-receiver"
    helptext = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=20)
    if flag not in helptext.stdout + helptext.stderr:
        flag = "--enable-feature=remote-write-receiver"
    log = open(os.path.join(d, "prometheus.log"), "w")
    proc = subprocess.Popen([binary, flag, "--storage.tsdb.path", os.path.join(d, "data"),
                             "--web.listen-address", "127.0.0.1:%d" % port, "--config.file", cfg],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    log.close()
    prom = (proc, port, d)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        check(proc.poll() is None, "prometheus exited %s: %s" % (proc.returncode, prom_log()[-800:]))
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % port, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("prometheus not ready within 30 s: %s" % prom_log()[-800:])


def prom_log():
    with open(os.path.join(prom[2], "prometheus.log")) as f:
        return f.read()


def query(expr):
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (prom[1], urllib.parse.urlencode({"query": expr}))
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.loads(r.read())
    check(body.get("status") == "success", "query %s: %s" % (expr, body))
    return body["data"]["result"]


def setup():
    global nginx, baseline
    nginx = h.Nginx().start()
    start_prometheus()
    t0 = time.monotonic()
    rc, data, _, err = h.run_salvo(["run", nginx.url] + RUN + ["-q"], timeout=30)
    check(rc == 0 and data, "the baseline run exited %d: %s" % (rc, err[-300:]))
    baseline = (time.monotonic() - t0, data)
    h.log("  baseline: %.2f s, duration_s %.2f" % (baseline[0], data["duration_s"]))


def teardown():
    stop_prometheus()


def targets_file(d, *targets):
    """targets: (name, method, path); nginx answers 200 to a GET of any path, 405 to a POST of a file."""
    path = os.path.join(d, "targets.txt")
    with open(path, "w") as f:
        for name, method, p in targets:
            f.write("# name=%s\n%s %s%s\n\n" % (name, method, nginx.url.rstrip("/"), p))
    return path


def one_value(expr):
    res = query(expr)
    check(len(res) == 1, "%s: expected one series, got %d: %s" % (expr, len(res), res))
    return float(res[0]["value"][1])


@test
def counters_and_latency_reach_prometheus():
    d = h.make_temp_dir("salvo-rw-")
    try:
        targets = targets_file(d, ("alpha", "GET", "/alpha"), ("beta", "GET", "/beta"),
                               ("gamma", "POST", "/static.txt"))
        url = "http://127.0.0.1:%d/api/v1/write" % prom[1]
        rc, data, _, err = h.run_salvo(["run", "--targets", targets] + RUN +
                                       ["-q", "--remote-write", url, "--remote-write-header", "X-Scope-OrgID: salvo-test"],
                                       timeout=40)
    finally:
        h.remove_temp_dir(d)
    check(rc == 0 and data, "the run exited %d: %s" % (rc, err[-400:]))
    rw = data.get("remote_write")
    h.log("  remote_write: %s" % json.dumps(rw))
    check(rw and rw["dropped"] == 0 and rw["failed"] == 0 and rw["error"] is None,
          "pushes failed or were dropped: %s\nprometheus says: %s" % (rw, prom_log()[-600:]))
    check(rw["ok"] >= 3 and rw["seconds_dropped"] == 0,
          "expected a push per second and a final one: %s" % rw)
    check("remote write" not in err, "a healthy receiver drew a warning: %s" % err[-300:])
    check(data["groups"]["gamma"]["http_error"] > 0, "gamma got no 405: %s" % data["groups"]["gamma"])
    run_id = data["run_id"]
    sel = 'run_id="%s",shard="0/1"' % run_id
    for name, g in sorted(data["groups"].items()):
        done = g["ok"] + g["http_error"] + g["check_failed"] + g["failed"] + g["timeout"]
        errors = g["http_error"] + g["check_failed"] + g["failed"] + g["timeout"]
        check(done > 100, "group %s got too few requests to judge: %s" % (name, g))
        got = {o: one_value('salvo_requests_total{%s,name="%s",outcome="%s"}' % (sel, name, o))
               for o in ("sent", "done", "error")}
        h.log("  %s: prometheus %s, JSON done %d errors %d" % (name, got, done, errors))
        check(got["done"] == done and got["error"] == errors,
              "%s: prometheus has %s, the JSON done %d, errors %d" % (name, got, done, errors))
        check(got["sent"] >= done - g["timeout"] - g["failed"] and got["sent"] <= done,
              "%s: sent %s outside [answered, done %d]" % (name, got["sent"], done))
        count = one_value('salvo_latency_seconds_count{%s,name="%s"}' % (sel, name))
        inf = one_value('salvo_latency_seconds_bucket{%s,name="%s",le="+Inf"}' % (sel, name))
        check(count == g["latency_us"]["count"] and inf == count,
              "%s: latency count %s, +Inf bucket %s, JSON count %s" % (name, count, inf, g["latency_us"]["count"]))
        buckets = query('salvo_latency_seconds_bucket{%s,name="%s"}' % (sel, name))
        check(len(buckets) == 15, "%s: %d buckets, expected 15" % (name, len(buckets)))
        by_le = sorted((float(b["metric"]["le"]), float(b["value"][1])) for b in buckets)
        check(all(by_le[i][1] <= by_le[i + 1][1] for i in range(len(by_le) - 1)),
              "%s: buckets not cumulative: %s" % (name, by_le))
        p99 = one_value('salvo_latency_seconds{%s,name="%s",quantile="0.99"}' % (sel, name))
        check(abs(p99 * 1e6 - g["latency_us"]["p99"]) <= max(2, 0.01 * g["latency_us"]["p99"]),
              "%s: p99 %s s in prometheus, %s us in the JSON" % (name, p99, g["latency_us"]["p99"]))
        # Several samples, once a second, in time order (the range query returns them sorted; a
        # push out of order would have been refused and counted above).
        res = query('salvo_requests_total{%s,name="%s",outcome="done"}[5m]' % (sel, name))
        values = res[0]["values"]
        check(len(values) >= 4, "%s: only %d samples of the done counter: %s" % (name, len(values), values))
        check(all(float(values[i][1]) <= float(values[i + 1][1]) for i in range(len(values) - 1)),
              "%s: the counter went down: %s" % (name, values))
    # Over all names, the counters are the timeline's sums.
    for outcome, key in (("sent", "sent"), ("done", "done")):
        total = one_value('sum(salvo_requests_total{%s,outcome="%s"})' % (sel, outcome))
        want = sum(row[key] for row in data["timeline"])
        check(total == want, "sum of %s counters %s, the timeline's %s %d" % (outcome, total, key, want))
    # Every query of the shipped Grafana dashboard answers for this run.
    with open(os.path.join(h.REPO_ROOT, "deploy", "grafana", "salvo-remote-write.json")) as f:
        dash = json.load(f)
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    check(len(exprs) >= 8, "the dashboard has only %d queries" % len(exprs))
    for e in exprs:
        q = e.replace("$run_id", run_id).replace("$name", ".*").replace("$__rate_interval", "1m")
        check(query(q), "the dashboard query %s returns nothing for run %s" % (q, run_id))
    for gauge in ("salvo_inflight", "salvo_connections", "salvo_send_lag_p99_seconds", "salvo_valid"):
        check(len(query("%s{%s}" % (gauge, sel))) == 1, "no %s series for run %s" % (gauge, run_id))
    check(one_value("salvo_valid{%s}" % sel) == (1 if data["valid"] else 0),
          "salvo_valid is not the JSON's valid (%s)" % data["valid"])


class Answer500(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        self.server.posts += 1
        body = b"storage on fire\n"
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def serve_500():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer500)
    srv.posts = 0
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def hanging_receiver():
    """Accepts connections and reads them, never answers; returns (socket, stop event)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    stop = threading.Event()
    held = []

    def loop():
        while not stop.is_set():
            try:
                c, _ = srv.accept()
                c.settimeout(0.05)
                held.append(c)
            except socket.timeout:
                pass
            for c in held:
                try:
                    c.recv(65536)
                except (socket.timeout, OSError):
                    pass
        for c in held:
            c.close()
        srv.close()

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    return srv.getsockname()[1], stop, t


def failing_receiver_run(url, extra_s):
    t0 = time.monotonic()
    rc, data, _, err = h.run_salvo(["run", nginx.url] + RUN + ["-q", "--remote-write", url], timeout=40)
    elapsed = time.monotonic() - t0
    base_elapsed, base = baseline
    rw = data.get("remote_write") if data else None
    h.log("  %s: rc %d, %.2f s (baseline %.2f s), remote_write %s" % (url, rc, elapsed, base_elapsed, json.dumps(rw)))
    check(rc == 0 and data, "a failing receiver changed the exit code to %d: %s" % (rc, err[-400:]))
    warnings = [line for line in err.splitlines() if "remote write" in line]
    check(len(warnings) == 1, "expected one warning, got %d: %s" % (len(warnings), err[-600:]))
    check(rw and rw["dropped"] >= 1 and rw["ok"] == 0 and rw["error"],
          "the JSON does not count the dropped pushes: %s" % rw)
    check(rw["seconds_sent"] == 0 and rw["seconds_dropped"] >= 1, "seconds not counted as dropped: %s" % rw)
    check(abs(data["duration_s"] - base["duration_s"]) < 0.5,
          "duration_s %.2f, baseline %.2f" % (data["duration_s"], base["duration_s"]))
    check(data["requests"]["scheduled"] == base["requests"]["scheduled"],
          "scheduled %d, baseline %d" % (data["requests"]["scheduled"], base["requests"]["scheduled"]))
    check(data["requests"]["ok"] == base["requests"]["ok"],
          "ok %d, baseline %d" % (data["requests"]["ok"], base["requests"]["ok"]))
    check(elapsed <= base_elapsed + extra_s,
          "the run took %.2f s, the baseline %.2f s: more than %.1f s extra" % (elapsed, base_elapsed, extra_s))
    return rw, err


@test
def receiver_down_costs_one_warning():
    port = h.free_port()  # nothing listens: connection refused
    rw, err = failing_receiver_run("http://127.0.0.1:%d/api/v1/write" % port, 1.5)
    check("refused" in rw["error"], "the cause is not named: %s" % rw["error"])


@test
def receiver_500_costs_one_warning():
    srv = serve_500()
    try:
        rw, err = failing_receiver_run("http://127.0.0.1:%d/api/v1/write" % srv.server_address[1], 1.5)
    finally:
        srv.shutdown()
        srv.server_close()
    check("500" in rw["error"] and "storage on fire" in rw["error"], "the cause is not named: %s" % rw["error"])
    # Each failed push is retried once, with the same samples: every drop cost two attempts.
    check(rw["failed"] == 2 * rw["dropped"] and srv.posts == rw["pushes"],
          "attempts %d (server saw %d), failed %d, dropped %d" % (rw["pushes"], srv.posts, rw["failed"], rw["dropped"]))


@test
def receiver_that_hangs_delays_the_end_by_at_most_5s():
    port, stop, t = hanging_receiver()
    try:
        rw, err = failing_receiver_run("http://127.0.0.1:%d/api/v1/write" % port, 5.0)
    finally:
        stop.set()
        t.join(timeout=5)
    check("timed out" in rw["error"] or "deadline" in rw["error"], "the cause is not named: %s" % rw["error"])


@test
def bad_remote_write_options_exit_2_before_traffic():
    before = nginx.access_log_size()
    cases = [
        (["--remote-write", "ftp://127.0.0.1/x"], "remote-write"),
        (["--remote-write", "http://no-such-host.invalid/api/v1/write"], "remote-write"),
        (["--remote-write", "http://127.0.0.1:9/w", "--remote-write-header", "Bad Name: x"], "remote-write-header"),
        (["--remote-write", "http://127.0.0.1:9/w", "--remote-write-header", "Content-Type: text/plain"],
         "remote-write-header"),
        (["--remote-write", "http://127.0.0.1:9/w", "--remote-write-header", "no colon"], "remote-write-header"),
        (["--remote-write-header", "X-A: b"], "remote-write"),
    ]
    for extra, culprit in cases:
        rc, _, _, err = h.run_salvo(["run", nginx.url, "-r", "100", "-d", "1s"] + extra, timeout=20, json_out=False)
        check(rc == 2, "%s: exit %d, expected 2: %s" % (extra, rc, err.strip()[-300:]))
        lines = err.strip().splitlines()
        check(len(lines) == 1 and culprit in lines[0], "%s: expected one line naming --%s: %s" % (extra, culprit, err))
    time.sleep(0.3)
    check(nginx.access_log_size() == before, "a refused command line sent requests")


if __name__ == "__main__":
    h.main(setup=setup, teardown=teardown)
