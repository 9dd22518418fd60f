"""test_pipeline_reset.py — answers received before a reset under pipelining count once.

A Python server on 127.0.0.1 reads READ = N - 1 pipelined requests on the
first connection that carries one (salvo -c 1 --pipeline N, open model at
10/s), stops salvo (SIGSTOP, the process this test started), sends the
answers to the first K in one send, resets the connection (SO_LINGER 0)
with the rest unread, waits until the next arrival is due and resumes
salvo (SIGCONT). salvo writes that arrival into the free slot while the K
answers and the reset sit unread in the socket: the write fails with
ECONNRESET. The K answers still count once as ok, never as conn_reset nor
retried; the READ - K unanswered and the one whose write failed are
retried once and answered (docs/measurement.md, "A write that fails").
Before e8f2856 the failed write ended the connection under the unread
answers: 19 ok, 1 conn_reset, 2 retries of 20 (every run).

Every later connection answers each request at once. Loopback only; every
run and wait is bounded.
"""

import signal
import socket
import threading
import time

import harness as h
from harness import check, check_counts_add_up, excerpt, test

N, K = 3, 1
READ = N - 1  # written when the server resets: one slot stays free for the next arrival
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"


def wait_stopped(pid, limit_s=2.0):
    """SIGSTOP is asynchronous: waits (bounded) until pid is in state T. True when it is."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("T", "t"):
                    return True
        except OSError:
            return False
        time.sleep(0.001)
    return False


class ResettingServer(h.LoopbackServer):
    def __init__(self):
        self.answers = 0  # every answer sent, on every connection
        self.first_received = 0  # complete requests read on the first connection
        self.reset_claimed = False
        self.stopped = False
        self.reset_done = threading.Event()
        self.salvo = None
        super().__init__(backlog=16)

    def handle(self, conn):
        # The first connection that carries a request is reset; a probe without one is not it.
        try:
            conn.settimeout(5)
            first = conn.recv(65536)
        except OSError:
            conn.close()
            return
        if not first:
            conn.close()
            return
        with self.lock:
            mine = not self.reset_claimed
            self.reset_claimed = True
        (self.reset_first if mine else self.answer_all)(conn, first)

    def reset_first(self, conn, buf):
        try:
            conn.settimeout(5)
            deadline = time.monotonic() + 5
            while buf.count(b"\r\n\r\n") < READ and time.monotonic() < deadline:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            self.salvo.signal(signal.SIGSTOP)
            self.stopped = wait_stopped(self.salvo.pid)
            with self.lock:
                self.first_received = buf.count(b"\r\n\r\n")
            try:
                conn.sendall(ANSWER * K)
                with self.lock:
                    self.answers += K
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.close()
                # At -r 10 the next arrival falls due while salvo is stopped: on SIGCONT it is
                # written into the free slot, and that write fails, with the answers unread.
                time.sleep(0.15)
            finally:
                self.salvo.signal(signal.SIGCONT)
                self.reset_done.set()
        except OSError:
            pass
        finally:
            conn.close()

    def answer_all(self, conn, buf):
        try:
            while self.running:
                n = buf.count(b"\r\n\r\n")
                if n:
                    buf = buf[buf.rfind(b"\r\n\r\n") + 4:]
                    conn.sendall(ANSWER * n)
                    with self.lock:
                        self.answers += n
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
        except OSError:
            pass
        finally:
            conn.close()



@test
def answers_read_before_a_reset_count_once():
    server = ResettingServer()
    try:
        salvo = h.Salvo(["run", "http://127.0.0.1:%d/" % server.port, "-q", "--allow-invalid", "--progress", "off",
                         "-t", "1", "-r", "10", "-c", "1", "--pipeline", str(N), "-d", "2s", "--timeout", "5s"])
        server.salvo = salvo
        rc, data, out, err = salvo.finish(15)
    finally:
        server.stop()
    check(server.reset_done.is_set(), "the server never reset its first connection (%d connections)"
          % server.connections)
    check(server.stopped, "salvo (pid %d) did not stop within 2 s of SIGSTOP" % salvo.pid)
    check(data is not None, "no JSON (rc %d): %s" % (rc, err.strip()[-400:]))
    c = check_counts_add_up(data)
    pool = data["pool"]
    h.log("  %s pool %s errors %s; server: %d answers, %d requests read on the reset connection, %d connections"
          % (c, excerpt(data, "pool"), data["errors"], server.answers, server.first_received, server.connections))
    check(server.first_received == READ, "the reset connection carried %d requests: %d"
          % (READ, server.first_received))
    check(c["scheduled"] == 20, "10/s for 2 s: %s" % c)
    check(c["failed"] + c["timeout"] + c["unsent"] == 0, "the unanswered were retried and answered, none lost: %s %s"
          % (c, data["errors"]))
    check(data["status"] == {"200": c["ok"]}, "every answer is a 200: %s" % data["status"])
    # An answer dropped unread is retried and answered again: the server then answers more than salvo counts.
    check(server.answers == c["ok"], "each answer the server sent counts once: the server sent %d, salvo counted %d "
          "ok (pool %s)" % (server.answers, c["ok"], excerpt(data, "pool")))
    # Retried: the READ - K written but unanswered, and the one whose write failed; never the K answered.
    check(pool["retries"] == READ - K + 1, "%d retried (%d unanswered + the failed write), never the %d answered: %s"
          % (READ - K + 1, READ - K, K, excerpt(data, "pool")))
    check(data["errors"] == {}, "no error, conn_reset included: %s" % data["errors"])


if __name__ == "__main__":
    h.main()
