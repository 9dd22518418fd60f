"""test_hostile_peers.py — salvo's load generator against misbehaving servers.

A small hostile server in Python (threads, 127.0.0.1 only, started and
stopped here) answers every request in one bad way per case: garbage, a
bad status line, 200 KB of headers, bad chunk sizes, overflowing, negative
and conflicting Content-Length, a close mid-body, a reset (SO_LINGER 0), a
3-byte body dripped a byte every 50 ms, a hang, close-delimited bodies,
HTTP/1.0; and over TLS (a self-signed certificate made by the openssl CLI):
a handshake that stalls, garbage records, a certificate that does not
verify, with and without -k.

Each case is one short salvo run (20/s for 1 s, --timeout 1 s: at most 5 s
with the drain) and asserts that the outcomes add up (scheduled = ok +
http_error + failed + timeout + unsent), which outcome the case maps to,
and that every failure is named in the JSON "errors" map with the kind the
case expects (keys checked against src/core/errors.h).

Python stdlib only; every wait is bounded; no process but salvo is started
(openssl once, for the certificate).
"""

import os
import socket
import ssl
import struct
import subprocess
import threading
import time

import harness as h
from harness import check, check_counts_add_up, excerpt, test

RATE, DURATION = 20, 1.0
SCHEDULED = int(RATE * DURATION)


def read_head(conn):
    """Reads one request head; False at EOF or error."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        try:
            chunk = conn.recv(4096)
        except OSError:
            return False
        if not chunk:
            return False
        buf += chunk
        if len(buf) > 65536:
            return False
    return True


def reset(conn):
    """Makes the close send an RST instead of a FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


# One function per misbehaviour: called with the accepted (maybe TLS) socket
# after a request head arrived; returns True to read the next request on the
# same connection, False to close it.
def answer_bytes(data, keep=False):
    def handler(conn, stop):
        conn.sendall(data)
        return keep
    return handler


