/*
 * test_profile.c — how --profile is planned and kept (src/load/profile.c),
 * without fetching: the default placement (the middle third, seconds=
 * added, a URL's own seconds= kept), the file names from the JSON path,
 * a ramp's profiles spread over the run, and after a knee only those
 * around it kept (the others' files deleted). Fetching is test_scrape.py's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "load/profile.h"

static struct profiles p;

static void add(const char *url)
{
    char why[256];
    assert_int_equal(profiles_add(&p, url, 0, false, 0, false, true, why, sizeof(why)), 0);
}

static void test_default_placement_and_names(void **state)
{
    (void)state;
    char why[256];
    profiles_init(&p);
    add("http://127.0.0.1:1/debug/pprof/profile");
    add("http://127.0.0.1:1/debug/pprof/heap?gc=1");
    add("http://127.0.0.1:1/debug/pprof/profile?seconds=7");
    assert_int_equal(profiles_plan(&p, 60 * NS_PER_S, "out/run.json", false, why, sizeof(why)), 0);
    assert_true(p.jobs[0].at_ns == 20 * NS_PER_S && p.jobs[0].for_ns == 20 * NS_PER_S);
    assert_string_equal(p.jobs[0].url.path, "/debug/pprof/profile?seconds=20");
    assert_string_equal(p.jobs[1].url.path, "/debug/pprof/heap?gc=1&seconds=20");
    assert_string_equal(p.jobs[2].url.path, "/debug/pprof/profile?seconds=7");
    assert_true(p.jobs[2].for_ns == 7 * NS_PER_S);
    assert_string_equal(p.jobs[0].path, "out/run.profile-1.pb.gz");
    assert_string_equal(p.jobs[2].path, "out/run.profile-3.pb.gz");
    profiles_release(&p);
    profiles_init(&p);
    add("http://127.0.0.1:1/debug/pprof/profile");
    assert_int_equal(profiles_plan(&p, 300 * NS_PER_S, NULL, false, why, sizeof(why)), 0);
    assert_true(p.jobs[0].for_ns == 30 * NS_PER_S); /* a third, at most 30 s */
    assert_string_equal(p.jobs[0].path, "salvo-profile-1.pb.gz");
    profiles_release(&p);
    profiles_init(&p);
    assert_int_equal(profiles_add(&p, "http://127.0.0.1:1/x", 9 * NS_PER_S, true, 0, false, true, why, sizeof(why)), 0);
    assert_int_equal(profiles_plan(&p, 5 * NS_PER_S, "-", false, why, sizeof(why)), -22);
    assert_non_null(strstr(why, "--profile-at"));
    profiles_release(&p);
}

static void test_ramp_keeps_the_knee(void **state)
{
    (void)state;
    char why[256], dir[] = "/tmp/salvo-test-profile-XXXXXX", json[128];
    assert_non_null(mkdtemp(dir));
    snprintf(json, sizeof(json), "%s/r.json", dir);
    profiles_init(&p);
    add("http://127.0.0.1:1/debug/pprof/profile");
    assert_int_equal(profiles_plan(&p, 40 * NS_PER_S, json, true, why, sizeof(why)), 0);
    assert_int_equal(p.n, 4); /* every 10 s (a quarter of 40 s), 9 s each */
    for (size_t i = 0; i < p.n; i++) {
        assert_true(p.jobs[i].at_ns == i * 10 * NS_PER_S && p.jobs[i].for_ns == 9 * NS_PER_S);
        assert_string_equal(p.jobs[i].url.path, "/debug/pprof/profile?seconds=9");
        FILE *f = fopen(p.jobs[i].path, "w");
        assert_non_null(f);
        fclose(f);
        p.jobs[i].ok = true;
    }
    profiles_keep_around(&p, true, 25); /* the knee in the third shot (20-30 s): keep 10, 20 and 30 */
    bool want[] = {false, true, true, true};
    for (size_t i = 0; i < p.n; i++) {
        assert_int_equal(p.jobs[i].kept, want[i]);
        assert_int_equal(access(p.jobs[i].path, F_OK) == 0, want[i]);
        unlink(p.jobs[i].path);
    }
    profiles_release(&p);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_placement_and_names),
        cmocka_unit_test(test_ramp_keeps_the_knee),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
