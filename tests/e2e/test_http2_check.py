"""test_http2_check.py — `--check` over HTTP/2 judges what it judges over HTTP/1.1.

One nginx with http2 over TLS (h2 by ALPN, or HTTP/1.1 with --http1.1) and
one with http2 in the clear (h2c by prior knowledge) serve /ok.json (a JSON
file), /err (a 200 carrying {"error": "no route"}), /big.json (a JSON body
of 200 kB). The same checks run over h2, h2c and HTTP/1.1 in the open model
with a fixed request count (-r 200 -d 500ms), so the counts must be equal, not merely close:
json, body and header checks pass on /ok.json and fail on /err (whose 200s
are check_failed), and a body over --max-body is body_too_large over h2 as
over HTTP/1.1. An h2 stream that finds no kept-body room at its head is
read, not kept: body_too_large, counted in body_budget.not_kept, and the
peak stays within the budget. Runs without checks keep nothing (the kept-body budget is not
in their JSON). salvo compare refuses two h2 results whose --streams or h2
windows differ.
"""

import copy
import json
import os
import subprocess
import tempfile

import harness as h
from harness import check, check_counts_add_up, test

LOCATIONS = ("        location ~ \\.json$ { default_type application/json; }\n"
             "        location = /err { default_type application/json; return 200 '{\"error\": \"no route\"}'; }\n")
N = 100  # -r 200 -d 500ms schedules exactly this many
CHECKS = ["--check", "no error: json.error absent", "--check", "x: body contains 'x'",
          "--check", "ctype: header 'Content-Type' contains 'json'", "--check", "st: status == 200"]
tls_srv = None
h2c_srv = None


def setup():
    global tls_srv, h2c_srv
    tls_srv = h.Nginx(tls=True, http2=True, access_log=False, locations=LOCATIONS).start()
    h2c_srv = h.Nginx(http2=True, access_log=False, locations=LOCATIONS).start()
    for srv in (tls_srv, h2c_srv):
        with open(os.path.join(srv.dir, "ok.json"), "w") as f:
            json.dump({"x": 1, "legs": [{"m": 3}]}, f)
        with open(os.path.join(srv.dir, "big.json"), "w") as f:
            json.dump({"x": "x" * 200000}, f)
        with open(os.path.join(srv.dir, "mid.json"), "w") as f:
            json.dump({"x": "x" * 40000}, f)


def teardown():
    for srv in (tls_srv, h2c_srv):
        if srv:
            srv.stop()


def run(proto, path, *extra):
    """One closed run of N requests over proto: h2 (TLS, ALPN), h2c or h1 (TLS, --http1.1)."""
    base = {"h2": tls_srv.url, "h1": tls_srv.url, "h2c": h2c_srv.url}[proto]
    args = ["run", base + path.lstrip("/"), "-k", "-r", 200, "-d", "500ms", "-c", 2, "-q"] + list(extra)
    if proto == "h1":
        args.append("--http1.1")
    if proto == "h2c":
        args.append("--h2c")
    rc, data, out, err = h.run_salvo(args, timeout=60)
    check(data is not None, "%s %s: no JSON (rc %d): %s" % (proto, path, rc, err.strip()[-400:]))
    want = "http/1.1" if proto == "h1" else proto
    check(str(data.get("protocol")).lower() == want, "%s: protocol %s" % (proto, data.get("protocol")))
    check(data["requests"]["scheduled"] == N, "%s: scheduled %s, want %d" % (proto, data["requests"], N))
    return data


@test
def same_counts_over_h2_h2c_and_http11():
    """ok.json passes all four checks, /err fails the json and body ones: equal counts on each protocol."""
    seen = {}
    for proto in ("h1", "h2", "h2c"):
        ok = run(proto, "/ok.json", *CHECKS)
        c = check_counts_add_up(ok)
        check(c["ok"] == N and c["check_failed"] == 0, "%s ok.json outcomes %s checks %s" % (proto, c, ok["checks"]))
        for name in ("no error", "x", "ctype", "st"):
            check(ok["checks"][name] == {"pass": N, "fail": 0, "body_too_large": 0},
                  "%s ok.json %s: %s" % (proto, name, ok["checks"][name]))
        err = run(proto, "/err", *CHECKS)
        c = check_counts_add_up(err)
        check(c["check_failed"] == N and c["ok"] == 0, "%s /err outcomes %s checks %s" % (proto, c, err["checks"]))
        seen[proto] = err["checks"]
    check(seen["h1"] == seen["h2"] == seen["h2c"], "per-check counts differ: %s" % seen)
    e = seen["h2"]
    check(e["no error"]["fail"] == N and e["x"]["fail"] == N and e["ctype"]["pass"] == N and e["st"]["pass"] == N,
          "/err checks over h2: %s" % e)


