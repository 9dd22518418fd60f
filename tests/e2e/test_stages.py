"""test_stages.py — ramps (--stages) and the knee, against `salvo target`.

A ramp's arrival count must be the integral of its rate, and the knee —
the rate at which latency left its floor — must land near the capacity of
the service, measured independently (a closed loop of cache misses). The
target runs with its cache off and one worker, so its capacity is a few
hundred routes per second and the ramp crosses it well inside the run.
"""
import os
import subprocess
import time

import harness as h
from harness import check, test

TARGET = {}


def start_target():
    """Starts `salvo target` (1 worker, no cache) on a free port; returns (proc, port, trips)."""
    d = h.make_temp_dir("salvo-stages-")
    port = h.free_port()
    proc = subprocess.Popen([h.SALVO_BIN, "target", "--listen", "127.0.0.1:%d" % port, "--workers", "1",
                             "--cache", "0", "--queue", "64"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    check("listening on" in line, "target did not start: %r" % line)
    trips = os.path.join(d, "trips.csv")
    subprocess.run([h.SALVO_BIN, "target", "--gen-trips", "5000", "--out", trips], check=True, timeout=30)
    return proc, port, trips


def stop_target(proc):
    """Ends the target this test started, by PID."""
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def url(port):
    return "http://127.0.0.1:%d/api/route?from={from_lat},{from_lng}&to={to_lat},{to_lng}" % port


@test
def ramp_count_is_the_integral():
    with h.Nginx(access_log=False) as nginx:
        rc, data, out, err = h.run_salvo(["run", nginx.url, "--stages", "2s:400,2s:400,2s:0", "--allow-invalid"],
                                         timeout=40)
    check(data is not None, "no JSON (rc %d): %s" % (rc, err[-300:]))
    c = h.check_counts_add_up(data)
    # 0->400 over 2 s (400) + 400 for 2 s (800) + 400->0 over 2 s (400) = 1600 exactly.
    check(c["scheduled"] == 1600, "scheduled %d, want exactly 1600" % c["scheduled"])
    check(abs(data["duration_s"] - 6.0) < 0.2, "duration_s %s, want ~6" % data["duration_s"])
    check(len(data["config"]["stages"]) == 3, "config.stages: %s" % data["config"]["stages"])


@test
def conn_stages_ramp_connections():
    """--conn-stages ramps the closed model's connections (k6's ramping-vus) and implies --closed."""
    with h.Nginx(access_log=False) as nginx:
        rc, data, out, err = h.run_salvo(["run", nginx.url, "--conn-stages", "2s:20,2s:20,2s:0", "-t", "1",
                                          "--allow-invalid"], timeout=40)
    check(data is not None and data["model"] == "closed", "closed ramp failed: %s" % err[-300:])
    conns = [r["conns"] for r in data["timeline"]]
    h.log("  connections per second: %s" % conns)
    # 0 -> 20 over 2 s, 20 for 2 s, 20 -> 0 over 2 s (snapshots at the end of each second).
    check(5 <= conns[0] <= 14 and 17 <= conns[1] <= 20, "ramp up: %s" % conns)
    check(all(c == 20 for c in conns[2:4]), "hold at 20: %s" % conns)
    check(5 <= conns[4] <= 14, "ramp down: %s" % conns)
    check(data["pool"]["max_open"] == 20, "max_open %s, want 20" % data["pool"]["max_open"])
    check(abs(data["duration_s"] - 6.0) < 0.3, "duration_s %s" % data["duration_s"])


@test
def conn_stages_take_rate_as_a_cap():
    """With --conn-stages, -r caps the request rate (it was refused, and --closed --stages was uncapped)."""
    with h.Nginx(access_log=False) as nginx:
        rc, data, out, err = h.run_salvo(["run", nginx.url, "--conn-stages", "1s:10,2s:10", "-r", "200", "-t", "1",
                                          "--allow-invalid"], timeout=40)
    check(data is not None and data["model"] == "closed", "capped closed ramp failed (rc %d): %s" % (rc, err[-300:]))
    c = h.check_counts_add_up(data)
    # 200/s for 3 s is 600 at most; an uncapped loop against nginx sends tens of thousands.
    check(c["scheduled"] <= 600, "scheduled %d, want at most 600 (200/s cap for 3 s)" % c["scheduled"])
    check(c["scheduled"] >= 400, "scheduled %d, want about 600 at the 200/s cap" % c["scheduled"])
    check(data["pool"]["max_open"] <= 10, "max_open %s, want at most 10" % data["pool"]["max_open"])


@test
def bad_stages_are_usage_errors():
    for spec in ("30s", "abc:10", "10s:-5", "", "1s:10,", "0s:100"):
        rc, data, out, err = h.run_salvo(["run", "http://127.0.0.1:9/", "--stages", spec], timeout=10)
        check(rc == 2, "--stages %r: exit %d, want 2" % (spec, rc))
        check(err.startswith("salvo:") and "--stages" in err and err.count("\n") == 1,
              "--stages %r: stderr %r" % (spec, err))
    for args in (["--stages", "1s:10", "-r", "5", "--closed"], ["--stages", "1s:10", "--closed"],
                 ["--conn-stages", "1s:10", "--stages", "1s:10"], ["--conn-stages", "1s:10", "-d", "5s"],
                 ["--stages", "1s:2e7"], ["-r", "1e9"],
                 ["-r", "10", "--start-at", "1795752613000"]):  # milliseconds: refused, not misread
        rc, data, out, err = h.run_salvo(["run", "http://127.0.0.1:9/"] + args, timeout=10)
        check(rc == 2 and err.startswith("salvo:") and err.count("\n") == 1, "%s: exit %d, %r" % (args, rc, err))


@test
def rate_is_where_a_ramp_starts():
    """-r with --stages is k6's startRate; a 0 s stage is a step change."""
    with h.Nginx(access_log=False) as nginx:
        rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "100", "--stages", "2s:300,0s:50,1s:50",
                                          "--allow-invalid"], timeout=40)
    check(data is not None, "no JSON (rc %d): %s" % (rc, err[-300:]))
    c = h.check_counts_add_up(data)
    # 100 -> 300 over 2 s (400), then a step to 50 held for 1 s (50) = 450 exactly.
    check(c["scheduled"] == 450, "scheduled %d, want exactly 450" % c["scheduled"])


