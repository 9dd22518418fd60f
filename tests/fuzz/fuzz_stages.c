/*
 * fuzz_stages.c — `salvo run --stages` (schedule_parse_stages in
 * src/load/schedule.c).
 *
 * The input is one string. A list that parses has between 1 and max
 * stages, each with a finite, non-negative target rate; a list that does
 * not is -EINVAL or -E2BIG and leaves *n untouched. A small max (the first
 * byte of the input) exercises -E2BIG as well as the real limit.
 */
#include <errno.h>
#include <math.h>

#include "common.h"
#include "load/schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    size_t max = data[0] % 8 == 0 ? SCHEDULE_MAX_STAGES : data[0] % 8;
    char *s = fuzz_strndup(data + 1, size - 1);
    struct stage *out = malloc(max * sizeof(*out)); /* exactly max: ASan sees any write past it */
    CHECK(out);
    size_t n = 999999;
    int rc = schedule_parse_stages(s, out, max, &n);
    if (rc == 0) {
        CHECK(n >= 1 && n <= max);
        for (size_t i = 0; i < n; i++)
            CHECK(isfinite(out[i].target_rate) && out[i].target_rate >= 0);
    } else {
        CHECK((rc == -EINVAL || rc == -E2BIG) && n == 999999);
    }
    free(out);
    free(s);
    return 0;
}
