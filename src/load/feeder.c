/*
 * feeder.c — map, validate and index a --data file; read its values.
 *
 * feeder_open makes one pass over the map: it checks every record (so the
 * run never meets bad data), appends each record's start offset to the
 * index and keeps, per column, the longest raw value seen. The raw length
 * bounds the decoded length in both formats ("" decodes to one byte, a JSON
 * escape to at most as many bytes as it is long), which is what lets
 * feeder_column_max_len promise a buffer size without decoding anything.
 *
 * Performance: the pass is a byte loop with no per-record allocation other
 * than the amortised growth of the index; 1M rows of 40 bytes index in a
 * few tens of milliseconds, the page faults of MAP_POPULATE included.
 * feeder_field rescans the row from its start: rows are short, so that is
 * cheaper than keeping per-field offsets for every row.
 */
#include "load/feeder.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Building ----------------------------------------------------------- */

/* Fills err with "'path' line N: ..." (or "'path' ..." when line is 0). */
static int fail(struct feeder_error *err, int rc, const char *path, size_t line, const char *fmt, ...)
{
    char what[384];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (line)
        snprintf(err->msg, sizeof(err->msg), "'%s' line %zu: %s", path, line, what);
    else
        snprintf(err->msg, sizeof(err->msg), "'%s' %s", path, what);
    err->line = line;
    return rc;
}

/* realloc that aborts when memory runs out (the house rule). */
static void *grow(void *p, size_t n, size_t size)
{
    void *q = realloc(p, n * size);
    if (!q && n) abort();
    return q;
}

/* Appends a row start offset to the index, growing it by doubling. */
static void index_push(struct feeder *f, size_t *cap, size_t offset)
{
    if (f->rows == *cap) {
        *cap = *cap ? *cap * 2 : 4096;
        if (f->start64)
            f->start64 = grow(f->start64, *cap, sizeof(uint64_t));
        else
            f->start32 = grow(f->start32, *cap, sizeof(uint32_t));
    }
    if (f->start64)
        f->start64[f->rows++] = offset;
    else
        f->start32[f->rows++] = (uint32_t)offset;
}

/* Adds a column named [name, name+n) and returns its index. */
static size_t column_add(struct feeder *f, const char *name, size_t n)
{
    f->names = grow(f->names, f->ncols + 1, sizeof(char *));
    f->max_len = grow(f->max_len, f->ncols + 1, sizeof(size_t));
    f->names[f->ncols] = strndup(name, n);
    if (!f->names[f->ncols]) abort();
    f->max_len[f->ncols] = 0;
    return f->ncols++;
}

/* The offset of the first byte of row. */
static size_t row_start(const struct feeder *f, size_t row)
{
    return f->start64 ? (size_t)f->start64[row] : f->start32[row];
}

/* ---- CSV ---------------------------------------------------------------- */

/* Bytes that end an unquoted field (a lone CR is data; see csv_field_end). */
static const bool csv_stop[256] = {[','] = true, ['\n'] = true, ['\r'] = true};

/* True if p is at a line end: LF, CRLF, or CR as the last byte. */
static bool at_line_end(const char *p, const char *end)
{
    return p < end && (*p == '\n' || (*p == '\r' && (p + 1 == end || p[1] == '\n')));
}

/* The end of the unquoted field starting at p. */
static const char *csv_field_end(const char *p, const char *end)
{
    for (;;) {
        while (p < end && !csv_stop[(unsigned char)*p])
            p++;
        if (p < end && *p == '\r' && !at_line_end(p, end)) {
            p++;
            continue;
        }
        return p;
    }
}

/* Steps over a line end at p (if any), counting it. */
static const char *skip_line_end(const char *p, const char *end, size_t *line)
{
    if (p < end && *p == '\r') p++;
    if (p < end && *p == '\n') p++;
    (*line)++;
    return p;
}

/*
 * Checks the record at p, counting lines in *line and its fields in
 * *nfields, and raises max_len[i] (for i < ncols) to each raw field length.
 * Returns the start of the next record, or NULL with *why and *why_line.
 */
static const char *csv_scan_record(const char *p, const char *end, size_t *line, size_t *max_len, size_t ncols,
                                   size_t *nfields, const char **why, size_t *why_line)
{
    for (size_t field = 0;; field++) {
        const char *start = p;
        if (p < end && *p == '"') {
            size_t open_line = *line;
            for (p++;; p += 2) {
                while (p < end && *p != '"')
                    *line += *p++ == '\n';
                if (p == end) return *why = "unterminated quote", *why_line = open_line, NULL;
                if (p + 1 == end || p[1] != '"') break;
            }
            p++;
            if (p < end && *p != ',' && !at_line_end(p, end))
                return *why = "text after a closing quote", *why_line = *line, NULL;
        } else {
            p = csv_field_end(p, end);
        }
        if (field < ncols && (size_t)(p - start) > max_len[field]) max_len[field] = (size_t)(p - start);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        *nfields = field + 1;
        return p < end ? skip_line_end(p, end, line) : end;
    }
}

