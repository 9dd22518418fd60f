"""test_script.py — `salvo run --script`: wrk's Lua API, unchanged.

Each compatibility test runs a script written to wrk's documented API (the
kinds in wrk's scripts/ folder) under salvo and under Debian's wrk against
the same recording server (below, Python, 127.0.0.1), and asserts that both
sent the same paths, headers and bodies, and that done() printed what it
should from salvo's figures. The bad-script tests check message, outcome and
exit code of each way a script can go wrong.
"""

import os
import re
import shutil
import socket
import subprocess
import threading
import time

import harness
from harness import (Nginx, check, check_counts_add_up, free_port, log, main, make_temp_dir, remove_temp_dir,
                     require_tool, run_salvo, test)

WRK = shutil.which("wrk") or "/usr/bin/wrk"


class Recorder:
    """A keep-alive HTTP/1.1 server that records every request it reads
    (method, path, headers, body) and answers in order, pipelining included.
    /login answers with an X-Token header; every response carries a small body."""

    def __init__(self):
        self.port = free_port()
        self.requests = []
        self.tokens = set()  # issued by /login; /route answers 401 without one ("Authorization: Bearer TOKEN")
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(256)
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        self.sock.settimeout(0.2)
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buf = b""
        conn.settimeout(5)
        try:
            while not self.stopping:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
                n = int(headers.get("content-length", "0") or 0)
                while len(buf) < n:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                body, buf = buf[:n], buf[n:]
                with self.lock:
                    self.requests.append((method, path, headers, body.decode("latin-1")))
                    token = "tok-%d" % len(self.requests)
                    if path.startswith("/login"):
                        self.tokens.add(token)
                    authorized = headers.get("authorization", "")[7:] in self.tokens
                if path.startswith("/slow"):
                    time.sleep(0.1)
                extra = "X-Token: %s\r\n" % token if path.startswith("/login") else ""
                if path.startswith("/cookie"):
                    extra = "Set-Cookie: sid=%s; Path=/; HttpOnly\r\nset-cookie:  theme = dark \r\n" % token
                status = "401 Unauthorized" if path.startswith("/route") and not authorized else "200 OK"
                payload = b"hello " + path.encode()
                if path.startswith("/json"):
                    payload = ('{"path": "%s", "n": 3, "ok": true, "none": null, "legs": [{"name": "a"}, 2.5]}'
                               % path).encode()
                conn.sendall(("HTTP/1.1 %s\r\n%sContent-Length: %d\r\n\r\n" % (status, extra, len(payload))).encode()
                             + payload)
        except (OSError, ValueError):
            return
        finally:
            conn.close()

    def take(self):
        with self.lock:
            out, self.requests = self.requests, []
        return out

    def stop(self):
        self.stopping = True
        self.sock.close()


SERVER = None


def setup():
    global SERVER
    SERVER = Recorder()


def teardown():
    if SERVER:
        SERVER.stop()


def write_script(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def run_wrk(script, url, args=(), duration="1s", threads=1, conns=2):
    require_tool(WRK)
    cmd = [WRK, "-t%d" % threads, "-c%d" % conns, "-d" + duration, "-s", script, url]
    if args:
        cmd += ["--"] + list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, text=True)
    return p.returncode, p.stdout, p.stderr


def salvo_script(script, url, extra=(), args=(), closed=True, rate=200, duration="1s", conns=2, threads=1):
    cmd = ["run", url, "--script", script, "-d", duration, "-c", str(conns), "-t", str(threads), "--allow-invalid"]
    cmd += ["--closed"] if closed else ["-r", str(rate)]
    cmd += list(extra)
    if args:
        cmd += ["--"] + list(args)
    return run_salvo(cmd, timeout=40)


def both(script, path="/", args=(), **kw):
    """Runs script under wrk then salvo; returns (wrk requests, wrk stdout, salvo result, salvo requests)."""
    url = "http://127.0.0.1:%d%s" % (SERVER.port, path)
    SERVER.take()
    wrc, wout, werr = run_wrk(script, url, args, threads=kw.get("threads", 1))
    check(wrc == 0, "wrk failed (%d): %s" % (wrc, werr))
    wreq = SERVER.take()
    res = salvo_script(script, url, args=args, **kw)
    sreq = SERVER.take()
    check(wreq and sreq, "no requests recorded (wrk %d, salvo %d)" % (len(wreq), len(sreq)))
    return wreq, wout, res, sreq


def shape(reqs, drop=("user-agent",)):
    """The distinct (method, path, headers, body) a tool sent, headers without the ones that may differ."""
    out = set()
    for m, p, h, b in reqs:
        out.add((m, p, tuple(sorted((k, v) for k, v in h.items() if k not in drop)), b))
    return out


