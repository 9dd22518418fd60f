/*
 * reqgen.c — compile and render requests (see reqgen.h).
 */
#include "load/reqgen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/version.h"

/* Appends n bytes to buf at *pos if they fit. */
static bool put(char *buf, size_t cap, size_t *pos, const char *s, size_t n)
{
    if (*pos + n > cap) return false;
    memcpy(buf + *pos, s, n);
    *pos += n;
    return true;
}

/* Appends a rendered template. */
static bool put_tpl(char *buf, size_t cap, size_t *pos, const struct template *t, const struct row_source *f,
                    size_t row)
{
    ssize_t n = template_render(t, f, row, buf + *pos, cap - *pos);
    if (n < 0) return false;
    *pos += (size_t)n;
    return true;
}

/* True if header line h names `name` (case-insensitive). */
static bool header_named(const char *h, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(h, name, n) == 0 && h[n] == ':';
}

/* Renders target t for data row into buf; returns the length or -ENOSPC. */
static ssize_t render_target(const struct reqgen *g, const struct reqgen_target *t, size_t row, char *buf, size_t cap)
{
    size_t pos = 0;
    const struct row_source *f = feeder_source(g->data);
    bool ok = put(buf, cap, &pos, t->method, strlen(t->method)) && put(buf, cap, &pos, " ", 1) &&
              put_tpl(buf, cap, &pos, &t->path, f, row) && put(buf, cap, &pos, " HTTP/1.1\r\n", 11);
    bool has_host = false, has_ua = false, has_ct = false;
    for (size_t i = 0; ok && i < t->nheaders; i++) {
        const char *lit = t->headers[i].literal;
        has_host |= header_named(lit, "host");
        has_ua |= header_named(lit, "user-agent");
        has_ct |= header_named(lit, "content-type");
    }
    (void)has_ct;
    if (ok && !has_host)
        ok = put(buf, cap, &pos, "Host: ", 6) && put(buf, cap, &pos, g->host_header, strlen(g->host_header)) &&
             put(buf, cap, &pos, "\r\n", 2);
    static const char ua[] = "User-Agent: salvo/" SALVO_VERSION "\r\n";
    if (ok && !has_ua) ok = put(buf, cap, &pos, ua, sizeof(ua) - 1);
    for (size_t i = 0; ok && i < t->nheaders; i++)
        ok = put_tpl(buf, cap, &pos, &t->headers[i], f, row) && put(buf, cap, &pos, "\r\n", 2);
    if (!ok) return -ENOSPC;
    if (!t->has_body) return put(buf, cap, &pos, "\r\n", 2) ? (ssize_t)pos : -ENOSPC;
    /* Render the body past room for the Content-Length line, then move it. */
    size_t room = pos + 40;
    if (room >= cap) return -ENOSPC;
    ssize_t blen = template_render(&t->body, f, row, buf + room, cap - room);
    if (blen < 0) return -ENOSPC;
    char cl[40];
    int n = snprintf(cl, sizeof(cl), "Content-Length: %zd\r\n\r\n", blen);
    memcpy(buf + pos, cl, (size_t)n);
    memmove(buf + pos + (size_t)n, buf + room, (size_t)blen);
    return (ssize_t)(pos + (size_t)n + (size_t)blen);
}

/* Returns the group index of name, adding it, or past the cap the shared "other" group. */
static uint32_t group_of(struct reqgen *g, const char *name)
{
    for (uint32_t i = 0; i < g->nnames; i++)
        if (!strcmp(g->names[i], name)) return i;
    if (g->nnames >= g->max_names) name = "other";
    for (uint32_t i = g->max_names; i < g->nnames; i++)
        if (!strcmp(g->names[i], name)) return i;
    g->names = realloc(g->names, (g->nnames + 1) * sizeof(*g->names));
    if (!g->names || !(g->names[g->nnames] = strdup(name))) abort();
    return g->nnames++;
}

uint32_t reqgen_add_name(struct reqgen *g, const char *name)
{
    return group_of(g, name);
}

/* A method is 1-20 upper-case letters (the request line allows no more). */
static bool method_valid(const char *m)
{
    size_t n = strlen(m);
    if (n == 0 || n > 20) return false;
    for (; *m; m++)
        if (*m < 'A' || *m > 'Z') return false;
    return true;
}

