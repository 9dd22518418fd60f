"""test_compare.py — `salvo compare` on real runs, end to end.

Two tiny HTTP servers (Python, started here) answer every request after a
fixed hold: 2 ms and 2.4 ms, and every 25th request 10 times that (20 ms
and 24 ms), timed against an absolute deadline (sleep, then a short spin),
so the truth is known: the second is 20 % slower at p50 and at p99 (which
falls among the long holds, p96..p100). Without the long holds the p99 of
a 2 ms service on a loaded 2-CPU machine is the machine's scheduling noise
(measured: 5.7 ms for both 2 and 2.4 ms), not the service's. (`salvo target --service-time`
is the issue's target for this; it was not on main when this test was
written, and a Python server is enough for a 20 % difference.) Runs last
20 s: with compare's calibrated intervals, 12 s pairs left +20 % at p50
undecided in some pairs.

- A slower candidate: p50 and p99 regressed, exit 99 with --fail-if; the
  same pair the other way round: improved, exit 0.
- The same service twice (two identical servers, as two runs at once against
  one Python server would collide: both schedules are the same, and the
  one served second under the GIL is systematically slower): nothing
  regressed, the --fail-if gate passes.
- One name slower: /a holds 2 ms on both sides, /b 2 ms against 2.4 ms
  (`--targets` with both): /b's service time regresses per name, /a's
  not; without /b's service time per second on one side its rows are
  inconclusive, naming the file, in the table, the JSON and the HTML.
- Bad input: a truncated file, a non-salvo JSON, results without per-second
  histograms, results of another experiment: exit 2 with one line naming
  the file; --force compares anyway; an invalid run exits 98.

Each pair runs at the same time (two salvo processes), so both runs see the
same machine: on a shared 2-CPU machine, load from elsewhere would
otherwise land in one run of a pair and not the other, and the intervals
(which see within-run noise only) would call that a change.

Python 3 stdlib only; see harness.py for the process and cleanup rules.
"""

import base64
import json
import os
import re
import struct
import subprocess
import sys
import time
import zlib
import xml.etree.ElementTree as ET

import harness as h
from harness import check, test

RATE = 250
DURATION_S = int(os.environ.get("SALVO_COMPARE_SECONDS", "20"))  # 12 s pairs left +20 % undecided in some
SLOW_EVERY, SLOW_FACTOR = 25, 10  # every 25th request holds 10x: p99 is that hold, clear of the p96 edge
HOLD_MS = [float(x) for x in os.environ.get("SALVO_COMPARE_HOLD_MS", "2,2.4").split(",")]
SERVER = r'''
import itertools, socket, sys, time, http.server, socketserver
# argv[2]: the hold in ms ("2"), or one per path with a default ("2,/b=2.4")
holds = dict((k, float(v) / 1000.0) for k, v in (p.split("=") for p in sys.argv[2].split(",") if "=" in p))
hold = [float(p) / 1000.0 for p in sys.argv[2].split(",") if "=" not in p][0]
served = itertools.count()  # next() is atomic under the GIL
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    def do_GET(self):
        held = holds.get(self.path.split("?")[0], hold)
        deadline = time.monotonic() + held * (SLOW_FACTOR if next(served) % SLOW_EVERY == 0 else 1)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(left - 0.0002 if left > 0.0004 else 0)
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    def log_message(self, *args):
        pass
class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
SLOW_EVERY, SLOW_FACTOR = int(sys.argv[3]), float(sys.argv[4])
Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
'''

state = {}