def scripts_dir():
    return make_temp_dir("salvo-script-")


@test
def post_body_same_as_wrk():
    d = scripts_dir()
    try:
        s = write_script(d, "post.lua", 'wrk.method = "POST"\nwrk.body = "foo=bar&baz=quux"\n'
                         'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n')
        wreq, _, (rc, data, _, err), sreq = both(s, "/form")
        check(rc == 0, "salvo exit %d: %s" % (rc, err))
        check(shape(wreq) == shape(sreq) and len(shape(sreq)) == 1,
              "wrk sent %s, salvo %s" % (shape(wreq), shape(sreq)))
        check_counts_add_up(data)
    finally:
        remove_temp_dir(d)


@test
def token_from_response_header():
    d = scripts_dir()
    try:
        s = write_script(d, "auth.lua", """
token = nil
path = "/login"
request = function()
   return wrk.format("GET", path)
end
response = function(status, headers, body)
   if not token and status == 200 then
      token = headers["X-Token"]
      path = "/resource"
      wrk.headers["X-Token"] = token
   end
end
""")
        wreq, _, (rc, data, _, err), sreq = both(s)
        check(rc == 0, "salvo exit %d: %s" % (rc, err))
        for name, reqs in (("wrk", wreq), ("salvo", sreq)):
            paths = {p for _, p, _, _ in reqs}
            check(paths == {"/login", "/resource"}, "%s sent paths %s" % (name, sorted(paths)))
            res = [h for _, p, h, _ in reqs if p == "/resource"]
            check(all(h.get("x-token", "").startswith("tok-") for h in res),
                  "%s: a /resource request without the token: %s" % (name, res[:3]))
    finally:
        remove_temp_dir(d)


@test
def counter_paths_like_wrk():
    d = scripts_dir()
    try:
        s = write_script(d, "counter.lua", """
counter = 0
request = function()
   path = "/c/" .. counter
   counter = counter + 1
   return wrk.format(nil, path)
end
""")
        wreq, _, (rc, data, _, err), sreq = both(s)
        check(rc == 0, "salvo exit %d: %s" % (rc, err))
        for name, reqs in (("wrk", wreq), ("salvo", sreq)):
            nums = sorted(int(p.split("/")[-1]) for _, p, _, _ in reqs)
            # Both call request() once before the run to learn its shape (wrk's verify): 0 is never sent.
            check(nums == list(range(1, len(nums) + 1)), "%s sent %s..%s (%d paths, not 1..n)"
                  % (name, nums[:3], nums[-3:], len(nums)))
        # The first request sent is /c/1 for both; which one the recorder saw first depends on
        # which connection's bytes arrived first, so compare the lowest-numbered ones.
        def first(reqs):
            return sorted(reqs, key=lambda r: int(r[1].split("/")[-1]))[:1]
        check(shape(first(wreq)) == shape(first(sreq)), "first requests differ: %s vs %s" % (first(wreq), first(sreq)))
    finally:
        remove_temp_dir(d)


SETUP_LUA = """
local counter = 1
local threads = {}
function setup(thread)
   thread:set("id", counter)
   table.insert(threads, thread)
   counter = counter + 1
end
function init(args)
   requests  = 0
   responses = 0
   print(string.format("thread %d created", id))
end
function request()
   requests = requests + 1
   return wrk.request()
end
function response(status, headers, body)
   responses = responses + 1
end
function done(summary, latency, requests)
   for index, thread in ipairs(threads) do
      print(string.format("thread %d made %d requests and got %d responses",
                          thread:get("id"), thread:get("requests"), thread:get("responses")))
   end
end
"""


@test
def per_thread_ids_read_back_in_done():
    d = scripts_dir()
    try:
        s = write_script(d, "setup.lua", SETUP_LUA)
        wreq, wout, (rc, data, out, err), sreq = both(s, threads=2)
        check(rc == 0, "salvo exit %d: %s" % (rc, err))
        import re
        for name, text in (("wrk", wout), ("salvo", out)):
            check("thread 1 created" in text and "thread 2 created" in text, "%s printed: %s" % (name, text[:400]))
        made = re.findall(r"thread (\d) made (\d+) requests and got (\d+) responses", out)
        check(len(made) == 2, "salvo's done() printed %s" % out[-600:])
        got = sum(int(m[2]) for m in made)
        ok = data["requests"]["ok"] + data["requests"]["http_error"]
        check(got == ok, "done() says %d responses, the JSON %d" % (got, ok))
        check(all(int(m[1]) >= int(m[2]) for m in made), "more responses than requests: %s" % made)
    finally:
        remove_temp_dir(d)


