#!/bin/sh
# render.sh — write the Kubernetes manifests of one sharded salvo run.
#
# Fills the templates next to this script (pvc.yaml.in, shards-job.yaml.in,
# merge-job.yaml.in) with the shard count, the target, the rate and the
# common start instant (now + the lead time, which must cover scheduling
# and image pulls on every node), and writes OUTDIR/pvc.yaml,
# OUTDIR/shards.yaml and OUTDIR/merge.yaml for `kubectl apply -f OUTDIR`.
# Plain POSIX sh and sed (no envsubst): every value is checked, escaped for
# a YAML double-quoted string and then for sed, so a URL with '&', '|' or
# quotes lands in the manifest exactly as given.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)

usage() {
    cat <<'USAGE'
usage: render.sh -n SHARDS -u URL -r RATE [options]
  -n SHARDS      number of shards (pods), 1..1000
  -u URL         target URL
  -r RATE        requests per second of the whole run (not per shard)
  -d DURATION    run length: N, Ns, Nm or Nh (default 60s)
  -l LEAD        seconds from now to the common start (default 120)
  -i IMAGE       container image (default salvo:latest)
  -c CPUS        CPUs requested per shard and its --threads (default 2)
  -N NAME        run name, a DNS label of at most 40 characters
                 (default salvo-YYYYMMDD-HHMMSS, UTC)
  -s CLASS       storage class of the results volume (default: the cluster's)
  -S SIZE        size of the results volume (default 1Gi)
  -g GRACE       seconds after the planned end the merge waits for late
                 shards before merging what is there (default 120)
  -t EXPR        threshold judged on the merged result (repeatable)
  -a ARG         extra argument for every `salvo run` (repeatable),
                 e.g. -a --arrival -a poisson
  -o OUTDIR      where to write the manifests (default ./k8s-out)
USAGE
}

die() {
    echo "render.sh: $*" >&2
    exit 2
}

# Escapes a value for a YAML double-quoted string: backslash and quote.
yaml_escape() {
    printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'
}

# Escapes a value for the replacement side of sed's s|…|…|.
sed_escape() {
    printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'
}

# Formats Unix seconds in UTC: GNU date, else BSD date.
utc() { # seconds format
    date -u -d "@$1" "$2" 2>/dev/null || date -u -r "$1" "$2"
}

# Refuses a value with a line break: it would end the sed command and the
# YAML line it is substituted into.
one_line() { # what value
    case "$2" in *"
"*) die "bad $1: a line break is not allowed" ;; esac
}

# Appends one quoted YAML list item, indented like the placeholder line.
append_item() { # file indent value
    one_line "argument" "$3"
    printf '%s- "%s"\n' "$2" "$(yaml_escape "$3")" >>"$1"
}

SHARDS="" URL="" RATE="" DURATION=60s LEAD=120 IMAGE=salvo:latest CPUS=2 NAME="" CLASS="" SIZE=1Gi GRACE=120
OUTDIR=./k8s-out
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
: >"$TMP/thresholds"
: >"$TMP/runargs"

while getopts "n:u:r:d:l:i:c:N:s:S:g:t:a:o:h" opt; do
    case "$opt" in
    n) SHARDS=$OPTARG ;;
    u) URL=$OPTARG ;;
    r) RATE=$OPTARG ;;
    d) DURATION=$OPTARG ;;
    l) LEAD=$OPTARG ;;
    i) IMAGE=$OPTARG ;;
    c) CPUS=$OPTARG ;;
    N) NAME=$OPTARG ;;
    s) CLASS=$OPTARG ;;
    S) SIZE=$OPTARG ;;
    g) GRACE=$OPTARG ;;
    t) append_item "$TMP/thresholds" "            " "--threshold"
       append_item "$TMP/thresholds" "            " "$OPTARG" ;;
    a) append_item "$TMP/runargs" "            " "$OPTARG" ;;
    o) OUTDIR=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || die "unexpected argument '$1'"

# ---------------------------------------------------------------- checks
is_uint() { case "$1" in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }

