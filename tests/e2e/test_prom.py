"""test_prom.py — the live `--metrics` text passes Debian's `promtool check metrics`.

A Prometheus server, a Grafana agent or a remote-write bridge all read the
exposition text the same strict way: each family's HELP and TYPE right
before its own samples, every family documented, names and types that the
linter accepts. The run here has two request names (so a per-name family
has more than one series) and is scraped while it runs; promtool must exit
0 with nothing to say, lint included. promtool comes from the `prometheus`
package that scripts/install-deps.sh installs, so its absence is a failure.
"""

import os
import re
import shutil
import subprocess
import time
import urllib.request

import harness as h
from harness import check, test

nginx = None


def setup():
    global nginx
    nginx = h.Nginx().start()


def targets_file(*names):
    d = h.make_temp_dir("salvo-prom-")
    path = os.path.join(d, "targets.txt")
    with open(path, "w") as f:
        for name in names:
            f.write("# name=%s\nGET %s/%s\n\n" % (name, nginx.url.rstrip("/"), name))
    return d, path


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=3) as r:
        return r.status, r.read().decode()


@test
def live_metrics_pass_promtool_lint():
    promtool = shutil.which("promtool")
    check(promtool, "promtool not found: scripts/install-deps.sh installs the prometheus package")
    d, targets = targets_file("alpha", "beta")
    port = h.free_port()
    s = h.Salvo(["run", "--targets", targets, "-r", "200", "-d", "4s", "-t", "1", "-q", "--allow-invalid",
                 "--metrics", "127.0.0.1:%d" % port])
    text = ""
    try:
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            time.sleep(0.3)
            try:
                status, text = scrape(port)
            except OSError:
                continue
            if status == 200 and "salvo_latency_seconds{" in text and 'name="beta"' in text:
                break
    finally:
        rc, _, _, err = s.finish(timeout=30)
        h.remove_temp_dir(d)
    check(rc == 0, "the run exited %d: %s" % (rc, err.strip()[-300:]))
    check('name="alpha"' in text and 'name="beta"' in text,
          "no per-name series scraped in 6 s:\n%s" % text[:1500])
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=20)
    h.log("  promtool: rc %d, %r" % (r.returncode, (r.stdout + r.stderr).strip()[:400]))
    check(r.returncode == 0 and not (r.stdout + r.stderr).strip(),
          "promtool check metrics: rc %d\n%s\non:\n%s" % (r.returncode, (r.stdout + r.stderr)[:1500], text[:2000]))
    # Every family is documented and typed once, and its samples follow it in one block.
    families = re.findall(r"^# TYPE (\S+) ", text, re.M)
    helps = re.findall(r"^# HELP (\S+) ", text, re.M)
    check(len(families) == len(set(families)), "a TYPE line repeats: %s" % families)
    check(sorted(families) == sorted(helps), "TYPE without HELP (or the other way): %s vs %s" % (families, helps))
    current = None
    seen = set()
    for line in text.splitlines():
        m = re.match(r"^# TYPE (\S+) ", line)
        if m:
            current = m.group(1)
            check(current not in seen, "family %s comes back after another one" % current)
            seen.add(current)
            continue
        if not line or line.startswith("#"):
            continue
        name = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)", line).group(1)
        check(current and (name == current or name in (current + "_sum", current + "_count")),
              "sample %r is outside its family's block (current family %s)" % (line, current))


if __name__ == "__main__":
    h.main(setup=setup)
