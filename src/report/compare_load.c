/*
 * compare_load.c — results JSON to struct cmp_run, and whether two results
 * may be compared at all (see compare_load.h).
 *
 * A results file is untrusted input: a wrong type, a missing key or a
 * histogram that does not decode is an error naming what is wrong, never a
 * crash or a silently empty run.
 */
#include "report/compare_load.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist_codec.h"

/* Decodes the base64 histogram at v into h; -EINVAL when it is not one. */
static int decode(const json_t *v, struct hist *h)
{
    if (!json_is_string(v)) return -EINVAL;
    return hist_decode_base64(json_string_value(v), h);
}

/* The whole run: per-second latency and service time, counts, exact totals. */
static int load_run_scope(const json_t *doc, struct cmp_scope *s, char *why, size_t cap)
{
    const json_t *timeline = json_object_get(doc, "timeline"), *hdr = json_object_get(doc, "hdr");
    double duration = json_number_value(json_object_get(doc, "duration_s"));
    if (!json_is_array(timeline) || json_array_size(timeline) == 0) {
        snprintf(why, cap, "no timeline");
        return -EINVAL;
    }
    if (decode(json_object_get(hdr, "latency_us"), &s->lat) < 0 ||
        decode(json_object_get(hdr, "service_time_us"), &s->svc) < 0) {
        snprintf(why, cap, "no histograms ('hdr.latency_us', 'hdr.service_time_us')");
        return -EINVAL;
    }
    s->has_svc = true;
    s->has_counts = true;
    size_t i;
    const json_t *row;
    json_array_foreach(timeline, i, row)
    {
        const char *lat = json_string_value(json_object_get(row, "hdr_latency_us"));
        const char *svc = json_string_value(json_object_get(row, "hdr_service_time_us"));
        if (!lat) {
            snprintf(why, cap, "no per-second histograms (timeline[%zu].hdr_latency_us: results of an older salvo?)",
                     i);
            return -EINVAL;
        }
        s->has_svc &= svc != NULL;
        double t = json_number_value(json_object_get(row, "t"));
        json_int_t done = json_integer_value(json_object_get(row, "done"));
        json_int_t errors = json_integer_value(json_object_get(row, "errors"));
        if (cmp_scope_add_second_b64(s, lat, svc, done > 0 ? (uint64_t)done : 0, errors > 0 ? (uint64_t)errors : 0,
                                     t + 1 <= duration + 1e-6) < 0) {
            snprintf(why, cap, "timeline[%zu]: a per-second histogram does not decode", i);
            return -EINVAL;
        }
    }
    return 0;
}

/* A count of a per-name timeline array (absent or not a count: 0). */
static uint64_t count_at(const json_t *a, size_t i)
{
    json_int_t v = json_integer_value(json_array_get(a, i));
    return v > 0 ? (uint64_t)v : 0;
}

/*
 * Adds one second's service time (base64) into sum; the first becomes the
 * sum, layout and all (a name's are kept at 2 digits). Negative if it does
 * not decode.
 */
static int add_svc_second(struct hist *sum, const char *b64)
{
    struct hist one;
    if (hist_decode_base64(b64, &one) < 0) return -EINVAL;
    if (!sum->counts) {
        *sum = one;
        return 0;
    }
    hist_add(sum, &one);
    hist_release(&one);
    return 0;
}

/*
 * One name's per-second latency (groups[name].timeline_hdr_latency_us) and,
 * when the result has them, its responses and errors (timeline_done,
 * timeline_errors), or 1 when it has none. run: the whole run's scope,
 * whose seconds tell which are in the sending phase.
 */
