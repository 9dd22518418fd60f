/*
 * scrape_ingest.c — one /metrics body into one round of a target: which
 * family a sample belongs to, its series key, the cap, and the per-round
 * figure (rate, value, histogram quantiles). Runs on the target's thread.
 *
 * Memory: the per-round arrays grow by doubling from the planned number of
 * rounds (the run's length plus a margin), so a run as long as planned
 * never reallocates; the series table holds at most the cap.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "load/scrape.h"

#define KEY_MAX 1024 /* a longer name{labels} is not kept (counted as dropped) */

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) abort();
    return p;
}

static void fill_nan(double *v, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        v[i] = NAN;
}

/* Grows every per-round array of t to cap rounds. */
static void grow_rounds(struct scrape_target *t, uint32_t cap)
{
    t->round_ns = xrealloc(t->round_ns, cap * sizeof(*t->round_ns));
    t->round_row = xrealloc(t->round_row, cap * sizeof(*t->round_row));
    t->round_ok = xrealloc(t->round_ok, cap * sizeof(*t->round_ok));
    for (uint32_t i = 0; i < t->nseries; i++) {
        struct scrape_series *s = &t->series[i];
        s->val = xrealloc(s->val, cap * sizeof(double));
        fill_nan(s->val, t->cap_rounds, cap);
        if (s->p50) {
            s->p50 = xrealloc(s->p50, cap * sizeof(double));
            fill_nan(s->p50, t->cap_rounds, cap);
        }
    }
    t->cap_rounds = cap;
}

uint32_t scrape_add_round(struct scrape_target *t, int32_t row, uint64_t now_ns)
{
    if (t->nrounds == t->cap_rounds) {
        uint32_t planned = t->owner ? t->owner->planned_rounds : 0;
        grow_rounds(t, t->cap_rounds ? t->cap_rounds * 2 : (planned > 8 ? planned : 8));
    }
    uint32_t r = t->nrounds++;
    t->round_ns[r] = now_ns;
    t->round_row[r] = row;
    t->round_ok[r] = false;
    return r;
}

/* The family a sample belongs to, from the last # TYPE line. */
struct family {
    struct prom_text_str name;
    enum prom_text_kind kind;
};

enum role { ROLE_VALUE, ROLE_COUNTER, ROLE_BUCKET };

static bool has_suffix(struct prom_text_str name, struct prom_text_str fam, const char *suffix)
{
    size_t n = strlen(suffix);
    return name.len == fam.len + n && !memcmp(name.p, fam.p, fam.len) && !memcmp(name.p + fam.len, suffix, n);
}

/* What a sample is: its series kind and role within its family. */
static enum prom_text_kind classify(const struct family *f, struct prom_text_str name, enum role *role)
{
    *role = ROLE_VALUE;
    if (!f->name.len || name.len < f->name.len || memcmp(name.p, f->name.p, f->name.len)) return PROM_UNTYPED;
    switch (f->kind) {
    case PROM_COUNTER:
        if (has_suffix(name, f->name, "") || has_suffix(name, f->name, "_total"))
            return *role = ROLE_COUNTER, PROM_COUNTER;
        break;
    case PROM_GAUGE:
        if (has_suffix(name, f->name, "")) return PROM_GAUGE;
        break;
    case PROM_HISTOGRAM:
        if (has_suffix(name, f->name, "_bucket")) return *role = ROLE_BUCKET, PROM_HISTOGRAM;
        if (has_suffix(name, f->name, "_sum") || has_suffix(name, f->name, "_count"))
            return *role = ROLE_COUNTER, PROM_COUNTER;
        break;
    case PROM_SUMMARY:
        if (has_suffix(name, f->name, "")) return PROM_SUMMARY;
        if (has_suffix(name, f->name, "_sum") || has_suffix(name, f->name, "_count"))
            return *role = ROLE_COUNTER, PROM_COUNTER;
        break;
    case PROM_UNTYPED: break;
    }
    return PROM_UNTYPED;
}

/* name{l1="v1",...} into key (le left out for buckets); -1 when it does not fit. */
static int build_key(const struct prom_text_line *l, struct prom_text_str name, bool skip_le, char *key,
                     size_t *name_len)
{
    size_t w = 0, n = 0;
    if (name.len + 1 > KEY_MAX) return -1;
    memcpy(key, name.p, name.len);
    w = *name_len = name.len;
    for (size_t i = 0; i < l->nlabels; i++) {
        const struct prom_text_label *lb = &l->labels[i];
        if (skip_le && prom_text_str_eq(lb->name, "le")) continue;
        if (w + lb->name.len + lb->value.len + 6 > KEY_MAX) return -1;
        key[w++] = n++ ? ',' : '{';
        memcpy(key + w, lb->name.p, lb->name.len);
        w += lb->name.len;
        key[w++] = '=';
        key[w++] = '"';
        memcpy(key + w, lb->value.p, lb->value.len);
        w += lb->value.len;
        key[w++] = '"';
    }
    if (n) key[w++] = '}';
    key[w] = '\0';
    return 0;
}

