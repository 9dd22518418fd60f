"""test_merge.py — `salvo merge` on real shards, end to end.

Three shards of one run (`--shard K/3`, one common `--start-at`) run as
local processes in parallel against one nginx, then the same schedule runs
as a single process. The merged result must hold exactly the whole
schedule (ceil(r*D) arrivals, the sum over the shards), its histograms must
be the bucket-by-bucket sums of the shards' (decoded here independently of
salvo's codec), and its latency must be close to the single run's (same
server, same schedule). The verb must refuse results of another run, a
shard given twice and files that are not salvo results (exit 2, one line
naming the file), warn about a missing shard and list it in the JSON, and
judge thresholds once on the merged result (exit 99 on failure).

Python 3 stdlib only; see harness.py for the process and cleanup rules.
"""

import base64
import json
import math
import os
import struct
import time
import zlib

import harness as h
from harness import check, test

RATE = 600
DURATION_S = 4
SHARDS = 3
SCHEDULED = math.ceil(RATE * DURATION_S)
LEAD_S = 3  # time for every shard process to start before the common instant

state = {}


def run_args(url, json_path, *extra):
    return ["run", url, "-r", RATE, "-d", "%ds" % DURATION_S, "-t", "1", "-q", "--allow-invalid",
            "--json", json_path] + list(extra)


def setup():
    """Starts nginx, runs the shards in parallel, then the single process."""
    nginx = h.Nginx(access_log=False).start()
    state["nginx"] = nginx
    d = h.make_temp_dir("salvo-e2e-merge-")
    state["dir"] = d
    start_at = int(time.time()) + LEAD_S
    paths = [os.path.join(d, "shard-%d.json" % k) for k in range(SHARDS)]
    procs = [h.Salvo(run_args(nginx.url, p, "--shard", "%d/%d" % (k, SHARDS), "--start-at", start_at),
                     json_out=False) for k, p in enumerate(paths)]
    for k, p in enumerate(procs):
        rc, _, _, err = p.finish(timeout=LEAD_S + DURATION_S + 30)
        check(rc == 0, "shard %d exited %d: %s" % (k, rc, err.strip()))
    state["shards"] = paths
    state["shard_results"] = [load(p) for p in paths]
    single = os.path.join(d, "single.json")
    rc, _, _, err = h.Salvo(run_args(nginx.url, single), json_out=False).finish(timeout=DURATION_S + 30)
    check(rc == 0, "single run exited %d: %s" % (rc, err.strip()))
    state["single"] = single
    state["single_result"] = load(single)


def teardown():
    if "nginx" in state:
        state["nginx"].stop()


def load(path):
    with open(path) as f:
        return json.load(f)


def merge(*args, timeout=60):
    """Runs salvo merge; returns (exit code, stdout, stderr)."""
    rc, _, out, err = h.Salvo(["merge"] + [str(a) for a in args], json_out=False).finish(timeout)
    return rc, out, err


def merged_path(name):
    return os.path.join(state["dir"], name)


def hdr_counts(b64):
    """Decodes HdrHistogram V2 base64 into (layout, {index: count}).

    An independent reading of the format (big-endian header, zlib payload,
    ZigZag LEB128 counts where a negative value skips that many zeros).
    """
    raw = base64.b64decode(b64)
    cookie, length = struct.unpack(">ii", raw[:8])
    check(cookie == 0x1c849314, "bad compressed cookie %#x" % cookie)
    payload = zlib.decompress(raw[8:8 + length])
    _, plen, _, sigfig, lowest, highest, _ = struct.unpack(">iiiiqqd", payload[:40])
    counts, index, pos, end = {}, 0, 40, 40 + plen
    while pos < end:
        value, shift = 0, 0
        for i in range(9):
            byte = payload[pos]
            pos += 1
            if i == 8:  # the ninth byte carries 8 bits
                value |= byte << shift
                break
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        value = (value >> 1) ^ -(value & 1)
        if value < 0:
            index -= value
        else:
            if value:
                counts[index] = value
            index += 1
    return (sigfig, lowest, highest), counts


def one_line_error(err, *words):
    lines = [l for l in err.splitlines() if l.strip()]
    check(len(lines) == 1 and lines[0].startswith("salvo: "), "expected one 'salvo: ' line, got %r" % err)
    for w in words:
        check(w in lines[0], "%r not in the error %r" % (w, lines[0]))


# ---------------------------------------------------------------- tests


@test
def shards_split_one_schedule():
    results = state["shard_results"]
    ids = {r["run_id"] for r in results}
    check(len(ids) == 1, "shards of one run must share run_id: %s" % ids)
    check(sorted(r["config"]["shard"] for r in results) == list(range(SHARDS)), "shard indices")
    per = [r["requests"]["scheduled"] for r in results]
    check(sum(per) == SCHEDULED, "shards scheduled %s, sum %d != %d" % (per, sum(per), SCHEDULED))
    starts = {r["start_unix_ms"] for r in results}
    check(len(starts) == 1, "shards must start on the common instant: %s" % starts)


