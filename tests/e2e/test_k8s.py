"""test_k8s.py — the Kubernetes manifests of deploy/k8s, rendered and checked.

No cluster is needed: deploy/k8s/render.sh is run as a user would run it,
and its output is parsed and checked for what Kubernetes requires and what
a sharded run relies on — an Indexed Job with completions == parallelism ==
N whose pods run `salvo run … --shard $(JOB_COMPLETION_INDEX)/N --start-at
T` with the values substituted, a merge Job on the same volume, a claim
both mount. The shell snippets of the merge Job are executed locally (with
a stand-in salvo) to prove their quoting, and the Dockerfile's runtime
packages are checked against the libraries the built binary really links.

Python has no YAML parser in its standard library, so this file carries a
strict one for the subset the templates use (block mappings and sequences,
plain and quoted scalars; anything else is an error, which keeps the
templates simple). When PyYAML is importable, every file is also parsed by
it and both readings must agree.
"""

import os
import re
import shutil
import stat
import subprocess
import time

import harness as h
from harness import check, test

K8S = os.path.join(h.REPO_ROOT, "deploy", "k8s")
RENDER = os.path.join(K8S, "render.sh")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

try:
    import yaml as pyyaml  # optional cross-check, not a dependency
except ImportError:
    pyyaml = None


# ------------------------------------------------------- a strict YAML subset


class YamlError(Exception):
    pass


AMBIGUOUS = {"yes", "no", "on", "off", "y", "n", "True", "False", "TRUE", "FALSE", "Yes", "No", "On", "Off"}
MAP_KEY = re.compile(r"^([A-Za-z0-9_./-]+):(?: |$)")


def strip_comment(text, lineno):
    """Drops a comment that starts outside quotes; rejects tabs in indentation."""
    quote = None
    i = 0
    while i < len(text):
        c = text[i]
        if quote == '"' and c == "\\":
            i += 2
            continue
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'" and (i == 0 or text[i - 1] in " -:["):
            quote = c
        elif c == "#" and (i == 0 or text[i - 1] == " "):
            return text[:i].rstrip()
        i += 1
    return text.rstrip()


def parse_scalar(text, lineno):
    if text.startswith('"'):
        out, i = [], 1
        escapes = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "/": "/"}
        while i < len(text) and text[i] != '"':
            if text[i] == "\\":
                if i + 1 >= len(text) or text[i + 1] not in escapes:
                    raise YamlError("line %d: unsupported escape in %s" % (lineno, text))
                out.append(escapes[text[i + 1]])
                i += 2
            else:
                out.append(text[i])
                i += 1
        if i != len(text) - 1:
            raise YamlError("line %d: text after a quoted scalar: %s" % (lineno, text))
        return "".join(out)
    if text.startswith("'"):
        if len(text) < 2 or not text.endswith("'"):
            raise YamlError("line %d: unterminated single quote" % lineno)
        return text[1:-1].replace("''", "'")
    if text[0] in "[{&*!|>%@`":
        raise YamlError("line %d: outside the supported subset: %s" % (lineno, text))
    if text in AMBIGUOUS:
        raise YamlError("line %d: %r is a boolean in YAML 1.1: quote it" % (lineno, text))
    if text in ("null", "~"):
        return None
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    if ": " in text or text.endswith(":"):
        raise YamlError("line %d: ambiguous plain scalar: %s" % (lineno, text))
    return text


def is_item(content):
    return content == "-" or content.startswith("- ")