static struct scrape_series *lookup(struct scrape_target *t, const char *key, uint64_t h)
{
    if (!t->nbuckets) return NULL;
    for (uint32_t i = t->buckets[h & (t->nbuckets - 1)]; i; i = t->series[i - 1].chain)
        if (t->series[i - 1].hash == h && !strcmp(t->series[i - 1].key, key)) return &t->series[i - 1];
    return NULL;
}

/* A new series under the shared cap, or NULL when the cap is reached. */
static struct scrape_series *add_series(struct scrape_target *t, const char *key, size_t name_len, uint64_t h,
                                        enum prom_text_kind kind)
{
    struct scrape *s = t->owner;
    unsigned kept = atomic_fetch_add(&s->kept, 1);
    if (kept >= s->cap) {
        atomic_fetch_sub(&s->kept, 1);
        return NULL;
    }
    if (!t->nbuckets) {
        t->nbuckets = 16;
        while (t->nbuckets < 2 * s->cap)
            t->nbuckets *= 2;
        t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
        if (!t->buckets) abort();
    }
    if (t->nseries == t->cap_series) {
        t->cap_series = t->cap_series ? t->cap_series * 2 : 16;
        t->series = xrealloc(t->series, t->cap_series * sizeof(*t->series));
    }
    struct scrape_series *se = &t->series[t->nseries];
    memset(se, 0, sizeof(*se));
    se->key = strdup(key);
    if (!se->key) abort();
    se->name_len = name_len;
    se->kind = kind;
    se->hash = h;
    se->val = xrealloc(NULL, t->cap_rounds * sizeof(double));
    fill_nan(se->val, 0, t->cap_rounds);
    if (kind == PROM_HISTOGRAM) {
        se->p50 = xrealloc(NULL, t->cap_rounds * sizeof(double));
        fill_nan(se->p50, 0, t->cap_rounds);
        se->hist = calloc(1, sizeof(*se->hist));
        if (!se->hist) abort();
    }
    uint32_t b = (uint32_t)(h & (t->nbuckets - 1));
    se->chain = t->buckets[b];
    t->buckets[b] = ++t->nseries;
    return se;
}

static void note_first_last(struct scrape_series *se, double v)
{
    if (!se->has_first) se->first = v, se->has_first = true;
    se->last = v;
}

/* A counter's raw value: a rate since the last good read, resets counted from 0. */
static void apply_counter(struct scrape_series *se, uint32_t round, uint64_t now_ns, double v)
{
    if (isnan(v)) return;
    if (se->prev_ns && now_ns > se->prev_ns) {
        double inc = v >= se->prev ? v - se->prev : v;
        se->val[round] = inc / ((double)(now_ns - se->prev_ns) / 1e9);
        se->increase += inc;
    }
    se->prev = v;
    se->prev_ns = now_ns;
    note_first_last(se, v);
}

/* One _bucket line: its cumulative count under le, kept sorted by le. */
static void apply_bucket(struct scrape_series *se, uint32_t round, const struct prom_text_line *l)
{
    struct scrape_hist *h = se->hist;
    const struct prom_text_label *le = prom_text_label(l, "le");
    char buf[64];
    if (!le || le->value.len >= sizeof(buf)) return;
    prom_text_unescape(le->value, buf, sizeof(buf));
    double bound = !strcmp(buf, "+Inf") || !strcmp(buf, "Inf") ? INFINITY : strtod(buf, NULL);
    if (se->seen != round + 1)
        for (uint32_t i = 0; i < h->nb; i++)
            h->cur[i] = NAN;
    uint32_t i = 0;
    while (i < h->nb && h->le[i] < bound)
        i++;
    if (i == h->nb || h->le[i] != bound) {
        if (h->nb == SCRAPE_HIST_BUCKETS) return;
        memmove(h->le + i + 1, h->le + i, (h->nb - i) * sizeof(double));
        memmove(h->cur + i + 1, h->cur + i, (h->nb - i) * sizeof(double));
        h->nb++;
        h->le[i] = bound;
        h->has_prev = false; /* a new layout: no delta this round */
    }
    h->cur[i] = l->value;
}