static int load_name_scope(const char *name, const json_t *g, const struct cmp_scope *run, struct cmp_scope *s,
                           char *why, size_t cap)
{
    size_t nsec = run->nsec;
    const json_t *tl = json_object_get(g, "timeline_hdr_latency_us");
    const json_t *done = json_object_get(g, "timeline_done"), *errors = json_object_get(g, "timeline_errors");
    if (!json_is_array(tl)) return 1;
    s->has_counts = json_is_array(done) && json_is_array(errors);
    if (s->has_counts && (json_array_size(done) != nsec || json_array_size(errors) != nsec)) {
        snprintf(why, cap, "name '%s': per-second counts do not match the timeline", name);
        return -EINVAL;
    }
    if (json_array_size(tl) != nsec) {
        snprintf(why, cap, "name '%s': per-second histograms do not match the timeline (%zu seconds, the run has %zu)",
                 name, json_array_size(tl), nsec);
        return -EINVAL;
    }
    if (decode(json_object_get(g, "hdr_latency_us"), &s->lat) < 0) {
        snprintf(why, cap, "name '%s': its histogram ('hdr_latency_us') does not decode", name);
        return -EINVAL;
    }
    snprintf(s->name, sizeof(s->name), "%s", name);
    /* Service time per name (newer results): its per-second histograms, whose sum is the point value. */
    const json_t *stl = json_object_get(g, "timeline_hdr_service_time_us");
    if (json_is_array(stl) && json_array_size(stl) != nsec) {
        snprintf(
            why, cap,
            "name '%s': per-second service-time histograms do not match the timeline (%zu seconds, the run has %zu)",
            name, json_array_size(stl), nsec);
        return -EINVAL;
    }
    s->has_svc = json_is_array(stl);
    int rc = 0;
    size_t i;
    const json_t *v;
    json_array_foreach(tl, i, v)
    {
        const json_t *sv = s->has_svc ? json_array_get(stl, i) : NULL;
        const char *svc = json_string_value(sv);
        bool ok = (!sv || json_is_null(sv) || svc) && (!svc || add_svc_second(&s->svc, svc) == 0) &&
                  (json_is_null(v) || json_is_string(v)) &&
                  cmp_scope_add_second_b64(s, json_string_value(v), svc, count_at(done, i), count_at(errors, i),
                                           run->sec[i].in_rate) >= 0;
        if (!ok) {
            snprintf(why, cap, "name '%s': timeline histogram %zu does not decode", name, i);
            rc = -EINVAL;
            break;
        }
    }
    if (!s->svc.counts) hist_init(&s->svc, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
    return rc;
}

int cmp_run_from_json(const json_t *doc, const char *path, struct cmp_run *out, char *why, size_t cap)
{
    memset(out, 0, sizeof(*out));
    out->path = path;
    if (!json_is_object(doc) || !json_is_string(json_object_get(doc, "tool")) ||
        strcmp(json_string_value(json_object_get(doc, "tool")), "salvo") != 0) {
        snprintf(why, cap, "not a salvo result");
        return -EINVAL;
    }
    if (json_is_array(json_object_get(doc, "steps"))) {
        snprintf(why, cap, "a find result, not a run (compare it with another find result)");
        return -EINVAL;
    }
    out->nscopes = 1;
    int rc = load_run_scope(doc, &out->scopes[0], why, cap);
    const char *name;
    const json_t *g;
    json_object_foreach((json_t *)json_object_get(doc, "groups"), name, g)
    {
        if (rc < 0 || out->nscopes == CMP_MAX_SCOPES) break;
        rc = load_name_scope(name, g, &out->scopes[0], &out->scopes[out->nscopes], why, cap);
        if (rc != 1) out->nscopes++; /* a failed scope too, so that cmp_run_release frees it */
        if (rc == 1) rc = 0;
    }
    if (rc < 0) {
        cmp_run_release(out);
        return rc;
    }
    return 0;
}

/* ----------------------------------------------------------- comparability */

/* The path (and query) of a URL, and its host part, as spans of url. */
static void url_split(const char *url, const char **host, size_t *hlen, const char **path)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    *host = p;
    const char *slash = strchr(p, '/');
    *hlen = slash ? (size_t)(slash - p) : strlen(p);
    *path = slash ? slash : "/";
}

/* The config keys that must agree; a key missing on both sides agrees. */
static const char *const same_keys[] = {
    "method", "rate",  "arrival",   "model",      "duration_s",  "threads",  "connections",
    "stages", "data",  "targets",   "body",       "body_file",   "protocol", "script",
    "checks", "http2", "keepalive", "start_rate", "stages_ramp", "shards",
};

/*
 * The HTTP/2 knobs: compared when either run spoke h2 or h2c (HTTP/1.1
 * ignores them). A key missing (a result from before it existed) or null
 * is the protocol's default, and so is streams 0 (the server's limit); a
 * header table of 0 is a real setting.
 */
static const char *const h2_keys[] = {"streams", "h2_window", "h2_conn_window", "h2_header_table"};

