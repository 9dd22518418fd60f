/*
 * fuzz_h2_req.c — a rendered HTTP/1.1 request as HTTP/2 header fields
 * (src/load/h2_req.c).
 *
 * The input is the request bytes (from a template, a targets file or
 * --data rows, so anything a user may write). Beyond not crashing: a
 * mapped request has :method, :scheme and :path first, every field stays
 * inside the input or the struct's name buffer, names are lower-case,
 * and the body starts inside the input.
 */
#include <string.h>

#include "common.h"
#include "load/h2_req.h"

static bool inside(const uint8_t *p, size_t n, const void *lo, size_t len)
{
    return p >= (const uint8_t *)lo && p + n <= (const uint8_t *)lo + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct h2_req r;
    char *bytes = malloc(size ? size : 1);
    if (!bytes) return 0;
    memcpy(bytes, data, size);
    if (h2_req_from_http1(&r, bytes, size, size & 1) == 0) {
        CHECK(r.n >= 3 && r.n <= H2_REQ_MAX_NV && r.used <= sizeof(r.names));
        CHECK(r.nv[0].namelen == 7 && !memcmp(r.nv[0].name, ":method", 7));
        CHECK(r.nv[2].namelen == 5 && !memcmp(r.nv[2].name, ":path", 5));
        CHECK(r.body_off <= size);
        for (size_t i = 0; i < r.n; i++) {
            CHECK(inside(r.nv[i].name, r.nv[i].namelen, r.names, sizeof(r.names)));
            CHECK(i == 1 || inside(r.nv[i].value, r.nv[i].valuelen, bytes, size));
            for (size_t k = 0; k < r.nv[i].namelen; k++)
                CHECK(r.nv[i].name[k] < 'A' || r.nv[i].name[k] > 'Z');
        }
    }
    free(bytes);
    return 0;
}
