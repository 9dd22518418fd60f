"""test_hlog.py — `--hlog FILE` writes an HdrHistogram v1.3 interval log that a
third-party reader understands and that agrees with the results JSON.

The log is checked twice: textually (version header, StartTime, legend, one
"Tag=<name>,start,length,max,HISTF..." line per name and second) and by an
independent reader, hdr-histogram-js (npm, pinned in hlog_reader/package-lock.json;
read_hlog.js uses its HistogramLogReader and V2 decoder, nothing of salvo's).
All intervals added up must hold exactly latency_us.count values, and their p50/p99
must match the JSON's within 1 %; each interval's count must equal the
timeline's `done` for that second. The runs include a 1 s pause of nginx's
worker so that the histograms span microseconds to a second.

If node/npm are missing the test prints a note and passes without checking.
"""

import json
import os
import re
import shutil
import subprocess

import harness as h
from harness import check, check_counts_add_up, test

READER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hlog_reader")
READER = os.path.join(READER_DIR, "read_hlog.js")
LINE = re.compile(r"^(?:Tag=([^,\s]+),)?(\d+\.\d+),(\d+\.\d+),(\d+\.\d+),(HISTF[A-Za-z0-9+/=]+)$")

nginx = None
work = None
reader_note = None  # why the independent reader is unavailable, if it is


def setup():
    global nginx, work, reader_note
    nginx = h.Nginx(access_log=False).start()
    work = h.make_temp_dir("salvo-e2e-hlog-")
    reader_note = prepare_reader()
    if reader_note:
        h.log("FAIL to come: %s; the hdr-histogram-js cross-check cannot run" % reader_note)


