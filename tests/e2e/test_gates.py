"""test_gates.py — thresholds (CI gates), the HTML report, /metrics and live progress.

- `--threshold` that pass exit 0 and report pass true with the observed
  figure equal to the JSON's own number; one that fails exits 99; one on a
  name that never occurred fails with observed null; a malformed one, or one
  whose unit does not fit its metric (`latency.p99 < 10%`), is a usage error
  (exit 2) that names the expression and sends nothing;
- while the server is frozen past the timeout, latency figures are lower
  bounds: `latency.p99 < 1s` fails (exit 99) with a note saying why, while
  `latency.p99 > 100ms` still passes;
- `requests{name=N}.rate` is that name's rate, not the whole run's;
- `--html FILE` writes a self-contained HTML report with an SVG chart;
- `--metrics ADDR` serves Prometheus text during the run:
  salvo_requests_total{...,outcome="sent"} rises between two scrapes 2 s apart;
- `--progress plain` writes `[   5s/6s]` lines to stderr.
"""

import os
import re
import socket
import time
import urllib.request

import harness as h
from harness import check, check_counts_add_up, excerpt, test

nginx = None


def setup():
    global nginx
    nginx = h.Nginx().start()


def run(extra, rate=200, duration="2s", timeout=60):
    args = ["run", nginx.url, "-r", str(rate), "-d", duration, "-t", "1", "-q", "--allow-invalid"] + extra
    return h.run_salvo(args, timeout=timeout)


@test
def passing_thresholds_exit_0_with_observed_values():
    e1, e2, e3 = "latency.p99 < 5s", "errors.rate < 1%", "requests.count >= 400"
    rc, data, out, err = run(["--threshold", e1, "--threshold", e2, "--threshold", e3])
    check(data is not None, "no JSON (rc %d): %s" % (rc, err.strip()[-400:]))
    th = data.get("thresholds") or {}
    check(rc == 0, "passing thresholds must exit 0, got %d: %s" % (rc, excerpt(data, "thresholds")))
    check(set(th) == {e1, e2, e3}, "thresholds keys %s, want the three expressions" % sorted(th))
    for e in (e1, e2, e3):
        check(th[e].get("pass") is True, "%r should pass: %s" % (e, th[e]))
    c = check_counts_add_up(data)
    check(th[e1]["observed"] == data["latency_us"]["p99"],
          "latency.p99 observed %r != latency_us.p99 %r" % (th[e1]["observed"], data["latency_us"]["p99"]))
    check(th[e1]["limit"] == 5e6, "5s should be a limit of 5000000 us: %s" % th[e1])
    errors = c["failed"] + c["timeout"] + c["http_error"]
    check(th[e2]["observed"] == errors / c["scheduled"], "errors.rate observed %r != %d/%d"
          % (th[e2]["observed"], errors, c["scheduled"]))
    check(th[e3]["observed"] == c["scheduled"] == 400,
          "requests.count observed %r, scheduled %d (want 400)" % (th[e3]["observed"], c["scheduled"]))


@test
def failing_threshold_exits_99():
    e = "latency.p50 < 1us"
    rc, data, out, err = run(["--threshold", e, "--threshold", "latency.p99 < 5s"])
    check(data is not None, "no JSON (rc %d): %s" % (rc, err.strip()[-400:]))
    th = data.get("thresholds") or {}
    check(rc == 99, "a failing threshold must exit 99, got %d: %s" % (rc, excerpt(data, "thresholds")))
    check(th.get(e, {}).get("pass") is False, "%r should fail: %s" % (e, th.get(e)))
    check(th[e]["observed"] == data["latency_us"]["p50"] and th[e]["observed"] >= 1,
          "observed %r should be latency_us.p50 %r" % (th[e]["observed"], data["latency_us"]["p50"]))
    check(th["latency.p99 < 5s"]["pass"] is True, "the other threshold still passes: %s" % th)


@test
def threshold_on_a_name_that_never_occurred_fails():
    e = "latency{name=nope}.p99 < 1s"
    rc, data, out, err = run(["--threshold", e])
    check(data is not None, "no JSON (rc %d): %s" % (rc, err.strip()[-400:]))
    th = (data.get("thresholds") or {}).get(e)
    check(rc == 99, "a threshold that measured nothing must fail (exit 99), got %d: %s" % (rc, th))
    check(th is not None and th.get("pass") is False, "want pass false: %s" % th)
    check("observed" in th and th["observed"] is None, "want observed null: %s" % th)
    # and the same name that does occur passes (the name selector works)
    rc, data, out, err = run(["--threshold", "latency{name=/}.p99 < 5s"])
    th = (data or {}).get("thresholds", {}).get("latency{name=/}.p99 < 5s")
    check(rc == 0 and th and th["pass"] is True and th["observed"] == data["groups"]["/"]["latency_us"]["p99"],
          "latency{name=/}.p99 should pass with the group's p99 (rc %d): %s" % (rc, th))


