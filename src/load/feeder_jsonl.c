/*
 * feeder_jsonl.c — the JSON Lines tokenizer of the feeder (see
 * feeder_jsonl.h): the members of one flat object, read in place.
 *
 * feeder.c runs it over every row once, at feeder_open, to validate and
 * index, and then once per request to find one value (jsonl_lookup), from
 * many threads. So a string is scanned with a table of the bytes it must
 * stop at (json_special), and nothing is decoded unless it holds an escape
 * and is asked for.
 *
 * Escapes are checked where they are met, with the code point they stand
 * for, so a validated row decodes without errors: jsonl_decode relies on it.
 */
#include "load/feeder_jsonl.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

/* The value of 4 hex digits at p, or -1. */
static long hex4(const char *p, const char *end)
{
    long v = 0;
    if (end - p < 4) return -1;
    for (int i = 0; i < 4; i++) {
        int c = (unsigned char)p[i], d = isdigit(c) ? c - '0' : isxdigit(c) ? (c | 0x20) - 'a' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/*
 * The length of the escape at p (a backslash) and its code point in *cp
 * (a byte for the short escapes); 0 when malformed. A UTF-16 surrogate
 * pair is one 12-byte escape; a lone surrogate is malformed.
 */
static int json_escape(const char *p, const char *end, long *cp)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (end - p < 2) return 0;
    const char *short_esc = p[1] ? strchr(from, p[1]) : NULL;
    if (short_esc) return *cp = to[short_esc - from], 2;
    if (p[1] != 'u' || (*cp = hex4(p + 2, end)) < 0) return 0;
    if (*cp >= 0xdc00 && *cp < 0xe000) return 0;
    if (*cp < 0xd800 || *cp >= 0xdc00) return 6;
    long low = end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8, end) : -1;
    if (low < 0xdc00 || low >= 0xe000) return 0;
    *cp = 0x10000 + ((*cp - 0xd800) << 10) + (low - 0xdc00);
    return 12;
}

/* Bytes a JSON string scan must stop at: the quote, backslash, controls. */
static const bool json_special[256] = {
    [0x00 ... 0x1f] = true,
    ['"'] = true,
    ['\\'] = true,
};

/* p at '"': returns the byte after the closing quote, or NULL with *why. */
static const char *json_string(const char *p, const char *end, const char **s, size_t *n, bool *escaped,
                               const char **why)
{
    long cp;
    *s = ++p;
    *escaped = false;
    for (;;) {
        while (p < end && !json_special[(unsigned char)*p])
            p++;
        if (p == end || *p == '"' || *p == '\n' || *p == '\r') break;
        if (*p != '\\') return *why = "raw control character in a string", NULL;
        int step = json_escape(p, end, &cp);
        if (step == 0) return *why = "bad escape in a string", NULL;
        *escaped = true;
        p += step;
    }
    if (p == end || *p != '"') return *why = "unterminated string", NULL;
    *n = (size_t)(p - *s);
    return p + 1;
}

/* True if p is before end and at an ASCII digit (no locale lookup). */
static bool digit_at(const char *p, const char *end)
{
    return p < end && (unsigned)(*p - '0') < 10;
}

/* p at a number: returns its end, or NULL when it is not JSON's grammar. */
static const char *json_number(const char *p, const char *end)
{
    if (p < end && *p == '-') p++;
    if (!digit_at(p, end)) return NULL;
    if (*p == '0')
        p++;
    else
        while (digit_at(p, end))
            p++;
    if (p < end && *p == '.') {
        if (!digit_at(++p, end)) return NULL;
        while (digit_at(p, end))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        if (++p < end && (*p == '+' || *p == '-')) p++;
        if (!digit_at(p, end)) return NULL;
        while (digit_at(p, end))
            p++;
    }
    return p;
}

/* True if [p, end) starts with word. */
static bool starts_with(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(end - p) >= n && memcmp(p, word, n) == 0;
}

