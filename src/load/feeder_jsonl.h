/*
 * feeder_jsonl.h — the JSON Lines tokenizer behind the feeder. Private to
 * src/load/: only feeder.c includes it; everyone else reads a data file
 * through feeder.h, whatever its format.
 *
 * The contract is picohttpparser's: the functions read the bytes [p, end)
 * in place and never past end, keep no state between calls and never
 * allocate. A member is returned as spans into those bytes, valid as long
 * as they are (for the feeder, until feeder_release); a string is decoded
 * only on request, into a buffer the caller owns. So every function is
 * safe to call from any number of threads at once.
 *
 * The grammar is JSON's, restricted to what a data row may be: one object
 * on one line (a line break inside it is an error), whose values are
 * strings, numbers, true, false or null. A nested object or array is
 * reported (JSONL_NESTED), not read. Errors are static strings in the
 * house style ("unterminated string"), ready to follow "line N: ".
 *
 * Decoding never lengthens a value: a short escape is 2 bytes for 1, a
 * \uXXXX escape 6 bytes for at most 3 (a surrogate pair 12 for 4). This is
 * what lets feeder_column_max_len bound decoded lengths by raw lengths.
 */
#ifndef SALVO_FEEDER_JSONL_H
#define SALVO_FEEDER_JSONL_H

#include <stdbool.h>
#include <stddef.h>

#include "spec/row_source.h"

/* What a member's value is; numbers and booleans are kept as their text. */
enum jsonl_kind { JSONL_STRING, JSONL_LITERAL, JSONL_NULL, JSONL_NESTED };

/* One "key": value member of a flat object, as raw spans into the input. */
struct jsonl_member {
    const char *key; /* NULL once the object has no more members */
    size_t key_len;
    bool key_escaped;
    enum jsonl_kind kind;
    const char *value; /* string content without quotes, or the literal */
    size_t value_len;  /* raw length: decoded, the value is never longer */
    bool value_escaped;
};

/*
 * jsonl_skip_blanks, jsonl_object_open and jsonl_member_key are inline:
 * feeder_open calls them for every row and member, and as calls into
 * feeder_jsonl.c they made indexing 1M short rows some 15% slower.
 */

/* Skips blanks (spaces and tabs, not line ends) from p; returns the first other byte or end. */
static inline const char *jsonl_skip_blanks(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/*
 * Skips blanks to the '{' that opens a row's object and returns it: the
 * position for the first jsonl_member_next. NULL with *why when the row
 * does not start with an object.
 */
static inline const char *jsonl_object_open(const char *p, const char *end, const char **why)
{
    p = jsonl_skip_blanks(p, end);
    return p < end && *p == '{' ? p : (*why = "expected a JSON object", NULL);
}

/*
 * Reads into m the member after p, which is at the object's '{' (first
 * call), at the ',' after the previous member, or at its final '}' (then
 * m->key is NULL and the byte after the object is returned). Returns the
 * position for the next call, or NULL with *why when the object is
 * malformed. After a member of kind JSONL_NESTED the position is the
 * nested value's bracket: the caller must stop there (flat objects only).
 */
const char *jsonl_member_next(const char *p, const char *end, struct jsonl_member *m, const char **why);

/*
 * Decodes the n bytes of a string's content at s (as validated by
 * jsonl_member_next: the escapes are well formed) into buf, as UTF-8.
 * Returns 0 with *len set, or -ENOSPC when it needs more than cap bytes.
 */
int jsonl_decode(const char *s, size_t n, char *buf, size_t cap, size_t *len);

/*
 * The key of m, decoded: a pointer to m->key itself when it holds no
 * escape, else to key[], where it is decoded. *n is its length; it may
 * exceed ROW_NAME_MAX for an unescaped key (the caller checks). NULL
 * when an escaped key decodes to more than ROW_NAME_MAX bytes.
 */
static inline const char *jsonl_member_key(const struct jsonl_member *m, char key[ROW_NAME_MAX], size_t *n)
{
    *n = m->key_len;
    if (!m->key_escaped) return m->key;
    return jsonl_decode(m->key, m->key_len, key, ROW_NAME_MAX, n) == 0 ? key : NULL;
}

/*
 * The value of the member called name (NUL-terminated, matched exactly
 * after decoding the keys) in the object at p, which a feeder_open has
 * validated. *val and *len describe the value as feeder_field does: a
 * pointer into the input when it needs no decoding, else into buf. A
 * missing member, null, or (impossible once validated) a nested value or a
 * malformed object read as "". Returns 0, or -ENOSPC when the value needs
 * decoding and cap is too small.
 */
int jsonl_lookup(const char *p, const char *end, const char *name, char *buf, size_t cap, const char **val,
                 size_t *len);

#endif
