/*
 * test_template.c — tests of src/http/template.c: syntax, compile errors,
 * the escaping of each mode, and rendering into buffers that are too small.
 *
 * Every render is repeated with every capacity below the output length
 * (each must give -ENOSPC) and checked against guard bytes past the
 * capacity, so no size ever writes outside the caller's buffer.
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
#include <unistd.h>

#include "http/template.h"
#include "load/feeder.h"

/* The data every render reads: row 0 holds the awkward values. */
static const char csv_data[] =
    "q,path,hdr,js,n,esc,ctl\n"
    "\"a b&c=d+e/\xc3\xa9?~._-\",dir/sub file,\"x\r\ny\tz\",\"say \"\"hi\"\"\n\\\",42,\"q\"\"uote\",a\x01"
    "b\n"
    "plain,p,h,j,7,e,c\n";

static const char jsonl_data[] = "{\"city\":\"Z\\u00fcrich\",\"id\":\"a\\/b\"}\n";

/* Paths of the two data files and the scratch directory. */
static char tmp_dir[64], csv_path[128], jsonl_path[128];

/* Writes a file of the given contents. */
static void write_file(const char *path, const char *data)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, strlen(data), f), strlen(data));
    assert_int_equal(fclose(f), 0);
}

/* True if text has a '{' that is not half of "{{". */
static bool has_placeholder(const char *text)
{
    for (const char *p = text; *p; p++) {
        if (p[0] == '{' && p[1] == '{')
            p++;
        else if (p[0] == '{')
            return true;
    }
    return false;
}

/* A template, where it goes, a row, and what it must render to. */
struct render_case {
    const char *text;
    enum tpl_escape mode;
    size_t row;
    const char *want;
    bool jsonl;
};

/* Renders at every capacity from 0 to the full length and checks. */
static void check_render(const struct template *t, const struct row_source *f, const struct render_case *c)
{
    size_t want = strlen(c->want);
    char *buf = malloc(want + 16);
    for (size_t cap = 0; cap <= want; cap++) {
        memset(buf, '#', want + 16);
        ssize_t n = template_render(t, f, c->row, buf, cap);
        for (size_t i = cap; i < want + 16; i++)
            if (buf[i] != '#') fail_msg("'%s': cap %zu: byte %zu written", c->text, cap, i);
        if (cap < want && n != -ENOSPC) fail_msg("'%s': cap %zu: got %zd, want -ENOSPC", c->text, cap, n);
        if (cap == want && (n != (ssize_t)want || memcmp(buf, c->want, want) != 0))
            fail_msg("'%s': got %zd '%.*s', want '%s'", c->text, n, (int)(n > 0 ? n : 0), buf, c->want);
    }
    assert_true(template_max_len(t, f) >= want);
    free(buf);
}

static void test_render(void **state)
{
    /* clang-format off */
    static const struct render_case cases[] = {
        {"/api/{path}?q={q}&n={n}", TPL_URL, 0,
         "/api/dir/sub%20file?q=a%20b%26c%3Dd%2Be%2F%C3%A9%3F~._-&n=42", false},
        {"http://h:80/x/{esc}?v={esc}#{n}", TPL_URL, 0, "http://h:80/x/q%22uote?v=q%22uote#42", false},
        {"HTTPS://h/{n}", TPL_URL, 1, "HTTPS://h/7", false},
        {"/a{{b}}/{n}", TPL_URL, 0, "/a{b}/42", false},
        {"/{q}", TPL_URL, 1, "/plain", false},
        {"X-Note: {hdr}", TPL_HEADER, 0, "X-Note: x  y\tz", false},
        {"{ctl}", TPL_HEADER, 0, "a b", false},
        {"{{\"msg\":\"{js}\",\"n\":{n}}}", TPL_JSON, 0, "{\"msg\":\"say \\\"hi\\\"\\n\\\\\",\"n\":42}", false},
        {"[\"{ctl}\",\"{esc}\",\"{hdr}\"]", TPL_JSON, 0, "[\"a\\u0001b\",\"q\\\"uote\",\"x\\r\\ny\\tz\"]", false},
        {"{js}|{esc}|{q}", TPL_RAW, 0, "say \"hi\"\n\\|q\"uote|a b&c=d+e/\xc3\xa9?~._-", false},
        {"{n}{n}{n}", TPL_RAW, 1, "777", false},
        {"GET /static", TPL_URL, 0, "GET /static", false},
        {"", TPL_RAW, 0, "", false},
        {"{{}}", TPL_RAW, 0, "{}", false},
        {"/c/{city}?city={city}&id={id}", TPL_URL, 0, "/c/Z%C3%BCrich?city=Z%C3%BCrich&id=a%2Fb", true},
        {"{city}", TPL_JSON, 0, "Z\xc3\xbcrich", true},
    };
    /* clang-format on */
    struct feeder csv, jsonl;
    struct feeder_error ferr;

    (void)state;
    assert_int_equal(feeder_open(&csv, csv_path, &ferr), 0);
    assert_int_equal(feeder_open(&jsonl, jsonl_path, &ferr), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct render_case *c = &cases[i];
        const struct row_source *f = feeder_source(c->jsonl ? &jsonl : &csv);
        struct template t;
        struct template_error err;
        int rc = template_compile(&t, c->text, strlen(c->text), c->mode, f, &err);
        if (rc != 0) fail_msg("'%s': rc %d: %s", c->text, rc, err.msg);
        assert_int_equal(template_is_static(&t), !has_placeholder(c->text));
        check_render(&t, f, c);
        template_release(&t);
    }
    feeder_release(&csv);
    feeder_release(&jsonl);
}