@test
def merged_counts_add():
    out_path = merged_path("merged.json")
    rc, out, err = merge(*state["shards"], "--json", out_path)
    check(rc == 0, "merge exited %d: %s" % (rc, err))
    check(err.strip() == "", "unexpected stderr: %r" % err)
    check("salvo merge:" in out and "requests" in out and "latency" in out and "rate" in out,
          "summary lacks lines: %r" % out)
    m = load(out_path)
    shards = state["shard_results"]
    h.check_counts_add_up(m)
    check(m["requests"]["scheduled"] == SCHEDULED, "merged scheduled %d != %d" % (m["requests"]["scheduled"], SCHEDULED))
    for k in ("scheduled", "ok", "http_error", "failed", "timeout", "unsent"):
        total = sum(r["requests"][k] for r in shards)
        check(m["requests"][k] == total, "requests.%s %d != sum over shards %d" % (k, m["requests"][k], total))
    check(m["rate"]["sent"] == sum(r["rate"]["sent"] for r in shards), "rate.sent must add")
    check(m["rate"]["intended"] == RATE, "rate.intended must be the whole run's: %s" % m["rate"])
    check(m["config"]["shard"] is None and m["config"]["shards"] == SHARDS, "config: %s" % m["config"])
    check(m["shards_merged"] == list(range(SHARDS)) and m["missing_shards"] == [],
          h.excerpt(m, "shards_merged", "missing_shards"))
    check(m["run_id"] == shards[0]["run_id"], "run_id must be kept")
    check(sum(row["sent"] for row in m["timeline"]) == m["rate"]["sent"], "timeline sent must add up to rate.sent")
    check(m["latency_us"]["count"] == sum(r["latency_us"]["count"] for r in shards), "latency count must add")
    state["merged"] = m


@test
def merged_histograms_are_sums():
    m = state.get("merged") or load(merged_path("merged.json"))
    for key in ("latency_us", "service_time_us", "wait_us", "ttfb_us", "connect_us", "send_lag_us"):
        layout, merged = hdr_counts(m["hdr"][key])
        total = {}
        for r in state["shard_results"]:
            shard_layout, counts = hdr_counts(r["hdr"][key])
            check(shard_layout == layout, "%s layouts differ: %s vs %s" % (key, shard_layout, layout))
            for i, c in counts.items():
                total[i] = total.get(i, 0) + c
        check(merged == total, "merged hdr.%s is not the bucket-wise sum of the shards'" % key)
    check(m["ttfb_us"]["p50"] is not None and m["ttfb_us"]["count"] == sum(r["ttfb_us"]["count"] for r in state["shard_results"]),
          "ttfb has a histogram in every result: its merged percentiles must be numbers, its count exact: %s" % m["ttfb_us"])


@test
def merged_matches_single_run():
    m = state.get("merged") or load(merged_path("merged.json"))
    s = state["single_result"]
    check(s["requests"]["scheduled"] == SCHEDULED, "single run scheduled %d" % s["requests"]["scheduled"])
    check(m["requests"]["scheduled"] == s["requests"]["scheduled"], "merged and single scheduled differ")
    mp, sp = m["latency_us"]["p50"], s["latency_us"]["p50"]
    # The median of a union lies between the medians of its parts (within a
    # histogram bucket, 0.1 %): exact, whatever the machine's load did to the
    # runs. The single run of the same schedule is only a sanity bound: on a
    # machine shared with other work its median and the shards' differ freely.
    parts = [r["latency_us"]["p50"] for r in state["shard_results"]]
    check(min(parts) * 0.998 - 1 <= mp <= max(parts) * 1.002 + 1,
          "merged p50 %d us outside the shards' medians %s" % (mp, parts))
    check(mp <= 20 * sp + 1000 and sp <= 20 * mp + 1000, "merged p50 %d us vs single %d us" % (mp, sp))
    check(m["latency_us"]["min"] <= m["latency_us"]["p50"] <= m["latency_us"]["p99"] <= m["latency_us"]["max"],
          "merged percentiles out of order: %s" % m["latency_us"])


@test
def refuses_results_of_another_run():
    rc, out, err = merge(state["shards"][0], state["single"])
    check(rc == 2, "mixed runs: exit %d, expected 2" % rc)
    one_line_error(err, state["single"], "run_id")


