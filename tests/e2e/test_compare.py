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
hold = float(sys.argv[2]) / 1000.0
served = itertools.count()  # next() is atomic under the GIL
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    def do_GET(self):
        deadline = time.monotonic() + hold * (SLOW_FACTOR if next(served) % SLOW_EVERY == 0 else 1)
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
