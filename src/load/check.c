/*
 * check.c — parse and judge response checks (see check.h).
 *
 * Parsing happens once, on the command line; judging runs on a worker for
 * each complete response of a run with checks. The judge reads the bytes
 * the connection captured for the response: it finds the final head
 * (skipping interim 1xx heads), looks headers up in place, decodes a
 * chunked body into a copy and parses JSON once for all json checks.
 */
#include "load/check.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------- parsing */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* The first ':' of text outside quotes, or NULL. */
static const char *name_colon(const char *text)
{
    char quote = 0;
    for (const char *p = text; *p; p++) {
        if (quote) {
            if (*p == quote) quote = 0;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (*p == ':') {
            return p;
        }
    }
    return NULL;
}

/* Copies [from, to) without surrounding blanks into dst (cap bytes). */
static int copy_trimmed(char *dst, size_t cap, const char *from, const char *to)
{
    from = skip_ws(from);
    while (to > from && (to[-1] == ' ' || to[-1] == '\t'))
        to--;
    if ((size_t)(to - from) >= cap) return -1;
    memcpy(dst, from, (size_t)(to - from));
    dst[to - from] = '\0';
    return (int)(to - from);
}

/* A quoted string at *p into dst; advances past the closing quote. */
static int parse_string(const char **p, char *dst, size_t cap, const char **why)
{
    char quote = **p;
    if (quote != '\'' && quote != '"') return *why = "expected a quoted string ('text')", -EINVAL;
    const char *end = strchr(*p + 1, quote);
    if (!end) return *why = "unterminated string", -EINVAL;
    if ((size_t)(end - *p - 1) >= cap) return *why = "string too long", -EINVAL;
    memcpy(dst, *p + 1, (size_t)(end - *p - 1));
    dst[end - *p - 1] = '\0';
    *p = end + 1;
    return 0;
}

/* A finite number at *p; advances past it. */
static int parse_number(const char **p, double *v, const char **why)
{
    char *end;
    *v = strtod(*p, &end);
    if (end == *p || !isfinite(*v)) return *why = "expected a number", -EINVAL;
    *p = end;
    return 0;
}

/* The operator at *p (symbols or words); advances past it. */
static int parse_op(const char **p, enum check_op *op)
{
    static const struct {
        const char *s;
        enum check_op op;
        bool word;
    } ops[] = {
        {"==", CHECK_EQ, false},
        {"!=", CHECK_NE, false},
        {"<=", CHECK_LE, false},
        {">=", CHECK_GE, false},
        {"<", CHECK_LT, false},
        {">", CHECK_GT, false},
        {"in", CHECK_IN, true},
        {"contains", CHECK_CONTAINS, true},
        {"!contains", CHECK_NOT_CONTAINS, true},
        {"exists", CHECK_EXISTS, true},
        {"absent", CHECK_ABSENT, true},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].s);
        if (strncmp(*p, ops[i].s, n) != 0) continue;
        if (ops[i].word && (isalnum((unsigned char)(*p)[n]) || (*p)[n] == '_')) continue;
        *p += n;
        *op = ops[i].op;
        return 0;
    }
    return -EINVAL;
}

/* "A..B" into c->lo, c->hi. */
static int parse_range(struct check *c, const char **p, const char **why)
{
    /* strtod would read "200." of "200..299" as a number: split at ".." first. */
    const char *dots = strstr(*p, "..");
    if (!dots) return *why = "expected a range A..B after 'in'", -EINVAL;
    char lo[64];
    if (copy_trimmed(lo, sizeof lo, *p, dots) <= 0) return *why = "expected a range A..B after 'in'", -EINVAL;
    const char *q = lo;
    if (parse_number(&q, &c->lo, why) < 0 || *skip_ws(q)) return *why = "bad lower bound of the range", -EINVAL;
    *p = skip_ws(dots + 2);
    if (parse_number(p, &c->hi, why) < 0) return *why = "bad upper bound of the range", -EINVAL;
    if (c->hi < c->lo) return *why = "empty range: the upper bound is below the lower", -EINVAL;
    c->value = CHECK_V_NUMBER;
    return 0;
}

/* The operand of a json comparison: number, string, true, false or null. */
static int parse_value(struct check *c, const char **p, const char **why)
{
    static const struct {
        const char *w;
        enum check_value v;
    } words[] = {{"true", CHECK_V_TRUE}, {"false", CHECK_V_FALSE}, {"null", CHECK_V_NULL}};
    if (**p == '\'' || **p == '"') {
        c->value = CHECK_V_STRING;
        return parse_string(p, c->text, sizeof c->text, why);
    }
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i].w);
        if (!strncmp(*p, words[i].w, n) && !isalnum((unsigned char)(*p)[n])) {
            *p += n;
            c->value = words[i].v;
            return 0;
        }
    }
    c->value = CHECK_V_NUMBER;
    return parse_number(p, &c->lo, why);
}