/* "Name: value" with a token name and no CR/LF (a template may follow the colon). */
static bool header_valid(const char *h)
{
    const char *colon = strchr(h, ':');
    if (!colon || colon == h) return false;
    for (const char *p = h; p < colon; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("()<>@,;\\\"/[]?={}", *p)) return false;
    return strpbrk(h, "\r\n") == NULL;
}

/* Writes text into buf with CR, LF, tab and other control bytes escaped (\r, \n, \x01), cut to fit. */
static const char *escaped(const char *text, char *buf, size_t cap)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p && n + 5 < cap; p++) {
        if (*p == '\r' || *p == '\n' || *p == '\t')
            n += (size_t)snprintf(buf + n, cap - n, "\\%c", *p == '\r' ? 'r' : *p == '\n' ? 'n' : 't');
        else if (*p < ' ' || *p == 0x7f)
            n += (size_t)snprintf(buf + n, cap - n, "\\x%02x", *p);
        else
            buf[n++] = (char)*p;
    }
    buf[n] = '\0';
    return buf;
}

/* Compiles one spec into t. */
static int compile_target(struct reqgen *g, struct reqgen_target *t, const struct reqgen_spec *s, char *why, size_t cap)
{
    struct template_error err;
    const char *ct = NULL;
    if (!method_valid(s->method))
        return snprintf(why, cap, "bad method '%.40s': expected upper-case letters", s->method), -EINVAL;
    snprintf(t->method, sizeof(t->method), "%s", s->method);
    t->head = !strcmp(s->method, "HEAD");
    if (s->nheaders > REQGEN_MAX_HEADERS) return snprintf(why, cap, "too many headers"), -EINVAL;
    for (size_t i = 0; i < s->nheaders; i++) {
        char shown[96];
        if (header_valid(s->headers[i])) continue;
        bool crlf = strpbrk(s->headers[i], "\r\n") != NULL;
        return snprintf(why, cap, "bad header '%s': %s", escaped(s->headers[i], shown, sizeof(shown)),
                        crlf ? "a header cannot hold a line break (CR or LF)" : "expected 'Name: value'"),
               -EINVAL;
    }
    int rc = template_compile(&t->path, s->path, strlen(s->path), TPL_URL, feeder_source(g->data), &err);
    for (size_t i = 0; rc == 0 && i < s->nheaders; i++) {
        if (header_named(s->headers[i], "content-type")) ct = strchr(s->headers[i], ':') + 1;
        if (header_named(s->headers[i], "content-length") || header_named(s->headers[i], "transfer-encoding")) {
            snprintf(why, cap, "Content-Length and Transfer-Encoding are set by salvo");
            return -EINVAL;
        }
        rc = template_compile(&t->headers[i], s->headers[i], strlen(s->headers[i]), TPL_HEADER, feeder_source(g->data),
                              &err);
        t->nheaders = i + 1;
    }
    if (rc == 0 && s->body) {
        while (ct && *ct == ' ')
            ct++;
        t->has_body = true;
        rc = template_compile(&t->body, s->body, s->body_len, template_body_mode(ct, s->body, s->body_len),
                              feeder_source(g->data), &err);
    }
    if (rc < 0) return snprintf(why, cap, "%s", err.msg), rc;
    size_t n = strcspn(s->path, "?");
    char name[256];
    snprintf(name, sizeof(name), "%.*s", (int)(n < 255 ? n : 255), s->path);
    t->group = group_of(g, s->name ? s->name : name);
    return 0;
}

/* Bound on the rendered size of t. */
static size_t target_max_len(const struct reqgen *g, const struct reqgen_target *t)
{
    size_t n = strlen(t->method) + 64 + strlen(g->host_header) + template_max_len(&t->path, feeder_source(g->data));
    for (size_t i = 0; i < t->nheaders; i++)
        n += template_max_len(&t->headers[i], feeder_source(g->data)) + 2;
    if (t->has_body) n += template_max_len(&t->body, feeder_source(g->data)) + 64;
    return n + 64;
}