@test
def report_in_done_uses_salvos_figures():
    d = scripts_dir()
    try:
        s = write_script(d, "report.lua", """
done = function(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("REPORT %d %d %d %d %g %g %g %g\\n", summary.requests, summary.duration,
            e.connect + e.read + e.write + e.status + e.timeout, summary.bytes,
            latency:percentile(50), latency:percentile(99), latency.max, latency.mean))
end
""")
        wreq, wout, (rc, data, out, err), sreq = both(s)
        check(rc == 0, "salvo exit %d: %s" % (rc, err))
        check("REPORT " in wout, "wrk printed no report: %s" % wout[-300:])
        line = [l for l in out.splitlines() if l.startswith("REPORT ")]
        check(line, "salvo printed no report: %s" % out[-300:])
        f = line[0].split()[1:]
        req = data["requests"]
        check(int(f[0]) == req["ok"] + req["http_error"] + req["check_failed"], "summary.requests %s vs %s" % (f[0], req))
        check(abs(int(f[1]) - data["duration_s"] * 1e6) <= 1e3, "summary.duration %s µs vs %s s" % (f[1], data["duration_s"]))
        check(int(f[2]) == 0, "errors %s in a clean run" % f[2])
        lat = data["latency_us"]
        check(abs(float(f[4]) - lat["p50"]) <= max(1, 0.01 * lat["p50"]), "p50 %s vs JSON %s" % (f[4], lat["p50"]))
        check(abs(float(f[5]) - lat["p99"]) <= max(1, 0.01 * lat["p99"]), "p99 %s vs JSON %s" % (f[5], lat["p99"]))
        check(abs(float(f[6]) - lat["max"]) <= max(1, 0.01 * lat["max"]), "max %s vs JSON %s" % (f[6], lat["max"]))
    finally:
        remove_temp_dir(d)


STOP_LUA = """
local counter = 1
function response()
   if counter == 100 then
      wrk.thread:stop()
   end
   counter = counter + 1
end
"""


@test
def thread_stop_closed_and_open():
    d = scripts_dir()
    try:
        s = write_script(d, "stop.lua", STOP_LUA)
        wreq, _, (rc, data, _, err), sreq = both(s)
        check(rc == 0, "salvo exit %d: %s" % (rc, err))
        ok = data["requests"]["ok"]
        check(100 <= ok <= 102, "closed: %d responses after stop() at the 100th (2 connections)" % ok)
        check(len(wreq) >= 100, "wrk sent %d" % len(wreq))
        url = "http://127.0.0.1:%d/" % SERVER.port
        rc, data, _, err = salvo_script(s, url, closed=False, rate=400, duration="2s")
        check(rc == 0, "open: exit %d: %s" % (rc, err))
        c = check_counts_add_up(data)
        # Requests already in flight when the 100th answer came still finish (a slow machine has more of them).
        check(c["scheduled"] == 800 and 100 <= c["ok"] <= 150 and c["unsent"] >= 500,
              "open: stop() at the 100th response: %s" % c)
    finally:
        remove_temp_dir(d)


@test
def address_chosen_in_setup():
    d = scripts_dir()
    try:
        s = write_script(d, "addr.lua", """
local addrs = nil
function setup(thread)
   if not addrs then
      addrs = wrk.lookup(wrk.host, wrk.port or "http")
      for i = #addrs, 1, -1 do
         if not wrk.connect(addrs[i]) then
            table.remove(addrs, i)
         end
      end
   end
   thread.addr = addrs[math.random(#addrs)]
end
function init(args)
   print(string.format("thread addr: %s", tostring(wrk.thread.addr)))
end
""")
        wreq, wout, (rc, data, out, err), sreq = both(s)
        check(rc == 0, "salvo exit %d: %s" % (rc, err))
        want = "thread addr: 127.0.0.1:%d" % SERVER.port
        check(want in wout and want in out, "want %r: wrk %r, salvo %r" % (want, wout[:200], out[:200]))
        check(shape(wreq) == shape(sreq), "wrk sent %s, salvo %s" % (shape(wreq), shape(sreq)))
    finally:
        remove_temp_dir(d)


PIPE_LUA = """
init = function(args)
   local r = {}
   r[1] = wrk.format(nil, "/p/1")
   r[2] = wrk.format(nil, "/p/2")
   r[3] = wrk.format(nil, "/p/3")
   req = table.concat(r)
end
request = function()
   return req
end
"""


