/*
 * scrape_live.c — the live snapshot of the scraped series (scrape.h,
 * scrape_live): each target's thread rebuilds its part after a round, as
 * JSON text, and swaps it in under the shared mutex; any thread joins the
 * parts. The series arrays are the thread's alone, so nobody else reads them
 * before scrape_stop.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/scrape.h"

struct buf {
    char *p;
    size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) abort();
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* A JSON string: the key's quotes and backslashes (label values) escaped, control bytes dropped. */
static void put_string(struct buf *b, const char *s)
{
    put(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') put(b, "\\", 1);
        if ((unsigned char)*s >= 0x20) put(b, s, 1);
    }
    put(b, "\"", 1);
}

void scrape_live_refresh(struct scrape_target *t)
{
    struct buf b = {0};
    uint32_t n = t->nseries < SCRAPE_LIVE_SERIES ? t->nseries : SCRAPE_LIVE_SERIES;
    /* The rounds that are rows of the timeline, their last SCRAPE_LIVE_POINTS. */
    uint32_t first = 0, nrows = 0;
    for (uint32_t r = t->nrounds; r-- > 0 && nrows < SCRAPE_LIVE_POINTS;)
        if (t->round_row[r] >= 0) {
            first = r;
            nrows++;
        }
    for (uint32_t i = 0; i < n; i++) {
        const struct scrape_series *se = &t->series[i];
        if (i) put(&b, ",", 1);
        puts_(&b, "{\"name\":");
        put_string(&b, se->key);
        if (se->kind == PROM_COUNTER) puts_(&b, ",\"unit\":\"/s\"");
        if (se->kind == PROM_HISTOGRAM) puts_(&b, ",\"unit\":\"p99\"");
        puts_(&b, ",\"points\":[");
        bool any = false;
        for (uint32_t r = first; nrows && r < t->nrounds; r++) {
            if (t->round_row[r] < 0) continue;
            char pt[64];
            double v = se->val[r];
            if (isfinite(v))
                snprintf(pt, sizeof(pt), "%s[%d,%.9g]", any ? "," : "", t->round_row[r], v);
            else
                snprintf(pt, sizeof(pt), "%s[%d,null]", any ? "," : "", t->round_row[r]);
            puts_(&b, pt);
            any = true;
        }
        puts_(&b, "]}");
    }
    pthread_mutex_lock(&t->owner->mu);
    char *old = t->live;
    t->live = b.p ? b.p : strdup("");
    t->nlive = n;
    pthread_mutex_unlock(&t->owner->mu);
    free(old);
}

char *scrape_live(struct scrape *s)
{
    struct buf b = {0};
    uint32_t kept = 0;
    bool any = false;
    put(&b, "[", 1);
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->ntargets; i++) {
        const struct scrape_target *t = &s->targets[i];
        if (!t->live) continue;
        any = true;
        if (!t->nlive || kept + t->nlive > SCRAPE_LIVE_SERIES) continue; /* a whole part or none: simple, rare */
        if (kept) put(&b, ",", 1);
        puts_(&b, t->live);
        kept += t->nlive;
    }
    pthread_mutex_unlock(&s->mu);
    put(&b, "]", 1);
    if (!any) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
