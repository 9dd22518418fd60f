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
  process with SIGTERM during the run;
- toxic windows against a `salvo chaos` this test starts: the toxics read
  back from its API during the window carry the units of `salvo chaos
  --toxic` (slicer delay=2ms is 2000 µs, limit_data bytes=10KB is 10000,
  rate=64000B is 64 KB/s), take its words (toxicity=20%, stream=, name=)
  and are gone afterwards;
  an unknown type, a misspelt attribute or a value off the unit is a usage
  error (exit 2, one line naming it) before any traffic; `api=[::1]:PORT`
  reaches an API listening on IPv6 loopback and its latency shows in the
  window.
"""

import os
import signal
import socket
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
    duration = 10
    try:
        # 10 s: five seconds after the window to come back in (with 8 s, three seconds of p99 above twice a
        # sub-millisecond baseline on a shared machine once left recovery_s null).
        rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "1000", "-d", "%ds" % duration, "-c", "200", "-t", "1",
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
          "recovery_s %r, want a number <= 2; p99 per second %s" % (w.get("recovery_s"),
                                                                  [t.get("p99_us") for t in data["timeline"]]))
    check(c["ok"] == c["scheduled"] == 1000 * duration, "a 2 s pause under a 10 s timeout loses nothing: %s" % c)
    truth = (2.0 - 0.01 * duration) * 1e6
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
def exec_window_is_not_waited_for():
    """A long exec command does not hold the run past its end; salvo says it left it running."""
    d = h.make_temp_dir("salvo-e2e-exec-")
    marker = os.path.join(d, "started")
    t0 = time.monotonic()
    rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "50", "-d", "2s", "-q", "--allow-invalid",
                                      "--chaos", "at=500ms exec touch %s; sleep 5" % marker], timeout=30)
    took = time.monotonic() - t0
    fired = os.path.exists(marker)
    h.remove_temp_dir(d)
    h.log("  took %.1f s; stderr %r" % (took, err.strip()[-200:]))
    check(rc == 0 and data is not None and data["chaos"][0]["fired"] and fired, "the exec window did not run: %s"
          % err.strip()[-300:])
    check(took < 4.5, "a 2 s run waited %.1f s for its exec command" % took)
    check("not waited for" in err, "salvo should say it left the command running: %r" % err)
    rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "50", "-d", "1s", "--chaos", "at=30s exec true"],
                                     timeout=10)
    check(rc == 2 and "at=30s" in err and err.count("\n") == 1, "a window after the run must be refused: %d %r"
          % (rc, err))


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


@test
def killed_server_never_recovers():
    """After a kill window the server stays dead: its errors, not its (absent) latency, say so."""
    port = h.free_port()
    target = subprocess.Popen([h.SALVO_BIN, "target", "--listen", "127.0.0.1:%d" % port], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        line = target.stdout.readline()
        check("listening on" in line, "target did not start: %r" % line)
        rc, data, out, err = h.run_salvo(["run", "http://127.0.0.1:%d/health" % port, "-r", "200", "-d", "4s",
                                          "-t", "1", "-q", "--allow-invalid", "--chaos",
                                          "at=2s kill pid=%d signal=KILL" % target.pid], timeout=40)
    finally:
        if target.poll() is None:
            target.kill()
        target.wait(timeout=5)
    check(rc == 0 and data is not None, "rc %d: %s" % (rc, err.strip()[-400:]))
    w = (data.get("chaos") or [{}])[0]
    h.log("  chaos %s" % w)
    check(w.get("fired") is True and w["end_s"] == w["start_s"] + 1, "a kill window covers the second after it: %s" % w)
    check(w["errors"] > 0, "requests after the kill must fail: %s" % w)
    check(w["recovery_s"] is None, "a server that stayed dead never recovered: %s" % w)


def toxics_during_windows(specs):
    """Runs 5 s of load with `at=1s for=3s` toxic windows against a fresh salvo chaos; returns
    (exit code, results JSON, stderr, toxics seen through the API during the windows, toxics after)."""
    chaos = h.Chaos(nginx.port)
    try:
        args = ["run", nginx.url, "-r", "50", "-d", "5s", "-t", "1", "-q", "--allow-invalid", "--progress", "off"]
        for spec in specs:
            args += ["--chaos", "at=1s for=3s toxic=%s api=%s proxy=salvo" % (spec, chaos.api_addr)]
        run = h.Salvo(args)
        seen, deadline = {}, time.monotonic() + 4
        while len(seen) < len(specs) and time.monotonic() < deadline and run.proc.poll() is None:
            seen = chaos.toxics()
            time.sleep(0.1)
        rc, data, out, err = run.finish(30)
        after = chaos.toxics()
    finally:
        chaos.stop()
    h.log("  toxics during the windows %s" % seen)
    check(rc == 0 and data is not None, "rc %d: %s" % (rc, err.strip()[-400:]))
    check(len(seen) == len(specs), "want %d toxics during the windows, saw %s" % (len(specs), seen))
    check(after == {}, "the toxics outlived their windows: %s" % after)
    fired = [w.get("fired") for w in data.get("chaos", [])]
    check(fired == [True] * len(specs), "windows not all fired: %s" % data.get("chaos"))
    return {t["type"]: t for t in seen.values()}


@test
def toxic_window_attributes_keep_their_units():
    by_type = toxics_during_windows(["slicer average_size=1000 size_variation=100 delay=2ms",
                                     "limit_data bytes=10KB", "bandwidth rate=64000B"])
    slicer = by_type.get("slicer", {}).get("attributes")
    check(slicer == {"average_size": 1000, "size_variation": 100, "delay": 2000},
          "slicer delay=2ms should be 2000 us: %s" % slicer)
    limit = by_type.get("limit_data", {}).get("attributes")
    check(limit == {"bytes": 10000}, "limit_data bytes=10KB should be 10000 bytes: %s" % limit)
    rate = by_type.get("bandwidth", {}).get("attributes")
    check(rate == {"rate": 64}, "bandwidth rate=64000B should be 64 KB/s: %s" % rate)


@test
def toxic_window_takes_the_words_of_salvo_chaos_toxic():
    by_type = toxics_during_windows(["latency latency=0.1s toxicity=20% stream=upstream name=win_lat",
                                     "slicer average_size=1KB size_variation=100 delay=500us"])
    lat, slicer = by_type.get("latency", {}), by_type.get("slicer", {})
    check(lat.get("name") == "win_lat" and lat.get("stream") == "upstream", "name=/stream= not passed on: %s" % lat)
    check(abs(lat.get("toxicity", 0) - 0.2) < 1e-9 and lat.get("attributes", {}).get("latency") == 100,
          "toxicity=20%% latency=0.1s should be 0.2 and 100 ms: %s" % lat)
    check(slicer.get("attributes") == {"average_size": 1000, "size_variation": 100, "delay": 500},
          "slicer 1KB/500us should be 1000 bytes and 500 us: %s" % slicer)


@test
def toxic_window_typos_are_refused_before_the_run():
    chaos = h.Chaos(nginx.port)
    try:
        for spec, culprit in (("toxic=nosuch", "nosuch"), ("toxic=latency latncy=100ms", "latncy"),
                              ("toxic=latency latency=1500us", "1500us")):
            offset = nginx.access_log_size()
            t0 = time.monotonic()
            rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "100", "-d", "3s", "-t", "1", "-q",
                                              "--chaos", "at=1s for=1s %s api=%s proxy=salvo" % (spec, chaos.api_addr)],
                                             timeout=30)
            elapsed = time.monotonic() - t0
            h.log("  %s: rc %d, %s" % (spec, rc, err.strip()))
            check(rc == 2, "want exit 2 for %r, got %d; stderr %r" % (spec, rc, err))
            check(culprit in err and len(err.strip().splitlines()) == 1,
                  "want one line naming %r, got %r" % (culprit, err))
            check(elapsed < 2.0, "the refusal of %r took %.1f s: it should come before the run" % (spec, elapsed))
            time.sleep(0.2)
            check(nginx.access_log_size() == offset, "requests were sent before refusing %r" % spec)
            check(chaos.toxics() == {}, "a toxic was added for %r" % spec)
    finally:
        chaos.stop()


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@test
def toxic_window_over_ipv6_api():
    if not ipv6_loopback():
        h.log("  skipped: no IPv6 loopback here")
        return
    chaos = h.Chaos(nginx.port, api="[::1]:0")
    try:
        check(chaos.api_addr.startswith("[::1]:"), "salvo chaos printed api %r" % chaos.api_addr)
        rc, data, out, err = h.run_salvo(["run", chaos.url, "-r", "50", "-d", "4s", "-t", "2", "-q",
                                          "--allow-invalid", "--progress", "off", "--chaos",
                                          "at=1s for=1s toxic=latency latency=100ms api=%s proxy=salvo" % chaos.api_addr],
                                         timeout=30)
        after = chaos.toxics()
    finally:
        chaos.stop()
    check(rc == 0 and data is not None, "rc %d: %s" % (rc, err.strip()[-400:]))
    w = (data.get("chaos") or [{}])[0]
    h.log("  chaos %s; run p50 %s us" % (w, data["latency_us"]["p50"]))
    check(w.get("fired") is True, "the window did not fire: %s" % w)
    check(w["requests"] >= 40 and w["p50_us"] >= 100000, "100 ms of latency not seen in the window: %s" % w)
    # A quarter of the run was in the window, so the run's p50 must be from outside it.
    check(data["latency_us"]["p50"] < 100000, "the latency outlived its window: p50 %s us" % data["latency_us"]["p50"])
    check(after == {}, "the toxic outlived its window: %s" % after)


if __name__ == "__main__":
    h.main(setup=setup)
