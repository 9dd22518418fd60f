"""test_http2_stages.py — --conn-stages over HTTP/2 against nginx, h2c and h2 over TLS.

The closed model ramped by --conn-stages counts connections, not
streams: each h2 connection carries up to --streams (or the server's
MAX_CONCURRENT_STREAMS) requests in the closed loop, and a connection
above the ramp's target takes no new stream and closes once its last
one ends (h2_retire), so nothing in flight is lost.

The ramp is 0s:1,2s:8,2s:8,0s:2,2s:2: one connection, up to 8 over 2 s,
8 for 2 s, a step down to 2 held for 2 s. The per-second `conns` (snapshots
at the end of each second) must follow it, streams never exceed the
limit, and every request sent is done (timeline sent == done; done
counts errors too, and there are none). nginx gets keepalive_requests
10 000 000 so that no GOAWAY retries a request (a retry is sent twice).

With -r the same ramp is capped at 400/s: the connections still follow
the stages (a due request opens a connection while fewer than the target
are open), the achieved rate is the cap, and the step down retires 6.

Loopback only; every run is bounded.
"""

import harness as h
from harness import check, check_counts_add_up, excerpt, test

RAMP = "0s:1,2s:8,2s:8,0s:2,2s:2"


def ramp_run(tls, extra):
    """Runs the ramp against a fresh nginx (h2 by ALPN with tls, else h2c); returns the JSON."""
    with h.Nginx(tls=tls, http2=True, access_log=False, keepalive_requests=10000000) as srv:
        args = ["run", srv.url, "--conn-stages", RAMP, "-t", "1", "--allow-invalid"] + extra
        if tls:
            args.append("-k")
        rc, data, out, err = h.run_salvo(args, timeout=60)
    check(data is not None, "no results JSON (rc %d); stderr: %s" % (rc, err.strip()[-500:]))
    check(rc == 0, "exit code %d; stderr: %s" % (rc, err.strip()[-300:]))
    return data


def check_ramp(data, protocol, limit):
    """The ramp's connections, streams and accounting (see the file header)."""
    check(data["protocol"] == protocol and data["model"] == "closed",
          "protocol %r model %r, want %s closed" % (data["protocol"], data["model"], protocol))
    c = check_counts_add_up(data)
    check(c["ok"] == c["scheduled"] > 1000, "every request should be ok: %s %s" % (c, excerpt(data, "errors")))
    tl = data["timeline"]
    conns = [r["conns"] for r in tl]
    inflight = [r["inflight"] for r in tl]
    h.log("  conns per second: %s, in flight: %s" % (conns, inflight))
    check(len(tl) >= 5, "timeline of %d seconds for a 6 s run" % len(tl))
    # Targets: 4.5 at t=1, 8 at t=2 (7.65 at the last 100 ms ramp tick), 8 at t=3, 2 at t=5; t=4 is the step.
    check(3 <= conns[0] <= 6, "ramp up at 1 s: %s" % conns)
    check(7 <= conns[1] <= 8 and conns[2] == 8, "8 connections at 2 s and 3 s: %s" % conns)
    check(conns[4] == 2, "2 connections after the step down: %s" % conns)
    check(max(conns) <= 8 and data["pool"]["max_open"] == 8, "max_open %s, conns %s: want 8 at most and reached"
          % (data["pool"]["max_open"], conns))
    h2 = data["h2"]
    check(h2["streams_max"] <= limit, "streams in flight max %s above the limit %d" % (h2["streams_max"], limit))
    check(all(i <= n * limit for i, n in zip(inflight, conns)), "in flight above conns x %d: %s %s"
          % (limit, inflight, conns))
    # The closed loop keeps each connection full: 8 x limit in flight at 3 s, but for a refill in progress.
    check(inflight[2] >= 8 * limit * 0.8, "in flight at 3 s %d, want about %d" % (inflight[2], 8 * limit))
    sent, done = sum(r["sent"] for r in tl), sum(r["done"] for r in tl)
    check(sent == done == c["ok"], "sent %d done %d ok %d: a request was lost or sent twice (retries %s)"
          % (sent, done, c["ok"], data["pool"]["retries"]))
    by = data["pool"]["closed_by"]
    check(by["error"] == 0 and by["us"] >= 6, "closed_by %s: the 6 retired on the step down are ours" % by)
    check(abs(data["duration_s"] - 6.0) < 0.3, "duration_s %s, want 6" % data["duration_s"])


@test
def h2c_ramp_follows_the_stages():
    data = ramp_run(False, ["--h2c", "--streams", "10"])
    check_ramp(data, "h2c", 10)


@test
def h2_tls_ramp_follows_the_stages():
    """https:// without --http2 offers h2 with --conn-stages too; nginx allows 128 streams, salvo takes 100."""
    data = ramp_run(True, [])
    limit = min(100, data["h2"]["settings_max_streams_min"] or 100)
    check_ramp(data, "h2", limit)


def check_capped(data, protocol, rate):
    """A ramp capped by -r: the connections follow the stages, the rate is the cap, nothing lost."""
    check(data["protocol"] == protocol and data["model"] == "closed",
          "protocol %r model %r, want %s closed" % (data["protocol"], data["model"], protocol))
    c = check_counts_add_up(data)
    tl = data["timeline"]
    conns = [r["conns"] for r in tl]
    h.log("  capped at %d/s: conns per second %s, sent %s" % (rate, conns, [r["sent"] for r in tl]))
    check(len(tl) >= 5, "timeline of %d seconds for a 6 s run" % len(tl))
    check(3 <= conns[0] <= 6 and 7 <= conns[1] <= 8 and conns[2] == 8 and conns[4] == 2,
          "connections do not follow the ramp under -r: %s" % conns)
    check(data["pool"]["max_open"] == 8, "max_open %s, want 8" % data["pool"]["max_open"])
    achieved = c["ok"] / data["duration_s"]
    check(0.9 * rate <= achieved <= 1.02 * rate, "achieved %.0f/s under -r %d" % (achieved, rate))
    check(c["ok"] == c["scheduled"], "every request should be ok: %s" % c)
    sent, done = sum(r["sent"] for r in tl), sum(r["done"] for r in tl)
    check(sent == done == c["ok"], "sent %d done %d ok %d" % (sent, done, c["ok"]))
    by = data["pool"]["closed_by"]
    check(by["error"] == 0 and by["us"] >= 6, "closed_by %s: the 6 retired on the step down are ours" % by)


@test
def rate_caps_an_h2c_ramp():
    """-r caps a --conn-stages ramp over h2c: the connections follow the stages, the rate is -r's."""
    data = ramp_run(False, ["--h2c", "--streams", "10", "-r", "400"])
    check_capped(data, "h2c", 400)


@test
def rate_caps_an_h2_ramp_offered_by_alpn():
    """https:// without --http2 offers h2 for a capped ramp too (it used to fall back to http/1.1 alone)."""
    data = ramp_run(True, ["-r", "400"])
    check_capped(data, "h2", 400)


if __name__ == "__main__":
    h.main()