@test
def pipelined_request_counts_each():
    d = scripts_dir()
    try:
        s = write_script(d, "pipeline.lua", PIPE_LUA)
        wreq, _, (rc, data, _, err), sreq = both(s)
        check(rc == 0, "salvo exit %d: %s" % (rc, err))
        check(shape(wreq) == shape(sreq) and len(shape(sreq)) == 3, "wrk %s, salvo %s" % (shape(wreq), shape(sreq)))
        url = "http://127.0.0.1:%d/" % SERVER.port
        SERVER.take()
        rc, data, _, err = salvo_script(s, url, closed=False, rate=100, duration="1s")
        got = SERVER.take()
        c = check_counts_add_up(data)
        check(rc == 0 and c["scheduled"] == 300 and c["ok"] == 300, "open, 100 arrivals of 3: exit %d %s" % (rc, c))
        check(len(got) == 300 and [p for _, p, _, _ in got[:3]] == ["/p/1", "/p/2", "/p/3"],
              "server saw %d requests, first %s" % (len(got), [p for _, p, _, _ in got[:3]]))
    finally:
        remove_temp_dir(d)


@test
def lua_check_counts_and_threshold():
    d = scripts_dir()
    try:
        s = write_script(d, "check.lua", """
n = 0
function response(status, headers, body)
   n = n + 1
   check("every4", n % 4 ~= 0)
   check("hello", body:find("hello") ~= nil)
end
""")
        url = "http://127.0.0.1:%d/" % SERVER.port
        rc, data, out, err = salvo_script(s, url, closed=False, rate=200, duration="1s",
                                          extra=["--threshold", "checks{name=every4}.rate > 99%"])
        c = check_counts_add_up(data)
        ch = data["checks"]
        check(ch["hello"]["fail"] == 0 and ch["hello"]["pass"] == 200, "hello: %s" % ch)
        check(ch["every4"]["fail"] == 50 and c["check_failed"] == 50 and c["ok"] == 150, "every4: %s %s" % (ch, c))
        check(rc == 99, "a failed checks threshold exits 99, got %d: %s" % (rc, err[-300:]))
    finally:
        remove_temp_dir(d)


@test
def delay_paces_the_closed_model():
    d = scripts_dir()
    try:
        s = write_script(d, "delay.lua", "function delay()\n   return 50\nend\n")
        url = "http://127.0.0.1:%d/" % SERVER.port
        rc, data, _, err = salvo_script(s, url, conns=1, duration="1s")
        c = check_counts_add_up(data)
        # One connection waiting 50 ms before each request: about 20 in 1 s, latency from the send.
        check(rc == 0 and 10 <= c["ok"] <= 21, "delay() 50 ms on 1 connection for 1 s: exit %d %s" % (rc, c))
        check(data["latency_us"]["p50"] < 40000, "the delay is not latency: p50 %s µs" % data["latency_us"]["p50"])
    finally:
        remove_temp_dir(d)


def bad(d, name, text, extra=(), closed=False, duration="1s"):
    s = write_script(d, name, text)
    url = "http://127.0.0.1:%d/" % SERVER.port
    SERVER.take()
    res = salvo_script(s, url, extra=extra, closed=closed, rate=100, duration=duration)
    return res + (SERVER.take(),)


@test
def bad_scripts_before_traffic():
    d = scripts_dir()
    try:
        cases = [
            ("syntax.lua", "function request(\n  return\nend\n", "syntax.lua:2:"),
            ("setup.lua", "function setup(t)\n  error('boom in setup')\nend\n", "setup.lua:2: boom in setup"),
            ("init.lua", "function init(args)\n  error('boom in init')\nend\n", "init.lua:2: boom in init"),
            ("number.lua", "function request() return 42 end\n", "request() returned number"),
            ("delay.lua", "function delay() return 10 end\n", "delay()"),
        ]
        for name, text, want in cases:
            rc, data, out, err, got = bad(d, name, text)
            check(rc == 2 and want in err and not got and len(err.strip().splitlines()) == 1,
                  "%s: exit %d, %d requests sent, stderr %r" % (name, rc, len(got), err))
        rc, _, _, err, got = bad(d, "h2.lua", PIPE_LUA, extra=["--h2c"])
        check(rc == 2 and "each call must return one request" in err and not got,
              "pipelined request() with --h2c: exit %d %r" % (rc, err))
    finally:
        remove_temp_dir(d)