/* Is op allowed on subject s? */
static bool op_fits(enum check_subject s, enum check_op op)
{
    switch (s) {
    case CHECK_STATUS: return op <= CHECK_IN;
    case CHECK_BODY: return op == CHECK_CONTAINS || op == CHECK_NOT_CONTAINS;
    case CHECK_HEADER:
        return op == CHECK_EQ || op == CHECK_NE || op == CHECK_CONTAINS || op == CHECK_NOT_CONTAINS ||
               op == CHECK_EXISTS || op == CHECK_ABSENT;
    default: return true;
    }
}

/* The operand after op, by subject. */
static int parse_operand(struct check *c, const char **p, const char **why)
{
    *p = skip_ws(*p);
    if (c->op == CHECK_EXISTS || c->op == CHECK_ABSENT) return 0;
    if (c->op == CHECK_IN) return parse_range(c, p, why);
    if (c->op == CHECK_CONTAINS || c->op == CHECK_NOT_CONTAINS || c->subject == CHECK_HEADER) {
        c->value = CHECK_V_STRING;
        return parse_string(p, c->text, sizeof c->text, why);
    }
    if (c->subject == CHECK_STATUS) {
        c->value = CHECK_V_NUMBER;
        return parse_number(p, &c->lo, why);
    }
    if (parse_value(c, p, why) < 0) return -EINVAL;
    if (c->op != CHECK_EQ && c->op != CHECK_NE && c->value != CHECK_V_NUMBER)
        return *why = "<, <=, > and >= compare numbers", -EINVAL;
    return 0;
}

/* A JSON path: keys of [A-Za-z0-9_-] separated by '.', and [N] indexes. */
static int parse_path(struct check *c, const char **p, const char **why)
{
    const char *s = *p;
    while (isalnum((unsigned char)*s) || *s == '_' || *s == '-' || *s == '.' || *s == '[' || *s == ']')
        s++;
    if (s == *p) return *why = "expected a path after 'json.', e.g. json.distance_m", -EINVAL;
    if ((size_t)(s - *p) >= sizeof c->key) return *why = "json path too long", -EINVAL;
    memcpy(c->key, *p, (size_t)(s - *p));
    c->key[s - *p] = '\0';
    for (const char *k = c->key; *k; k++) {
        bool seg_start = k == c->key || k[-1] == '.';
        if ((*k == '.' && (seg_start || !k[1] || k[1] == '.')) || (*k == '[' && seg_start && k == c->key))
            return *why = "bad json path (empty key)", -EINVAL;
        if (*k == '[') {
            const char *d = k + 1;
            while (isdigit((unsigned char)*d))
                d++;
            if (d == k + 1 || *d != ']') return *why = "bad json path index, expected [N]", -EINVAL;
            k = d;
        } else if (*k == ']') {
            return *why = "bad json path index, expected [N]", -EINVAL;
        }
    }
    *p = s;
    return 0;
}

/* The subject at *p. */
static int parse_subject(struct check *c, const char **p, const char **why)
{
    if (!strncmp(*p, "json.", 5)) {
        c->subject = CHECK_JSON;
        *p += 5;
        return parse_path(c, p, why);
    }
    static const struct {
        const char *w;
        enum check_subject s;
    } words[] = {{"status", CHECK_STATUS}, {"body", CHECK_BODY}, {"header", CHECK_HEADER}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i].w);
        if (strncmp(*p, words[i].w, n) || isalnum((unsigned char)(*p)[n]) || (*p)[n] == '_') continue;
        *p = skip_ws(*p + n);
        c->subject = words[i].s;
        if (c->subject != CHECK_HEADER) return 0;
        if (parse_string(p, c->key, sizeof c->key, why) < 0) return *why = "expected header 'NAME'", -EINVAL;
        if (!c->key[0]) return *why = "empty header name", -EINVAL;
        return 0;
    }
    return *why = "unknown subject (status, body, header 'NAME', json.PATH)", -EINVAL;
}

int check_parse(struct check *c, const char *text, const char **why)
{
    memset(c, 0, sizeof(*c));
    const char *colon = name_colon(text), *expr = text;
    if (colon) {
        if (copy_trimmed(c->name, sizeof c->name, text, colon) <= 0)
            return *why = "empty or too long check name before ':'", -EINVAL;
        expr = colon + 1;
    } else if (copy_trimmed(c->name, sizeof c->name, text, text + strlen(text)) < 0) {
        return *why = "check too long (name it: 'NAME: EXPR')", -EINVAL;
    }
    const char *p = skip_ws(expr);
    if (!*p) return *why = "empty check expression", -EINVAL;
    if (parse_subject(c, &p, why) < 0) return -EINVAL;
    p = skip_ws(p);
    if (parse_op(&p, &c->op) < 0)
        return *why = "expected an operator (== != < <= > >= in contains exists absent)", -EINVAL;
    if (!op_fits(c->subject, c->op)) return *why = "operator does not fit the subject", -EINVAL;
    if (parse_operand(c, &p, why) < 0) return -EINVAL;
    if (*skip_ws(p)) return *why = "unexpected text after the check", -EINVAL;
    if (!c->name[0]) return *why = "empty check name", -EINVAL;
    return 0;
}