@test
def malformed_threshold_is_a_usage_error():
    for e in ("latency.p99 <<< 5s", "latency.p99 < 5 parsecs", "bogus.p99 < 1s"):
        offset = nginx.access_log_size()
        t0 = time.monotonic()
        rc, data, out, err = run(["--threshold", e], duration="3s")
        check(rc == 2, "%r: want exit 2, got %d; stderr %r" % (e, rc, err))
        check(e in err, "stderr does not name the expression %r: %r" % (e, err))
        check(time.monotonic() - t0 < 2.5, "%r: refused only after the run" % e)
        time.sleep(0.1)
        check(nginx.access_log_size() == offset, "%r: requests were sent despite the usage error" % e)


@test
def units_that_do_not_fit_the_metric_are_usage_errors():
    cases = (("latency.p99 < 10%", "'%'"), ("errors.rate < 1/s", "'/s'"), ("requests.count > 50%", "'%'"),
             ("rate.intended >= 50%", "'%'"), ("errors.rate < 5ms", "'ms'"))
    for e, unit in cases:
        offset = nginx.access_log_size()
        rc, data, out, err = run(["--threshold", e], duration="3s")
        check(rc == 2, "%r: want exit 2, got %d; stderr %r" % (e, rc, err))
        check(e in err and unit in err, "stderr does not name the expression %r and the unit %s: %r" % (e, unit, err))
        time.sleep(0.1)
        check(nginx.access_log_size() == offset, "%r: requests were sent despite the usage error" % e)
    # the units that do fit still parse and run
    rc, data, out, err = run(["--threshold", "errors.rate < 1%", "--threshold", "rate.achieved >= 50%",
                              "--threshold", "rate.intended >= 100/s", "--threshold", "latency.p99 < 5s"])
    check(rc == 0, "fitting units should pass (rc %d): %s %s" % (rc, excerpt(data or {}, "thresholds"), err[-300:]))


def run_frozen(extra, freeze_at=1.0, freeze_s=2.0):
    """Runs salvo while the nginx worker (ours) is stopped for freeze_s s, freeze_at s into the run."""
    args = ["run", nginx.url, "-t", "1", "-q", "--allow-invalid"] + extra
    frozen, rc, data, out, err = h.run_with_nginx_freeze(nginx, args, freeze_at, freeze_s, timeout=40)
    return rc, data, out, err


@test
def timed_out_latency_cannot_pass_a_less_than_gate():
    lt = ("latency.p99 < 1s", "latency.max < 2s", "latency{name=/}.p99 < 1s")
    gt, p50 = "latency.p99 > 100ms", "latency.p50 < 1s"
    extra = ["-r", "200", "-d", "4s", "--timeout", "500ms"]
    for e in lt + (gt, p50):
        extra += ["--threshold", e]
    rc, data, out, err = run_frozen(extra)
    check(data is not None, "no JSON (rc %d): %s" % (rc, err.strip()[-400:]))
    c = check_counts_add_up(data)
    lat, th = data["latency_us"], data.get("thresholds") or {}
    h.log("  %d of %d timed out; p99 %s us, max %s us, lower_bounds %s"
          % (c["timeout"], c["scheduled"], lat["p99"], lat["max"], lat.get("lower_bounds")))
    check(c["timeout"] >= 0.02 * c["scheduled"] and lat.get("lower_bounds") is True,
          "the 2 s freeze should time out well over 1%% of the requests: %s" % excerpt(data, "requests", "latency_us"))
    check(rc == 99, "latency gates on timed-out requests must fail (exit 99), got %d: %s"
          % (rc, excerpt(data, "thresholds")))
    for e in lt:
        t = th.get(e) or {}
        check(t.get("pass") is False, "%r must fail: its figure is only a lower bound: %s" % (e, t))
        check(t.get("observed") is not None and t["observed"] >= lat["timeout_us"],
              "%r observed %r, want the censored figure >= the timeout" % (e, t.get("observed")))
        check("timed out" in (t.get("note") or ""), "%r has no note saying requests timed out: %s" % (e, t))
        check(set(t) == {"pass", "observed", "limit", "unit", "note"}, "%r entry keys changed: %s" % (e, sorted(t)))
    check(th[gt].get("pass") is True, "%r is proven by a lower bound and must pass: %s" % (gt, th[gt]))
    if lat["p50"] < lat["timeout_us"]:
        check(th[p50].get("pass") is True and "note" not in th[p50],
              "p50 %s us is below the timeout, exact, and must pass: %s" % (lat["p50"], th[p50]))


