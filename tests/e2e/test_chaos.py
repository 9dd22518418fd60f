"""test_chaos.py — `salvo chaos`, the fault proxy, measured with salvo itself.

A private nginx on 127.0.0.1 is the upstream; `salvo chaos` listens on a
free loopback port with its control API on another; `salvo run` drives load
through the proxy and the results JSON says what the toxics did:

- latency 100 ms adds 100 ms ± 10 % to p50;
- reset_peer yields counted connection errors;
- http_status 503 at toxicity 0.2 yields 20 % ± 3 % of 503s over >= 2000
  requests on keep-alive connections, with no failed request;
- bandwidth holds a download within ± 10 % of the rate;
- a toxic added and removed through the API while load runs takes effect
  and drops no connection; a disabled proxy refuses connections;
- after many proxied connections the proxy holds no more fds than before;
- the API speaks toxiproxy's paths, fields and status codes, and a real
  toxiproxy client from npm drives it (npm missing is a failure: install-deps
  installs it), including PATCH, toxicity 0 and packet_loss.

Python stdlib only. Every wait is bounded; only processes started here are
signalled, by PID.
"""

import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request

import harness as h
from harness import check, excerpt, test

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT_DIR = os.path.join(HERE, "chaos_client")

nginx = None
chaos = None


def setup():
    global nginx, chaos
    nginx = h.Nginx(access_log=False).start()
    chaos = h.Chaos(nginx.port, seed=7)


def add_toxic(body, proxy="salvo"):
    status, data = chaos.api("POST", "/proxies/%s/toxics" % proxy, body)
    check(status == 200, "adding toxic %s: %s %s" % (body, status, data))
    return data


def reset():
    status, _ = chaos.api("POST", "/reset")
    check(status == 204, "POST /reset answered %s" % status)


def run(url, rate, duration, *extra, timeout=60, want_rc=0):
    rc, data, out, err = h.run_salvo(["run", url, "-r", rate, "-d", duration, "--allow-invalid", "-q",
                                      "--progress", "off"] + list(extra), timeout=timeout)
    check(rc == want_rc and data is not None, "salvo run exited %s (want %s): %s" % (rc, want_rc, err.strip()[-400:]))
    return data


def total(data):
    return data["requests"]["scheduled"]


# ---------------------------------------------------------------- command line


@test
def test_usage_errors():
    cases = [
        (["--listen", ":0", "--upstream", ":1", "--toxic", "latency latency=abc"], "abc"),
        (["--listen", ":0", "--upstream", ":1", "--toxic", "lattency latency=1"], "lattency"),
        (["--listen", ":0", "--upstream", ":1", "--toxic", "http_status toxicity=2"], "toxicity"),
        (["--listen", ":0", "--upstream", ":1", "--toxic", "bandwidth rate=fast"], "fast"),
        (["--listen", "nohost", "--upstream", ":1"], "nohost"),
        (["--listen", ":0"], "--upstream"),
    ]
    for args, culprit in cases:
        r = subprocess.run([h.SALVO_BIN, "chaos", "--api", "off"] + args, capture_output=True, text=True, timeout=10)
        lines = r.stderr.strip().splitlines()
        check(r.returncode == 2, "%s: exit %s, want 2" % (args, r.returncode))
        check(len(lines) == 1 and lines[0].startswith("salvo: ") and culprit in lines[0],
              "%s: stderr %r should be one 'salvo: ...' line naming %r" % (args, r.stderr, culprit))


# ---------------------------------------------------------------- toxics measured


@test
def test_passthrough_and_latency():
    reset()
    base = run(chaos.url, 200, "3s")
    check(base["requests"]["ok"] == total(base) and total(base) >= 590,
          "without toxics every request should pass: %s" % excerpt(base, "requests", "errors"))
    add_toxic({"type": "latency", "attributes": {"latency": 100, "jitter": 0}})
    slow = run(chaos.url, 200, "3s")
    check(slow["requests"]["ok"] == total(slow), "latency must not fail requests: %s" % excerpt(slow, "requests", "errors"))
    added_ms = (slow["latency_us"]["p50"] - base["latency_us"]["p50"]) / 1000.0
    h.log("  p50 %.2f ms -> %.2f ms: +%.1f ms" % (base["latency_us"]["p50"] / 1000, slow["latency_us"]["p50"] / 1000, added_ms))
    check(90 <= added_ms <= 110, "latency 100 ms added %.1f ms to p50, want 100 ± 10 %%" % added_ms)
    reset()


