"""test_report.py — `salvo report RESULT.json… --html FILE`, end to end.

Renders the recorded sample results (tests/e2e/data) with the real binary
and checks what a user and a static host rely on: the verb's exit codes and
one-line errors; a page that references nothing outside itself (no script,
no external src/href, no CSS url()); every result and chart present. Then,
when Debian's chromium is installed, the page is rendered headless: the
DOM it builds must hold the charts' SVG with drawn lines, and the
screenshot must not be blank (the PNG is decoded here with zlib and its
pixels inspected). Without chromium that part is skipped with a note.

Python 3 stdlib only. Every child process is bounded in time; chromium runs
in its own session so that, on a timeout, its whole process group (which
this test started) is killed by its id.
"""

import html.parser
import json
import os
import signal
import struct
import subprocess
import zlib

import harness as h
from harness import check, test

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
OPEN = os.path.join(DATA, "sample-open-freeze.json")
CLOSED = os.path.join(DATA, "sample-closed-freeze.json")
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
WINDOW = (1400, 2400)

# Attributes through which a page can make the browser fetch something.
FETCHING_ATTRS = ("src", "href", "xlink:href", "srcset", "poster", "data", "action", "formaction", "background")
FORBIDDEN_TAGS = ("script", "link", "img", "iframe", "object", "embed", "base", "audio", "video", "source")


