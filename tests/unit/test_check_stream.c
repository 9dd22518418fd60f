/*
 * test_check_stream.c — what one response keeps for --check
 * (src/load/check_stream.c): --max-body bounds the body alone, whatever
 * the size of the head before it, and the budget reservation of a body of
 * unknown length is exactly --max-body.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "load/check_stream.h"

/* Keeps a head of head_len bytes and marks the body's start, as http1.c does at the head's end. */
static void keep_head(const struct run_config *cfg, struct stream *s, size_t head_len)
{
    char *head = malloc(head_len);
    assert_non_null(head);
    memset(head, 'h', head_len);
    check_stream_keep(cfg, s, head, head_len);
    check_stream_mark_body(s);
    free(head);
}

static void test_max_body_is_the_body_alone(void **state)
{
    (void)state;
    static const size_t heads[] = {40, 1000, 20000, 2 * HTTP_MAX_HEAD - 1};
    struct run_config cfg = {.check_body = true, .max_body = 1000};
    static char body[1500];
    memset(body, 'b', sizeof body);
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        for (size_t blen = 999; blen <= 1001; blen++) {
            struct stream s = {0};
            s.resp.content_length = -1;
            check_stream_reset(&s);
            keep_head(&cfg, &s, heads[i]);
            assert_int_equal(check_stream_body_need(&cfg, &s), 1000);
            check_stream_keep(&cfg, &s, body, blen);
            if (s.kept_over != (blen > 1000) || s.kept_len != heads[i] + (blen > 1000 ? 1000 : blen))
                fail_msg("head %zu, body %zu: kept %zu, over %d", heads[i], blen, s.kept_len, s.kept_over);
            free(s.kept);
        }
    }
    /* A known length under --max-body reserves just that; over it, the rest of --max-body. */
    struct stream s = {0};
    s.resp.content_length = 300;
    keep_head(&cfg, &s, 5000);
    assert_int_equal(check_stream_body_need(&cfg, &s), 300);
    s.resp.content_length = 5000;
    assert_int_equal(check_stream_body_need(&cfg, &s), 1000);
    free(s.kept);
    /* The most one response keeps (what the budget's least share is sized from) is unchanged. */
    assert_int_equal(check_stream_keep_cap(&cfg), 2 * HTTP_MAX_HEAD + 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_body_is_the_body_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
