"""test_pipeline.py — `salvo run --pipeline N` against real servers.

- Against a private nginx whose routes answer differently (/a 200 with a
  short body, /b 404 with a longer one, /c 503 with an empty one, /h a HEAD
  target), a targets file mixes the four by weight and every figure is
  grouped by request name. A response matched to the wrong request would
  put a 404 into group "a" or a body into the HEAD's framing: each group's
  status counts must be exactly its own status, in the closed model (N in
  flight all the time) and in the open one.
- nginx with `keepalive_requests 20` answers twenty requests per connection
  and closes with more pipelined behind the twentieth: those are sent again
  once, first on a new connection, and every request still ends ok.
- A small Python server on 127.0.0.1 holds its answers back for 30 ms and
  records how many complete requests were waiting on a connection at once:
  with --pipeline 4 that is exactly 4 (never more), without it 1.
- The same server closing each connection after k responses with more
  pipelined (no Connection: close): the unanswered are retried once, none
  fails, the outcomes add up.

Loopback only; every run and wait is bounded.
"""

import os
import socket
import threading
import time

import harness as h
from harness import check, check_counts_add_up, excerpt, test

STATUS = {"a": 200, "b": 404, "c": 503, "h": 200}


class RoutesNginx(h.Nginx):
    """The harness's nginx with routes that answer each request name differently."""

    def __init__(self, keepalive_requests=100000):
        super().__init__(access_log=False)
        self.keepalive_requests = keepalive_requests

    def _write_config(self):
        path = super()._write_config()
        with open(path) as f:
            conf = f.read()
        routes = ('location = /a { return 200 "a\\n"; }\n'
                  '        location = /b { return 404 "not here: this body is longer than the others\\n"; }\n'
                  '        location = /c { return 503; }\n'
                  '        location = /h { return 200 "head has no body\\n"; }\n'
                  '        location / { return 200 "hello\\n"; }')
        old = 'location / { return 200 "hello\\n"; }'
        check(old in conf, "the harness's nginx config changed: no catch-all location")
        conf = conf.replace(old, routes)
        conf = conf.replace("keepalive_requests 100000;", "keepalive_requests %d;" % self.keepalive_requests)
        with open(path, "w") as f:
            f.write(conf)
        return path


def write_targets(d, port):
    path = os.path.join(d, "targets.txt")
    with open(path, "w") as f:
        f.write("# name=a weight=3\nGET http://127.0.0.1:%d/a\n\n" % port)
        f.write("# name=b weight=2\nGET http://127.0.0.1:%d/b\n\n" % port)
        f.write("# name=c\nGET http://127.0.0.1:%d/c\n\n" % port)
        f.write("# name=h\nHEAD http://127.0.0.1:%d/h\n" % port)
    return path


def check_groups_matched(data):
    """Every group saw only its own status, and the groups add up to the total."""
    groups = data["groups"]
    total = 0
    for name, want in STATUS.items():
        check(name in groups, "group %r missing: %s" % (name, sorted(groups)))
        got = groups[name]["status"]
        n = sum(got.values())
        check(n > 0, "group %r got no response: %s" % (name, got))
        check(got == {str(want): n}, "group %r must see only %d, a response was matched to the wrong request: %s"
              % (name, want, {k: groups[k]["status"] for k in groups}))
        total += n
    req = data["requests"]
    check(total == req["ok"] + req["http_error"], "groups add up to the responses: %d vs %s" % (total, req))


def run_routes(nginx, *args, timeout=40):
    d = h.make_temp_dir("salvo-e2e-pipe-")
    try:
        targets = write_targets(d, nginx.port)
        rc, data, out, err = h.run_salvo(["run", "--targets", targets, "-q", "--allow-invalid", "--progress", "off",
                                          "-t", "1"] + list(args), timeout=timeout)
    finally:
        h.remove_temp_dir(d)
    check(data is not None, "no JSON (rc %d): %s" % (rc, err.strip()[-400:]))
    return data


@test
def closed_pipelined_responses_match_their_requests():
    with RoutesNginx() as ng:
        data = run_routes(ng, "--closed", "-c", "2", "--pipeline", "8", "-d", "2s")
    c = check_counts_add_up(data)
    h.log("  %s pool %s" % (c, excerpt(data, "pool")))
    check(c["failed"] + c["timeout"] + c["unsent"] == 0, "nothing lost: %s %s" % (c, data["errors"]))
    check(c["scheduled"] > 1000, "a pipelined closed loop sends thousands in 2 s: %s" % c)
    # nginx closes a connection after keepalive_requests (100000) answers.
    check(data["pool"]["opened"] <= 2 + c["scheduled"] // 100000, "two connections, kept alive: %s"
          % excerpt(data, "pool"))
    check_groups_matched(data)


@test
def open_pipelined_responses_match_their_requests():
    with RoutesNginx() as ng:
        data = run_routes(ng, "-r", "3000", "-c", "2", "--pipeline", "4", "-d", "2s")
    c = check_counts_add_up(data)
    h.log("  %s pool %s" % (c, excerpt(data, "pool")))
    check(c["scheduled"] == 6000, "3000/s for 2 s: %s" % c)
    check(c["failed"] + c["timeout"] + c["unsent"] == 0, "nothing lost: %s %s" % (c, data["errors"]))
    check(data["pool"]["max_open"] <= 2, "at most -c connections: %s" % excerpt(data, "pool"))
    check_groups_matched(data)