def targets_file(*named):
    """A --targets file of GETs to nginx, one per (name, weight); returns (dir, path)."""
    d = h.make_temp_dir("salvo-e2e-gates-")
    path = os.path.join(d, "targets.txt")
    with open(path, "w") as f:
        f.write("\n".join("# name=%s weight=%d\nGET http://127.0.0.1:%d/%s\n" % (n, w, nginx.port, n) for n, w in named))
    return d, path


@test
def per_name_request_rate_is_the_names_own():
    d, targets = targets_file(("alpha", 2), ("gamma", 1), ("beta", 2))
    e_lt, e_gt = "requests{name=gamma}.rate < 100/s", "requests{name=gamma}.rate > 10/s"
    try:
        rc, data, out, err = h.run_salvo(["run", "--targets", targets, "-r", "200", "-d", "3s", "-t", "1", "-q",
                                          "--allow-invalid", "--threshold", e_lt, "--threshold", e_gt], timeout=40)
    finally:
        h.remove_temp_dir(d)
    check(data is not None, "no JSON (rc %d): %s" % (rc, err.strip()[-400:]))
    th = data.get("thresholds") or {}
    gamma = data["groups"]["gamma"]["requests"]
    want = gamma / data["duration_s"]
    h.log("  gamma: %d requests in %.2f s = %.1f/s; run %.1f/s; observed %s"
          % (gamma, data["duration_s"], want, data["rate"]["achieved"], th.get(e_lt, {}).get("observed")))
    check(abs(th[e_lt]["observed"] - want) < 1e-6,
          "gamma's rate should be its %d requests / %.2f s = %.2f/s, observed %r (the run's rate is %.1f/s)"
          % (gamma, data["duration_s"], want, th[e_lt]["observed"], data["rate"]["achieved"]))
    check(h.within(want, 40, 0.3), "gamma (weight 1 of 5 at 200/s) should run at about 40/s, ran at %.1f/s" % want)
    check(rc == 0 and th[e_lt]["pass"] and th[e_gt]["pass"] and th[e_lt]["unit"] == "req/s",
          "both per-name rate gates should pass (rc %d): %s" % (rc, excerpt(data, "thresholds")))


@test
def html_report_contains_svg():
    d = h.make_temp_dir("salvo-e2e-html-")
    try:
        path = os.path.join(d, "report.html")
        rc, data, out, err = run(["--html", path])
        check(rc == 0, "rc %d: %s" % (rc, err.strip()[-400:]))
        check(os.path.exists(path) and os.path.getsize(path) > 0, "--html wrote no file")
        with open(path, encoding="utf-8") as f:
            html = f.read()
        check("<svg" in html, "the HTML report has no <svg> chart")
        check(re.search(r"<html", html, re.I) and re.search(r"</html>\s*$", html, re.I),
              "not a complete HTML document (head %r, tail %r)" % (html[:80], html[-80:]))
        check(not re.search(r"<(script|link|img)[^>]+(src|href)=\"https?://", html, re.I),
              "the report is not self-contained: it references an external resource")
    finally:
        h.remove_temp_dir(d)


SENT = re.compile(r'^salvo_requests_total\{[^}]*outcome="sent"[^}]*\}\s+([0-9.eE+]+)\s*$', re.M)


def scrape(port, host="127.0.0.1"):
    with urllib.request.urlopen("http://%s:%d/metrics" % (host, port), timeout=3) as r:
        check(r.status == 200, "/metrics answered %d" % r.status)
        text = r.read().decode()
    m = SENT.findall(text)
    check(m, "no salvo_requests_total{...outcome=\"sent\"} sample in:\n%s" % text[:1500])
    return sum(float(x) for x in m), text


