/*
 * fuzz_thresholds.c — `--threshold` expressions (src/report/thresholds.c).
 *
 * The first line of the input is the expression; the rest, when it is
 * JSON, is a results document to evaluate it on (any JSON: a threshold
 * must judge a result with missing keys or wrong types without crashing).
 * A parsed threshold has a known operator and a NUL-terminated text; a
 * failed parse names its reason.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "common.h"
#include "report/thresholds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t expr_len = nl ? (size_t)(nl - data) : size;
    char *expr = fuzz_strndup(data, expr_len);
    struct threshold t;
    const char *why = NULL;
    int rc = threshold_parse(&t, expr, &why);
    if (rc < 0) {
        CHECK(rc == -EINVAL && why && *why);
    } else {
        CHECK(t.op >= THR_LT && t.op <= THR_NE);
        CHECK(memchr(t.text, '\0', sizeof t.text) && memchr(t.metric, '\0', sizeof t.metric));
        CHECK(memchr(t.name, '\0', sizeof t.name) && memchr(t.agg, '\0', sizeof t.agg));
        if (nl) {
            json_t *doc = json_loadb((const char *)nl + 1, size - expr_len - 1, 0, NULL);
            if (doc) {
                double observed;
                char note[256];
                threshold_judge(&t, doc, &observed, note, sizeof note);
                CHECK(memchr(note, '\0', sizeof note));
                if (json_is_object(doc)) {
                    int failed = thresholds_apply(&t, 1, doc);
                    CHECK(failed == 0 || failed == 1);
                    FILE *null = fopen("/dev/null", "w");
                    CHECK(null);
                    thresholds_print(null, doc);
                    fclose(null);
                }
                json_decref(doc);
            }
        }
    }
    free(expr);
    return 0;
}