@test
def nginx_closing_under_pipelined_requests_retries_them():
    with RoutesNginx(keepalive_requests=20) as ng:
        data = run_routes(ng, "--closed", "-c", "2", "--pipeline", "4", "-d", "2s")
    c = check_counts_add_up(data)
    pool = data["pool"]
    h.log("  %s pool %s errors %s" % (c, excerpt(data, "pool"), data["errors"]))
    check(c["scheduled"] > 200, "the loop went on over many connections: %s" % c)
    check(c["failed"] + c["timeout"] == 0, "the unanswered were retried, none failed: %s %s" % (c, data["errors"]))
    check(pool["retries"] > 0, "requests pipelined behind the last answer must be retried: %s" % pool)
    check(pool["closed_by"]["server"] > 0, "nginx closed the connections: %s" % pool)
    check(pool["opened"] >= c["scheduled"] // 20 - 2, "twenty answers per connection: %s for %s" % (pool, c))
    check_groups_matched(data)


# ---------------------------------------------------------------- a Python server that counts


class CountingServer(h.LoopbackServer):
    """Holds answers back 30 ms and records the most complete requests waiting on one connection.

    mode "hold": answers every waiting request after the pause;
    mode "closek": as hold, but closes each connection after k answers (FIN, no
    Connection: close), with more requests pipelined behind them.
    """

    def __init__(self, mode, k=3):
        self.mode, self.k = mode, k
        self.max_waiting = 0
        super().__init__(backlog=64)

    def handle(self, conn):
        buf = b""
        answered = 0
        try:
            conn.settimeout(10)
            while self.running:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
                # Let the rest of a pipelined burst arrive, then count what waits.
                conn.settimeout(0.03)
                try:
                    while True:
                        more = conn.recv(65536)
                        if not more:
                            break
                        buf += more
                except socket.timeout:
                    pass
                conn.settimeout(10)
                waiting = buf.count(b"\r\n\r\n")
                buf = buf[buf.rfind(b"\r\n\r\n") + 4:] if waiting else buf
                with self.lock:
                    self.max_waiting = max(self.max_waiting, waiting)
                for _ in range(waiting):
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
                    answered += 1
                    if self.mode == "closek" and answered == self.k:
                        # A graceful close like nginx's lingering close: FIN after the
                        # k-th answer, the unread pipelined requests drained, not reset.
                        conn.shutdown(socket.SHUT_WR)
                        conn.settimeout(1)
                        while conn.recv(65536):
                            pass
                        return
        except OSError:
            pass
        finally:
            conn.close()



def run_counting(server, *args, timeout=30):
    try:
        rc, data, out, err = h.run_salvo(["run", "http://127.0.0.1:%d/" % server.port, "-q", "--allow-invalid",
                                          "--progress", "off", "-t", "1"] + list(args), timeout=timeout)
    finally:
        server.stop()
    check(data is not None, "no JSON (rc %d): %s" % (rc, err.strip()[-400:]))
    return data


@test
def n_requests_in_flight_per_connection():
    for depth, want in (("4", 4), ("1", 1)):
        server = CountingServer("hold")
        data = run_counting(server, "--closed", "-c", "1", "--pipeline", depth, "-d", "1s")
        c = check_counts_add_up(data)
        h.log("  --pipeline %s: %s, at most %d waiting on the connection" % (depth, c, server.max_waiting))
        check(server.max_waiting == want, "--pipeline %s keeps exactly %d in flight on the connection, the server "
              "saw at most %d" % (depth, want, server.max_waiting))
        check(c["failed"] + c["timeout"] == 0, "nothing lost: %s" % c)
        check(c["ok"] >= 5 * want, "each 30 ms round answers %d: %s" % (want, c))


@test
def server_closing_after_k_with_more_pipelined():
    # Up to N (those in flight at the FIN) are lost on one connection; they go
    # first on the next one, so with N <= k every retry is answered.
    server = CountingServer("closek", k=6)
    # Each connection answers 6 in two 30 ms rounds: ~100/s, so 50/s leaves headroom on a busy machine.
    data = run_counting(server, "-r", "50", "-c", "1", "--pipeline", "3", "-d", "2s", "--timeout", "5s")
    c = check_counts_add_up(data)
    pool = data["pool"]
    h.log("  %s pool %s errors %s; %d connections" % (c, excerpt(data, "pool"), data["errors"], server.connections))
    check(c["scheduled"] == 100, "50/s for 2 s: %s" % c)
    check(c["failed"] + c["timeout"] == 0, "requests behind the k-th answer are retried and answered: %s %s"
          % (c, data["errors"]))
    check(pool["retries"] > 0, "the unanswered were retried: %s" % pool)
    check(server.connections >= 100 // 6 - 1, "k answers per connection: %d connections" % server.connections)


if __name__ == "__main__":
    h.main()
