/*
 * result_fixtures.h — pieces of a results JSON built from histograms, as
 * `salvo run` writes them, for the unit tests of code that reads results
 * (thresholds, merge). Include after <cmocka.h> and <jansson.h>.
 */
#ifndef SALVO_TEST_RESULT_FIXTURES_H
#define SALVO_TEST_RESULT_FIXTURES_H

#include <stdlib.h>

#include "core/hist.h"
#include "core/hist_codec.h"

/* {min, mean, p50, ..., count} of h, as a run writes it. */
static inline json_t *percentiles(const struct hist *h)
{
    return json_pack("{s:I,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "min", (json_int_t)hist_min(h), "mean",
                     h->total_count ? hist_mean(h) : 0.0, "p50", (json_int_t)hist_value_at_percentile(h, 50), "p90",
                     (json_int_t)hist_value_at_percentile(h, 90), "p99", (json_int_t)hist_value_at_percentile(h, 99),
                     "p99_9", (json_int_t)hist_value_at_percentile(h, 99.9), "p99_99",
                     (json_int_t)hist_value_at_percentile(h, 99.99), "max", (json_int_t)hist_max(h), "count",
                     (json_int_t)h->total_count);
}

/* h as the base64 HdrHistogram a run embeds under "hdr". */
static inline json_t *b64(const struct hist *h)
{
    char *s = hist_encode_base64(h);
    assert_non_null(s);
    json_t *v = json_string(s);
    free(s);
    return v;
}

#endif