bool check_needs_body(const struct check *c)
{
    return c->subject == CHECK_BODY || c->subject == CHECK_JSON;
}

bool check_needs_head(const struct check *c)
{
    return c->subject != CHECK_STATUS;
}

/* ------------------------------------------------------------- judging */

/* The parts of a captured response. */
struct parts {
    const char *head, *body; /* head: the final head, from its status line */
    size_t head_len, body_len;
};

/* Offset just past the blank line ending the head at raw[0..len), or 0. */
static size_t head_end(const char *raw, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (raw[i] != '\n') continue;
        if (raw[i + 1] == '\n') return i + 2;
        if (i + 2 < len && raw[i + 1] == '\r' && raw[i + 2] == '\n') return i + 3;
    }
    return 0;
}

/* The status code of the head at h, or -1. */
static int head_status(const char *h, size_t len)
{
    if (len < 12 || strncmp(h, "HTTP/", 5)) return -1;
    const char *sp = memchr(h, ' ', len);
    if (!sp || (size_t)(sp - h) + 4 > len) return -1;
    if (!isdigit((unsigned char)sp[1]) || !isdigit((unsigned char)sp[2]) || !isdigit((unsigned char)sp[3])) return -1;
    return (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
}

/* Splits raw into the final head and the body as framed (interim 1xx heads skipped). */
static void split(const char *raw, size_t len, struct parts *out)
{
    memset(out, 0, sizeof(*out));
    for (;;) {
        size_t end = head_end(raw, len);
        if (!end) {
            out->head = raw;
            out->head_len = len;
            return;
        }
        int st = head_status(raw, end);
        if (st >= 100 && st < 200 && st != 101) {
            raw += end;
            len -= end;
            continue;
        }
        out->head = raw;
        out->head_len = end;
        out->body = raw + end;
        out->body_len = len - end;
        return;
    }
}

/*
 * Decodes a chunked body (already validated by the response parser) into
 * a new buffer; *out_len its length. Stops at the last chunk or at
 * whatever does not parse.
 */
static char *dechunk(const char *b, size_t len, size_t *out_len)
{
    char *dst = malloc(len ? len : 1);
    if (!dst) abort();
    size_t i = 0, n = 0;
    while (i < len) {
        uint64_t size = 0;
        int digits = 0;
        while (i < len && isxdigit((unsigned char)b[i]) && digits < 16) {
            int c = (unsigned char)b[i++];
            size = size * 16 + (uint64_t)(isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10));
            digits++;
        }
        const char *nl = i < len ? memchr(b + i, '\n', len - i) : NULL;
        if (!digits || !nl || size == 0) break;
        i = (size_t)(nl - b) + 1;
        if (size > len - i) size = len - i;
        memcpy(dst + n, b + i, (size_t)size);
        n += (size_t)size;
        i += (size_t)size;
        if (i < len && b[i] == '\r') i++;
        if (i < len && b[i] == '\n') i++;
    }
    *out_len = n;
    return dst;
}

/* The value of header name in head (first occurrence), or NULL; *vlen its trimmed length. */
static const char *header_value(const struct parts *p, const char *name, size_t *vlen)
{
    size_t nlen = strlen(name);
    const char *s = p->head, *end = p->head + p->head_len;
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    while (nl && nl + 1 < end) {
        s = nl + 1;
        nl = memchr(s, '\n', (size_t)(end - s));
        const char *eol = nl ? nl : end;
        if ((size_t)(eol - s) > nlen && s[nlen] == ':' && !strncasecmp(s, name, nlen)) {
            const char *v = s + nlen + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            while (eol > v && (eol[-1] == '\r' || eol[-1] == ' ' || eol[-1] == '\t'))
                eol--;
            *vlen = (size_t)(eol - v);
            return v;
        }
    }
    return NULL;
}

/* A string test (==, !=, contains, !contains) of s[0..len) against c->text. */
static bool string_test(const struct check *c, const char *s, size_t len)
{
    size_t tlen = strlen(c->text);
    bool found = tlen == 0 || (len >= tlen && memmem(s, len, c->text, tlen) != NULL);
    bool equal = len == tlen && !memcmp(s, c->text, len);
    switch (c->op) {
    case CHECK_EQ: return equal;
    case CHECK_NE: return !equal;
    case CHECK_CONTAINS: return found;
    case CHECK_NOT_CONTAINS: return !found;
    default: return false;
    }
}

