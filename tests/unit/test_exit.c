/* test_exit.c — exit-code precedence: 130/143 > 2 > 1 > 98 > 99 > 0. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cli/cli.h"
#include "cli/exit.h"

/* Every pair in the table, both ways round: the higher one in the list wins. */
static void test_table_order(void **state)
{
    (void)state;
    const int order[] = {EXIT_SIGINT, EXIT_USAGE, EXIT_RUNTIME, EXIT_INVALID, EXIT_THRESHOLD, EXIT_OK};
    size_t n = sizeof(order) / sizeof(order[0]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++) {
            assert_int_equal(exit_worse(order[i], order[j]), order[i]);
            assert_int_equal(exit_worse(order[j], order[i]), order[i]);
        }
}

static void test_sigterm_ranks_with_sigint(void **state)
{
    (void)state;
    assert_int_equal(exit_worse(EXIT_SIGTERM, EXIT_USAGE), EXIT_SIGTERM);
    assert_int_equal(exit_worse(EXIT_RUNTIME, EXIT_SIGTERM), EXIT_SIGTERM);
    assert_int_equal(exit_worse(EXIT_SIGINT, EXIT_SIGTERM), EXIT_SIGINT); /* the first one stays */
}

static void test_unknown_codes_rank_as_runtime(void **state)
{
    (void)state;
    assert_int_equal(exit_worse(EXIT_INVALID, 7), 7);
    assert_int_equal(exit_worse(7, EXIT_USAGE), EXIT_USAGE);
}

static void test_signal_codes(void **state)
{
    (void)state;
    assert_int_equal(exit_of_signal(SIGINT), 130);
    assert_int_equal(exit_of_signal(SIGTERM), 143);
    assert_int_equal(exit_of_signal(0), EXIT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_order),
        cmocka_unit_test(test_sigterm_ranks_with_sigint),
        cmocka_unit_test(test_unknown_codes_rank_as_runtime),
        cmocka_unit_test(test_signal_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
