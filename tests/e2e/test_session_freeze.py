"""test_session_freeze.py — the coordinated-omission proof, for sessions.

test_freeze.py's argument, per session: sessions arrive at a constant rate
for D seconds, the server freezes for S seconds, and every session that
arrives during the freeze waits until it ends. `session_us` counts from the
session's scheduled start, so the share of sessions slower than x (x < S)
is (S - x)/D: its p99 is S - 0.01*D (1.9 s for S = 2 s, D = 10 s), within
test_freeze's 10 %.

- One step (`s:get('/')`): `session_us` p99 is that figure, and so is the
  step's own `latency_us` p99.
- Two steps (`s:get('/')` twice): the first step waits out the freeze, the
  second is asked when the first answered and is fast. `session_us` still
  holds the first step's delay: its p99 is again S - 0.01*D, and at least
  the one-step run's (both taken relative to the freeze each run measured).
  A step's latency counts from when its session asked for it, so only the
  first steps (half of all steps) carry the freeze: `latency_us` p99 is
  S - 0.02*D (1.8 s), well below `session_us` p99. Were the second step
  timed from the session's start it would be as slow as the session, and
  the two p99s would meet.

The server is nginx with one worker (a process this test started), frozen
by SIGSTOP of that worker, timed from its first logged request, and always
undone by SIGCONT. Open model, `-c 200 -t 1` and 1000 requests/s as in
test_freeze: 1000 one-step sessions/s, 500 two-step ones. The analytic
figures take the second step as instant; in truth it queues behind the
first steps the freeze held back (rate x S of them), which lifts the
two-step `session_us` p99 by that backlog's drain time (~50 ms here at
500/s, ~100 ms at 1000/s): the lower session rate keeps that well inside
the 10 %, also under ASan.
"""

import os

import harness as h
from harness import check, check_counts_add_up, excerpt, test

RUN_S = 10.0
FREEZE_AT_S = 4.0
FREEZE_S = 2.0
TOLERANCE = 0.10  # test_freeze's

nginx = None
work = None
one_step = None  # (frozen s, session_us p99) of the one-step run, for the two-step one


def setup():
    global nginx, work
    nginx = h.Nginx(access_log=True).start()
    work = h.make_temp_dir("salvo-e2e-sfreeze-")


def script(name, steps):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write("function session(s)\n" + "".join("   s:get('/')\n" for _ in range(steps)) + "end\n")
    return path


def run_with_freeze(lua, rate):
    """Runs salvo with sessions from lua; freezes the worker FREEZE_S s at
    FREEZE_AT_S s into sending. Returns (measured freeze in s, exit code, JSON, stderr)."""
    args = ["run", nginx.url, "--script", lua, "-r", str(rate), "-d", "%ds" % RUN_S, "-c", "200", "-t", "1"]
    frozen, rc, data, out, err = h.run_with_nginx_freeze(nginx, args, FREEZE_AT_S, FREEZE_S, timeout=RUN_S + 30)
    check(data is not None, "no results JSON (rc %d); stderr: %s" % (rc, err.strip()[-500:]))
    check_counts_add_up(data)
    ss = data.get("sessions", {})
    check(ss.get("scheduled", 0) > 0 and ss.get("completed") == ss.get("scheduled"),
          "a 2 s freeze under a 10 s timeout should lose no session: %s" % ss)
    return frozen, rc, data, err


def figures(data):
    return excerpt(data, "session_us", "latency_us", "sessions", "requests")


@test
def one_step_sessions_report_the_freeze():
    global one_step
    frozen, rc, data, err = run_with_freeze(script("one.lua", 1), 1000)
    su, lat = data["session_us"], data["latency_us"]
    truth = (frozen - 0.01 * RUN_S) * 1e6
    h.log("  one step: session_us p99 %s us, latency_us p99 %s us (truth %.0f), session max %s us"
          % (su["p99"], lat["p99"], truth, su["max"]))
    check(h.within(su["p99"], truth, TOLERANCE),
          "session_us p99 %s us is not within 10%% of the analytic %.0f us: %s" % (su["p99"], truth, figures(data)))
    check(h.within(lat["p99"], truth, TOLERANCE),
          "one-step latency_us p99 %s us is not within 10%% of the analytic %.0f us: %s"
          % (lat["p99"], truth, figures(data)))
    one_step = (frozen, su["p99"])