@test
def bad_scripts_during_the_run():
    d = scripts_dir()
    try:
        rc, data, out, err, got = bad(d, "req.lua", "n = 0\nfunction request()\n  n = n + 1\n"
                                      "  if n % 2 == 0 then error('even failure') end\n  return wrk.format()\nend\n")
        c = check_counts_add_up(data)
        check(rc == 0 and data["errors"].get("script_error") == 50 and c["ok"] == 50,
              "request() failing every 2nd call: exit %d %s %s" % (rc, c, data["errors"]))
        check("req.lua:4: even failure" in data["script"]["first_error"], "first error %r" % data["script"])
        rc, data, out, err, got = bad(d, "resp.lua", "n = 0\nfunction response(s, h, b)\n  n = n + 1\n"
                                      "  if n % 2 == 0 then error('bad answer') end\nend\n")
        c = check_counts_add_up(data)
        check(rc == 0 and data["errors"].get("script_error") == 50 and c["ok"] == 50,
              "response() failing every 2nd call: exit %d %s" % (rc, c))
        for name, ret, want in (("num.lua", "42", "returned number"),
                                ("junk.lua", "string.rep('x', 1000000)", "not an HTTP/1.1 request")):
            rc, data, out, err, got = bad(d, name, "n = 0\nfunction request()\n  n = n + 1\n"
                                          "  if n %% 2 == 0 then return %s end\n  return wrk.format()\nend\n" % ret)
            c = check_counts_add_up(data)
            check(rc == 0 and data["errors"].get("script_error") == 50 and want in data["script"]["first_error"],
                  "%s: exit %d %s %s" % (name, rc, c, data.get("script")))
        rc, data, out, err, got = bad(d, "done.lua", "function done(s, l, r)\n  error('no report')\nend\n")
        check(rc == 1 and data is not None and data["requests"]["ok"] == 100 and "done.lua:2: no report" in err,
              "done() failing: exit %d, stderr %r" % (rc, err[-300:]))
    finally:
        remove_temp_dir(d)


@test
def endless_loop_ends_the_run():
    d = scripts_dir()
    try:
        t0 = time.monotonic()
        rc, data, out, err, got = bad(d, "loop.lua", "n = 0\nfunction request()\n  n = n + 1\n"
                                      "  if n > 50 then\n    while true do end\n  end\n  return wrk.format()\nend\n",
                                      duration="20s")
        took = time.monotonic() - t0
        c = check_counts_add_up(data)
        check(rc == 1 and "loop.lua:" in data["script"].get("hung", "") and took < 15,
              "endless loop: exit %d after %.1f s, %s, stderr %r" % (rc, took, data.get("script"), err[-300:]))
        check(c["ok"] >= 40, "the responses before the hang are kept: %s" % c)
    finally:
        remove_temp_dir(d)


@test
def script_over_h2c():
    """The request bytes become h2 headers; response() reads h2 answers as it reads HTTP/1.1 ones."""
    d = scripts_dir()
    try:
        s = write_script(d, "h2.lua", """
path = "/first"
request = function()
   return wrk.format("POST", path, nil, "a=1")
end
response = function(status, headers, body)
   check("ctype", headers["content-type"] == "text/plain")
   check("body", body == "hello\\n" and status == 200)
   path = "/after"
   wrk.headers["X-Token"] = "t-1"
end
""")
        with Nginx(http2=True, log_format="$request_method $uri $server_protocol $http_x_token") as ng:
            rc, data, out, err = salvo_script(s, ng.url, extra=["--h2c"], closed=False, rate=100, duration="1s")
            with open(ng.access_log) as f:
                lines = [l.split() for l in f if l.strip()]
        c = check_counts_add_up(data)
        ch = data.get("checks", {})
        check(rc == 0 and c["ok"] == 100 and data.get("protocol") == "h2c", "exit %d %s %s" % (rc, c, data.get("protocol")))
        check(ch.get("ctype", {}).get("pass") == 100 and ch.get("body", {}).get("pass") == 100, "checks %s" % ch)
        check(all(l[0] == "POST" and l[2] == "HTTP/2.0" for l in lines), "nginx saw %s" % lines[:3])
        after = [l for l in lines if l[1] == "/after"]
        check(after and all(l[3] == "t-1" for l in after), "token not sent over h2: %s" % lines[:5])
    finally:
        remove_temp_dir(d)


SESSION_LUA = """
function session(s)
   local r = s:post("/login", "user=a", { ["Content-Type"] = "application/x-www-form-urlencoded" })
   s:check("login", r.status == 200 and r.headers["X-Token"] ~= nil)
   s:sleep(0.01)
   local route = s:get("/route?from=1&to=2", { ["Authorization"] = "Bearer " .. tostring(r.headers["X-Token"]) })
   s:check("routed", route.status == 200 and route.body:find("hello") ~= nil)
end
"""


