"""test_check.py — `--check`: a wrong answer is an error, counted per check.

A small recording server (Python, real sockets, HTTP/1.1 keep-alive) answers
/api with 200 and a JSON body; every tenth of them, by a counter, is a 200
carrying {"error": "no route"}, as many real APIs do. /fail answers 500,
/big a 2 MiB body, /chunked a chunked JSON body, /drip a 64 KiB body whose
last 63 KiB come 0.3 s after its head. The tests assert what the outcome
table says: the 200s with error bodies are check_failed, a 500 that fails
`status == 200` stays http_error, outcomes add up, checks.rate is the share
of passed evaluations, and a failed checks threshold exits 99; and that a
--body-budget that holds one body makes concurrent bodies wait for room,
one at a time, with every body still judged whole.
"""

import http.server
import json
import threading
import time

import harness as h
from harness import check, check_counts_add_up, excerpt, test

server = None
url = None
DRIP_BODY = 64 * 1024
DRIP_PAUSE_S = 0.3


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def _send(self, status, body, chunked=False, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("X-Served-By", "check-test")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 7):
                part = body[i:i + 7]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/drip"):
            body = b"x" * (DRIP_BODY - 3) + b"END"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:1024])
            self.wfile.flush()
            time.sleep(DRIP_PAUSE_S)
            self.wfile.write(body[1024:])
            return None
        if self.path.startswith("/fail"):
            return self._send(500, b'{"error": "boom"}')
        if self.path.startswith("/big"):
            return self._send(200, b'{"pad": "' + b"x" * (2 << 20) + b'"}')
        if self.path.startswith("/chunked"):
            return self._send(200, b'{"distance_m": 1200, "legs": [{"name": "a"}]}', chunked=True)
        with Handler.lock:
            Handler.count += 1
            n = Handler.count
        if n % 10 == 0:
            return self._send(200, b'{"error": "no route"}')
        return self._send(200, b'{"distance_m": 1200, "error": null}')