def answer_close_mid_body(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
    return False


def answer_reset(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
    reset(conn)
    return False


def answer_drip(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n")
    for b in b"abc":
        time.sleep(0.05)
        conn.sendall(bytes([b]))
    return True


def answer_hang(conn, stop):
    stop.wait(8)  # never answers; the test ends first
    return False


HEAD_200K = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Pad-%05d: %s\r\n" % (i, b"p" * 190) for i in range(1000)) + \
    b"Content-Length: 2\r\n\r\nok"


class HostileServer(h.LoopbackServer):
    """Accepts on 127.0.0.1 and hands each connection to handler (threads, bounded).

    mode "http": read a request head, call handler, repeat while it returns True.
    tls_ctx: wrap accepted sockets in TLS first (handshake in the thread).
    raw: handler(conn, stop) gets the plain socket before any read (TLS cases).
    """

    def __init__(self, handler, tls_ctx=None, raw=None):
        self.handler, self.tls_ctx, self.raw = handler, tls_ctx, raw
        self.stop_ev = threading.Event()
        self.conns = []
        super().__init__(backlog=256)

    def admit(self, conn):
        if len(self.conns) > 400:  # bounded: salvo opens at most a few dozen here
            conn.close()
            return False
        self.conns.append(conn)
        return True

    def handle(self, conn):
        try:
            conn.settimeout(6)
            if self.raw:
                self.raw(conn, self.stop_ev)
                return
            if self.tls_ctx:
                conn = self.tls_ctx.wrap_socket(conn, server_side=True)
            for _ in range(1000):
                if self.stop_ev.is_set() or not read_head(conn):
                    return
                if not self.handler(conn, self.stop_ev):
                    return
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def stop(self):
        self.stop_ev.set()
        super().stop()
        with self.lock:
            for c in self.conns:
                try:
                    c.close()
                except OSError:
                    pass


def run_against(server, scheme="http", extra=()):
    url = "%s://127.0.0.1:%d/" % (scheme, server.port)
    try:
        t0 = time.monotonic()
        rc, data, out, err = h.run_salvo(["run", url, "-r", str(RATE), "-d", "%gs" % DURATION, "-t", "1",
                                          "--timeout", "1s", "-q", "--allow-invalid", "--progress", "off"]
                                         + list(extra), timeout=15)
        took = time.monotonic() - t0
    finally:
        server.stop()
    check(data is not None, "no JSON (rc %d): %s" % (rc, err.strip()[-400:]))
    check(rc in (0, 1, 98), "salvo exited %d: %s" % (rc, err.strip()[-400:]))
    c = check_counts_add_up(data)
    h.log("  rc %d in %.1f s: %s errors %s" % (rc, took, {k: v for k, v in c.items() if v}, data["errors"]))
    check(took < 5.5, "a case must end within 5 s, took %.1f s" % took)
    check(c["scheduled"] >= SCHEDULED - 1, "20/s for 1 s should schedule %d: %s" % (SCHEDULED, c))
    return c, data


def expect_failed(c, data, kinds):
    """Every request failed, and each failure is named with one of kinds."""
    check(c["failed"] == c["scheduled"], "every request must fail: %s" % excerpt(data, "requests", "errors"))
    h.check_errors_named(data, kinds, total=c["failed"])


def expect_ok(c, data):
    check(c["ok"] == c["scheduled"], "every request must be ok: %s" % excerpt(data, "requests", "errors"))
    check(data["errors"] == {}, "no error expected: %s" % data["errors"])


# ---------------------------------------------------------------- plain HTTP

BAD_RESPONSES = [
    ("garbage", b"\x00\x01garbage that is not HTTP at all\r\n\r\n"),
    ("bad_status_line", b"HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok"),
    ("status_line_no_version", b"ICY 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ("headers_200kb", HEAD_200K),
    ("bad_chunk_size", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"),
    ("chunk_size_overflow", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            b"ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"),
    ("content_length_overflow", b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\nok"),
    ("content_length_negative", b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nok"),
    ("content_length_duplicate_conflict", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!"),
]


def make_bad_response_test(name, data):
    def fn():
        c, d = run_against(HostileServer(answer_bytes(data)))
        expect_failed(c, d, {"bad_response"})
    fn.__name__ = "bad_response_" + name
    test(fn)


for _name, _data in BAD_RESPONSES:
    make_bad_response_test(_name, _data)


@test
def close_mid_body_is_eof():
    c, d = run_against(HostileServer(answer_close_mid_body))
    expect_failed(c, d, {"eof"})


@test
def reset_mid_body_is_conn_reset():
    c, d = run_against(HostileServer(answer_reset))
    expect_failed(c, d, {"conn_reset"})


@test
def dripped_body_is_ok_and_slow():
    c, d = run_against(HostileServer(answer_drip))
    expect_ok(c, d)
    check(d["latency_us"]["min"] >= 140000, "3 bytes 50 ms apart take >= 150 ms: min %d us" % d["latency_us"]["min"])


@test
def hang_is_timeout():
    c, d = run_against(HostileServer(answer_hang))
    check(c["timeout"] == c["scheduled"], "every request must time out: %s" % excerpt(d, "requests", "errors"))
    h.check_errors_named(d, {"timeout"}, total=c["timeout"])


@test
def close_delimited_body_is_ok():
    c, d = run_against(HostileServer(answer_bytes(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody to EOF\n")))
    expect_ok(c, d)


@test
def http10_closing_is_ok():
    c, d = run_against(HostileServer(answer_bytes(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")))
    expect_ok(c, d)


@test
def http10_close_delimited_is_ok():
    c, d = run_against(HostileServer(answer_bytes(b"HTTP/1.0 200 OK\r\n\r\nbody to EOF")))
    expect_ok(c, d)


@test
def duplicate_equal_content_length_is_ok():
    """RFC 9112 6.3: identical repeated values may be taken as one."""
    c, d = run_against(HostileServer(answer_bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
                                                  keep=True)))
    expect_ok(c, d)


# ---------------------------------------------------------------- TLS

_cert = {}


def cert_files():
    """A self-signed certificate for 127.0.0.1, made once with the openssl CLI."""
    if not _cert:
        h.require_tool("openssl")
        d = h.make_temp_dir("salvo-e2e-hostile-tls-")
        crt, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                            "-days", "2", "-subj", "/CN=127.0.0.1",
                            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "openssl req failed: %s" % r.stderr.strip())
        _cert.update(crt=crt, key=key)
    return _cert["crt"], _cert["key"]


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*cert_files())
    return ctx


def stall_handshake(conn, stop):
    """Reads the ClientHello and never answers."""
    try:
        conn.recv(4096)
    except OSError:
        return
    stop.wait(8)


def garbage_records(conn, stop):
    """Answers the ClientHello with bytes that are no TLS record."""
    try:
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 400 this is not TLS\r\n\r\n" + b"\x17\x03\x03\xff\xff" + b"\xab" * 200)
    except OSError:
        pass


def garbage_after_handshake(ctx):
    """A good handshake, then an application record that does not decrypt."""
    def raw_handler(conn, stop):
        try:
            tconn = ctx.wrap_socket(conn, server_side=True)
            read_head(tconn)
            # Bytes written past the TLS layer, on the same socket.
            raw = socket.socket(fileno=os.dup(tconn.fileno()))
            raw.sendall(b"\x17\x03\x03\x00\x20" + b"\x5a" * 32)
            raw.close()
            stop.wait(2)
        except (OSError, ssl.SSLError):
            pass
    return raw_handler


@test
def tls_stalled_handshake_is_timeout():
    c, d = run_against(HostileServer(None, raw=stall_handshake), "https", ["-k"])
    check(c["ok"] == 0, "nothing can be ok: %s" % c)
    check(c["timeout"] + c["failed"] == c["scheduled"], "stalled handshakes end as timeouts: %s" % c)
    h.check_errors_named(d, {"timeout", "connect_timeout"}, total=c["timeout"] + c["failed"])
    check(c["timeout"] > 0, "a handshake that never finishes is a timeout: %s" % excerpt(d, "requests", "errors"))


@test
def tls_garbage_records_are_tls_error():
    c, d = run_against(HostileServer(None, raw=garbage_records), "https", ["-k"])
    expect_failed(c, d, {"tls_error"})


@test
def tls_garbage_after_handshake_is_tls_error():
    c, d = run_against(HostileServer(None, raw=garbage_after_handshake(tls_context())), "https", ["-k"])
    expect_failed(c, d, {"tls_error"})


@test
def tls_bad_certificate_fails_verification():
    c, d = run_against(HostileServer(answer_bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", keep=True),
                                     tls_ctx=tls_context()), "https")
    expect_failed(c, d, {"tls_verify_failed"})


@test
def tls_bad_certificate_with_insecure_is_ok():
    c, d = run_against(HostileServer(answer_bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", keep=True),
                                     tls_ctx=tls_context()), "https", ["-k"])
    expect_ok(c, d)


if __name__ == "__main__":
    h.main()
