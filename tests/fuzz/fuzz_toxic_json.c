/*
 * fuzz_toxic_json.c — toxics as the chaos API reads them
 * (src/chaos/toxic_json.c): create and update bodies.
 *
 * The input is JSON text (any JSON: missing keys, wrong types, huge
 * numbers). When it is a valid create request the toxic it makes is
 * valid (toxic_validate), and it round-trips: toxic_to_json read back
 * gives the same toxic. The same JSON is then applied as an update, which
 * must leave a valid toxic or fail with a reason.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "spec/toxic_spec.h"
#include "spec/toxic_json.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *obj = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!obj) return 0;
    struct toxic t, back;
    char err[256] = "";
    memset(&t, 0, sizeof t);
    int rc = toxic_from_json(&t, obj, err, sizeof err);
    if (rc < 0) {
        CHECK(rc == -EINVAL && err[0] && memchr(err, '\0', sizeof err));
    } else {
        CHECK(toxic_validate(&t, err, sizeof err) == 0);
        json_t *out = toxic_to_json(&t);
        CHECK(out);
        memset(&back, 0, sizeof back);
        CHECK(toxic_from_json(&back, out, err, sizeof err) == 0);
        CHECK(strcmp(back.name, t.name) == 0 && back.type == t.type && back.stream == t.stream);
        CHECK(memcmp(back.attr, t.attr, sizeof t.attr) == 0);
        json_decref(out);
        err[0] = '\0';
        if (toxic_patch_json(&t, obj, err, sizeof err) == 0)
            CHECK(toxic_validate(&t, err, sizeof err) == 0);
        else
            CHECK(err[0]);
    }
    json_decref(obj);
    return 0;
}
