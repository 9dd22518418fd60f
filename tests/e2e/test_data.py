"""test_data.py — data-driven requests against a real nginx.

- `--data FILE` (CSV with RFC 4180 quoting, and JSON Lines) fills a URL
  template; nginx's access log (a custom format with the raw request URI)
  must show exactly the URLs an independent encoder (Python's
  urllib.parse.quote with only RFC 3986 unreserved characters kept) makes
  from the rows, each row as often as `--pick seq` implies;
- `--pick once`: each row exactly once, then the run stops (unsent >= 1,
  data_exhausted true); the rest of an open schedule counts as unsent
  (constant, stages, Poisson), and in the closed model the threads share
  the rows (each row once across threads);
- closed model: threads follow one arrival sequence (`--pick seq` and
  weighted targets do not repeat the same rows on every thread);
- a template naming a missing column and a malformed CSV row are refused
  with exit 2 before any traffic, naming the column and file / line;
- `--targets FILE` (vegeta format with `# name= weight=` comments, a header,
  an @body file for a POST): groups {a, b} with shares 3:1, and nginx saw the
  POST with the body's length and the header on the GETs;
- `--max-names 2` with three named targets: an "other" group;
- memory: 500 000 distinct URLs leave RSS flat and produce one group.
"""

import collections
import os
import re
import time
import urllib.parse

import harness as h
from harness import check, check_counts_add_up, excerpt, test

# method | raw request URI (as sent, percent-encoding untouched) | Content-Length | X-E2E header
LOG_FORMAT = "$request_method|$request_uri|$content_length|$http_x_e2e"
TEMPLATE = "http://127.0.0.1:%d/r?from={from_lat},{from_lng}&to={to_lat},{to_lng}"
COLUMNS = ("from_lat", "from_lng", "to_lat", "to_lng")

nginx = None
work = None


def setup():
    global nginx, work
    nginx = h.Nginx(log_format=LOG_FORMAT).start()
    work = h.make_temp_dir("salvo-e2e-data-")


def path(name):
    return os.path.join(work, name)


def q(value):
    """Percent-encoding of a query value: everything but A-Z a-z 0-9 - . _ ~ (UTF-8)."""
    return urllib.parse.quote(value, safe="", encoding="utf-8")


def expected_uri(row):
    return "/r?from=%s,%s&to=%s,%s" % tuple(q(row[c]) for c in COLUMNS)


def log_entries(offset, want, timeout=3.0):
    """Parsed access-log lines after offset; waits (bounded) until `want` are there.

    nginx writes a line after the response went out, so the last few may
    land a moment after salvo exits.
    """
    deadline = time.monotonic() + timeout
    while True:
        lines = nginx.access_log_lines(offset)
        if len(lines) >= want or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    out = []
    for line in lines:
        method, uri, clen, hdr = line.split("|", 3)
        out.append((method, uri, clen, hdr))
    return out


def run(args, timeout=60):
    return h.run_salvo(["run"] + [str(a) for a in args] + ["-q"], timeout=timeout)


# The rows as the data file means them (after CSV unquoting), with quoting,
# commas, doubled quotes, spaces, reserved characters, '%' and UTF-8.
ROWS = [
    {"from_lat": "52.5", "from_lng": "13.4", "to_lat": "52.52", "to_lng": "13.38"},
    {"from_lat": "48.85", "from_lng": "2,35", "to_lat": "48.86", "to_lng": "2.36"},
    {"from_lat": "a b", "from_lng": "c+d", "to_lat": "e&f=g", "to_lng": "h/i?j#k"},
    {"from_lat": 'say "hi"', "from_lng": "100%", "to_lat": "caf\u00e9", "to_lng": ""},
    {"from_lat": "-1.5", "from_lng": "~x_y.z", "to_lat": "0", "to_lng": "1"},
]
CSV_TEXT = (
    "from_lat,from_lng,to_lat,to_lng\r\n"
    "52.5,13.4,52.52,13.38\r\n"
    '"48.85","2,35",48.86,2.36\r\n'
    "a b,c+d,e&f=g,h/i?j#k\r\n"
    '"say ""hi""",100%,caf\u00e9,\r\n'
    "-1.5,~x_y.z,0,1"  # no final line break
)