def setup():
    global server, url
    server = http.server.ThreadingHTTPServer(("127.0.0.1", h.free_port()), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d" % server.server_address[1]


def teardown():
    if server:
        server.shutdown()
        server.server_close()


def run(path, *extra, rate=200, duration="2s"):
    # Checks are counted the same whether or not the generator kept its
    # schedule: --allow-invalid, so a busy machine (a Python server at p50
    # 150 ms here once) does not turn a count test into a validity test.
    return h.run_salvo(["run", url + path, "-r", rate, "-d", duration, "-c", 8, "-q", "--allow-invalid"] + list(extra),
                       timeout=60)


@test
def error_bodies_are_check_failed():
    """10 % of 200s carry an error body: they are check_failed, checks.rate 90 % +- 2 %."""
    rc, data, out, err = run("/api", "--check", "no error: json.error absent", "--check", "status == 200")
    check(rc == 0, "exit %d, want 0 (no threshold): %s" % (rc, err))
    c = check_counts_add_up(data)
    responses = c["ok"] + c["check_failed"]
    check(c["http_error"] == 0 and responses == c["scheduled"], "every request answered 200: %s" % c)
    share = c["check_failed"] / responses
    check(abs(share - 0.10) <= 0.02, "check_failed share %.3f, want 0.10 +- 0.02: %s" % (share, c))
    ne = data["checks"]["no error"]
    check(ne["pass"] == c["ok"] and ne["fail"] == c["check_failed"],
          "'no error' counts %s do not match outcomes %s" % (ne, c))
    st = data["checks"]["status == 200"]
    check(st == {"pass": responses, "fail": 0, "body_too_large": 0}, "status check counts %s" % st)
    check(data["errors"].get("check_failed", 0) == 0, "check_failed is an outcome, not an error kind")
    lat = data["latency_us"]["count"]
    check(lat == responses, "latency of check_failed responses is recorded: count %d != %d" % (lat, responses))
    grp = next(iter(data["groups"].values()))
    check(grp["check_failed"] == c["check_failed"], "group check_failed %s" % excerpt(data, "groups"))


@test
def checks_threshold_exits_99():
    """checks.rate > 99% fails at 90 %; the per-name form judges one check."""
    rc, data, out, err = run("/api", "--check", "no error: json.error absent", "--check", "ok: status == 200",
                             "--threshold", "checks{name=ok}.rate > 99%", "--threshold", "checks.rate > 99%",
                             "--threshold", "errors.rate < 5%")
    check(rc == 99, "exit %d, want 99: %s" % (rc, err))
    thr = data["thresholds"]
    check(thr["checks{name=ok}.rate > 99%"]["pass"] is True, "the status check passes: %s" % thr)
    all_rate = thr["checks.rate > 99%"]["observed"]
    check(0.93 <= all_rate <= 0.97, "checks.rate over both checks %.3f, want ~0.95" % all_rate)
    check(thr["checks.rate > 99%"]["pass"] is False, "checks.rate fails: %s" % thr)
    check(thr["errors.rate < 5%"]["pass"] is False, "errors.rate counts check_failed: %s" % thr)


@test
def server_errors_stay_http_error():
    """A 500 failing `status == 200` is http_error, never check_failed; the check still counts it."""
    rc, data, out, err = run("/fail", "--check", "status == 200", rate=100, duration="1s")
    c = check_counts_add_up(data)
    check(c["check_failed"] == 0 and c["http_error"] == c["scheduled"], "500s are http_error: %s" % c)
    check(data["checks"]["status == 200"]["fail"] == c["http_error"], "the check counted each 500 as a fail")


@test
def chunked_and_header_checks():
    """A chunked JSON body is decoded before judging; header checks read the head."""
    rc, data, out, err = run("/chunked", "--check", "json.legs[0].name == 'a'", "--check",
                             "header 'x-served-by' == 'check-test'", "--check", "body contains 'distance'",
                             rate=100, duration="1s")
    c = check_counts_add_up(data)
    check(c["ok"] == c["scheduled"] and c["check_failed"] == 0, "all pass: %s %s" % (c, data["checks"]))
    for name, counts in data["checks"].items():
        check(counts["pass"] == c["scheduled"] and counts["fail"] == 0, "%s: %s" % (name, counts))


@test
def body_too_large():
    """A body over --max-body fails its body checks with body_too_large; status checks still pass."""
    rc, data, out, err = run("/big", "--check", "json.pad exists", "--check", "s: status == 200",
                             "--max-body", "64KiB", rate=20, duration="1s")
    c = check_counts_add_up(data)
    big = data["checks"]["json.pad exists"]
    check(big["fail"] == big["body_too_large"] == c["scheduled"] and big["pass"] == 0, "too large: %s" % big)
    check(data["checks"]["s"]["pass"] == c["scheduled"], "status check passes: %s" % data["checks"])
    check(c["check_failed"] == c["scheduled"], "each is check_failed: %s" % c)
    rc, data, out, err = run("/big", "--check", "json.pad exists", rate=20, duration="1s")
    big = data["checks"]["json.pad exists"]
    check(big["body_too_large"] == data["requests"]["scheduled"], "2 MiB is over the default 1 MiB: %s" % big)
    rc, data, out, err = run("/big", "--check", "json.pad exists", "--max-body", "4MiB", rate=20, duration="1s")
    big = data["checks"]["json.pad exists"]
    check(big["pass"] == data["requests"]["scheduled"] and big["fail"] == 0, "under --max-body 4MiB: %s" % big)


@test
def pipelined_responses_judged_apart():
    """With --pipeline 4, each response is judged on its own bytes: the share stays 10 %."""
    rc, data, out, err = h.run_salvo(["run", url + "/api", "--closed", "-c", 2, "--pipeline", 4, "-d", "1s", "-q",
                                      "--check", "json.error absent"], timeout=60)
    c = check_counts_add_up(data)
    responses = c["ok"] + c["check_failed"]
    check(responses > 100 and c["failed"] == 0, "closed pipelined run got responses: %s" % c)
    check(abs(c["check_failed"] / responses - 0.10) <= 0.02, "pipelined check_failed share: %s" % c)
    ch = data["checks"]["json.error absent"]
    check(ch["pass"] + ch["fail"] == responses, "one verdict per response: %s %s" % (ch, c))


@test
def merge_sums_checks():
    """salvo merge adds check counts and check_failed; checks.rate judges the merged result."""
    d = h.make_temp_dir("salvo-e2e-check-merge-")
    try:
        paths = []
        for k in (0, 1):
            p = "%s/shard%d.json" % (d, k)
            rc, _, _, err = h.run_salvo(["run", url + "/api", "-r", 200, "-d", "1s", "-q", "--shard", "%d/2" % k,
                                         "--check", "e: json.error absent", "--json", p, "--allow-invalid"],
                                        json_out=False)
            check(rc == 0, "shard %d exit %d: %s" % (k, rc, err))
            paths.append(p)
        shards = []
        for p in paths:
            with open(p) as f:
                shards.append(json.load(f))
        out = "%s/merged.json" % d
        rc, _, _, err = h.run_salvo(["merge"] + paths + ["--json", out, "--threshold", "checks.rate > 99%"],
                                    json_out=False)
        with open(out) as f:
            merged = json.load(f)
        # An invalid shard (a busy machine) makes the merged result invalid, and 98 comes first.
        check(rc == 99 or (rc == 98 and not merged.get("valid", True)),
              "merged checks.rate > 99%% fails at ~90%%: exit %d %s" % (rc, err))
        for key in ("pass", "fail"):
            want = sum(s["checks"]["e"][key] for s in shards)
            check(merged["checks"]["e"][key] == want, "merged checks.e.%s %s, want %d" % (key, merged["checks"], want))
        want = sum(s["requests"]["check_failed"] for s in shards)
        check(merged["requests"]["check_failed"] == want > 0, "merged check_failed: %s" % merged["requests"])
        bb = merged["body_budget"]
        for key in ("budget_bytes", "peak_bytes", "waits", "wait_us_total"):
            check(bb[key] == sum(sh["body_budget"][key] for sh in shards), "merged body_budget.%s: %s" % (key, bb))
        check(bb["wait_us_max"] == max(sh["body_budget"]["wait_us_max"] for sh in shards), "wait_us_max: %s" % bb)
        check_counts_add_up(merged)
    finally:
        h.remove_temp_dir(d)


@test
def summary_lines():
    """The text summary names check_failed and prints one line per check."""
    rc, data, out, err = h.run_salvo(["run", url + "/api", "-r", 100, "-d", "1s", "--check", "e: json.error absent"],
                                     json_out=False, timeout=60)
    check(" check_failed" in out, "summary lacks check_failed: %s" % out)
    check("check       e: " in out and "% passed" in out, "summary lacks the check line: %s" % out)


@test
def body_budget_makes_bodies_wait():
    """A budget that holds one 64 KiB body: 4 dripping responses take turns, each body judged whole."""
    base = ["run", url + "/drip", "--closed", "-c", 4, "-t", 1, "-d", "2s", "-q", "--max-body", "64KiB",
            "--check", "body contains 'END'"]
    # The least budget for one thread: --max-body plus 32 KiB of heads; two 64 KiB bodies do not fit in it.
    rc, data, out, err = h.run_salvo(base + ["--body-budget", "96KiB"], timeout=60)
    c = check_counts_add_up(data)
    b, ch = data["body_budget"], data["checks"]["body contains 'END'"]
    h.log("  --body-budget 96KiB: %s, %s" % (b, c))
    check(rc == 0 and c["ok"] == c["scheduled"] >= 8 and ch["fail"] == 0, "every body judged whole: %s %s" % (c, ch))
    check(b["budget_bytes"] == 96 * 1024 and b["peak_bytes"] == DRIP_BODY, "one body kept at a time: %s" % b)
    # Of each round of 4 heads arriving together, the first is kept and the 3 others wait for its tail.
    check(b["waits"] >= c["scheduled"] // 2, "waits %d of %d responses" % (b["waits"], c["scheduled"]))
    check(DRIP_PAUSE_S * 0.5e6 <= b["wait_us_max"] <= 5e6 and b["wait_us_total"] >= b["wait_us_max"],
          "wait times (the drip pauses %.1f s): %s" % (DRIP_PAUSE_S, b))
    rc, data, out, err = h.run_salvo(base, timeout=60)
    b = data["body_budget"]
    check(b["budget_bytes"] == 64 << 20 and b["waits"] == 0 and b["peak_bytes"] >= 2 * DRIP_BODY,
          "the default 64 MiB holds them all at once: %s" % b)
    rc, _, _, err = h.run_salvo(base + ["-t", 2, "--body-budget", "100KiB"], json_out=False)
    check(rc == 2 and err.startswith("salvo: bad value for --body-budget") and "196608" in err,
          "a budget below threads x (max-body + 32KiB) is refused: %d %r" % (rc, err))


@test
def body_budget_sizes():
    """--body-budget takes what its range message names (up to 1TiB, so TiB too); beyond, a one-line exit 2."""
    rc, data, out, err = h.run_salvo(["run", url + "/api", "-r", 20, "-d", "1s", "-q", "--allow-invalid",
                                      "--check", "body contains 'x'", "--body-budget", "1TiB"])
    check(rc != 2 and data and data["body_budget"]["budget_bytes"] == 1 << 40,
          "--body-budget 1TiB: exit %d, %r, body_budget %s" % (rc, err, data and data.get("body_budget")))
    for bad in ("2TiB", "1.5MiB", "1PiB"):
        rc, _, _, err = h.run_salvo(["run", url + "/api", "-d", "1s", "--body-budget", bad], json_out=False)
        check(rc == 2 and err.startswith("salvo: bad value '%s' for --body-budget" % bad) and len(err.splitlines()) == 1,
              "--body-budget %s: exit %d, %r" % (bad, rc, err))


@test
def bad_checks_exit_2():
    """A bad --check is one line naming it, exit 2, before any traffic."""
    for expr, word in (("status = 200", "operator"), ("json. > 1", "path"), ("color == 1", "subject"),
                       ("status in 300..200", "range")):
        rc, data, out, err = h.run_salvo(["run", url + "/api", "-d", "1s", "--check", expr], json_out=False)
        lines = err.strip().splitlines()
        check(rc == 2 and len(lines) == 1 and lines[0].startswith("salvo: bad check '%s'" % expr) and word in lines[0],
              "--check %r: exit %d, stderr %r" % (expr, rc, err))
    rc, _, _, err = h.run_salvo(["run", url + "/api", "--check", "a: status == 200", "--check", "a: status < 400"],
                                json_out=False)
    check(rc == 2 and "taken" in err, "a duplicate name is refused: %d %r" % (rc, err))


if __name__ == "__main__":
    h.main(setup=setup, teardown=teardown)
