"""test_demo.py — `salvo demo`, the embedded default, end to end.

The demo must finish in under a minute, clean up its children, exit 0, and
tell the truths it exists to tell: the honest open-model p99 (with the
freeze and varied routes) is at least 10x the naive closed-loop p99; and
the check lesson: the unchecked capacity run over trips of which every
tenth leaves the city says 0 errors, while the honest run's body check
counts those 200 {"error"} answers as check_failed, with the same numbers
in the text as in the JSON; the table's errors row is labelled as
leaving check_failed out and holds exactly failed + timeout + http_error.
Every run carries the login token (--auth): no
401 anywhere.
"""
import json
import os
import re
import subprocess
import time

import harness as h
from harness import check, test


def salvo_children():
    """PIDs of `salvo target` processes (to check the demo left none behind)."""
    out = subprocess.run(["pgrep", "-f", "salvo target --listen 127.0.0.1:0"], capture_output=True, text=True)
    return set(int(p) for p in out.stdout.split())


def check_lesson(stdout, doc):
    naive, honest = doc["capacity_run"], doc["experiments"][2]["result"]
    for name, r in [("capacity run", naive)] + [(e["name"], e["result"]) for e in doc["experiments"]]:
        check("401" not in r["status"], "%s got 401s (the token was not sent or not accepted): %s" % (name, r["status"]))
    text = " ".join(stdout.split())
    m = re.search(r"counted (\d+) requests and (\d+) errors", text)
    check(m, "the reading has no unchecked-run figures")
    errors = naive["requests"]["failed"] + naive["requests"]["timeout"] + naive["requests"]["http_error"]
    check(int(m.group(1)) == naive["requests"]["scheduled"] and int(m.group(2)) == errors == 0,
          "unchecked run: text %s/%s, JSON %s" % (m.group(1), m.group(2), naive["requests"]))
    check(naive["requests"]["check_failed"] == 0 and not naive.get("checks"), "the capacity run was checked")
    m = re.search(r"(\d+) check_failed, ([\d.]+)% of the (\d+) complete 200s", text)
    check(m, "the reading has no check figures")
    bad, ok = honest["requests"]["check_failed"], honest["requests"]["ok"]
    check(int(m.group(1)) == bad and int(m.group(3)) == ok + bad and honest["status"].get("200") == ok + bad,
          "checked run: text %s, JSON %s %s" % (m.groups(), honest["requests"], honest["status"]))
    # Every tenth trip is outside the city; 503s under the freeze fall on routes only, so the share among 200s is >= ~10 %.
    share = bad / max(ok + bad, 1)
    h.log("  check lesson: unchecked %d requests, 0 errors; checked %d check_failed of %d 200s (%.1f%%)"
          % (naive["requests"]["scheduled"], bad, ok + bad, 100 * share))
    check(bad > 0 and 0.05 <= share <= 0.6, "check_failed %d of %d 200s (%.1f%%), want 5..60%%" % (bad, ok + bad, 100 * share))
    check(honest["checks"]["routed"]["fail"] >= bad, "checks.routed: %s" % honest["checks"])


@test
def demo_tells_the_truth_in_under_a_minute():
    d = h.make_temp_dir("salvo-demo-test-")
    before = salvo_children()
    js, html = os.path.join(d, "demo.json"), os.path.join(d, "demo.html")
    t0 = time.monotonic()
    proc = subprocess.run([h.SALVO_BIN, "demo", "--json", js, "--html", html], capture_output=True, text=True,
                          timeout=120, cwd=d)
    took = time.monotonic() - t0
    h.log(proc.stdout[-2500:])
    check(proc.returncode == 0, "demo exit %d: %s" % (proc.returncode, proc.stderr[-500:]))
    check(took < 60, "demo took %.1f s, want < 60 s" % took)
    with open(js) as f:
        doc = json.load(f)
    exps = doc["experiments"]
    check(len(exps) == 3, "want 3 experiments, got %d" % len(exps))
    naive, frozen, honest = (e["result"] for e in exps)
    check(naive["model"] == "closed" and frozen["model"] == "closed" and honest["model"] == "open",
          "models: %s" % [e["result"]["model"] for e in exps])
    for e in exps:
        h.check_counts_add_up(e["result"])
    ratio = honest["latency_us"]["p99"] / max(naive["latency_us"]["p99"], 1)
    h.log("  naive p99 %d us, frozen p99 %d us, honest p99 %d us (x%.0f)"
          % (naive["latency_us"]["p99"], frozen["latency_us"]["p99"], honest["latency_us"]["p99"], ratio))
    check(ratio >= 10, "honest p99 is only %.1fx the naive p99" % ratio)
    check(honest["chaos"] and honest["chaos"][0]["fired"], "the honest run's freeze did not fire: %s" % honest["chaos"])
    check("coordinated omission" in proc.stdout, "the reading does not name coordinated omission")
    check_lesson(proc.stdout, doc)
    # The table's errors row says it leaves check_failed out, and its figures are exactly that.
    row = [l for l in proc.stdout.splitlines() if l.startswith("errors")]
    check(len(row) == 1 and row[0].startswith("errors excl. checks "), "the errors row: %s" % row)
    cells = [c.strip() for c in row[0].split("|")[1:]]
    want = [str(r["requests"]["failed"] + r["requests"]["timeout"] + r["requests"]["http_error"])
            for r in (naive, frozen, honest)]
    check(cells == want, "errors row %s, JSON failed+timeout+http_error %s (check_failed %d apart)"
          % (cells, want, honest["requests"]["check_failed"]))
    with open(html) as f:
        page = f.read()
    check("<svg" in page and page.count("<svg") >= 3, "report has no charts")
    time.sleep(0.5)
    left = salvo_children() - before
    check(not left, "demo left target processes behind: %s" % left)


if __name__ == "__main__":
    h.main()
