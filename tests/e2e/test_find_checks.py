"""test_find_checks.py — `salvo find` judged by checks, not only by status.

The issue's point: a `200` with `{"error": …}` is not a success, and an SLO
on `checks.rate` must make find see it.

- `salvo target --error-bodies` answers a route outside its map with
  `200 {"error": …}`. At 100/s, `--slo 'errors.rate < 1%'` alone passes
  (every status is 200, the confirmation too), while the same search with
  `--check 'routed: json.error absent' --slo 'checks.rate > 99%'` fails the
  lowest rate: exit 99, the step's why names the checks SLO, and the step's
  result counts every check as failed.
- `salvo target --service-time 2ms --workers 4 --queue 8` (capacity
  2000/s) at 3000/s: the 503s beyond the queue fail `status == 200`, the
  step fails on `checks.rate` with the observed rate in [0.5, 0.9]
  (2000/3000 = 0.67 answered in time, the queue aside).
- `--html`: the latency-against-rate curve has a point per step and
  percentile at the step's judged value, and the latency SLO's line.

Python 3 stdlib only; see harness.py for the process and cleanup rules.
"""

import os
import re
import subprocess

import harness as h
from harness import check, test

state = {}


def start_target(*args):
    p = subprocess.Popen([h.SALVO_BIN, "target", "--listen", "127.0.0.1:0"] + list(args),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    state.setdefault("procs", []).append(p)
    line = p.stdout.readline()  # bounded: the target prints it before serving or exits
    m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
    check(m is not None, "target did not start: %r" % line)
    return int(m.group(1))


def setup():
    state["errors_port"] = start_target("--error-bodies", "--workers", "1")
    state["hold_port"] = start_target("--service-time", "2ms", "--workers", "4", "--queue", "8")


def teardown():
    for p in state.get("procs", []):
        if p.poll() is None:
            p.terminate()  # by PID: our own child
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)


def find(url, *extra, timeout=60):
    return h.run_salvo(["find", url, "--progress", "off", "--step-duration", "2s", "--cooldown", "0.5s"]
                       + [str(a) for a in extra], timeout=timeout)


@test
def error_bodies_fail_a_checks_slo_not_an_errors_slo():
    url = "http://127.0.0.1:%d/api/route?from=10.0,10.0&to=10.1,10.1" % state["errors_port"]
    rc, data, out, err = find(url, "--slo", "errors.rate < 1%", "--from", 100, "--max", 100)
    check(rc == 0 and data is not None, "errors.rate only: exit %d, want 0: %s" % (rc, err[-400:]))
    check(data["capacity"] == 100, "errors.rate only: capacity %s, want 100" % data["capacity"])
    first = data["steps"][0]
    check(first["requests"]["http_error"] == 0, "the bodies were not 200s: %s" % first["requests"])

    rc, data, out, err = find(url, "--slo", "checks.rate > 99%", "--check", "routed: json.error absent",
                              "--from", 100, "--max", 100)
    check(rc == 99, "checks.rate: exit %d, want 99: %s" % (rc, err[-400:]))
    check(data is not None and data["capacity"] is None, "checks.rate: a capacity was claimed")
    check(data["stopped_by"] == "lowest_rate_fails", "stopped_by %s" % data["stopped_by"])
    step = data["steps"][0]
    why = step["find"]["why"]
    check(step["find"]["verdict"] == "fail" and "checks.rate > 99%" in why, "why %r" % why)
    routed = step["checks"]["routed"]
    check(routed["pass"] == 0 and routed["fail"] >= 150, "check counters %s" % routed)
    check("checks.rate" in out, "the step table does not say why: %s" % out)
    # With every send late (--spin 0 --max-lag 1us) the step is invalid by late sends alone; lateness does not
    # change a body, so the checks failure is still the service's: exit 99, not "the generator is the limit".
    rc, data, out, err = find(url, "--slo", "checks.rate > 99%", "--check", "routed: json.error absent",
                              "--from", 100, "--max", 100, "--spin", "0", "--max-lag", "1us")
    check(data is not None and rc == 99, "checks.rate, late generator: exit %d, want 99: %s" % (rc, err[-400:]))
    step = data["steps"][0]
    check(not step["valid"] and step["invalid_rules"] == ["late_sends"] and step["find"]["verdict"] == "fail"
          and "checks.rate > 99%" in step["find"]["why"], "late generator: valid %s, rules %s, find %s"
          % (step["valid"], step["invalid_rules"], step["find"]))


@test
def refused_requests_fail_status_check_above_capacity():
    url = "http://127.0.0.1:%d/" % state["hold_port"]
    rc, data, out, err = find(url, "--slo", "checks.rate > 99%", "--check", "ok: status == 200",
                              "--from", 3000, "--max", 3000, "--max-lag", "5ms")
    check(data is not None, "no JSON (exit %d): %s" % (rc, err[-400:]))
    step = data["steps"][0]
    if not step["valid"]:
        # A frozen or overloaded machine: find must not blame the service (exit 98, no capacity).
        check(rc == 98 and data["capacity"] is None, "invalid step but exit %d, capacity %s" % (rc, data["capacity"]))
        h.log("the generator fell behind at 3000/s; checked honesty only")
        return
    check(rc == 99, "exit %d, want 99: %s" % (rc, err[-400:]))
    slo = step["find"]["slo"]["checks.rate > 99%"]
    check(not slo["pass"] and 0.5 <= slo["observed"] <= 0.9, "checks.rate observed %s" % slo)
    ok = step["checks"]["ok"]
    check(ok["fail"] > 0.1 * (ok["pass"] + ok["fail"]), "too few 503s failed the check: %s" % ok)


@test
def html_page_draws_every_step_and_the_slo():
    """find --html: a point per step and percentile at its judged value, and the latency SLO's line."""
    page = h.make_temp_dir("salvo-e2e-find-html-") + "/find.html"
    url = "http://127.0.0.1:%d/" % state["hold_port"]
    rc, data, out, err = find(url, "--slo", "latency.p99 < 50ms", "--from", 300, "--max", 300, "--html", page,
                              "--max-lag", "5ms")
    check(data is not None and os.path.exists(page), "exit %d, no JSON or page: %s" % (rc, err[-400:]))
    with open(page) as f:
        html = f.read()
    check("SLO latency.p99 &lt; 50ms" in html or "SLO latency.p99 < 50ms" in html, "no SLO line on the page")
    points = re.findall(r"<title>([0-9]+)/s (p50|p99): ([0-9.]+) ms</title>", html)
    check(len(points) == 2 * len(data["steps"]), "%d points for %d steps" % (len(points), len(data["steps"])))
    want = sorted("%.0f %s %.2f" % (x["find"]["rate"], k, x["find"]["judged"][k + "_us"] / 1000)
                  for x in data["steps"] for k in ("p50", "p99"))
    got = sorted("%s %s %s" % p for p in points)
    check(got == want, "the curve's points %s are not the steps' judged figures %s" % (got, want))


if __name__ == "__main__":
    h.main(setup=setup, teardown=teardown)