/*
 * Locates field col of the record at p: [*s, *s + *n) is its raw content
 * without the quotes, *escaped tells whether it holds "" pairs. A record
 * with fewer fields (impossible once validated) yields an empty value.
 */
static void csv_locate(const char *p, const char *end, int col, const char **s, size_t *n, bool *escaped)
{
    for (int i = 0;; i++) {
        const char *start = p, *stop;
        bool esc = false;
        if (p < end && *p == '"') {
            start = ++p;
            for (;;) {
                const char *quote = memchr(p, '"', (size_t)(end - p));
                if (!quote) quote = end;
                if (quote + 1 < end && quote[1] == '"') {
                    esc = true;
                    p = quote + 2;
                    continue;
                }
                stop = quote;
                p = quote < end ? quote + 1 : end;
                break;
            }
        } else {
            stop = p = csv_field_end(p, end);
        }
        if (i == col) {
            *s = start, *n = (size_t)(stop - start), *escaped = esc;
            return;
        }
        if (p >= end || *p != ',') {
            *s = p, *n = 0, *escaped = false;
            return;
        }
        p++;
    }
}

/* Decodes "" pairs of a quoted field into buf. Returns 0 or -ENOSPC. */
static int csv_unescape(const char *s, size_t n, char *buf, size_t cap, size_t *len)
{
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (out == cap) return -ENOSPC;
        buf[out++] = s[i];
        if (s[i] == '"') i++;
    }
    *len = out;
    return 0;
}

/* Reads the header record at p into the column names. */
static const char *csv_header(struct feeder *f, const char *p, const char *end, size_t *line, struct feeder_error *err)
{
    const char *why = NULL;
    size_t why_line = 0, n = 0, header_line = *line;
    const char *next = csv_scan_record(p, end, line, NULL, 0, &n, &why, &why_line);
    if (!next) return fail(err, -EINVAL, f->path, why_line, "%s", why), NULL;
    for (size_t i = 0; i < n; i++) {
        const char *s;
        size_t len;
        bool escaped;
        char name[FEEDER_NAME_MAX];
        csv_locate(p, end, (int)i, &s, &len, &escaped);
        if (escaped && csv_unescape(s, len, name, sizeof(name), &len) == 0) s = name;
        if (len > FEEDER_NAME_MAX)
            return fail(err, -EINVAL, f->path, header_line, "column %zu has a name longer than %d bytes", i + 1,
                        FEEDER_NAME_MAX),
                   NULL;
        if (len && memchr(s, '\0', len))
            return fail(err, -EINVAL, f->path, header_line, "column %zu has a NUL in its name", i + 1), NULL;
        column_add(f, s, len);
        if (len && feeder_column(f, f->names[i]) != (int)i)
            return fail(err, -EINVAL, f->path, header_line, "column '%s' appears twice", f->names[i]), NULL;
    }
    return next;
}

/* Indexes a CSV file: header, then every record. */
static int csv_index(struct feeder *f, const char *p, const char *end, struct feeder_error *err)
{
    size_t line = 1, cap = 0;
    while (at_line_end(p, end))
        p = skip_line_end(p, end, &line);
    if (p == end) return fail(err, -EINVAL, f->path, 0, "has no header row");
    p = csv_header(f, p, end, &line, err);
    if (!p) return -EINVAL;
    while (p < end) {
        if (at_line_end(p, end)) {
            p = skip_line_end(p, end, &line);
            continue;
        }
        const char *why = NULL;
        size_t why_line = 0, n = 0, record_line = line;
        index_push(f, &cap, (size_t)(p - f->map));
        p = csv_scan_record(p, end, &line, f->max_len, f->ncols, &n, &why, &why_line);
        if (!p) return fail(err, -EINVAL, f->path, why_line, "%s", why);
        if (n != f->ncols)
            return fail(err, -EINVAL, f->path, record_line, "%zu field%s, header has %zu", n, n == 1 ? "" : "s",
                        f->ncols);
    }
    return 0;
}

/* ---- JSON Lines ---------------------------------------------------------- */

/* What a member's value is; numbers and booleans are kept as their text. */
enum json_kind { JSON_STRING, JSON_LITERAL, JSON_NULL, JSON_NESTED };

