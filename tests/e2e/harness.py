"""harness.py — what every end-to-end test of salvo needs, Python stdlib only.

The e2e tests drive the real binary (env SALVO_BIN, default build/salvo under
the repository root) against a real nginx on 127.0.0.1 and assert on the
results JSON. This module gives them:

- free_port(): a loopback TCP port nobody listens on right now;
- Nginx: a private nginx (its own temp dir, config, pid, logs and temp paths,
  so it runs as root without touching /var), plain HTTP or TLS with a
  self-signed certificate made by the openssl CLI;
- run_salvo() / Salvo: run the binary with `--json FILE` and hand back
  (exit code, parsed JSON or None, stdout, stderr);
- run_with_nginx_freeze(): the same while nginx's worker is stopped
  (SIGSTOP) for a while, timed from the first request nginx logged;
- a tiny registry (@test, main()) that runs each test function, prints
  `ok name`, `FAIL name: reason` or `skip name: reason` (skip(reason)
  raises Skip: only for what the machine cannot give, see skip()), then
  cmocka-style totals that tests/run.sh reads ([  PASSED  ], [  FAILED  ],
  [  SKIPPED ]), and exits non-zero if anything failed, if no test ran, or
  if SALVO_E2E_ONLY matched no test.

House rules it enforces: every wait is bounded in count and time; only
processes this module started are signalled, always by PID; everything it
started is stopped and every temp dir removed, also when a test fails or the
process is told to stop (SIGTERM from `timeout`).
"""

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SALVO_BIN = os.environ.get("SALVO_BIN") or os.path.join(REPO_ROOT, "build", "salvo")
if not os.path.isabs(SALVO_BIN):
    SALVO_BIN = os.path.join(REPO_ROOT, SALVO_BIN)
NGINX_BIN = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")

OUTCOMES = ("ok", "http_error", "check_failed", "failed", "timeout", "unsent")
PERCENTILE_KEYS = ("min", "mean", "p50", "p90", "p99", "p99_9", "p99_99", "max", "count")

# Everything started here, so that a failing test or a SIGTERM still cleans up.
_live_nginx = []
_live_salvo = []
_live_chaos = []
_temp_dirs = []


def log(msg):
    """Prints a progress line at once (stdout is a file under tests/run.sh)."""
    print(msg, flush=True)


