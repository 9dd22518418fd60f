"""test_doctor.py — `salvo doctor`: its text and JSON, its port arithmetic, --target and usage errors.

Drives build/salvo (or $SALVO_BIN) on this machine. The port-budget test
recomputes from /proc/sys what the doctor must conclude for a planned
--rate 5000 without keep-alive (ports / 60 s of TIME_WAIT per destination,
or ports / tcp_tw_reuse_delay when reuse applies; without --target a
tcp_tw_reuse of 2, loopback only, is not counted on) and compares. The
--target test opens its own listener on 127.0.0.1 with backlog 7 and
expects the doctor to read that backlog back through sock_diag.
"""

import json
import math
import os
import socket
import subprocess

import harness as h
from harness import check, test

STATUSES = ("ok", "warn", "fail")
CHECK_KEYS = ("name", "status", "value", "recommended", "symptom", "fix")
# Checks every report has, whatever the machine.
ALWAYS = ("net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog", "net.ipv4.ip_local_port_range",
          "net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_max_tw_buckets", "RLIMIT_NOFILE", "fs.file-max",
          "fs.nr_open", "net.core.netdev_max_backlog", "net.ipv4.tcp_syncookies", "net.ipv4.tcp_rmem",
          "net.ipv4.tcp_wmem", "net.core.rmem_max", "net.core.wmem_max",
          "net.ipv4.tcp_slow_start_after_idle", "cpufreq governor", "cpus", "timer slack")
DATA = os.path.join(h.REPO_ROOT, "tests", "unit", "data", "doctor")