@test
def sessions_login_then_route():
    d = scripts_dir()
    try:
        s = write_script(d, "flow.lua", SESSION_LUA)
        url = "http://127.0.0.1:%d/" % SERVER.port
        SERVER.take()
        rc, data, out, err = salvo_script(s, url, closed=False, rate=100, duration="1s",
                                          extra=["--threshold", "session.p99 < 5s"])
        got = SERVER.take()
        c = check_counts_add_up(data)
        ss = data.get("sessions", {})
        check(rc == 0 and ss.get("scheduled") == 100 and ss.get("completed") == 100, "exit %d sessions %s %s %s"
              % (rc, ss, c, data.get("script")))
        check(c["scheduled"] == 200 and c["ok"] == 200 and c["http_error"] == 0, "two steps each, no 401: %s" % c)
        hosts = {h.get("host") for _, _, h, _ in got}
        check(hosts == {"127.0.0.1:%d" % SERVER.port}, "session steps carry the run's Host header: %s" % hosts)
        routes = [h.get("authorization") for _, p, h, _ in got if p.startswith("/route")]
        check(len(routes) == 100 and len(set(routes)) == 100, "each route request carries its own session's token: "
              "%d routes, %d distinct tokens" % (len(routes), len(set(routes))))
        su = data["session_us"]
        check(su["count"] == 100 and su["p50"] >= 10000, "session_us includes the 10 ms think time: %s" % su)
        check(data["thresholds"]["session.p99 < 5s"]["pass"], "threshold %s" % data["thresholds"])
    finally:
        remove_temp_dir(d)


@test
def session_us_counts_from_the_scheduled_start():
    d = scripts_dir()
    try:
        s = write_script(d, "slow.lua", "function session(s)\n   s:get('/slow')\n   s:get('/fast')\nend\n")
        url = "http://127.0.0.1:%d/" % SERVER.port
        rc, data, out, err = salvo_script(s, url, closed=False, rate=20, duration="1s")
        c = check_counts_add_up(data)
        su, lat = data["session_us"], data["latency_us"]
        # The first step takes 100 ms; the second is fast; the session holds both.
        check(rc == 0 and data["sessions"]["completed"] == 20 and su["p50"] >= 100000 and su["p50"] < 400000,
              "session_us %s (latency %s), exit %d" % (su, lat, rc))
        check(lat["p50"] < su["p50"], "a step's latency is its own: %s vs session %s" % (lat["p50"], su["p50"]))
    finally:
        remove_temp_dir(d)


@test
def bad_sessions():
    d = scripts_dir()
    try:
        rc, data, out, err, got = bad(d, "serr.lua", "function session(s)\n   s:get('/a')\n   error('lost')\nend\n")
        c = check_counts_add_up(data)
        ss = data["sessions"]
        check(rc == 0 and ss["failed"] == 100 and ss["completed"] == 0 and c["ok"] == 100
              and "serr.lua:3: lost" in data["script"]["first_error"], "session error: exit %d %s %s %s"
              % (rc, ss, c, data["script"]))
        rc, data, out, err, got = bad(d, "sloop.lua", "n = 0\nfunction session(s)\n   s:get('/a')\n   n = n + 1\n"
                                      "   if n > 20 then while true do end end\nend\n", duration="20s")
        c = check_counts_add_up(data)
        check(rc == 1 and "sloop.lua:" in data["script"].get("hung", "") and "session()" in data["script"]["hung"],
              "a session that never yields: exit %d %s %s" % (rc, data.get("script"), c))
        rc, data, out, err, got = bad(d, "sclosed.lua", "function session(s) s:get('/') end\n", closed=True)
        check(rc == 2 and "session()" in err and not got, "session with --closed: exit %d %r" % (rc, err))
    finally:
        remove_temp_dir(d)


@test
def sessions_log_in_as_their_data_row():
    d = scripts_dir()
    try:
        s = write_script(d, "users.lua", """
function session(s)
   local r = s:post("/login", '{"user":"' .. s.row.user .. '"}', { ["Content-Type"] = "application/json" })
   s:check("login", r.status == 200)
   s:get("/route?as=" .. s.row.user .. "&pw=" .. s.row.pw, { ["Authorization"] = "Bearer " .. tostring(r.headers["X-Token"]) })
end
""")
        users = os.path.join(d, "users.csv")
        with open(users, "w") as f:
            f.write("user,pw\n" + "".join('u%d,"p,%d"\n' % (i, i) for i in range(10)))
        url = "http://127.0.0.1:%d/" % SERVER.port
        SERVER.take()
        rc, data, out, err = salvo_script(s, url, closed=False, rate=50, duration="1s", extra=["--data", users])
        got = SERVER.take()
        ss = data.get("sessions", {})
        check(rc == 0 and ss.get("completed") == 50, "exit %d sessions %s %r" % (rc, ss, err[-300:]))
        logins = sorted(b for _, p, _, b in got if p == "/login")
        want = sorted('{"user":"u%d"}' % (i % 10) for i in range(50))
        check(logins == want, "each session logs in as its row's user (rows in order, looping): %s" % logins[:12])
        routes = sorted(p for _, p, _, _ in got if p.startswith("/route"))
        check(routes == sorted("/route?as=u%d&pw=p,%d" % (i % 10, i % 10) for i in range(50)),
              "s.row holds every column, quoted CSV decoded: %s" % routes[:5])
        rc, data, out, err = run_salvo(["run", url, "--script", write_script(d, "plain.lua", "wrk.path = '/'\n"),
                                        "--data", users, "-r", "10", "-d", "1s"], timeout=20)
        check(rc == 2 and "session()" in err and "--data" in err, "--data without session(): exit %d %r" % (rc, err))
    finally:
        remove_temp_dir(d)


