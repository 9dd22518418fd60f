/*
 * check_stream.c — keep and judge a stream's response for --check (see
 * check_stream.h).
 */
#include "load/check_stream.h"

#include <stdlib.h>
#include <string.h>

size_t check_stream_keep_cap(const struct run_config *cfg)
{
    /* Interim heads and the final head, then the body when a check reads it. */
    return 2 * HTTP_MAX_HEAD + (cfg->check_body ? cfg->max_body : 0);
}

/* What s may keep in all: two heads' worth until its final head ends, then that head and --max-body. */
static size_t keep_limit(const struct run_config *cfg, const struct stream *s)
{
    size_t cap = check_stream_keep_cap(cfg);
    if (!s->kept_body_at || !cfg->check_body) return cap;
    size_t limit = s->kept_body_at + cfg->max_body;
    return limit < cap ? limit : cap;
}

void check_stream_keep(const struct run_config *cfg, struct stream *s, const char *data, size_t len)
{
    size_t cap = keep_limit(cfg, s);
    if (s->kept_len + len > cap) {
        s->kept_over = true;
        len = cap - s->kept_len;
    }
    if (!len) return;
    if (s->kept_len + len > s->kept_cap) {
        size_t want = s->kept_cap ? s->kept_cap : 4096;
        while (want < s->kept_len + len)
            want *= 2;
        if (want > cap) want = cap;
        char *p = realloc(s->kept, want);
        if (!p) abort();
        s->kept = p;
        s->kept_cap = want;
    }
    memcpy(s->kept + s->kept_len, data, len);
    s->kept_len += len;
}

/* Appends pieces to s's kept head when they all fit below the head cap (two heads' worth, like HTTP/1.1). */
static void keep_line(const struct run_config *cfg, struct stream *s, const char *a, size_t alen, const char *b,
                      size_t blen, const char *c, size_t clen)
{
    if (s->kept_len + alen + blen + clen + 4 > 2 * HTTP_MAX_HEAD) return; /* room left for the blank line */
    check_stream_keep(cfg, s, a, alen);
    check_stream_keep(cfg, s, b, blen);
    check_stream_keep(cfg, s, c, clen);
    check_stream_keep(cfg, s, "\r\n", 2);
}

void check_stream_h2_field(const struct run_config *cfg, struct stream *s, const uint8_t *name, size_t namelen,
                           const uint8_t *value, size_t valuelen)
{
    if (s->kept_head) return;
    if (namelen == 7 && !memcmp(name, ":status", 7)) {
        keep_line(cfg, s, "HTTP/2 ", 7, (const char *)value, valuelen, "", 0);
        return;
    }
    if (namelen && name[0] == ':') return;
    if (namelen == 14 && !memcmp(name, "content-length", 14)) {
        int64_t v = 0;
        for (size_t i = 0; i < valuelen && v < INT64_MAX / 10 - 10; i++)
            v = value[i] >= '0' && value[i] <= '9' ? v * 10 + (value[i] - '0') : -1;
        if (v >= 0) s->resp.content_length = v;
    }
    keep_line(cfg, s, (const char *)name, namelen, ": ", 2, (const char *)value, valuelen);
}

void check_stream_h2_head_end(const struct run_config *cfg, struct body_budget *b, struct stream *s, int status)
{
    if (s->kept_head) return; /* trailers */
    check_stream_keep(cfg, s, "\r\n", 2);
    if (status < 200) return; /* an interim head: the final one follows */
    s->kept_head = true;
    check_stream_mark_body(s);
    if (!cfg->check_body) return;
    size_t need = check_stream_body_need(cfg, s);
    if (need && !s->kept_held) {
        if (body_budget_take(b, need))
            s->kept_held = need;
        else
            s->kept_over = true; /* no room: read, not kept */
    }
}

void check_stream_h2_data(const struct run_config *cfg, struct stream *s, const uint8_t *data, size_t len)
{
    if (!s->kept_head || s->kept_over || !cfg->check_body) return;
    /* The reservation is the rest of the cap or a Content-Length nghttp2 holds the stream to. */
    check_stream_keep(cfg, s, (const char *)data, len);
}

size_t check_stream_body_need(const struct run_config *cfg, const struct stream *s)
{
    size_t cap = keep_limit(cfg, s), rest = s->kept_len < cap ? cap - s->kept_len : 0;
    if (!s->resp.chunked && s->resp.content_length >= 0 && (uint64_t)s->resp.content_length < rest)
        return (size_t)s->resp.content_length;
    return rest;
}

bool check_stream_judge(const struct run_config *cfg, struct recorder *rec, struct stream *s, int status)
{
    enum check_result out[CHECK_MAX];
    struct check_view v = {
        .status = status,
        .raw = s->kept,
        .len = s->kept_len,
        .chunked = s->resp.chunked,
        /* Only the body can be cut: heads are bounded by the parser below the cap. */
        .truncated = s->kept_over,
    };
    uint32_t n = cfg->nchecks < CHECK_MAX ? cfg->nchecks : CHECK_MAX;
    uint32_t failed = check_run(cfg->checks, n, &v, out);
    for (uint32_t i = 0; i < n; i++)
        recorder_check(rec, i, out[i]);
    if (s->kept_cap > CHECK_KEEP_REUSE) {
        free(s->kept);
        s->kept = NULL;
        s->kept_cap = 0;
    }
    check_stream_reset(s);
    return failed > 0;
}