def free_port():
    """Returns a loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def refusing_after_one_port():
    """A loopback port that accepts one connection (salvo run's preflight) and refuses every later one.

    Returns (port, thread); join the thread (bounded) when done. A run against
    it passes the "nothing listens" preflight and then gets ECONNREFUSED."""
    import threading
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(30)

    def once():
        try:
            conn, _ = srv.accept()
            conn.close()
        except OSError:
            pass
        finally:
            srv.close()

    t = threading.Thread(target=once, daemon=True)
    t.start()
    return srv.getsockname()[1], t


def pprof_stub():
    """A stub pprof endpoint on 127.0.0.1 (a daemon thread): waits `seconds` (at most 5), then answers gzip bytes,
    what salvo checks of a profile body. Returns the server; .server_address[1] is its port, shutdown() stops it."""
    import gzip
    import http.server
    import threading
    import urllib.parse

    class Pprof(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            time.sleep(min(float(q.get("seconds", ["0"])[0]), 5))
            body = gzip.compress(b"stub profile")
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pprof)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


class LoopbackServer:
    """A scripted TCP server on 127.0.0.1: each accepted connection goes to self.handle(conn) on its own
    thread (subclasses write handle, and may refuse one in admit); self.connections counts them. stop() ends
    the accept loop (bounded)."""

    def __init__(self, backlog=64):
        import threading
        self.lock = threading.Lock()
        self.connections = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        import threading
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
                if not self.admit(conn):
                    continue
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def admit(self, conn):
        """Called with self.lock held for each accepted connection: False drops it (the subclass closes it)."""
        return True

    def handle(self, conn):
        conn.close()

    def stop(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


def make_temp_dir(prefix):
    """Creates a temp dir that is removed at exit whatever happens."""
    d = tempfile.mkdtemp(prefix=prefix)
    _temp_dirs.append(d)
    return d


def remove_temp_dir(d):
    shutil.rmtree(d, ignore_errors=True)
    if d in _temp_dirs:
        _temp_dirs.remove(d)


def port_answers(port, timeout=0.2):
    """True if something accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


def children_of(pid):
    """PIDs of the direct children of pid, read from /proc."""
    kids = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                    kids += [int(x) for x in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    if not kids:  # kernels without CONFIG_PROC_CHILDREN
        r = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
        kids = [int(x) for x in r.stdout.split()]
    return kids


def rss_kb(pid):
    """VmRSS of pid in kB, or None once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Nginx:
    """A private nginx on 127.0.0.1 with one worker, run in the foreground.

    `location /` answers 200 "hello\\n"; /static.txt is a small file. With
    tls=True the server speaks TLS with a fresh self-signed certificate for
    127.0.0.1 and localhost; http2=True adds HTTP/2 to the listener. Use as a context manager or call start()/stop().
    """

    def __init__(self, tls=False, access_log=True, port=None, log_format=None, http2=False,
                 keepalive_requests=100000, locations=""):
        self.tls = tls
        # locations: nginx `location` blocks put before `location /` (root is self.dir).
        self.locations = locations
        # http2: `listen ... http2` (h2 by ALPN with tls, h2c by prior knowledge
        # without); keepalive_requests: requests per connection before nginx
        # closes it (with http2, by a GOAWAY).
        self.http2 = http2
        self.keepalive_requests = keepalive_requests
        self.access_log_on = access_log
        # log_format: an nginx log_format string (e.g. '$request_method $request_uri')
        # for the access log instead of nginx's "combined"; None keeps combined.
        self.log_format = log_format
        self.port = port or free_port()
        self.dir = None
        self.proc = None

    @property
    def scheme(self):
        return "https" if self.tls else "http"

    @property
    def url(self):
        return "%s://127.0.0.1:%d/" % (self.scheme, self.port)

    @property
    def access_log(self):
        return os.path.join(self.dir, "access.log")

    @property
    def error_log(self):
        return os.path.join(self.dir, "error.log")

    def _make_cert(self):
        crt = os.path.join(self.dir, "cert.pem")
        key = os.path.join(self.dir, "key.pem")
        r = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", key, "-out", crt, "-days", "2",
             "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("openssl req failed: " + r.stderr.strip())
        return crt, key

    def _write_config(self):
        d = self.dir
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.mkdir(os.path.join(d, sub))
        with open(os.path.join(d, "static.txt"), "w") as f:
            f.write("static file for salvo e2e tests\n" * 8)
        listen = "listen 127.0.0.1:%d backlog=4096" % self.port
        tls = ""
        if self.tls:
            crt, key = self._make_cert()
            listen += " ssl"
            tls = ("        ssl_certificate %s;\n"
                   "        ssl_certificate_key %s;\n" % (crt, key))
        if self.http2:
            listen += " http2"
        access = ("access_log %s;" % self.access_log) if self.access_log_on else "access_log off;"
        if self.access_log_on and self.log_format is not None:
            fmt = self.log_format.replace("\\", "\\\\").replace("'", "\\'")
            access = "log_format salvo_e2e '%s';\n    access_log %s salvo_e2e;" % (fmt, self.access_log)
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf = f"""{user}daemon off;
master_process on;
worker_processes 1;
pid {d}/nginx.pid;
lock_file {d}/nginx.lock;
error_log {self.error_log} warn;
events {{
    worker_connections 16384;
}}
http {{
    {access}
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_requests {self.keepalive_requests};
    keepalive_timeout 75s;
    default_type text/plain;
    server {{
        {listen};
{tls}        root {d};
        location = /static.txt {{ }}
{self.locations}        location / {{ return 200 "hello\\n"; }}
    }}
}}
"""
        path = os.path.join(d, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        return path

    def start(self, timeout=10.0):
        """Starts nginx and waits (bounded) until the port answers and a worker runs."""
        self.dir = make_temp_dir("salvo-e2e-nginx-")
        conf = self._write_config()
        self._stderr = open(os.path.join(self.dir, "stderr.log"), "w")
        self.proc = subprocess.Popen(
            [NGINX_BIN, "-p", self.dir + "/", "-c", conf, "-e", self.error_log],
            stdin=subprocess.DEVNULL, stdout=self._stderr, stderr=self._stderr)
        _live_nginx.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited with %s: %s" % (self.proc.returncode, self._logs()))
            if port_answers(self.port) and children_of(self.proc.pid):
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("nginx did not answer on port %d within %.0f s" % (self.port, timeout))

    def _logs(self):
        out = []
        for p in (os.path.join(self.dir, "stderr.log"), self.error_log):
            try:
                with open(p) as f:
                    out.append(f.read().strip())
            except OSError:
                pass
        return " | ".join(x for x in out if x)

    @property
    def master_pid(self):
        return self.proc.pid

    def worker_pid(self):
        """PID of the single worker (a child of the master we started)."""
        kids = children_of(self.proc.pid)
        if len(kids) != 1:
            raise RuntimeError("expected one nginx worker, found %r" % kids)
        return kids[0]

    def access_log_lines(self, offset=0):
        """Lines of the access log from byte offset on (e.g. an earlier access_log_size())."""
        try:
            with open(self.access_log, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []

    def access_log_size(self):
        try:
            return os.path.getsize(self.access_log)
        except OSError:
            return 0

    def kill(self):
        """SIGKILLs master and worker (both ours) and reaps the master."""
        if self.proc is None or self.proc.poll() is not None:
            return
        workers = children_of(self.proc.pid)
        for pid in [self.proc.pid] + workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def stop(self):
        """Stops nginx (TERM, then KILL after 5 s) and removes its temp dir."""
        if self.proc is not None and self.proc.poll() is None:
            workers = children_of(self.proc.pid)
            for pid in workers:  # a stopped worker would never exit
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
            for pid in workers:  # the worker is reparented if the master died first
                if pid_alive(pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        if getattr(self, "_stderr", None):
            self._stderr.close()
            self._stderr = None
        if self in _live_nginx:
            _live_nginx.remove(self)
        if self.dir:
            remove_temp_dir(self.dir)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Chaos:
    """One `salvo chaos` process started by a test, on free loopback ports.

    A proxy named salvo listens on 127.0.0.1:0 in front of upstream_port
    (with --toxic SPEC for each of toxics); the control API on `api` (port 0
    by default). The bound addresses are read from what it prints: api_addr
    ("127.0.0.1:PORT" or "[::1]:PORT") and port (the proxy's).
    """

    def __init__(self, upstream_port, toxics=(), api="127.0.0.1:0", seed=None):
        self.dir = make_temp_dir("salvo-e2e-chaos-")
        args = [SALVO_BIN, "chaos", "--api", api, "--listen", "127.0.0.1:0",
                "--upstream", "127.0.0.1:%d" % upstream_port]
        if seed is not None:
            args += ["--seed", str(seed)]
        for t in toxics:
            args += ["--toxic", t]
        self.out_path = os.path.join(self.dir, "stdout")
        self._out = open(self.out_path, "w")
        self._err = open(os.path.join(self.dir, "stderr"), "w")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err)
        _live_chaos.append(self)
        self.api_addr = self.port = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(self.out_path) as f:
                for line in f.read().splitlines():
                    if line.startswith("salvo chaos: api on "):
                        self.api_addr = line.split(" on ")[1].strip()
                    if line.startswith("salvo chaos: proxy "):
                        self.port = int(line.split(" on ")[1].split(" ")[0].rsplit(":", 1)[1])
            if self.api_addr and self.port:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise AssertionError("salvo chaos --api %s did not start: %s" % (api, self.stderr()))

    @property
    def url(self):
        return "http://127.0.0.1:%d/" % self.port

    @property
    def api_port(self):
        return int(self.api_addr.rsplit(":", 1)[1])

    def stderr(self):
        try:
            with open(os.path.join(self.dir, "stderr")) as f:
                return f.read().strip()
        except OSError:
            return ""

    def api(self, method, path, body=None):
        """One API call: returns (status, parsed JSON or None)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request("http://%s%s" % (self.api_addr, path), data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                text = r.read()
                return r.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as e:
            text = e.read()
            return e.code, (json.loads(text) if text else None)

    def toxics(self, proxy="salvo"):
        """The proxy's toxics, by name, as its API reports them now."""
        status, data = self.api("GET", "/proxies/%s/toxics" % proxy)
        check(status == 200, "GET toxics of %s answered %s" % (proxy, status))
        return {t["name"]: t for t in data}

    def fd_count(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def stop(self):
        """SIGTERM, then SIGKILL after 5 s; returns (exit code, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        for f in (self._out, self._err):
            if not f.closed:
                f.close()
        err = self.stderr()
        if self in _live_chaos:
            _live_chaos.remove(self)
        remove_temp_dir(self.dir)
        return self.proc.returncode, err


class Salvo:
    """One salvo process started by a test, with its output in temp files.

    args are the command line after the binary (e.g. ["run", url, "-r", "100"]);
    with json=True `--json FILE` is appended. finish() waits (bounded) and
    returns (exit code, parsed JSON or None, stdout, stderr).
    """

    def __init__(self, args, json_out=True):
        if not os.access(SALVO_BIN, os.X_OK):
            raise AssertionError("salvo binary not found or not executable: " + SALVO_BIN)
        self.dir = make_temp_dir("salvo-e2e-run-")
        self.json_path = os.path.join(self.dir, "result.json") if json_out else None
        cmd = [SALVO_BIN] + [str(a) for a in args]
        if json_out:
            cmd += ["--json", self.json_path]
        self.cmd = cmd
        self._out = open(os.path.join(self.dir, "stdout"), "w+")
        self._err = open(os.path.join(self.dir, "stderr"), "w+")
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._err)
        _live_salvo.append(self)

    @property
    def pid(self):
        return self.proc.pid

    def signal(self, sig):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def finish(self, timeout):
        """Waits up to timeout s; on overrun kills salvo and raises AssertionError."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            self._cleanup()
            raise AssertionError("salvo did not exit within %.0f s: %s" % (timeout, " ".join(self.cmd)))
        self.elapsed = time.monotonic() - self.t_start
        self._out.seek(0)
        self._err.seek(0)
        stdout, stderr = self._out.read(), self._err.read()
        data = None
        if self.json_path and os.path.exists(self.json_path) and os.path.getsize(self.json_path) > 0:
            with open(self.json_path) as f:
                text = f.read()
            try:
                data = json.loads(text)
            except ValueError as e:
                self._cleanup()
                raise AssertionError("results JSON does not parse (%s): %.300s" % (e, text))
        self._cleanup()
        return rc, data, stdout, stderr

    def _cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for f in (self._out, self._err):
            if not f.closed:
                f.close()
        if self in _live_salvo:
            _live_salvo.remove(self)
        remove_temp_dir(self.dir)


def run_salvo(args, timeout=60, json_out=True):
    """Runs salvo to completion: returns (exit code, JSON or None, stdout, stderr)."""
    return Salvo(args, json_out=json_out).finish(timeout)


def run_with_nginx_freeze(nginx, args, freeze_at_s, freeze_s, timeout):
    """Runs salvo with args and freezes nginx's worker while it sends.

    nginx is an Nginx(access_log=True) this process started: its worker is
    stopped (SIGSTOP) for freeze_s s, freeze_at_s s after nginx logged
    salvo's first request, and always continued (SIGCONT). Returns (the
    freeze as measured in s, exit code, JSON or None, stdout, stderr)."""
    worker = nginx.worker_pid()
    size0 = nginx.access_log_size()
    s = Salvo(args)
    deadline = time.monotonic() + 5.0
    while nginx.access_log_size() == size0 and time.monotonic() < deadline and s.proc.poll() is None:
        time.sleep(0.002)
    check(nginx.access_log_size() > size0,
          "nginx served nothing within 5 s of starting salvo (salvo rc %s)" % s.proc.poll())
    t_first = time.monotonic()
    time.sleep(max(0.0, t_first + freeze_at_s - time.monotonic()))
    check(s.proc.poll() is None, "salvo exited before the freeze (rc %s)" % s.proc.returncode)
    os.kill(worker, signal.SIGSTOP)
    t_stop = time.monotonic()
    try:
        time.sleep(freeze_s)
    finally:
        os.kill(worker, signal.SIGCONT)
        t_cont = time.monotonic()
    frozen = t_cont - t_stop
    log("  froze worker %d at %.3f s for %.3f s after the first request" % (worker, t_stop - t_first, frozen))
    rc, data, out, err = s.finish(timeout=timeout)
    return (frozen, rc, data, out, err)


# ---------------------------------------------------------------- assertions


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def excerpt(data, *keys):
    """A short JSON excerpt of the named top-level keys, for failure messages."""
    if data is None:
        return "<no JSON>"
    return json.dumps({k: data.get(k) for k in keys}, sort_keys=True)


def outcome_counts(data):
    req = data["requests"]
    return {k: req[k] for k in ("scheduled",) + OUTCOMES}


def check_counts_add_up(data):
    """scheduled = ok + http_error + failed + timeout + unsent, all >= 0."""
    check(data is not None, "no results JSON was written")
    c = outcome_counts(data)
    check(all(isinstance(v, int) and v >= 0 for v in c.values()),
          "request counts must be non-negative integers: %s" % c)
    total = sum(c[k] for k in OUTCOMES)
    check(c["scheduled"] == total,
          "counts do not add up: scheduled=%d but ok+http_error+failed+timeout+unsent=%d (%s)"
          % (c["scheduled"], total, c))
    return c


def _error_kinds():
    """The keys salvo may write in the results JSON "errors" map, read from
    the X-macro in src/core/errors.h so a test cannot name a kind that does
    not exist."""
    import re
    with open(os.path.join(REPO_ROOT, "src", "core", "errors.h")) as f:
        kinds = re.findall(r'X\(\w+, "(\w+)"\)', f.read())
    if not kinds:
        raise RuntimeError("no error kinds found in src/core/errors.h")
    return frozenset(kinds)


ERROR_KINDS = _error_kinds()


def check_errors_named(data, allowed, total=None):
    """The "errors" map is not empty, names only real kinds, only kinds in
    allowed, and (given total) its counts sum to total."""
    errs = data["errors"]
    bogus = set(allowed) - ERROR_KINDS
    check(not bogus, "the test expects error kinds salvo does not have: %s" % sorted(bogus))
    check(errs, "no error named: %s" % excerpt(data, "requests", "errors"))
    check(set(errs) <= ERROR_KINDS, "unknown error kinds %s" % sorted(set(errs) - ERROR_KINDS))
    check(set(errs) <= set(allowed), "errors %s, want only %s" % (errs, sorted(allowed)))
    if total is not None:
        check(sum(errs.values()) == total, "errors %s do not sum to %d" % (errs, total))
    return errs


def within(value, truth, rel):
    return abs(value - truth) <= rel * abs(truth)


# ---------------------------------------------------------------- runner

_tests = []
_all_names = []


class Skip(Exception):
    """Raised by skip(): the test could not run here, it neither passed nor failed."""


def skip(reason):
    """Ends the current test as skipped (counted apart, never as a pass).

    Only for what this machine cannot give: network namespaces without
    CAP_NET_ADMIN. A tool that scripts/install-deps.sh installs (nginx, wrk,
    clang, chromium, node/npm, promtool, ...) is never a reason: missing, it is a
    failure (use require_tool())."""
    raise Skip(reason)


def require_tool(path_or_name, hint="scripts/install-deps.sh installs it"):
    """Returns the full path of an installed tool, or fails the test naming it."""
    if os.path.isabs(path_or_name):
        found = path_or_name if os.access(path_or_name, os.X_OK) else None
    else:
        found = shutil.which(path_or_name)
    check(found, "'%s' not found: %s" % (path_or_name, hint))
    return found


def can_unshare_net():
    """True if this process may create a network namespace (CAP_NET_ADMIN)."""
    require_tool("unshare", "util-linux provides it")
    try:
        r = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10)
    except subprocess.TimeoutExpired:
        return False
    return r.returncode == 0


def test(fn):
    """Registers a test function (runs in definition order).

    SALVO_E2E_ONLY=name[,name…] keeps only the tests whose names contain one
    of those words (for working on one test; CI never sets it)."""
    _all_names.append(fn.__name__)
    if _selected(fn.__name__):
        _tests.append(fn)
    return fn


def _only_words():
    return [w for w in os.environ.get("SALVO_E2E_ONLY", "").split(",") if w]


def _selected(name):
    only = _only_words()
    return not only or any(w in name for w in only)


def cleanup_all():
    """Stops every process and removes every temp dir this module created."""
    for s in list(_live_salvo):
        try:
            s._cleanup()
        except Exception:
            pass
    for n in list(_live_nginx) + list(_live_chaos):
        try:
            n.stop()
        except Exception:
            pass
    for d in list(_temp_dirs):
        remove_temp_dir(d)


def _on_term(signum, frame):
    raise SystemExit(128 + signum)


atexit.register(cleanup_all)
signal.signal(signal.SIGTERM, _on_term)


def main(setup=None, teardown=None):
    """Runs the registered tests, prints cmocka-style totals and exits."""
    passed, failed, skipped = [], [], []
    started = time.monotonic()
    try:
        if setup:
            setup()
        for fn in _tests:
            t0 = time.monotonic()
            try:
                fn()
            except Skip as e:
                log("skip %s: %s" % (fn.__name__, e))
                skipped.append(fn.__name__)
            except Exception as e:
                reason = "%s: %s" % (type(e).__name__, e) if not isinstance(e, AssertionError) else str(e)
                log("FAIL %s: %s" % (fn.__name__, reason))
                if not isinstance(e, AssertionError):
                    traceback.print_exc(file=sys.stdout)
                failed.append(fn.__name__)
            else:
                log("ok %s (%.1f s)" % (fn.__name__, time.monotonic() - t0))
                passed.append(fn.__name__)
            finally:
                for s in list(_live_salvo):  # a failed test may leave one running
                    s._cleanup()
    except Skip as e:  # setup found the machine cannot run any of them
        log("skip setup: %s" % e)
        skipped += [fn.__name__ for fn in _tests if fn.__name__ not in passed + failed + skipped]
    except Exception as e:
        log("FAIL setup: %s" % e)
        failed += [fn.__name__ for fn in _tests if fn.__name__ not in passed + failed + skipped]
    finally:
        if teardown:
            try:
                teardown()
            except Exception as e:
                log("teardown error: %s" % e)
        cleanup_all()
    # A program that ran nothing proves nothing: no registered test, or a
    # SALVO_E2E_ONLY filter that matched none of them, is a failure.
    if not _all_names:
        log("FAIL %s: no test registered" % os.path.basename(sys.argv[0]))
        failed.append("<no test registered>")
    elif not _tests:
        log("FAIL SALVO_E2E_ONLY=%s matches none of: %s"
            % (os.environ.get("SALVO_E2E_ONLY", ""), ", ".join(_all_names)))
        failed.append("<SALVO_E2E_ONLY matched nothing>")
    run = len(passed) + len(failed) + len(skipped)
    log("[==========] %d test(s) run in %.1f s." % (run, time.monotonic() - started))
    log("[  PASSED  ] %d test(s)." % len(passed))
    if skipped:
        log("[  SKIPPED ] %d test(s), listed below:" % len(skipped))
        for name in skipped:
            log("  %s" % name)
    if failed:
        log("[  FAILED  ] %d test(s), listed below:" % len(failed))
        for name in failed:
            log("  %s" % name)
        sys.exit(1)
    sys.exit(0)
