"""test_https.py — TLS against a self-signed certificate, with and without -k.

Without -k every request must fail and the failure must say why (certificate
verification); with -k every request must succeed and the TLS handshake must
be counted in the connect time.
"""

import re

import harness as h
from harness import check, check_counts_add_up, excerpt, test

VERIFY_FAILURE = re.compile(r"certificate verify failed|self[- ]signed|verify_failed", re.IGNORECASE)

nginx = None


def setup():
    global nginx
    nginx = h.Nginx(tls=True, access_log=False).start()


@test
def self_signed_fails_without_insecure():
    rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "200", "-d", "2s"], timeout=30)
    check(rc >= 0, "salvo died from signal %d" % -rc)
    check(data is not None, "no results JSON (rc %d); stderr: %s" % (rc, err.strip()[-500:]))
    c = check_counts_add_up(data)
    check(c["scheduled"] > 0, "nothing was scheduled: %s" % c)
    check(c["failed"] == c["scheduled"],
          "every request should fail certificate verification: %s" % c)
    said = err + " " + " ".join(data["errors"].keys())
    check(VERIFY_FAILURE.search(said),
          "neither stderr nor errors mention the certificate verify failure: errors %s, stderr %r"
          % (data["errors"], err[-300:]))


@test
def self_signed_ok_with_insecure():
    rc, data, out, err = h.run_salvo(["run", nginx.url, "-r", "200", "-d", "2s", "-k", "--allow-invalid"], timeout=30)
    check(data is not None, "no results JSON (rc %d); stderr: %s" % (rc, err.strip()[-500:]))
    c = check_counts_add_up(data)
    check(c["scheduled"] > 0 and c["ok"] == c["scheduled"],
          "with -k every request should be ok: %s %s" % (c, excerpt(data, "errors")))
    check(data["connect_us"]["count"] >= 1,
          "connect_us.count %s: the TLS handshake was not counted" % data["connect_us"]["count"])
    check(data["status"] == {"200": c["ok"]}, "status %s" % data["status"])
    check(rc == 0, "exit code %d, want 0" % rc)


if __name__ == "__main__":
    h.main(setup=setup)