def prepare_reader():
    """Installs the pinned reader with `npm ci` if needed; returns None or why it is unavailable."""
    if not shutil.which("node") or not shutil.which("npm"):
        return "node/npm not found on PATH"
    if os.path.isdir(os.path.join(READER_DIR, "node_modules", "hdr-histogram-js")):
        return None
    h.log("  installing hdr-histogram-js (npm ci) in %s" % READER_DIR)
    try:
        r = subprocess.run(["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=READER_DIR,
                           capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        return "npm ci timed out"
    if r.returncode != 0:
        return "npm ci failed: %s" % (r.stderr.strip()[-300:] or r.stdout.strip()[-300:])
    return None


def read_independently(path):
    r = subprocess.run(["node", READER, path], capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "read_hlog.js failed (%d): %s" % (r.returncode, r.stderr.strip()[-600:]))
    return json.loads(r.stdout)


def parse_text(path):
    """Checks the log's layout and returns its interval lines as dicts."""
    with open(path) as f:
        lines = f.read().splitlines()
    check(lines and lines[0] == "#[Histogram log format version 1.3]",
          "first line is not the v1.3 version header: %r" % (lines[:1],))
    check(any(re.match(r"^#\[StartTime: \d+(\.\d+)? ", l) for l in lines[:5]),
          "no '#[StartTime: ...]' header in %r" % lines[:5])
    legend = [i for i, l in enumerate(lines) if l.startswith('"StartTimestamp"')]
    check(legend, "no legend line (\"StartTimestamp\",...) in %r" % lines[:6])
    check(lines[legend[0]] == '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"',
          "unexpected legend %r" % lines[legend[0]])
    out = []
    for l in lines[legend[0] + 1:]:
        if not l or l.startswith("#"):
            continue
        m = LINE.match(l)
        check(m, "not an interval line: %r" % l[:200])
        out.append({"tag": m.group(1), "start": float(m.group(2)), "len": float(m.group(3)),
                    "max": float(m.group(4)), "b64": m.group(5)})
    return lines, out


def run_with_pause(extra, rate, duration_s, name_count):
    path = os.path.join(work, "run-%d.hlog" % len(os.listdir(work)))
    worker = nginx.worker_pid()
    rc, data, out, err = h.run_salvo(["run"] + extra + ["-r", str(rate), "-d", "%ds" % duration_s, "-t", "1",
                                      "-q", "--allow-invalid", "--hlog", path,
                                      "--chaos", "at=2s for=1s pause pid=%d" % worker], timeout=60)
    check(rc == 0 and data is not None, "rc %d: %s" % (rc, err.strip()[-400:]))
    check(os.path.exists(path) and os.path.getsize(path) > 0, "--hlog wrote nothing")
    c = check_counts_add_up(data)
    check(c["ok"] == c["scheduled"], "every request should succeed: %s" % c)
    lines, intervals = parse_text(path)
    return path, data, lines, intervals


def check_close(got, want, rel, what):
    check(want is not None and got is not None and abs(got - want) <= rel * abs(want),
          "%s: independent reader %s vs JSON %s (more than %.1f%% apart)" % (what, got, want, rel * 100))


@test
def hlog_one_name_matches_json():
    path, data, lines, intervals = run_with_pause([nginx.url], 500, 6, 1)
    lat = data["latency_us"]
    h.log("  %d interval lines; JSON latency count %d p50 %d p99 %d max %d"
          % (len(intervals), lat["count"], lat["p50"], lat["p99"], lat["max"]))
    check(all(iv["tag"] == "/" for iv in intervals), "every line should be tagged 'Tag=/,': %s"
          % sorted({iv["tag"] for iv in intervals}, key=str))
    starts = [iv["start"] for iv in intervals]
    check(6 <= len(intervals) <= 8, "want one line per second of a 6 s run, got %d" % len(intervals))
    check(starts == [float(i) for i in range(len(starts))], "interval starts %s are not 0,1,2,..." % starts)
    check(all(iv["len"] == 1.0 for iv in intervals), "interval lengths are not 1.000 s")
    m = re.match(r"^#\[StartTime: (\d+(?:\.\d+)?) ", next(l for l in lines if l.startswith("#[StartTime:")))
    check(abs(float(m.group(1)) * 1000 - data["start_unix_ms"]) < 1500,
          "StartTime %s is not the run's start %d ms" % (m.group(1), data["start_unix_ms"]))
    check(not reader_note, "the independent reader is required (scripts/install-deps.sh): %s" % reader_note)
    r = read_independently(path)
    check(r["intervals"] == r["interval_lines"] == len(intervals),
          "hdr-histogram-js decoded %d of %d interval lines" % (r["intervals"], r["interval_lines"]))
    h.log("  hdr-histogram-js: count %d p50 %s p99 %s max %s" % (r["total_count"], r["p50"], r["p99"], r["max"]))
    check(r["total_count"] == lat["count"],
          "hlog intervals hold %d values, JSON latency_us.count is %d" % (r["total_count"], lat["count"]))
    check_close(r["p99"], lat["p99"], 0.01, "p99")
    check_close(r["p50"], lat["p50"], 0.01, "p50")
    check_close(r["max"], lat["max"], 0.01, "max")
    check(lat["p99"] > 500000, "the pause should put p99 near 1 s (JSON p99 %d us)" % lat["p99"])
    # each interval is that second's completions, as in the timeline
    done = {row["t"]: row["done"] for row in data["timeline"]}
    for iv, pj in zip(intervals, r["per_interval"]):
        t = int(iv["start"])
        check(pj["count"] == done.get(t, 0), "second %d: hlog holds %d values, timeline done %s"
              % (t, pj["count"], done.get(t)))
        check_close(pj["max"] / 1000.0, iv["max"], 0.01, "second %d Interval_Max (ms)" % t)


@test
def hlog_tags_each_request_name():
    targets = os.path.join(work, "targets.txt")
    with open(targets, "w") as f:
        f.write("# name=alpha\nGET http://127.0.0.1:%d/alpha\n\n# name=beta weight=2\nGET http://127.0.0.1:%d/beta\n"
                % (nginx.port, nginx.port))
    path, data, lines, intervals = run_with_pause(["--targets", targets], 600, 5, 2)
    tags = sorted({iv["tag"] for iv in intervals}, key=str)
    h.log("  tags %s, %d lines, groups %s" % (tags, len(intervals),
                                                {k: v["latency_us"]["count"] for k, v in data["groups"].items()}))
    check(tags == ["alpha", "beta"], "want lines tagged alpha and beta, got %s" % tags)
    for tag in tags:
        n = sum(1 for iv in intervals if iv["tag"] == tag)
        check(5 <= n <= 7, "tag %s: %d lines for a 5 s run" % (tag, n))
    check(not reader_note, "the independent reader is required (scripts/install-deps.sh): %s" % reader_note)
    r = read_independently(path)
    check(r["intervals"] == r["interval_lines"], "decoded %d of %d lines" % (r["intervals"], r["interval_lines"]))
    check(r["total_count"] == data["latency_us"]["count"],
          "hlog total %d != latency_us.count %d" % (r["total_count"], data["latency_us"]["count"]))
    for tag in tags:
        g = data["groups"][tag]["latency_us"]
        t = r["by_tag"][tag]
        check(t["count"] == g["count"], "tag %s: hlog %d values, groups.%s.latency_us.count %d"
              % (tag, t["count"], tag, g["count"]))
        check_close(t["p99"], g["p99"], 0.01, "tag %s p99" % tag)


if __name__ == "__main__":
    h.main(setup=setup)