@test
def body_over_max_body_is_body_too_large():
    """200 kB over --max-body 64KiB: body_too_large on h2, h2c and HTTP/1.1; under 1 MiB it is judged whole."""
    for proto in ("h1", "h2", "h2c"):
        big = run(proto, "/big.json", "--check", "json.x exists", "--max-body", "64KiB")
        got = big["checks"]["json.x exists"]
        check(got == {"pass": 0, "fail": N, "body_too_large": N}, "%s over --max-body: %s" % (proto, got))
        whole = run(proto, "/big.json", "--check", "json.x exists", "--check", "body contains 'xxxxx\"}'")
        for name, got in whole["checks"].items():
            check(got == {"pass": N, "fail": 0, "body_too_large": 0}, "%s under --max-body %s: %s" % (proto, name, got))
        check(whole["body_budget"]["peak_bytes"] > 0, "%s: kept bytes are in the budget: %s"
              % (proto, whole["body_budget"]))


@test
def runs_without_checks_keep_nothing():
    """No --check: no body_budget in the JSON, over h2 as over HTTP/1.1."""
    for proto in ("h2c",):
        data = run(proto, "/ok.json")
        check("body_budget" not in data and data["checks"] == {}, "%s: %s %s"
              % (proto, data.get("body_budget"), data.get("checks")))
    compare_h2_knobs(data)


def compare_h2_knobs(base):
    """salvo compare: --streams and the h2 windows must agree between h2 runs; a missing key is the default."""
    d = tempfile.mkdtemp(prefix="salvo-e2e-h2cmp-")

    def compare(change):
        doc = copy.deepcopy(base)
        change(doc["config"])
        files = []
        for name, x in (("a.json", base), ("b.json", doc)):
            files.append(os.path.join(d, name))
            with open(files[-1], "w") as f:
                json.dump(x, f)
        p = subprocess.run([h.SALVO_BIN, "compare"] + files + ["--allow-invalid"], capture_output=True, text=True,
                           timeout=30)
        return p.returncode, p.stderr

    for key, value in (("streams", 8), ("h2_window", 1 << 20), ("h2_conn_window", 1 << 24), ("h2_header_table", 0)):
        rc, err = compare(lambda c: c.__setitem__(key, value))
        check(rc == 2 and ("%s differs" % key) in err, "%s %s against the default: rc %d %s" % (key, value, rc, err))
    rc, err = compare(lambda c: [c.pop(k) for k in ("streams", "h2_window", "h2_conn_window", "h2_header_table")])
    check(rc != 2, "keys missing (an older result) are the defaults: rc %d %s" % (rc, err))


@test
def h2_streams_without_room_are_not_kept():
    """A budget holding two 40 kB bodies, 8 streams at once: a stream with no room is read, not kept, and counted."""
    budget = 2 * 16384 + 65536  # the least one worker may have with --max-body 64KiB (two heads and a body)
    rc, data, out, err = h.run_salvo(["run", h2c_srv.url + "mid.json", "--h2c", "--closed", "-c", 1, "--streams", 8,
                                      "-t", 1, "-d", "1s", "-q", "--max-body", "64KiB", "--body-budget", budget,
                                      "--check", "json.x exists"], timeout=60)
    c = check_counts_add_up(data)
    got, b = data["checks"]["json.x exists"], data["body_budget"]
    check(got["pass"] > 0 and got["pass"] + got["body_too_large"] == c["scheduled"] and got["fail"] == got["body_too_large"],
          "judged whole or too large: %s %s" % (got, c))
    check(b["not_kept"] == got["body_too_large"] > 0, "not_kept %s, body_too_large %s" % (b, got))
    check(b["peak_bytes"] <= budget and b["waits"] == 0, "within the budget, no waits on h2: %s" % b)


if __name__ == "__main__":
    h.main(setup=setup, teardown=teardown)