static void test_static(void **state)
{
    struct template t;
    struct template_error err;
    char out[32];

    (void)state;
    assert_int_equal(template_compile(&t, "/health?x={{y}}", 15, TPL_URL, NULL, &err), 0);
    assert_true(template_is_static(&t));
    assert_int_equal(template_render(&t, NULL, 0, out, sizeof(out)), 13);
    assert_memory_equal(out, "/health?x={y}", 13);
    assert_int_equal(template_max_len(&t, NULL), 13);
    template_release(&t);
    template_release(&t);
    template_release(NULL);
}

/* A template that must not compile. */
struct error_case {
    const char *text;
    enum tpl_escape mode;
    int rc;
    size_t offset;
    const char *msg; /* err.msg must start with this */
    const char *column;
};

static void test_compile_errors(void **state)
{
    /* clang-format off */
    static const struct error_case cases[] = {
        {"/r?to={to_lat}", TPL_URL, -ENOENT, 6, "template uses column 'to_lat' that '", "to_lat"},
        {"{n", TPL_RAW, -EINVAL, 0, "unbalanced '{' at byte 1 (write '{{' for a literal brace)", ""},
        {"ab}", TPL_RAW, -EINVAL, 2, "unbalanced '}' at byte 3 (write '}}' for a literal brace)", ""},
        {"x{}", TPL_RAW, -EINVAL, 1, "empty placeholder '{}' at byte 2", ""},
        {"{a{n}}", TPL_RAW, -EINVAL, 0, "unbalanced '{' at byte 1", ""},
        {"{n\n}", TPL_RAW, -EINVAL, 0, "unbalanced '{' at byte 1", ""},
        {"{{\"a\": {\"b\": 1}}}", TPL_JSON, -EINVAL, 7, "unbalanced '{' at byte 8", ""},
        {"{N}", TPL_RAW, -ENOENT, 0, "template uses column 'N'", "N"},
        {"{ n }", TPL_RAW, -ENOENT, 0, "template uses column ' n '", " n "},
        {"http://{n}/x", TPL_URL, -EINVAL, 7, "a placeholder at byte 8 is in the URL's scheme or host", ""},
        {"https://h:{n}/x", TPL_URL, -EINVAL, 10, "a placeholder at byte 11 is in the URL's scheme or host", ""},
    };
    /* clang-format on */
    struct feeder f;
    struct feeder_error ferr;

    (void)state;
    assert_int_equal(feeder_open(&f, csv_path, &ferr), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct error_case *c = &cases[i];
        struct template t;
        struct template_error err;
        int rc = template_compile(&t, c->text, strlen(c->text), c->mode, feeder_source(&f), &err);
        if (rc != c->rc || err.offset != c->offset || strncmp(err.msg, c->msg, strlen(c->msg)) != 0 ||
            strcmp(err.column, c->column) != 0)
            fail_msg("'%s': rc %d offset %zu '%s' column '%s'", c->text, rc, err.offset, err.msg, err.column);
        assert_null(t.parts);
        template_release(&t);
    }
    struct template t;
    struct template_error err;
    char want[300];
    snprintf(want, sizeof(want), "template uses column 'to_lat' that '%s' lacks", csv_path);
    assert_int_equal(template_compile(&t, "{to_lat}", 8, TPL_URL, feeder_source(&f), &err), -ENOENT);
    assert_string_equal(err.msg, want);
    assert_int_equal(template_compile(&t, "{n}", 3, TPL_URL, NULL, &err), -ENOENT);
    assert_string_equal(err.msg, "template uses column 'n' but there is no data file");
    feeder_release(&f);
}