def check_rendered(entries, rows, per_row, what):
    want = collections.Counter({expected_uri(r): per_row for r in rows})
    got = collections.Counter(uri for method, uri, _, _ in entries)
    check(all(m == "GET" for m, _, _, _ in entries), "%s: not all requests were GETs" % what)
    check(got == want,
          "%s: nginx received other URLs than the rows imply.\n  missing/short: %s\n  unexpected/extra: %s"
          % (what, dict(want - got), dict(got - want)))


@test
def csv_rows_fill_the_url_template():
    with open(path("trips.csv"), "w", encoding="utf-8") as f:
        f.write(CSV_TEXT)
    offset = nginx.access_log_size()
    # 250 arrivals over 5 rows in order: each row exactly 50 times.
    rc, data, out, err = run([TEMPLATE % nginx.port, "--data", path("trips.csv"), "--pick", "seq",
                              "-r", "250", "-d", "1s", "-t", "2", "--allow-invalid"])
    check(rc == 0 and data is not None, "rc %d, stderr: %s" % (rc, err.strip()[-400:]))
    c = check_counts_add_up(data)
    check(c["scheduled"] == 250 and c["ok"] == 250, "want 250 ok: %s" % c)
    entries = log_entries(offset, 250)
    check(len(entries) == 250, "nginx logged %d requests, salvo says 250 ok" % len(entries))
    check_rendered(entries, ROWS, 50, "CSV")
    check(list(data["groups"]) == ["/r"],
          "figures must be grouped by the template path, not per URL: groups %s" % list(data["groups"]))


