/*
 * test_targets.c — tests of src/load/targets.c: the vegeta targets format
 * with names and weights, its error messages, and weighted picking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "load/reqgen.h"
#include "load/targets.h"

/* The scratch directory; bodies/thing.json lives in it. */
static char tmp_dir[64];

/* Writes tmp_dir/name and returns its path (static buffer). */
static const char *write_file(const char *name, const char *data)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, strlen(data), f), strlen(data));
    assert_int_equal(fclose(f), 0);
    return path;
}

static void test_parse(void **state)
{
    static const char text[] = "# routes for the demo\n"
                               "\n"
                               "# name=route weight=3\n"
                               "GET http://localhost:8080/api/route?from={from_lat},{from_lng}\n"
                               "Accept: application/json\n"
                               "X-Empty:\n"
                               "\n"
                               "POST http://localhost:8080/api/things\r\n"
                               "Content-Type:application/json\r\n"
                               "@bodies/thing.json\r\n"
                               "\r\n"
                               "\n"
                               "#   weight=0.5   name=del\n"
                               "  DELETE   http://x/y  \n"
                               "Authorization:   Token  DEADBEEF   \n"
                               "# an ordinary comment inside a target\n"
                               "X-Id: {id}";
    struct targets t;
    struct feeder_error err;
    char body_path[128];

    (void)state;
    assert_int_equal(targets_parse(write_file("t.txt", text), &t, &err), 0);
    assert_int_equal(t.count, 3);

    assert_string_equal(t.items[0].name, "route");
    assert_true(t.items[0].weight == 3);
    assert_string_equal(t.items[0].method, "GET");
    assert_string_equal(t.items[0].url, "http://localhost:8080/api/route?from={from_lat},{from_lng}");
    assert_int_equal(t.items[0].nheaders, 2);
    assert_string_equal(t.items[0].headers[0], "Accept: application/json");
    assert_string_equal(t.items[0].headers[1], "X-Empty: ");
    assert_null(t.items[0].body);
    assert_int_equal(t.items[0].line, 4);

    assert_null(t.items[1].name);
    assert_true(t.items[1].weight == 1);
    assert_string_equal(t.items[1].method, "POST");
    assert_int_equal(t.items[1].nheaders, 1);
    assert_string_equal(t.items[1].headers[0], "Content-Type: application/json");
    assert_int_equal(t.items[1].body_len, 20);
    assert_memory_equal(t.items[1].body, "{{\"name\": \"{name}\"}}", 21);
    snprintf(body_path, sizeof(body_path), "%s/bodies/thing.json", tmp_dir);
    assert_string_equal(t.items[1].body_path, body_path);
    assert_int_equal(t.items[1].line, 8);

    assert_string_equal(t.items[2].name, "del");
    assert_true(t.items[2].weight == 0.5);
    assert_string_equal(t.items[2].method, "DELETE");
    assert_string_equal(t.items[2].url, "http://x/y");
    assert_int_equal(t.items[2].nheaders, 2);
    assert_string_equal(t.items[2].headers[0], "Authorization: Token  DEADBEEF");
    assert_string_equal(t.items[2].headers[1], "X-Id: {id}");
    assert_int_equal(t.items[2].line, 14);

    assert_true(t.cumulative[2] == 4.5);
    targets_release(&t);
    targets_release(&t);
    targets_release(NULL);
}

static void test_absolute_body(void **state)
{
    char text[256], body_path[128];
    struct targets t;
    struct feeder_error err;

    (void)state;
    snprintf(body_path, sizeof(body_path), "%s/bodies/thing.json", tmp_dir);
    snprintf(text, sizeof(text), "PUT http://h/x\n@%s\n", body_path);
    assert_int_equal(targets_parse(write_file("abs.txt", text), &t, &err), 0);
    assert_int_equal(t.count, 1);
    assert_string_equal(t.items[0].body_path, body_path);
    assert_int_equal(t.items[0].body_len, 20);
    targets_release(&t);
}

/* A targets file that must be refused, where, and how (message end). */
struct bad_case {
    const char *text;
    int rc;
    size_t line;
    const char *msg;
};