@test
def test_http_status_share():
    reset()
    add_toxic({"type": "http_status", "toxicity": 0.2, "attributes": {"status": 503}})
    data = run(chaos.url, 1000, "3s")
    n = total(data)
    got = data["status"].get("503", 0)
    share = got / float(n)
    h.log("  %d of %d requests answered 503: %.1f %%, failed %d" % (got, n, 100 * share, data["requests"]["failed"]))
    check(n >= 2000, "want >= 2000 requests, got %d" % n)
    check(abs(share - 0.2) <= 0.03, "503 share %.3f, want 0.20 ± 0.03 (%s)" % (share, excerpt(data, "status", "requests")))
    check(data["requests"]["failed"] == 0 and data["requests"]["timeout"] == 0,
          "injected 503s must keep connections usable: %s" % excerpt(data, "requests", "errors", "pool"))
    check(data["pool"]["opened"] < n / 10, "keep-alive should be preserved: %s" % excerpt(data, "pool"))
    reset()


@test
def test_deep_pipeline_keeps_every_answer():
    """More pipelined requests than the exchange tracks (1024): it waits, never drops an owed 503."""
    reset()
    add_toxic({"type": "http_status", "toxicity": 0.5, "attributes": {"status": 503}})
    n, req = 3000, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    sock = socket.create_connection(("127.0.0.1", chaos.port), timeout=5)
    sender = threading.Thread(target=lambda: sock.sendall(req * n), daemon=True)
    sender.start()
    got, deadline = b"", time.monotonic() + 15
    try:
        while got.count(b"HTTP/1.1 ") < n and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        pass
    finally:
        sock.close()
        sender.join(5)
    answers, injected = got.count(b"HTTP/1.1 "), got.count(b"HTTP/1.1 503")
    h.log("  %d pipelined requests: %d answers, %d injected 503s" % (n, answers, injected))
    check(answers == n, "every pipelined request needs an answer: %d of %d" % (answers, n))
    check(abs(injected / float(n) - 0.5) <= 0.05, "503 share %d/%d, want 0.5 ± 0.05" % (injected, n))
    reset()


@test
def test_reset_peer_counts_connection_errors():
    reset()
    add_toxic({"type": "reset_peer", "attributes": {"timeout": 0}})
    # Every request reset: the run got no response at all, an ERROR (exit 1) naming the cause.
    data = run(chaos.url, 100, "2s", want_rc=1)
    check("conn_reset" in (data.get("runtime_error") or ""), "runtime_error should name the resets: %r"
          % data.get("runtime_error"))
    n, failed = total(data), data["requests"]["failed"]
    h.log("  %d of %d requests failed: %s" % (failed, n, data["errors"]))
    check(failed >= 0.9 * n, "reset_peer should fail (nearly) every request: %s" % excerpt(data, "requests", "errors"))
    check(sum(data["errors"].values()) >= failed and data["errors"].get("conn_reset", 0) > 0,
          "resets should be counted as conn_reset: %s" % excerpt(data, "errors"))
    reset()


@test
def test_bandwidth_within_ten_percent():
    reset()
    size = 400000
    with open(os.path.join(nginx.dir, "static.txt"), "w") as f:
        f.write("x" * size)
    add_toxic({"type": "bandwidth", "attributes": {"rate": 400}})  # 400 KB/s: one second for the file
    t0 = time.monotonic()
    with urllib.request.urlopen(chaos.url + "static.txt", timeout=10) as r:
        body = r.read()
    took = time.monotonic() - t0
    reset()
    check(len(body) == size, "got %d bytes, want %d" % (len(body), size))
    rate = len(body) / took / 1000.0
    h.log("  %d bytes in %.3f s: %.0f KB/s at a cap of 400 KB/s" % (len(body), took, rate))
    check(abs(rate - 400) <= 40, "bandwidth %.0f KB/s, want 400 ± 10 %%" % rate)


@test
def test_shared_bandwidth_within_ten_percent():
    """bandwidth_shared: three concurrent downloads together stay within ± 10 % of one cap."""
    reset()
    size, conns = 200000, 3
    with open(os.path.join(nginx.dir, "static.txt"), "w") as f:  # the harness serves only this file
        f.write("y" * size)
    add_toxic({"type": "bandwidth_shared", "attributes": {"rate": 300}})  # 600 kB at 300 KB/s: two seconds
    sizes, errors = [0] * conns, []

    def fetch(i):
        try:
            with urllib.request.urlopen(chaos.url + "static.txt", timeout=15) as r:
                sizes[i] = len(r.read())
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(conns)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    took = time.monotonic() - t0
    reset()
    check(not errors and sizes == [size] * conns, "shared downloads: sizes %s, errors %s" % (sizes, errors))
    rate = sum(sizes) / took / 1000.0
    h.log("  %d connections, %d bytes in %.3f s: %.0f KB/s together at a shared cap of 300 KB/s"
          % (conns, sum(sizes), took, rate))
    check(abs(rate - 300) <= 30, "shared bandwidth %.0f KB/s, want 300 ± 10 %%" % rate)