/* Renders static targets once. */
static void prerender(struct reqgen *g, struct reqgen_target *t)
{
    bool is_static = template_is_static(&t->path) && (!t->has_body || template_is_static(&t->body));
    for (size_t i = 0; i < t->nheaders; i++)
        is_static &= template_is_static(&t->headers[i]);
    if (!is_static) return;
    size_t cap = target_max_len(g, t);
    if (!(t->static_bytes = malloc(cap))) abort();
    ssize_t n = render_target(g, t, 0, t->static_bytes, cap);
    if (n < 0) abort(); /* cap is an upper bound */
    t->static_len = (size_t)n;
}

int reqgen_init(struct reqgen *g, const struct reqgen_spec *specs, size_t n, const struct feeder *data,
                enum pick_mode pick, uint64_t seed, uint64_t pick_seed, const char *host_header, uint32_t max_names,
                char *why, size_t cap)
{
    memset(g, 0, sizeof(*g));
    if (!(g->claimed = malloc(sizeof(*g->claimed)))) abort();
    atomic_init(g->claimed, 0);
    g->data = data;
    g->seed = seed;
    g->pick_seed = pick_seed;
    g->max_names = max_names ? max_names : 1;
    snprintf(g->host_header, sizeof(g->host_header), "%s", host_header);
    if (data && picker_init(&g->picker, pick, feeder_rows(data), pick_seed) < 0)
        return snprintf(why, cap, "'%s' has no rows", feeder_path(data)), -EINVAL;
    g->targets = calloc(n, sizeof(*g->targets));
    g->cumulative = n > 1 ? calloc(n, sizeof(double)) : NULL;
    if (!g->targets || (n > 1 && !g->cumulative)) abort();
    g->ntargets = n;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = compile_target(g, &g->targets[i], &specs[i], why, cap);
        if (rc < 0) return rc;
        sum += specs[i].weight > 0 ? specs[i].weight : 1;
        if (g->cumulative) g->cumulative[i] = sum;
        size_t m = target_max_len(g, &g->targets[i]);
        if (m > g->max_len) g->max_len = m;
        prerender(g, &g->targets[i]);
    }
    return 0;
}

void reqgen_release(struct reqgen *g)
{
    if (!g) return;
    for (size_t i = 0; g->targets && i < g->ntargets; i++) {
        struct reqgen_target *t = &g->targets[i];
        template_release(&t->path);
        for (size_t k = 0; k < t->nheaders; k++)
            template_release(&t->headers[k]);
        template_release(&t->body);
        free(t->static_bytes);
    }
    free(g->targets);
    free(g->cumulative);
    for (uint32_t i = 0; i < g->nnames; i++)
        free(g->names[i]);
    free(g->names);
    free((void *)g->claimed);
    memset(g, 0, sizeof(*g));
}

size_t reqgen_pick(const struct reqgen *g, uint64_t index)
{
    if (g->ntargets <= 1) return 0;
    double total = g->cumulative[g->ntargets - 1];
    double u = (double)(pick_hash(g->seed ^ 0x7a7267657473ull, index) >> 11) * 0x1.0p-53 * total;
    size_t lo = 0, hi = g->ntargets - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (u < g->cumulative[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

bool reqgen_exhausted(const struct reqgen *g, uint64_t index)
{
    return g->data && picker_row(&g->picker, index) == PICK_NONE;
}

uint64_t reqgen_claim(const struct reqgen *g)
{
    /* Relaxed: only uniqueness matters; the rows and targets are read-only. */
    return atomic_fetch_add_explicit(g->claimed, 1, memory_order_relaxed);
}

bool reqgen_is_static(const struct reqgen *g)
{
    return g->ntargets == 1 && g->targets[0].static_bytes;
}

int reqgen_render(const struct reqgen *g, uint64_t index, char *buf, size_t cap, const char **bytes, size_t *len,
                  bool *head)
{
    const struct reqgen_target *t = &g->targets[reqgen_pick(g, index)];
    *head = t->head;
    if (t->static_bytes) {
        *bytes = t->static_bytes;
        *len = t->static_len;
        return 0;
    }
    uint64_t row = g->data ? picker_row(&g->picker, index) : 0;
    if (row == PICK_NONE) return -ENODATA;
    ssize_t n = render_target(g, t, (size_t)row, buf, cap);
    if (n < 0) return (int)n;
    *bytes = buf;
    *len = (size_t)n;
    return 0;
}