@test
def jsonl_rows_fill_the_url_template():
    lines = [
        '{"from_lat": 52.5, "from_lng": "13.4", "to_lat": 1.50, "to_lng": true}',
        '',
        '{"from_lat": "\\u00e9t\\u00e9", "from_lng": "a\\"b", "to_lat": null, "to_lng": "x\\/y z"}',
        '{"to_lng": "\\ud83d\\ude00", "from_lat": "k,l", "from_lng": false, "to_lat": "-0"}',
        '{"from_lat": "only this"}',
    ]
    rows = [
        {"from_lat": "52.5", "from_lng": "13.4", "to_lat": "1.50", "to_lng": "true"},
        {"from_lat": "\u00e9t\u00e9", "from_lng": 'a"b', "to_lat": "", "to_lng": "x/y z"},
        {"from_lat": "k,l", "from_lng": "false", "to_lat": "-0", "to_lng": "\U0001F600"},
        {"from_lat": "only this", "from_lng": "", "to_lat": "", "to_lng": ""},
    ]
    with open(path("trips.jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    offset = nginx.access_log_size()
    rc, data, out, err = run([TEMPLATE % nginx.port, "--data", path("trips.jsonl"),
                              "-r", "200", "-d", "1s", "-t", "1", "--allow-invalid"])
    check(rc == 0 and data is not None, "rc %d, stderr: %s" % (rc, err.strip()[-400:]))
    c = check_counts_add_up(data)
    check(c["ok"] == 200, "want 200 ok: %s" % c)
    entries = log_entries(offset, 200)
    check(len(entries) == 200, "nginx logged %d requests, salvo says 200 ok" % len(entries))
    check_rendered(entries, rows, 50, "JSON Lines")


@test
def pick_once_sends_each_row_once_then_stops():
    rows = [{"from_lat": "%d.25" % i, "from_lng": "13.%d" % i, "to_lat": "48.%d" % (i * 7),
             "to_lng": "2,%d" % i} for i in range(300)]
    with open(path("once.csv"), "w") as f:
        f.write(",".join(COLUMNS) + "\n")
        for r in rows:
            f.write('%s,%s,%s,"%s"\n' % (r["from_lat"], r["from_lng"], r["to_lat"], r["to_lng"]))
    offset = nginx.access_log_size()
    rc, data, out, err = run([TEMPLATE % nginx.port, "--data", path("once.csv"), "--pick", "once",
                              "-r", "1000", "-d", "2s", "-t", "1", "--allow-invalid"])
    check(rc == 0 and data is not None, "rc %d, stderr: %s" % (rc, err.strip()[-400:]))
    c = check_counts_add_up(data)
    h.log("  pick once: %s data_exhausted=%s" % (c, data.get("data_exhausted")))
    check(c["ok"] == 300, "each of the 300 rows once: want ok == 300: %s" % c)
    check(c["unsent"] >= 1, "arrivals after the last row must count as unsent: %s" % c)
    check(c["failed"] == 0 and c["timeout"] == 0 and c["http_error"] == 0, "nothing may fail: %s" % c)
    check(data.get("data_exhausted") is True,
          "data_exhausted should be true: %s" % excerpt(data, "data_exhausted", "requests"))
    entries = log_entries(offset, 300)
    check_rendered(entries, rows, 1, "--pick once")


def write_numbered_rows(name, n):
    """A one-column CSV whose row k holds k, so a logged URI names its row."""
    with open(path(name), "w") as f:
        f.write("v\n")
        f.writelines("%d\n" % k for k in range(n))
    return path(name)


def rows_seen(entries, prefix):
    """How often nginx saw each row number in URIs prefix<row>."""
    return collections.Counter(int(u[len(prefix):]) for _, u, _, _ in entries if u.startswith(prefix))


@test
def pick_once_closed_model_sends_each_row_once_across_threads():
    # Two threads with two connections each: the rows are shared, not read once per thread.
    data_file = write_numbered_rows("once100.csv", 100)
    offset = nginx.access_log_size()
    t0 = time.monotonic()
    rc, data, out, err = run(["http://127.0.0.1:%d/once/{v}" % nginx.port, "--data", data_file, "--pick", "once",
                              "--closed", "-c", "4", "-t", "2", "-d", "3s"])
    elapsed = time.monotonic() - t0
    check(rc == 0 and data is not None, "rc %d, stderr: %s" % (rc, err.strip()[-400:]))
    c = check_counts_add_up(data)
    h.log("  closed pick once: %s in %.1f s" % (c, elapsed))
    check(c["ok"] == c["scheduled"] == 100, "100 rows, each once: want 100 ok of 100 scheduled: %s" % c)
    check(data.get("data_exhausted") is True, "data_exhausted: %s" % excerpt(data, "data_exhausted"))
    check(elapsed < 2.5, "the run should end when the rows are used up, not after 3 s (%.1f s)" % elapsed)
    seen = rows_seen(log_entries(offset, 100), "/once/")
    check(seen == collections.Counter(range(100)),
          "nginx must see rows 0-99 once each: repeated %s, missing %s"
          % (sorted(k for k, v in seen.items() if v > 1)[:10], sorted(set(range(100)) - set(seen))[:10]))


@test
def closed_model_threads_follow_one_arrival_sequence():
    # --pick seq over more rows than the run sends: one global sequence sends
    # rows 0..K-1 once each; a sequence per thread would repeat the first rows.
    # The closed loop is capped at 20 000/s: unpaced, a quiet machine sent
    # 107 765 requests in the second, past the 100 000 rows.
    data_file = write_numbered_rows("seq100k.csv", 100000)
    with open(path("two.txt"), "w") as f:
        f.write("# name=a weight=3\nGET http://127.0.0.1:%d/a/{v}\n\n"
                "# name=b\nGET http://127.0.0.1:%d/b/{v}\n" % (nginx.port, nginx.port))
    offset = nginx.access_log_size()
    rc, data, out, err = run(["--targets", path("two.txt"), "--data", data_file, "--pick", "seq",
                              "--closed", "-c", "4", "-t", "2", "-d", "1s", "-r", "20000"])
    check(rc == 0 and data is not None, "rc %d, stderr: %s" % (rc, err.strip()[-400:]))
    c = check_counts_add_up(data)
    k = c["ok"]
    check(0 < k == c["scheduled"] < 100000, "want every request ok and fewer than the rows: %s" % c)
    entries = log_entries(offset, k)
    seen = rows_seen(entries, "/a/") + rows_seen(entries, "/b/")
    h.log("  closed seq: %d requests, groups %s" % (k, {g: v["requests"] for g, v in data["groups"].items()}))
    check(seen == collections.Counter(range(k)),
          "threads must share one sequence (rows 0..%d once each): %d rows repeated (first %s), %d missing"
          % (k - 1, sum(1 for v in seen.values() if v > 1), sorted(r for r, v in seen.items() if v > 1)[:5],
             len(set(range(k)) - set(seen))))
    check(set(data["groups"]) == {"a", "b"}, "both targets should be picked: %s" % sorted(data["groups"]))


def scheduled_of(args):
    rc, data, out, err = run(args)
    check(data is not None, "rc %d, stderr: %s" % (rc, err.strip()[-400:]))
    return check_counts_add_up(data), data


@test
def pick_once_open_model_counts_the_rest_of_the_schedule_unsent():
    data_file = write_numbered_rows("once100.csv", 100)
    url = "http://127.0.0.1:%d/open/{v}" % nginx.port
    offset = nginx.access_log_size()
    t0 = time.monotonic()
    c, data = scheduled_of([url, "--data", data_file, "--pick", "once", "-r", "200", "-d", "3s", "-t", "2",
                            "--allow-invalid"])
    elapsed = time.monotonic() - t0
    h.log("  open pick once, 200/s for 3 s: %s in %.1f s" % (c, elapsed))
    check(c["scheduled"] == 600 and c["ok"] == 100 and c["unsent"] == 500,
          "the schedule holds 600 arrivals, 100 rows: want 600 scheduled = 100 ok + 500 unsent: %s" % c)
    check(data.get("data_exhausted") is True, "data_exhausted: %s" % excerpt(data, "data_exhausted"))
    check(elapsed < 2.5, "the run should end when the rows are used up, not after 3 s (%.1f s)" % elapsed)
    check(rows_seen(log_entries(offset, 100), "/open/") == collections.Counter(range(100)),
          "nginx must see rows 0-99 once each")
    # Stages and Poisson arrivals: the same schedule as the run without --pick once.
    for shape in (["--stages", "1s:100,1s:300"], ["-r", "150", "-d", "2s", "--arrival", "poisson", "--seed", "7"]):
        args = [url, "--data", data_file, "-t", "2", "--allow-invalid"] + shape
        full, _ = scheduled_of(args + ["--pick", "seq"])
        once, _ = scheduled_of(args + ["--pick", "once"])
        h.log("  %s: seq %s, once %s" % (" ".join(shape), full, once))
        check(once["scheduled"] == full["scheduled"] and once["ok"] == 100
              and once["unsent"] == full["scheduled"] - 100,
              "%s: want the %d arrivals of the schedule = 100 ok + the rest unsent: %s"
              % (" ".join(shape), full["scheduled"], once))


@test
def template_with_missing_column_is_refused():
    with open(path("trips.csv"), "w", encoding="utf-8") as f:
        f.write(CSV_TEXT)
    offset = nginx.access_log_size()
    url = "http://127.0.0.1:%d/r?from={from_lat}&via={via_point}" % nginx.port
    t0 = time.monotonic()
    rc, data, out, err = run([url, "--data", path("trips.csv"), "-r", "100", "-d", "3s"])
    check(rc == 2, "want exit 2 (usage error), got %d; stderr: %s" % (rc, err.strip()))
    check("via_point" in err, "stderr does not name the missing column 'via_point': %r" % err)
    check("trips.csv" in err, "stderr does not name the data file: %r" % err)
    check(time.monotonic() - t0 < 2.5, "the refusal should come before the 3 s run")
    time.sleep(0.2)
    check(nginx.access_log_size() == offset, "nginx received requests although the template was refused")


@test
def malformed_csv_row_is_refused_with_its_line():
    # Line numbers count every line of the file, also line breaks inside quotes:
    # line 1 header, 2 row, 3-4 one row with a quoted line break, 5 row, 6 bad row.
    with open(path("bad.csv"), "w") as f:
        f.write('from_lat,from_lng,to_lat,to_lng\n'
                '1,2,3,4\n'
                '"multi\nline",2,3,4\n'
                '5,6,7,8\n'
                '9,10,11,12,13\n'
                '14,15,16,17\n')
    offset = nginx.access_log_size()
    rc, data, out, err = run([TEMPLATE % nginx.port, "--data", path("bad.csv"), "-r", "100", "-d", "3s"])
    check(rc == 2, "want exit 2, got %d; stderr: %s" % (rc, err.strip()))
    check(re.search(r"\bline 6\b", err), "stderr does not name line 6: %r" % err)
    check("bad.csv" in err, "stderr does not name the file: %r" % err)
    # an unterminated quote: the error names the line where the row starts (3)
    with open(path("badq.csv"), "w") as f:
        f.write('from_lat,from_lng,to_lat,to_lng\n1,2,3,4\n"5,6,7,8\n9,10,11,12\n')
    rc, data, out, err = run([TEMPLATE % nginx.port, "--data", path("badq.csv"), "-r", "100", "-d", "3s"])
    check(rc == 2, "want exit 2 for an unterminated quote, got %d; stderr: %s" % (rc, err.strip()))
    check(re.search(r"\bline 3\b", err) and "badq.csv" in err,
          "stderr does not name 'badq.csv' line 3: %r" % err)
    time.sleep(0.2)
    check(nginx.access_log_size() == offset, "nginx received requests although the data was refused")


@test
def targets_file_names_and_weights():
    body = '{{"trip": "x", "n": 1}}'  # a template: braces doubled
    rendered_body = '{"trip": "x", "n": 1}'
    with open(path("post-body.json"), "w") as f:
        f.write(body)
    with open(path("targets.txt"), "w") as f:
        f.write("# three GETs for every POST\n"
                "# name=a weight=3\n"
                "GET http://127.0.0.1:%d/a\n"
                "X-E2E: from-targets\n"
                "\n"
                "# name=b\n"
                "POST http://127.0.0.1:%d/b\n"
                "Content-Type: application/json\n"
                "@post-body.json\n" % (nginx.port, nginx.port))
    offset = nginx.access_log_size()
    rc, data, out, err = run(["--targets", path("targets.txt"), "-r", "2000", "-d", "4s", "-t", "1",
                              "--allow-invalid"])
    check(rc == 0 and data is not None, "rc %d, stderr: %s" % (rc, err.strip()[-400:]))
    c = check_counts_add_up(data)
    check(c["ok"] == c["scheduled"] == 8000, "want 8000 ok: %s" % c)
    groups = data["groups"]
    check(set(groups) == {"a", "b"}, "groups %s, want {a, b}" % sorted(groups))
    na, nb = groups["a"]["requests"], groups["b"]["requests"]
    total = na + nb
    h.log("  targets: a=%d b=%d (a share %.4f)" % (na, nb, na / total))
    check(total == c["scheduled"], "group requests %d != scheduled %d" % (total, c["scheduled"]))
    check(h.within(na / total, 0.75, 0.05) and h.within(nb / total, 0.25, 0.05),
          "shares a=%.4f b=%.4f are not 3:1 within 5%%" % (na / total, nb / total))
    entries = log_entries(offset, total)
    by = collections.Counter((m, u) for m, u, _, _ in entries)
    check(by == collections.Counter({("GET", "/a"): na, ("POST", "/b"): nb}),
          "nginx saw %s, want GET /a x%d and POST /b x%d" % (dict(by), na, nb))
    lens = collections.Counter(clen for m, _, clen, _ in entries if m == "POST")
    check(lens == collections.Counter({str(len(rendered_body)): nb}),
          "POST Content-Length values %s, want %d (the rendered @body file)" % (dict(lens), len(rendered_body)))
    hdrs = collections.Counter(hv for m, _, _, hv in entries if m == "GET")
    check(hdrs == collections.Counter({"from-targets": na}),
          "X-E2E header values on the GETs: %s" % dict(hdrs))


@test
def max_names_folds_the_rest_into_other():
    with open(path("three.txt"), "w") as f:
        for n in ("first", "second", "third"):
            f.write("# name=%s\nGET http://127.0.0.1:%d/%s\n\n" % (n, nginx.port, n))
    rc, data, out, err = run(["--targets", path("three.txt"), "--max-names", "2",
                              "-r", "600", "-d", "2s", "-t", "1", "--allow-invalid"])
    check(rc == 0 and data is not None, "rc %d, stderr: %s" % (rc, err.strip()[-400:]))
    c = check_counts_add_up(data)
    groups = data["groups"]
    h.log("  max-names 2: %s" % {k: v["requests"] for k, v in groups.items()})
    check("other" in groups, "no 'other' group with --max-names 2 and three names: %s" % sorted(groups))
    check(len(groups) == 3, "want two named groups plus 'other': %s" % sorted(groups))
    check(set(groups) - {"other"} <= {"first", "second", "third"}, "unexpected names %s" % sorted(groups))
    check(sum(g["requests"] for g in groups.values()) == c["scheduled"],
          "group requests do not add up to scheduled %d" % c["scheduled"])
    check(groups["other"]["requests"] > 0, "'other' got no requests: %s" % groups["other"])


@test
def memory_is_flat_over_500k_distinct_urls():
    big = h.Nginx(access_log=False).start()
    try:
        with open(path("big.csv"), "w") as f:
            f.write(",".join(COLUMNS) + "\n")
            f.writelines("52.%06d,13.%06d,48.%06d,2.%06d\n" % (i, i, (i * 7) % 1000000, (i * 13) % 1000000)
                         for i in range(500000))
        # Under make asan, ASan's quarantine (256 MB) holds freed memory back
        # on purpose and RSS grows until it is full: this process gets none,
        # so what is measured is salvo's own memory (overflows still caught).
        saved = os.environ.get("ASAN_OPTIONS")
        os.environ["ASAN_OPTIONS"] = (saved + ":" if saved else "") + "quarantine_size_mb=0"
        try:
            s = h.Salvo(["run", TEMPLATE % big.port, "--data", path("big.csv"), "--pick", "seq",
                         "-r", "20000", "-d", "25s", "-t", "1", "-c", "64", "-q", "--allow-invalid"])
        finally:
            if saved is None:
                del os.environ["ASAN_OPTIONS"]
            else:
                os.environ["ASAN_OPTIONS"] = saved
        rss = {}
        for sec in range(1, 27):
            time.sleep(max(0.0, s.t_start + sec - time.monotonic()))
            v = h.rss_kb(s.pid)
            if v is None or s.proc.poll() is not None:
                break
            rss[sec] = v
        rc, data, out, err = s.finish(timeout=60)
    finally:
        big.stop()
    h.log("  RSS kB by second: %s" % " ".join("%d:%d" % kv for kv in sorted(rss.items())))
    check(rc == 0 and data is not None, "rc %d, stderr: %s" % (rc, err.strip()[-400:]))
    check(5 in rss and 20 in rss, "salvo was not running at 5 s and 20 s: samples %s" % rss)
    limit = rss[5] * 1.15 + 2048
    check(rss[20] <= limit,
          "RSS grew with distinct URLs: %d kB at 20 s > %d kB at 5 s x 1.15 + 2 MB (= %.0f)"
          % (rss[20], rss[5], limit))
    c = check_counts_add_up(data)
    check(c["scheduled"] == 500000, "want 500000 scheduled: %s" % c)
    check(c["ok"] >= 0.99 * c["scheduled"], "most requests should succeed: %s" % c)
    check(list(data["groups"]) == ["/r"],
          "500000 distinct URLs must make exactly one group: %s" % list(data["groups"])[:10])


if __name__ == "__main__":
    h.main(setup=setup)
