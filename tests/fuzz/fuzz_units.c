/*
 * fuzz_units.c — durations and rates (src/core/units.c).
 *
 * The input is one string. Beyond not crashing: a parse that fails leaves
 * *out untouched (the contract), a rate is finite and positive (or zero
 * for parse_rate_or_zero), and a parsed duration is stable: printed back
 * in nanoseconds ("Nns") it parses to the same value.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "common.h"
#include "core/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    uint64_t ns = 12345;
    int rc = parse_duration_ns(s, &ns);
    CHECK(rc == 0 || rc == -EINVAL);
    if (rc < 0) {
        CHECK(ns == 12345);
    } else {
        char back[32];
        uint64_t again = 0;
        snprintf(back, sizeof back, "%" PRIu64 "ns", ns);
        CHECK(parse_duration_ns(back, &again) == 0 && again == ns);
    }
    double r = -7;
    rc = parse_rate(s, &r);
    CHECK(rc == 0 ? isfinite(r) && r > 0 : rc == -EINVAL && r == -7);
    double z = -7;
    rc = parse_rate_or_zero(s, &z);
    CHECK(rc == 0 ? isfinite(z) && z >= 0 : rc == -EINVAL && z == -7);
    free(s);
    return 0;
}