@test
def session_json_and_step_names():
    d = scripts_dir()
    try:
        s = write_script(d, "named.lua", """
function session(s)
   s:name("login")
   local j = s:get("/json?step=1"):json()
   s:check("parsed", j.n == 3 and j.ok == true and j.none == nil and j.legs[1].name == "a" and j.legs[2] == 2.5
           and j.path == "/json?step=1")
   s:name('route step')
   s:get("/route")
   s:get("/plain")
end
""")
        url = "http://127.0.0.1:%d/" % SERVER.port
        rc, data, out, err = salvo_script(s, url, closed=False, rate=40, duration="1s")
        ss, ch, g = data.get("sessions", {}), data.get("checks", {}), data.get("groups", {})
        check(rc == 0 and ss.get("completed") == 40 and ch.get("parsed", {}).get("pass") == 40,
              "exit %d sessions %s checks %s %s" % (rc, ss, ch, data.get("script")))
        counts = {k: v["requests"] for k, v in g.items()}
        check(counts.get("login") == 40 and counts.get("route step") == 40 and counts.get("/") == 40,
              "each step under its s:name (the next step only), the rest under the URL's name: %s" % counts)
        s = write_script(d, "notjson.lua", "function session(s)\n   local j = s:get('/plain'):json()\n   s:get('/never')\nend\n")
        rc, data, out, err = salvo_script(s, url, closed=False, rate=20, duration="1s")
        ss = data.get("sessions", {})
        check(rc == 0 and ss.get("failed") == 20 and "notjson.lua:2: r:json(): the body is not JSON" in
              data.get("script", {}).get("first_error", "") and data["requests"]["scheduled"] == 20,
              "a body that is not JSON fails its session: exit %d %s %s" % (rc, ss, data.get("script")))
        s = write_script(d, "dyn.lua", "function session(s)\n   local n = 'a' .. 'b'\n   s:name(n)\n   s:get('/')\nend\n")
        rc, data, out, err = salvo_script(s, url, closed=False, rate=20, duration="1s")
        check(data.get("sessions", {}).get("failed") == 20 and "literal" in data.get("script", {}).get("first_error", ""),
              "a name not in the script's text fails its session, saying why: %s" % data.get("script"))
    finally:
        remove_temp_dir(d)


@test
def session_cookie_jar():
    d = scripts_dir()
    try:
        s = write_script(d, "jar.lua", """
function session(s)
   s:get("/cookie")
   s:check("jar", s.cookies.sid ~= nil and s.cookies.theme == "dark")
   s:get("/after")
   s:get("/own", { Cookie = "x=1" })
end
""")
        url = "http://127.0.0.1:%d/" % SERVER.port
        SERVER.take()
        rc, data, out, err = salvo_script(s, url, closed=False, rate=20, duration="1s")
        got = SERVER.take()
        check(rc == 0 and data["sessions"]["completed"] == 20 and data["checks"]["jar"]["pass"] == 20,
              "exit %d %s %s %s" % (rc, data.get("sessions"), data.get("checks"), data.get("script")))
        first = [h.get("cookie") for _, p, h, _ in got if p == "/cookie"]
        after = [h.get("cookie", "") for _, p, h, _ in got if p == "/after"]
        own = [h.get("cookie") for _, p, h, _ in got if p == "/own"]
        check(first == [None] * 20, "the first step has no cookie: %s" % first[:3])
        sids = {c for a in after for c in a.split("; ") if c.startswith("sid=")}
        check(len(after) == 20 and all(sorted(a.split("; "))[1] == "theme=dark" for a in after) and len(sids) == 20,
              "each session sends back its own Set-Cookie pairs, attributes dropped: %s" % after[:3])
        check(own == ["x=1"] * 20, "a step's own Cookie header wins: %s" % own[:3])
    finally:
        remove_temp_dir(d)


