"""test_short_runs.py — figures that stay true when a run has almost nothing to do.

The run also lasts the duration it was given when its schedule ends first.

`-r 0.5 -d 2s` schedules one arrival. A worker thread whose share ends after
a few milliseconds of start-up work used to report 77-102 % CPU (of its own
few milliseconds), which reads as a saturated generator. CPU is a share of
the run, and the machine's busy share can never be below salvo's own.
"""

import os

import harness as h
from harness import check, test

nginx = None


def setup():
    global nginx
    nginx = h.Nginx().start()


@test
def one_arrival_does_not_read_as_a_busy_generator():
    rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "0.5", "-d", "2s", "-t", "2", "-q"], timeout=30)
    check(data is not None, "no JSON: rc %d, %s" % (rc, err.strip()[-300:]))
    g = data["generator"]
    h.log("  cpu_pct %.2f, per thread %s, machine %s" % (g["cpu_pct"], g["cpu_pct_per_thread"], g.get("machine_cpu")))
    check(data["requests"]["scheduled"] == 1, "expected one arrival: %s" % data["requests"])
    check(g["cpu_pct"] < 20, "one request in 2 s cannot cost %.1f %% CPU" % g["cpu_pct"])
    check(all(p < 20 for p in g["cpu_pct_per_thread"]), "a thread with at most one arrival: %s"
          % g["cpu_pct_per_thread"])
    # The run lasts its duration even when its schedule ends first (one
    # arrival at 0 s): a "2 s run" that ended after 0.05 s misreports its
    # seconds and rates.
    check(1.9 <= data["elapsed_s"] < 4, "-d 2s lasted %.3f s" % data["elapsed_s"])
    seconds = [row["t"] for row in data["timeline"]]
    check(seconds[:2] == [0, 1], "the timeline should have seconds 0 and 1: %s" % seconds)


@test
def machine_busy_is_never_below_salvos_own_share():
    rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "2000", "-d", "2s", "-t", "1", "-q",
                                      "--allow-invalid"], timeout=30)
    check(data is not None, "no JSON: rc %d, %s" % (rc, err.strip()[-300:]))
    g = data["generator"]
    m = g.get("machine_cpu")
    check(m, "no machine_cpu in the result")
    ncpu = os.cpu_count()
    own = g["cpu_pct"] / ncpu
    h.log("  salvo %.2f %% of one core = %.2f %% of %d CPUs; machine busy %.2f %%"
          % (g["cpu_pct"], own, ncpu, m["busy_pct"]))
    check(m["busy_pct"] + 0.5 >= own, "machine busy %.2f %% is below salvo's own %.2f %% of the machine"
          % (m["busy_pct"], own))


if __name__ == "__main__":
    h.main(setup=setup)
