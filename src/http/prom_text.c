/*
 * prom_text.c — the Prometheus text format 0.0.4, one line at a time.
 *
 * A line is cut at its '\n' first (a trailing '\r' is tolerated), then
 * read left to right with a cursor that never passes the line's end, so a
 * malformed line costs only itself. Numbers are copied into a small local
 * buffer before strtod/strtoll: the input is not NUL-terminated.
 */
#include "http/prom_text.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A cursor over one line. */
struct cur {
    const char *p, *end;
};

static bool name_start(char c, bool colon)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

static bool name_char(char c, bool colon)
{
    return name_start(c, colon) || (c >= '0' && c <= '9');
}

static void skip_blank(struct cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

/* A metric name (colon allowed) or a label name; empty span when none. */
static struct prom_text_str take_name(struct cur *c, bool colon)
{
    struct prom_text_str s = {c->p, 0};
    if (c->p < c->end && name_start(*c->p, colon))
        while (c->p < c->end && name_char(*c->p, colon))
            c->p++;
    s.len = (size_t)(c->p - s.p);
    return s;
}

/* The next blank-separated token. */
static struct prom_text_str take_token(struct cur *c)
{
    struct prom_text_str s = {c->p, 0};
    while (c->p < c->end && *c->p != ' ' && *c->p != '\t')
        c->p++;
    s.len = (size_t)(c->p - s.p);
    return s;
}

bool prom_text_str_eq(struct prom_text_str s, const char *text)
{
    size_t n = strlen(text);
    return s.len == n && (n == 0 || memcmp(s.p, text, n) == 0);
}

/* A Go float: decimal or exponent notation, +Inf, -Inf, NaN (strtod's hex and "infinity" refused). */
static int parse_value(struct prom_text_str s, double *out)
{
    char buf[64];
    if (s.len == 0 || s.len >= sizeof(buf)) return -1;
    memcpy(buf, s.p, s.len);
    buf[s.len] = '\0';
    if (!strcmp(buf, "+Inf") || !strcmp(buf, "Inf")) return *out = INFINITY, 0;
    if (!strcmp(buf, "-Inf")) return *out = -INFINITY, 0;
    if (!strcmp(buf, "NaN")) return *out = NAN, 0;
    for (size_t i = 0; i < s.len; i++)
        if (!strchr("0123456789+-.eE", buf[i])) return -1;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end != buf + s.len || end == buf) return -1;
    *out = v; /* ERANGE: strtod's ±HUGE_VAL or 0 are what Go gives too */
    return 0;
}

static int parse_timestamp(struct prom_text_str s, int64_t *out)
{
    char buf[32];
    if (s.len == 0 || s.len >= sizeof(buf)) return -1;
    memcpy(buf, s.p, s.len);
    buf[s.len] = '\0';
    for (size_t i = 0; i < s.len; i++)
        if (!(buf[i] >= '0' && buf[i] <= '9') && !(i == 0 && buf[i] == '-')) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || end != buf + s.len || end == buf) return -1;
    *out = v;
    return 0;
}

/* {name="value",...}: the cursor is on '{'. */
static int parse_labels(struct cur *c, struct prom_text_line *out, const char **why)
{
    c->p++;
    for (;;) {
        skip_blank(c);
        if (c->p < c->end && *c->p == '}') return c->p++, 0;
        if (out->nlabels == PROM_TEXT_MAX_LABELS) return *why = "too many labels", -1;
        struct prom_text_label *l = &out->labels[out->nlabels];
        l->name = take_name(c, false);
        if (!l->name.len) return *why = "bad label", -1;
        skip_blank(c);
        if (c->p >= c->end || *c->p != '=') return *why = "bad label", -1;
        c->p++;
        skip_blank(c);
        if (c->p >= c->end || *c->p != '"') return *why = "bad label", -1;
        l->value.p = ++c->p;
        while (c->p < c->end && *c->p != '"') {
            if (*c->p == '\\') {
                if (c->p + 1 >= c->end) break;
                c->p++;
            }
            c->p++;
        }
        if (c->p >= c->end) return *why = "unterminated label value", -1;
        l->value.len = (size_t)(c->p - l->value.p);
        c->p++;
        out->nlabels++;
        skip_blank(c);
        if (c->p < c->end && *c->p == ',')
            c->p++;
        else if (c->p >= c->end || *c->p != '}')
            return *why = "bad label", -1;
    }
}

