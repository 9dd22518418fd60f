"""test_find_evidence.py — `salvo find` with `--scrape` and `--profile`.

`salvo target --service-time 10ms --workers 2` (capacity ~200/s: rates a
busy 2-CPU machine still generates validly) is the
service and its own /metrics the scrape endpoint; the profile endpoint is a
stub in this process that waits `seconds` and answers gzip bytes (what
salvo checks of a pprof body; the real Go pprof is test_scrape.py's). With
short steps, every step's result must carry its scrape object (series read
during that step) and its profile list; the profiles kept are those of the
confirmation steps and of the first failing step, their files exist, and
every other step's profile file is deleted and marked "kept": false.
"""

import json
import os
import re
import subprocess
import time

import harness as h
from harness import check, test

state = {}


def setup():
    p = subprocess.Popen([h.SALVO_BIN, "target", "--listen", "127.0.0.1:0", "--service-time", "10ms", "--workers", "2"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    state["target"] = p
    line = p.stdout.readline()  # bounded: the target prints it before serving or exits
    m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
    check(m is not None, "target did not start: %r" % line)
    state["port"] = int(m.group(1))
    srv = h.pprof_stub()
    state["pprof"] = srv
    state["dir"] = h.make_temp_dir("salvo-e2e-find-ev-")


def teardown():
    if "pprof" in state:
        state["pprof"].shutdown()
    p = state.get("target")
    if p and p.poll() is None:
        p.terminate()  # by PID: our own child
        p.wait(timeout=5)
    if "dir" in state:
        h.remove_temp_dir(state["dir"])


@test
def every_step_scrapes_and_the_telling_steps_keep_a_profile():
    port, out = state["port"], os.path.join(state["dir"], "find.json")
    pprof = "http://127.0.0.1:%d/debug/pprof/profile" % state["pprof"].server_address[1]
    t0 = time.monotonic()
    rc, _, _, err = h.run_salvo(["find", "http://127.0.0.1:%d/" % port, "--slo", "latency.p99 < 50ms",
                                 "--from", "50", "--max", "1600", "--precision", "25", "--step-duration", "2s",
                                 "--cooldown", "0s", "-t", "1", "--progress", "off", "--json", out,
                                 "--scrape", "http://127.0.0.1:%d/metrics" % port, "--scrape-match", "requests_total",
                                 "--profile", pprof, "--profile-for", "1s", "--max-lag", "5ms"], timeout=60, json_out=False)
    took = time.monotonic() - t0
    check(os.path.exists(out), "no find JSON (exit %d): %s" % (rc, err[-500:]))
    with open(out) as f:
        data = json.load(f)
    steps = data["steps"]
    summary = [(s["find"]["rate"], s["find"]["verdict"], s["find"]["confirm"]) for s in steps]
    h.log("  exit %d after %.1f s, steps %s" % (rc, took, summary))
    check(rc in (0, 98), "exit %d: %s" % (rc, err[-500:]))
    first_fail = next((i for i, s in enumerate(steps) if s["find"]["verdict"] == "fail"), None)
    telling = [i for i, s in enumerate(steps) if s["find"]["confirm"]] + ([first_fail] if first_fail is not None else [])
    check(telling, "no confirmation and no failing step to profile (the machine was too busy?): %s" % summary)
    names = set()
    for i, s in enumerate(steps):
        sc = s.get("scrape")
        check(sc and sc["targets"][0]["good_rounds"] >= 1 and sc["series"],
              "step %d has no scrape object with good rounds: %s" % (i + 1, str(sc)[:300]))
        profs = s.get("profiles")
        check(profs and len(profs) == 1, "step %d: profiles %s" % (i + 1, profs))
        p = profs[0]
        check(p["file"] not in names, "step %d reuses the file %s" % (i + 1, p["file"]))
        names.add(p["file"])
        if i in telling:
            check(p["ok"] and p["kept"] and os.path.exists(p["file"]),
                  "step %d (%s) must keep its profile: %s" % (i + 1, summary[i], p))
        else:
            check(not p["kept"] and not os.path.exists(p["file"]),
                  "step %d (%s) must not keep its profile: %s" % (i + 1, summary[i], p))
    check(took < 40, "the search took %.1f s" % took)


if __name__ == "__main__":
    h.main(setup=setup, teardown=teardown)
