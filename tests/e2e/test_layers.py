"""test_layers.py — the includes under src/ point down the layer order.

salvo is built in layers, `core < http < sys < load < report < cli` (see the
architecture notes, "Layout and layers", and issue 17), with two side servers, `chaos/` and
`target/`, that may use only `core/`, `http/` and `spec/` (pure-data
pieces both the servers and the run share; `spec/` itself uses only
`core/`). `src/main.c` sits on top. A file may include headers of its own
folder or of a lower one; nothing else.

Inside a folder the rule is "no cycles": a module (x.c with its x.h) that
includes a module which includes it back, directly or around a longer
loop, is two halves of one thing or wants its shared piece moved into a
lower file.

This reads every `#include "..."` line under src/, so it needs no build and
no server; it runs in well under a second.

Python 3 stdlib only; see harness.py for the registry.
"""

import os
import re

import harness as h
from harness import check, test

SRC = os.path.join(h.REPO_ROOT, "src")

# Lower number = lower layer. A file may include only its own folder or a
# folder listed in ALLOWED for it.
RANK = {"core": 0, "spec": 1, "http": 2, "sys": 3, "load": 4, "report": 5, "cli": 6, "": 7}
SIDE = {"chaos", "target"}
SIDE_MAY_USE = {"core", "http", "spec"}
SPEC_MAY_USE = {"core"}

# Known violations, each one commented with who removes it and when. The
# lead deletes an entry when the change that removes it is merged; an entry
# that no longer matches anything fails the test, so none can linger.
ALLOWED_UP = {}
ALLOWED_CYCLES = {
    # The engine seam (issue 12) gave the pool, the connection state machine
    # and HTTP/1.1 their own files, and no two *files* include each other;
    # but conn.c and http1.c still take the worker (engine.h) as their
    # context for the loop, transport, recorder and the engine's pump, so
    # the *modules* form a ring. It goes when a connection is given a small
    # host struct when it is made (as chaos links get a link_group), which
    # the HTTP/2 table needs anyway. HTTP/2 (issue 13) joined the ring the
    # same way: h2.c takes the worker, the worker holds the h2 figures and
    # conn.c picks the table after ALPN.
    frozenset({"load/conn", "load/engine", "load/h2", "load/http1", "load/pool"}),
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def source_files():
    """Every .c and .h under src/, as paths relative to src/."""
    out = []
    for root, _dirs, files in os.walk(SRC):
        for f in files:
            if f.endswith((".c", ".h")):
                out.append(os.path.relpath(os.path.join(root, f), SRC))
    return sorted(out)


def includes():
    """(file, included header) pairs, both relative to src/."""
    pairs = []
    for f in source_files():
        with open(os.path.join(SRC, f), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        for inc in INCLUDE.findall(text):
            pairs.append((f, inc))
    return pairs


def folder(path):
    return os.path.dirname(path)


def may_include(src_folder, dst_folder):
    """True if a file in src_folder may include a header of dst_folder."""
    if src_folder == dst_folder:
        return True
    if src_folder in SIDE:
        return dst_folder in SIDE_MAY_USE
    if src_folder == "spec":
        return dst_folder in SPEC_MAY_USE
    if dst_folder in SIDE:
        # The servers are verbs: only their front-ends and main start them.
        return src_folder in ("cli", "")
    if src_folder not in RANK or dst_folder not in RANK:
        return False
    return RANK[dst_folder] < RANK[src_folder]


def upward_includes():
    return [(f, inc) for f, inc in includes() if not may_include(folder(f), folder(inc))]


def module(path):
    """x.c and x.h are one module, named x (relative to src/)."""
    return os.path.splitext(path)[0]


def module_graph():
    edges = {}
    for f, inc in includes():
        a, b = module(f), module(inc)
        if a != b:
            edges.setdefault(a, set()).add(b)
    return edges


def cycles(edges):
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(frozenset(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


@test
def test_rules_are_the_documented_ones():
    # The checker itself: a rule that let everything through would make
    # the two tests below pass vacuously.
    check(may_include("load", "core") and may_include("cli", "report"), "downward includes refused")
    check(not may_include("http", "load"), "http may include load")
    check(not may_include("report", "chaos"), "report may include chaos")
    check(not may_include("chaos", "load") and not may_include("target", "sys"), "a server may use a run layer")
    check(may_include("chaos", "spec") and may_include("load", "spec"), "spec refused to its users")
    check(not may_include("spec", "http"), "spec may include http")
    check(not may_include("core", "spec"), "core may include spec")
    found = cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    check(found == [frozenset({"a", "b", "c"})], "cycle finder found %r" % found)
    check(len(includes()) > 100, "only %d includes found under %s" % (len(includes()), SRC))


@test
def test_includes_point_down():
    found = set(upward_includes())
    allowed = {(f, inc) for f, inc in found if inc in ALLOWED_UP.get(module(f), ())}
    bad = sorted(found - allowed)
    check(not bad, "includes pointing up the layer order: %s" % ", ".join("%s -> %s" % p for p in bad))
    used = {(module(f), inc) for f, inc in allowed}
    stale = sorted((m, inc) for m, incs in ALLOWED_UP.items() for inc in incs if (m, inc) not in used)
    check(not stale, "allowlisted includes that no longer exist (delete them): %s" % stale)


@test
def test_no_include_cycles():
    found = set(cycles(module_graph()))
    bad = sorted(sorted(c) for c in found - ALLOWED_CYCLES)
    check(not bad, "modules that include each other: %s" % "; ".join(" <-> ".join(c) for c in bad))
    stale = sorted(sorted(c) for c in ALLOWED_CYCLES - found)
    check(not stale, "allowlisted cycles that no longer exist (delete them): %s" % stale)


if __name__ == "__main__":
    h.main()
