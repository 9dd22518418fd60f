/*
 * junit.c — the document and its escaping (see junit.h); the cases of a
 * run, merge and compare. find's cases are in junit_find.c.
 *
 * The XML is written by hand: it is one flat <testsuites> with one
 * <testsuite>, and every string that reaches it (expressions, check names,
 * invalid reasons, URLs) passes junit_escape, which also turns what XML 1.0
 * cannot carry at all (control bytes, broken UTF-8) into U+FFFD, so a
 * hostile request name cannot make the CI's parser reject the file.
 */
#include "report/junit.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/analysis.h"
#include "report/fmt.h"
#include "report/thresholds.h"

/* strdup that aborts on out of memory and maps NULL to NULL. */
static char *dup_or_null(const char *s)
{
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

void junit_init(struct junit *j, const char *suite)
{
    memset(j, 0, sizeof(*j));
    j->suite = dup_or_null(suite ? suite : "salvo");
}

void junit_release(struct junit *j)
{
    if (!j) return;
    for (size_t i = 0; i < j->ncases; i++) {
        struct junit_case *c = &j->cases[i];
        free(c->classname), free(c->name), free(c->type), free(c->message), free(c->detail);
    }
    for (size_t i = 0; i < j->nprops; i++)
        free(j->props[i][0]), free(j->props[i][1]);
    free(j->cases);
    free(j->suite);
    memset(j, 0, sizeof(*j));
}

void junit_case(struct junit *j, const char *classname, const char *name, enum junit_kind kind, const char *type,
                const char *message, const char *detail)
{
    if (j->ncases == j->cap) {
        j->cap = j->cap ? 2 * j->cap : 16;
        j->cases = realloc(j->cases, j->cap * sizeof(*j->cases));
        if (!j->cases) abort();
    }
    j->cases[j->ncases++] = (struct junit_case){.classname = dup_or_null(classname ? classname : "salvo"),
                                                .name = dup_or_null(name ? name : ""),
                                                .kind = kind,
                                                .type = dup_or_null(type),
                                                .message = dup_or_null(message),
                                                .detail = dup_or_null(detail)};
}

void junit_property(struct junit *j, const char *name, const char *value)
{
    if (j->nprops == sizeof(j->props) / sizeof(j->props[0])) return;
    j->props[j->nprops][0] = dup_or_null(name ? name : "");
    j->props[j->nprops][1] = dup_or_null(value ? value : "");
    j->nprops++;
}

size_t junit_count(const struct junit *j, enum junit_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < j->ncases; i++)
        n += j->cases[i].kind == kind;
    return n;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || (n == 2 && c < 0xC2) || (n == 4 && c > 0xF4)) return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    if (n == 3 && c == 0xE0 && s[1] < 0xA0) return 0;                  /* overlong */
    if (n == 3 && c == 0xED && s[1] >= 0xA0) return 0;                 /* UTF-16 surrogates */
    if (n == 3 && c == 0xEF && s[1] == 0xBF && s[2] >= 0xBE) return 0; /* U+FFFE, U+FFFF: not XML characters */
    if (n == 4 && c == 0xF0 && s[1] < 0x90) return 0;
    if (n == 4 && c == 0xF4 && s[1] >= 0x90) return 0;
    return n;
}

void junit_escape(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        size_t n = utf8_len(p);
        if (n == 0 || (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')) {
            fputs("\xEF\xBF\xBD", out);
            p++;
            continue;
        }
        switch (*p) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        case '\n': fputs("&#10;", out); break; /* kept in attributes, where a bare newline reads as a space */
        case '\r': fputs("&#13;", out); break;
        case '\t': fputs("&#9;", out); break;
        default: fwrite(p, 1, n, out);
        }
        p += n;
    }
}

/* Writes name="value" with the value escaped. */
static void attr(FILE *out, const char *name, const char *value)
{
    fprintf(out, " %s=\"", name);
    junit_escape(out, value);
    fputc('"', out);
}

