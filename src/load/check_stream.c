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

void check_stream_keep(const struct run_config *cfg, struct stream *s, const char *data, size_t len)
{
    size_t cap = check_stream_keep_cap(cfg);
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

size_t check_stream_body_need(const struct run_config *cfg, const struct stream *s)
{
    size_t cap = check_stream_keep_cap(cfg), rest = s->kept_len < cap ? cap - s->kept_len : 0;
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
