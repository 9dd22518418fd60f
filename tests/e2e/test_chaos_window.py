"""test_chaos_window.py — `--chaos` fault windows fired by salvo itself.

- `at=3s for=2s pause pid=<nginx worker>` on a 1000/s 8 s open run
  (-c 200 -t 1): salvo stops the worker for 2 s and resumes it. chaos[0]
  reports fired true, ~2000 requests in the window, p99 >= 1.5 s and a
  recovery time <= 2 s; the run's p99 is within 10 % of the analytic truth
  S - 0.01*D = 2 - 0.08 = 1.92 s (a user arriving at t in the pause waits
  until its end); afterwards the worker runs again (state != 'T');
- a window naming a PID that does not exist is a usage error (exit 2) before
  any traffic;
- `at=1s kill pid=<a sleep 30 this test started> signal=TERM` ends that
  process with SIGTERM during the run.
"""

import os
import signal
import subprocess
import time

import harness as h
from harness import check, check_counts_add_up, excerpt, test

nginx = None


def setup():
    global nginx
    nginx = h.Nginx(access_log=True).start()


def proc_state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


@test
def pause_window_is_measured():
    worker = nginx.worker_pid()
    check(proc_state(worker) != "T", "the worker is stopped before the test")
    spec = "at=3s for=2s pause pid=%d" % worker
    try:
        rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "1000", "-d", "8s", "-c", "200", "-t", "1",
                                          "-q", "--allow-invalid", "--chaos", spec], timeout=60)
        state_after = proc_state(worker)
    finally:
        # salvo must have resumed it; make sure a failed run leaves no stopped worker behind
        if h.pid_alive(worker) and proc_state(worker) == "T":
            os.kill(worker, signal.SIGCONT)
    check(data is not None, "no JSON (rc %d): %s" % (rc, err.strip()[-400:]))
    check(rc == 0, "rc %d: %s" % (rc, err.strip()[-400:]))
    c = check_counts_add_up(data)
    chaos = data.get("chaos") or []
    h.log("  chaos %s" % chaos)
    h.log("  latency p99 %s us, p99_9 %s us, max %s us; requests %s"
          % (data["latency_us"]["p99"], data["latency_us"]["p99_9"], data["latency_us"]["max"], c))
    check(state_after != "T", "nginx's worker %d is still stopped after the run (state %s)" % (worker, state_after))
    check(len(chaos) == 1, "want one chaos window: %s" % chaos)
    w = chaos[0]
    check(w.get("fired") is True, "the window did not fire: %s" % w)
    check(w.get("action") == "pause" and w.get("pid") == worker, "action/pid wrong: %s" % w)
    check(h.within(w["requests"], 2000, 0.05), "window requests %s, want 2000 +- 5%%" % w["requests"])
    check(w["p99_us"] >= 1.5e6, "window p99 %s us, want >= 1.5 s" % w["p99_us"])
    check(w.get("recovery_s") is not None and w["recovery_s"] <= 2,
          "recovery_s %r, want a number <= 2" % w.get("recovery_s"))
    check(c["ok"] == c["scheduled"] == 8000, "a 2 s pause under a 10 s timeout loses nothing: %s" % c)
    truth = (2.0 - 0.01 * 8.0) * 1e6
    p99 = data["latency_us"]["p99"]
    check(h.within(p99, truth, 0.10), "latency p99 %s us is not within 10%% of the analytic %.0f us: %s"
          % (p99, truth, excerpt(data, "latency_us")))


@test
def chaos_on_a_missing_pid_is_refused_before_traffic():
    p = subprocess.Popen(["true"])
    p.wait(timeout=10)
    gone = p.pid  # reaped: no such process now
    check(not h.pid_alive(gone), "pid %d unexpectedly exists" % gone)
    offset = nginx.access_log_size()
    t0 = time.monotonic()
    rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "200", "-d", "4s", "-t", "1", "-q",
                                      "--chaos", "at=1s for=1s pause pid=%d" % gone], timeout=30)
    elapsed = time.monotonic() - t0
    check(rc == 2, "want exit 2 for a missing pid, got %d; stderr %r" % (rc, err))
    check(str(gone) in err, "stderr does not name the pid %d: %r" % (gone, err))
    check(elapsed < 2.0, "the refusal took %.1f s: it should come before the run" % elapsed)
    time.sleep(0.2)
    check(nginx.access_log_size() == offset, "requests were sent before the refusal")


@test
def kill_window_signals_the_process():
    victim = subprocess.Popen(["sleep", "30"])
    try:
        rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "200", "-d", "3s", "-t", "1", "-q",
                                          "--allow-invalid",
                                          "--chaos", "at=1s kill pid=%d signal=TERM" % victim.pid], timeout=40)
        try:
            status = victim.wait(timeout=2)
        except subprocess.TimeoutExpired:
            status = None
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait(timeout=5)
    check(rc == 0 and data is not None, "rc %d: %s" % (rc, err.strip()[-400:]))
    w = (data.get("chaos") or [{}])[0]
    h.log("  chaos %s; sleep's exit status %s" % (w, status))
    check(status == -signal.SIGTERM, "the sleep should have died of SIGTERM during the run, status %r" % status)
    check(w.get("fired") is True and w.get("action") == "kill", "window not reported as fired: %s" % w)
    check_counts_add_up(data)


if __name__ == "__main__":
    h.main(setup=setup)
