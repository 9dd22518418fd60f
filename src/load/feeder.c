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
 *
 * The CSV grammar is small enough to live here; JSON's is in
 * feeder_jsonl.c, a tokenizer that knows nothing of the index: the JSON
 * Lines section below drives it and does the feeder's bookkeeping (columns
 * in order of first appearance, repeated keys, maximum lengths).
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

#include "core/container.h"
#include "core/hash.h"
#include "load/feeder_jsonl.h"

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
    struct jsonl_member m;
    const char *err = NULL;
    size_t k = 0;
    p = jsonl_object_open(p, end, &err);
    while (p && (p = jsonl_member_next(p, end, &m, &err)) && m.key) {
        char buf[FEEDER_NAME_MAX];
        size_t n;
        const char *key = jsonl_member_key(&m, buf, &n);
        if (!key || n > FEEDER_NAME_MAX)
            return snprintf(why, why_cap, "a key is longer than %d bytes", FEEDER_NAME_MAX), NULL;
        if (m.key_escaped && memchr(key, '\0', n)) return snprintf(why, why_cap, "a key holds a NUL"), NULL;
        size_t c = jsonl_column_of(f, key, n, k++);
        if (c == seen->n) seen->row = grow(seen->row, ++seen->n, sizeof(uint64_t)), seen->row[c] = 0;
        if (seen->row[c] == f->rows) return snprintf(why, why_cap, "key '%s' appears twice", f->names[c]), NULL;
        seen->row[c] = f->rows;
        if (m.kind == JSONL_NESTED)
            return snprintf(why, why_cap, "'%s' holds an object or array; values must be flat", f->names[c]), NULL;
        if (m.value_len > f->max_len[c]) f->max_len[c] = m.value_len;
    }
    if (!p) return snprintf(why, why_cap, "%s", err), NULL;
    p = jsonl_skip_blanks(p, end);
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
        const char *q = jsonl_skip_blanks(p, end);
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

/* ---- The feeder as a row source (spec/row_source.h) --------------------- */

static int source_column(const struct row_source *src, const char *name)
{
    return feeder_column(container_of(src, struct feeder, source), name);
}

static size_t source_column_max_len(const struct row_source *src, int col)
{
    return feeder_column_max_len(container_of(src, struct feeder, source), col);
}

static const char *source_name(const struct row_source *src)
{
    return feeder_path(container_of(src, struct feeder, source));
}

static int source_field(const struct row_source *src, size_t row, int col, char *buf, size_t cap, const char **val,
                        size_t *len)
{
    return feeder_field(container_of(src, struct feeder, source), row, col, buf, cap, val, len);
}

static const struct row_source_ops feeder_source_ops = {
    .column = source_column,
    .column_max_len = source_column_max_len,
    .name = source_name,
    .field = source_field,
};

const struct row_source *feeder_source(const struct feeder *f)
{
    return f ? &f->source : NULL;
}

int feeder_open(struct feeder *f, const char *path, struct feeder_error *err)
{
    memset(f, 0, sizeof(*f));
    memset(err, 0, sizeof(*err));
    f->source.ops = &feeder_source_ops;
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
    if (f->format == FEEDER_JSONL) return jsonl_lookup(p, end, f->names[col], buf, cap, val, len);
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

uint64_t pick_hash(uint64_t key, uint64_t index)
{
    return hash_mix64(key + (index + 1) * HASH_GAMMA);
}

int picker_init(struct picker *p, enum pick_mode mode, uint64_t rows, uint64_t seed)
{
    if (rows == 0 || (mode != PICK_SEQ && mode != PICK_RANDOM && mode != PICK_ONCE)) return -EINVAL;
    p->mode = mode;
    p->rows = rows;
    /* Salted so row draws are independent of the schedule's Poisson draws. */
    p->key = hash_mix64(seed ^ 0x7069636b2d726f77ull);
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