/* One <testcase>. */
static void write_case(FILE *out, const struct junit_case *c)
{
    static const char *const elem[] = {NULL, "failure", "error", "skipped"};
    fputs("    <testcase", out);
    attr(out, "classname", c->classname);
    attr(out, "name", c->name);
    fputs(" time=\"0\"", out);
    if (c->kind == JUNIT_PASS) {
        fputs("/>\n", out);
        return;
    }
    fprintf(out, ">\n      <%s", elem[c->kind]);
    if (c->message) attr(out, "message", c->message);
    if (c->type && c->kind != JUNIT_SKIPPED) attr(out, "type", c->type);
    if (c->detail) {
        fputc('>', out);
        junit_escape(out, c->detail);
        fprintf(out, "</%s>\n", elem[c->kind]);
    } else {
        fputs("/>\n", out);
    }
    fputs("    </testcase>\n", out);
}

int junit_write(const struct junit *j, FILE *out)
{
    size_t fail = junit_count(j, JUNIT_FAILURE), err = junit_count(j, JUNIT_ERROR),
           skip = junit_count(j, JUNIT_SKIPPED);
    double t = isfinite(j->time_s) && j->time_s > 0 ? j->time_s : 0;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", out);
    attr(out, "name", "salvo");
    fprintf(out, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n", j->ncases, fail,
            err, skip, t);
    fputs("  <testsuite", out);
    attr(out, "name", j->suite);
    fprintf(out, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\"", j->ncases, fail, err,
            skip, t);
    if (j->timestamp_ms > 0) {
        time_t secs = (time_t)(j->timestamp_ms / 1000);
        struct tm tm;
        char when[32];
        gmtime_r(&secs, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
        attr(out, "timestamp", when);
    }
    fputs(">\n", out);
    if (j->nprops) {
        fputs("    <properties>\n", out);
        for (size_t i = 0; i < j->nprops; i++) {
            fputs("      <property", out);
            attr(out, "name", j->props[i][0]);
            attr(out, "value", j->props[i][1]);
            fputs("/>\n", out);
        }
        fputs("    </properties>\n", out);
    }
    for (size_t i = 0; i < j->ncases; i++)
        write_case(out, &j->cases[i]);
    fputs("  </testsuite>\n</testsuites>\n", out);
    return ferror(out) ? -EIO : 0;
}

int junit_file(const struct junit *j, const char *path)
{
    if (!strcmp(path, "-")) return junit_write(j, stdout) < 0 || fflush(stdout) ? -EIO : 0;
    FILE *f = fopen(path, "w");
    if (!f) return -errno;
    int rc = junit_write(j, f);
    if (fclose(f) != 0 && rc == 0) rc = -errno;
    return rc;
}

/* ---------------------------------------------------------------- results (run, merge) */

static double num_at(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

/* The invalid_reasons of a result, joined by "; ". */
static void join_reasons(const json_t *result, char *buf, size_t cap)
{
    size_t i, len = 0;
    json_t *v;
    buf[0] = '\0';
    json_array_foreach(json_object_get(result, "invalid_reasons"), i, v)
    {
        if (!json_is_string(v) || len + 3 >= cap) continue;
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? "; " : "", json_string_value(v));
        if (len >= cap) len = cap - 1;
    }
    if (!buf[0]) snprintf(buf, cap, "the generator may have shaped the figures");
}

/* Validity, interruption and responses: the three cases that say whether the figures are a verdict at all. */
static void add_health(struct junit *j, const char *cls, json_t *result)
{
    char msg[1200];
    bool allow = json_is_true(json_object_get(json_object_get(result, "config"), "allow_invalid"));
    if (json_is_false(json_object_get(result, "valid"))) {
        char why[1000];
        join_reasons(result, why, sizeof(why));
        snprintf(msg, sizeof(msg), "invalid measurement: %s%s", why, allow ? " (--allow-invalid: not judged)" : "");
        junit_case(j, cls, "valid measurement", allow ? JUNIT_SKIPPED : JUNIT_ERROR, "invalid", msg, NULL);
    } else {
        junit_case(j, cls, "valid measurement", JUNIT_PASS, NULL, NULL, NULL);
    }
    if (json_is_true(json_object_get(result, "interrupted"))) {
        const char *by = json_string_value(json_object_get(result, "interrupted_by"));
        snprintf(msg, sizeof(msg), "interrupted by %s after %.1f s of the planned %.1f s", by ? by : "a signal",
                 num_at(result, "duration_s"), num_at(json_object_get(result, "config"), "duration_s"));
        junit_case(j, cls, "not interrupted", JUNIT_ERROR, "interrupted", msg, NULL);
    } else {
        junit_case(j, cls, "not interrupted", JUNIT_PASS, NULL, NULL, NULL);
    }
    const char *err = json_string_value(json_object_get(result, "runtime_error"));
    const json_t *req = json_object_get(result, "requests");
    double answered = num_at(req, "ok") + num_at(req, "http_error") + num_at(req, "check_failed");
    if ((err && *err) || (num_at(req, "scheduled") > 0 && answered == 0)) {
        snprintf(msg, sizeof(msg), "%s", err && *err ? err : "no response to any request");
        junit_case(j, cls, "got responses", JUNIT_ERROR, "no_response", msg, NULL);
    } else {
        junit_case(j, cls, "got responses", JUNIT_PASS, NULL, NULL, NULL);
    }
}

/* One threshold entry of result["thresholds"] (what thresholds_apply wrote; a bare boolean too). */
static void add_threshold(struct junit *j, const char *cls, const char *expr, json_t *v)
{
    bool pass = json_is_object(v) ? json_is_true(json_object_get(v, "pass")) : json_is_true(v);
    if (pass) {
        junit_case(j, cls, expr, JUNIT_PASS, NULL, NULL, NULL);
        return;
    }
    char obs[64] = "no data", lim[64] = "?", msg[1024];
    const char *unit = json_string_value(json_object_get(v, "unit"));
    if (json_is_object(v)) {
        threshold_format(obs, sizeof(obs), json_object_get(v, "observed"), unit);
        threshold_format(lim, sizeof(lim), json_object_get(v, "limit"), unit);
    }
    const char *note = json_string_value(json_object_get(v, "note"));
    snprintf(msg, sizeof(msg), "%s: observed %s, limit %s: %s", expr, obs, lim,
             note && *note ? note : "the observed value breaks the limit");
    junit_case(j, cls, expr, JUNIT_FAILURE, "threshold", msg, NULL);
}

/*
 * Whether a threshold judges check name (checks.rate over all checks, or
 * checks{name=NAME}.rate); *pass is false once one of them failed.
 */
static bool check_judged(json_t *thresholds, const char *name, bool *pass, char *which, size_t cap)
{
    const char *expr;
    json_t *v;
    bool judged = false;
    *pass = true;
    which[0] = '\0';
    json_object_foreach(thresholds, expr, v)
    {
        struct threshold t;
        const char *why;
        if (threshold_parse(&t, expr, &why) < 0 || strcmp(t.metric, "checks")) continue;
        if (t.name[0] && strcmp(t.name, name)) continue;
        judged = true;
        bool ok = json_is_object(v) ? json_is_true(json_object_get(v, "pass")) : json_is_true(v);
        if (!ok || !which[0]) snprintf(which, cap, "%s", expr);
        *pass = *pass && ok;
    }
    return judged;
}

/* One --check: fails below 100 % unless a threshold on it decides. */
static void add_check(struct junit *j, const char *cls, json_t *thresholds, const char *name, json_t *v)
{
    double pass_n = num_at(v, "pass"), fail_n = num_at(v, "fail"), toobig = num_at(v, "body_too_large");
    double all = pass_n + fail_n;
    char msg[1024], which[300], label[300];
    snprintf(label, sizeof(label), "check %s", name);
    bool by_threshold_pass;
    if (check_judged(thresholds, name, &by_threshold_pass, which, sizeof(which))) {
        snprintf(msg, sizeof(msg), "check '%s': %.0f of %.0f passed (%.2f%%); judged by threshold '%s'", name, pass_n,
                 all, all > 0 ? 100 * pass_n / all : 0.0, which);
        junit_case(j, cls, label, by_threshold_pass ? JUNIT_PASS : JUNIT_FAILURE, "check",
                   by_threshold_pass ? NULL : msg, NULL);
        return;
    }
    if (all > 0 && fail_n == 0) {
        junit_case(j, cls, label, JUNIT_PASS, NULL, NULL, NULL);
        return;
    }
    if (all == 0)
        snprintf(msg, sizeof(msg), "check '%s': no response was checked", name);
    else
        snprintf(msg, sizeof(msg), "check '%s': %.0f of %.0f responses failed (%.2f%% passed, below 100%%)%s", name,
                 fail_n, all, 100 * pass_n / all, toobig > 0 ? "; some bodies were over --max-body" : "");
    junit_case(j, cls, label, JUNIT_FAILURE, "check", msg, NULL);
}

void junit_add_result(struct junit *j, const char *cls, json_t *result)
{
    if (!j->time_s) j->time_s = num_at(result, "duration_s");
    if (!j->timestamp_ms) j->timestamp_ms = (long long)num_at(result, "start_unix_ms");
    const json_t *cfg = json_object_get(result, "config");
    junit_property(j, "verdict", verdict_of(result).word);
    if (json_is_string(json_object_get(cfg, "url")))
        junit_property(j, "url", json_string_value(json_object_get(cfg, "url")));
    if (json_is_string(json_object_get(result, "run_id")))
        junit_property(j, "run_id", json_string_value(json_object_get(result, "run_id")));
    add_health(j, cls, result);
    json_t *thresholds = json_object_get(result, "thresholds");
    char tcls[160];
    snprintf(tcls, sizeof(tcls), "%s.thresholds", cls);
    const char *key;
    json_t *v;
    json_object_foreach(thresholds, key, v) add_threshold(j, tcls, key, v);
    snprintf(tcls, sizeof(tcls), "%s.checks", cls);
    json_object_foreach(json_object_get(result, "checks"), key, v) add_check(j, tcls, thresholds, key, v);
}

/* ---------------------------------------------------------------- compare */

/* A compared value in its figure's unit. */
static void fmt_fig(char *buf, size_t cap, enum cmp_fig f, double v)
{
    if (f <= CMP_SVC_P999)
        report_fmt_us(buf, cap, v);
    else if (f == CMP_ERR_RATE)
        snprintf(buf, cap, "%.3g%%", 100 * v);
    else
        snprintf(buf, cap, "%.1f/s", v);
}

void junit_add_gate(struct junit *j, const char *text, const struct cmp_failif *g, const struct cmp_result *r)
{
    const char *cls = "salvo.compare.fail_if";
    bool inconclusive;
    bool fails = cmp_failif_fails(g, r, &inconclusive);
    const struct cmp_row *row = cmp_result_row(r, g->fig);
    char msg[1024], base[48], cand[48];
    if (!row) {
        snprintf(msg, sizeof(msg), "%s: not judged: the results have no %s", text, cmp_fig_name(g->fig));
        junit_case(j, cls, text, JUNIT_SKIPPED, NULL, msg, NULL);
        return;
    }
    fmt_fig(base, sizeof(base), g->fig, row->base);
    fmt_fig(cand, sizeof(cand), g->fig, row->cand);
    const char *pu = g->fig == CMP_ERR_RATE ? " pp" : "%";
    int n;
    if (g->percent) {
        n = snprintf(msg, sizeof(msg), "%s: baseline %s, candidate %s, change %+.2f%s [95%% interval %+.2f%s, %+.2f%s]",
                     text, base, cand, row->diff, pu, row->lo, pu, row->hi, pu);
    } else { /* an absolute gate: the interval in the figure's own unit */
        const char *u = g->fig <= CMP_SVC_P999 ? " us" : g->fig == CMP_ERR_RATE ? "" : "/s";
        n = snprintf(msg, sizeof(msg), "%s: baseline %s, candidate %s, change %+.6g%s [95%% interval %+.6g%s, %+.6g%s]",
                     text, base, cand, row->abs_diff, u, row->abs_lo, u, row->abs_hi, u);
    }
    size_t len = n > 0 && (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
    if (inconclusive) {
        snprintf(msg + len, sizeof(msg) - len, ": not judged, the figure is inconclusive%s%s", row->why[0] ? ": " : "",
                 row->why);
        junit_case(j, cls, text, JUNIT_SKIPPED, NULL, msg, NULL);
    } else if (fails) {
        snprintf(msg + len, sizeof(msg) - len,
                 ": the whole interval lies %s the gate, so the candidate is "
                 "significantly worse than it allows",
                 g->op == '>' ? "above" : "below");
        junit_case(j, cls, text, JUNIT_FAILURE, "fail_if", msg, NULL);
    } else {
        junit_case(j, cls, text, JUNIT_PASS, NULL, NULL, NULL);
    }
}
