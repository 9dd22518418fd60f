"""test_demo.py — `salvo demo`, the embedded default, end to end.

The demo must finish in under a minute, clean up its children, exit 0, and
tell the truth it exists to tell: the honest open-model p99 (with the
freeze and varied routes) is at least 10x the naive closed-loop p99.
"""
import json
import os
import subprocess
import time

import harness as h
from harness import check, test


def salvo_children():
    """PIDs of `salvo target` processes (to check the demo left none behind)."""
    out = subprocess.run(["pgrep", "-f", "salvo target --listen 127.0.0.1:0"], capture_output=True, text=True)
    return set(int(p) for p in out.stdout.split())


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
    with open(html) as f:
        page = f.read()
    check("<svg" in page and page.count("<svg") >= 3, "report has no charts")
    time.sleep(0.5)
    left = salvo_children() - before
    check(not left, "demo left target processes behind: %s" % left)


if __name__ == "__main__":
    h.main()