/* histogram_quantile() over per-bucket cumulative counts c[0..nb) (le ascending, +Inf last). */
static double bucket_quantile(const struct scrape_hist *h, const double *c, double q)
{
    uint32_t nb = h->nb;
    if (nb < 2 || !isinf(h->le[nb - 1]) || c[nb - 1] <= 0) return NAN;
    double rank = q * c[nb - 1];
    uint32_t b = 0;
    while (b < nb - 1 && c[b] < rank)
        b++;
    if (b == nb - 1) return h->le[nb - 2];
    if (b == 0 && h->le[0] <= 0) return h->le[0];
    double lo = b ? h->le[b - 1] : 0, before = b ? c[b - 1] : 0, in = c[b] - before;
    if (in <= 0) return h->le[b];
    return lo + (h->le[b] - lo) * ((rank - before) / in);
}

/* The round's p50/p99 of a histogram from the deltas of its buckets. */
static void finish_hist(struct scrape_series *se, uint32_t round)
{
    struct scrape_hist *h = se->hist;
    double delta[SCRAPE_HIST_BUCKETS];
    bool complete = true, reset = false;
    for (uint32_t i = 0; i < h->nb; i++) {
        complete &= !isnan(h->cur[i]);
        if (h->has_prev && h->cur[i] < h->prev[i]) reset = true;
    }
    if (!complete) {
        h->has_prev = false;
        return;
    }
    if (h->has_prev) {
        for (uint32_t i = 0; i < h->nb; i++)
            delta[i] = reset ? h->cur[i] : h->cur[i] - h->prev[i];
        se->val[round] = bucket_quantile(h, delta, 0.99);
        se->p50[round] = bucket_quantile(h, delta, 0.5);
        if (!isnan(se->val[round])) note_first_last(se, se->val[round]);
    }
    memcpy(h->prev, h->cur, h->nb * sizeof(double));
    h->has_prev = true;
}

/* A sample that passed classification: into its series (found or made). */
static void apply_sample(struct scrape_target *t, uint32_t round, uint64_t now_ns, const struct prom_text_line *l,
                         const struct family *fam, uint32_t *dropped)
{
    enum role role;
    enum prom_text_kind kind = classify(fam, l->name, &role);
    char key[KEY_MAX];
    size_t name_len;
    if (build_key(l, role == ROLE_BUCKET ? fam->name : l->name, role == ROLE_BUCKET, key, &name_len) < 0) {
        (*dropped)++;
        return;
    }
    uint64_t h = hash_bytes(key, strlen(key));
    struct scrape_series *se = lookup(t, key, h);
    if (!se) {
        if (t->owner->has_re && regexec(&t->owner->re, key, 0, NULL, 0) != 0) return;
        if (!(se = add_series(t, key, name_len, h, kind))) {
            (*dropped)++;
            return;
        }
    }
    if ((role == ROLE_BUCKET) != (se->hist != NULL)) return;  /* "h" both a histogram and a sample: the first wins */
    if (role != ROLE_BUCKET && se->seen == round + 1) return; /* a duplicate line: the first one counts */
    if (role == ROLE_COUNTER)
        apply_counter(se, round, now_ns, l->value);
    else if (role == ROLE_BUCKET)
        apply_bucket(se, round, l);
    else {
        se->val[round] = l->value;
        if (!isnan(l->value)) note_first_last(se, l->value);
    }
    se->seen = round + 1;
}

int scrape_ingest(struct scrape_target *t, uint32_t round, uint64_t now_ns, const char *body, size_t len, int *bad,
                  const char **why)
{
    struct family fam = {{NULL, 0}, PROM_UNTYPED};
    struct prom_text_line line;
    size_t pos = 0;
    int samples = 0;
    uint32_t dropped = 0;
    const char *reason;
    *bad = 0;
    *why = NULL;
    for (int rc; (rc = prom_text_next(body, len, &pos, &line, &reason)) != 0;) {
        if (rc < 0) {
            if (!(*bad)++) *why = reason;
            continue;
        }
        if (line.type == PROM_LINE_TYPE) fam = (struct family){line.name, line.kind};
        if (line.type != PROM_LINE_SAMPLE) continue;
        samples++;
        apply_sample(t, round, now_ns, &line, &fam, &dropped);
    }
    for (uint32_t i = 0; i < t->nseries; i++)
        if (t->series[i].hist && t->series[i].seen == round + 1) finish_hist(&t->series[i], round);
    if (dropped > t->dropped) t->dropped = dropped;
    return samples ? samples : -1;
}
