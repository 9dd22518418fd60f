/*
 * test_engine.c — a worker's init and release (src/load/engine.c) at the
 * edges: an init that fails early must leave nothing for release to
 * close that it does not own.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "load/engine.h"

/* Out of descriptors, worker_init fails at its first fd; release must not close stdin (fd 0). */
static void test_early_failure_keeps_stdin(void **state)
{
    (void)state;
    int null_fd = open("/dev/null", O_RDONLY);
    assert_true(null_fd >= 0);
    assert_int_equal(dup2(null_fd, 0), 0); /* fd 0 is open and ours to watch */
    close(null_fd);
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    /* A new descriptor takes the lowest free number; a limit at that number refuses it. */
    int lowest_free = 0;
    while (fcntl(lowest_free, F_GETFD) >= 0)
        lowest_free++;
    struct rlimit low = {.rlim_cur = (rlim_t)lowest_free, .rlim_max = old.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    static struct run_config cfg;
    static struct worker w;
    int rc = worker_init(&w, &cfg, 0, 0);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_int_equal(rc, -EMFILE);
    worker_release(&w);
    assert_true(fcntl(0, F_GETFD) >= 0); /* stdin is still open */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_early_failure_keeps_stdin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