class Doc:
    def __init__(self, lines):
        self.lines = lines  # [indent, content, lineno]

    def block(self, i, indent):
        if is_item(self.lines[i][1]):
            return self.seq(i, indent)
        return self.map(i, indent)

    def nested(self, i, indent, lineno):
        """The block after a `key:` or `-` with nothing after it, or None."""
        if i < len(self.lines):
            ind, content, _ = self.lines[i]
            if ind > indent or (ind == indent and is_item(content)):
                return self.block(i, ind)
        return None, i

    def map(self, i, indent):
        out = {}
        while i < len(self.lines) and self.lines[i][0] == indent and not is_item(self.lines[i][1]):
            _, content, lineno = self.lines[i]
            m = MAP_KEY.match(content)
            if not m:
                raise YamlError("line %d: expected 'key: value': %s" % (lineno, content))
            key, rest = m.group(1), content[m.end():].strip()
            if key in out:
                raise YamlError("line %d: duplicate key %s" % (lineno, key))
            if rest:
                out[key], i = parse_scalar(rest, lineno), i + 1
            else:
                out[key], i = self.nested(i + 1, indent, lineno)
        if i < len(self.lines) and self.lines[i][0] > indent:
            raise YamlError("line %d: unexpected indentation" % self.lines[i][2])
        return out, i

    def seq(self, i, indent):
        out = []
        while i < len(self.lines) and self.lines[i][0] == indent and is_item(self.lines[i][1]):
            _, content, lineno = self.lines[i]
            rest = content[1:].strip()
            if not rest:
                value, i = self.nested(i + 1, indent + 1, lineno)
            elif MAP_KEY.match(rest):
                self.lines[i] = [indent + 2, rest, lineno]
                value, i = self.map(i, indent + 2)
            else:
                value, i = parse_scalar(rest, lineno), i + 1
            out.append(value)
        return out, i


def parse_yaml(text):
    """Parses the subset; returns the list of documents."""
    docs, current = [], []
    for lineno, raw in enumerate(text.split("\n"), 1):
        if raw.startswith("---"):
            docs.append(current)
            current = []
            continue
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise YamlError("line %d: tab in indentation" % lineno)
        content = strip_comment(raw.strip(), lineno)
        if content:
            current.append([len(raw) - len(raw.lstrip(" ")), content, lineno])
    docs.append(current)
    out = []
    for lines in docs:
        if not lines:
            continue
        doc = Doc(lines)
        value, i = doc.block(0, lines[0][0])
        if i != len(lines):
            raise YamlError("line %d: not parsed: %s" % (lines[i][2], lines[i][1]))
        out.append(value)
    return out


def load(path):
    with open(path) as f:
        text = f.read()
    docs = parse_yaml(text)
    if pyyaml is not None:
        theirs = [d for d in pyyaml.safe_load_all(text) if d is not None]
        check(theirs == docs, "%s: this parser and PyYAML disagree:\n%s\n%s" % (path, docs, theirs))
    check(len(docs) == 1, "%s: expected one document, got %d" % (path, len(docs)))
    return docs[0]


# ---------------------------------------------------------------- helpers


def render(*args):
    """Runs render.sh into a fresh temp dir; returns (rc, outdir, stdout, stderr)."""
    out = os.path.join(h.make_temp_dir("salvo-e2e-k8s-"), "out")
    r = subprocess.run(["sh", RENDER, "-o", out] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=30)
    return r.returncode, out, r.stdout, r.stderr


URL = 'http://api.internal:8080/v1/route?from=a&to=b|c"d\\e'
THRESHOLDS = ["latency.p99 < 250ms", "errors.rate < 1%", "latency{name=/v1/route}.p99.9 < 1s"]
N, RATE, LEAD, GRACE = 5, 2500, 90, 60
state = {}


def setup():
    args = ["-n", N, "-u", URL, "-r", RATE, "-d", "2m", "-l", LEAD, "-g", GRACE, "-i", "registry.example/salvo:1.2",
            "-c", 4, "-N", "checkout-peak", "-a", "--timeout", "-a", "5s"]
    for t in THRESHOLDS:
        args += ["-t", t]
    before = int(time.time())
    rc, out, stdout, stderr = render(*args)
    after = int(time.time())
    check(rc == 0, "render.sh exited %d: %s" % (rc, stderr))
    state.update(out=out, before=before, after=after, stdout=stdout)
    state["pvc"] = load(os.path.join(out, "pvc.yaml"))
    state["shards"] = load(os.path.join(out, "shards.yaml"))
    state["merge"] = load(os.path.join(out, "merge.yaml"))


def arg_after(args, flag):
    check(flag in args, "%s missing from %s" % (flag, args))
    return args[args.index(flag) + 1]


def claim_of(job, mount_container):
    """The claim behind the volume mounted at /results in the given container."""
    spec = job["spec"]["template"]["spec"]
    mounts = {m["mountPath"]: m["name"] for m in mount_container.get("volumeMounts") or []}
    check("/results" in mounts, "no volume mounted at /results: %s" % mount_container.get("volumeMounts"))
    vols = {v["name"]: v for v in spec.get("volumes") or []}
    check(mounts["/results"] in vols, "mounted volume %s is not declared" % mounts["/results"])
    return vols[mounts["/results"]]["persistentVolumeClaim"]["claimName"]