def raw_exchange(port, request, wait=2.0):
    """Sends request on a fresh connection and reads until close or `wait` s: (bytes, how it ended)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    s.sendall(request)
    got, how, deadline = b"", "timeout", time.monotonic() + wait
    try:
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                how = "eof"
                break
            got += chunk
    except ConnectionResetError:
        how = "reset"
    except socket.timeout:
        how = "timeout"
    finally:
        s.close()
    return got, how


GET = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
KEEP_ALIVE_GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


@test
def test_byte_toxics():
    """timeout, limit_data, slow_close, slicer, http_cut, http_latency and handshake, one by one."""
    reset()
    add_toxic({"type": "timeout", "attributes": {"timeout": 300}})
    t0 = time.monotonic()
    got, how = raw_exchange(chaos.port, KEEP_ALIVE_GET)  # nginx keeps it open: only the toxic closes it
    took = time.monotonic() - t0
    check(got == b"" and how == "eof" and 0.25 < took < 1.0, "timeout 300: got %r, %s after %.2f s" % (got, how, took))
    reset()
    add_toxic({"type": "limit_data", "attributes": {"bytes": 20}})
    got, how = raw_exchange(chaos.port, GET)
    check(len(got) == 20 and how == "eof", "limit_data 20: got %d bytes, %s" % (len(got), how))
    reset()
    add_toxic({"type": "slow_close", "attributes": {"delay": 400}})
    t0 = time.monotonic()
    got, how = raw_exchange(chaos.port, GET)
    took = time.monotonic() - t0
    check(got.endswith(b"hello\n") and how == "eof" and took >= 0.35, "slow_close: %s after %.2f s" % (how, took))
    reset()
    add_toxic({"type": "slicer", "attributes": {"average_size": 8, "size_variation": 4, "delay": 2000}})
    got, how = raw_exchange(chaos.port, GET)
    check(got.startswith(b"HTTP/1.1 200") and got.endswith(b"hello\n"), "slicer must deliver every byte: %r" % got)
    reset()
    add_toxic({"type": "http_cut", "attributes": {"bytes": 2}})
    got, how = raw_exchange(chaos.port, GET)
    check(got.endswith(b"\r\n\r\nhe") and how == "eof", "http_cut 2: got %r (%s)" % (got[-20:], how))
    reset()
    add_toxic({"type": "http_latency", "attributes": {"latency": 300}})
    t0 = time.monotonic()
    got, how = raw_exchange(chaos.port, GET)
    took = time.monotonic() - t0
    check(got.endswith(b"hello\n") and 0.28 < took < 1.0, "http_latency 300: %.2f s" % took)
    reset()
    add_toxic({"type": "handshake", "attributes": {"delay": 300}})
    t0 = time.monotonic()
    got, how = raw_exchange(chaos.port, GET)
    took = time.monotonic() - t0
    check(got.endswith(b"hello\n") and 0.28 < took < 1.0, "handshake 300: %.2f s" % took)
    reset()


def timed_exchange_with(request, at, action):
    """raw_exchange on a fresh connection while action() runs `at` s in: (bytes, how, seconds)."""
    timer = threading.Timer(at, action)
    t0 = time.monotonic()
    timer.start()
    try:
        got, how = raw_exchange(chaos.port, request, wait=4.0)
    finally:
        timer.join(5)
    return got, how, time.monotonic() - t0


@test
def test_reset_peer_beats_a_clean_close():
    """reset_peer: the client gets a reset even when the server closes first (toxiproxy's behaviour)."""
    reset()
    add_toxic({"type": "reset_peer", "attributes": {"timeout": 200}})
    t0 = time.monotonic()
    got, how = raw_exchange(chaos.port, GET)  # Connection: close: nginx sends its FIN at once
    took = time.monotonic() - t0
    check(how == "reset" and got == b"" and 0.15 < took < 1.5,
          "reset_peer 200 with a server close: got %r, %s after %.2f s" % (got[:40], how, took))
    reset()


@test
def test_toxic_changes_reach_open_connections():
    """A held handshake follows its toxic's removal; an updated timeout counts from the update."""
    reset()
    add_toxic({"type": "handshake", "attributes": {"delay": 3000}})
    got, how, took = timed_exchange_with(GET, 0.3, reset)
    check(got.endswith(b"hello\n") and took < 1.5,
          "handshake removed after 0.3 s: the waiting connection should start then, took %.2f s (%s)" % (took, how))
    reset()
    toxic = add_toxic({"type": "timeout", "attributes": {"timeout": 0}})

    def shorten():
        status, data = chaos.api("POST", "/proxies/salvo/toxics/%s" % toxic["name"], {"attributes": {"timeout": 500}})
        check(status == 200, "updating the timeout toxic: %s %s" % (status, data))

    got, how, took = timed_exchange_with(KEEP_ALIVE_GET, 0.8, shorten)
    check(got == b"" and how == "eof" and 1.2 < took < 2.5,
          "timeout 0 updated to 500 ms at 0.8 s should close near 1.3 s, closed after %.2f s (%s)" % (took, how))
    reset()


# ---------------------------------------------------------------- the API under load


@test
def test_toxic_changed_under_load():
    reset()
    load = h.Salvo(["run", chaos.url, "-r", 200, "-d", "4s", "--allow-invalid", "-q", "--progress", "off"])
    time.sleep(1.0)
    add_toxic({"name": "spike", "type": "latency", "attributes": {"latency": 200}})
    add_toxic({"name": "unrelated", "type": "bandwidth", "stream": "upstream", "toxicity": 0.0,
               "attributes": {"rate": 1}})
    time.sleep(1.0)
    status, _ = chaos.api("DELETE", "/proxies/salvo/toxics/spike")
    check(status == 204, "DELETE toxic answered %s" % status)
    rc, data, out, err = load.finish(30)
    reset()
    check(rc == 0 and data is not None, "salvo run exited %s: %s" % (rc, err[-300:]))
    lat = data["latency_us"]
    h.log("  p50 %.1f ms, max %.1f ms, %s" % (lat["p50"] / 1000, lat["max"] / 1000, data["requests"]))
    check(data["requests"]["ok"] == total(data), "no request may fail while toxics change: %s"
          % excerpt(data, "requests", "errors"))
    check(lat["max"] >= 190000, "the latency toxic should have slowed some requests: max %d us" % lat["max"])
    check(lat["p50"] < 100000, "most requests ran without the toxic: p50 %d us" % lat["p50"])


@test
def test_disabled_proxy_refuses():
    status, p = chaos.api("POST", "/proxies/salvo", {"enabled": False})
    check(status == 200 and p["enabled"] is False, "disable: %s %s" % (status, p))
    try:
        socket.create_connection(("127.0.0.1", chaos.port), timeout=2).close()
        refused = False
    except ConnectionRefusedError:
        refused = True
    status, p = chaos.api("PATCH", "/proxies/salvo", {"enabled": True})
    check(refused, "a disabled proxy must refuse connections")
    check(status == 200 and p["enabled"] is True, "enable: %s %s" % (status, p))
    with urllib.request.urlopen(chaos.url, timeout=5) as r:
        check(r.status == 200, "enabled again, the proxy should pass requests")


@test
def test_api_contract():
    status, v = chaos.api("GET", "/version")
    check(status == 200 and "version" in v, "GET /version: %s %s" % (status, v))
    status, p = chaos.api("POST", "/proxies", {"name": "second", "listen": "127.0.0.1:0",
                                               "upstream": "127.0.0.1:%d" % nginx.port})
    check(status == 201 and p["enabled"] and not p["listen"].endswith(":0"), "create: %s %s" % (status, p))
    port = int(p["listen"].rsplit(":", 1)[1])
    with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5) as r:
        check(r.read() == b"hello\n", "the new proxy should pass requests")
    status, e = chaos.api("POST", "/proxies", {"name": "second", "upstream": "127.0.0.1:1"})
    check(status == 409 and e["status"] == 409 and "error" in e, "duplicate proxy: %s %s" % (status, e))
    status, e = chaos.api("POST", "/proxies", {"name": "third"})
    check(status == 400 and "upstream" in e["error"], "missing upstream: %s %s" % (status, e))
    status, all_ = chaos.api("GET", "/proxies")
    check(status == 200 and set(all_) >= {"salvo", "second"}, "GET /proxies: %s" % all_)
    t = add_toxic({"type": "latency", "stream": "upstream", "attributes": {"latency": 5}}, proxy="second")
    check(t == {"name": "latency_upstream", "type": "latency", "stream": "upstream", "toxicity": 1.0,
                "attributes": {"latency": 5, "jitter": 0}}, "toxic JSON: %s" % t)
    status, e = chaos.api("POST", "/proxies/second/toxics", {"type": "latency", "stream": "upstream"})
    check(status == 409, "duplicate toxic: %s %s" % (status, e))
    status, e = chaos.api("POST", "/proxies/second/toxics", {"type": "warp"})
    check(status == 400, "bad toxic type: %s %s" % (status, e))
    status, t = chaos.api("POST", "/proxies/second/toxics/latency_upstream", {"toxicity": 0.5,
                                                                             "attributes": {"latency": 7}})
    check(status == 200 and t["toxicity"] == 0.5 and t["attributes"]["latency"] == 7, "update toxic: %s" % t)
    status, ts = chaos.api("GET", "/proxies/second/toxics")
    check(status == 200 and [x["name"] for x in ts] == ["latency_upstream"], "GET toxics: %s" % ts)
    status, _ = chaos.api("DELETE", "/proxies/second/toxics/latency_upstream")
    check(status == 204, "DELETE toxic: %s" % status)
    status, e = chaos.api("GET", "/proxies/second/toxics/latency_upstream")
    check(status == 404 and e["error"] == "toxic not found", "deleted toxic: %s %s" % (status, e))
    status, _ = chaos.api("DELETE", "/proxies/second")
    check(status == 204, "DELETE proxy: %s" % status)
    status, e = chaos.api("GET", "/proxies/second")
    check(status == 404 and e["error"] == "proxy not found", "deleted proxy: %s %s" % (status, e))
    status, pop = chaos.api("POST", "/populate", [{"name": "pop", "listen": "127.0.0.1:0",
                                                   "upstream": "127.0.0.1:%d" % nginx.port}])
    check(status == 201 and pop["proxies"][0]["name"] == "pop", "populate: %s %s" % (status, pop))
    chaos.api("DELETE", "/proxies/pop")
    status, e = chaos.api("POST", "/proxies", {"name": "nowhere", "listen": "127.0.0.1:0",
                                               "upstream": "nosuchhost.invalid:80"})
    check(status == 400 and "does not resolve" in e.get("error", ""),
          "an upstream that does not resolve is a bad request, not a missing proxy: %s %s" % (status, e))