/* A numeric test of v against c's operand. */
static bool number_test(const struct check *c, double v)
{
    switch (c->op) {
    case CHECK_EQ: return v == c->lo;
    case CHECK_NE: return v != c->lo;
    case CHECK_LT: return v < c->lo;
    case CHECK_LE: return v <= c->lo;
    case CHECK_GT: return v > c->lo;
    case CHECK_GE: return v >= c->lo;
    case CHECK_IN: return v >= c->lo && v <= c->hi;
    default: return false;
    }
}

/* The value at path in doc, or NULL when any step is missing. */
static json_t *json_at(json_t *doc, const char *path)
{
    json_t *cur = doc;
    const char *p = path;
    while (cur && *p) {
        if (*p == '.') p++;
        if (*p == '[') {
            char *end;
            unsigned long i = strtoul(p + 1, &end, 10);
            cur = json_is_array(cur) ? json_array_get(cur, i) : NULL;
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        char key[128];
        memcpy(key, p, n);
        key[n] = '\0';
        cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
        p += n;
    }
    return cur;
}

/* A json check on the parsed body (doc NULL: the body is not JSON, which fails every json check). */
static bool json_test(const struct check *c, json_t *doc)
{
    if (!doc) return false;
    json_t *v = json_at(doc, c->key);
    /* A null member counts as absent: APIs send "error": null for no error. */
    bool present = v && !json_is_null(v);
    if (c->op == CHECK_EXISTS) return present;
    if (c->op == CHECK_ABSENT) return !present;
    if (c->value == CHECK_V_NULL) return (c->op == CHECK_EQ) != present;
    if (c->value == CHECK_V_TRUE || c->value == CHECK_V_FALSE) {
        bool eq = json_is_boolean(v) && json_is_true(v) == (c->value == CHECK_V_TRUE);
        return c->op == CHECK_EQ ? eq : !eq;
    }
    if (json_is_string(v) && (c->value == CHECK_V_STRING || c->op == CHECK_CONTAINS || c->op == CHECK_NOT_CONTAINS))
        return string_test(c, json_string_value(v), json_string_length(v));
    if (json_is_number(v) && c->value == CHECK_V_NUMBER) return number_test(c, json_number_value(v));
    return c->op == CHECK_NE || c->op == CHECK_NOT_CONTAINS; /* a value of another type differs */
}

/* One check that needs no JSON document. */
static bool plain_test(const struct check *c, const struct check_view *v, const struct parts *p, const char *body,
                       size_t blen)
{
    if (c->subject == CHECK_STATUS) return number_test(c, v->status);
    if (c->subject == CHECK_BODY) return string_test(c, body, blen);
    size_t vlen = 0;
    const char *hv = header_value(p, c->key, &vlen);
    if (c->op == CHECK_EXISTS) return hv != NULL;
    if (c->op == CHECK_ABSENT) return hv == NULL;
    if (!hv) return c->op == CHECK_NE || c->op == CHECK_NOT_CONTAINS;
    return string_test(c, hv, vlen);
}

uint32_t check_run(const struct check *cs, uint32_t n, const struct check_view *v, enum check_result *out)
{
    struct parts p;
    split(v->raw ? v->raw : "", v->raw ? v->len : 0, &p);
    char *decoded = NULL;
    const char *body = p.body ? p.body : "";
    size_t blen = p.body_len;
    if (v->chunked && p.body) body = decoded = dechunk(p.body, p.body_len, &blen);
    json_t *doc = NULL;
    bool parsed = false;
    uint32_t failed = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct check *c = &cs[i];
        bool pass;
        if (check_needs_body(c) && v->truncated) {
            out[i] = CHECK_BODY_TOO_LARGE;
            failed++;
            continue;
        }
        if (c->subject == CHECK_JSON) {
            if (!parsed) doc = json_loadb(body, blen, JSON_DECODE_ANY, NULL);
            parsed = true;
            pass = json_test(c, doc);
        } else {
            pass = plain_test(c, v, &p, body, blen);
        }
        out[i] = pass ? CHECK_PASS : CHECK_FAIL;
        failed += !pass;
    }
    json_decref(doc);
    free(decoded);
    return failed;
}

void check_view_parts(const struct check_view *v, const char **head, size_t *head_len, const char **body,
                      size_t *body_len, char **owned)
{
    struct parts p;
    split(v->raw, v->len, &p);
    *head = p.head;
    *head_len = p.head_len;
    *owned = NULL;
    *body = p.body ? p.body : "";
    *body_len = p.body_len;
    if (v->chunked && p.body) {
        *owned = dechunk(p.body, p.body_len, body_len);
        *body = *owned;
    }
}