# ---------------------------------------------------------------- tests


@test
def shards_job_is_an_indexed_job():
    job = state["shards"]
    check(job["apiVersion"] == "batch/v1" and job["kind"] == "Job", "not a batch/v1 Job")
    spec = job["spec"]
    check(spec["completionMode"] == "Indexed", "completionMode: %s" % spec.get("completionMode"))
    check(spec["completions"] == N and spec["parallelism"] == N,
          "completions %r, parallelism %r, expected %d" % (spec["completions"], spec["parallelism"], N))
    check(spec["backoffLimit"] == 0, "a retried shard would start late: backoffLimit must be 0")
    pod = spec["template"]["spec"]
    check(pod["restartPolicy"] == "Never", "restartPolicy: %s" % pod["restartPolicy"])
    check(DNS_LABEL.match(job["metadata"]["name"]) and len(job["metadata"]["name"]) <= 63, "bad job name")


@test
def shard_pods_run_salvo_with_substituted_values():
    c = state["shards"]["spec"]["template"]["spec"]["containers"][0]
    check(c["image"] == "registry.example/salvo:1.2", "image: %s" % c["image"])
    args = c["args"]
    check(args[0] == "run" and args[1] == URL, "expected run URL, got %s" % args[:2])
    check(arg_after(args, "--shard") == "$(JOB_COMPLETION_INDEX)/%d" % N, "--shard %s" % arg_after(args, "--shard"))
    start = int(arg_after(args, "--start-at"))
    check(state["before"] + LEAD <= start <= state["after"] + LEAD, "--start-at %d is not now + %d s" % (start, LEAD))
    check(arg_after(args, "--rate") == str(RATE) and arg_after(args, "--duration") == "2m", "rate/duration: %s" % args)
    check(arg_after(args, "--threads") == "4" and c["resources"]["requests"]["cpu"] == "4", "threads/cpu")
    check("limits" not in c["resources"] or "cpu" not in c["resources"]["limits"], "a CPU limit throttles the generator")
    check(arg_after(args, "--json") == "/results/shard-$(JOB_COMPLETION_INDEX).json", "--json %s" % arg_after(args, "--json"))
    check(args[-2:] == ["--timeout", "5s"], "extra run arguments must come last: %s" % args)
    check("--allow-invalid" in args, "an invalid shard must still write its result for the merge")
    state["start_at"] = start


@test
def merge_job_reads_the_same_volume():
    shards, merge = state["shards"], state["merge"]
    check(merge["apiVersion"] == "batch/v1" and merge["kind"] == "Job", "merge is not a batch/v1 Job")
    check("completionMode" not in merge["spec"], "the merge Job is one pod")
    pod = merge["spec"]["template"]["spec"]
    claim_shards = claim_of(shards, shards["spec"]["template"]["spec"]["containers"][0])
    claim_merge = claim_of(merge, pod["containers"][0])
    claim_wait = claim_of(merge, pod["initContainers"][0])
    check(claim_shards == claim_merge == claim_wait == state["pvc"]["metadata"]["name"],
          "claims differ: %s %s %s %s" % (claim_shards, claim_merge, claim_wait, state["pvc"]["metadata"]["name"]))
    c = pod["containers"][0]
    script = c["command"][2]
    for part in ("salvo merge /results/shard-*.json", "--json /results/merged.json", "--html /results/report.html"):
        check(part in script, "merge command lacks %r: %s" % (part, script))
    expect = []
    for t in THRESHOLDS:
        expect += ["--threshold", t]
    check(c["args"] == expect, "thresholds: %s" % c["args"])
    wait = pod["initContainers"][0]["command"]
    start = state.get("start_at") or int(arg_after(shards["spec"]["template"]["spec"]["containers"][0]["args"], "--start-at"))
    check(wait[3] == str(N) and int(wait[4]) == start + 120 + GRACE, "wait arguments: %s" % wait[3:])
    check(pod["restartPolicy"] == "Never" and merge["spec"]["backoffLimit"] == 0, "merge restart policy")


