"""test_run_basic.py — the `salvo run` contract: JSON keys, outcomes, usage errors, Ctrl-C.

Drives build/salvo (or $SALVO_BIN) against a private nginx on 127.0.0.1 and
checks what every consumer of the results JSON relies on: the documented
keys exist, every scheduled request ends in exactly one outcome, the model is
named, a closed run owns up to coordinated omission, usage errors exit 2 with
one "salvo: ..." line (a URL with a password in it named with the
password masked, u:***@), an unreachable server still yields a result, and
SIGINT ends the run early with the results written.
"""

import os
import signal
import time

import harness as h
from harness import check, check_counts_add_up, excerpt, test

nginx = None

TOP_LEVEL_KEYS = ("tool", "version", "config", "model", "valid", "invalid_reasons",
                  "duration_s", "rate", "requests", "latency_us", "service_time_us",
                  "wait_us", "connect_us", "status", "errors", "groups", "pool",
                  "generator", "kernel", "timeline", "thresholds")
POOL_KEYS = ("opened", "closed", "max_open", "idle", "wait_count", "wait_duration_us")
TIMELINE_KEYS = ("t", "sent", "done", "errors", "p50_us", "p99_us", "max_us", "inflight", "conns")


def setup():
    global nginx
    nginx = h.Nginx().start()


def check_contract(data):
    """Every documented key of the results JSON is there with the right shape."""
    check(data is not None, "no results JSON was written")
    missing = [k for k in TOP_LEVEL_KEYS if k not in data]
    check(not missing, "results JSON lacks top-level keys %s" % missing)
    check(data["tool"] == "salvo", "tool is %r, want 'salvo'" % data["tool"])
    check(isinstance(data["valid"], bool), "valid must be a bool: %r" % data["valid"])
    check(isinstance(data["invalid_reasons"], list), "invalid_reasons must be a list")
    check(isinstance(data["duration_s"], (int, float)), "duration_s must be a number")
    for k in ("intended", "achieved"):
        check(k in data["rate"], "rate lacks %r: %s" % (k, data["rate"]))
    for k in ("scheduled",) + h.OUTCOMES:
        check(k in data["requests"], "requests lacks %r: %s" % (k, data["requests"]))
    for fig in ("latency_us", "service_time_us", "wait_us", "connect_us"):
        lack = [k for k in h.PERCENTILE_KEYS if k not in data[fig]]
        check(not lack, "%s lacks %s: %s" % (fig, lack, data[fig]))
    for k in ("status", "errors", "groups", "kernel", "thresholds"):
        check(isinstance(data[k], dict), "%s must be an object: %r" % (k, data[k]))
    lack = [k for k in POOL_KEYS if k not in data["pool"]]
    check(not lack, "pool lacks %s: %s" % (lack, data["pool"]))
    for k in ("cpu_pct", "max_rss_kb", "send_lag_us"):
        check(k in data["generator"], "generator lacks %r: %s" % (k, data["generator"]))
    for name, g in data["groups"].items():
        for k in ("requests", "latency_us", "status"):
            check(k in g, "groups[%r] lacks %r" % (name, k))
    check(isinstance(data["timeline"], list), "timeline must be a list")
    for row in data["timeline"]:
        lack = [k for k in TIMELINE_KEYS if k not in row]
        check(not lack, "timeline row lacks %s: %s" % (lack, row))


@test
def open_run_contract_and_counts():
    rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "200", "-d", "2s"], timeout=30)
    # 98 is salvo judging its own run invalid (a busy machine made it late);
    # that is honest, but then it must say why.
    check(rc == 0 or (rc == 98 and data and not data["valid"] and data["invalid_reasons"]),
          "exit code %d, want 0 (or 98 with reasons); stderr: %s" % (rc, err.strip()[-500:]))
    check_contract(data)
    c = check_counts_add_up(data)
    check(data["model"] == "open", "model is %r, want 'open'" % data["model"])
    check(390 <= c["scheduled"] <= 410, "scheduled %d, want ~400 for 200/s over 2 s: %s"
          % (c["scheduled"], excerpt(data, "requests", "rate", "duration_s")))
    check(c["ok"] == c["scheduled"], "every request should be ok: %s" % c)
    check(data["status"] == {"200": c["ok"]},
          "status should be {'200': %d}: %s" % (c["ok"], data["status"]))
    recorded = c["ok"] + c["http_error"] + c["timeout"]
    check(data["latency_us"]["count"] == recorded,
          "latency_us.count %s != ok + http_error + timeout = %d"
          % (data["latency_us"]["count"], recorded))
    check(len(data["timeline"]) >= 1, "timeline is empty after a 2 s run")


