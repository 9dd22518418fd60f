#!/bin/bash
# run.sh — check salvo's histogram encoding against HdrHistogram (Java).
#
# For a few data sets: salvo encodes a histogram; HdrHistogram decodes it and
# must report the same total, min, max, percentiles and mean as salvo; then
# HdrHistogram re-encodes it and salvo must decode that to identical counts
# with a byte-identical inflated payload. Needs a JDK and Debian's
# libhdrhistogram-java (apt-get install -y libhdrhistogram-java); not wired
# into the Makefile. Run from the repository root after `make`:
#     tests/unit/compat/run.sh
set -eu
BUILD=${BUILD:-build}
JAR=${HDR_JAR:-/usr/share/java/hdrhistogram.jar}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$BUILD/compat
mkdir -p "$OUT"

[ -f "$JAR" ] || { echo "compat: missing $JAR (apt-get install -y libhdrhistogram-java)"; exit 2; }
[ -f "$BUILD/libsalvo.a" ] || { echo "compat: build $BUILD/libsalvo.a first (make)"; exit 2; }

cc -std=gnu11 -O2 -D_GNU_SOURCE -Isrc -o "$OUT/hist_compat_gen" "$HERE/hist_compat_gen.c" \
    "$BUILD/libsalvo.a" -lz -lm
javac -d "$OUT" -cp "$JAR" "$HERE/HistCompat.java"

passed=0; failed=0
for set in empty dense sparse mixed; do
    mapfile -t ours < <("$OUT/hist_compat_gen" gen "$set")
    mapfile -t java < <(java -cp "$JAR:$OUT" HistCompat "${ours[0]}")
    ok=1
    if [ "${ours[1]}" != "${java[0]}" ]; then
        echo "  salvo: ${ours[1]}"; echo "  java:  ${java[0]}"; ok=0
    fi
    # Means are compared to 6 significant digits; the summation order is
    # the same, but the two printf implementations may round differently.
    if ! awk -v a="${ours[2]#mean=}" -v b="${java[1]#mean=}" \
        'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-6 * (a < 0 ? -a : a) + 1e-9) }'; then
        echo "  means differ: ${ours[2]} vs ${java[1]}"; ok=0
    fi
    "$OUT/hist_compat_gen" check "${java[2]}" "${ours[0]}" | sed 's/^/  /' || ok=0
    if [ $ok = 1 ]; then
        echo "ok   $set: ${java[0]}"; passed=$((passed + 1))
    else
        echo "FAIL $set"; failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