static void test_errors(void **state)
{
    /* clang-format off */
    static const struct bad_case cases[] = {
        {"get http://x\n", -EINVAL, 1, "expected 'METHOD URL' (method in upper case), not 'get http://x'"},
        {"\n\nGET\n", -EINVAL, 3, "expected 'METHOD URL' (method in upper case), not 'GET'"},
        {"GET http://x extra\n", -EINVAL, 1, "not 'GET http://x extra'"},
        {"GET http://x\nBad header\n", -EINVAL, 2,
         "expected 'Name: value' header, '@file' or a blank line, not 'Bad header'"},
        {"GET http://x\nX: 1\nGET http://y\n", -EINVAL, 3, "not 'GET http://y'"},
        {"GET http://x\n: v\n", -EINVAL, 2, "not ': v'"},
        {"GET http://x\n@thing.json\nX: 1\n", -EINVAL, 3, "only a blank line may follow the '@file' line"},
        {"GET http://x\n@\n", -EINVAL, 2, "'@' needs a file name"},
        {"GET http://x\n@nope.json\n", -ENOENT, 2, "/nope.json': no such file or directory"},
        {"GET http://x\n@.\n", -EINVAL, 2, "/.': not a regular file"},
        {"@thing.json\n", -EINVAL, 1, "expected 'METHOD URL' (method in upper case), not '@thing.json'"},
        {"# name=a\n\nGET http://x\n", -EINVAL, 2, "a name/weight comment must come directly before its target"},
        {"# name=a\n# other\nGET http://x\n", -EINVAL, 2,
         "a name/weight comment must come directly before its target"},
        {"# weight=0\nGET http://x\n", -EINVAL, 1, "weight must be a positive number, not '0'"},
        {"# weight=abc\nGET http://x\n", -EINVAL, 1, "weight must be a positive number, not 'abc'"},
        {"# weight=inf\nGET http://x\n", -EINVAL, 1, "weight must be a positive number, not 'inf'"},
        {"# weight=\nGET http://x\n", -EINVAL, 1, "weight must be a positive number, not ''"},
        {"# name=a foo=1\nGET http://x\n", -EINVAL, 1,
         "'foo=1': a name/weight comment takes name=NAME and weight=W once each"},
        {"# name=a name=b\nGET http://x\n", -EINVAL, 1, "'name=b': a name/weight comment takes"
                                                        " name=NAME and weight=W once each"},
        {"# name=a\n# weight=2\nGET http://x\n", -EINVAL, 2, "two name/weight comments for one target"},
        {"GET http://x\n# name=b\nGET http://y\n", -EINVAL, 2, "a blank line must come before a name/weight comment"},
        {"GET http://x\n\n# name=a\n", -EINVAL, 3, "a name/weight comment has no target after it"},
    };
    /* clang-format on */

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct bad_case *c = &cases[i];
        struct targets t;
        struct feeder_error err;
        char prefix[128];
        const char *path = write_file("bad.txt", c->text);
        int rc = targets_parse(path, &t, &err);
        size_t n = strlen(err.msg), m = strlen(c->msg);
        snprintf(prefix, sizeof(prefix), "'%s' line %zu: ", path, c->line);
        if (rc != c->rc || err.line != c->line || strncmp(err.msg, prefix, strlen(prefix)) != 0 || n < m ||
            strcmp(err.msg + n - m, c->msg) != 0)
            fail_msg("case %zu: rc %d line %zu '%s', want rc %d line %zu '...%s'", i, rc, err.line, err.msg, c->rc,
                     c->line, c->msg);
        assert_null(t.items);
        targets_release(&t);
    }
}

static void test_no_targets(void **state)
{
    static const char *const texts[] = {"", "\n\n", "# just a comment\n\n# another\n"};
    struct targets t;
    struct feeder_error err;
    char want[300];

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        const char *path = write_file("none.txt", texts[i]);
        assert_int_equal(targets_parse(path, &t, &err), -EINVAL);
        snprintf(want, sizeof(want), "'%s' has no targets", path);
        assert_string_equal(err.msg, want);
    }
    assert_int_equal(targets_parse("/nonexistent/t.txt", &t, &err), -ENOENT);
    assert_string_equal(err.msg, "cannot read '/nonexistent/t.txt': no such file or directory");
}