def keepalive_get(sock):
    """One GET on an open keep-alive socket through a proxy; returns the status line."""
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"hello\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0]


@test
def test_update_is_all_or_nothing():
    """A proxy update that fails changes nothing: not the listener, not the upstream, not the connections."""
    up = "127.0.0.1:%d" % nginx.port
    status, p = chaos.api("POST", "/proxies", {"name": "atomic", "listen": "127.0.0.1:0", "upstream": up})
    check(status == 201, "create: %s %s" % (status, p))
    listen = p["listen"]
    port = int(listen.rsplit(":", 1)[1])
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    busy = "127.0.0.1:%d" % taken.getsockname()[1]
    try:
        conn = socket.create_connection(("127.0.0.1", port), timeout=3)
        check(keepalive_get(conn) == b"HTTP/1.1 200 OK", "a keep-alive request through the new proxy")
        # A listen change onto a taken port fails, and the open connection must still be served.
        status, e = chaos.api("POST", "/proxies/atomic", {"listen": busy, "upstream": "127.0.0.1:1"})
        check(status >= 400, "moving onto a taken port must fail: %s %s" % (status, e))
        status, q = chaos.api("GET", "/proxies/atomic")
        check(q["listen"] == listen and q["upstream"] == up and q["enabled"], "a failed update changed %s" % q)
        check(keepalive_get(conn) == b"HTTP/1.1 200 OK", "a failed listen change closed the open connection")
        conn.close()
        # A bad value in one field leaves the valid other fields unapplied.
        status, e = chaos.api("PATCH", "/proxies/atomic", {"upstream": "127.0.0.1:1", "enabled": "maybe"})
        check(status == 400, "enabled must be a boolean: %s %s" % (status, e))
        status, e = chaos.api("PATCH", "/proxies/atomic", {"upstream": "127.0.0.1:1", "listen": 7})
        check(status == 400, "listen must be a string: %s %s" % (status, e))
        status, q = chaos.api("GET", "/proxies/atomic")
        check(q["upstream"] == up, "a rejected update applied its upstream: %s" % q)
        # Enabling fails when the port was taken meanwhile: the upstream and listen sent with it stay unapplied.
        status, q = chaos.api("POST", "/proxies/atomic", {"enabled": False})
        check(status == 200 and not q["enabled"], "disable: %s %s" % (status, q))
        status, e = chaos.api("POST", "/proxies/atomic", {"enabled": True, "listen": busy,
                                                          "upstream": "127.0.0.1:1"})
        check(status >= 400, "enabling onto a taken port must fail: %s %s" % (status, e))
        status, q = chaos.api("GET", "/proxies/atomic")
        check(q == dict(q, listen=listen, upstream=up, enabled=False), "a failed enable changed %s" % q)
    finally:
        taken.close()
        chaos.api("DELETE", "/proxies/atomic")


