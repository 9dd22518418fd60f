"""test_target_pause.py — a chaos pause on `salvo target` gives the analytic truth.

`--chaos 'at=4s for=2s pause pid=TARGET'` freezes the demo routing service
for S = 2 s of a D = 10 s run at 1000/s (one cached route, so the service
itself answers in microseconds). Measured from the intended send time the
share of requests slower than x is (S - x)/D, so p99 = S - 0.01 D = 1.9 s
and p99.9 = S - 0.001 D = 1.99 s; salvo must report both within 10 %, and
the chaos window must hold the ~2000 requests that were due during it.
"""
import subprocess

import harness as h
from harness import check, test


@test
def pause_window_on_target_matches_analytic_percentiles():
    port = h.free_port()
    proc = subprocess.Popen([h.SALVO_BIN, "target", "--listen", "127.0.0.1:%d" % port],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        check("listening on" in proc.stdout.readline(), "target did not start")
        url = "http://127.0.0.1:%d/api/route?from=52.52,13.40&to=52.48,13.33" % port
        rc, data, out, err = h.run_salvo(["run", url, "-r", "1000", "-d", "10s", "-c", "200", "-t", "1",
                                          "--chaos", "at=4s for=2s pause pid=%d" % proc.pid, "--allow-invalid"],
                                         timeout=60)
        check(data is not None, "no result: %s" % err[-300:])
        c = h.check_counts_add_up(data)
        check(c["ok"] == c["scheduled"] == 10000, "every request should succeed: %s" % c)
        lat = data["latency_us"]
        h.log("  p99 %d us, p99.9 %d us; chaos %s" % (lat["p99"], lat["p99_9"], data["chaos"]))
        check(h.within(lat["p99"], 1.9e6, 0.10), "p99 %d us, analytic 1 900 000" % lat["p99"])
        check(h.within(lat["p99_9"], 1.99e6, 0.10), "p99.9 %d us, analytic 1 990 000" % lat["p99_9"])
        w = data["chaos"][0]
        check(w["fired"] and h.within(w["requests"], 2000, 0.05), "window: %s" % w)
        with open("/proc/%d/stat" % proc.pid) as f:
            check(f.read().split(")")[-1].split()[0] != "T", "the target was left stopped")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    h.main()
