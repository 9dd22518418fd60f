"""h2server.py — a small scripted HTTP/2 server (h2c, prior knowledge) on
Debian's python3-h2, for what nginx and nghttpd cannot be told to do.

Run as a process by the e2e tests (tests/e2e/test_http2_more.py):

    python3 h2server.py MODE PORT LOGFILE

Modes:
- echo:  sends SETTINGS max_concurrent_streams 7, initial_window_size
         70000, header_table_size 8192; answers every request 200 "ok";
         logs each connection's client SETTINGS and its connection-level
         WINDOW_UPDATEs to LOGFILE (one JSON object per line).
- zero:  sends SETTINGS max_concurrent_streams 0 and refuses any stream
         (RST_STREAM REFUSED_STREAM); logs each connection it accepts.
- slowwin: keeps the 65 535-byte windows and returns flow-control
         credit for request bodies only 100 ms after the bytes came, so
         a body larger than the window waits for it; answers 200 "ok".

Loopback only; the process runs until it is terminated (the tests stop
it). One thread, one selector, timers in a list: small on purpose.
"""

import collections
import json
import selectors
import socket
import sys
import time

try:
    import h2.config
    import h2.connection
    import h2.errors
    import h2.events
    import h2.settings
except ImportError:  # pyenv's python without Debian's dist-packages
    sys.path.append("/usr/lib/python3/dist-packages")
    import h2.config
    import h2.connection
    import h2.errors
    import h2.events
    import h2.settings

SC = h2.settings.SettingCodes
CREDIT_DELAY = 0.100  # slowwin: seconds before request-body bytes are credited back

SERVER_SETTINGS = {
    "echo": {SC.MAX_CONCURRENT_STREAMS: 7, SC.INITIAL_WINDOW_SIZE: 70000, SC.HEADER_TABLE_SIZE: 8192},
    "zero": {SC.MAX_CONCURRENT_STREAMS: 0},
    "slowwin": {SC.MAX_CONCURRENT_STREAMS: 100},
}


class Conn:
    def __init__(self, sock, mode, log):
        self.sock = sock
        self.mode = mode
        self.log = log
        cfg = h2.config.H2Configuration(client_side=False, validate_inbound_headers=False)
        self.h2 = h2.connection.H2Connection(config=cfg)
        self.h2.local_settings = h2.settings.Settings(client=False, initial_values=SERVER_SETTINGS[mode])
        self.h2.initiate_connection()
        if mode == "zero":
            # The frame sent says 0; h2's own bookkeeping must still take the one stream a client
            # sends before it has read that frame, so that this server refuses it itself.
            self.h2.local_settings._settings[SC.MAX_CONCURRENT_STREAMS] = collections.deque([2**31 - 1])
        self.timers = []  # (due, stream_id, n)
        self.note({"event": "accepted"})

    def note(self, obj):
        self.log.write(json.dumps(obj) + "\n")
        self.log.flush()

    def flush(self):
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def respond(self, sid):
        self.h2.send_headers(sid, [(":status", "200"), ("content-length", "3")])
        self.h2.send_data(sid, b"ok\n", end_stream=True)

    def on_events(self, events):
        for ev in events:
            if isinstance(ev, h2.events.RemoteSettingsChanged):
                self.note({"event": "settings",
                           "settings": {str(int(k)): v.new_value for k, v in ev.changed_settings.items()}})
            elif isinstance(ev, h2.events.WindowUpdated) and ev.stream_id == 0:
                self.note({"event": "conn_window_update", "delta": ev.delta})
            elif isinstance(ev, h2.events.RequestReceived):
                if self.mode == "zero":
                    self.h2.reset_stream(ev.stream_id, h2.errors.ErrorCodes.REFUSED_STREAM)
                    self.note({"event": "refused", "stream": ev.stream_id})
            elif isinstance(ev, h2.events.DataReceived):
                n = ev.flow_controlled_length
                if self.mode == "slowwin" and n:
                    self.timers.append((time.monotonic() + CREDIT_DELAY, ev.stream_id, n))
                elif n:
                    self.h2.acknowledge_received_data(n, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded) and self.mode != "zero":
                try:
                    self.respond(ev.stream_id)
                except Exception:  # the stream was reset meanwhile
                    pass

    def tick(self, now):
        due = [t for t in self.timers if t[0] <= now]
        self.timers = [t for t in self.timers if t[0] > now]
        for _, sid, n in due:
            try:
                self.h2.increment_flow_control_window(n, stream_id=sid)
            except Exception:  # the stream is gone: its share of the connection window still comes back
                pass
            self.h2.increment_flow_control_window(n)
        if due:
            self.flush()


def main():
    mode, port, log_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    log = open(log_path, "a")
    sel = selectors.DefaultSelector()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(512)
    ls.setblocking(False)
    sel.register(ls, selectors.EVENT_READ, None)
    conns = {}
    while True:
        timeout = 0.01 if any(c.timers for c in conns.values()) else 0.2
        for key, _ in sel.select(timeout):
            if key.data is None:
                s, _ = ls.accept()
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                c = Conn(s, mode, log)
                conns[s.fileno()] = c
                sel.register(s, selectors.EVENT_READ, c)
                c.flush()
                continue
            c = key.data
            try:
                data = c.sock.recv(65536)
            except OSError:
                data = b""
            if data:
                try:
                    c.on_events(c.h2.receive_data(data))
                    c.flush()
                except Exception as e:  # a protocol error: the connection goes, the server stays
                    c.note({"event": "error", "what": repr(e)[:200]})
                    data = b""
            if not data:
                sel.unregister(c.sock)
                conns.pop(c.sock.fileno(), None)
                c.sock.close()
        now = time.monotonic()
        for c in list(conns.values()):
            try:
                c.tick(now)
            except OSError:
                pass


if __name__ == "__main__":
    main()