def doctor(*args, timeout=30):
    """Runs `salvo doctor ARGS`; returns (exit code, stdout, stderr)."""
    p = subprocess.run([h.SALVO_BIN, "doctor", *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def doctor_json(*args):
    """Runs `salvo doctor --json ARGS`; returns (exit code, parsed document)."""
    rc, out, err = doctor("--json", *args)
    check(rc in (0, 1), "exit %d, stderr: %s" % (rc, err.strip()))
    try:
        doc = json.loads(out)
    except ValueError as e:
        raise AssertionError("stdout is not JSON (%s): %r" % (e, out[:300]))
    return rc, doc


def by_name(doc):
    return {c["name"]: c for c in doc["checks"]}


def sysctl(name, count=1):
    """Reads /proc/sys/NAME as integers, or None when it is absent."""
    try:
        with open("/proc/sys/" + name.replace(".", "/")) as f:
            vals = [int(x) for x in f.read().split()]
    except OSError:
        return None
    return vals if count > 1 else vals[0]


def reserved_ports(lo, hi):
    """How many of ip_local_reserved_ports lie in [lo, hi]."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_reserved_ports") as f:
            text = f.read().strip()
    except OSError:
        return 0
    n = 0
    for part in filter(None, text.split(",")):
        a, _, b = part.partition("-")
        a, b = int(a), int(b or a)
        n += max(0, min(b, hi) - max(a, lo) + 1)
    return n


@test
def test_json_contract():
    rc, doc = doctor_json()
    check(set(doc) >= {"checks", "summary"}, "top-level keys: %s" % sorted(doc))
    names = [c["name"] for c in doc["checks"]]
    for c in doc["checks"]:
        check(tuple(sorted(c)) == tuple(sorted(CHECK_KEYS)), "check keys %s" % sorted(c))
        check(c["status"] in STATUSES, "status %r of %s" % (c["status"], c["name"]))
        check(all(isinstance(c[k], str) for k in CHECK_KEYS), "non-string field in %s" % c)
        check(c["value"], "%s has no value" % c["name"])
    missing = [n for n in ALWAYS if n not in names]
    check(not missing, "checks missing: %s" % missing)
    conntrack = os.path.exists("/proc/sys/net/netfilter/nf_conntrack_max")
    check(("net.netfilter.nf_conntrack_max" in names) == conntrack,
          "conntrack check present=%s but module loaded=%s" % ("net.netfilter.nf_conntrack_max" in names, conntrack))
    counts = {s: sum(1 for c in doc["checks"] if c["status"] == s) for s in STATUSES}
    check(doc["summary"] == counts, "summary %s, checks say %s" % (doc["summary"], counts))
    check(rc == (1 if counts["fail"] else 0), "exit %d with %d failures" % (rc, counts["fail"]))
    for c in doc["checks"]:
        if c["status"] == "fail":
            check(c["fix"], "failing %s has no fix" % c["name"])
    for target in ("[::1]:8080", "127.0.0.1:8080"):  # the plan echoes a target as it can be typed again
        rc, doc = doctor_json("--target", target)
        check(doc["plan"]["target"] == target, "plan.target %r for --target %s" % (doc["plan"]["target"], target))


@test
def test_text_table():
    rc, out, err = doctor("--connections", "100")
    check(rc in (0, 1), "exit %d: %s" % (rc, err))
    lines = out.splitlines()
    header = next((i for i, l in enumerate(lines) if l.startswith("STATUS")), None)
    check(header is not None, "no table header in:\n" + out)
    col = lines[header].index("VALUE")
    rows = [l for l in lines[header + 1:] if l.split(" ", 1)[0] in STATUSES]
    check(len(rows) >= len(ALWAYS), "only %d check rows" % len(rows))
    for name in ALWAYS:
        check(any(r.split()[1] == name.split()[0] for r in rows), "no row for %s" % name)
    short = [r for r in rows if len(r.split()[1]) < col - 8]
    check(all(r[col - 2:col] == "  " and r[col] != " " for r in short), "value column is not aligned")
    _, doc = doctor_json("--connections", "100")
    for c in doc["checks"]:
        if c["status"] != "ok" and c["fix"]:
            check("fix: " + c["fix"] in out, "no fix line for %s" % c["name"])
    check(lines[-1].startswith("summary: ") and "ok" in lines[-1], "last line: %r" % lines[-1])


@test
def test_port_budget_prediction():
    lo, hi = sysctl("net.ipv4.ip_local_port_range", 2)
    ports = hi - lo + 1 - reserved_ports(lo, hi)
    reuse, stamps = sysctl("net.ipv4.tcp_tw_reuse"), sysctl("net.ipv4.tcp_timestamps")
    delay_ms = sysctl("net.ipv4.tcp_tw_reuse_delay") or 1000
    # Without --target a value of 2 (loopback only) cannot be counted on.
    window = delay_ms / 1000.0 if (stamps != 0 and reuse == 1) else 60.0
    budget = math.floor(ports / window)
    rate = 5000
    want = "fail" if rate > budget else "warn" if rate > 0.8 * budget else "ok"
    h.log("  %d ports / %g s = %d new conn/s per destination; %d/s -> %s" % (ports, window, budget, rate, want))
    rc, doc = doctor_json("--rate", str(rate), "--no-keepalive")
    c = by_name(doc)["net.ipv4.ip_local_port_range"]
    check(c["status"] == want, "status %s, arithmetic says %s (%s)" % (c["status"], want, c["value"]))
    check("%d ports" % ports in c["value"] and "= %d new conn/s" % budget in c["value"], "value: %s" % c["value"])
    if want == "fail":
        check(rc == 1, "a failing check must exit 1, got %d" % rc)
        check(c["fix"], "no fix for the port range")
    # Keep-alive turns the budget into concurrent connections.
    _, doc = doctor_json("--rate", str(rate), "--connections", str(ports + 1))
    check(by_name(doc)["net.ipv4.ip_local_port_range"]["status"] == "fail", "%d connections on %d ports" % (ports + 1, ports))
    _, doc = doctor_json("--rate", str(rate), "--connections", str(max(1, ports // 2)))
    check(by_name(doc)["net.ipv4.ip_local_port_range"]["status"] == "ok", "%d connections on %d ports" % (ports // 2, ports))


def doctor_in_netns(settings, *args):
    """Runs `salvo doctor --json ARGS` in a new network namespace with the
    given net.* sysctls; returns the parsed document. Skips the test when
    this machine cannot create namespaces (no CAP_NET_ADMIN); anything else
    that goes wrong is a failure."""
    if not h.can_unshare_net():
        h.skip("no CAP_NET_ADMIN: this machine cannot create network namespaces")
    writes = " && ".join("echo '%s' > /proc/sys/%s" % (v, k.replace(".", "/")) for k, v in settings.items())
    cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up 2>/dev/null; %s && exec "$0" "$@"' % writes,
           h.SALVO_BIN, "doctor", "--json", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    check(p.returncode in (0, 1) and p.stdout.startswith("{"),
          "doctor in a namespace exited %d: %s %s" % (p.returncode, p.stdout[-300:], p.stderr[-300:]))
    return json.loads(p.stdout)


@test
def test_netns_narrow_range():
    # 100 ports, no reuse: floor(100 / 60 s) = 1 new connection/s per destination.
    narrow = {"net.ipv4.ip_local_port_range": "40000 40099", "net.ipv4.tcp_tw_reuse": "0",
              "net.ipv4.tcp_timestamps": "1"}
    doc = doctor_in_netns(narrow, "--rate", "2", "--no-keepalive")
    c = by_name(doc)["net.ipv4.ip_local_port_range"]
    check(c["status"] == "fail" and "100 ports / 60 s TIME_WAIT = 1 new conn/s" in c["value"], "2/s: %s" % c)
    check(by_name(doc)["net.ipv4.tcp_tw_reuse"]["status"] == "warn", "reuse off must warn when it would help")
    check(c["fix"] == 'sysctl -w net.ipv4.ip_local_port_range="1024 65535"', "a wider range suffices: %s" % c["fix"])
    # With reuse after 1 s the same range gives 100/s: 50 ok, 90 warn, 101 fail.
    on = dict(narrow, **{"net.ipv4.tcp_tw_reuse": "1"})
    for rate, want in (("50", "ok"), ("90", "warn"), ("101", "fail")):
        doc = doctor_in_netns(on, "--rate", rate, "--no-keepalive")
        c = by_name(doc)["net.ipv4.ip_local_port_range"]
        check(c["status"] == want, "reuse on, %s/s: %s, want %s (%s)" % (rate, c["status"], want, c["value"]))
    # 2 means loopback only: it counts for a loopback target and not without one.
    loop = dict(narrow, **{"net.ipv4.tcp_tw_reuse": "2"})
    doc = doctor_in_netns(loop, "--rate", "50", "--no-keepalive", "--target", "127.0.0.1:8080")
    check(by_name(doc)["net.ipv4.ip_local_port_range"]["status"] == "ok", "reuse=2 with a loopback target")
    doc = doctor_in_netns(loop, "--rate", "50", "--no-keepalive")
    check(by_name(doc)["net.ipv4.ip_local_port_range"]["status"] == "fail", "reuse=2 without a target")
    # Timestamps off disable reuse altogether.
    doc = doctor_in_netns(dict(on, **{"net.ipv4.tcp_timestamps": "0"}), "--rate", "50", "--no-keepalive")
    check(by_name(doc)["net.ipv4.ip_local_port_range"]["status"] == "fail", "reuse without timestamps")


@test
def test_recorded_trees():
    rc, doc = doctor_json("--root", os.path.join(DATA, "tuned"), "--rate", "50000", "--no-keepalive")
    check(rc == 0 and doc["summary"]["warn"] == 0 and doc["summary"]["fail"] == 0,
          "tuned tree: exit %d, %s" % (rc, doc["summary"]))
    rc, doc = doctor_json("--root", os.path.join(DATA, "odd"), "--rate", "2000", "--no-keepalive",
                          "--connections", "5000")
    check(rc == 1, "odd tree must fail, exit %d" % rc)
    check(by_name(doc)["net.ipv4.ip_local_port_range"]["status"] == "fail", "900 ports at 2000/s")


@test
def test_target_backlog():
    somaxconn = sysctl("net.core.somaxconn")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(7)
        port = s.getsockname()[1]
        rc, doc = doctor_json("--target", "127.0.0.1:%d" % port, "--rate", "1000")
        rc_text, out, _ = doctor("--target", "127.0.0.1:%d" % port)
    c = by_name(doc).get("target listen backlog")
    check(c is not None, "no target check in %s" % list(by_name(doc)))
    want = min(7, somaxconn) if somaxconn else 7
    check("127.0.0.1:%d listens with backlog %d" % (port, want) in c["value"], "value: %s" % c["value"])
    if somaxconn and somaxconn > want:
        check("though somaxconn is %d" % somaxconn in c["value"], "value: %s" % c["value"])
    check(c["status"] == "warn", "backlog %d for 1000/s is %s" % (want, c["status"]))
    check("backlog %d" % want in out, "text output lacks the backlog")
    # Nothing listens on a port that was just free.
    _, doc = doctor_json("--target", "127.0.0.1:%d" % h.free_port())
    c = by_name(doc)["target listen backlog"]
    check("nothing listens" in c["value"] and c["status"] != "ok", "free port: %s %s" % (c["status"], c["value"]))


@test
def test_usage_errors():
    cases = [
        (("--rate", "fast"), "fast"),
        (("--rate", "-5"), "-5"),
        (("--connections", "0"), "0"),
        (("--threads", "x"), "x"),
        (("--target", "localhost"), "localhost"),
        (("--target", "127.0.0.1:99999"), "127.0.0.1:99999"),
        (("--bogus",), "--bogus"),
        (("stray",), "stray"),
        (("--rate",), "--rate"),
        (("--root", "/nonexistent/doctor"), "/nonexistent/doctor"),
    ]
    for args, culprit in cases:
        rc, out, err = doctor(*args)
        lines = err.strip().splitlines()
        check(rc == 2, "%s: exit %d, want 2" % (args, rc))
        check(len(lines) == 1 and lines[0].startswith("salvo: "), "%s: stderr %r" % (args, err))
        check("'%s'" % culprit in lines[0], "%s: culprit %r not named in %r" % (args, culprit, lines[0]))
        check(out == "", "%s: printed to stdout: %r" % (args, out[:100]))
    rc, out, _ = doctor("--help")
    check(rc == 0 and "--no-keepalive" in out, "--help: exit %d" % rc)


if __name__ == "__main__":
    h.main()