@test
def knee_is_near_capacity():
    proc, port, trips = start_target()
    try:
        # Capacity: a closed loop of cache misses, 8 connections, 3 s.
        rc, cap, out, err = h.run_salvo(["run", url(port), "--data", trips, "--pick", "random", "--closed",
                                         "-c", "8", "-d", "3s", "--allow-invalid"], timeout=30)
        check(cap is not None, "capacity run failed: %s" % err[-300:])
        capacity = cap["requests"]["ok"] / cap["duration_s"]
        h.log("  capacity %.0f/s" % capacity)
        top = max(4 * capacity, 200)
        rc, data, out, err = h.run_salvo(["run", url(port), "--data", trips, "--pick", "random",
                                          "--stages", "12s:%d" % top, "--timeout", "3s", "--allow-invalid"],
                                         timeout=60)
        check(data is not None, "ramp run failed: %s" % err[-300:])
        knee = data["knee"]
        h.log("  knee %s" % knee)
        check(knee is not None, "no knee found on a ramp to %d/s over a capacity of %.0f/s: %s"
              % (top, capacity, [(r["t"], r["sent"], r["p99_us"]) for r in data["timeline"]]))
        check(0.4 * capacity <= knee["rate_intended"] <= 1.6 * capacity,
              "knee at %.0f/s, capacity %.0f/s" % (knee["rate_intended"], capacity))
        check("knee" in out, "summary does not mention the knee")
    finally:
        stop_target(proc)


if __name__ == "__main__":
    h.main()
