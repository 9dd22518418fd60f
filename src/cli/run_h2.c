/*
 * run_h2.c — `salvo run`'s HTTP/2 options and the protocol checks (see
 * docs/http2.md): h2load's windows (-w/-W) and header table size, and
 * the combinations of protocol options that contradict the URL, each
 * other or a --chaos window, refused before any traffic (exit 2).
 */
#include <errno.h>
#include <stdlib.h>
#include <strings.h>

#include "cli/common.h"
#include "cli/run_args.h"

#define H2_WINDOW_MAX 2147483647ull /* RFC 9113 §6.9.1: 2^31 - 1 */
#define H2_BITS_MAX 30              /* h2load's -w/-W N: 2^N - 1 bytes, N at most 30 */

/* Bytes with an optional k/KiB, m/MiB or g/GiB suffix (powers of 1024). Returns 0 or -1. */
static int parse_size(const char *arg, unsigned long long *out, bool *bare)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    unsigned long long scale = 1;
    if (end == arg || errno || *arg == '-') return -1;
    *bare = !*end;
    if (!strcasecmp(end, "k") || !strcasecmp(end, "kib"))
        scale = 1ull << 10;
    else if (!strcasecmp(end, "m") || !strcasecmp(end, "mib"))
        scale = 1ull << 20;
    else if (!strcasecmp(end, "g") || !strcasecmp(end, "gib"))
        scale = 1ull << 30;
    else if (*end)
        return -1;
    if (v > H2_WINDOW_MAX * 2 / scale) return -1;
    *out = v * scale;
    return 0;
}

int run_h2_window_opt(const struct cli_opt *o, const char *arg, uint32_t *out)
{
    unsigned long long v;
    bool bare;
    if (parse_size(arg, &v, &bare) < 0)
        return cli_bad_value(o, arg, "expected BITS (0..30: 2^BITS-1 bytes, as h2load's -w) or a size like 1MiB");
    if (bare && v <= H2_BITS_MAX) v = (1ull << v) - 1;
    if (v == 0) return cli_bad_value(o, arg, "a window of 0 bytes lets no response data through");
    if (v > H2_WINDOW_MAX) return cli_bad_value(o, arg, "at most 2147483647 bytes (2^31-1, RFC 9113)");
    *out = (uint32_t)v;
    return -1;
}

int run_h2_table_opt(const struct cli_opt *o, const char *arg, struct run_config *cfg)
{
    unsigned long long v;
    bool bare;
    if (parse_size(arg, &v, &bare) < 0 || v > H2_WINDOW_MAX)
        return cli_bad_value(o, arg, "expected bytes, e.g. 4096, 0 or 64KiB (at most 2GiB-1)");
    cfg->h2_header_table = (uint32_t)v;
    cfg->h2_header_table_set = true;
    return -1;
}

/* The first --chaos window with an http_* toxic, or NULL. */
static const struct chaos_window *http_toxic(const struct run_args *a)
{
    for (size_t i = 0; i < a->nchaos; i++)
        if (a->chaos[i].action == CHAOS_TOXIC && toxic_type_is_http(a->chaos[i].toxic_type)) return &a->chaos[i];
    return NULL;
}

bool run_h1_only(const struct run_config *cfg, const struct run_args *a)
{
    return cfg->pipeline > 1 || cfg->no_keepalive || http_toxic(a);
}

int run_check_protocol(const struct run_config *cfg, const struct run_args *a)
{
    bool tls = cfg->url.tls;
    if (cfg->http_mode == HTTP_2C && tls)
        return usage_error("--h2c is HTTP/2 over plain TCP: with https:// use --http2 (h2 by ALPN)");
    if (cfg->http_mode == HTTP_2 && !tls)
        return usage_error("--http2 negotiates h2 by TLS ALPN: with http:// use --h2c (prior knowledge)");
    bool h2 = cfg->http_mode == HTTP_2 || cfg->http_mode == HTTP_2C;
    bool may_h2 = h2 || (tls && cfg->http_mode == HTTP_AUTO);
    const char *h2_opt = cfg->streams               ? "--streams"
                         : cfg->h2_window           ? "--h2-window"
                         : cfg->h2_conn_window      ? "--h2-conn-window"
                         : cfg->h2_header_table_set ? "--h2-header-table"
                                                    : NULL;
    if (h2_opt && cfg->http_mode == HTTP_1) return usage_error("%s is for HTTP/2: drop --http1.1", h2_opt);
    if (h2_opt && !may_h2) return usage_error("%s is for HTTP/2: add --h2c (http://) or use https://", h2_opt);
    if (h2 && cfg->pipeline > 1) return usage_error("--pipeline is HTTP/1.1's: HTTP/2 takes --streams N");
    if (h2 && cfg->no_keepalive) return usage_error("HTTP/2 multiplexes kept-alive connections: drop --no-keepalive");
    const struct chaos_window *t = http_toxic(a);
    if (h2 && t)
        return usage_error("bad --chaos '%s': the http_* toxics frame HTTP/1.x and salvo chaos does not speak h2 yet: "
                           "drop --%s, or use a byte toxic (latency, bandwidth, ...)",
                           t->spec, cfg->http_mode == HTTP_2 ? "http2" : "h2c");
    return -1;
}