def free_v6_port():
    """A free port on [::1], or None without IPv6 loopback."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
            return s.getsockname()[1]
    except OSError:
        return None


@test
def metrics_address_forms():
    """--metrics takes a bare port and [::1]:PORT, and refuses what it cannot serve with exit 2."""
    for form, host in (("%d", "127.0.0.1"), ("[::1]:%d", "[::1]")):
        port = h.free_port() if host == "127.0.0.1" else free_v6_port()
        if port is None:
            h.log("  note: no IPv6 loopback here; [::1] skipped")
            continue
        s = h.Salvo(["run", nginx.url, "-r", "100", "-d", "3s", "-t", "1", "-q", "--allow-invalid",
                     "--metrics", form % port])
        try:
            deadline = time.monotonic() + 5
            sent = 0
            while time.monotonic() < deadline and sent == 0:
                time.sleep(0.3)
                try:
                    sent, _ = scrape(port, host)
                except (OSError, AssertionError):  # not listening yet, or no second merged yet
                    pass
        finally:
            rc, _, _, err = s.finish(timeout=30)
        check(sent > 0, "--metrics %s: nothing scraped at %s:%d" % (form % port, host, port))
        check(rc == 0, "--metrics %s: run exited %d: %s" % (form % port, rc, err.strip()[-300:]))
    for bad in ("bad:x", "nosuch.invalid:9464", "127.0.0.1:99999"):
        rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "10", "-d", "1s", "--metrics", bad], timeout=10)
        check(rc == 2 and err.startswith("salvo:") and bad in err and err.count("\n") == 1,
              "--metrics %r: exit %d, %r" % (bad, rc, err))


@test
def metrics_endpoint_is_live_during_the_run():
    port = h.free_port()
    rate = 200
    s = h.Salvo(["run", nginx.url, "-r", str(rate), "-d", "7s", "-t", "1", "-q", "--allow-invalid",
                 "--metrics", "127.0.0.1:%d" % port])
    try:
        deadline = time.monotonic() + 5
        while not h.port_answers(port) and time.monotonic() < deadline:
            check(s.proc.poll() is None, "salvo exited early (rc %s)" % s.proc.returncode)
            time.sleep(0.05)
        time.sleep(max(0.0, s.t_start + 2.0 - time.monotonic()))
        first, _ = scrape(port)
        time.sleep(2.0)
        second, text = scrape(port)
        check(s.proc.poll() is None, "salvo ended before the second scrape")
    finally:
        rc, data, out, err = s.finish(timeout=40)
    h.log("  sent at +2 s: %.0f, at +4 s: %.0f" % (first, second))
    check(second > first, "salvo_requests_total sent did not rise: %.0f then %.0f" % (first, second))
    # 2 s apart at 200/s: one to three whole merged seconds of 200 each
    check(rate <= second - first <= 3 * rate,
          "sent rose by %.0f in 2 s at %d/s" % (second - first, rate))
    check(rc == 0 and data is not None, "rc %d: %s" % (rc, err.strip()[-300:]))
    check(second <= data["rate"]["sent"], "scraped %.0f sent, but the run sent %d in all"
          % (second, data["rate"]["sent"]))


@test
def metrics_label_each_request_name():
    d, targets = targets_file(("alpha", 1), ("beta", 2))
    port = h.free_port()
    s = h.Salvo(["run", "--targets", targets, "-r", "300", "-d", "5s", "-t", "1", "-q", "--allow-invalid",
                 "--metrics", "127.0.0.1:%d" % port])
    try:
        deadline = time.monotonic() + 5
        while not h.port_answers(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(max(0.0, s.t_start + 3.5 - time.monotonic()))
        _, text = scrape(port)
    finally:
        rc, data, out, err = s.finish(timeout=40)
        h.remove_temp_dir(d)
    sent = {m.group(1): float(m.group(2)) for m in re.finditer(
        r'^salvo_requests_total\{name="([^"]*)",outcome="sent"\}\s+([0-9.eE+]+)\s*$', text, re.M)}
    h.log("  sent by name at +3.5 s: %s; final groups %s"
          % (sent, {k: v["requests"] for k, v in (data or {}).get("groups", {}).items()}))
    check(set(sent) == {"alpha", "beta"},
          "/metrics should have a sent series per request name (alpha, beta), has %s" % sorted(sent))
    total = sum(sent.values())
    check(h.within(sent["beta"] / total, 2 / 3, 0.15),
          "beta (weight 2) should be about 2/3 of the sent requests: %s" % sent)


@test
def plain_progress_lines_on_stderr():
    rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "200", "-d", "6s", "-t", "1",
                                      "--progress", "plain", "--allow-invalid"], timeout=40)
    check(rc == 0, "rc %d: %s" % (rc, err.strip()[-400:]))
    lines = [l for l in err.splitlines() if re.match(r"^\[\s*\d+s/6s\]", l)]
    h.log("  progress: %r" % lines)
    check(any(re.match(r"^\[\s+5s/6s\]", l) for l in lines),
          "stderr has no '[   5s/6s]' progress line:\n%s" % err[-1500:])
    check(all("\r" not in l and "\x1b[" not in l for l in lines), "plain progress contains terminal control codes")


if __name__ == "__main__":
    h.main(setup=setup)
