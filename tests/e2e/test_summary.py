"""test_summary.py — the text summary of a real run, and the same summary from merge and report.

Drives build/salvo (or $SALVO_BIN) against a private nginx on 127.0.0.1
whose access log records the bytes it sent and received per request, and
checks what a user reads:

- the verdict line comes first, in the documented format, and its word
  agrees with the exit code;
- the per-name table has one row per request name with the counts of the
  results JSON;
- bytes in and out equal what nginx logged ($bytes_sent, $request_length);
- `salvo report` prints exactly the summary `salvo run` printed for the
  same results, and `salvo merge` of that result the same verdict line,
  table and counts;
- with -q a failed gate (exit 99) prints nothing on stdout and its verdict
  line on stderr; a run that passed prints no verdict there (D6);
- colour on a terminal (a pty), none with NO_COLOR;
- the doctor's warnings before a run are one short line, not their long
  explanation (on a machine without warnings there is no such line).

Python 3 stdlib only; every child is bounded in time.
"""

import json
import os
import pty
import re
import select
import subprocess
import time

import harness as h
from harness import check, check_counts_add_up, test

nginx = None
state = {}

VERDICT = re.compile(r"^(PASS|FAIL|INVALID|ERROR|INTERRUPTED)  200/s × 2s  p50 \S+  p99 \S+  errors \d+\.\d\d%"
                     r"(  thresholds \d+/\d+)?$")
WORD_OF_RC = {0: "PASS", 1: "ERROR", 98: "INVALID", 99: "FAIL"}


def setup():
    global nginx
    nginx = h.Nginx(log_format="$bytes_sent $request_length").start()
    d = h.make_temp_dir("salvo-e2e-summary-")
    targets = os.path.join(d, "targets.txt")
    with open(targets, "w") as f:
        f.write("# name=home weight=3\nGET %s\n\n# name=other\nGET %sother\n" % (nginx.url, nginx.url))
    state.update(dir=d, targets=targets, json=os.path.join(d, "run.json"))


