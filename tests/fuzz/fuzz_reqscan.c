/*
 * fuzz_reqscan.c — the request scanner a script's request() bytes pass
 * (src/http/reqscan.c).
 *
 * The input is a script's return value. A refusal names its reason; an
 * accepted request ends inside the bytes, and scanning exactly those bytes
 * again accepts the same length (a request is self-delimiting); counting
 * agrees with scanning one request after another.
 */
#include <string.h>

#include "common.h"
#include "http/reqscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exactly sized heap copy, so ASan sees any read past the end. */
    char *p = malloc(size ? size : 1);
    CHECK(p);
    if (size) memcpy(p, data, size);
    const char *why = NULL;
    ssize_t n = reqscan_one(p, size, &why);
    if (n < 0) {
        CHECK(n == -1 && why && *why);
    } else {
        CHECK(n > 0 && (size_t)n <= size);
        const char *why2 = NULL;
        CHECK(reqscan_one(p, (size_t)n, &why2) == n);
    }
    why = NULL;
    ssize_t count = reqscan_count(p, size, &why);
    if (count < 0)
        CHECK(why && *why);
    else
        CHECK(count >= 1 && n > 0);
    free(p);
    return 0;
}
