"""test_server_close.py — servers that end responses or connections abruptly.

A small Python server on 127.0.0.1 (started here, stopped here) has modes:

- `close`: answers `HTTP/1.1 200` with no Content-Length, writes the body and
  closes: the close ends the body (the FIN arrives with the data, in one
  epoll edge); every request must be `ok`, none a timeout;
- `reset`: promises 1000 bytes, sends 7, then resets (SO_LINGER 0): every
  request must fail as a reset or an early EOF, none a timeout;
- `drop2`: keep-alive, but silently closes each connection after its second
  response: in the closed model with `-r` a connection waiting for its next
  send slot is closed under it; the request must take a new connection, the
  counts must add up and the run must end on time.

Python stdlib only; every wait is bounded.
"""

import socket
import struct
import threading
import time

import harness as h
from harness import check, check_counts_add_up, excerpt, test

state = {}


def read_request(conn):
    """Reads one request head; False at EOF."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(4096)
        if not chunk:
            return False
        buf += chunk
    return True


def handle(conn, mode):
    try:
        conn.settimeout(10)
        served = 0
        while read_request(conn):
            if mode == "close":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nclose-delimited body\n")
                return
            if mode == "reset":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n1234567")
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
            served += 1
            if served == 2:
                return
    except OSError:
        pass
    finally:
        conn.close()


class Server(h.LoopbackServer):
    def __init__(self, mode):
        self.mode = mode
        super().__init__(backlog=512)

    def handle(self, conn):
        handle(conn, self.mode)


def run_against(mode, *args, timeout=40):
    """One salvo run against a Server in mode; returns (results JSON, seconds it took)."""
    server = Server(mode)
    try:
        t0 = time.monotonic()
        rc, data, out, err = h.run_salvo(["run", "http://127.0.0.1:%d/" % server.port, "-q", "--allow-invalid",
                                          "--progress", "off"] + list(args), timeout=timeout)
        took = time.monotonic() - t0
    finally:
        server.stop()
    check(data is not None, "no JSON (rc %d): %s" % (rc, err.strip()[-400:]))
    return data, took


@test
def close_delimited_bodies_are_ok():
    data, _ = run_against("close", "-r", "100", "-d", "2s", "-t", "1", "--timeout", "1s")
    c = check_counts_add_up(data)
    h.log("  %s errors %s" % (c, data["errors"]))
    check(c["timeout"] == 0, "a body ended by the server's close is complete, not a timeout: %s" % c)
    check(c["ok"] == c["scheduled"] == 200, "every close-delimited response is ok: %s" % excerpt(data, "requests",
                                                                                                "errors"))


@test
def reset_mid_response_is_a_failure_not_a_timeout():
    data, _ = run_against("reset", "-r", "100", "-d", "2s", "-t", "1", "--timeout", "1s")
    c = check_counts_add_up(data)
    h.log("  %s errors %s" % (c, data["errors"]))
    check(c["timeout"] == 0, "a reset mid-response must fail at once, not time out: %s" % c)
    check(c["failed"] == c["scheduled"], "every cut response fails: %s" % c)
    check(c["failed"] > 0, "a run of 2 s at 100/s must have sent something: %s" % c)
    h.check_errors_named(data, {"conn_reset", "eof", "read_error"}, total=c["failed"])


@test
def closed_paced_connection_closed_by_server_keeps_its_request():
    data, took = run_against("drop2", "--closed", "-c", "4", "-r", "20", "-d", "3s", "-t", "1", "--timeout", "2s")
    c = check_counts_add_up(data)
    h.log("  %s in %.1f s; pool %s" % (c, took, excerpt(data, "pool")))
    check(c["scheduled"] >= 55, "20/s for 3 s should schedule about 60: %s" % c)
    check(c["ok"] >= c["scheduled"] - 4, "a request whose waiting connection was closed takes another: %s" % c)
    check(took < 3 + 2 + 2, "the run must end near its duration, it took %.1f s" % took)


if __name__ == "__main__":
    h.main()
