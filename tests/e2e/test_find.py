"""test_find.py — end-to-end tests of `salvo find` against services whose
capacity is known.

- `salvo target --service-time 2ms --workers 4` (capacity 4 / 2 ms =
  2000/s, or workers / the mean hold it measured, read from /metrics):
  find with `--slo 'latency.p99 < 50ms'` and short steps must answer
  between 85 % and 102 % of the measured capacity, with the confirmation
  passed and the bracket around the answer. On this shared 2-CPU machine
  the generator may fall behind (an invalid step is an upper bound, and
  find then exits 98 without a capacity): that outcome is checked for
  honesty (no capacity claimed, the service failure above it real), never
  counted as the capacity test passing — it is reported as a FAIL so a
  flake is visible, not hidden.
- nginx with -t 1 and a loose SLO: nginx outruns one salvo thread on this
  machine, so the search must end on "the generator, not the service, is
  the limit", exit 98, capacity null. What it proves: find never reports a
  rate it could not generate as the service's capacity. It does not prove
  nginx's capacity (nobody measures that here).
- bad input: an SLO that does not parse, --from above --max, --shard, no
  --slo: one line, exit 2, no traffic (the target's hold count stays 0).

Python 3 stdlib only; see harness.py for the process and cleanup rules.
"""

import os
import re
import subprocess
import time
import urllib.request

import harness as h
from harness import check, test

state = {}


