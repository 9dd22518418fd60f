"""test_traps.py — the traps a new user fell into, refused before a request is sent.

Each refusal must exit 2 with one line on stderr that starts with
"salvo:" and names the culprit, and the listener the URL points at must
see no connection at all (a plain TCP socket this test owns, so "no
traffic" is observed, not assumed):

- D1 `--closed --stages` (it meant uncapped connections): refused with a
  hint to `--conn-stages`;
- D8 `--stages` / `--conn-stages` with `-d` (-d was silently ignored);
- D7 `--start-at` more than 24 h ahead;
- D15 a bare number on a latency threshold (k6 means ms, salvo read µs),
  hint `250ms`; D16 `errors.rate < 150%`, `--pick` without `--data`,
  `--name ''`;
- D23 a header with CR/LF: the message quotes the line break (\\r\\n) instead
  of printing it, so it stays one line.

And the ones that run:
- D16 a run that schedules fewer than 10 requests warns, with the rate's
  digits (0.0001/s, not 0.0/s);
- D4 `--json -`: stdout is the JSON document and nothing else;
- D18 every verb: `-h`, `--help` and `salvo help VERB` print the same help on
  stdout, exit 0; `salvo demo --json` says the option needs a value;
- `--pick random`: two runs draw different rows by default (each run has
  its own pick seed, in config.pick_seed) but keep the same run id;
  `--pick-seed N` draws the same rows again.
"""
import json
import os
import socket
import subprocess
import time

import harness as h
from harness import check, test

VERBS = ("run", "target", "chaos", "demo", "doctor", "merge", "report")