def salvo(*args, env=None, timeout=60):
    p = subprocess.run([h.SALVO_BIN] + [str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                       env=env)
    return p.returncode, p.stdout, p.stderr


def the_run():
    """One real run, made once: (exit code, JSON, stdout, stderr, nginx log lines)."""
    if "run" not in state:
        before = nginx.access_log_size()
        rc, out, err = salvo("run", "--targets", state["targets"], "-r", 200, "-d", "2s", "--json", state["json"],
                             timeout=60)
        time.sleep(0.2)  # nginx writes its log line after the response
        with open(state["json"]) as f:
            data = json.load(f)
        state["run"] = (rc, data, out, err, nginx.access_log_lines(before))
    return state["run"]


def table_rows(out):
    """{name: [columns]} of the per-name table (the rows after its 'name requests' header)."""
    lines = out.splitlines()
    head = [i for i, l in enumerate(lines) if l.split()[:2] == ["name", "requests"]]
    check(len(head) == 1, "no single per-name table header in:\n%s" % out)
    rows = {}
    for l in lines[head[0] + 1:]:
        if not l.startswith("  "):
            break
        cols = l.split()
        rows[cols[0]] = cols[1:]
    return rows


@test
def verdict_line_first_and_agrees_with_exit_code():
    rc, data, out, err, _ = the_run()
    check(rc in WORD_OF_RC, "run exited %d: %s" % (rc, err[-400:]))
    first = out.splitlines()[0]
    check(VERDICT.match(first), "first line is not the verdict line: %r" % first)
    check(first.split()[0] == WORD_OF_RC[rc], "verdict %r but exit %d" % (first.split()[0], rc))
    check("\033" not in out, "colour escapes on a pipe: %r" % out[:80])
    c = check_counts_add_up(data)
    errors = 100.0 * (c["http_error"] + c["failed"] + c["timeout"]) / c["scheduled"]
    check(" errors %.2f%%" % errors in first, "verdict line errors differ from the JSON's %.2f%%: %r" % (errors, first))


@test
def per_name_table_matches_json():
    rc, data, out, err, _ = the_run()
    rows = table_rows(out)
    check(set(rows) == {"home", "other"}, "table names %s, want home and other" % sorted(rows))
    for name, g in data["groups"].items():
        cols = rows[name]
        check(int(cols[0]) == g["requests"], "%s: table says %s requests, JSON %d" % (name, cols[0], g["requests"]))
        check(cols[1] == "0.00%", "%s: error share %s, want 0.00%%" % (name, cols[1]))
        check(cols[4:] == ["200", "(100%)"], "%s: top status %s" % (name, cols[4:]))
    check(rows["home"][0] != rows["other"][0], "weights 3:1 gave equal counts: %s" % rows)


@test
def bytes_match_what_nginx_logged():
    rc, data, out, err, log = the_run()
    sent = sum(int(l.split()[0]) for l in log)
    received = sum(int(l.split()[1]) for l in log)
    check(len(log) == data["requests"]["ok"], "nginx logged %d requests, salvo %d ok" % (len(log), data["requests"]["ok"]))
    check(data["bytes"] == {"in": sent, "out": received},
          "bytes %s, nginx sent %d and received %d" % (data["bytes"], sent, received))
    check(re.search(r"^bytes       in \S+ k?B, out \S+ k?B$", out, re.M), "no bytes line in:\n%s" % out)


@test
def report_prints_the_same_summary():
    rc, data, out, err, _ = the_run()
    html = os.path.join(state["dir"], "r.html")
    rrc, rout, rerr = salvo("report", state["json"], "--html", html)
    check(rrc == 0, "report exited %d: %s" % (rrc, rerr))
    check(rout == out, "report's summary differs from run's:\n--- run\n%s\n--- report\n%s" % (out, rout))
    rrc, rout, rerr = salvo("report", state["json"], state["json"], "--title", "a", "--title", "b", "--html", html)
    check(rrc == 0 and rout == "== a\n" + out + "\n== b\n" + out,
          "two results should print two summaries under their titles (exit %d):\n%s" % (rrc, rout))
    rrc, rout, rerr = salvo("report", "-q", state["json"], "--html", html)
    check(rrc == 0 and rout == "", "report -q printed %r (exit %d)" % (rout[:100], rrc))


@test
def merge_prints_the_same_summary():
    rc, data, out, err, _ = the_run()
    mrc, mout, merr = salvo("merge", state["json"])
    check(mrc in (0, 98), "merge exited %d: %s" % (mrc, merr))
    run_lines, merge_lines = out.splitlines(), mout.splitlines()
    check(merge_lines[0] == run_lines[0], "verdict lines differ: %r vs %r" % (run_lines[0], merge_lines[0]))
    check(table_rows(mout) == table_rows(out), "per-name tables differ:\n%s\n%s" % (out, mout))
    for prefix in ("requests ", "bytes ", "status ", "  latency ", "  service time "):
        a = [l for l in run_lines if l.startswith(prefix)]
        b = [l for l in merge_lines if l.startswith(prefix)]
        check(a and a == b, "%r lines differ: %s vs %s" % (prefix, a, b))
    check(any(l.startswith("salvo merge: run ") for l in merge_lines), "merge names no shards:\n%s" % mout)


@test
def quiet_failed_gate_prints_its_verdict_on_stderr():
    # A busy machine may make the run INVALID (98) before the gate fails (99): both must say so.
    rc, out, err = salvo("run", nginx.url, "-r", 100, "-d", "1s", "-q", "--threshold", "latency.p50 < 1us")
    check(rc in (98, 99), "a gate nobody passes should exit 99 (or 98), got %d: %s" % (rc, err[-300:]))
    check(out == "", "-q printed on stdout: %r" % out[:200])
    last = err.rstrip("\n").splitlines()[-1]
    check(re.match(r"^%s  100/s × 1s  p50 \S+  p99 \S+  errors 0\.00%%  thresholds 0/1$" % WORD_OF_RC[rc], last),
          "exit %d, but stderr does not end with its verdict line: %r" % (rc, err[-300:]))
    rc, out, err = salvo("run", nginx.url, "-r", 100, "-d", "1s", "-q", "--allow-invalid")
    check(rc == 0, "a plain run with --allow-invalid exited %d: %s" % (rc, err[-300:]))
    check(not re.search(r"^(PASS|FAIL|INVALID|ERROR)  ", err, re.M), "a run that passed printed a verdict: %r" % err)


@test
def doctor_warnings_are_one_short_line():
    rc, data, out, err, _ = the_run()
    doctor = [l for l in err.splitlines() if l.startswith("salvo: doctor: ")]
    warns = [l for l in doctor if not l.startswith("salvo: doctor: fail ")]
    h.log("  doctor lines: %s" % (doctor or "none on this machine"))
    check(len(warns) <= 1, "warnings on %d lines: %s" % (len(warns), warns))
    for l in warns:
        check(len(l) <= 200 and "'salvo doctor'" in l, "a long doctor warning (%d chars): %r" % (len(l), l))
    rc, out, err = salvo("run", nginx.url, "-r", 50, "-d", "1s", "-q", "--allow-invalid")
    check(not [l for l in err.splitlines() if l.startswith("salvo: doctor: ") and " fail " not in l[:20]],
          "-q printed doctor warnings: %r" % err)


def on_pty(args, env):
    """Runs salvo with stdout on a pseudo-terminal; returns what it printed there."""
    master, slave = pty.openpty()
    p = subprocess.Popen([h.SALVO_BIN] + args, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE,
                         env=env)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif p.poll() is not None:
            break
    os.close(master)
    p.wait(timeout=10)
    return b"".join(chunks).decode("utf-8", "replace")


@test
def colour_on_a_terminal_unless_no_color():
    the_run()
    html = os.path.join(state["dir"], "c.html")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = on_pty(["report", state["json"], "--html", html], env)
    check(re.match(r"^\033\[1;3[123]m(PASS|FAIL|INVALID)\033\[0m  200/s", coloured),
          "no colour on a terminal: %r" % coloured[:60])
    env["NO_COLOR"] = "1"
    plain = on_pty(["report", state["json"], "--html", html], env)
    check("\033" not in plain and re.match(r"^(PASS|FAIL|INVALID)  200/s", plain),
          "NO_COLOR=1 still coloured: %r" % plain[:60])


def teardown():
    if "dir" in state:
        h.remove_temp_dir(state["dir"])


if __name__ == "__main__":
    h.main(setup=setup, teardown=teardown)
