"""test_scrape.py — `salvo run --scrape` and `--profile` against a real Go service.

The service (tests/e2e/goservice/main.go, standard library only) is copied
into a temp dir and built once with Debian's golang-go, offline
(GOPROXY=off, GOCACHE and GOPATH inside the temp dir). It serves
net/http/pprof, its runtime/metrics in Prometheus text, and /work: CPU in
the named function burnCPU, then a 40 ms sleep holding the goroutine, so by
Little's law a rate R keeps about R * 0.04 goroutines busy.

- goroutines rise with the load: a run at 25/s (~1 in flight) and one at
  200/s (~8 in flight, and a goroutine per open connection): the median
  scraped go_goroutines of the second exceeds the first's by at least 5;
- a counter's rate is the request rate: app_requests_total's per-second
  values in the steady seconds of the 200/s run (at least 3 good) have a
  median within 15 % of 200, and its increase equals the JSON's ok count
  within 3 %;
- the histogram's p99 per second lies in the bucket that holds 40 ms+;
- the profile of the 200/s run (default placement: the middle third) is
  saved beside the JSON, listed in it, and `go tool pprof -top` names burnCPU;
- along a --stages ramp, --profile takes a 1 s profile every 2 s (a
  quarter of the 8 s run) and keeps those around the knee (all without one);
- a SIGSTOP of the service (--chaos pause, 2-3 s) is a gap (null) in second 2
  of every scraped series, and only there; its cause is recorded at second 2;
- faults: a scrape endpoint that hangs 10 s, one that answers garbage, one
  where nothing listens, a profile endpoint that hangs and one where
  nothing listens: one warning
  each, causes in the JSON, gaps are null, and the run's exit code,
  request count and wall time (within 1.5 s) are those of the same run
  without them;
- bad input exits 2 before any traffic: a bad --scrape URL, a bad
  --scrape-match regex, --profile-at before any --profile.
"""

import json
import os
import shutil
import statistics
import subprocess
import time

import harness as h
from harness import check, test

HIGH = 200  # the busier run's rate: ~8 requests in flight, plus a goroutine per connection
SERVICE_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "goservice", "main.go")
srv = None
port = None
work_dir = None
go_bin = None


def go_env(d):
    env = dict(os.environ)
    env.update(GOPROXY="off", GOFLAGS="-mod=mod", GOCACHE=os.path.join(d, "cache"),
               GOPATH=os.path.join(d, "gopath"), GO111MODULE="on")
    return env


