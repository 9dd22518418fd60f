/*
 * fuzz_check.c — `--check` expressions and their judge (src/load/check.c).
 *
 * The first line of the input is the expression; the rest is the raw
 * bytes of a response (heads and body as framed) to judge it on, once as
 * read and once as a chunked body, whole and truncated. A parsed check has
 * a NUL-terminated non-empty name and a known subject and operator; a
 * failed parse names its reason; judging never reads outside the bytes.
 */
#include <errno.h>
#include <string.h>

#include "common.h"
#include "load/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t expr_len = nl ? (size_t)(nl - data) : size;
    char *expr = fuzz_strndup(data, expr_len);
    struct check c;
    const char *why = NULL;
    int rc = check_parse(&c, expr, &why);
    free(expr);
    if (rc < 0) {
        CHECK(rc == -EINVAL && why && *why);
        return 0;
    }
    CHECK(c.name[0] && memchr(c.name, '\0', sizeof c.name) && memchr(c.key, '\0', sizeof c.key));
    CHECK(c.subject <= CHECK_JSON && c.op <= CHECK_ABSENT);
    size_t len = nl ? size - expr_len - 1 : 0;
    /* An exactly sized heap copy, so ASan sees any read past the end. */
    char *raw = malloc(len ? len : 1);
    CHECK(raw);
    if (len) memcpy(raw, nl + 1, len);
    for (int mode = 0; mode < 4; mode++) {
        struct check_view v = {200, raw, len, mode & 1, (mode & 2) != 0};
        enum check_result r;
        uint32_t failed = check_run(&c, 1, &v, &r);
        CHECK(failed == (r != CHECK_PASS));
        CHECK(r == CHECK_PASS || r == CHECK_FAIL || r == CHECK_BODY_TOO_LARGE);
        if (v.truncated && check_needs_body(&c)) CHECK(r == CHECK_BODY_TOO_LARGE);
    }
    free(raw);
    return 0;
}
