"""test_kill.py — the server dies mid-run; salvo must finish and account for it.

nginx (master and worker, both started here) is SIGKILLed 2 s into a
`-r 500 -d 6s` run. salvo must exit on its own, write the results, count
every scheduled request in exactly one outcome (ok before the kill, failed
after it), and name the failures (connection refused, reset or EOF).
"""

import re
import time

import harness as h
from harness import check, check_counts_add_up, excerpt, test

ERROR_KIND = re.compile(r"refus|reset|eof|closed", re.IGNORECASE)


@test
def server_killed_mid_run():
    nginx = h.Nginx(access_log=False).start()
    try:
        s = h.Salvo(["run", nginx.url, "-r", "500", "-d", "6s"])
        time.sleep(2.0)
        check(s.proc.poll() is None, "salvo exited before the kill (rc %s)" % s.proc.returncode)
        nginx.kill()
        rc, data, out, err = s.finish(timeout=6 + 10 + 15)  # run + default --timeout + slack
    finally:
        nginx.stop()
    check(rc >= 0, "salvo died from signal %d" % -rc)
    check(data is not None, "no results JSON (rc %d); stderr: %s" % (rc, err.strip()[-500:]))
    c = check_counts_add_up(data)
    check(c["ok"] > 0, "requests before the kill should be ok: %s" % c)
    check(c["failed"] > 0, "requests after the kill should have failed: %s" % c)
    kinds = [k for k in data["errors"] if ERROR_KIND.search(k)]
    check(kinds, "errors names no refused/reset/eof kind: %s" % excerpt(data, "errors", "requests"))
    check(sum(data["errors"].values()) >= c["failed"],
          "errors count %d fewer failures than failed=%d: %s"
          % (sum(data["errors"].values()), c["failed"], data["errors"]))


if __name__ == "__main__":
    h.main()