def start_server(hold_ms):
    port = h.free_port()
    script = os.path.join(state["dir"], "server.py")
    proc = subprocess.Popen([sys.executable, script, str(port), str(hold_ms), str(SLOW_EVERY), str(SLOW_FACTOR)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state["procs"].append(proc)
    for _ in range(100):
        if h.port_answers(port):
            return port
        time.sleep(0.05)
    raise AssertionError("test server on port %d did not start" % port)


def setup():
    state["dir"] = h.make_temp_dir("salvo-e2e-compare-")
    state["procs"] = []
    with open(os.path.join(state["dir"], "server.py"), "w") as f:
        f.write(SERVER)
    state["fast"] = start_server(HOLD_MS[0])
    state["slow"] = start_server(HOLD_MS[1])
    state["twin"] = start_server(HOLD_MS[0])
    state["slow_b"] = start_server("%g,/b=%g" % (HOLD_MS[0], HOLD_MS[1]))  # /a as fast, /b as slow


def teardown():
    for p in state.get("procs", []):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)


def path(name):
    return os.path.join(state["dir"], name)


def run_pair(port_a, port_b, name_a, name_b):
    """Runs two salvo processes at once; returns their results paths."""
    runs = []
    for port, name in ((port_a, name_a), (port_b, name_b)):
        runs.append(h.Salvo(["run", "http://127.0.0.1:%d/item" % port, "-r", RATE, "-d", "%ds" % DURATION_S,
                             "-t", "1", "-q", "--allow-invalid", "--json", path(name)], json_out=False))
    for r, name in zip(runs, (name_a, name_b)):
        rc, _, _, err = r.finish(DURATION_S + 30)
        check(rc in (0, 98), "salvo run exited %d: %s" % (rc, err.strip()))
        with open(path(name)) as f:
            data = json.load(f)
        check(data["requests"]["ok"] >= 0.99 * RATE * DURATION_S, "run %s lost requests: %s"
              % (name, h.excerpt(data, "requests", "errors")))
    return path(name_a), path(name_b)


def compare(*args):
    """salvo compare …: (exit code, stdout, stderr, comparison JSON or None)."""
    out = path("cmp-%d.json" % time.monotonic_ns())
    proc = subprocess.run([h.SALVO_BIN, "compare"] + [str(a) for a in args] + ["--json", out, "--allow-invalid"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    doc = None
    if os.path.exists(out):
        with open(out) as f:
            doc = json.load(f)
    return proc.returncode, proc.stdout, proc.stderr, doc


def verdicts(doc, names=None):
    return {r["figure"]: r["verdict"] for r in doc["figures"] if r["name"] is None}


@test
def slower_candidate_regresses():
    html = path("cmp.html")
    # The injected change is +20 % of the hold; on a loaded machine the p50 change shrinks
    # toward +10 % with an interval from about +4 %, so the gate sits at +2 %. One run per
    # side sees only its own seconds: a burst of steal in a few of them widens the
    # interval honestly (p50 [-19 %, +59 %] once), so a pair that says nothing is run
    # again once, and the second pair must show the regression.
    for attempt in (1, 2):
        base, cand = run_pair(state["fast"], state["slow"], "fast.json", "slow.json")
        state["fast_json"], state["slow_json"] = base, cand
        rc, out, err, doc = compare(base, cand, "--fail-if", "latency.p50 > +2%", "--html", html)
        check(doc is not None, "no comparison JSON: rc=%d %s" % (rc, err))
        v = verdicts(doc)
        if attempt == 1 and not (v["latency.p50"] == "regressed" and v["latency.p99"] == "regressed"):
            h.log("  first pair was not decisive, running it again: %s" % v)
            continue
        break
    check(v["latency.p50"] == "regressed" and v["latency.p99"] == "regressed",
          "2.4 ms against 2 ms must regress p50 and p99: %s\n%s" % (v, out))
    check(rc == 99, "a failed --fail-if gate must exit 99, got %d\n%s" % (rc, out))
    check("within each run only" in out, "one run per side must say the intervals see within-run noise only")
    row = next(r for r in doc["figures"] if r["figure"] == "latency.p50" and r["name"] is None)
    check(row["ci95"][0] > 0 and 5 < row["change"] < 40, "p50 change should be about +20%%: %s" % row)
    with open(html) as f:
        page = f.read()
    check(page.count("<svg") >= 2 and "95% interval" in page, "the HTML page needs both charts and the table")
    # The other way round: improved, and the same gate passes.
    rc, out, err, doc = compare(cand, base, "--fail-if", "latency.p50 > +2%")
    v = verdicts(doc)
    check(v["latency.p50"] == "improved" and rc == 0, "the faster candidate must improve p50, exit 0: rc=%d %s"
          % (rc, v))


@test
def same_server_twice_is_no_change():
    # Two Python servers on a shared 2-CPU machine are not quite the same
    # server (GIL and scheduling: p90 +15 % between twins once), and ten
    # figures at 95 % each leave room for a false call: a pair that regresses
    # is run once more, and the second pair must not.
    for attempt in (1, 2):
        a, b = run_pair(state["fast"], state["twin"], "same-a.json", "same-b.json")
        rc, out, err, doc = compare(a, b, "--fail-if", "latency.p50 > +10%", "--fail-if", "latency.p99 > +25%")
        check(doc is not None, "no comparison JSON: %s" % err)
        v = verdicts(doc)
        regressed = [f for f, w in v.items() if w == "regressed"]
        if attempt == 1 and (regressed or rc != 0):
            h.log("  first pair called %s regressed (exit %d), running it again" % (regressed, rc))
            continue
        break
    check(not regressed, "the same server twice must not regress: %s\n%s" % (regressed, out))
    check(rc == 0, "no gate may fail on the same server twice, got exit %d\n%s" % (rc, out))


def run_names_pair(attempt):
    """Two runs at once of one --targets file (/a, /b): the baseline against the
    2 ms server, the candidate against the one holding /b 2.4 ms. Each side
    has its own directory with a targets.txt, run from there, so both results
    name the same targets file (compare refuses results of different files)."""
    runs, out = [], []
    cwd = os.getcwd()
    try:
        for side, port in (("names-base", state["fast"]), ("names-cand", state["slow_b"])):
            d = path(side)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "targets.txt"), "w") as f:
                f.write("GET http://127.0.0.1:%d/a\n\nGET http://127.0.0.1:%d/b\n" % (port, port))
            out.append(path("%s-%d.json" % (side, attempt)))
            os.chdir(d)
            runs.append(h.Salvo(["run", "--targets", "targets.txt", "-r", RATE, "-d", "%ds" % DURATION_S, "-t", "1",
                                 "-q", "--allow-invalid", "--json", out[-1]], json_out=False))
    finally:
        os.chdir(cwd)
    for r, p in zip(runs, out):
        rc, _, _, err = r.finish(DURATION_S + 30)
        check(rc in (0, 98), "salvo run exited %d: %s" % (rc, err.strip()))
        with open(p) as f:
            data = json.load(f)
        check(data["requests"]["ok"] >= 0.99 * RATE * DURATION_S, "run %s lost requests: %s"
              % (p, h.excerpt(data, "requests", "errors")))
        for name in ("/a", "/b"):
            g = data["groups"].get(name, {})
            check(len(g.get("timeline_hdr_service_time_us") or []) == len(data["timeline"]),
                  "%s: %s keeps no service time per second" % (p, name))
    return out


def name_rows(doc, name):
    return {r["figure"]: r for r in doc["figures"] if r["name"] == name}


@test
def one_name_slower_regresses_that_name_only():
    # /b holds +20 % on the candidate, /a the same on both. compare has no
    # per-name --fail-if gates (gates are about the whole run), so this asserts
    # the verdicts. p50 is asserted; p99 too when it is conclusive (125/s a
    # name for 20 s leaves 25 samples beyond it, more than the 10 it needs,
    # and every 25th request of the server holds 10x, so p99 is that hold).
    # A pair that is not decisive (the machine's steal lands in a few seconds)
    # is run once more, as above.
    for attempt in (1, 2):
        base, cand = run_names_pair(attempt)
        rc, out, err, doc = compare(base, cand)
        check(rc == 0 and doc is not None, "compare exited %d: %s" % (rc, err))
        a, b = name_rows(doc, "/a"), name_rows(doc, "/b")
        check("service_time.p50" in a and "service_time.p50" in b, "no per-name service rows: %s"
              % sorted((r["name"], r["figure"]) for r in doc["figures"] if r["name"]))
        seen = {n: {f: rows[f]["verdict"] for f in ("service_time.p50", "service_time.p99", "latency.p50")}
                for n, rows in (("/a", a), ("/b", b))}
        p99_ok = b["service_time.p99"]["verdict"] in ("regressed", "inconclusive")
        decisive = b["service_time.p50"]["verdict"] == "regressed" and p99_ok and \
            all(a[f]["verdict"] != "regressed" for f in ("service_time.p50", "service_time.p99"))
        if attempt == 1 and not decisive:
            h.log("  first pair was not decisive, running it again: %s" % seen)
            continue
        break
    check(b["service_time.p50"]["verdict"] == "regressed",
          "/b at 2.4 ms against 2 ms must regress service_time.p50: %s\n%s" % (b["service_time.p50"], out))
    check(5 < b["service_time.p50"]["change"] < 40 and b["service_time.p50"]["ci95"][0] > 0,
          "/b's service_time.p50 change should be about +20%%: %s" % b["service_time.p50"])
    check(p99_ok, "/b's service_time.p99 must regress (or be inconclusive for want of samples): %s"
          % b["service_time.p99"])
    for f in ("service_time.p50", "service_time.p99"):
        check(a[f]["verdict"] != "regressed", "/a holds 2 ms on both sides, %s must not regress: %s\n%s"
              % (f, a[f], out))
    check(re.search(r"name '/b'\n(  .*\n)*  service_time\.p50 .* regressed", out),
          "the table must show /b's service_time.p50 regressed:\n%s" % out)
    h.log("  /a %s; /b %s" % (seen["/a"], seen["/b"]))
    # Without /b's service time per second in the baseline (an older salvo, or
    # /b outside its top 10): inconclusive rows naming the file, not a gap.
    with open(base) as f:
        old = json.load(f)
    del old["groups"]["/b"]["timeline_hdr_service_time_us"]
    oldp = write_json("names-old.json", old)
    html = path("names-old.html")
    rc, out, err, doc = compare(oldp, cand, "--html", html)
    check(rc == 0, "compare exited %d: %s\n%s" % (rc, err, out))
    b = name_rows(doc, "/b")
    why = "no service time per name in the baseline %s" % oldp
    for f in ("service_time.p50", "service_time.p90", "service_time.p99", "service_time.p99_9"):
        r = b.get(f)
        check(r is not None and r["verdict"] == "inconclusive" and r["why"] == why and r["baseline"] is None
              and r["candidate"] > 0 and r["change"] is None, "/b %s must be inconclusive (%r): %s" % (f, why, r))
    check(name_rows(doc, "/a")["service_time.p50"]["verdict"] != "inconclusive", "/a keeps its service rows")
    check("inconclusive (%s)" % why in out, "the table must say why:\n%s" % out)
    with open(html) as f:
        page = f.read()
    check(page.count(why) >= 4, "the HTML table must say why for each of /b's service rows")


def write_json(name, doc):
    with open(path(name), "w") as f:
        json.dump(doc, f)
    return path(name)


def bad(args, culprit, words):
    proc = subprocess.run([h.SALVO_BIN, "compare"] + args + ["--allow-invalid"], capture_output=True, text=True,
                          timeout=30)
    lines = [l for l in proc.stderr.strip().splitlines() if "is marked invalid" not in l]
    check(proc.returncode == 2, "expected exit 2 for %s, got %d: %s" % (culprit, proc.returncode, proc.stderr))
    check(len(lines) == 1 and culprit in lines[0] and words in lines[0],
          "expected one line naming %r (%r): %r" % (culprit, words, proc.stderr))


@test
def bad_input_exits_2_naming_the_file():
    base = state.get("fast_json")
    check(base is not None, "needs the results of slower_candidate_regresses")
    with open(base) as f:
        text = f.read()
    doc = json.loads(text)
    trunc = path("truncated.json")
    with open(trunc, "w") as f:
        f.write(text[: len(text) // 2])
    bad([base, trunc], "truncated.json", "not a salvo result")
    bad([write_json("other.json", {"tool": "k6", "metrics": {}}), base], "other.json", "not a salvo result")
    old = json.loads(text)
    for row in old["timeline"]:
        row.pop("hdr_latency_us", None)
    bad([base, write_json("old.json", old)], "old.json", "per-second histograms")
    other = json.loads(text)
    other["config"]["rate"] = RATE * 2
    bad([base, write_json("rate.json", other)], "rate.json", "rate differs")
    bad([base, path("missing.json")], "missing.json", "cannot read")
    bad([base, base, "--fail-if", "latency.p99 >= 10%"], "--fail-if", "'='")
    rc, out, err, _ = compare(base, path("rate.json"), "--force")
    check(rc == 0 and "rate differs" in err, "--force must compare anyway and warn: rc=%d %s" % (rc, err))
    host = json.loads(text)
    host["config"]["url"] = host["config"]["url"].replace("127.0.0.1", "localhost")
    rc, out, err, _ = compare(base, write_json("host.json", host))
    check(rc == 0 and "another host" in err, "another host must only warn: rc=%d %s" % (rc, err))
    inval = json.loads(text)
    inval["valid"] = False
    proc = subprocess.run([h.SALVO_BIN, "compare", base, write_json("invalid.json", inval), "-q"],
                          capture_output=True, text=True, timeout=30)
    check(proc.returncode == 98 and "invalid" in proc.stderr, "an invalid input run must exit 98: %d %s"
          % (proc.returncode, proc.stderr))


def find_doc(run, capacity, bracket, stopped_by, steps):
    """A find result whose steps are copies of one real run result, at the given (rate, confirm) pairs."""
    out = []
    for rate, confirm in steps:
        step = json.loads(json.dumps(run))
        lat = run["latency_us"]
        step["find"] = {"rate": rate, "confirm": confirm, "verdict": "pass", "why": None,
                        "judged": {"p50_us": lat["p50"], "p99_us": lat["p99"]}}
        out.append(step)
    return {"tool": "salvo", "kind": "find", "capacity": capacity, "bracket": bracket, "stopped_by": stopped_by,
            "from": 100, "steps": out}


@test
def find_results_compare_capacity_and_same_rates():
    base = state.get("fast_json")
    check(base is not None, "needs the results of slower_candidate_regresses")
    with open(base) as f:
        fast = json.load(f)
    with open(state["slow_json"]) as f:
        slow = json.load(f)
    a = write_json("find-a.json", find_doc(fast, 1900, [1900, 2000], "found",
                                           [(100, False), (400, False), (1600, False), (1900, True)]))
    b = write_json("find-b.json", find_doc(slow, 1500, [1500, 1600], "found",
                                           [(100, False), (400, False), (1500, True)]))
    c = write_json("find-c.json", find_doc(fast, 1950, [1950, 2050], "found", [(100, False), (1950, True)]))
    g = write_json("find-g.json", find_doc(fast, None, [5000, None], "generator_limit", [(100, False)]))
    rc, out, err, doc = compare(a, b, "--fail-if", "latency.p50 > +2%")
    check(doc["kind"] == "compare_find", "a find comparison says so: %r" % doc.get("kind"))
    cap = doc["capacity"]
    check(cap["verdict"] == "regressed" and abs(cap["change"] - (1500 / 1900 - 1) * 100) < 1e-6,
          "1500 against 1900/s with disjoint brackets must regress: %r" % cap)
    check(abs(cap["change_range"][0] - (1500 / 2000 - 1) * 100) < 1e-6
          and abs(cap["change_range"][1] - (1600 / 1900 - 1) * 100) < 1e-6, "the range the brackets allow: %r" % cap)
    check([(r["rate"], r["baseline_step"], r["candidate_step"]) for r in doc["rates"]] == [(100, 0, 0), (400, 1, 1)],
          "only the rates both ran, confirmation apart: %r" % [(r["rate"], r["confirm"]) for r in doc["rates"]])
    p50 = [next(x for x in r["figures"] if x["figure"] == "latency.p50" and x["name"] is None) for r in doc["rates"]]
    check(all(x["verdict"] == "regressed" for x in p50), "2.4 ms steps against 2 ms ones regress at p50: %r" % p50)
    check(rc == 99 and "capacity regressed" in out, "a failing gate on a step exits 99: rc=%d\n%s" % (rc, out))
    rc, out, err, doc = compare(a, c)
    check(rc == 0 and doc["capacity"]["verdict"] == "no significant change",
          "overlapping brackets are no change: %r" % doc["capacity"])
    check([r["confirm"] for r in doc["rates"]] == [False], "a confirmation pairs only with one at its rate")
    rc, out, err, doc = compare(a, g)
    check(doc["capacity"]["verdict"] == "improved" and doc["capacity"]["change"] is None,
          "a generator limit above the baseline's failure is an improvement without a point change: %r"
          % doc["capacity"])
    bad([a, base], "compare find results", "one against one")
    # The capacity gate: 1500 against 1900/s, brackets allowing [-25 %, -15.8 %].
    rc, out, err, doc = compare(a, b, "--fail-if", "capacity < -10%")
    check(rc == 99 and "fail-if 'capacity < -10%': FAIL" in out,
          "a capacity 15.8-25 %% lower fails 'capacity < -10%%': rc=%d\n%s%s" % (rc, out, err))
    rc, out, err, doc = compare(a, b, "--fail-if", "capacity < -20%")
    check(rc == 0 and "fail-if 'capacity < -20%': pass" in out,
          "the brackets allow -15.8 %%, so 'capacity < -20%%' passes: rc=%d\n%s%s" % (rc, out, err))
    rc, out, err, doc = compare(a, c, "--fail-if", "capacity < -1%")
    check(rc == 0 and "fail-if 'capacity < -1%': pass" in out,
          "overlapping brackets never fail a capacity gate: rc=%d\n%s%s" % (rc, out, err))
    bad([base, state["slow_json"], "--fail-if", "capacity < -10%"], "capacity < -10%", "find results")
    bad([a, b, "--fail-if", "capacity > +10%"], "capacity > +10%", "capacity <")
    # JUnit: a case per capacity gate, and per figure gate at each rate both ran (named with the rate).
    xml = path("find.xml")
    rc, out, err, doc = compare(a, b, "--fail-if", "capacity < -10%", "--fail-if", "capacity < -20%",
                                "--fail-if", "latency.p50 > +2%", "--junit", xml)
    check(rc == 99, "gates fail: rc=%d %s" % (rc, err))
    suite = ET.parse(xml).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    want = ["capacity < -10%", "capacity < -20%", "latency.p50 > +2% at 100/s", "latency.p50 > +2% at 400/s"]
    check(sorted(cases) == sorted(want), "JUnit cases %s, want %s" % (sorted(cases), want))
    failed = sorted(n for n, c in cases.items() if c.find("failure") is not None)
    check(failed == ["capacity < -10%", "latency.p50 > +2% at 100/s", "latency.p50 > +2% at 400/s"],
          "failures %s" % failed)
    msg = cases["capacity < -10%"].find("failure").get("message")
    check("1500" in msg and "1900" in msg and "regressed" in msg, "the capacity failure says what: %r" % msg)
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    check(props.get("capacity") == "regressed", "properties %s" % props)
    # HTML: the capacity block, both curves (a point per step and percentile), a table per rate both ran.
    page = path("find.html")
    rc, out, err, doc = compare(a, b, "--html", page)
    check(rc == 0, "--html of find results: rc=%d %s" % (rc, err))
    with open(page) as f:
        html = f.read()
    check("1500/s" in html and "1900/s" in html and "regressed" in html, "the capacity block is missing")
    titles = re.findall(r"<title>(baseline|candidate) ([0-9]+)/s (p50|p99): ([0-9.]+) ms</title>", html)
    want = {("baseline", r, p) for r in ("100", "400", "1600", "1900") for p in ("p50", "p99")} | \
        {("candidate", r, p) for r in ("100", "400", "1500") for p in ("p50", "p99")}
    check({t[:3] for t in titles} == want and len(titles) == len(want), "curve points %s" % sorted(titles))
    p50 = {t[0]: float(t[3]) for t in titles if t[1] == "100" and t[2] == "p50"}
    check(abs(p50["baseline"] - fast["latency_us"]["p50"] / 1000) < 0.01, "a point is not its step's p50: %s" % p50)
    sections = re.findall(r"<h2>At ([0-9]+)/s", html)
    check(sections == ["100", "400"], "per-rate sections %s" % sections)
    check(html.count("<table>") == 2 and "latency.p50" in html, "a table per rate")


def hdr_total(b64):
    """Total count of a compressed V2 HdrHistogram (base64), decoded here, not by salvo."""
    raw = base64.b64decode(b64)
    cookie, length = struct.unpack(">ii", raw[:8])
    payload = zlib.decompress(raw[8:8 + length])
    total, i, value, shift = 0, 40, 0, 0
    while i < len(payload):
        b = payload[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b & 0x80 and shift < 63:
            continue
        n = (value >> 1) ^ -(value & 1)
        total += n if n > 0 else 0
        value, shift = 0, 0
    return total


@test
def merge_adds_per_second_histograms():
    start_at = int(time.time()) + 2
    paths = [path("shard-%d.json" % k) for k in range(2)]
    procs = [h.Salvo(["run", "http://127.0.0.1:%d/item" % state["fast"], "-r", 200, "-d", "3s", "-t", "1", "-q",
                      "--allow-invalid", "--shard", "%d/2" % k, "--start-at", start_at, "--json", p], json_out=False)
             for k, p in enumerate(paths)]
    for p in procs:
        rc, _, _, err = p.finish(30)
        check(rc in (0, 98), "shard exited %d: %s" % (rc, err))
    merged = path("merged.json")
    proc = subprocess.run([h.SALVO_BIN, "merge"] + paths + ["--json", merged, "-q"], capture_output=True, text=True,
                          timeout=30)
    check(proc.returncode in (0, 98), "merge exited %d: %s" % (proc.returncode, proc.stderr))
    shards = [json.load(open(p)) for p in paths]
    with open(merged) as f:
        doc = json.load(f)
    for row in doc["timeline"]:
        parts = [r for s in shards for r in s["timeline"] if r["t"] == row["t"]]
        want = sum(hdr_total(r["hdr_latency_us"]) for r in parts)
        check(hdr_total(row["hdr_latency_us"]) == want, "second %d: merged histogram holds %d, shards %d"
              % (row["t"], hdr_total(row["hdr_latency_us"]), want))
        check(hdr_total(row["hdr_latency_us"]) == row["done"], "second %d: histogram count != done" % row["t"])
    rc, out, err, cmp = compare(merged, merged)
    check(rc == 0 and cmp["verdict"] == "no significant change", "a merged result against itself: %d %s" % (rc, err))


@test
def merge_keeps_per_name_seconds():
    targets = path("targets.txt")
    with open(targets, "w") as f:
        f.write("GET http://127.0.0.1:%d/a\n\nGET http://127.0.0.1:%d/b\n" % (state["fast"], state["fast"]))
    start_at = int(time.time()) + 2
    paths = [path("names-%d.json" % k) for k in range(2)]
    procs = [h.Salvo(["run", "--targets", targets, "-r", 200, "-d", "3s", "-t", "1", "-q", "--allow-invalid",
                      "--shard", "%d/2" % k, "--start-at", start_at, "--json", p], json_out=False)
             for k, p in enumerate(paths)]
    for p in procs:
        rc, _, _, err = p.finish(30)
        check(rc in (0, 98), "shard exited %d: %s" % (rc, err))
    merged = path("names-merged.json")
    proc = subprocess.run([h.SALVO_BIN, "merge"] + paths + ["--json", merged, "-q"], capture_output=True, text=True,
                          timeout=30)
    check(proc.returncode in (0, 98), "merge exited %d: %s" % (proc.returncode, proc.stderr))
    shards = [json.load(open(p)) for p in paths]
    with open(merged) as f:
        doc = json.load(f)
    for name in ("/a", "/b"):
        g = doc["groups"][name]
        for key in ("timeline_hdr_latency_us", "timeline_hdr_service_time_us", "timeline_done", "timeline_errors"):
            check(len(g.get(key, [])) == len(doc["timeline"]), "%s: merged %s has %d seconds, the timeline %d"
                  % (name, key, len(g.get(key, [])), len(doc["timeline"])))
        for i, row in enumerate(doc["timeline"]):
            want_n, want_svc, want_done = 0, 0, 0
            for s in shards:
                sg = s["groups"][name]
                for j, r in enumerate(s["timeline"]):
                    if r["t"] == row["t"]:  # --start-at: the shards' seconds line up
                        b64 = sg["timeline_hdr_latency_us"][j]
                        want_n += hdr_total(b64) if b64 else 0
                        b64 = sg["timeline_hdr_service_time_us"][j]
                        want_svc += hdr_total(b64) if b64 else 0
                        want_done += sg["timeline_done"][j]
            got = hdr_total(g["timeline_hdr_latency_us"][i]) if g["timeline_hdr_latency_us"][i] else 0
            got_svc = hdr_total(g["timeline_hdr_service_time_us"][i]) if g["timeline_hdr_service_time_us"][i] else 0
            check(got == want_n and got_svc == want_svc and g["timeline_done"][i] == want_done,
                  "%s second %d: merged %d latencies / %d service times / %d done, shards %d / %d / %d"
                  % (name, row["t"], got, got_svc, g["timeline_done"][i], want_n, want_svc, want_done))
    rc, out, err, cmp = compare(merged, merged, "--force")
    figs = {(r["name"], r["figure"]) for r in cmp["figures"]}
    check(("/a", "latency.p50") in figs and ("/b", "errors.rate") in figs and ("/b", "service_time.p99") in figs,
          "a merged result compares per name, errors and service time too: %s" % sorted(f for f in figs if f[0]))


if __name__ == "__main__":
    h.main(setup, teardown)