# ---------------------------------------------------------------- leaks


@test
def test_no_fd_leak():
    reset()
    time.sleep(0.2)
    before = chaos.fd_count()
    # The figure: 100 000 connections (25 s at 4000/s); SALVO_CHAOS_FD_CONNS changes it.
    conns = int(os.environ.get("SALVO_CHAOS_FD_CONNS", "100000"))
    rate = min(4000, max(1000, conns // 5))
    data = run(chaos.url, rate, "%gs" % (conns / float(rate)), "--no-keepalive", timeout=120)
    check(data["requests"]["ok"] >= 0.99 * total(data), "plain proxying should not fail: %s"
          % excerpt(data, "requests", "errors"))
    add_toxic({"type": "reset_peer", "toxicity": 0.3, "attributes": {"timeout": 0}})
    add_toxic({"type": "http_status", "toxicity": 0.3})
    run(chaos.url, 1000, "2s", "--no-keepalive")
    reset()
    after, deadline = chaos.fd_count(), time.monotonic() + 10
    while after > before and time.monotonic() < deadline:  # the last closes are in flight
        time.sleep(0.1)
        after = chaos.fd_count()
    h.log("  %d connections proxied; fds %d before, %d after" % (total(data) + 2000, before, after))
    check(after <= before, "fd leak: %d fds before, %d after" % (before, after))


# ---------------------------------------------------------------- a real toxiproxy client


def node_client():
    """npm and node (install-deps installs them): missing, the test fails, it is never skipped."""
    npm, node = shutil.which("npm"), shutil.which("node")
    check(npm and node, "npm or node not found: scripts/install-deps.sh installs them")
    major = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    check(major.startswith("v") and int(major[1:].split(".")[0]) >= 18, "node %s is older than 18 (no fetch)" % major)
    if not os.path.isdir(os.path.join(CLIENT_DIR, "node_modules", "toxiproxy-node-client")):
        r = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=CLIENT_DIR,
                           capture_output=True, text=True, timeout=300)
        check(r.returncode == 0, "npm install failed: %s" % r.stderr.strip()[-400:])
    return node


@test
def test_npm_toxiproxy_client():
    node = node_client()
    r = subprocess.run([node, "client.js", "http://127.0.0.1:%d" % chaos.api_port, "127.0.0.1:%d" % nginx.port],
                       cwd=CLIENT_DIR, capture_output=True, text=True, timeout=60)
    h.log("  " + r.stdout.strip().replace("\n", "\n  "))
    check(r.returncode == 0, "the toxiproxy client failed: %s" % (r.stderr.strip()[-600:] or r.stdout[-600:]))


@test
def test_npm_toxiproxy_parity():
    """PATCH updates (a bad one changes nothing), toxicity 0 is inert, packet_loss drops its share."""
    node = node_client()
    r = subprocess.run([node, "parity.js", "http://127.0.0.1:%d" % chaos.api_port],
                       cwd=CLIENT_DIR, capture_output=True, text=True, timeout=90)
    h.log("  " + r.stdout.strip().replace("\n", "\n  "))
    check(r.returncode == 0, "the toxiproxy parity checks failed: %s" % (r.stderr.strip()[-600:] or r.stdout[-600:]))


@test
def test_clean_exit():
    """SIGTERM ends the proxy with exit 0, and a sanitizer build reports nothing."""
    rc, err = chaos.stop()
    check(rc == 0, "salvo chaos exited %s on SIGTERM: %s" % (rc, err[-600:]))
    check("Sanitizer" not in err and "runtime error" not in err, "sanitizer report: %s" % err[-2000:])


if __name__ == "__main__":
    h.main(setup)