@test
def session_timeout_bounds_the_session():
    d = scripts_dir()
    try:
        s = write_script(d, "long.lua", "function session(s)\n   s:get('/fast')\n   s:sleep(0.5)\n   s:get('/never')\nend\n")
        url = "http://127.0.0.1:%d/" % SERVER.port
        SERVER.take()
        rc, data, out, err = salvo_script(s, url, closed=False, rate=20, duration="1s",
                                          extra=["--session-timeout", "200ms"])
        got = SERVER.take()
        ss, c = data.get("sessions", {}), check_counts_add_up(data)
        check(rc == 0 and ss.get("timeout") == 20 and ss.get("completed") == 0 and c["ok"] == 20,
              "a session sleeping past its bound ends as a timeout: exit %d %s %s" % (rc, ss, c))
        check(not [p for _, p, _, _ in got if p == "/never"], "no step after the bound is sent")
        check(data["config"].get("session_timeout_s") == 0.2, "config %s" % data["config"])
        s = write_script(d, "slowstep.lua", "function session(s)\n   s:get('/slow')\n   s:get('/never')\nend\n")
        SERVER.take()
        rc, data, out, err = salvo_script(s, url, closed=False, rate=20, duration="1s",
                                          extra=["--session-timeout", "40ms"])
        got = SERVER.take()
        ss, c = data.get("sessions", {}), check_counts_add_up(data)
        check(rc == 0 and ss.get("timeout") == 20 and c["ok"] == 20 and not [p for _, p, _, _ in got if p == "/never"],
              "a session in a slow step ends at its bound; the step keeps its own outcome: exit %d %s %s" % (rc, ss, c))
        rc, data, out, err = run_salvo(["run", url, "--script", write_script(d, "p.lua", "wrk.path = '/'\n"),
                                        "--session-timeout", "1s", "-r", "10", "-d", "1s"], timeout=20)
        check(rc == 2 and "session()" in err, "--session-timeout without session(): exit %d %r" % (rc, err))
    finally:
        remove_temp_dir(d)


@test
def session_check_fails_its_step():
    d = scripts_dir()
    try:
        s = write_script(d, "sc.lua", """
function session(s)
   s:check("a401", s:get("/route").status == 200)
   local r = s:get("/fast")
   s:check("fastok", r.status == 500)
   s:sleep(0.01)
   s:check("late", false)
   s:get("/plain")
end
""")
        url = "http://127.0.0.1:%d/" % SERVER.port
        rc, data, out, err = salvo_script(s, url, closed=False, rate=20, duration="1s")
        c = check_counts_add_up(data)
        ch = data.get("checks", {})
        check(rc == 0 and data["sessions"]["completed"] == 20 and ch["fastok"]["fail"] == 20 and ch["late"]["fail"] == 20,
              "exit %d %s %s" % (rc, data.get("sessions"), ch))
        check(c["scheduled"] == 60 and c["http_error"] == 20 and c["check_failed"] == 20 and c["ok"] == 20,
              "a failed s:check makes the step it follows check_failed (a 401 stays http_error; a check after a "
              "sleep judges no step): %s" % c)
    finally:
        remove_temp_dir(d)


@test
def sessions_as_users_against_salvo_target_auth():
    """The walk-through of docs/scripting.md: a CSV of users, `salvo target --auth`, each session logs in as
    its row's user, reads its token with r:json() and routes with it (401 without a valid one)."""
    d = scripts_dir()
    proc = subprocess.Popen([harness.SALVO_BIN, "target", "--auth", "--listen", "127.0.0.1:0"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()  # bounded: printed before serving, or the target exits
        m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
        check(m, "target did not start: %r" % line)
        users = os.path.join(d, "users.csv")
        with open(users, "w") as f:
            f.write("user\n" + "".join("rider%d\n" % i for i in range(8)))
        s = write_script(d, "walk.lua", """
function session(s)
   s:name("login")
   local r = s:post("/api/login", '{"user":"' .. s.row.user .. '"}', { ["Content-Type"] = "application/json" })
   local j = r:json()
   s:check("me", r.status == 200 and j.user == s.row.user)
   s:name("route")
   local route = s:get("/api/route?from=52.46,13.26&to=52.59,13.49", { Authorization = "Bearer " .. j.token })
   s:check("routed", route.status == 200 and route:json().distance_m > 0)
end
""")
        rc, data, out, err = salvo_script(s, "http://127.0.0.1:%s/" % m.group(1), closed=False, rate=40,
                                          duration="1s", extra=["--data", users])
        ss, ch, g = data.get("sessions", {}), data.get("checks", {}), data.get("groups", {})
        check(rc == 0 and ss.get("completed") == 40 and ch.get("me", {}).get("pass") == 40
              and ch.get("routed", {}).get("pass") == 40,
              "exit %d sessions %s checks %s %s" % (rc, ss, ch, data.get("script")))
        check(g.get("login", {}).get("ok") == 40 and g.get("route", {}).get("ok") == 40,
              "per-step groups: %s" % {k: (v["requests"], v["ok"]) for k, v in g.items()})
    finally:
        if proc.poll() is None:
            proc.terminate()  # by PID: our own child
            proc.wait(timeout=5)
        remove_temp_dir(d)


if __name__ == "__main__":
    main(setup=setup, teardown=teardown)