[ -n "$SHARDS" ] || die "missing -n SHARDS"
[ -n "$URL" ] || die "missing -u URL"
[ -n "$RATE" ] || die "missing -r RATE"
is_uint "$SHARDS" && [ "$SHARDS" -ge 1 ] && [ "$SHARDS" -le 1000 ] || die "bad shard count '$SHARDS': expected 1..1000"
printf '%s' "$RATE" | grep -Eq '^[0-9]+(\.[0-9]+)?$' || die "bad rate '$RATE': expected a number of requests per second"
case "$URL" in http://?* | https://?*) ;; *) die "bad URL '$URL': expected http://… or https://…" ;; esac
is_uint "$LEAD" || die "bad lead time '$LEAD': expected seconds"
is_uint "$GRACE" || die "bad grace '$GRACE': expected seconds"
is_uint "$CPUS" && [ "$CPUS" -ge 1 ] || die "bad CPU count '$CPUS': expected a positive integer"
printf '%s' "$SIZE" | grep -Eq '^[0-9]+(Ki|Mi|Gi|Ti)$' || die "bad volume size '$SIZE': expected e.g. 1Gi"
[ -z "$CLASS" ] || printf '%s' "$CLASS" | grep -Eq '^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$' || die "bad storage class '$CLASS'"
printf '%s' "$IMAGE" | grep -Eq '^[^[:space:]"\\]+$' || die "bad image '$IMAGE'"

DURATION_S=$(printf '%s' "$DURATION" | sed -n \
    -e 's/^\([0-9][0-9]*\)s\{0,1\}$/\1/p' \
    -e 's/^\([0-9][0-9]*\)m$/\1 * 60/p' \
    -e 's/^\([0-9][0-9]*\)h$/\1 * 3600/p')
[ -n "$DURATION_S" ] || die "bad duration '$DURATION': expected N, Ns, Nm or Nh"
DURATION_S=$(($DURATION_S)) # "2 * 60" from the sed above
[ "$DURATION_S" -ge 1 ] || die "bad duration '$DURATION': must be at least 1s"

for v in "$URL" "$IMAGE" "$NAME"; do one_line "value '$v'" "$v"; done
NOW=$(date +%s)
[ -n "$NAME" ] || NAME="salvo-$(utc "$NOW" +%Y%m%d-%H%M%S)"
printf '%s' "$NAME" | grep -Eq '^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$' ||
    die "bad name '$NAME': expected lower-case letters, digits and '-', at most 40 characters"

START_AT=$((NOW + LEAD))
DEADLINE=$((START_AT + DURATION_S + GRACE))
START_RFC3339=$(utc "$START_AT" +%Y-%m-%dT%H:%M:%SZ)
DEADLINE_RFC3339=$(utc "$DEADLINE" +%Y-%m-%dT%H:%M:%SZ)

# ---------------------------------------------------------------- render
# One sed script: list placeholders (a whole `- "@…@"` line) are replaced
# by their items' file and an unset storage class line is dropped before
# the scalar placeholders inside quoted strings are substituted.
render() { # template output
    {
        printf '/^ *- "@THRESHOLD_ARGS@"$/{\nr %s\nd\n}\n' "$TMP/thresholds"
        printf '/^ *- "@RUN_ARGS@"$/{\nr %s\nd\n}\n' "$TMP/runargs"
        [ -n "$CLASS" ] || printf '/^ *storageClassName: "@STORAGE_CLASS@"$/d\n'
        for pair in "NAME=$NAME" "SHARDS=$SHARDS" "URL=$URL" "RATE=$RATE" "DURATION=$DURATION" \
            "CPUS=$CPUS" "START_AT=$START_AT" "START_RFC3339=$START_RFC3339" "DEADLINE=$DEADLINE" \
            "DEADLINE_RFC3339=$DEADLINE_RFC3339" "IMAGE=$IMAGE" "STORAGE_CLASS=$CLASS" "SIZE=$SIZE"; do
            key=${pair%%=*}
            printf 's|@%s@|%s|g\n' "$key" "$(sed_escape "$(yaml_escape "${pair#*=}")")"
        done
    } >"$TMP/script.sed"
    sed -f "$TMP/script.sed" "$1" >"$2.tmp"
    if grep -n '@[A-Z_0-9]*@' "$2.tmp" >&2; then
        rm -f "$2.tmp"
        die "placeholder left in $2 (template and script disagree)"
    fi
    mv "$2.tmp" "$2"
}

mkdir -p "$OUTDIR"
render "$HERE/pvc.yaml.in" "$OUTDIR/pvc.yaml"
render "$HERE/shards-job.yaml.in" "$OUTDIR/shards.yaml"
render "$HERE/merge-job.yaml.in" "$OUTDIR/merge.yaml"

cat <<EOF
render.sh: run '$NAME': $SHARDS shards of $RATE/s for $DURATION, starting at $START_RFC3339 ($START_AT)
  kubectl apply -f $OUTDIR/pvc.yaml -f $OUTDIR/shards.yaml -f $OUTDIR/merge.yaml
  kubectl wait --for=condition=complete --timeout=$((LEAD + DURATION_S + GRACE + 300))s job/$NAME-merge
  kubectl logs job/$NAME-merge
Apply within $LEAD s: a shard that starts after the common instant runs late.
EOF
