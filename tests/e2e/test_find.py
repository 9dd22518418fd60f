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
- no answer: nothing listening (a URL, a --targets file, a --stages ramp)
  is refused by a connect before any step, exit 1, no table, JSON
  `steps: []`, `stopped_by: no_answer`; a port that accepts the preflight
  and refuses the step ends after that one step, exit 1, its row saying
  why. Late sends alone (--spin 0 --max-lag 1us) do not stop a search:
  a step that passes with its lateness counted is a pass, one that fails
  is an upper bound. A target killed mid-search: the later steps fail saying "no
  response", no capacity is claimed, the progress lines show the bracket
  as the JSON does ("-" for null, nothing before the first step).

Python 3 stdlib only; see harness.py for the process and cleanup rules.
"""

import json
import os
import re
import signal
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
    state["dir"] = h.make_temp_dir("salvo-e2e-find-")


def teardown():
    if "target" in state:
        state["target"].stop()
    if "dir" in state:
        h.remove_temp_dir(state["dir"])


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
        # With a ramp, run's checks see the ramp's 10 s; the steps' 2 s are checked too, before the ramp runs.
        (["--slo", "latency.p99 < 50ms", "--stages", "10s:200", "--step-duration", "2s",
          "--profile", "http://127.0.0.1:9/debug/pprof/profile", "--profile-at", "5s"], "bad --profile-at"),
    ]
    for args, want in cases:
        rc, data, out, err = find(t.url, *args, timeout=20)
        lines = [l for l in err.splitlines() if l.strip()]
        check(rc == 2, "%s: exit %d, want 2: %s" % (args, rc, err))
        check(len(lines) == 1 and want in lines[0], "%s: stderr %r, want one line with %r" % (args, err, want))
        check(data is None, "%s: wrote a result" % args)
    after = t.metrics().get("salvo_target_hold_seconds_count", 0)
    check(after == before, "bad input sent traffic: hold count %s -> %s" % (before, after))


@test
def nothing_listening_is_refused_before_the_first_step():
    port = h.free_port()
    url = "http://127.0.0.1:%d/" % port
    targets = os.path.join(state["dir"], "dead-targets.txt")
    with open(targets, "w") as f:
        f.write("GET %sa\n\nGET %sb\n" % (url, url))
    # Default 20 s steps: refused at once, not after a step. A ramp is refused before it runs too.
    for args in ([url], ["--targets", targets], [url, "--stages", "3s:200"]):
        t0 = time.monotonic()
        rc, data, out, err = h.run_salvo(["find"] + args + ["--slo", "latency.p99 < 50ms", "--progress", "off"],
                                         timeout=30)
        took = time.monotonic() - t0
        lines = [l for l in err.splitlines() if l.strip()]
        check(rc == 1, "%s: exit %d, want 1: %s" % (args, rc, err))
        check(took < 3, "%s: took %.1f s to refuse (a step ran?)" % (args, took))
        want = "salvo: ERROR: nothing listens on 127.0.0.1:%d (connection refused); no step ran" % port
        check(len(lines) == 1 and lines[0].startswith(want), "%s: stderr %r, want one line %r" % (args, err, want))
        check(out == "", "%s: printed a table when no step ran: %r" % (args, out))
        check(data is not None, "%s: no JSON" % args)
        check(data["steps"] == [] and data["stopped_by"] == "no_answer" and data["capacity"] is None
              and data["bracket"] == [None, None],
              "%s: steps %s stopped_by %s capacity %s bracket %s" % (args, data["steps"], data["stopped_by"],
                                                                   data["capacity"], data["bracket"]))
        check("ramp" not in data, "%s: a ramp ran" % args)


@test
def no_http_answer_in_the_first_step_stops_there():
    port, thread = h.refusing_after_one_port()  # find's preflight connects once; the step is refused
    try:
        rc, data, out, err = find("http://127.0.0.1:%d/" % port, "--slo", "latency.p99 < 50ms",
                                  "--step-duration", "2s", timeout=30)
    finally:
        thread.join(timeout=5)
    check(rc == 1, "exit %d, want 1: %s" % (rc, err))
    check("does not answer: no HTTP response in the first step" in err, "no 'does not answer' line: %r" % err)
    check("bracket" not in err, "the progress spoke of a bracket before any step: %r" % err)
    check(data is not None and len(data["steps"]) == 1, "want the one step in the JSON: %s" % (data and data["steps"]))
    f = data["steps"][0]["find"]
    check(data["stopped_by"] == "no_answer" and data["capacity"] is None and data["bracket"] == [None, None],
          "stopped_by %s capacity %s bracket %s" % (data["stopped_by"], data["capacity"], data["bracket"]))
    check(f["verdict"] == "fail" and f["why"].startswith("no response to any of"), "step: %s / %s"
          % (f["verdict"], f["why"]))
    rows = [l for l in out.splitlines() if l.strip()]
    check(len(rows) == 2 and rows[0].startswith("step ") and "no response to any of" in rows[1]
          and " - " in rows[1], "want the header and one row with no latency: %r" % out)
    # No answer in a --stages ramp: no step runs, no table, and no knee is claimed.
    port, thread = h.refusing_after_one_port()
    try:
        rc, data, out, err = find("http://127.0.0.1:%d/" % port, "--slo", "latency.p99 < 50ms", "--stages", "2s:100",
                                  timeout=30)
    finally:
        thread.join(timeout=5)
    check(rc == 1 and "no HTTP response in the ramp; no step ran" in err and "knee" not in err,
          "ramp: exit %d: %r" % (rc, err))
    check(out == "" and data is not None and data["steps"] == [] and data["stopped_by"] == "no_answer"
          and data["ramp"]["runtime_error"].startswith("no response to any of"),
          "ramp: stdout %r, JSON %s" % (out, data and (data["steps"], data["stopped_by"], data.get("ramp", {}).get(
              "runtime_error"))))


@test
def interrupted_before_any_verdict_has_no_bracket():
    before = state["target"].metrics().get("salvo_target_hold_seconds_count", 0)
    s = h.Salvo(["find", state["target"].url, "--slo", "latency.p99 < 50ms", "--step-duration", "4s",
                 "--progress", "off"])
    deadline = time.monotonic() + 10  # signal once the first step sends (before, find is still starting)
    while time.monotonic() < deadline and s.proc.poll() is None and \
            state["target"].metrics().get("salvo_target_hold_seconds_count", 0) <= before:
        time.sleep(0.05)
    s.signal(signal.SIGINT)  # our own child
    rc, data, out, err = s.finish(30)
    check(rc == 130, "exit %d, want 130: %s" % (rc, err))
    check("no bracket yet" in err and "[0, 0]" not in err, "stderr %r" % err)
    check("find step" not in err, "--progress off still printed the step lines: %r" % err)
    check(data is not None and data["stopped_by"] == "interrupted" and data["bracket"] == [None, None],
          "JSON %r" % ((data["stopped_by"], data["bracket"]) if data else None,))


@test
def a_service_that_dies_mid_search_is_not_a_capacity():
    t = Target("--service-time", "1ms", "--workers", "4")
    try:
        # 50/s passes; the target is killed in the cooldown after it; 99/s then fails, and so does the confirmation
        # of 50/s (precision 99 %: no bisection): exit 99, no capacity, each dead step saying why.
        s = h.Salvo(["find", t.url, "--slo", "latency.p99 < 50ms", "--from", 50, "--max", 99, "--precision", "99%",
                     "--step-duration", "2s", "--cooldown", "1s", "--max-lag", "5ms", "--progress", "plain"])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and s.proc.poll() is None:
            with open(os.path.join(s.dir, "stdout")) as f:
                if re.search(r"^\s+1\s", f.read(), re.M):
                    break
            time.sleep(0.05)
        t.stop()
        rc, data, out, err = s.finish(60)
    finally:
        t.stop()
    check(data is not None, "no JSON (exit %d): %s" % (rc, err[-400:]))
    steps = [(x["find"]["rate"], x["find"]["verdict"], x["find"]["why"][:70]) for x in data["steps"]]
    h.log("died mid-search: exit %d, stopped_by %s, bracket %s, steps %s" % (rc, data["stopped_by"], data["bracket"],
                                                                             steps))
    check(steps and steps[0][1] == "pass", "the first step (the target alive) did not pass: %s" % steps)
    check(data["capacity"] is None, "a dead service got a capacity: %s" % data["capacity"])
    dead = [x for x in steps[1:] if x[1] == "fail"]
    check(dead and all(x[2].startswith("no response to any of") for x in dead),
          "the steps after the target died must fail saying no response: %s" % steps)
    # 98 only when the busy machine made the confirmation invalid twice; then the steps say so.
    check(rc == 99 or (rc == 98 and any(x[1] == "invalid" for x in steps)), "exit %d: %s" % (rc, err[-400:]))
    lines = [l for l in err.splitlines() if "find step" in l]
    check(lines and lines[0].endswith("find step 1 at 50/s"), "the first progress line: %r" % lines[:1])
    check(len(lines) > 1 and lines[1].endswith("bracket [50, -]/s"), "the second progress line: %r" % lines[1:2])
    check("[0, 0]" not in err and "[0," not in err, "a zero in a bracket: %r" % err)


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
        # From 32000/s with a 50 % precision: a handful of 2 s steps up to the thread's limit (60 000-76 000/s
        # here), or fewer when this machine cannot send 32000/s with one thread (exit 98 all the same).
        rc, data, out, err = find(ng.url, "--slo", "latency.p99 < 1s", "-t", "1", "--from", 32000,
                                  "--precision", "50%", "--step-duration", "2s", "--cooldown", "0s", timeout=120)
    check(data is not None, "no JSON (exit %d): %s" % (rc, err[-400:]))
    steps = data["steps"]
    h.log("nginx: exit %d, steps %s" % (rc, [(s["find"]["rate"], s["find"]["verdict"]) for s in steps]))
    check(rc == 98, "exit %d, want 98: %s" % (rc, err[-400:]))
    check("the generator, not the service, is the limit" in err, "no generator-limit message: " + err[-400:])
    check(data["capacity"] is None, "a capacity is claimed: %s" % data["capacity"])
    check(data["stopped_by"] == "generator_limit", "stopped_by %s" % data["stopped_by"])
    check(any(not s["valid"] for s in steps), "no invalid step, yet the generator is called the limit")
    check(all(s["find"]["verdict"] != "fail" for s in steps), "nginx failed a loose SLO")


def lateness_steps(slo):
    """A search held at 100/s with --spin 0 and --max-lag 1us: every send is late (the epoll wake-up is
    tens of microseconds at least, a good share of a 100 us service's latency), so each step's run is
    invalid by the late-sends rule alone. Returns (exit, data, stderr)."""
    t = Target("--service-time", "100us", "--workers", "4")
    try:
        return find(t.url, "--slo", slo, "--from", 100, "--max", 100, "--spin", "0", "--max-lag", "1us",
                    "--step-duration", "2s", "--cooldown", "0s", timeout=60)[:3]
    finally:
        t.stop()


@test
def late_sends_that_pass_are_a_pass_and_that_fail_a_bound():
    # Latency counts from the intended send time, so late sends only add to it: a step that passes its SLO
    # with them counted passed (valid stays false, the row says why); one that fails is an upper bound only.
    rc, data, err = lateness_steps("latency.p99 < 1s")
    check(data is not None, "no JSON (exit %d): %s" % (rc, err[-400:]))
    steps = data["steps"]
    h.log("lateness, loose SLO: exit %d, %s" % (rc, [(s["valid"], s["invalid_rules"], s["find"]["verdict"])
                                                      for s in steps]))
    check(rc == 0 and data["capacity"] == 100 and data["stopped_by"] == "max",
          "exit %d, capacity %s, stopped_by %s: %s" % (rc, data["capacity"], data["stopped_by"], err[-400:]))
    check(len(steps) == 2 and steps[-1]["find"]["confirm"], "steps %s" % [s["find"]["rate"] for s in steps])
    for s in steps:
        check(not s["valid"] and s["invalid_rules"] == ["late_sends"], "a step's validity: %s %s"
              % (s["valid"], s["invalid_rules"]))
        check(s["find"]["verdict"] == "pass" and s["find"]["despite_lateness"] is True, "verdict %s" % s["find"])
        check(s["find"]["why"].startswith("passed with the generator's lateness in its latencies: generator fell "
                                          "behind"), "why %r" % s["find"]["why"])
    rc, data, err = lateness_steps("latency.p99 < 1us")
    check(data is not None, "no JSON (exit %d): %s" % (rc, err[-400:]))
    steps = data["steps"]
    check(rc == 98 and data["capacity"] is None and data["stopped_by"] == "generator_limit",
          "tight SLO: exit %d, capacity %s, stopped_by %s" % (rc, data["capacity"], data["stopped_by"]))
    check(len(steps) == 2 and all(s["find"]["verdict"] == "invalid" and not s["find"]["despite_lateness"]
                                  for s in steps), "tight SLO steps: %s" % [s["find"] for s in steps])


@test
def stages_ramp_proposes_the_first_step():
    t = state["target"]
    srv = h.pprof_stub()
    path = os.path.join(state["dir"], "ramp.json")
    # A ramp far below the capacity (2000/s): no knee, so its top proposes the start; --max stops there.
    # The ramp is scraped and profiled as the steps are (a ramp's profiles: docs/evidence.md).
    try:
        rc, _, out, err = h.run_salvo(
            ["find", t.url, "--progress", "off", "--slo", "latency.p99 < 1s", "--from", "50", "--max", "200",
             "--stages", "3s:200", "--step-duration", "2s", "--cooldown", "0s", "--json", path,
             "--scrape", "http://127.0.0.1:%d/metrics" % t.port, "--scrape-match", "hold",
             "--profile", "http://127.0.0.1:%d/debug/pprof/profile" % srv.server_address[1]], timeout=60,
            json_out=False)
    finally:
        srv.shutdown()
    data = None
    if os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
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
    sc = ramp.get("scrape")
    check(sc is not None and sc["targets"][0]["good_rounds"] >= 2 and sc["series"],
          "the ramp was not scraped: %s" % (sc and sc["targets"]))
    prof = ramp.get("profiles") or []
    check(prof and all(p["ok"] and os.path.exists(p["file"]) and ".ramp.profile-" in p["file"] for p in prof),
          "the ramp was not profiled: %s" % prof)
    check(all("scrape" in s and s.get("profiles") for s in data["steps"]), "a step lacks its scrape or profiles")


if __name__ == "__main__":
    h.main(setup=setup, teardown=teardown)