@test
def results_claim_is_shared():
    pvc = state["pvc"]
    check(pvc["apiVersion"] == "v1" and pvc["kind"] == "PersistentVolumeClaim", "not a PVC")
    check(pvc["spec"]["accessModes"] == ["ReadWriteMany"], "shards on several nodes need ReadWriteMany")
    check(pvc["spec"]["resources"]["requests"]["storage"] == "1Gi", "default size")
    check("storageClassName" not in pvc["spec"], "no -s: the cluster's default class (no storageClassName)")
    rc, out, _, err = render("-n", 2, "-u", "http://x/", "-r", 10, "-s", "fast-rwx", "-S", "5Gi")
    check(rc == 0, err)
    pvc = load(os.path.join(out, "pvc.yaml"))
    check(pvc["spec"]["storageClassName"] == "fast-rwx" and pvc["spec"]["resources"]["requests"]["storage"] == "5Gi",
          "storage class and size: %s" % pvc["spec"])


@test
def names_and_labels_are_dns_labels():
    for key in ("pvc", "shards", "merge"):
        meta = state[key]["metadata"]
        check(DNS_LABEL.match(meta["name"]) and len(meta["name"]) <= 63, "%s name %r" % (key, meta["name"]))
        check(meta["name"].startswith("checkout-peak"), "%s name %r ignores -N" % (key, meta["name"]))
        for k, v in meta["labels"].items():
            check(isinstance(v, str) and len(v) <= 63, "label %s=%r" % (k, v))
    rc, out, stdout, err = render("-n", 1, "-u", "http://x/", "-r", 1)
    check(rc == 0, err)
    name = load(os.path.join(out, "shards.yaml"))["metadata"]["name"]
    check(re.fullmatch(r"salvo-\d{8}-\d{6}-shards", name), "default name %r" % name)
    check("kubectl apply" in stdout, "render.sh should say how to apply: %r" % stdout)


@test
def render_refuses_bad_input():
    cases = [
        ([], "missing -n"),
        (["-n", 0, "-u", "http://x/", "-r", 1], "shard count"),
        (["-n", "three", "-u", "http://x/", "-r", 1], "shard count"),
        (["-n", 2, "-u", "ftp://x/", "-r", 1], "URL"),
        (["-n", 2, "-u", "http://x/", "-r", "fast"], "rate"),
        (["-n", 2, "-u", "http://x/", "-r", 1, "-d", "5x"], "duration"),
        (["-n", 2, "-u", "http://x/", "-r", 1, "-N", "Bad_Name"], "name"),
        (["-n", 2, "-u", "http://x/", "-r", 1, "-t", "a\nb"], "line break"),
        (["-n", 2, "-u", "http://x/", "-r", 1, "extra"], "unexpected argument"),
    ]
    for args, words in cases:
        rc, out, _, err = render(*args)
        check(rc == 2, "%s: exit %d, expected 2" % (args, rc))
        check(err.startswith("render.sh: ") and words in err, "%s: error %r lacks %r" % (args, err, words))
        check(not os.path.exists(os.path.join(out, "shards.yaml")), "%s: wrote manifests anyway" % args)


@test
def merge_job_shell_snippets_work():
    """Runs the init and merge commands with /results pointed at a temp dir and a stand-in salvo."""
    pod = state["merge"]["spec"]["template"]["spec"]
    d = h.make_temp_dir("salvo-e2e-k8s-sh-")
    results, bindir = os.path.join(d, "results"), os.path.join(d, "bin")
    os.mkdir(results)
    os.mkdir(bindir)
    for k in range(N):
        with open(os.path.join(results, "shard-%d.json" % k), "w") as f:
            f.write("{}")
    fake = os.path.join(bindir, "salvo")
    with open(fake, "w") as f:
        f.write('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "$SALVO_ARGS_OUT"\n')
    os.chmod(fake, stat.S_IRWXU)
    env = dict(os.environ, PATH=bindir + ":" + os.environ.get("PATH", ""), SALVO_ARGS_OUT=os.path.join(d, "args"))

    wait = [part.replace("/results", results) for part in pod["initContainers"][0]["command"]]
    t0 = time.monotonic()
    r = subprocess.run(wait, capture_output=True, text=True, timeout=30, env=env)
    check(r.returncode == 0, "wait script failed: %s" % r.stderr)
    check(time.monotonic() - t0 < 15, "wait script did not see the %d results at once" % N)

    c = pod["containers"][0]
    cmd = [part.replace("/results", results) for part in c["command"]] + c["args"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=env)
    check(r.returncode == 0, "merge script failed: %s" % r.stderr)
    with open(os.path.join(d, "args")) as f:
        got = f.read().split("\n")[:-1]
    expect = ["merge"] + [os.path.join(results, "shard-%d.json" % k) for k in range(N)]
    expect += ["--json", results + "/merged.json", "--html", results + "/report.html"]
    for t in THRESHOLDS:
        expect += ["--threshold", t]
    check(got == expect, "salvo got %s, expected %s" % (got, expect))


