"""test_exit_codes.py — exit codes and verdicts people script against.

The table (docs/thresholds.md): 130/143 INTERRUPTED > 2 usage > 1 ERROR >
98 INVALID > 99 FAIL > 0 PASS. Checked against real processes:
- SIGINT / SIGTERM mid-run exit 130 / 143, verdict INTERRUPTED, and the
  JSON and HTML are still written in full; also during a `--start-at` wait
  (which first says "waiting until ... (in ...)"); a second SIGINT while the
  results are being written kills salvo at once;
- nothing listening: exit 1 before any request, one line with the cause;
  a run that got no response at all (TLS against plain HTTP, every request
  timing out): exit 1 with the cause and no cache hint; all-503 is judged
  by thresholds (0 without, 99 with a failing one);
- unwritable outputs (under /proc, a directory, a missing directory) exit 2
  before any traffic; an unresolvable host exits 1; merge and report exit 2
  on an unreadable input or an unwritable output;
- `salvo target` and `salvo chaos` stopped by SIGINT / SIGTERM exit 0.
"""

import fcntl
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import harness as h
from harness import check, check_counts_add_up, test

state = {}
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


def setup():
    state["nginx"] = h.Nginx().start()


def teardown():
    if "nginx" in state:
        state["nginx"].stop()


def wait_for(pred, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def stderr_text(s):
    s._err.flush()
    with open(s._err.name) as f:
        return f.read()


def interrupted_run(sig, code, name):
    nginx = state["nginx"]
    html = os.path.join(h.make_temp_dir("salvo-e2e-exit-"), "r.html")
    s = h.Salvo(["run", nginx.url, "-r", "300", "-d", "10s", "-t", "1", "--allow-invalid", "--html", html])
    time.sleep(2.0)
    check(s.proc.poll() is None, "salvo ended before the signal (rc %s)" % s.proc.returncode)
    t0 = time.monotonic()
    s.signal(sig)
    rc, data, out, err = s.finish(timeout=20)
    took = time.monotonic() - t0
    h.log("  %s: exit %d after %.2f s" % (name, rc, took))
    check(rc == code, "%s mid-run: exit %d, want %d; stderr: %s" % (name, rc, code, err.strip()[-400:]))
    check(took < 5, "%s took %.1f s to end the run" % (name, took))
    check(data is not None, "%s: no results JSON" % name)
    check(data.get("interrupted") is True and data.get("interrupted_by") == name,
          "JSON says interrupted=%r by %r" % (data.get("interrupted"), data.get("interrupted_by")))
    c = check_counts_add_up(data)
    check(c["ok"] > 0, "requests before the signal should be ok: %s" % c)
    check("INTERRUPTED" in err, "no INTERRUPTED verdict on stderr: %s" % err.strip()[-400:])
    with open(html) as f:
        page = f.read()
    check(page.rstrip().endswith("</html>") and len(page) > 1000, "HTML incomplete (%d bytes)" % len(page))
    h.remove_temp_dir(os.path.dirname(html))


@test
def sigint_mid_run_exits_130_with_results():
    interrupted_run(signal.SIGINT, 130, "SIGINT")


@test
def sigterm_mid_run_exits_143_with_results():
    interrupted_run(signal.SIGTERM, 143, "SIGTERM")


@test
def kill_int_from_a_script_exits_130():
    """The issue's example: a non-interactive shell starts `salvo run … &` with SIGINT ignored."""
    d = h.make_temp_dir("salvo-e2e-exit-")
    js = os.path.join(d, "i.json")
    script = ("%s run %s -r 500 -d 5s -t 1 -q --allow-invalid --json %s & sleep 2; kill -INT $!; wait $!; echo $?"
              % (h.SALVO_BIN, state["nginx"].url, js))
    p = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    check(p.stdout.strip() == "130", "the script saw %r, want 130; %s" % (p.stdout, p.stderr[-300:]))
    with open(js) as f:
        check(json.load(f).get("interrupted_by") == "SIGINT", "JSON does not say SIGINT")
    h.remove_temp_dir(d)


@test
def sigint_during_start_at_wait_exits_130():
    nginx = state["nginx"]
    offset = nginx.access_log_size()
    start_at = int(time.time()) + 80
    s = h.Salvo(["run", nginx.url, "-r", "100", "-d", "2s", "--start-at", start_at])
    want = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start_at))
    said = wait_for(lambda: "waiting until" in stderr_text(s), 5)
    line = [ln for ln in stderr_text(s).splitlines() if "waiting until" in ln]
    check(said and line, "no 'waiting until' line: %r" % stderr_text(s))
    h.log("  %s" % line[0])
    m = re.search(r"waiting until (\S+) \(in (\d+)m(\d\d)s\)", line[0])
    check(m and m.group(1) == want, "want 'waiting until %s (in 1mNNs)': %r" % (want, line[0]))
    check(70 <= int(m.group(2)) * 60 + int(m.group(3)) <= 80, "wrong wait in %r" % line[0])
    time.sleep(0.5)
    check(s.proc.poll() is None, "salvo ended during the wait (rc %s)" % s.proc.returncode)
    t0 = time.monotonic()
    s.signal(signal.SIGINT)
    rc, data, out, err = s.finish(timeout=10)
    check(rc == 130, "SIGINT during the wait: exit %d, want 130; %s" % (rc, err.strip()[-300:]))
    check(time.monotonic() - t0 < 3, "the wait did not end at once")
    check(data is not None and data.get("interrupted") is True, "no interrupted results JSON")
    check(data["rate"]["sent"] == 0, "requests were sent before the start: %s" % data["rate"])
    check(nginx.access_log_size() == offset, "nginx got requests during the wait")