def salvo(*args, timeout=30):
    """Runs salvo; returns (exit code, stdout, stderr)."""
    p = subprocess.run([h.SALVO_BIN] + list(args), capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def render(*inputs, name="out.html"):
    """Renders inputs into a temp file and returns the page's text."""
    out = os.path.join(h.make_temp_dir("salvo-report-"), name)
    rc, stdout, stderr = salvo("report", *inputs, "--html", out)
    check(rc == 0, "salvo report exited %d: %s" % (rc, stderr.strip()))
    check(os.path.getsize(out) > 10000, "page is only %d bytes" % os.path.getsize(out))
    with open(out, encoding="utf-8") as f:
        return out, f.read()


class PageAudit(html.parser.HTMLParser):
    """Collects tags, fetching attributes and style text of a page."""

    def __init__(self):
        super().__init__()
        self.tags = {}
        self.fetches = []
        self.style = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self._in_style = tag == "style"
        for k, v in attrs:
            if k in FETCHING_ATTRS or (k == "style" and "url(" in (v or "")):
                self.fetches.append((tag, k, v))

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.style.append(data)


def audit(page):
    a = PageAudit()
    a.feed(page)
    a.close()
    return a


# ---------------------------------------------------------------- the verb


@test
def test_report_renders_sample():
    _, page = render(OPEN)
    for needle in ("<svg", "Invalid measurement", "generator fell behind", "Percentile spectrum", "Per name",
                   "Kernel counter deltas", "Outcomes", "Status codes", "99.99%"):
        check(needle in page, "page lacks %r" % needle)
    a = audit(page)
    check(a.tags.get("svg", 0) >= 4, "expected >= 4 charts, found %d" % a.tags.get("svg", 0))
    check(a.tags.get("path", 0) >= 8, "expected drawn lines, found %d paths" % a.tags.get("path", 0))


@test
def test_page_is_self_contained():
    _, page = render(OPEN, CLOSED)
    a = audit(page)
    for tag in FORBIDDEN_TAGS:
        check(tag not in a.tags, "page has a <%s> element" % tag)
    for tag, attr, value in a.fetches:
        check((value or "").startswith("#"), "<%s %s=%r> points outside the page" % (tag, attr, value))
    style = "".join(a.style)
    check("url(" not in style and "@import" not in style, "style sheet fetches something")
    lowered = page.lower()
    for bad in ('src="http', "src='http", 'href="http', "href='http", 'href="//', "<script", "<link"):
        check(bad not in lowered, "page contains %r" % bad)


@test
def test_closed_model_warning_and_several_results():
    _, page = render(CLOSED, OPEN, "--title", "naive (closed)", "--title", "honest (open)")
    check("Coordinated omission" in page, "closed-model warning missing")
    check("Side by side" in page, "comparison missing for two results")
    check("naive (closed)" in page and "honest (open)" in page, "titles missing")
    check(page.count('<section class="result"') == 2, "expected two result sections")


@test
def test_demo_experiments_file():
    with open(OPEN) as f:
        open_result = json.load(f)
    with open(CLOSED) as f:
        closed_result = json.load(f)
    doc = {"experiments": [{"name": "naive", "result": closed_result},
                           {"name": "naive <frozen>", "result": closed_result},
                           {"name": "honest", "result": open_result}]}
    path = os.path.join(h.make_temp_dir("salvo-report-"), "demo.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    _, page = render(path)
    check(page.count('<section class="result"') == 3, "expected three result sections")
    check("naive &lt;frozen&gt;" in page, "experiment name not escaped or missing")


@test
def test_failed_thresholds_lead_a_valid_runs_verdict():
    with open(CLOSED) as f:
        result = json.load(f)
    check(result["valid"] is True, "the closed sample should be a valid run")
    result["thresholds"] = {
        "latency.p99 < 1s": {"pass": False, "observed": 500223.0, "limit": 1e6, "unit": "us",
                             "note": "p99 >= 500.22ms: requests timed out, so the true value is unknown"},
        "errors.rate < 1%": {"pass": False, "observed": 0.3, "limit": 0.01, "unit": "ratio"},
        "requests.count > 10": {"pass": True, "observed": 800.0, "limit": 10.0, "unit": "count"},
    }
    path = os.path.join(h.make_temp_dir("salvo-report-"), "gated.json")
    with open(path, "w") as f:
        json.dump(result, f)
    _, page = render(path)
    start = page.find('<div class="verdict')
    box = page[start:page.find('<div class="cards">', start)]
    check(box.startswith('<div class="verdict failed"><strong>✗ 2 thresholds failed</strong>'),
          "the verdict box should lead with the failed thresholds: %r" % box[:200])
    for expr in ("latency.p99 &lt; 1s", "errors.rate &lt; 1%"):
        check("<code>%s</code>" % expr in box, "the verdict box does not list %r: %r" % (expr, box))
    check("requests timed out" in box, "the failed threshold's note is not in the box")
    check("requests.count" not in box, "a passed threshold is listed among the failed ones")
    check("✓ Valid measurement" in box and "<strong>✓ Valid measurement" not in page,
          "validity should stay 'valid', as a second verdict: %r" % box)
    _, page = render(path, OPEN)
    row = page[page.find("<tr><th>thresholds</th>"):]
    check(row.startswith('<tr><th>thresholds</th><td class="num bad">✗ 2 of 3 failed</td>'),
          "the side-by-side table has no failed-thresholds row: %r" % row[:200])
    check('<tr><th>verdict</th><td class="num ok">valid</td>' in page, "side by side: validity should stay 'valid'")


@test
def test_usage_and_input_errors():
    d = h.make_temp_dir("salvo-report-")
    out = os.path.join(d, "x.html")
    bad = os.path.join(d, "bad.json")
    with open(bad, "w") as f:
        f.write("{\"config\": ")
    not_result = os.path.join(d, "list.json")
    with open(not_result, "w") as f:
        f.write("[1, 2]")
    cases = [
        (["report"], 2, "RESULT.json"),
        (["report", OPEN], 2, "--html"),
        (["report", OPEN, "--html"], 2, "'--html'"),
        (["report", OPEN, "--bogus", "--html", out], 2, "'--bogus'"),
        (["report", os.path.join(d, "missing.json"), "--html", out], 2, "cannot read '%s'" % os.path.join(d, "missing.json")),
        (["report", bad, "--html", out], 2, "cannot read '%s'" % bad),
        (["report", not_result, "--html", out], 2, "cannot read '%s'" % not_result),
        (["report", OPEN, "--html", os.path.join(d, "no-such-dir", "x.html")], 2, "cannot write"),
    ]
    for args, want_rc, want_text in cases:
        rc, stdout, stderr = salvo(*args)
        lines = stderr.strip().splitlines()
        check(rc == want_rc, "%s: exit %d, want %d (%s)" % (args, rc, want_rc, stderr.strip()))
        check(len(lines) == 1 and lines[0].startswith("salvo: "), "%s: stderr %r" % (args, stderr))
        check(want_text in lines[0], "%s: %r does not name %r" % (args, lines[0], want_text))
        check(stdout == "", "%s: printed on stdout: %r" % (args, stdout))
    check(not os.path.exists(out), "a failed report still wrote its output")


# ---------------------------------------------------------------- headless chromium


def png_pixels(path):
    """Decodes an 8-bit RGB/RGBA non-interlaced PNG: (width, height, channels, rows)."""
    with open(path, "rb") as f:
        data = f.read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG")
    pos, idat, width = 8, [], 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            check(depth == 8 and color in (2, 6) and interlace == 0, "unexpected PNG format %d/%d" % (depth, color))
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        kind, cur = line[0], bytearray(line[1:])
        for i in range(stride):
            a = cur[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if kind == 1:
                cur[i] = (cur[i] + a) & 255
            elif kind == 2:
                cur[i] = (cur[i] + b) & 255
            elif kind == 3:
                cur[i] = (cur[i] + ((a + b) >> 1)) & 255
            elif kind == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                cur[i] = (cur[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(cur))
        prev = cur
    return width, height, channels, rows


def run_chromium(args, cwd, timeout=120):
    """Runs chromium headless in its own session; kills its group on timeout."""
    profile = os.path.join(cwd, "profile")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--user-data-dir=" + profile] + args
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise AssertionError("chromium did not finish in %d s" % timeout)
    return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


@test
def test_chromium_renders_charts():
    h.require_tool(CHROMIUM, "scripts/install-deps.sh installs chromium")
    page_path, _ = render(OPEN, CLOSED)
    work = os.path.dirname(page_path)
    url = "file://" + page_path

    rc, dom, err = run_chromium(["--dump-dom", url], work)
    check(rc == 0, "chromium --dump-dom exited %d: %s" % (rc, err[-500:]))
    a = audit(dom)
    check(a.tags.get("svg", 0) >= 9, "DOM has %d svg elements, want >= 9" % a.tags.get("svg", 0))
    for label in ("Latency per second", "Requests per second", "Percentile spectrum of latency",
                  "Latency percentile spectrum of every result"):
        check(label in dom, "chart %r not in the DOM" % label)
    check(dom.count('class="line ') >= 12, "too few drawn lines in the DOM")

    png = os.path.join(work, "shot.png")
    rc, _, err = run_chromium(["--screenshot=" + png, "--window-size=%d,%d" % WINDOW, url], work)
    check(rc == 0 and os.path.exists(png), "chromium --screenshot failed (%d): %s" % (rc, err[-500:]))
    check(os.path.getsize(png) > 30000, "screenshot is only %d bytes" % os.path.getsize(png))
    width, height, channels, rows = png_pixels(png)
    check((width, height) == WINDOW, "screenshot is %dx%d" % (width, height))
    colours, inked = set(), 0
    for y in range(0, height, 7):
        row = rows[y]
        for x in range(0, width, 5):
            px = row[x * channels:x * channels + 3]
            colours.add(px)
            inked += max(px) < 200
    sampled = len(range(0, height, 7)) * len(range(0, width, 5))
    check(len(colours) >= 40, "screenshot has only %d colours: blank?" % len(colours))
    check(inked > sampled * 0.005, "screenshot has almost no dark pixels (%d of %d)" % (inked, sampled))
    h.log("screenshot %dx%d, %d bytes, %d colours, %.1f%% dark pixels" %
          (width, height, os.path.getsize(png), len(colours), 100.0 * inked / sampled))


if __name__ == "__main__":
    h.main()
