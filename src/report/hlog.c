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

/* True if tag can appear in "Tag=..," (no separators or whitespace). */
static bool tag_ok(const char *tag)
{
    return tag && *tag && !strpbrk(tag, ", \t\r\n");
}

int hlog_interval(struct hlog *l, const char *tag, double start_s, double len_s, const struct hist *h)
{
    if (!l->f) return -EBADF;
    char *b64 = hist_encode_base64(h);
    if (!b64) return -ENOMEM;
    /* Interval_Max is informational; like jHiccup's logs it is in ms. */
    double max_ms = h->total_count ? (double)hist_max(h) / 1e3 : 0.0;
    if (tag_ok(tag)) fprintf(l->f, "Tag=%s,", tag);
    fprintf(l->f, "%.3f,%.3f,%.3f,%s\n", start_s, len_s, max_ms, b64);
    free(b64);
    return 0;
}

int hlog_close(struct hlog *l)
{
    if (!l || !l->f) return 0;
    int rc = fclose(l->f);
    l->f = NULL;
    return rc == 0 ? 0 : -EIO;
}
