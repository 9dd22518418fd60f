/*
 * template.h — a URL, header or body with {column} placeholders, filled
 * from a row of the --data file for each request.
 *
 * Syntax: "{name}" is replaced by the value of column name (exact,
 * case-sensitive); "{{" and "}}" stand for literal braces. Anything else
 * involving a brace is an error at compile time, so a typo cannot reach
 * the run. Compiling resolves every name to a column index against the
 * rows (a struct row_source: the --data file's feeder, which embeds one),
 * so rendering is a walk over a short array of parts with no lookups, and
 * no allocation: a request costs one memcpy per literal run and one field
 * read plus an encoding loop per placeholder.
 *
 * Each template is compiled for where its text goes (enum tpl_escape); the
 * place decides how values are escaped, placeholder by placeholder (in a
 * URL a value before the first literal '?' is a path value, after it a
 * query value). docs/data.md states the rules for users.
 *
 * Ownership: struct template is caller-owned; template_compile allocates
 * its parts and template_release frees them. The template keeps no pointer
 * to the text or to the rows: they are passed again at render time and
 * must be the ones (or ones with the same columns) it was compiled with.
 * A compiled template is immutable: threads may render one concurrently.
 */
#ifndef SALVO_TEMPLATE_H
#define SALVO_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spec/row_source.h"

/* Where a template's text goes, hence how values are escaped. */
enum tpl_escape {
    TPL_RAW,    /* bytes as they are: bodies that are not JSON */
    TPL_URL,    /* the request target, or a whole http(s) URL: percent-encoding */
    TPL_HEADER, /* a header line or value: control bytes other than tab become spaces */
    TPL_JSON,   /* a JSON body: '"', '\' and control bytes are escaped as in a JSON string */
};

/* Why a compile failed. */
struct template_error {
    char msg[512];                 /* e.g. "unbalanced '{' at byte 7" */
    char column[ROW_NAME_MAX + 1]; /* the missing column, for -ENOENT */
    size_t offset;                 /* 0-based byte of the text at fault */
};

/* One literal run followed by at most one placeholder. */
struct tpl_part {
    size_t literal_off, literal_len; /* into template.literal */
    int col;                         /* the column, or -1 for none */
    uint8_t encoding;                /* how the value is escaped (template.c) */
};

/* A compiled template; see the file comment. */
struct template
{
    enum tpl_escape mode;
    char *literal; /* the text with {{ and }} resolved and names cut out */
    size_t literal_len;
    struct tpl_part *parts;
    size_t nparts;
    size_t nplaceholders;
};

/*
 * Compiles text (len bytes; it need not be NUL-terminated) for mode against
 * the columns of rows (NULL when there is no data file). Returns 0, -EINVAL
 * for a syntax error (an unbalanced or empty brace, a placeholder in a
 * URL's scheme or host) or -ENOENT for a column rows lack (err->column holds
 * it; err->msg reads "template uses column 'to_lat' that 'trips.csv'
 * lacks"). On failure t needs no release (template_release is harmless).
 */
int template_compile(struct template *t, const char *text, size_t len, enum tpl_escape mode,
                     const struct row_source *rows, struct template_error *err);

/* Frees the parts; t may be NULL, zeroed or already released. */
void template_release(struct template *t);

/*
 * Writes the template filled from row `row` of rows into out (not
 * NUL-terminated) and returns its length, or -ENOSPC when cap is too small
 * (out then holds a truncated prefix), or -ERANGE for a row out of range.
 * rows may be NULL for a static template. Never allocates.
 */
ssize_t template_render(const struct template *t, const struct row_source *rows, size_t row, char *out, size_t cap);

/* True if the template has no placeholders: render it once, up front. */
bool template_is_static(const struct template *t);

/*
 * An upper bound on what template_render writes for any row of rows: size a
 * buffer to this and -ENOSPC cannot happen.
 */
size_t template_max_len(const struct template *t, const struct row_source *rows);

/*
 * The mode for a body: TPL_JSON when content_type (NULL if none was set)
 * is JSON ("application/json" or a "+json" type), or when there is none
 * and the body's first non-blank byte is '[' or '{' (a literal brace is
 * "{{" in the template); TPL_RAW otherwise.
 */
enum tpl_escape template_body_mode(const char *content_type, const char *body, size_t len);

#endif
