"""test_spin.py — salvo spins before deadlines by default, within its budget.

Without --spin each worker spins as long as its epoll wake-ups are late,
paid from 25 % of one core per thread (docs/measurement.md, "Spinning
before deadlines"); --spin 0 never spins; --spin D always spins D. The
spin's CPU is reported apart from cpu_pct (generator.spin_cpu_pct), with
the wake-up lateness it measured (generator.wake_late_p90_us).
"""

import harness as h
from harness import check, excerpt, test

BUDGET_PCT = 25.0


def gen(data):
    return data["generator"]


@test
def default_run_spins_within_budget():
    with h.Nginx(access_log=False) as nginx:
        rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", 500, "-d", "2s", "-t", "1"], timeout=40)
    check(data is not None, "no results JSON (rc %d); stderr: %s" % (rc, err.strip()[-500:]))
    g = gen(data)
    h.log("  spin_auto %s, spin %s%%, cpu %s%%, wake p90 %s us" % (
        data["config"].get("spin_auto"), g.get("spin_cpu_pct"), g.get("cpu_pct"), g.get("wake_late_p90_us")))
    check(data["config"].get("spin_auto") is True, "config.spin_auto is not true without --spin: %s"
          % excerpt(data, "config"))
    check("spin_cpu_pct" in g and "wake_late_p90_us" in g, "generator lacks spin_cpu_pct / wake_late_p90_us: %s" % g)
    check(g["wake_late_p90_us"] > 0, "no wake-up lateness measured: %s" % g["wake_late_p90_us"])
    check(0 < g["spin_cpu_pct"] <= BUDGET_PCT + 2, "spin_cpu_pct %s is not within (0, %s%%]"
          % (g["spin_cpu_pct"], BUDGET_PCT))
    check(g["spin_cpu_pct"] <= g["cpu_pct"] + 1, "spin %s%% exceeds the thread's CPU %s%%"
          % (g["spin_cpu_pct"], g["cpu_pct"]))
    check("spinning" in out + err, "the summary does not show the spin's CPU: %s" % (out + err)[-800:])


@test
def spin_zero_never_spins_and_a_fixed_spin_does():
    with h.Nginx(access_log=False) as nginx:
        rc0, off, _, err0 = h.run_salvo(["run", nginx.url, "-r", 500, "-d", "2s", "-t", "1", "--spin", "0"],
                                        timeout=40)
        rc1, fixed, _, err1 = h.run_salvo(["run", nginx.url, "-r", 500, "-d", "2s", "-t", "1", "--spin", "200us"],
                                          timeout=40)
    check(off is not None and fixed is not None, "no results JSON: %s / %s" % (err0[-300:], err1[-300:]))
    check(off["config"]["spin_auto"] is False and gen(off)["spin_cpu_pct"] == 0,
          "--spin 0 spun: %s" % excerpt(off, "generator"))
    check(fixed["config"]["spin_auto"] is False and gen(fixed)["spin_cpu_pct"] > 1,
          "--spin 200us at 500/s should spin several %% of a core: %s" % gen(fixed)["spin_cpu_pct"])


if __name__ == "__main__":
    h.main()