class Listener:
    """A TCP listener on 127.0.0.1 that only counts the connections it gets."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d/" % self.port

    def connections(self):
        n = 0
        for _ in range(1000):  # bounded: a refused run opened none, an accepted one a few
            try:
                c, _ = self.sock.accept()
            except BlockingIOError:
                break
            c.close()
            n += 1
        return n

    def close(self):
        self.sock.close()


def salvo(args, timeout=20):
    """Runs salvo (no --json added); returns (rc, stdout, stderr)."""
    p = subprocess.run([h.SALVO_BIN] + args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def refused(args, *words):
    """salvo run URL ARGS must exit 2 with one 'salvo:' line holding every word, before any traffic."""
    lst = Listener()
    try:
        rc, out, err = salvo(["run", lst.url] + args)
        time.sleep(0.1)  # a connect() already under way would be in the backlog by now
        conns = lst.connections()
    finally:
        lst.close()
    h.log("  %s -> %r" % (args, err.strip()))
    check(rc == 2, "%s: exit %d, want 2 (stderr %r)" % (args, rc, err))
    check(err.startswith("salvo: ") and err.count("\n") == 1, "%s: want one 'salvo:' line, got %r" % (args, err))
    for w in words:
        check(w in err, "%s: the message should name %r: %r" % (args, w, err))
    check(conns == 0, "%s: refused, yet the target saw %d connection(s)" % (args, conns))
    return err


@test
def closed_stages_is_refused_with_a_hint():
    refused(["--closed", "--stages", "1s:100"], "--stages", "--closed", "--conn-stages")
    refused(["--stages", "1s:100", "--conn-stages", "1s:10"], "--stages", "--conn-stages")


@test
def stages_with_duration_is_refused():
    refused(["--stages", "2s:100", "-d", "30s"], "--stages", "-d")
    refused(["-r", "10", "--stages", "2s:100", "--duration", "5s"], "--stages", "--duration")
    refused(["--conn-stages", "2s:10", "-d", "30s"], "--conn-stages", "-d")


@test
def start_at_far_ahead_is_refused():
    refused(["-r", "10", "--start-at", "2099-01-01T00:00:00Z"], "--start-at", "24 h")
    refused(["-r", "10", "--start-at", str(int(time.time()) + 25 * 3600)], "--start-at", "24 h")


@test
def bare_latency_threshold_is_refused_with_the_unit():
    refused(["-r", "10", "-d", "1s", "--threshold", "latency.p99 < 250"], "latency.p99 < 250", "250ms")
    refused(["-r", "10", "-d", "1s", "--threshold", "ttfb.p(95) <= 40"], "ttfb", "40ms")


@test
def impossible_values_are_refused():
    refused(["-r", "10", "-d", "1s", "--threshold", "errors.rate < 150%"], "errors.rate < 150%", "100%")
    refused(["-r", "10", "-d", "1s", "--pick", "random"], "--pick", "--data")
    refused(["-r", "10", "-d", "1s", "--pick-seed", "7"], "--pick-seed", "--data")
    refused(["-r", "10", "-d", "1s", "--name", ""], "--name", "empty")


@test
def header_line_break_is_quoted():
    err = refused(["-r", "10", "-d", "1s", "-H", "X-A: b\r\nX-Evil: 1"], "X-A: b\\r\\nX-Evil: 1", "line break")
    check("\r" not in err, "the raw CR is echoed: %r" % err)


@test
def missing_and_unknown_options_in_every_verb():
    for verb in VERBS:
        rc, out, err = salvo([verb, "--no-such-option"])
        check(rc == 2 and "unknown option '--no-such-option'" in err and err.count("\n") == 1,
              "%s --no-such-option: exit %d, %r" % (verb, rc, err))
    rc, out, err = salvo(["demo", "--json"])
    check(rc == 2 and "'--json' needs a value" in err, "demo --json: exit %d, %r" % (rc, err))
    rc, out, err = salvo(["run", "http://127.0.0.1:9/", "-r"])
    check(rc == 2 and "'-r' needs a value" in err, "run -r: exit %d, %r" % (rc, err))


@test
def help_is_the_same_three_ways_in_every_verb():
    for verb in VERBS:
        outs = []
        for args in ([verb, "-h"], [verb, "--help"], ["help", verb]):
            rc, out, err = salvo(args)
            check(rc == 0 and err == "", "%s: exit %d, stderr %r" % (args, rc, err))
            check(out.startswith("usage: salvo %s" % verb), "%s: stdout does not start with the usage: %r"
                  % (args, out[:80]))
            outs.append(out)
        check(outs[0] == outs[1] == outs[2], "%s: -h, --help and 'salvo help %s' differ" % (verb, verb))
    rc, out, err = salvo(["help"])
    check(rc == 0 and "salvo help VERB" in out, "salvo help: exit %d, %r" % (rc, out[-200:]))
    rc, out, err = salvo(["run", "--help"])
    check("--conn-stages" in out and "--pick-seed" in out, "run --help lacks the new options")


@test
def few_requests_warn_with_their_digits():
    with h.Nginx(access_log=False) as nginx:
        rc, out, err = salvo(["run", nginx.url, "-r", "0.0001", "-d", "1s", "--allow-invalid"], timeout=30)
        h.log("  stderr: %r" % err[-300:])
        check(rc in (0, 1), "-r 0.0001 -d 1s: exit %d: %r" % (rc, err[-300:]))
        check("warning" in err and "0.0001/s" in err and "fewer than 10" in err,
              "no warning naming 0.0001/s and 'fewer than 10': %r" % err[-400:])
        rc, out, err = salvo(["run", nginx.url, "-r", "20", "-d", "1s", "--allow-invalid"], timeout=30)
        check("fewer than 10" not in err, "20 requests warned: %r" % err[-300:])


@test
def json_on_stdout_is_only_json():
    with h.Nginx(access_log=False) as nginx:
        rc, out, err = salvo(["run", nginx.url, "-r", "50", "-d", "1s", "--allow-invalid", "--json", "-"], timeout=30)
    check(rc == 0, "exit %d: %r" % (rc, err[-300:]))
    try:
        doc = json.loads(out)
    except ValueError as e:
        raise AssertionError("stdout of --json - is not one JSON document (%s): %r" % (e, out[:300]))
    check(doc["requests"]["scheduled"] == 50, "scheduled %s, want 50" % doc["requests"]["scheduled"])


def picked_ids(nginx, data, extra):
    """Runs --pick random over data; returns (ids in the order nginx logged them, result JSON)."""
    before = nginx.access_log_size()
    rc, doc, out, err = h.run_salvo(["run", nginx.url + "r?id={id}", "--data", data, "--pick", "random", "-r", "100",
                                     "-d", "1s", "-t", "1", "--allow-invalid"] + extra, timeout=30)
    check(doc is not None, "no JSON (rc %d): %s" % (rc, err[-300:]))
    ids = []
    for line in nginx.access_log_lines(before):
        uri = line.split("|")[1]
        if uri.startswith("/r?id="):
            ids.append(int(uri[len("/r?id="):]))
    check(len(ids) == 100, "nginx logged %d requests, want 100" % len(ids))
    return ids, doc


@test
def pick_random_draws_new_rows_each_run():
    d = h.make_temp_dir("salvo-traps-")
    data = os.path.join(d, "ids.csv")
    with open(data, "w") as f:
        f.write("id\n" + "".join("%d\n" % i for i in range(100000)))
    with h.Nginx(log_format="$request_method|$request_uri") as nginx:
        a, da = picked_ids(nginx, data, [])
        b, db = picked_ids(nginx, data, [])
        c, dc = picked_ids(nginx, data, ["--pick-seed", str(da["config"]["pick_seed"])])
    h.log("  pick seeds %s %s %s; rows in common: a/b %d, a/c %d"
          % (da["config"]["pick_seed"], db["config"]["pick_seed"], dc["config"]["pick_seed"],
             len(set(a) & set(b)), len(set(a) & set(c))))
    check(da["config"]["pick_seed"] != db["config"]["pick_seed"], "two runs had the same pick seed")
    # 100 draws from 100 000 rows: two independent runs share ~0.1 rows; the old default shared all 100.
    check(len(set(a) & set(b)) < 10, "two default runs drew %d of the same rows" % len(set(a) & set(b)))
    check(sorted(a) == sorted(c), "--pick-seed %s did not draw the same rows again" % da["config"]["pick_seed"])
    check(da["run_id"] == db["run_id"] == dc["run_id"], "the pick seed changed the run id: %s %s %s"
          % (da["run_id"], db["run_id"], dc["run_id"]))
    check(da["config"]["seed"] == db["config"]["seed"] == 1, "the arrival seed should stay 1 by default")


if __name__ == "__main__":
    h.main()
