/*
 * evidence.c — the scrape and profile results as JSON (see evidence.h).
 *
 * Scrape rounds are mapped onto the run's timeline by the row each round
 * was timed for; a row without a good round, and a value that is NaN or
 * infinite, is null: a gap, never 0.
 */
#include "report/evidence.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/prom_text.h"

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* The labels of a series key, re-read with the exposition parser (the key is name{labels}). */
static json_t *labels_of(const char *key)
{
    json_t *o = json_object();
    size_t n = strlen(key);
    char *line = malloc(n + 4);
    if (!line) abort();
    memcpy(line, key, n);
    memcpy(line + n, " 0\n", 4);
    struct prom_text_line l;
    size_t pos = 0;
    const char *why;
    if (prom_text_next(line, n + 3, &pos, &l, &why) == 1)
        for (size_t i = 0; i < l.nlabels; i++) {
            char name[128], value[1024];
            prom_text_unescape(l.labels[i].name, name, sizeof(name));
            prom_text_unescape(l.labels[i].value, value, sizeof(value));
            json_object_set_new(o, name, json_string(value));
        }
    free(line);
    return o;
}

/* Per-row values of one series: the round timed for each row, else null. */
static json_t *row_values(const double *v, const int32_t *row_round, size_t nrows)
{
    json_t *a = json_array();
    for (size_t t = 0; t < nrows; t++)
        json_array_append_new(a, row_round[t] >= 0 ? num_or_null(v[row_round[t]]) : json_null());
    return a;
}

static json_t *series_json(const struct scrape_series *se, size_t target, const int32_t *row_round, size_t nrows)
{
    json_t *o = json_object();
    char name[1024];
    snprintf(name, sizeof(name), "%.*s", (int)se->name_len, se->key);
    json_object_set_new(o, "target", json_integer((json_int_t)target));
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "labels", labels_of(se->key));
    json_object_set_new(o, "kind", json_string(prom_text_kind_name(se->kind)));
    const char *what = se->kind == PROM_COUNTER ? "rate_per_s" : se->kind == PROM_HISTOGRAM ? "p99" : "value";
    json_object_set_new(o, "values_are", json_string(what));
    json_object_set_new(o, "values", row_values(se->val, row_round, nrows));
    if (se->p50) json_object_set_new(o, "p50", row_values(se->p50, row_round, nrows));
    json_object_set_new(o, "start", se->has_first ? num_or_null(se->first) : json_null());
    json_object_set_new(o, "end", se->has_first ? num_or_null(se->last) : json_null());
    if (se->kind == PROM_COUNTER) json_object_set_new(o, "increase", num_or_null(se->increase));
    return o;
}

static json_t *target_json(const struct scrape_target *t)
{
    json_t *o = json_object(), *errs = json_array();
    uint32_t good = 0;
    for (uint32_t i = 0; i < t->nrounds; i++)
        good += t->round_ok[i];
    json_object_set_new(o, "url", json_string(t->url_text));
    json_object_set_new(o, "rounds", json_integer(t->nrounds));
    json_object_set_new(o, "good_rounds", json_integer(good));
    json_object_set_new(o, "failed_rounds", json_integer(t->failed_rounds));
    json_object_set_new(o, "series", json_integer(t->nseries));
    json_object_set_new(o, "dropped_series", json_integer(t->dropped));
    for (uint32_t i = 0; i < t->nerrors; i++) {
        const struct scrape_error *e = &t->errors[i];
        json_t *eo = json_object();
        json_object_set_new(eo, "cause", json_string(e->cause));
        json_object_set_new(eo, "count", json_integer(e->count));
        int32_t row = e->first_round >= 0 && (uint32_t)e->first_round < t->nrounds ? t->round_row[e->first_round] : -1;
        json_object_set_new(eo, "first_t", json_integer(row));
        json_array_append_new(errs, eo);
    }
    json_object_set_new(o, "errors", errs);
    return o;
}

json_t *evidence_scrape_json(const struct scrape *s, size_t nrows)
{
    json_t *o = json_object(), *targets = json_array(), *series = json_array();
    json_int_t dropped = 0, errors = 0;
    int32_t *row_round = malloc((nrows ? nrows : 1) * sizeof(*row_round));
    if (!row_round) abort();
    for (size_t i = 0; i < s->ntargets; i++) {
        const struct scrape_target *t = &s->targets[i];
        for (size_t r = 0; r < nrows; r++)
            row_round[r] = -1;
        for (uint32_t r = 1; r < t->nrounds; r++)
            if (t->round_row[r] >= 0 && (size_t)t->round_row[r] < nrows && t->round_ok[r])
                row_round[t->round_row[r]] = (int32_t)r;
        json_array_append_new(targets, target_json(t));
        for (uint32_t j = 0; j < t->nseries; j++)
            json_array_append_new(series, series_json(&t->series[j], i, row_round, nrows));
        dropped += t->dropped;
        for (uint32_t e = 0; e < t->nerrors; e++)
            errors += t->errors[e].count;
    }
    free(row_round);
    json_object_set_new(o, "interval_s", json_integer(1));
    json_object_set_new(o, "timeout_ms", json_integer((json_int_t)(s->timeout_ns / 1000000)));
    json_object_set_new(o, "match", s->match ? json_string(s->match) : json_null());
    json_object_set_new(o, "max_series", json_integer(s->cap));
    json_object_set_new(o, "bytes_per_series_second", json_integer(SCRAPE_BYTES_PER_SERIES_SECOND));
    json_object_set_new(o, "targets", targets);
    json_object_set_new(o, "series", series);
    json_object_set_new(o, "dropped_series", json_integer(dropped));
    json_object_set_new(o, "errors", json_integer(errors));
    return o;
}

