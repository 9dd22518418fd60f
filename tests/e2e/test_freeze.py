"""test_freeze.py — the coordinated-omission proof.

A server that freezes for S seconds during a D-second run at a constant rate
makes every user who arrives during the freeze wait until it ends, so the
share of requests slower than x (x < S) is (S - x)/D: p99 = S - 0.01*D and
p99.9 = S - 0.001*D. With S = 2 s and D = 10 s that is 1.9 s and 1.99 s.

The open run (`-r 1000 -d 10s -c 200 -t 1`) must report those figures within
10%; the cap of 200 connections keeps the freeze's new connections far below
nginx's listen backlog (4096), so nothing is dropped by the kernel and every
late request waits in salvo's own backlog with its intended time. The same
freeze under `--closed -c 50` must report a p99 far lower: that is the lie a
closed loop tells, and salvo must label such a run "closed".

The freeze is a SIGSTOP of the nginx worker (a process this test started),
timed from the moment nginx logged salvo's first request, and always undone
by SIGCONT.
"""

import harness as h
from harness import check, check_counts_add_up, excerpt, test

RUN_S = 10.0
FREEZE_AT_S = 4.0
FREEZE_S = 2.0
TOLERANCE = 0.10

nginx = None
open_p99_us = None


def setup():
    global nginx
    nginx = h.Nginx(access_log=True).start()


def run_with_freeze(args):
    """Runs salvo, freezes the worker FREEZE_S s at FREEZE_AT_S s into sending.

    Returns (measured freeze in s, exit code, JSON, stdout, stderr).
    """
    return h.run_with_nginx_freeze(nginx, args, FREEZE_AT_S, FREEZE_S, timeout=RUN_S + 30)


@test
def open_model_reports_the_freeze():
    global open_p99_us
    frozen, rc, data, out, err = run_with_freeze(
        ["run", nginx.url, "-r", "1000", "-d", "10s", "-c", "200", "-t", "1"])
    check(data is not None, "no results JSON (rc %d); stderr: %s" % (rc, err.strip()[-500:]))
    lat = data["latency_us"]
    open_p99_us = lat["p99"]
    truth_p99 = (frozen - 0.01 * RUN_S) * 1e6
    truth_p99_9 = (frozen - 0.001 * RUN_S) * 1e6
    h.log("  open: p99 %s us (truth %.0f), p99_9 %s us (truth %.0f), max %s us"
          % (lat["p99"], truth_p99, lat["p99_9"], truth_p99_9, lat["max"]))
    check(data["model"] == "open", "model is %r, want 'open'" % data["model"])
    check(h.within(lat["p99"], truth_p99, TOLERANCE),
          "latency p99 %s us is not within 10%% of the analytic %.0f us: %s"
          % (lat["p99"], truth_p99, excerpt(data, "latency_us", "service_time_us", "requests")))
    check(h.within(lat["p99_9"], truth_p99_9, TOLERANCE),
          "latency p99_9 %s us is not within 10%% of the analytic %.0f us: %s"
          % (lat["p99_9"], truth_p99_9, excerpt(data, "latency_us", "requests")))
    c = check_counts_add_up(data)
    check(c["ok"] == c["scheduled"],
          "a 2 s freeze under a 10 s timeout should lose nothing: %s" % c)


@test
def closed_model_hides_the_freeze():
    frozen, rc, data, out, err = run_with_freeze(
        ["run", nginx.url, "--closed", "-c", "50", "-t", "1", "-d", "10s"])
    check(data is not None, "no results JSON (rc %d); stderr: %s" % (rc, err.strip()[-500:]))
    check(data["model"] == "closed", "model is %r, want 'closed'" % data["model"])
    check_counts_add_up(data)
    reference = open_p99_us if open_p99_us else (frozen - 0.01 * RUN_S) * 1e6
    p99 = data["latency_us"]["p99"]
    h.log("  closed: p99 %s us, max %s us; open p99 (or truth) %.0f us"
          % (p99, data["latency_us"]["max"], reference))
    check(p99 < 0.2 * reference,
          "closed-model p99 %s us is not far below the open-model p99 %.0f us: %s"
          % (p99, reference, excerpt(data, "latency_us", "requests")))


if __name__ == "__main__":
    h.main(setup=setup)
