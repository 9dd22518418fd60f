#!/bin/sh
# install-deps.sh — install, only when missing, the Debian packages that
# salvo's build, tests and benchmarks need. Idempotent: a machine that has
# everything runs no package manager at all.
#
# Build:   gcc make pkg-config libssl-dev zlib1g-dev libjansson-dev
#          libnghttp2-dev (HTTP/2 framing, HPACK, flow control),
#          libsnappy-dev (block compression of --remote-write pushes),
#          libluajit-5.1-dev (--script: wrk's Lua API, LuaJIT as wrk uses)
# Tests:   libcmocka-dev, nginx and wrk (test peers, never runtime deps),
#          nodejs with its npm (hdr-histogram-js cross-checks the hlog output),
#          python3 (e2e drivers), openssl (self-signed test certificates),
#          clang + libclang-rt-dev (libFuzzer targets; required by make test),
#          chromium (renders the HTML report headless in an e2e test),
#          nghttp2-server and nghttp2-client (nghttpd and h2load: HTTP/2
#          test peers), python3-h2 (the scripted HTTP/2 server of
#          tests/e2e/h2server.py),
#          prometheus (its promtool lints the live --metrics text, and its
#          server, started by the test itself, receives --remote-write; the
#          server it starts on install is stopped and disabled),
#          golang-go (builds the Go service that --scrape and --profile are
#          tested against, offline, standard library only)
set -eu

PKGS="gcc make pkg-config libssl-dev zlib1g-dev libjansson-dev libcmocka-dev \
nginx-light wrk python3 openssl clang libclang-rt-dev procps chromium prometheus \
nodejs libnghttp2-dev nghttp2-server nghttp2-client libsnappy-dev python3-h2 golang-go libluajit-5.1-dev"

missing=""
for p in $PKGS; do
    case "$p" in
    nginx-light)
        # Any nginx flavour will do as a test peer.
        if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then continue; fi ;;
    esac
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

echo "install-deps: installing$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Debian starts nginx on install; our tests run their own instances.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true; fi
$SUDO service nginx stop >/dev/null 2>&1 || true
# Likewise prometheus: only its promtool is wanted.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
$SUDO service prometheus stop >/dev/null 2>&1 || true
exit 0
