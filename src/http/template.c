/*
 * template.c — compile {column} templates once, render them per request.
 *
 * Invariants: a compiled template is a list of parts, each a literal run
 * (braces already unescaped) and then at most one column index, which the
 * feeder is known to have. The escaping of each placeholder is fixed at
 * compile time from the mode and the literal text before it.
 *
 * Rendering never allocates and needs no scratch buffer: a value that the
 * feeder must decode (CSV "" or a JSON escape) is decoded straight into
 * the output, at the place it will occupy, and then escaped in place from
 * its last byte backwards. That is safe because escaping never shrinks a
 * byte, so the escaped form of bytes [0, i) always ends at or after i, and
 * writing backwards never overwrites a byte not yet read.
 */
#include "http/template.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* How one placeholder's value is escaped. */
enum encoding {
    ENC_RAW,    /* copied */
    ENC_PATH,   /* percent-encoded except unreserved and '/' */
    ENC_QUERY,  /* percent-encoded except unreserved */
    ENC_HEADER, /* control bytes other than tab become spaces */
    ENC_JSON,   /* escaped for the inside of a JSON string */
};

/* RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
static bool unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

/* How many bytes c becomes under enc. */
static size_t width(enum encoding enc, unsigned char c)
{
    switch (enc) {
    case ENC_PATH: return unreserved(c) || c == '/' ? 1 : 3;
    case ENC_QUERY: return unreserved(c) ? 1 : 3;
    case ENC_JSON:
        if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') return 2;
        return c < 0x20 ? 6 : 1;
    case ENC_RAW:
    case ENC_HEADER: break;
    }
    return 1;
}

/* Writes the escaped form of c, w bytes (its width), at dst. */
static void put(enum encoding enc, unsigned char c, size_t w, char *dst)
{
    static const char hex[] = "0123456789ABCDEF";
    if (w == 1) {
        dst[0] = enc == ENC_HEADER && ((c < 0x20 && c != '\t') || c == 0x7f) ? ' ' : (char)c;
    } else if (w == 3) {
        dst[0] = '%', dst[1] = hex[c >> 4], dst[2] = hex[c & 15];
    } else if (w == 2) {
        static const char from[] = "\"\\\n\r\t\b\f", to[] = "\"\\nrtbf";
        dst[0] = '\\', dst[1] = to[strchr(from, c) - from];
    } else {
        memcpy(dst, "\\u00", 4), dst[4] = hex[c >> 4], dst[5] = hex[c & 15];
    }
}

/*
 * Escapes the n bytes at v into dst, which may be v itself (see the file
 * comment). Returns the escaped length, or -ENOSPC if it exceeds room.
 */
static ssize_t escape(enum encoding enc, const char *v, size_t n, char *dst, size_t room)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += width(enc, (unsigned char)v[i]);
    if (total > room) return -ENOSPC;
    if (total == n && enc == ENC_RAW) {
        memmove(dst, v, n);
        return (ssize_t)n;
    }
    for (size_t i = n, w = total; i-- > 0;) {
        unsigned char c = (unsigned char)v[i];
        size_t k = width(enc, c);
        w -= k;
        put(enc, c, k, dst + w);
    }
    return (ssize_t)total;
}

/* ---- Compiling ---------------------------------------------------------- */

/* Fills err and returns rc. */
static int fail(struct template_error *err, int rc, size_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    err->offset = offset;
    return rc;
}

/* Ends the current part with column col (or -1) and starts the next. */
static void close_part(struct template *t, int col, enum encoding enc)
{
    struct tpl_part *part = &t->parts[t->nparts - 1];
    part->literal_len = t->literal_len - part->literal_off;
    part->col = col;
    part->encoding = (uint8_t)enc;
    t->parts = realloc(t->parts, (t->nparts + 1) * sizeof(*t->parts));
    if (!t->parts) abort();
    t->parts[t->nparts++] = (struct tpl_part){.literal_off = t->literal_len, .col = -1};
    t->nplaceholders += col >= 0;
}

/* The escaping of a placeholder at this point of a template. */
static enum encoding encoding_for(enum tpl_escape mode, bool in_query)
{
    switch (mode) {
    case TPL_URL: return in_query ? ENC_QUERY : ENC_PATH;
    case TPL_HEADER: return ENC_HEADER;
    case TPL_JSON: return ENC_JSON;
    case TPL_RAW: break;
    }
    return ENC_RAW;
}

/*
 * Reads the placeholder whose '{' is at text[at] and resolves its column.
 * Returns the offset after its '}', or a negative errno.
 */
static ssize_t placeholder(const char *text, size_t len, size_t at, const struct row_source *f, int *col,
                           struct template_error *err)
{
    size_t end = at + 1;
    /* A quote cannot be in a name: "{" followed by a quote is JSON text
     * missing its "{{", and saying so beats "no column '"a": 1'". */
    while (end < len && text[end] != '}' && text[end] != '{' && text[end] != '"' && text[end] != '\n')
        end++;
    if (end == len || text[end] != '}')
        return fail(err, -EINVAL, at, "unbalanced '{' at byte %zu (write '{{' for a literal brace)", at + 1);
    size_t n = end - at - 1;
    if (n == 0) return fail(err, -EINVAL, at, "empty placeholder '{}' at byte %zu", at + 1);
    if (n > ROW_NAME_MAX || memchr(text + at + 1, '\0', n))
        return fail(err, -EINVAL, at, "bad column name at byte %zu", at + 1);
    memcpy(err->column, text + at + 1, n);
    err->column[n] = '\0';
    *col = f ? f->ops->column(f, err->column) : -1;
    if (*col < 0) {
        if (f) return fail(err, -ENOENT, at, "template uses column '%s' that '%s' lacks", err->column, f->ops->name(f));
        return fail(err, -ENOENT, at, "template uses column '%s' but there is no data file", err->column);
    }
    err->column[0] = '\0';
    return (ssize_t)end + 1;
}

