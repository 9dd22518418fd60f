/*
 * test_backlog.c — the FIFO of due requests: order across wrap-around,
 * growth while wrapped, push to the front (a retry keeps its place), the
 * high-water mark and the BACKLOG_LIMIT refusal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdbool.h>

#include "load/backlog.h"

static struct pending item(uint64_t index)
{
    return (struct pending){.t_intended_ns = index * 1000,
                            .t_ready_ns = index * 1000 + 1,
                            .index = index,
                            .group = (uint32_t)(index % 7),
                            .retries = (uint32_t)(index % 3)};
}

static void expect_pop(struct backlog *b, uint64_t index)
{
    struct pending p;
    assert_true(backlog_pop(b, &p));
    if (p.index != index) fail_msg("popped %llu, want %llu", (unsigned long long)p.index, (unsigned long long)index);
    assert_int_equal(p.t_intended_ns, index * 1000);
    assert_int_equal(p.t_ready_ns, index * 1000 + 1);
    assert_int_equal(p.group, index % 7);
    assert_int_equal(p.retries, index % 3);
}

/*
 * A script of operations on a fresh ring (16 slots, the smallest there is)
 * whose head first moves to slot `offset` (filler pushed and popped):
 * n pushes at the tail ('+') or pops ('-') of consecutive arrival indices
 * from index, or one push at the front ('<'). Then the expected cap,
 * length and high-water mark.
 */
struct op {
    char kind;
    uint64_t index;
    unsigned n;
};

struct script_case {
    const char *name;
    size_t offset;
    struct op ops[12];
    size_t cap, len, max_len;
};

static void test_scripts(void **state)
{
    static const struct script_case cases[] = {
        {"fifo", 0, {{'+', 1, 3}, {'-', 1, 3}}, 16, 0, 3},
        {"wrap around without growth", 14, {{'+', 1, 6}, {'-', 1, 2}, {'+', 7, 10}, {'-', 3, 14}}, 16, 0, 14},
        {"full ring wrapped", 9, {{'+', 1, 16}, {'-', 1, 16}}, 16, 0, 16},
        {"grow while wrapped keeps order", 11, {{'+', 1, 16}, {'+', 17, 5}, {'-', 1, 21}}, 32, 0, 21},
        {"front push from head 0 wraps to the end", 0, {{'<', 9, 1}, {'+', 1, 2}, {'-', 9, 1}, {'-', 1, 2}}, 16, 0, 3},
        {"a retry goes back first", 5, {{'+', 1, 3}, {'-', 1, 1}, {'<', 1, 1}, {'-', 1, 3}}, 16, 0, 3},
        {"front push into a full ring grows it", 0, {{'+', 1, 16}, {'<', 0, 1}, {'-', 0, 17}}, 32, 0, 17},
        {"front push into a full wrapped ring",
         7,
         {{'+', 3, 14}, {'<', 2, 1}, {'<', 1, 1}, {'<', 0, 1}, {'-', 0, 2}, {'-', 2, 15}},
         32,
         0,
         17},
        {"left non-empty", 3, {{'+', 1, 2}, {'-', 1, 1}, {'+', 3, 1}}, 16, 2, 2},
    };
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct backlog b;
        struct pending p;
        backlog_init(&b, 4);
        assert_int_equal(b.cap, 16);
        assert_null(backlog_peek(&b));
        assert_false(backlog_pop(&b, &p));
        for (size_t i = 0; i < cases[c].offset; i++) {
            struct pending filler = item(1000 + i);
            assert_true(backlog_push(&b, &filler));
            expect_pop(&b, 1000 + i);
        }
        b.max_len = 0; /* the filler does not count */
        assert_int_equal(b.head, cases[c].offset);
        for (const struct op *o = cases[c].ops; o->kind; o++) {
            for (unsigned k = 0; k < o->n; k++) {
                struct pending in = item(o->index + k);
                if (o->kind == '+') {
                    assert_true(backlog_push(&b, &in));
                } else if (o->kind == '<') {
                    backlog_push_front(&b, &in);
                    assert_int_equal(backlog_peek(&b)->index, o->index + k);
                } else {
                    assert_non_null(backlog_peek(&b));
                    if (backlog_peek(&b)->index != o->index + k)
                        fail_msg("%s: head is %llu, want %llu", cases[c].name,
                                 (unsigned long long)backlog_peek(&b)->index, (unsigned long long)(o->index + k));
                    expect_pop(&b, o->index + k);
                }
            }
        }
        if (b.cap != cases[c].cap || b.len != cases[c].len || b.max_len != cases[c].max_len)
            fail_msg("%s: cap %zu len %zu max %zu, want %zu %zu %zu", cases[c].name, b.cap, b.len, b.max_len,
                     cases[c].cap, cases[c].len, cases[c].max_len);
        backlog_release(&b);
    }
    backlog_release(NULL);
}

/* Many rounds of push/pop at an offset exercise every head position across several growths. */
static void test_growth_in_order(void **state)
{
    struct backlog b;
    uint64_t next_in = 0, next_out = 0;
    (void)state;
    backlog_init(&b, 2);
    for (int round = 0; round < 2000; round++) {
        int pushes = 1 + round % 5, pops = round % 4;
        for (int i = 0; i < pushes; i++) {
            struct pending p = item(next_in++);
            assert_true(backlog_push(&b, &p));
        }
        for (int i = 0; i < pops && b.len; i++)
            expect_pop(&b, next_out++);
    }
    assert_int_equal(b.len, next_in - next_out);
    assert_true((b.cap & (b.cap - 1)) == 0 && b.cap >= b.len);
    while (b.len)
        expect_pop(&b, next_out++);
    assert_int_equal(next_out, next_in);
    backlog_release(&b);
}

/* At BACKLOG_LIMIT entries push refuses (nothing stored); push_front still takes a retry. */
static void test_limit(void **state)
{
    struct backlog b;
    (void)state;
    backlog_init(&b, 1024);
    for (uint64_t i = 0; i < BACKLOG_LIMIT; i++) {
        struct pending p = item(i);
        assert_true(backlog_push(&b, &p));
    }
    struct pending over = item(BACKLOG_LIMIT);
    assert_false(backlog_push(&b, &over));
    assert_int_equal(b.len, BACKLOG_LIMIT);
    struct pending retry = item(424242);
    backlog_push_front(&b, &retry);
    assert_int_equal(b.len, BACKLOG_LIMIT + 1);
    assert_int_equal(b.max_len, BACKLOG_LIMIT + 1);
    expect_pop(&b, 424242);
    expect_pop(&b, 0);
    backlog_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_growth_in_order),
        cmocka_unit_test(test_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
