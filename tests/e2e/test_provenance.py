"""test_provenance.py — reports say exactly what was run, and never carry credentials.

A results JSON and its HTML page are made to be published. Their
config.command must paste back into a shell as the same command (each word
shell-quoted), the config must name the data file, pick, headers, body and
thresholds, and the values of Authorization, Cookie, Proxy-Authorization and
any `--redact NAME` header must appear nowhere — not in the JSON, the HTML
or the command — while nginx still received the real values.
"""

import json
import os
import shlex

import harness as h
from harness import check, test

nginx = None
SECRETS = ("Bearer s3cr3t-token", "session=c00kie", "k3y'with quote")


def setup():
    global nginx
    nginx = h.Nginx(log_format='"$http_authorization" "$http_x_api_key"').start()


@test
def secrets_stay_out_of_every_report_and_the_command_pastes_back():
    d = h.make_temp_dir("salvo-prov-")
    data = os.path.join(d, "rows.csv")
    with open(data, "w") as f:
        f.write("id\n1\n2\n3\n")
    out_html = os.path.join(d, "r.html")
    args = ["run", nginx.url.rstrip("/") + "/item/{id}?q=a&b=1", "-r", "20", "-d", "1s", "-t", "1",
            "-H", "Authorization: " + SECRETS[0], "-H", "Cookie: " + SECRETS[1],
            "-H", "X-Api-Key: " + SECRETS[2], "-H", "X-Trace: visible", "--redact", "x-api-key",
            "--data", data, "--pick", "random", "--body", "id={id}", "-m", "POST",
            "--threshold", "latency.p99 < 2s", "--html", out_html, "--allow-invalid"]
    try:
        rc, doc, out, err = h.run_salvo(args, timeout=30)
        check(doc is not None, "no JSON: rc %d %s" % (rc, err[-300:]))
        text = json.dumps(doc)
        with open(out_html) as f:
            page = f.read()
        for s in SECRETS:
            for where, body in (("JSON", text), ("HTML", page), ("stdout", out), ("stderr", err)):
                check(s not in body and json.dumps(s)[1:-1] not in body, "secret %r leaked into the %s" % (s, where))
        with open(nginx.access_log) as f:
            log = f.read()
        check(SECRETS[0] in log, "nginx did not receive the real Authorization value:\n%s" % log[-400:])
        cfg = doc["config"]
        h.log("  command: %s" % cfg["command"])
        for key, want in (("data", data), ("pick", "random"), ("body", "id={id}"),
                          ("thresholds", ["latency.p99 < 2s"]), ("redact", ["x-api-key"])):
            check(cfg.get(key) == want, "config.%s is %r, want %r" % (key, cfg.get(key), want))
        check(cfg["headers"] == ["Authorization: <redacted>", "Cookie: <redacted>", "X-Api-Key: <redacted>",
                                 "X-Trace: visible"], "config.headers: %r" % cfg["headers"])
        words = shlex.split(cfg["command"])
        if "--json" in words:  # the harness adds its own --json PATH
            i = words.index("--json")
            del words[i:i + 2]
        check(words[:2] == ["salvo", "run"], "command does not start with 'salvo run': %r" % words[:3])
        redacted = [a.replace(SECRETS[0], "<redacted>").replace(SECRETS[1], "<redacted>")
                    .replace(SECRETS[2], "<redacted>") for a in args[1:]]
        check(sorted(words[2:]) == sorted(redacted),
              "the command does not paste back to the same words:\n%r\n%r" % (words[2:], redacted))
    finally:
        h.remove_temp_dir(d)


if __name__ == "__main__":
    h.main(setup=setup)
