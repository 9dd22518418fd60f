"""test_progress.py — `--progress plain` shows every second, also of a short run.

A CI log is not a terminal: the progress there is one plain line per second.
It used to be one line every 5 s, so a 3-second run printed no progress at
all and looked hung. The lines must carry the elapsed second and no terminal
control codes.
"""

import re

import harness as h
from harness import check, test

nginx = None


def setup():
    global nginx
    nginx = h.Nginx().start()


@test
def plain_progress_prints_each_second_of_a_short_run():
    rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "100", "-d", "3s", "-t", "1",
                                      "--progress", "plain", "--allow-invalid"], timeout=30)
    check(rc == 0, "rc %d: %s" % (rc, err.strip()[-400:]))
    seconds = [int(m.group(1)) for m in re.finditer(r"^\[\s*(\d+)s/3s\]", err, re.M)]
    h.log("  progress seconds: %s" % seconds)
    check(seconds == [1, 2, 3], "expected a plain progress line for seconds 1, 2, 3, got %s:\n%s"
          % (seconds, err[-1500:]))
    check("\r" not in err and "\x1b[" not in err, "plain progress contains terminal control codes")


@test
def progress_off_prints_no_progress_line():
    rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "100", "-d", "2s", "-t", "1",
                                      "--progress", "off", "--allow-invalid"], timeout=30)
    check(rc == 0, "rc %d: %s" % (rc, err.strip()[-400:]))
    check(not re.search(r"^\[\s*\d+s/2s\]", err, re.M), "--progress off printed progress:\n%s" % err[-800:])


if __name__ == "__main__":
    h.main(setup=setup)
