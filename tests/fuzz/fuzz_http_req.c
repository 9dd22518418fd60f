/*
 * fuzz_http_req.c — the request-head parser of `salvo target`
 * (src/target/http_req.c).
 *
 * The input is the bytes a client sent, parsed from an exactly sized heap
 * copy so ASan catches a read past the end. The parser's contract is
 * checked: a complete head is no longer than the input, its method and
 * target point inside it, its version is 0 or 1 and its Content-Length
 * is -1 or non-negative; and a head is judged by its bytes alone: every
 * strict prefix of a complete or incomplete head is incomplete (never
 * malformed), and a head followed by more bytes (a pipelined request)
 * parses to the same length.
 */
#include <string.h>

#include "common.h"
#include "target/http_req.h"

static int parse_copy(struct http_req *r, const uint8_t *data, size_t len)
{
    char *copy = malloc(len ? len : 1);
    CHECK(copy);
    memcpy(copy, data, len);
    int rc = http_req_parse(r, copy, len);
    if (rc > 0) {
        CHECK((size_t)rc <= len);
        CHECK(r->method >= copy && r->method + r->method_len <= copy + rc && r->method_len > 0);
        CHECK(r->target >= copy && r->target + r->target_len <= copy + rc && r->target_len > 0);
        CHECK(r->minor_version == 0 || r->minor_version == 1);
        CHECK(r->content_length >= -1);
        (void)http_req_keep_alive(r);
    } else {
        CHECK(rc == HTTP_REQ_INCOMPLETE || rc == HTTP_REQ_MALFORMED);
    }
    free(copy);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_req r;
    int rc = parse_copy(&r, data, size);
    if (rc == HTTP_REQ_MALFORMED) return 0;
    size_t head = rc > 0 ? (size_t)rc : size;
    /* A few strict prefixes: the last byte missing, half, and a quarter. */
    size_t cuts[] = {head ? head - 1 : 0, head / 2, head / 4};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        CHECK(parse_copy(&r, data, cuts[i]) == HTTP_REQ_INCOMPLETE);
    if (rc > 0 && (size_t)rc < size) {
        struct http_req again;
        CHECK(parse_copy(&again, data, (size_t)rc) == rc);
    }
    return 0;
}