@test
def refuses_shards_that_asked_for_other_requests():
    """A shard with another header, body or --max-names sent other traffic: another run, whatever the schedule."""
    for name, extra in (("header", ["-H", "X-Variant: b"]), ("body", ["-m", "POST", "--body", "x"]),
                        ("names", ["--max-names", "7"])):
        other = merged_path("other-%s.json" % name)
        rc, _, _, err = h.Salvo(run_args(state["nginx"].url, other, "--shard", "1/2", "-d", "1s", *extra),
                                json_out=False).finish(timeout=30)
        check(rc == 0 and os.path.exists(other), "the %s shard run exited %d: %s" % (name, rc, err.strip()))
        plain = merged_path("plain-%s.json" % name)
        rc, _, _, err = h.Salvo(run_args(state["nginx"].url, plain, "--shard", "0/2", "-d", "1s"),
                                json_out=False).finish(timeout=30)
        check(rc == 0, "the plain shard run exited %d: %s" % (rc, err.strip()))
        check(load(other)["run_id"] != load(plain)["run_id"],
              "a shard with another %s must get another run_id" % name)
        rc, out, err = merge(plain, other)
        check(rc == 2 and "run_id" in err, "shards differing in %s merged (exit %d): %s" % (name, rc, err.strip()))


@test
def a_shard_with_no_arrivals_is_valid():
    """-r 10 over 1000 shards leaves most shards nothing to send: that is not a saturated generator."""
    path = merged_path("empty-shard.json")
    rc, _, _, err = h.Salvo(["run", state["nginx"].url, "-r", "10", "-d", "2s", "--shard", "999/1000", "-q",
                             "--json", path], json_out=False).finish(timeout=30)
    data = load(path)
    check(data["requests"]["scheduled"] == 0, "shard 999/1000 of 10/s x 2 s should have no arrivals: %s"
          % data["requests"])
    check(rc == 0 and data["valid"], "an empty shard must be valid (exit %d): %s" % (rc, data["invalid_reasons"]))


@test
def refuses_a_shard_given_twice():
    rc, out, err = merge(state["shards"][0], state["shards"][1], state["shards"][1])
    check(rc == 2, "duplicate shard: exit %d, expected 2" % rc)
    one_line_error(err, state["shards"][1], "given twice")


@test
def refuses_non_salvo_files():
    junk = merged_path("junk.json")
    with open(junk, "w") as f:
        json.dump({"hello": "world"}, f)
    rc, out, err = merge(state["shards"][0], junk)
    check(rc == 2, "non-salvo JSON: exit %d, expected 2" % rc)
    one_line_error(err, junk, "not a salvo result")
    text = merged_path("text.json")
    with open(text, "w") as f:
        f.write("not json at all\n")
    rc, out, err = merge(text)
    check(rc == 2, "non-JSON: exit %d, expected 2" % rc)
    one_line_error(err, text)


@test
def warns_about_a_missing_shard():
    out_path = merged_path("partial.json")
    rc, out, err = merge(state["shards"][0], state["shards"][2], "--json", out_path)
    check(rc == 0, "missing shard must not fail: exit %d: %s" % (rc, err))
    check("warning" in err and "missing" in err and "(1)" in err, "no warning naming shard 1: %r" % err)
    m = load(out_path)
    check(m["missing_shards"] == [1] and m["shards_merged"] == [0, 2], h.excerpt(m, "missing_shards", "shards_merged"))
    expect = sum(state["shard_results"][k]["requests"]["scheduled"] for k in (0, 2))
    check(m["requests"]["scheduled"] == expect, "partial scheduled %d != %d" % (m["requests"]["scheduled"], expect))


@test
def thresholds_judge_the_merged_result():
    out_path = merged_path("gated.json")
    rc, out, err = merge(*state["shards"], "--json", out_path, "--threshold", "latency.p50 < 1us",
                         "--threshold", "latency.p99 < 60s")
    check(rc == 99, "failing threshold: exit %d, expected 99 (%s)" % (rc, err))
    t = load(out_path)["thresholds"]
    check(t["latency.p50 < 1us"]["pass"] is False and t["latency.p99 < 60s"]["pass"] is True, "thresholds: %s" % t)
    check("FAIL" in out and "latency.p50 < 1us" in out, "summary must show the failed threshold: %r" % out)
    rc, out, err = merge(*state["shards"], "--threshold", "requests.count == %d" % SCHEDULED,
                         "--threshold", "latency.p99 < 60s")
    check(rc == 0, "passing thresholds: exit %d (%s%s)" % (rc, out, err))
    rc, out, err = merge(*state["shards"], "--threshold", "latency.p99 <")
    check(rc == 2, "bad threshold: exit %d, expected 2" % rc)


@test
def writes_the_html_report():
    page = merged_path("report.html")
    rc, out, err = merge(*state["shards"], "--html", page, "-q")
    check(rc == 0, "merge --html exited %d: %s" % (rc, err))
    check(out == "", "-q must print nothing: %r" % out)
    with open(page) as f:
        text = f.read()
    check(text.lstrip().lower().startswith("<!doctype html") and "<svg" in text, "not an HTML report with charts")


if __name__ == "__main__":
    h.main(setup=setup, teardown=teardown)