json_t *evidence_profiles_json(const struct profiles *p)
{
    json_t *a = json_array();
    for (size_t i = 0; i < p->n; i++) {
        const struct profile_job *j = &p->jobs[i];
        json_t *o = json_object();
        json_object_set_new(o, "url", json_string(j->url_text));
        json_object_set_new(o, "file", json_string(j->path));
        json_object_set_new(o, "at_s", json_real((double)j->at_ns / 1e9));
        json_object_set_new(o, "for_s", json_real((double)j->for_ns / 1e9));
        json_object_set_new(o, "ok", json_boolean(j->ok));
        if (j->ramp_group >= 0) json_object_set_new(o, "kept", json_boolean(j->kept));
        if (j->fetched_at_s > 0) json_object_set_new(o, "fetched_at_s", json_real(j->fetched_at_s));
        if (j->took_s > 0) json_object_set_new(o, "took_s", json_real(j->took_s));
        if (j->ok) json_object_set_new(o, "bytes", json_integer((json_int_t)j->bytes));
        if (!j->ok) json_object_set_new(o, "error", json_string(j->error));
        json_array_append_new(a, o);
    }
    return a;
}

/* A string of the JSON, "" when it is not one (the summary may read results from anywhere). */
static const char *text_of(const json_t *v)
{
    const char *s = json_string_value(v);
    return s ? s : "";
}

/* A target's line: series kept and dropped, rounds read, the first cause of a failure. */
static void print_target(FILE *out, const json_t *t)
{
    long long rounds = json_integer_value(json_object_get(t, "rounds"));
    long long good = json_integer_value(json_object_get(t, "good_rounds"));
    fprintf(out, "scrape      %s: %lld series (%lld dropped by the cap), %lld of %lld rounds good",
            text_of(json_object_get(t, "url")), json_integer_value(json_object_get(t, "series")),
            json_integer_value(json_object_get(t, "dropped_series")), good, rounds);
    const json_t *e = json_array_get(json_object_get(t, "errors"), 0);
    if (e) fprintf(out, " (%s)", text_of(json_object_get(e, "cause")));
    fputc('\n', out);
}

/* A series' start and end into line: a counter's increase and mean rate, a gauge's first and last value. */
static bool series_line(const json_t *s, double duration_s, char *line, size_t cap)
{
    const json_t *start = json_object_get(s, "start"), *end = json_object_get(s, "end");
    if (!json_is_number(start) || !json_is_number(end)) return false;
    const char *kind = text_of(json_object_get(s, "kind")), *k;
    double a = json_number_value(start), b = json_number_value(end);
    char name[300];
    size_t n = (size_t)snprintf(name, sizeof(name), "%s", text_of(json_object_get(s, "name")));
    json_t *v;
    int nl = 0;
    json_object_foreach((json_t *)json_object_get(s, "labels"), k, v)
    {
        if (n < sizeof(name))
            n += (size_t)snprintf(name + n, sizeof(name) - n, "%s%s=\"%s\"", nl++ ? "," : "{", k, text_of(v));
    }
    if (nl && n < sizeof(name)) snprintf(name + n, sizeof(name) - n, "}");
    if (kind && !strcmp(kind, "counter")) {
        double inc = json_number_value(json_object_get(s, "increase"));
        if (inc <= 0) return false;
        snprintf(line, cap, "%s +%.6g (%.4g/s over the run)", name, inc, duration_s > 0 ? inc / duration_s : 0);
    } else {
        if (a == b) return false;
        snprintf(line, cap, "%s %.6g -> %.6g%s", name, a, b, kind && !strcmp(kind, "histogram") ? " (p99)" : "");
    }
    return true;
}

void evidence_summary_print(FILE *out, const json_t *r)
{
    const json_t *sc = json_object_get(r, "scrape"), *v;
    size_t i, shown = 0, changed = 0;
    char line[600];
    json_array_foreach(json_object_get(sc, "targets"), i, v) print_target(out, v);
    double duration = json_number_value(json_object_get(r, "duration_s"));
    json_array_foreach(json_object_get(sc, "series"), i, v)
    {
        if (!series_line(v, duration, line, sizeof(line))) continue;
        if (changed++ < EVIDENCE_SUMMARY_SERIES) fprintf(out, "server      %s\n", line), shown++;
    }
    if (changed > shown)
        fprintf(out, "server      ... %zu more that changed in the JSON's scrape.series\n", changed - shown);
    size_t away = 0;
    json_array_foreach(json_object_get(r, "profiles"), i, v)
    {
        if (json_is_false(json_object_get(v, "kept")))
            away++;
        else if (json_is_true(json_object_get(v, "ok")))
            fprintf(out, "profile     %s (%lld bytes, %.0fs from %.1fs)\n", text_of(json_object_get(v, "file")),
                    json_integer_value(json_object_get(v, "bytes")), json_number_value(json_object_get(v, "for_s")),
                    json_number_value(json_object_get(v, "at_s")));
        else
            fprintf(out, "profile     %s failed: %s\n", text_of(json_object_get(v, "url")),
                    text_of(json_object_get(v, "error")));
    }
    if (away) fprintf(out, "profile     %zu more along the ramp, away from its knee, were deleted\n", away);
}