/* A value that must be decoded but does not fit gives -ENOSPC too. */
static void test_decoded_too_big(void **state)
{
    struct feeder f;
    struct feeder_error ferr;
    struct template t;
    struct template_error err;
    char out[64];

    (void)state;
    assert_int_equal(feeder_open(&f, csv_path, &ferr), 0);
    assert_int_equal(template_compile(&t, "{esc}", 5, TPL_RAW, feeder_source(&f), &err), 0);
    assert_false(template_is_static(&t));
    assert_int_equal(template_render(&t, feeder_source(&f), 0, out, 5), -ENOSPC);
    assert_int_equal(template_render(&t, feeder_source(&f), 0, out, 6), 6);
    assert_int_equal(template_render(&t, feeder_source(&f), 2, out, sizeof(out)), -ERANGE);
    assert_int_equal(template_render(&t, NULL, 0, out, sizeof(out)), -ERANGE);
    template_release(&t);
    feeder_release(&f);
}

/* A row source that is not a feeder: two columns, two rows, in memory. */
struct mem_table {
    struct row_source source;
    const char *names[2];
    const char *cells[2][2];
};

static const struct mem_table *mem_of(const struct row_source *src)
{
    return (const struct mem_table *)((const char *)src - offsetof(struct mem_table, source));
}

static int mem_column(const struct row_source *src, const char *name)
{
    for (int i = 0; i < 2; i++)
        if (strcmp(mem_of(src)->names[i], name) == 0) return i;
    return -1;
}

static size_t mem_max_len(const struct row_source *src, int col)
{
    size_t n = 0;
    for (int r = 0; r < 2; r++)
        if (strlen(mem_of(src)->cells[r][col]) > n) n = strlen(mem_of(src)->cells[r][col]);
    return n;
}

static const char *mem_name(const struct row_source *src)
{
    (void)src;
    return "memory";
}

static int mem_field(const struct row_source *src, size_t row, int col, char *buf, size_t cap, const char **val,
                     size_t *len)
{
    (void)buf, (void)cap;
    if (row >= 2 || col < 0 || col >= 2) return -ERANGE;
    *val = mem_of(src)->cells[row][col];
    *len = strlen(*val);
    return 0;
}

/* The templates need nothing of the feeder: any struct row_source will do. */
static void test_other_source(void **state)
{
    static const struct row_source_ops ops = {mem_column, mem_max_len, mem_name, mem_field};
    const struct mem_table table = {{&ops}, {"city", "n"}, {{"san jose", "1"}, {"a&b", "22"}}};
    struct template t;
    struct template_error err;
    char out[64];

    (void)state;
    assert_int_equal(template_compile(&t, "/c/{city}?n={n}", 15, TPL_URL, &table.source, &err), 0);
    ssize_t n = template_render(&t, &table.source, 1, out, sizeof(out));
    assert_int_equal(n, (ssize_t)strlen("/c/a%26b?n=22"));
    assert_memory_equal(out, "/c/a%26b?n=22", (size_t)n);
    assert_true(template_max_len(&t, &table.source) >= strlen("/c/san%20jose?n=22"));
    template_release(&t);
    assert_int_equal(template_compile(&t, "{x}", 3, TPL_RAW, &table.source, &err), -ENOENT);
    assert_string_equal(err.msg, "template uses column 'x' that 'memory' lacks");
}

static void test_body_mode(void **state)
{
    /* clang-format off */
    static const struct {
        const char *type, *body;
        enum tpl_escape mode;
    } cases[] = {
        {"application/json", "x", TPL_JSON},
        {"Application/JSON; charset=utf-8", "x", TPL_JSON},
        {"application/vnd.api+json", "x", TPL_JSON},
        {"text/plain", "{{\"a\":1}}", TPL_RAW},
        {"application/jsonx", "{{", TPL_RAW},
        {NULL, " \n {{\"a\": \"{n}\"}}", TPL_JSON},
        {NULL, "[1, {n}]", TPL_JSON},
        {NULL, "{n}", TPL_RAW},
        {NULL, "a={n}", TPL_RAW},
        {NULL, "", TPL_RAW},
    };
    /* clang-format on */

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (template_body_mode(cases[i].type, cases[i].body, strlen(cases[i].body)) != cases[i].mode)
            fail_msg("case %zu: '%s' '%s'", i, cases[i].type ? cases[i].type : "(none)", cases[i].body);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/test_template.XXXXXX");
    if (!mkdtemp(tmp_dir)) return -1;
    snprintf(csv_path, sizeof(csv_path), "%s/data.csv", tmp_dir);
    snprintf(jsonl_path, sizeof(jsonl_path), "%s/data.jsonl", tmp_dir);
    write_file(csv_path, csv_data);
    write_file(jsonl_path, jsonl_data);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(csv_path);
    unlink(jsonl_path);
    return rmdir(tmp_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),          cmocka_unit_test(test_static),    cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_decoded_too_big), cmocka_unit_test(test_body_mode), cmocka_unit_test(test_other_source),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
