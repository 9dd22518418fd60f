/*
 * hlog.c — HdrHistogram interval log writer (see hlog.h).
 */
#include "report/hlog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hist_codec.h"

int hlog_open(struct hlog *l, const char *path, uint64_t start_wall_ns)
{
    l->f = fopen(path, "w");
    if (!l->f) return -errno;
    time_t secs = (time_t)(start_wall_ns / 1000000000ull);
    struct tm tm;
    char human[64];
    gmtime_r(&secs, &tm);
    strftime(human, sizeof(human), "%a %b %d %H:%M:%S UTC %Y", &tm);
    double start = (double)start_wall_ns / 1e9;
    fprintf(l->f, "#[Histogram log format version 1.3]\n");
    fprintf(l->f, "#[StartTime: %.3f (seconds since epoch), %s]\n", start, human);
    fprintf(l->f, "#[BaseTime: %.3f (seconds since epoch)]\n", start);
    fprintf(l->f, "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n");
    return 0;
}

/* Copies tag with separators and whitespace (not allowed in "Tag=..,") replaced by '_'. */
static void clean_tag(char *out, size_t cap, const char *tag)
{
    size_t n = 0;
    for (; tag && *tag && n + 1 < cap; tag++)
        out[n++] = strchr(", \t\r\n", *tag) ? '_' : *tag;
    out[n] = '\0';
}

int hlog_interval(struct hlog *l, const char *tag, double start_s, double len_s, const struct hist *h)
{
    if (!l->f) return -EBADF;
    if (!h) {
        /* An interval without data is an empty histogram, so every tag has a line every second. */
        if (!l->empty.counts && hist_init(&l->empty, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG) < 0)
            return -EINVAL;
        h = &l->empty;
    }
    char *b64 = hist_encode_base64(h);
    if (!b64) return -ENOMEM;
    /* Interval_Max is informational; like jHiccup's logs it is in ms. */
    double max_ms = h->total_count ? (double)hist_max(h) / 1e3 : 0.0;
    char clean[256];
    clean_tag(clean, sizeof(clean), tag);
    if (clean[0]) fprintf(l->f, "Tag=%s,", clean);
    fprintf(l->f, "%.3f,%.3f,%.3f,%s\n", start_s, len_s, max_ms, b64);
    free(b64);
    return 0;
}

int hlog_close(struct hlog *l)
{
    if (l) hist_release(&l->empty);
    if (!l || !l->f) return 0;
    int rc = fclose(l->f);
    l->f = NULL;
    return rc == 0 ? 0 : -EIO;
}