def setup():
    global srv, port, work_dir, go_bin
    go_bin = h.require_tool("go", "scripts/install-deps.sh installs golang-go")
    work_dir = h.make_temp_dir("salvo-e2e-go-")
    shutil.copy(SERVICE_SRC, os.path.join(work_dir, "main.go"))
    with open(os.path.join(work_dir, "go.mod"), "w") as f:
        f.write("module goservice\n\ngo 1.19\n")
    t0 = time.monotonic()
    r = subprocess.run([go_bin, "build", "-o", "goservice", "."], cwd=work_dir, env=go_env(work_dir),
                       capture_output=True, text=True, timeout=180)
    check(r.returncode == 0, "go build failed: %s" % (r.stderr or r.stdout)[-800:])
    h.log("go build took %.1f s" % (time.monotonic() - t0))
    port = h.free_port()
    srv = subprocess.Popen([os.path.join(work_dir, "goservice"), "127.0.0.1:%d" % port],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = srv.stdout.readline()
    check(line.strip() == "ready", "the Go service did not start: %r" % line)


def teardown():
    if srv and srv.poll() is None:
        srv.kill()
        srv.wait(timeout=5)


def url(path):
    return "http://127.0.0.1:%d%s" % (port, path)


def run(rate, duration, extra, json_path=None):
    """One run against /work; returns (rc, JSON, stderr, wall seconds)."""
    args = ["run", url("/work"), "-c", 200, "-t", 1, "--allow-invalid", "--progress", "off"] + extra
    if rate is not None:
        args += ["-r", rate, "-d", duration]
    if json_path:
        args += ["--json", json_path]
    s = h.Salvo(args, json_out=json_path is None)
    rc, data, _, err = s.finish(60)
    if json_path:
        with open(json_path) as f:
            data = json.load(f)
    return rc, data, err, s.elapsed


def served():
    """app_requests_total as the service says now."""
    text = h.urllib.request.urlopen(url("/metrics"), timeout=5).read().decode()
    line = [l for l in text.splitlines() if l.startswith("app_requests_total{")][0]
    return int(line.rsplit(" ", 1)[1])


def series(data, name):
    found = [s for s in data["scrape"]["series"] if s["name"] == name]
    check(found, "no scraped series %s among %s" % (name, sorted({s["name"] for s in data["scrape"]["series"]})))
    return found[0]


def present(values):
    return [v for v in values if v is not None]


@test
def goroutines_rate_histogram_and_profile():
    rc, low, err, _ = run(25, "4s", ["--scrape", url("/metrics")])
    check(rc == 0, "low run exit %d: %s" % (rc, err[-400:]))
    jpath = os.path.join(work_dir, "high.json")
    rc, high, err, _ = run(HIGH, "6s", ["--scrape", url("/metrics"), "--profile", url("/debug/pprof/profile")],
                           json_path=jpath)
    check(rc == 0, "high run exit %d: %s" % (rc, err[-400:]))
    nrows = len(high["timeline"])
    g_low = present(series(low, "go_goroutines")["values"])
    g_high_s = series(high, "go_goroutines")
    check(len(g_high_s["values"]) == nrows, "values (%d) not aligned with the timeline (%d rows)"
          % (len(g_high_s["values"]), nrows))
    g_high = present(g_high_s["values"][1:-1])
    check(g_low and g_high, "no goroutine values: low %s high %s" % (g_low, g_high_s["values"]))
    m_low, m_high = statistics.median(g_low), statistics.median(g_high)
    check(m_high >= m_low + 5, "goroutines did not rise with the load: median %.0f at 25/s, %.0f at HIGH/s"
          " (values %s / %s)" % (m_low, m_high, g_low, g_high))
    h.log("goroutines: median %.0f at 25/s, %.0f at %d/s" % (m_low, m_high, HIGH))
    req = series(high, "app_requests_total")
    check(req["kind"] == "counter" and req["labels"] == {"handler": "work", "note": 'a "quoted" label'},
          "counter kind/labels: %s %s" % (req["kind"], req["labels"]))
    steady = present(req["values"][1:-1])
    check(len(steady) >= 3 and h.within(statistics.median(steady), HIGH, 0.15),
          "app_requests_total rate %s (%d good rounds of %s), want >= 3 with a median within 15%% of %d/s"
          % (steady, high["scrape"]["targets"][0]["good_rounds"], high["scrape"]["targets"][0]["rounds"], HIGH))
    h.log("app_requests_total rate per second %s" % ["%.0f" % v for v in steady])
    ok = high["requests"]["ok"]
    check(h.within(req["increase"], ok, 0.03), "counter increase %s vs ok %d" % (req["increase"], ok))
    hist = series(high, "app_request_duration_seconds")
    p99 = present(hist["values"][1:-1])
    check(hist["kind"] == "histogram" and p99 and all(0.025 <= v <= 1 for v in p99),
          "histogram p99 per second %s (kind %s), want within the 40 ms+ buckets" % (p99, hist["kind"]))
    profs = high.get("profiles") or []
    check(len(profs) == 1 and profs[0]["ok"], "profiles: %s" % profs)
    want = os.path.join(work_dir, "high.profile-1.pb.gz")
    check(profs[0]["file"] == want and os.path.getsize(want) == profs[0]["bytes"],
          "profile file %s, want %s" % (profs[0], want))
    check(1.5 <= profs[0]["at_s"] <= 2.5 and profs[0]["for_s"] == 2, "default placement %s" % profs[0])
    r = subprocess.run([go_bin, "tool", "pprof", "-top", want], capture_output=True, text=True, timeout=60,
                       env=go_env(work_dir))
    check(r.returncode == 0 and "burnCPU" in r.stdout,
          "go tool pprof -top does not name burnCPU (rc %d): %s %s" % (r.returncode, r.stdout[-600:], r.stderr[-300:]))


@test
def a_ramp_profiles_back_to_back_and_keeps_the_knee():
    jpath = os.path.join(work_dir, "ramp.json")
    rc, data, err, _ = run(None, None, ["--stages", "0s:50,8s:400", "--profile", url("/debug/pprof/profile")],
                           json_path=jpath)
    check(rc == 0, "exit %d: %s" % (rc, err[-400:]))
    profs = data["profiles"]
    check([p["at_s"] for p in profs] == [0, 2, 4, 6] and all(p["for_s"] == 1 for p in profs),
          "want 1 s profiles at 0, 2, 4, 6 s: %s" % [(p["at_s"], p["for_s"]) for p in profs])
    knee = data.get("knee")
    for p in profs:
        near = not knee or p["at_s"] - 2 <= knee["t"] < p["at_s"] + 4
        check(p["kept"] == near, "knee %s: profile at %s kept=%s" % (knee, p["at_s"], p["kept"]))
        check(p["ok"], "profile at %s: %s" % (p["at_s"], p.get("error")))
        check(os.path.exists(p["file"]) == p["kept"], "profile at %s kept=%s but file exists=%s"
              % (p["at_s"], p["kept"], os.path.exists(p["file"])))
    h.log("ramp: knee %s, kept %s" % (knee and knee["t"], [p["at_s"] for p in profs if p["kept"]]))


@test
def a_frozen_server_is_a_gap():
    rc, data, err, _ = run(100, "5s", ["--scrape", url("/metrics"), "--chaos", "at=2s for=1s pause pid=%d" % srv.pid])
    check(rc == 0, "exit %d: %s" % (rc, err[-400:]))
    g = series(data, "go_goroutines")["values"]
    r = series(data, "app_requests_total")["values"]
    h.log("frozen 2-3 s: goroutines %s, request rate %s" % (g, r))
    check(g[2] is None and r[2] is None, "second 2 (frozen) is not a gap: goroutines %s, rate %s" % (g, r))
    check(all(v is not None for v in g[:2] + g[3:5]), "gaps outside the freeze: %s" % g)
    check(r[3] is not None and r[3] > 0, "no rate after the freeze: %s" % r)
    t = data["scrape"]["targets"][0]
    check(t["failed_rounds"] >= 1 and t["errors"] and t["errors"][0]["first_t"] == 2,
          "the freeze's failed round is not recorded at second 2: %s" % t)


@test
def faulty_endpoints_cost_a_warning_each():
    rc0, plain, err0, t0 = run(100, "4s", [])
    dead = "http://127.0.0.1:%d/metrics" % h.free_port()
    dead_prof = "http://127.0.0.1:%d/debug/pprof/profile" % h.free_port()
    rc, data, err, t1 = run(100, "4s", ["--scrape", url("/hang"), "--scrape", url("/garbage"), "--scrape", dead,
                                        "--profile", url("/hangprof"), "--profile-at", "1s", "--profile-for", "1s",
                                        "--profile", dead_prof])
    check(rc == rc0 == 0, "exit %d with faulty endpoints, %d without: %s" % (rc, rc0, err[-500:]))
    h.log("wall time %.2f s with the faulty endpoints, %.2f s without" % (t1, t0))
    check(abs(t1 - t0) <= 1.5, "wall time %.2f s with faulty endpoints, %.2f s without" % (t1, t0))
    check(data["requests"]["scheduled"] == plain["requests"]["scheduled"] == 400,
          "scheduled %d vs %d" % (data["requests"]["scheduled"], plain["requests"]["scheduled"]))
    check(abs(data["duration_s"] - plain["duration_s"]) < 0.5, "duration %s vs %s"
          % (data["duration_s"], plain["duration_s"]))
    warns = [l for l in err.splitlines() if "warning: scrape" in l or "warning: profile" in l]
    check(len(warns) == 5, "want 5 warnings (one per faulty endpoint), got %d: %s" % (len(warns), warns))
    targets = {t["url"]: t for t in data["scrape"]["targets"]}
    causes = {u: [e["cause"] for e in t["errors"]] for u, t in targets.items()}
    check(any("deadline" in c or "timed out" in c or "time" in c for c in causes[url("/hang")]),
          "hang cause %s" % causes[url("/hang")])
    check(any("Prometheus" in c for c in causes[url("/garbage")]), "garbage cause %s" % causes[url("/garbage")])
    check(any("refused" in c for c in causes[dead]), "dead cause %s" % causes[dead])
    check(all(t["good_rounds"] == 0 for t in targets.values()), "good rounds %s" % targets)
    check(not data["scrape"]["series"], "series from faulty endpoints: %s" % data["scrape"]["series"][:2])
    hung, refused = data["profiles"]
    check(not hung["ok"] and "time" in hung["error"], "hanging profile: %s" % hung)
    check(not refused["ok"] and "refused" in refused["error"], "unreachable profile: %s" % refused)


@test
def bad_input_exits_2_before_traffic():
    for extra, word in ((["--scrape", "ftp://x/metrics"], "--scrape"),
                        (["--scrape", url("/metrics"), "--scrape-match", "(unclosed"], "--scrape-match"),
                        (["--profile-at", "1s", "--profile", url("/debug/pprof/profile")], "--profile-at"),
                        (["--profile", url("/x"), "--profile-at", "9s"], "--profile-at")):
        before = served()
        rc, data, _, err = h.run_salvo(["run", url("/work"), "-r", 10, "-d", "2s"] + extra, timeout=20)
        check(rc == 2 and data is None, "%s: exit %d, want 2 and no results" % (extra, rc))
        lines = err.strip().splitlines()
        check(len(lines) == 1 and word in lines[0], "%s: stderr %r, want one line naming %s" % (extra, err, word))
        check(served() == before, "%s: requests reached the service" % extra)


if __name__ == "__main__":
    h.main(setup, teardown)
