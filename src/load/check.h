/*
 * check.h — response checks: `--check 'NAME: EXPR'`, parsed once, judged
 * on every complete response.
 *
 * "0 errors" is a lie when a 200 carries {"error": "no route"}. A check
 * turns such an answer into the outcome check_failed (status < 400) and is
 * counted per name (pass / fail). The grammar, one subject, one test:
 *
 *   status OP N                 OP: == != < <= > >=
 *   status in A..B              inclusive range
 *   body contains 'TEXT'        also: body !contains 'TEXT'
 *   header 'NAME' exists        also: absent, contains 'T', == 'T', != 'T'
 *   json.PATH OP VALUE          PATH: keys and [N] indexes, e.g. json.legs[0].m;
 *                               VALUE: a number, 'text', true, false, null
 *   json.PATH in A..B | exists | absent | contains 'T'
 *
 * Strings are quoted with '…' or "…" (no escapes). Header names compare
 * without case. The parser is pure, never allocates and never prints; the
 * evaluator reads a response the caller captured (check_view) and
 * allocates only to parse a JSON body, once per response.
 */
#ifndef SALVO_CHECK_H
#define SALVO_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHECK_MAX 32                     /* --check options per run */
#define CHECK_MAX_BODY_DEFAULT (1 << 20) /* bytes of one response a check may read */

enum check_subject { CHECK_STATUS, CHECK_BODY, CHECK_HEADER, CHECK_JSON };

enum check_op {
    CHECK_EQ,
    CHECK_NE,
    CHECK_LT,
    CHECK_LE,
    CHECK_GT,
    CHECK_GE,
    CHECK_IN,
    CHECK_CONTAINS,
    CHECK_NOT_CONTAINS,
    CHECK_EXISTS,
    CHECK_ABSENT,
};

/* The kind of a comparison operand. */
enum check_value { CHECK_V_NONE, CHECK_V_NUMBER, CHECK_V_STRING, CHECK_V_TRUE, CHECK_V_FALSE, CHECK_V_NULL };

/* One parsed check; owns no heap memory. */
struct check {
    char name[128];
    enum check_subject subject;
    enum check_op op;
    char key[128];  /* header name, or the JSON path after "json." */
    char text[256]; /* a string operand */
    double lo, hi;  /* a number operand (lo), or the range lo..hi */
    enum check_value value;
};

/* The verdict of one check on one response. */
enum check_result { CHECK_PASS, CHECK_FAIL, CHECK_BODY_TOO_LARGE };

/*
 * A response as checks see it, borrowed from the caller: the raw bytes the
 * connection read for it (interim 1xx heads, the final head, the body as
 * framed), or only the head when no check reads the body. truncated: the
 * body went past the capture limit, so body and JSON checks fail with
 * body_too_large rather than judge part of it.
 */
struct check_view {
    int status;
    const char *raw;
    size_t len;
    bool chunked;   /* the body is chunked: decode it before judging */
    bool truncated; /* bytes past the limit were not kept */
};

/*
 * Parses text: "NAME: EXPR", or an EXPR that is its own name. Returns 0
 * or -EINVAL with *why naming the problem (a static string).
 */
int check_parse(struct check *c, const char *text, const char **why);

/* True when c reads the body (body and json checks). */
bool check_needs_body(const struct check *c);
/* True when c reads anything beyond the status (headers or body). */
bool check_needs_head(const struct check *c);

/*
 * Judges the n checks on v, writing one check_result per check into out.
 * Decodes a chunked body in a heap copy and parses a JSON body at most
 * once. Returns the number of checks that did not pass.
 */
uint32_t check_run(const struct check *cs, uint32_t n, const struct check_view *v, enum check_result *out);

/*
 * The final head (interim 1xx heads skipped) and the body of v, for a
 * script's response(): a chunked body is decoded into *owned (free it;
 * NULL otherwise), else *body points into v->raw.
 */
void check_view_parts(const struct check_view *v, const char **head, size_t *head_len, const char **body,
                      size_t *body_len, char **owned);

#endif