@test
def closed_run_names_model_and_coordinated_omission():
    rc, data, out, err = h.run_salvo(["run", nginx.url, "--closed", "-c", "4", "-t", "1", "-d", "2s"],
                                     timeout=30)
    check(rc == 0, "exit code %d, want 0; stderr: %s" % (rc, err.strip()[-500:]))
    check_contract(data)
    c = check_counts_add_up(data)
    check(data["model"] == "closed", "model is %r, want 'closed'" % data["model"])
    check(c["ok"] > 0, "a closed run against nginx completed nothing: %s" % c)
    check("coordinated omission" in (out + err).lower(),
          "terminal output of a closed run does not mention coordinated omission:\n%s%s"
          % (out[-800:], err[-800:]))


def expect_usage_error(args, what):
    rc, data, out, err = h.run_salvo(args, timeout=15, json_out=False)
    lines = [line for line in err.splitlines() if line.strip()]
    check(rc == 2, "%s: exit code %d, want 2 (cmd: salvo %s; stderr: %r)"
          % (what, rc, " ".join(args), err[-300:]))
    check(len(lines) == 1 and lines[0].startswith("salvo:"),
          "%s: want one stderr line starting 'salvo:', got %r" % (what, err[-300:]))


@test
def usage_error_missing_url():
    expect_usage_error(["run", "-r", "10", "-d", "1s"], "missing URL")


@test
def usage_error_bad_url_masks_its_password():
    d = h.make_temp_dir("salvo-mask-")
    targets = os.path.join(d, "targets.txt")
    with open(targets, "w") as f:
        f.write("GET http://u:s3cret@127.0.0.1:1/a\n")
    url = "http://u:s3cret@127.0.0.1:1/"
    for extra in (["run", url], ["run", nginx.url, "--scrape", url], ["run", nginx.url, "--profile", url],
                  ["run", nginx.url, "--remote-write", url], ["run", "--targets", targets],
                  ["find", url, "--slo", "latency.p99 < 1s"]):
        args = extra + ["-r", "10", "-d", "1s"] if extra[0] == "run" else extra
        rc, _, _, err = h.run_salvo(args, timeout=15, json_out=False)
        check(rc == 2 and "s3cret" not in err and "u:***@127.0.0.1:1/" in err,
              "salvo %s: exit %d, want 2 and the password masked: %r" % (" ".join(args), rc, err[-300:]))


@test
def usage_error_bad_rate():
    expect_usage_error(["run", nginx.url, "-r", "abc", "-d", "1s"], "bad rate")


@test
def usage_error_bad_duration():
    expect_usage_error(["run", nginx.url, "-r", "10", "-d", "tenseconds"], "bad duration")


@test
def usage_error_unknown_option():
    expect_usage_error(["run", nginx.url, "-r", "10", "-d", "1s", "--no-such-option"],
                       "unknown option")


@test
def unreachable_port_still_reports():
    # it passes the preflight, then refuses (a port refused from the start stops before sending: test_exit_codes)
    port, t = h.refusing_after_one_port()
    rc, data, out, err = h.run_salvo(["run", "http://127.0.0.1:%d/" % port, "-r", "100", "-d", "1s"],
                                     timeout=30)
    t.join(5)
    check(rc >= 0, "salvo died from signal %d" % -rc)
    check(rc != 2, "connection refused is not a usage error (exit 2): %s" % err.strip())
    c = check_counts_add_up(data)
    check(c["failed"] > 0, "failed should be > 0 against a closed port: %s" % c)
    check(c["ok"] == 0, "nothing listens, yet ok=%d" % c["ok"])
    check(data["errors"], "errors is empty although requests failed: %s" % excerpt(data, "errors", "requests"))


@test
def sigint_ends_early_and_writes_results():
    s = h.Salvo(["run", nginx.url, "-r", "200", "-d", "10s"])
    time.sleep(2.5)
    check(s.proc.poll() is None, "salvo exited before SIGINT (rc %s)" % s.proc.returncode)
    s.signal(signal.SIGINT)
    rc, data, out, err = s.finish(timeout=15)
    check(rc >= 0, "salvo was killed by signal %d instead of handling SIGINT" % -rc)
    check(s.elapsed < 8, "salvo took %.1f s after SIGINT at 2.5 s of a 10 s run" % s.elapsed)
    c = check_counts_add_up(data)
    check(data["duration_s"] < 10, "duration_s %.3f is not below the requested 10 s" % data["duration_s"])
    check(c["ok"] > 0, "no request completed before SIGINT: %s" % c)


if __name__ == "__main__":
    h.main(setup=setup)