class Target:
    """A `salvo target --service-time` on 127.0.0.1, port read from its first line."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([h.SALVO_BIN, "target", "--listen", "127.0.0.1:0"] + list(args),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()  # bounded: the target prints it before serving or exits
        m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            self.stop()
            raise AssertionError("target did not start: %r" % line)
        self.port = int(m.group(1))
        self.url = "http://127.0.0.1:%d/" % self.port

    def metrics(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.port, timeout=5) as r:
            text = r.read().decode()
        return {k: float(v) for k, v in re.findall(r"^(salvo_target_hold_\w+) (\S+)$", text, re.M)}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()  # by PID: our own child
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def setup():
    state["target"] = Target("--service-time", "2ms", "--workers", "4")


def teardown():
    if "target" in state:
        state["target"].stop()


def find(url, *extra, timeout=120):
    return h.run_salvo(["find", url, "--progress", "off"] + [str(a) for a in extra], timeout=timeout)


@test
def bad_input_exits_2_before_traffic():
    t = state["target"]
    before = t.metrics().get("salvo_target_hold_seconds_count", 0)
    cases = [
        (["--slo", "latency.p99 <"], "bad slo 'latency.p99 <'"),
        (["--slo", "latency.p99 < 50ms", "--from", "2000", "--max", "100"], "--from 2000/s is above --max 100/s"),
        (["--slo", "latency.p99 < 50ms", "--shard", "1/2"], "--shard is not for find"),
        ([], "find needs at least one --slo"),
    ]
    for args, want in cases:
        rc, data, out, err = find(t.url, *args, timeout=20)
        lines = [l for l in err.splitlines() if l.strip()]
        check(rc == 2, "%s: exit %d, want 2: %s" % (args, rc, err))
        check(len(lines) == 1 and want in lines[0], "%s: stderr %r, want one line with %r" % (args, err, want))
        check(data is None, "%s: wrote a result" % args)
    after = t.metrics().get("salvo_target_hold_seconds_count", 0)
    check(after == before, "bad input sent traffic: hold count %s -> %s" % (before, after))


def find_capacity_once(t):
    """One search against t; returns (problem or None, summary)."""
    t0 = time.monotonic()
    # --max-lag 5ms: a shared 2-CPU machine wakes the generator late more often than 1 ms allows.
    rc, data, out, err = find(t.url, "--slo", "latency.p99 < 50ms", "--from", 250, "--step-duration", "3s",
                              "--cooldown", "1s", "--max-lag", "5ms", timeout=120)
    elapsed = time.monotonic() - t0
    m = t.metrics()
    truth = 4 / (m["salvo_target_hold_seconds_sum"] / m["salvo_target_hold_seconds_count"])
    check(data is not None, "no JSON (exit %d): %s" % (rc, err[-600:]))
    steps = data["steps"]
    summary = "; ".join("%.0f %s %s" % (s["find"]["rate"], s["find"]["verdict"], s["find"]["why"][:60]) for s in steps)
    h.log("find: exit %d, %d steps in %.0f s, capacity %s, bracket %s, truth %.0f/s: %s"
          % (rc, len(steps), elapsed, data["capacity"], data["bracket"], truth, summary))
    for s in steps:  # each step is a full result object
        check("latency_us" in s and "requests" in s and "valid" in s, "a step is not a full result")
    check(len(steps) <= 14, "%d steps" % len(steps))  # 12, plus an invalid step's one rerun
    if rc == 98:
        # Honest either way: no capacity claimed.
        check(data["capacity"] is None, "exit 98 but a capacity is claimed")
        return "the generator fell behind on this machine before the answer was found: " + summary
    check(rc == 0, "exit %d: %s" % (rc, err[-600:]))
    cap = data["capacity"]
    lo, hi = data["bracket"]
    check(lo == cap and hi is not None and hi > cap, "bracket %s does not contain %.0f" % (data["bracket"], cap))
    last = steps[-1]["find"]
    check(last["confirm"] and last["verdict"] == "pass" and last["rate"] == cap, "the confirmation did not pass")
    check(data["stopped_by"] == "found", "stopped_by %s" % data["stopped_by"])
    # Above: 2 % over the measured capacity queues 40/s at 2000/s, 120 requests (60 ms) in a 3 s step, which the
    # SLO sees; less than that cannot be told from the capacity in a 6 s confirmation (find's precision is 5 %).
    if not 0.85 * truth <= cap <= 1.02 * truth:
        return "capacity %.0f/s not within 85..102%% of the measured %.0f/s: %s" % (cap, truth, summary)
    return None


@test
def finds_the_known_capacity():
    # A steal burst on a shared 2-vCPU machine can stall the generator or the target's workers for tens of
    # milliseconds; the search is run a second time (a fresh target, its truth measured again) only then, and
    # the first attempt's figures stay in the log. Structural checks fail at once.
    problem = None
    for attempt in range(2):
        t = Target("--service-time", "2ms", "--workers", "4")
        try:
            problem = find_capacity_once(t)
        finally:
            t.stop()
        if problem is None:
            return
        h.log("attempt %d: %s" % (attempt + 1, problem))
    raise AssertionError(problem)


@test
def nginx_outruns_one_thread():
    with h.Nginx() as ng:
        rc, data, out, err = find(ng.url, "--slo", "latency.p99 < 1s", "-t", "1", "--from", 2000,
                                  "--step-duration", "2s", "--cooldown", "0s", timeout=120)
    check(data is not None, "no JSON (exit %d): %s" % (rc, err[-400:]))
    steps = data["steps"]
    h.log("nginx: exit %d, steps %s" % (rc, [(s["find"]["rate"], s["find"]["verdict"]) for s in steps]))
    check(rc == 98, "exit %d, want 98: %s" % (rc, err[-400:]))
    check("the generator, not the service, is the limit" in err, "no generator-limit message: " + err[-400:])
    check(data["capacity"] is None, "a capacity is claimed: %s" % data["capacity"])
    check(data["stopped_by"] == "generator_limit", "stopped_by %s" % data["stopped_by"])
    check(any(not s["valid"] for s in steps), "no invalid step, yet the generator is called the limit")
    check(all(s["find"]["verdict"] != "fail" for s in steps), "nginx failed a loose SLO")


@test
def stages_ramp_proposes_the_first_step():
    t = state["target"]
    # A ramp far below the capacity (2000/s): no knee, so its top proposes the start; --max stops there.
    rc, data, out, err = find(t.url, "--slo", "latency.p99 < 1s", "--from", 50, "--max", 200, "--stages", "3s:200",
                              "--step-duration", "2s", "--cooldown", "0s", timeout=60)
    check(data is not None, "no JSON (exit %d): %s" % (rc, err[-400:]))
    ramp = data.get("ramp")
    check(ramp is not None and ramp.get("tool") == "salvo" and len(ramp["timeline"]) >= 3,
          "the ramp's result must be in the find result: %s" % (sorted(data) if data else None))
    knee = ramp.get("knee")
    want = knee["rate_intended"] if knee else 200
    check(abs(data["seed_rate"] - want) < 1e-6, "seed %s, want %s (knee %s)" % (data["seed_rate"], want, knee))
    first = data["steps"][0]["find"]["rate"]
    check(abs(first - min(max(want, 50), 200)) < 1e-6, "the first step ran at %s/s, not at the seed %s" % (first, want))
    check(data["growth"] == 2, "a seeded search brackets by 2, not %s" % data["growth"])
    check(rc in (0, 98), "exit %d: %s" % (rc, err[-400:]))


if __name__ == "__main__":
    h.main(setup=setup, teardown=teardown)