/* Reads the value at p into m; nested values are reported, not read. */
static const char *json_value(const char *p, const char *end, struct jsonl_member *m, const char **why)
{
    const char *q = NULL;
    m->value = p, m->value_len = 0, m->value_escaped = false;
    if (p < end && *p == '"') {
        m->kind = JSONL_STRING;
        return json_string(p, end, &m->value, &m->value_len, &m->value_escaped, why);
    }
    if (p < end && (*p == '{' || *p == '[')) return m->kind = JSONL_NESTED, p;
    m->kind = JSONL_LITERAL;
    if (starts_with(p, end, "true"))
        q = p + 4;
    else if (starts_with(p, end, "false"))
        q = p + 5;
    else if (starts_with(p, end, "null"))
        q = p + 4, m->kind = JSONL_NULL;
    else
        q = json_number(p, end);
    if (!q) return *why = "expected a string, number, true, false or null", NULL;
    m->value_len = (size_t)(q - p);
    return q;
}

/*
 * Reads the member after p, which is at the object's '{' (first call), at
 * the ',' after the previous member, or at its final '}' (then m->key is
 * NULL and the byte after the object is returned). Returns the position
 * for the next call, or NULL with *why. Stops at a nested value.
 */
const char *jsonl_member_next(const char *p, const char *end, struct jsonl_member *m, const char **why)
{
    bool first = *p == '{';
    m->key = NULL;
    if (*p == '}') return p + 1;
    p = jsonl_skip_blanks(p + 1, end);
    if (first && p < end && *p == '}') return p + 1;
    if (p == end || *p != '"') return *why = "expected a quoted key", NULL;
    if (!(p = json_string(p, end, &m->key, &m->key_len, &m->key_escaped, why))) return NULL;
    p = jsonl_skip_blanks(p, end);
    if (p == end || *p != ':') return *why = "expected ':' after a key", NULL;
    if (!(p = json_value(jsonl_skip_blanks(p + 1, end), end, m, why)) || m->kind == JSONL_NESTED) return p;
    p = jsonl_skip_blanks(p, end);
    if (p == end || (*p != ',' && *p != '}')) return *why = "expected ',' or '}'", NULL;
    return p;
}

/* Decodes a JSON string's content into buf. Returns 0 or -ENOSPC. */
int jsonl_decode(const char *s, size_t n, char *buf, size_t cap, size_t *len)
{
    const char *end = s + n;
    size_t out = 0;
    while (s < end) {
        unsigned char tmp[4];
        long cp = (unsigned char)*s;
        int step = *s == '\\' ? json_escape(s, end, &cp) : 1;
        size_t k = 1;
        if (step == 0) step = 1; /* unreachable once validated; copy the byte */
        if (step >= 6) {
            if (cp < 0x80)
                tmp[0] = (unsigned char)cp;
            else if (cp < 0x800)
                k = 2, tmp[0] = 0xc0 | (cp >> 6);
            else if (cp < 0x10000)
                k = 3, tmp[0] = 0xe0 | (cp >> 12);
            else
                k = 4, tmp[0] = 0xf0 | (cp >> 18);
            for (size_t i = 1; i < k; i++)
                tmp[i] = 0x80 | ((cp >> (6 * (k - 1 - i))) & 0x3f);
        } else
            tmp[0] = (unsigned char)cp;
        if (cap - out < k) return -ENOSPC;
        memcpy(buf + out, tmp, k);
        out += k, s += step;
    }
    *len = out;
    return 0;
}

/* Walks the members of the object at p until one is called name. */
int jsonl_lookup(const char *p, const char *end, const char *name, char *buf, size_t cap, const char **val, size_t *len)
{
    const char *err = NULL;
    size_t name_len = strlen(name);
    struct jsonl_member m;
    p = jsonl_object_open(p, end, &err);
    while (p && (p = jsonl_member_next(p, end, &m, &err)) && m.key) {
        char key_buf[ROW_NAME_MAX];
        size_t n;
        const char *key = jsonl_member_key(&m, key_buf, &n);
        if (!key || n != name_len || memcmp(key, name, n) != 0) continue;
        if (m.kind == JSONL_NULL || m.kind == JSONL_NESTED) break;
        if (!m.value_escaped) {
            *val = m.value, *len = m.value_len;
            return 0;
        }
        int rc = jsonl_decode(m.value, m.value_len, buf, cap, len);
        if (rc == 0) *val = buf;
        return rc;
    }
    *val = "", *len = 0;
    return 0;
}