/* The length of an "http://" or "https://" prefix of text, else 0. */
static size_t scheme_len(const char *text, size_t len)
{
    if (len >= 7 && strncasecmp(text, "http://", 7) == 0) return 7;
    if (len >= 8 && strncasecmp(text, "https://", 8) == 0) return 8;
    return 0;
}

/* Walks the text, building literal runs and parts. */
static int compile_parts(struct template *t, const char *text, size_t len, const struct row_source *f,
                         struct template_error *err)
{
    size_t authority = t->mode == TPL_URL ? scheme_len(text, len) : 0;
    bool in_authority = authority > 0, in_query = false;
    for (size_t i = 0; i < len;) {
        char c = text[i];
        if ((c == '{' || c == '}') && i + 1 < len && text[i + 1] == c) {
            t->literal[t->literal_len++] = c;
            i += 2;
        } else if (c == '}') {
            return fail(err, -EINVAL, i, "unbalanced '}' at byte %zu (write '}}' for a literal brace)", i + 1);
        } else if (c == '{') {
            if (in_authority)
                return fail(err, -EINVAL, i, "a placeholder at byte %zu is in the URL's scheme or host", i + 1);
            int col = -1;
            ssize_t next = placeholder(text, len, i, f, &col, err);
            if (next < 0) return (int)next;
            close_part(t, col, encoding_for(t->mode, in_query));
            i = (size_t)next;
        } else {
            if (i >= authority && (c == '/' || c == '?' || c == '#')) in_authority = false;
            in_query |= c == '?';
            t->literal[t->literal_len++] = c;
            i++;
        }
    }
    struct tpl_part *last = &t->parts[t->nparts - 1];
    last->literal_len = t->literal_len - last->literal_off;
    return 0;
}

int template_compile(struct template *t, const char *text, size_t len, enum tpl_escape mode, const struct row_source *f,
                     struct template_error *err)
{
    memset(t, 0, sizeof(*t));
    memset(err, 0, sizeof(*err));
    t->mode = mode;
    t->literal = malloc(len + 1);
    t->parts = calloc(1, sizeof(*t->parts));
    if (!t->literal || !t->parts) abort();
    t->nparts = 1;
    t->parts[0].col = -1;
    int rc = compile_parts(t, text, len, f, err);
    if (rc < 0) template_release(t);
    return rc;
}

void template_release(struct template *t)
{
    if (!t) return;
    free(t->literal);
    free(t->parts);
    memset(t, 0, sizeof(*t));
}

/* ---- Rendering ---------------------------------------------------------- */

ssize_t template_render(const struct template *t, const struct row_source *f, size_t row, char *out, size_t cap)
{
    size_t pos = 0;
    for (size_t i = 0; i < t->nparts; i++) {
        const struct tpl_part *part = &t->parts[i];
        if (part->literal_len > cap - pos) return -ENOSPC;
        memcpy(out + pos, t->literal + part->literal_off, part->literal_len);
        pos += part->literal_len;
        if (part->col < 0) continue;
        if (!f) return -ERANGE;
        const char *val;
        size_t n;
        int rc = f->ops->field(f, row, part->col, out + pos, cap - pos, &val, &n);
        if (rc < 0) return rc;
        ssize_t w = escape((enum encoding)part->encoding, val, n, out + pos, cap - pos);
        if (w < 0) return w;
        pos += (size_t)w;
    }
    return (ssize_t)pos;
}

bool template_is_static(const struct template *t)
{
    return t->nplaceholders == 0;
}

size_t template_max_len(const struct template *t, const struct row_source *f)
{
    size_t total = t->literal_len;
    for (size_t i = 0; i < t->nparts; i++) {
        const struct tpl_part *part = &t->parts[i];
        if (part->col < 0) continue;
        /* A NUL byte grows the most under every encoding (3 or 6 bytes). */
        size_t expand = width((enum encoding)part->encoding, 0);
        total += expand * (f ? f->ops->column_max_len(f, part->col) : 0);
    }
    return total;
}

/* True if the media type names JSON: application/json or any +json. */
static bool is_json_type(const char *type)
{
    size_t n = strcspn(type, ";");
    while (n > 0 && (type[n - 1] == ' ' || type[n - 1] == '\t'))
        n--;
    while (n > 0 && (*type == ' ' || *type == '\t'))
        type++, n--;
    if (n == 16 && strncasecmp(type, "application/json", 16) == 0) return true;
    return n > 5 && strncasecmp(type + n - 5, "+json", 5) == 0;
}

enum tpl_escape template_body_mode(const char *content_type, const char *body, size_t len)
{
    if (content_type) return is_json_type(content_type) ? TPL_JSON : TPL_RAW;
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    if (i < len && body[i] == '[') return TPL_JSON;
    return i + 1 < len && body[i] == '{' && body[i + 1] == '{' ? TPL_JSON : TPL_RAW;
}