static const char *const kind_names[] = {"untyped", "counter", "gauge", "histogram", "summary"};

const char *prom_text_kind_name(enum prom_text_kind kind)
{
    return (unsigned)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : "untyped";
}

/* A '#' line: 1 for TYPE/HELP (out filled), 0 for a comment, -1 malformed. */
static int parse_comment(struct cur *c, struct prom_text_line *out, const char **why)
{
    c->p++;
    skip_blank(c);
    struct prom_text_str word = take_token(c);
    bool is_type = prom_text_str_eq(word, "TYPE"), is_help = prom_text_str_eq(word, "HELP");
    if (!is_type && !is_help) return 0;
    skip_blank(c);
    out->name = take_name(c, true);
    if (!out->name.len || (c->p < c->end && *c->p != ' ' && *c->p != '\t')) return *why = "bad metric name", -1;
    skip_blank(c);
    if (is_help) {
        out->type = PROM_LINE_HELP;
        out->help = (struct prom_text_str){c->p, (size_t)(c->end - c->p)};
        return 1;
    }
    out->type = PROM_LINE_TYPE;
    struct prom_text_str kind = take_token(c);
    skip_blank(c);
    for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
        if (prom_text_str_eq(kind, kind_names[i]) && c->p == c->end) return out->kind = (enum prom_text_kind)i, 1;
    return *why = "unknown type", -1;
}

static int parse_sample(struct cur *c, struct prom_text_line *out, const char **why)
{
    out->type = PROM_LINE_SAMPLE;
    out->name = take_name(c, true);
    if (!out->name.len) return *why = "bad metric name", -1;
    skip_blank(c);
    if (c->p < c->end && *c->p == '{' && parse_labels(c, out, why) < 0) return -1;
    skip_blank(c);
    if (parse_value(take_token(c), &out->value) < 0) return *why = "bad value", -1;
    skip_blank(c);
    if (c->p < c->end) {
        if (parse_timestamp(take_token(c), &out->timestamp_ms) < 0) return *why = "bad timestamp", -1;
        out->has_timestamp = true;
        skip_blank(c);
        if (c->p < c->end) return *why = "bad timestamp", -1;
    }
    return 1;
}

int prom_text_next(const char *buf, size_t len, size_t *pos, struct prom_text_line *out, const char **why)
{
    while (*pos < len) {
        const char *line = buf + *pos;
        const char *nl = memchr(line, '\n', len - *pos);
        size_t n = nl ? (size_t)(nl - line) : len - *pos;
        *pos += n + (nl ? 1 : 0);
        if (n && line[n - 1] == '\r') n--;
        if (memchr(line, '\0', n)) return *why = "NUL byte", -1;
        struct cur c = {line, line + n};
        skip_blank(&c);
        if (c.p == c.end) continue;
        memset(out, 0, sizeof(*out));
        int rc = *c.p == '#' ? parse_comment(&c, out, why) : parse_sample(&c, out, why);
        if (rc != 0) return rc;
    }
    return 0;
}

size_t prom_text_unescape(struct prom_text_str s, char *out, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < s.len; i++) {
        char ch = s.p[i];
        if (ch == '\\' && i + 1 < s.len) {
            ch = s.p[++i];
            if (ch == 'n') ch = '\n';
        }
        if (w + 1 < n) out[w] = ch;
        w++;
    }
    if (n) out[w < n ? w : n - 1] = '\0';
    return w;
}

const struct prom_text_label *prom_text_label(const struct prom_text_line *line, const char *name)
{
    for (size_t i = 0; i < line->nlabels; i++)
        if (prom_text_str_eq(line->labels[i].name, name)) return &line->labels[i];
    return NULL;
}