@test
def two_step_sessions_hold_the_first_steps_delay():
    frozen, rc, data, err = run_with_freeze(script("two.lua", 2), 500)
    su, lat = data["session_us"], data["latency_us"]
    truth_session = (frozen - 0.01 * RUN_S) * 1e6
    truth_step = (frozen - 0.02 * RUN_S) * 1e6
    h.log("  two steps: session_us p99 %s us (truth %.0f), latency_us p99 %s us (truth %.0f)"
          % (su["p99"], truth_session, lat["p99"], truth_step))
    check(data["requests"]["scheduled"] == 2 * data["sessions"]["scheduled"],
          "each session asks for two steps: %s" % figures(data))
    check(h.within(su["p99"], truth_session, TOLERANCE),
          "session_us p99 %s us is not within 10%% of the analytic %.0f us (the first step's delay is missing?): %s"
          % (su["p99"], truth_session, figures(data)))
    check(h.within(lat["p99"], truth_step, TOLERANCE),
          "step latency_us p99 %s us is not within 10%% of the analytic %.0f us: %s"
          % (lat["p99"], truth_step, figures(data)))
    # Same-run comparison: only half the steps carry the freeze, so the step
    # p99 sits 0.01*D (100 ms) below the session p99; the second step timed
    # from the session's start would close that gap.
    gap = su["p99"] - lat["p99"]
    check(gap >= 0.5 * 0.01 * RUN_S * 1e6,
          "session_us p99 %s us is only %d us above the steps' latency_us p99 %s us (want >= %.0f): %s"
          % (su["p99"], gap, lat["p99"], 0.5 * 0.01 * RUN_S * 1e6, figures(data)))
    if one_step:
        # Relative to each run's own freeze, the two-step session is the
        # one-step one plus a fast step: not shorter (20 ms for noise).
        f1, p1 = one_step
        two_rel, one_rel = su["p99"] - frozen * 1e6, p1 - f1 * 1e6
        check(two_rel >= one_rel - 20000,
              "two-step session_us p99 %s us (freeze %.3f s) is below the one-step run's %s us (freeze %.3f s)"
              % (su["p99"], frozen, p1, f1))


@test
def one_step_session_p50_is_a_plain_runs():
    """The cheap sanity half of issue 14's "one-step session p50 = plain p50
    within max(5 %, 20 us), medians of 3 runs" (that one is statistical and
    lives in bench/script.sh, BENCH_CASES=p50): one 1 s run of each at
    500/s, bounds a busy machine keeps, wide enough for noise yet narrow
    enough to catch a session step that waits a loop tick (1 ms) or more."""
    lua = script("one.lua", 1)
    got = {}
    for kind, extra in (("plain", []), ("session", ["--script", lua])):
        rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "500", "-d", "1s", "-c", "20", "-t", "1",
                                          "--allow-invalid"] + extra, timeout=30)
        check(data is not None, "%s run: no results JSON (rc %d): %s" % (kind, rc, err.strip()[-300:]))
        check_counts_add_up(data)
        got[kind] = data
    plain = got["plain"]["latency_us"]["p50"]
    step = got["session"]["latency_us"]["p50"]
    sess = got["session"]["session_us"]["p50"]
    h.log("  p50: plain %s us, session step %s us, session_us %s us (valid %s / %s)"
          % (plain, step, sess, got["plain"].get("valid"), got["session"].get("valid")))
    allowed = max(0.5 * plain, 300)
    check(abs(step - plain) <= allowed,
          "a one-step session's step p50 %s us is not within %.0f us of a plain run's %s us at 500/s: %s / %s"
          % (step, allowed, plain, figures(got["session"]), excerpt(got["plain"], "latency_us", "requests")))
    # The session's start (dispatch, coroutine resume) costs ~20 us on a quiet machine; on a
    # loaded one a late wake-up lands there too, so the bound is loose: the figure is bench's.
    check(step <= sess <= 2 * step + 1000,
          "session_us p50 %s us should hold its one step (p50 %s us) and little more (<= 2x + 1 ms; %.0f): %s"
          % (sess, step, allowed, figures(got["session"])))


if __name__ == "__main__":
    h.main(setup=setup)
