"""test_health.py — generator health and kernel counters.

- a comfortable run (-r 500 -d 3s -t 1) is judged valid and exits 0;
- one thread driven far past its capacity (-t 1 -r 300000 -d 3s -c 64) is
  invalid: exit 98 with a reason naming the generator; with --allow-invalid
  the exit is 0 and valid stays false. While it runs the test samples the
  worker threads' /proc schedstat (on-CPU and run-queue time) so that a
  failure says how busy the generator really was;
- --no-keepalive opens one connection per request (pool.opened == sent);
- connecting to a port nobody listens on counts connect_errors by errno name
  ({"ECONNREFUSED": n} with n == failed);
- a listener with backlog 1 that never accepts makes the kernel drop SYNs:
  the JSON kernel object shows TcpExt.ListenOverflows / ListenDrops > 0
  (machine-wide counters, so only "> 0" is asserted).
"""

import os
import socket
import time

import harness as h
from harness import check, check_counts_add_up, excerpt, test

nginx = None


def setup():
    global nginx
    nginx = h.Nginx(access_log=False).start()


def thread_schedstat(pid):
    """{tid: (on-CPU s, run-queue wait s)} of every thread of pid."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                run_ns, wait_ns = f.read().split()[:2]
            out[int(tid)] = (int(run_ns) / 1e9, int(wait_ns) / 1e9)
        except (OSError, ValueError):
            pass
    return out


@test
def comfortable_run_is_valid():
    # On a busy machine salvo may (correctly) call a run late; the claim under
    # test is that a light load is judged valid, so one of three tries must be,
    # unless every try names a cause outside salvo (hypervisor steal, CPU
    # contention from other processes), which is the verdict doing its job.
    attempts, disturbed = [], 0
    for _ in range(3):
        rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "500", "-d", "3s", "-t", "1", "-q"],
                                         timeout=40)
        check(data is not None, "no JSON (rc %d): %s" % (rc, err.strip()[-400:]))
        c = check_counts_add_up(data)
        check(c["ok"] == c["scheduled"] == 1500, "want 1500 ok: %s" % c)
        gen = data["generator"]
        attempts.append((rc, data["valid"], data["invalid_reasons"], gen["send_lag_us"]["p99"],
                         round(gen["runq_wait_pct_max_thread"], 1), (gen.get("machine_cpu") or {}).get("steal_pct")))
        if rc == 0 and data["valid"] is True and data["invalid_reasons"] == []:
            break
        if gen["runq_wait_pct_max_thread"] > 5 or any("hypervisor" in r or "overloaded" in r
                                                       for r in data["invalid_reasons"]):
            disturbed += 1
    h.log("  attempts (rc, valid, reasons, send-lag p99 us, run-queue wait %%, steal %%): %s" % attempts)
    if disturbed == len(attempts) and not attempts[-1][1]:
        h.log("  note: every try was late for a cause outside salvo (steal or CPU contention), as its verdict says")
        return
    check(attempts[-1][0] == 0 and attempts[-1][1] is True,
          "a 500/s run on one thread should be valid and exit 0 in one of 3 tries: %s" % attempts)


def saturated_run(extra):
    s = h.Salvo(["run", nginx.url, "-t", "1", "-r", "300000", "-d", "3s", "-c", "64", "-q"] + extra)
    before = thread_schedstat(s.pid)
    time.sleep(0.5)
    mid = thread_schedstat(s.pid)  # threads exist by now
    time.sleep(2.7)
    after = thread_schedstat(s.pid)
    rc, data, out, err = s.finish(timeout=60)
    diag = []
    for tid, (run_s, wait_s) in after.items():
        r0, w0 = mid.get(tid, before.get(tid, (0.0, 0.0)))
        diag.append("tid %d: on-CPU %.2f s, runnable-waiting %.2f s in 2.7 s" % (tid, run_s - r0, wait_s - w0))
    return rc, data, err, "; ".join(diag)


@test
def saturated_generator_is_invalid():
    rc, data, err, diag = saturated_run([])
    check(data is not None, "no JSON (rc %d): %s" % (rc, err.strip()[-400:]))
    summary = excerpt(data, "valid", "invalid_reasons", "rate") + " " + json_gen(data)
    h.log("  rc %d %s\n  schedstat during the sending phase: %s" % (rc, summary, diag))
    check_counts_add_up(data)
    check(data["valid"] is False,
          "300000/s on one thread with 64 connections must be invalid: %s; schedstat: %s" % (summary, diag))
    check(rc == 98, "an invalid run must exit 98, got %d: %s" % (rc, summary))
    # Saturated, or so starved of CPU by the rest of the machine that it never got to be busy:
    # either way the verdict must blame the generator's side, not the server.
    check(any("generator" in r or "machine was overloaded" in r for r in data["invalid_reasons"]),
          "invalid_reasons do not mention the generator or its machine: %s" % data["invalid_reasons"])


@test
def allow_invalid_exits_0_but_stays_invalid():
    rc, data, err, diag = saturated_run(["--allow-invalid"])
    check(data is not None, "no JSON (rc %d): %s" % (rc, err.strip()[-400:]))
    summary = excerpt(data, "valid", "invalid_reasons", "rate") + " " + json_gen(data)
    h.log("  rc %d %s" % (rc, summary))
    check(rc == 0, "--allow-invalid must exit 0, got %d" % rc)
    check(data["valid"] is False and data["invalid_reasons"],
          "--allow-invalid must not change the verdict: %s; schedstat: %s" % (summary, diag))


def json_gen(data):
    g = data.get("generator", {})
    return "generator: busy %.0f%%, send lag p99 %s us; latency p99 %s us" % (
        g.get("busy_pct_max_thread", -1), g.get("send_lag_us", {}).get("p99"), data["latency_us"]["p99"])


@test
def no_keepalive_opens_a_connection_per_request():
    rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "500", "-d", "2s", "-t", "1", "-q",
                                      "--no-keepalive", "--allow-invalid"], timeout=40)
    check(rc == 0 and data is not None, "rc %d: %s" % (rc, err.strip()[-400:]))
    c = check_counts_add_up(data)
    pool = data["pool"]
    h.log("  requests %s pool %s" % (c, pool))
    check(c["ok"] == c["scheduled"] == 1000, "want 1000 ok: %s" % c)
    check(data["config"].get("keepalive") is False, "config.keepalive should be false")
    check(abs(pool["opened"] - data["rate"]["sent"]) <= pool.get("retries", 0),
          "with --no-keepalive opened (%d) should equal requests sent (%d)"
          % (pool["opened"], data["rate"]["sent"]))
    check(data["connect_us"]["count"] == pool["opened"],
          "connect_us.count %d != pool.opened %d" % (data["connect_us"]["count"], pool["opened"]))
    # contrast: with keep-alive the same load needs only a few connections
    rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "500", "-d", "2s", "-t", "1", "-q",
                                      "--allow-invalid"], timeout=40)
    check(data is not None and data["pool"]["opened"] < 100,
          "keep-alive run opened %s connections" % (data and data["pool"]["opened"]))


@test
def connect_errors_are_counted_by_errno_name():
    port, t = h.refusing_after_one_port()  # past the preflight, every connect is refused
    rc, data, out, err = h.run_salvo(["run", "http://127.0.0.1:%d/" % port, "-r", "200", "-d", "2s",
                                      "-t", "1", "-q", "--allow-invalid"], timeout=40)
    t.join(5)
    check(data is not None, "no JSON (rc %d): %s" % (rc, err.strip()[-400:]))
    c = check_counts_add_up(data)
    ce = data.get("connect_errors")
    h.log("  requests %s connect_errors %s errors %s" % (c, ce, data.get("errors")))
    check(c["failed"] == c["scheduled"] == 400, "every request should fail: %s" % c)
    check(ce == {"ECONNREFUSED": c["failed"]},
          "connect_errors %s, want {'ECONNREFUSED': %d}" % (ce, c["failed"]))
    check(data["pool"]["connect_errors"] == c["failed"],
          "pool.connect_errors %s != failed %d" % (data["pool"]["connect_errors"], c["failed"]))


@test
def listen_overflows_show_in_kernel_counters():
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)  # and never accept
        port = ls.getsockname()[1]
        rc, data, out, err = h.run_salvo(["run", "http://127.0.0.1:%d/" % port, "-r", "2000", "-d", "3s",
                                          "--timeout", "1s", "-t", "1", "-q", "--allow-invalid"], timeout=60)
    finally:
        ls.close()
    check(data is not None, "no JSON (rc %d): %s" % (rc, err.strip()[-400:]))
    c = check_counts_add_up(data)
    k = data.get("kernel") or {}
    h.log("  requests %s kernel %s" % (c, {n: v for n, v in k.items() if v}))
    check(c["ok"] == 0 and c["timeout"] + c["failed"] == c["scheduled"],
          "a listener that never accepts cannot answer: %s" % c)
    check("TcpExt.ListenOverflows" in k and "TcpExt.ListenDrops" in k,
          "kernel lacks ListenOverflows/ListenDrops: %s" % sorted(k))
    check(k["TcpExt.ListenOverflows"] > 0 or k["TcpExt.ListenDrops"] > 0,
          "SYNs to a full backlog must show as ListenOverflows/ListenDrops: %s" % k)


if __name__ == "__main__":
    h.main(setup=setup)