/* The value of an h2 knob, NULL for its default. */
static const json_t *h2_knob(const json_t *config, const char *key)
{
    const json_t *v = json_object_get(config, key);
    bool dflt = !v || json_is_null(v) || (!strcmp(key, "streams") && json_is_integer(v) && !json_integer_value(v));
    return dflt ? NULL : v;
}

/* True when the run's spoken protocol is h2 or h2c. */
static bool spoke_h2(const json_t *run)
{
    const char *p = json_string_value(json_object_get(run, "protocol"));
    return p && (!strcmp(p, "h2") || !strcmp(p, "h2c"));
}

/* Writes a short JSON text of v into buf. */
static const char *show(const json_t *v, char *buf, size_t cap)
{
    char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    snprintf(buf, cap, "%.60s", s ? s : "none");
    free(s);
    return buf;
}

/* The sorted-independent set of group names agrees. */
static bool same_names(const json_t *a, const json_t *b, const char **which)
{
    const char *name;
    const json_t *v;
    if (json_object_size(a) != json_object_size(b)) {
        *which = NULL;
        return false;
    }
    json_object_foreach((json_t *)a, name, v) if (!json_object_get(b, name))
    {
        *which = name;
        return false;
    }
    return true;
}

int cmp_comparable(const json_t *a, const json_t *b, bool *host_differs, char *diff, size_t cap)
{
    const json_t *ca = json_object_get(a, "config"), *cb = json_object_get(b, "config");
    char x[64], y[64];
    *host_differs = false;
    for (size_t i = 0; i < sizeof(same_keys) / sizeof(same_keys[0]); i++) {
        const json_t *va = json_object_get(ca, same_keys[i]), *vb = json_object_get(cb, same_keys[i]);
        if (!va && !vb) continue;
        if (va && vb && json_equal(va, vb)) continue;
        if (json_is_number(va) && json_is_number(vb) &&
            fabs(json_number_value(va) - json_number_value(vb)) <= 1e-9 * fabs(json_number_value(va)))
            continue;
        snprintf(diff, cap, "%s differs: %s against %s", same_keys[i], show(va, x, sizeof(x)), show(vb, y, sizeof(y)));
        return -EINVAL;
    }
    /* What was spoken, not only asked: https:// without --http2/--http1.1 speaks what each server's ALPN picks. */
    const json_t *spa = json_object_get(a, "protocol"), *spb = json_object_get(b, "protocol");
    if (json_is_string(spa) && json_is_string(spb) && !json_equal(spa, spb)) {
        snprintf(diff, cap, "protocol spoken differs: %s against %s", json_string_value(spa), json_string_value(spb));
        return -EINVAL;
    }
    for (size_t i = 0; (spoke_h2(a) || spoke_h2(b)) && i < sizeof(h2_keys) / sizeof(h2_keys[0]); i++) {
        const json_t *va = h2_knob(ca, h2_keys[i]), *vb = h2_knob(cb, h2_keys[i]);
        if (va == vb || (va && vb && json_equal(va, vb))) continue;
        snprintf(diff, cap, "%s differs: %s against %s", h2_keys[i], va ? show(va, x, sizeof(x)) : "default",
                 vb ? show(vb, y, sizeof(y)) : "default");
        return -EINVAL;
    }
    const char *ua = json_string_value(json_object_get(ca, "url")), *ub = json_string_value(json_object_get(cb, "url"));
    if (ua && ub) {
        const char *ha, *hb, *pa, *pb;
        size_t la, lb;
        url_split(ua, &ha, &la, &pa);
        url_split(ub, &hb, &lb, &pb);
        if (strcmp(pa, pb) != 0) {
            snprintf(diff, cap, "path differs: '%.60s' against '%.60s'", pa, pb);
            return -EINVAL;
        }
        *host_differs = la != lb || strncmp(ha, hb, la) != 0;
    }
    const char *which = NULL;
    if (!same_names(json_object_get(a, "groups"), json_object_get(b, "groups"), &which)) {
        if (which)
            snprintf(diff, cap, "request names differ: '%.80s' is only in the baseline", which);
        else
            snprintf(diff, cap, "request names differ (%zu against %zu names)",
                     json_object_size(json_object_get(a, "groups")), json_object_size(json_object_get(b, "groups")));
        return -EINVAL;
    }
    return 0;
}