@test
def quiet_start_at_wait_says_nothing():
    """-q hides the wait line: the user gave the instant (docs/thresholds.md)."""
    s = h.Salvo(["run", state["nginx"].url, "-r", "10", "-d", "1s", "-q", "--start-at", int(time.time()) + 30])
    time.sleep(1.5)
    s.signal(signal.SIGTERM)
    rc, data, out, err = s.finish(timeout=10)
    check(rc == 143, "SIGTERM during a -q wait: exit %d" % rc)
    check("waiting until" not in err, "-q printed the wait: %r" % err)


@test
def second_sigint_kills_at_once():
    """The first SIGINT asks for results; a second one while they are written (here: into a full pipe) kills."""
    r, w = os.pipe()
    try:
        fcntl.fcntl(w, F_SETPIPE_SZ, 4096)
        err = open(os.path.join(h.make_temp_dir("salvo-e2e-exit-"), "stderr"), "w+")
        proc = subprocess.Popen([h.SALVO_BIN, "run", state["nginx"].url, "-r", "300", "-d", "10s", "-t", "1",
                                 "--allow-invalid", "--json", "-"], stdout=w, stderr=err, stdin=subprocess.DEVNULL)
        os.close(w)
        w = None
        try:
            time.sleep(2.0)
            os.kill(proc.pid, signal.SIGINT)
            text = lambda: open(err.name).read()
            check(wait_for(lambda: "stopping" in text(), 5), "no 'stopping' line after SIGINT: %r" % text())
            time.sleep(1.0)
            check(proc.poll() is None, "salvo ended although its JSON cannot fit the pipe (rc %s)" % proc.returncode)
            t0 = time.monotonic()
            os.kill(proc.pid, signal.SIGINT)
            rc = proc.wait(timeout=5)
            h.log("  second SIGINT: status %d after %.2f s" % (rc, time.monotonic() - t0))
            check(rc == -signal.SIGINT, "second SIGINT: status %d, want death by SIGINT (shell: 130)" % rc)
            check(time.monotonic() - t0 < 1.0, "the second SIGINT did not kill at once")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
            h.remove_temp_dir(os.path.dirname(err.name))
    finally:
        os.close(r)
        if w is not None:
            os.close(w)