/*
 * Builds the generator the binary builds from a parsed targets file
 * (run_cli.c: one reqgen_spec per target, its weight kept) so that the
 * draw tested is the one that runs: reqgen_pick.
 */
static void gen_from_targets(struct reqgen *g, const struct targets *t, uint64_t seed)
{
    static const char *const paths[] = {"/a", "/b", "/c"};
    struct reqgen_spec specs[3];
    char why[256];

    assert_true(t->count <= 3);
    for (size_t i = 0; i < t->count; i++)
        specs[i] = (struct reqgen_spec){.method = t->items[i].method, .path = paths[i], .weight = t->items[i].weight};
    if (reqgen_init(g, specs, t->count, NULL, PICK_SEQ, seed, 1, "h", 16, why, sizeof(why)) < 0)
        fail_msg("reqgen_init: %s", why);
}

static void test_pick(void **state)
{
    enum { PICKS = 100000 };
    static const char text[] = "# weight=1\nGET http://h/a\n\n# weight=2\nGET http://h/b\n\n"
                               "# weight=7\nGET http://h/c\n";
    static const double share[] = {0.1, 0.2, 0.7};
    struct targets t;
    struct feeder_error err;
    struct reqgen g, same, other;
    unsigned count[3] = {0};
    int differ = 0;

    (void)state;
    assert_int_equal(targets_parse(write_file("w.txt", text), &t, &err), 0);
    gen_from_targets(&g, &t, 42);
    gen_from_targets(&same, &t, 42);
    gen_from_targets(&other, &t, 43);
    for (uint64_t i = 0; i < PICKS; i++) {
        size_t k = reqgen_pick(&g, i);
        assert_true(k < 3);
        assert_int_equal(k, reqgen_pick(&same, i)); /* a pure function of (seed, index) */
        differ += k != reqgen_pick(&other, i);
        count[k]++;
    }
    for (int k = 0; k < 3; k++) {
        double got = (double)count[k] / PICKS;
        if (got < share[k] - 0.01 || got > share[k] + 0.01) fail_msg("target %d: %.4f, want %.2f", k, got, share[k]);
    }
    assert_true(differ > PICKS / 4); /* the seed changes the draws */
    reqgen_release(&g);
    reqgen_release(&same);
    reqgen_release(&other);
    targets_release(&t);

    assert_int_equal(targets_parse(write_file("one.txt", "GET http://h/\n"), &t, &err), 0);
    gen_from_targets(&g, &t, 7);
    for (uint64_t i = 0; i < 100; i++)
        assert_int_equal(reqgen_pick(&g, i), 0);
    reqgen_release(&g);
    targets_release(&t);
}

static int setup(void **state)
{
    char dir[128];
    (void)state;
    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/test_targets.XXXXXX");
    if (!mkdtemp(tmp_dir)) return -1;
    snprintf(dir, sizeof(dir), "%s/bodies", tmp_dir);
    if (mkdir(dir, 0700) != 0) return -1;
    write_file("bodies/thing.json", "{{\"name\": \"{name}\"}}");
    write_file("thing.json", "{}");
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Found by fuzz_targets: a NUL cut "GET http://x/<NUL>junk" to the URL "http://x/". */
static void test_nul_refused(void **state)
{
    static const char text[] = "GET http://x/\0junk\n";
    char path[128];
    struct targets t;
    struct feeder_error err;

    (void)state;
    snprintf(path, sizeof(path), "%s/nul.txt", tmp_dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, sizeof(text) - 1, f), sizeof(text) - 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(targets_parse(path, &t, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "line 1: a NUL byte in the line"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),      cmocka_unit_test(test_absolute_body), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_no_targets), cmocka_unit_test(test_pick),          cmocka_unit_test(test_nul_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