@test
def dockerfile_ships_what_the_binary_links():
    with open(os.path.join(K8S, "Dockerfile")) as f:
        text = f.read()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    check(froms == ["debian:bookworm-slim", "debian:bookworm-slim"], "two bookworm-slim stages: %s" % froms)
    check(re.search(r"^FROM debian:bookworm-slim AS build", text, re.M), "first stage must be named build")
    build, runtime = text.split("\nFROM debian:bookworm-slim\n")
    for pkg in ("gcc", "make", "pkg-config", "libssl-dev", "zlib1g-dev", "libjansson-dev"):
        check(re.search(r"\b%s\b" % re.escape(pkg), build), "build stage lacks %s" % pkg)
    check("make" in build and "COPY src" in build, "build stage must copy the sources and run make")
    runtime_pkgs = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", " ".join(re.findall(r"apt-get install[^\n]*", runtime))))
    for pkg in ("libssl3", "zlib1g", "libjansson4"):
        check(pkg in runtime_pkgs, "runtime stage lacks %s" % pkg)
    check(re.search(r"COPY --from=build /src/build/salvo ", runtime), "runtime must copy the binary from build")
    check("ENTRYPOINT" in runtime, "no ENTRYPOINT")
    # The packages providing the libraries the built binary links must all be installed at runtime.
    h.require_tool("ldd", "libc-bin provides it")
    h.require_tool("dpkg", "this is a Debian machine")
    check(os.access(h.SALVO_BIN, os.X_OK), "salvo binary not found: %s" % h.SALVO_BIN)
    ldd = subprocess.run(["ldd", h.SALVO_BIN], capture_output=True, text=True, timeout=30).stdout
    # The libraries the binary itself names (NEEDED): what those pull in
    # comes with their packages' dependencies. A sanitizer build (make asan)
    # also names the sanitizer runtimes the image never ships (and they
    # bring libstdc++ and libgcc_s): every other library is checked the same.
    h.require_tool("readelf", "binutils provides it")
    dyn = subprocess.run(["readelf", "-d", h.SALVO_BIN], capture_output=True, text=True, timeout=30).stdout
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn))
    check(needed, "readelf listed no NEEDED library: %s" % dyn[-300:])
    libs = [path for name, path in re.findall(r"^\s*(\S+)\s+=>\s+(/\S+)", ldd, re.M)
            if name in needed and not re.search(r"lib(a|ub|l|t)san", name)]
    check(libs, "ldd listed no library: %s" % ldd[-300:])
    for lib in libs:
        r = subprocess.run(["dpkg", "-S", os.path.realpath(lib)], capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            r = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True, timeout=30)
        pkg = r.stdout.split(":")[0] if r.returncode == 0 else "?"
        check(pkg == "libc6" or pkg in runtime_pkgs, "the binary links %s from %s, not in the runtime image" % (lib, pkg))


@test
def yaml_subset_parser_is_strict():
    docs = parse_yaml('a: 1\nb:\n  - "x: y"\n  - k: v\n    l: \'q\'\nc: "t\\"u"\n')
    check(docs == [{"a": 1, "b": ["x: y", {"k": "v", "l": "q"}], "c": 't"u'}], "parsed %s" % docs)
    for bad in ("a: off\n", "a: [1, 2]\n", "a: 1\na: 2\n", "a:\n   b: 1\n  c: 2\n", 'a: "x" y\n'):
        try:
            parse_yaml(bad)
        except YamlError:
            continue
        raise AssertionError("accepted %r" % bad)


if __name__ == "__main__":
    h.main(setup=setup)