@test
def nothing_listening_stops_before_sending():
    port = h.free_port()
    t0 = time.monotonic()
    rc, data, out, err = h.run_salvo(["run", "http://127.0.0.1:%d/" % port, "-r", "100", "-d", "5s"], timeout=20)
    lines = [ln for ln in err.splitlines() if "doctor" not in ln]
    check(rc == 1, "nothing listens: exit %d, want 1; %r" % (rc, err))
    check(time.monotonic() - t0 < 2.5, "the refusal came after the run")
    check(len(lines) == 1 and "ERROR" in lines[0] and "nothing listens" in lines[0] and str(port) in lines[0],
          "want one ERROR line naming the port: %r" % err)
    check(data is None, "a results JSON was written for a run that never started")


@test
def tls_to_plain_http_gets_no_response_exit_1():
    url = "https://127.0.0.1:%d/" % state["nginx"].port
    rc, data, out, err = h.run_salvo(["run", url, "-r", "50", "-d", "1s", "-q", "--allow-invalid"], timeout=30)
    check(rc == 1, "no response at all: exit %d, want 1; %s" % (rc, err.strip()[-300:]))
    check(data is not None and data["requests"]["ok"] + data["requests"]["http_error"] == 0, "responses came back?")
    check(re.search(r"ERROR: no response to any of \d+ requests: \S", err), "no ERROR line with the cause: %r" % err)
    check(data.get("runtime_error"), "JSON has no runtime_error")
    check(not any("cache" in x for x in data.get("hints", [])), "cache hint without responses: %s" % data["hints"])


@test
def all_timeouts_get_no_response_exit_1():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(512)  # the kernel completes handshakes; nobody ever answers
    try:
        url = "http://127.0.0.1:%d/" % srv.getsockname()[1]
        rc, data, out, err = h.run_salvo(["run", url, "-r", "20", "-d", "1s", "--timeout", "500ms", "-c", "20",
                                          "-q", "--allow-invalid"], timeout=30)
    finally:
        srv.close()
    check(rc == 1, "every request timed out: exit %d, want 1; %s" % (rc, err.strip()[-300:]))
    check(data is not None and data["requests"]["timeout"] > 0, "no timeouts counted: %s" % (data or {}).get("requests"))
    check("ERROR: no response" in err, "no ERROR line: %r" % err)


class Always503(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(503)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"busy\n")

    def log_message(self, *a):
        pass


@test
def all_503_is_for_thresholds_to_judge():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Always503)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        url = "http://127.0.0.1:%d/" % srv.server_address[1]
        base = ["run", url, "-r", "50", "-d", "1s", "-c", "4", "-t", "1", "-q", "--allow-invalid"]
        rc, data, out, err = h.run_salvo(base, timeout=30)
        check(rc == 0, "all 503 without thresholds: exit %d, want 0; %s" % (rc, err.strip()[-300:]))
        check(data["requests"]["http_error"] == data["requests"]["scheduled"] > 0, "%s" % data["requests"])
        rc, data, out, err = h.run_salvo(base + ["--threshold", "errors.rate < 1%"], timeout=30)
        check(rc == 99 and "FAIL" in err, "all 503 with a failing threshold: exit %d, want 99; %r" % (rc, err))
    finally:
        srv.shutdown()
        srv.server_close()