/* One "key": value member of a flat object, as raw spans into the map. */
struct json_member {
    const char *key; /* NULL once the object has no more members */
    size_t key_len;
    bool key_escaped;
    enum json_kind kind;
    const char *value; /* string content without quotes, or the literal */
    size_t value_len;
    bool value_escaped;
};

/* Skips blanks within a line. */
static const char *json_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

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
static const char *json_value(const char *p, const char *end, struct json_member *m, const char **why)
{
    const char *q = NULL;
    m->value = p, m->value_len = 0, m->value_escaped = false;
    if (p < end && *p == '"') {
        m->kind = JSON_STRING;
        return json_string(p, end, &m->value, &m->value_len, &m->value_escaped, why);
    }
    if (p < end && (*p == '{' || *p == '[')) return m->kind = JSON_NESTED, p;
    m->kind = JSON_LITERAL;
    if (starts_with(p, end, "true"))
        q = p + 4;
    else if (starts_with(p, end, "false"))
        q = p + 5;
    else if (starts_with(p, end, "null"))
        q = p + 4, m->kind = JSON_NULL;
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
static const char *json_member_next(const char *p, const char *end, struct json_member *m, const char **why)
{
    bool first = *p == '{';
    m->key = NULL;
    if (*p == '}') return p + 1;
    p = json_ws(p + 1, end);
    if (first && p < end && *p == '}') return p + 1;
    if (p == end || *p != '"') return *why = "expected a quoted key", NULL;
    if (!(p = json_string(p, end, &m->key, &m->key_len, &m->key_escaped, why))) return NULL;
    p = json_ws(p, end);
    if (p == end || *p != ':') return *why = "expected ':' after a key", NULL;
    if (!(p = json_value(json_ws(p + 1, end), end, m, why)) || m->kind == JSON_NESTED) return p;
    p = json_ws(p, end);
    if (p == end || (*p != ',' && *p != '}')) return *why = "expected ',' or '}'", NULL;
    return p;
}

/* Decodes a JSON string's content into buf. Returns 0 or -ENOSPC. */
static int json_decode(const char *s, size_t n, char *buf, size_t cap, size_t *len)
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

/* Skips to the '{' of an object, or NULL with *why. */
static const char *json_object_open(const char *p, const char *end, const char **why)
{
    p = json_ws(p, end);
    return p < end && *p == '{' ? p : (*why = "expected a JSON object", NULL);
}

/* The decoded key of m: a pointer into the map, or into key[]. */
static const char *member_key(const struct json_member *m, char key[FEEDER_NAME_MAX], size_t *n)
{
    *n = m->key_len;
    if (!m->key_escaped) return m->key;
    return json_decode(m->key, m->key_len, key, FEEDER_NAME_MAX, n) == 0 ? key : NULL;
}

/* True if the NUL-terminated name is the n bytes at key. */
static bool name_is(const char *name, const char *key, size_t n)
{
    return strncmp(name, key, n) == 0 && name[n] == '\0';
}

/* Finds the column of a key (trying guess first) or adds it. */
static size_t jsonl_column_of(struct feeder *f, const char *key, size_t n, size_t guess)
{
    if (guess < f->ncols && name_is(f->names[guess], key, n)) return guess;
    for (size_t i = 0; i < f->ncols; i++)
        if (name_is(f->names[i], key, n)) return i;
    return column_add(f, key, n);
}

/* Which row last had each column, to catch a key repeated in one object. */
struct jsonl_seen {
    uint64_t *row;
    size_t n;
};

/*
 * Checks the object at p (one line, row number f->rows) and adds its new
 * keys as columns. Returns the line end, or NULL with why[] filled in.
 */
static const char *jsonl_index_row(struct feeder *f, const char *p, const char *end, struct jsonl_seen *seen, char *why,
                                   size_t why_cap)
{
    struct json_member m;
    const char *err = NULL;
    size_t k = 0;
    p = json_object_open(p, end, &err);
    while (p && (p = json_member_next(p, end, &m, &err)) && m.key) {
        char buf[FEEDER_NAME_MAX];
        size_t n;
        const char *key = member_key(&m, buf, &n);
        if (!key || n > FEEDER_NAME_MAX)
            return snprintf(why, why_cap, "a key is longer than %d bytes", FEEDER_NAME_MAX), NULL;
        if (m.key_escaped && memchr(key, '\0', n)) return snprintf(why, why_cap, "a key holds a NUL"), NULL;
        size_t c = jsonl_column_of(f, key, n, k++);
        if (c == seen->n) seen->row = grow(seen->row, ++seen->n, sizeof(uint64_t)), seen->row[c] = 0;
        if (seen->row[c] == f->rows) return snprintf(why, why_cap, "key '%s' appears twice", f->names[c]), NULL;
        seen->row[c] = f->rows;
        if (m.kind == JSON_NESTED)
            return snprintf(why, why_cap, "'%s' holds an object or array; values must be flat", f->names[c]), NULL;
        if (m.value_len > f->max_len[c]) f->max_len[c] = m.value_len;
    }
    if (!p) return snprintf(why, why_cap, "%s", err), NULL;
    p = json_ws(p, end);
    if (p < end && !at_line_end(p, end)) return snprintf(why, why_cap, "text after the object"), NULL;
    return p;
}

/* Indexes a JSON Lines file: one object per non-blank line. */
static int jsonl_index(struct feeder *f, const char *p, const char *end, struct feeder_error *err)
{
    size_t line = 1, cap = 0;
    struct jsonl_seen seen = {0};
    char why[320];
    while (p < end) {
        const char *q = json_ws(p, end);
        if (q == end) break;
        if (at_line_end(q, end)) {
            p = skip_line_end(q, end, &line);
            continue;
        }
        index_push(f, &cap, (size_t)(q - f->map));
        p = jsonl_index_row(f, q, end, &seen, why, sizeof(why));
        if (!p) {
            free(seen.row);
            return fail(err, -EINVAL, f->path, line, "%s", why);
        }
        p = skip_line_end(p, end, &line);
    }
    free(seen.row);
    return 0;
}

/* Finds column col in the object at p and reads its value. */
static int jsonl_field(const struct feeder *f, const char *p, const char *end, int col, char *buf, size_t cap,
                       const char **val, size_t *len)
{
    const char *name = f->names[col], *err = NULL;
    size_t name_len = strlen(name);
    struct json_member m;
    p = json_object_open(p, end, &err);
    while (p && (p = json_member_next(p, end, &m, &err)) && m.key) {
        char key_buf[FEEDER_NAME_MAX];
        size_t n;
        const char *key = member_key(&m, key_buf, &n);
        if (!key || n != name_len || memcmp(key, name, n) != 0) continue;
        if (m.kind == JSON_NULL || m.kind == JSON_NESTED) break;
        if (!m.value_escaped) {
            *val = m.value, *len = m.value_len;
            return 0;
        }
        int rc = json_decode(m.value, m.value_len, buf, cap, len);
        if (rc == 0) *val = buf;
        return rc;
    }
    *val = "", *len = 0;
    return 0;
}

/* ---- Opening ------------------------------------------------------------ */

/* True if path ends in suffix, ignoring case. */
static bool has_suffix(const char *path, const char *suffix)
{
    size_t n = strlen(path), s = strlen(suffix);
    return n > s && strcasecmp(path + n - s, suffix) == 0;
}

/* Picks the format from the extension, else from the first non-blank byte. */
static enum feeder_format sniff(const char *path, const char *p, const char *end)
{
    if (has_suffix(path, ".csv")) return FEEDER_CSV;
    if (has_suffix(path, ".jsonl") || has_suffix(path, ".ndjson")) return FEEDER_JSONL;
    while (p < end && isspace((unsigned char)*p))
        p++;
    return p < end && *p == '{' ? FEEDER_JSONL : FEEDER_CSV;
}

/* Maps the file read-only; fills err on failure. */
static int map_file(struct feeder *f, struct feeder_error *err)
{
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int rc = 0;
    if (fd < 0 || fstat(fd, &st) < 0)
        rc = -errno;
    else if (!S_ISREG(st.st_mode))
        rc = -EINVAL;
    else if (st.st_size == 0)
        rc = fail(err, -EINVAL, f->path, 0, "is empty");
    else {
        void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (map == MAP_FAILED)
            rc = -errno;
        else
            f->map = map, f->map_len = (size_t)st.st_size;
    }
    if (fd >= 0) close(fd);
    if (rc < 0 && !err->msg[0]) {
        char reason[128];
        snprintf(reason, sizeof(reason), "%s", rc == -EINVAL ? "not a regular file" : strerror(-rc));
        reason[0] = (char)tolower((unsigned char)reason[0]);
        snprintf(err->msg, sizeof(err->msg), "cannot read '%s': %s", f->path, reason);
    }
    return rc;
}

int feeder_open(struct feeder *f, const char *path, struct feeder_error *err)
{
    memset(f, 0, sizeof(*f));
    memset(err, 0, sizeof(*err));
    f->path = strdup(path);
    if (!f->path) abort();
    int rc = map_file(f, err);
    if (rc < 0) goto out;
    const char *p = f->map, *end = f->map + f->map_len;
    if (f->map_len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) p += 3;
    if (f->map_len >= UINT32_MAX) f->start64 = grow(NULL, 1, sizeof(uint64_t));
    f->format = sniff(path, p, end);
    rc = f->format == FEEDER_CSV ? csv_index(f, p, end, err) : jsonl_index(f, p, end, err);
    if (rc == 0 && f->rows == 0)
        rc = fail(err, -EINVAL, f->path, 0, f->format == FEEDER_CSV ? "has a header but no rows" : "has no rows");
    if (rc == 0 && f->start64)
        f->start64 = grow(f->start64, f->rows, sizeof(uint64_t));
    else if (rc == 0)
        f->start32 = grow(f->start32, f->rows, sizeof(uint32_t));
out:
    if (rc < 0) feeder_release(f);
    return rc;
}

void feeder_release(struct feeder *f)
{
    if (!f) return;
    if (f->map) munmap((void *)f->map, f->map_len);
    for (size_t i = 0; i < f->ncols; i++)
        free(f->names[i]);
    free(f->names);
    free(f->max_len);
    free(f->start32);
    free(f->start64);
    free(f->path);
    memset(f, 0, sizeof(*f));
}

/* ---- Reading ------------------------------------------------------------ */

size_t feeder_rows(const struct feeder *f)
{
    return f->rows;
}

size_t feeder_columns(const struct feeder *f)
{
    return f->ncols;
}

const char *feeder_path(const struct feeder *f)
{
    return f->path;
}

int feeder_column(const struct feeder *f, const char *name)
{
    for (size_t i = 0; i < f->ncols; i++)
        if (strcmp(f->names[i], name) == 0) return (int)i;
    return -1;
}

const char *feeder_column_name(const struct feeder *f, int col)
{
    return col >= 0 && (size_t)col < f->ncols ? f->names[col] : NULL;
}

size_t feeder_column_max_len(const struct feeder *f, int col)
{
    return col >= 0 && (size_t)col < f->ncols ? f->max_len[col] : 0;
}

int feeder_field(const struct feeder *f, size_t row, int col, char *buf, size_t cap, const char **val, size_t *len)
{
    if (row >= f->rows || col < 0 || (size_t)col >= f->ncols) return -ERANGE;
    const char *p = f->map + row_start(f, row), *end = f->map + f->map_len;
    if (f->format == FEEDER_JSONL) return jsonl_field(f, p, end, col, buf, cap, val, len);
    const char *s;
    size_t n;
    bool escaped;
    csv_locate(p, end, col, &s, &n, &escaped);
    if (!escaped) {
        *val = s, *len = n;
        return 0;
    }
    int rc = csv_unescape(s, n, buf, cap, len);
    if (rc == 0) *val = buf;
    return rc;
}

/* ---- Picking ------------------------------------------------------------ */

/* A 64-bit finaliser in the splitmix64 style: a bijection that avalanches. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t pick_hash(uint64_t key, uint64_t index)
{
    return mix64(key + (index + 1) * 0x9e3779b97f4a7c15ull);
}

int picker_init(struct picker *p, enum pick_mode mode, uint64_t rows, uint64_t seed)
{
    if (rows == 0 || (mode != PICK_SEQ && mode != PICK_RANDOM && mode != PICK_ONCE)) return -EINVAL;
    p->mode = mode;
    p->rows = rows;
    /* Salted so row draws are independent of the schedule's Poisson draws. */
    p->key = mix64(seed ^ 0x7069636b2d726f77ull);
    return 0;
}

uint64_t picker_row(const struct picker *p, uint64_t index)
{
    switch (p->mode) {
    case PICK_SEQ: return index % p->rows;
    case PICK_RANDOM: return (uint64_t)(((unsigned __int128)pick_hash(p->key, index) * p->rows) >> 64);
    case PICK_ONCE: return index < p->rows ? index : PICK_NONE;
    }
    return PICK_NONE;
}

int pick_mode_parse(const char *text, enum pick_mode *mode)
{
    static const enum pick_mode modes[] = {PICK_SEQ, PICK_RANDOM, PICK_ONCE};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcmp(text, pick_mode_name(modes[i])) == 0) return *mode = modes[i], 0;
    return -EINVAL;
}

const char *pick_mode_name(enum pick_mode mode)
{
    switch (mode) {
    case PICK_SEQ: return "seq";
    case PICK_RANDOM: return "random";
    case PICK_ONCE: return "once";
    }
    return "unknown";
}