@test
def unwritable_outputs_exit_2_before_traffic():
    nginx = state["nginx"]
    d = h.make_temp_dir("salvo-e2e-exit-")
    for opt, path in (("--json", "/proc/x.json"), ("--json", d), ("--html", "/proc/x.html"),
                      ("--hlog", os.path.join(d, "missing", "x.hlog")), ("--html", d)):
        offset = nginx.access_log_size()
        t0 = time.monotonic()
        rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "100", "-d", "3s", opt, path], timeout=20,
                                         json_out=False)
        lines = err.strip().splitlines()
        check(rc == 2, "%s %s: exit %d, want 2; %r" % (opt, path, rc, err))
        check(len(lines) == 1 and path in lines[0] and "cannot write" in lines[0], "want one line: %r" % err)
        check(time.monotonic() - t0 < 2.0, "%s %s refused only after the run" % (opt, path))
        check(nginx.access_log_size() == offset, "%s %s: requests sent before the refusal" % (opt, path))
    check(os.listdir(d) == [], "the probe left files behind: %s" % os.listdir(d))
    h.remove_temp_dir(d)


@test
def unresolvable_host_exits_1():
    rc, data, out, err = h.run_salvo(["run", "http://no-such-host.invalid/", "-r", "10", "-d", "1s"], timeout=30,
                                     json_out=False)
    check(rc == 1 and "cannot resolve 'no-such-host.invalid'" in err, "exit %d: %r" % (rc, err))


@test
def merge_and_report_bad_inputs_exit_2():
    d = h.make_temp_dir("salvo-e2e-exit-")
    junk = os.path.join(d, "junk.json")
    with open(junk, "w") as f:
        json.dump({"hello": 1}, f)
    missing = os.path.join(d, "missing.json")
    cases = [["merge", missing], ["merge", d], ["report", missing, "--html", os.path.join(d, "r.html")],
             ["report", junk, "--html", os.path.join(d, "r.html")],
             ["report", junk, "--html", "/proc/x.html"], ["merge", junk, "--json", "/proc/x.json"]]
    for args in cases:
        p = subprocess.run([h.SALVO_BIN] + args, capture_output=True, text=True, timeout=20)
        h.log("  %s -> %d %s" % (" ".join(args[:2]), p.returncode, p.stderr.strip()[:120]))
        check(p.returncode == 2, "%s: exit %d, want 2; %r" % (args, p.returncode, p.stderr))
        check(p.stderr.startswith("salvo: ") and p.stderr.count("\n") == 1, "want one line: %r" % p.stderr)
    h.remove_temp_dir(d)


def server_exit_on(argv, sig):
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().decode(errors="replace")
        check("listening" in line or "proxy" in line or "api" in line, "%s did not start: %r" % (argv[1], line))
        os.kill(proc.pid, sig)
        return proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


@test
def servers_stopped_by_a_signal_exit_0():
    for sig in (signal.SIGINT, signal.SIGTERM):
        rc = server_exit_on([h.SALVO_BIN, "target", "--listen", "127.0.0.1:0"], sig)
        check(rc == 0, "salvo target on %s: exit %d, want 0" % (sig.name, rc))
        rc = server_exit_on([h.SALVO_BIN, "chaos", "--listen", "127.0.0.1:0", "--upstream",
                             "127.0.0.1:%d" % state["nginx"].port, "--api", "127.0.0.1:0"], sig)
        check(rc == 0, "salvo chaos on %s: exit %d, want 0" % (sig.name, rc))


@test
def demo_stopped_by_sigterm_exits_143():
    """`salvo demo` passes the signal to the experiment running, skips the rest and exits 143."""
    d = h.make_temp_dir("salvo-e2e-exit-")
    html = os.path.join(d, "demo.html")
    proc = subprocess.Popen([h.SALVO_BIN, "demo", "--html", html], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True)
    try:
        time.sleep(6.0)  # the capacity probe (3 s) is over; the first experiment runs
        check(proc.poll() is None, "demo ended early (rc %s)" % proc.returncode)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
    check(proc.returncode == 143, "demo on SIGTERM: exit %d, want 143; %s" % (proc.returncode, out[-400:]))
    check("demo interrupted by SIGTERM" in out and "3/3" not in out, "the rest was not skipped: %s" % out[-400:])
    check(not os.path.exists(html), "an interrupted demo wrote a report")
    h.remove_temp_dir(d)


if __name__ == "__main__":
    h.main(setup, teardown)
