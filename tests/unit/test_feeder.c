/*
 * test_feeder.c — tests of src/load/feeder.c: CSV and JSON Lines parsing,
 * error messages with line numbers, zero-copy and decoded reads, a 1M-row
 * load, and the row picker.
 *
 * Every valid case is read back through feeder_field twice: once with a
 * buffer of exactly feeder_column_max_len bytes (which must always be
 * enough) and once with a 1-byte buffer (which must give -ENOSPC exactly
 * for values that need decoding, and otherwise a pointer into the map).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "load/feeder.h"

#define MAX_COLS 6
#define MAX_CELLS 24

/* A scratch directory for the files of one test program. */
static char tmp_dir[64];

/* Writes len bytes to tmp_dir/name and returns the path (static buffer). */
static const char *write_file(const char *name, const char *data, size_t len)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* A file that must load, and what it must hold (cells row by row). */
struct valid_case {
    const char *file, *data;
    size_t rows, ncols;
    const char *names[MAX_COLS];
    const char *cells[MAX_CELLS];
    enum feeder_format format;
};

/* Reads every cell of a valid case and compares it with the table. */
static void check_cells(const struct feeder *f, const struct valid_case *c)
{
    for (size_t r = 0; r < c->rows; r++) {
        for (size_t col = 0; col < c->ncols; col++) {
            const char *want = c->cells[r * c->ncols + col], *val = NULL;
            size_t cap = feeder_column_max_len(f, (int)col), len = 0;
            char *buf = malloc(cap + 1), tiny[1];
            assert_int_equal(feeder_field(f, r, (int)col, buf, cap, &val, &len), 0);
            if (len != strlen(want) || memcmp(val, want, len) != 0)
                fail_msg("%s row %zu col %zu: got '%.*s', want '%s'", c->file, r, col, (int)len, val, want);
            bool in_map = val >= f->map && val < f->map + f->map_len;
            int rc = feeder_field(f, r, (int)col, tiny, 0, &val, &len);
            if (in_map || len == 0)
                assert_int_equal(rc, 0);
            else
                assert_int_equal(rc, -ENOSPC);
            free(buf);
        }
    }
}

static void test_valid(void **state)
{
    /* clang-format off */
    static const struct valid_case cases[] = {
        {"plain.csv", "a,b\n1,2\n3,4\n", 2, 2, {"a", "b"}, {"1", "2", "3", "4"}, FEEDER_CSV},
        {"quotes.csv", "name,note\n\"Smith, J\",\"said \"\"hi\"\"\"\n", 1, 2, {"name", "note"},
         {"Smith, J", "said \"hi\""}, FEEDER_CSV},
        {"newline.csv", "a,b\n\"line1\nline2\",x\n", 1, 2, {"a", "b"}, {"line1\nline2", "x"}, FEEDER_CSV},
        {"crlf.csv", "a,b\r\n1,2\r\n3,4\r\n", 2, 2, {"a", "b"}, {"1", "2", "3", "4"}, FEEDER_CSV},
        {"crlf-quoted.csv", "a\r\n\"x\r\ny\"\r\n", 1, 1, {"a"}, {"x\r\ny"}, FEEDER_CSV},
        {"empty.csv", "a,b,c\n,,\n1,,3\n\"\",\"\",\"\"\n", 3, 3, {"a", "b", "c"},
         {"", "", "", "1", "", "3", "", "", ""}, FEEDER_CSV},
        {"no-final.csv", "a,b\n1,2", 1, 2, {"a", "b"}, {"1", "2"}, FEEDER_CSV},
        {"final-cr.csv", "a,b\n1,2\r", 1, 2, {"a", "b"}, {"1", "2"}, FEEDER_CSV},
        {"blank.csv", "\n\na,b\n\n1,2\n\r\n\n3,4\n\n", 2, 2, {"a", "b"}, {"1", "2", "3", "4"}, FEEDER_CSV},
        {"bom.csv", "\xef\xbb\xbf" "a,b\n1,2\n", 1, 2, {"a", "b"}, {"1", "2"}, FEEDER_CSV},
        {"qhead.csv", "\"from, lat\",\"a\"\"b\"\n1,2\n", 1, 2, {"from, lat", "a\"b"}, {"1", "2"}, FEEDER_CSV},
        {"lone-cr.csv", "a,b\n1\r2,3\n", 1, 2, {"a", "b"}, {"1\r2", "3"}, FEEDER_CSV},
        {"mid-quote.csv", "a\nab\"c\n", 1, 1, {"a"}, {"ab\"c"}, FEEDER_CSV},
        {"utf8.csv", "city\nZ\xc3\xbcrich\n", 1, 1, {"city"}, {"Z\xc3\xbcrich"}, FEEDER_CSV},
        {"sniff.txt", "a,b\n1,2\n", 1, 2, {"a", "b"}, {"1", "2"}, FEEDER_CSV},
        {"types.jsonl", "{\"s\":\"x\",\"n\":-1.5e3,\"t\":true,\"f\":false,\"z\":null,\"i\":0}\n", 1, 6,
         {"s", "n", "t", "f", "z", "i"}, {"x", "-1.5e3", "true", "false", "", "0"}, FEEDER_JSONL},
        {"esc.jsonl", "{\"s\": \"a\\nb \\\"q\\\" \\u00e9 \\ud83d\\ude00 \\\\ \\/ \\t\"}\n", 1, 1, {"s"},
         {"a\nb \"q\" \xc3\xa9 \xf0\x9f\x98\x80 \\ / \t"}, FEEDER_JSONL},
        {"union.jsonl", "{\"a\":1}\n{\"b\":2, \"a\":3}\n", 2, 2, {"a", "b"}, {"1", "", "3", "2"}, FEEDER_JSONL},
        {"spaces.ndjson", "\n  { \"a\" : \"x\" , \"b\" : 2 }  \r\n\r\n{}\n", 2, 2, {"a", "b"},
         {"x", "2", "", ""}, FEEDER_JSONL},
        {"key-esc.jsonl", "{\"k\\u0065y\":\"v\",\"e\":\"\"}", 1, 2, {"key", "e"}, {"v", ""}, FEEDER_JSONL},
        {"sniff.data", " {\"a\":\"1\"}\n", 1, 1, {"a"}, {"1"}, FEEDER_JSONL},
    };
    /* clang-format on */

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct valid_case *c = &cases[i];
        struct feeder f;
        struct feeder_error err;
        int rc = feeder_open(&f, write_file(c->file, c->data, strlen(c->data)), &err);
        if (rc != 0) fail_msg("%s: rc %d: %s", c->file, rc, err.msg);
        assert_int_equal(f.format, c->format);
        assert_int_equal(feeder_rows(&f), c->rows);
        assert_int_equal(feeder_columns(&f), c->ncols);
        for (size_t col = 0; col < c->ncols; col++) {
            assert_string_equal(feeder_column_name(&f, (int)col), c->names[col]);
            assert_int_equal(feeder_column(&f, c->names[col]), (int)col);
        }
        check_cells(&f, c);
        feeder_release(&f);
    }
}

/* A file that must not load, and the end of the message it must give. */
struct invalid_case {
    const char *file, *data;
    size_t line;
    const char *msg; /* err.msg must end with this */
};

static void test_invalid(void **state)
{
    /* clang-format off */
    static const struct invalid_case cases[] = {
        {"unterminated.csv", "a,b\n1,2\n\"open,3\n4,5\n", 3, "line 3: unterminated quote"},
        {"ragged.csv", "a,b,c,d\n1,2,3,4\n1,2,3,4\n1,2,3,4,5\n", 4, "line 4: 5 fields, header has 4"},
        {"short.csv", "a,b\n\"x\ny\",1\n\n1\n", 5, "line 5: 1 field, header has 2"},
        {"after-quote.csv", "a,b\n\"x\"y,1\n", 2, "line 2: text after a closing quote"},
        {"empty.csv", "", 0, "empty.csv' is empty"},
        {"header-only.csv", "a,b\n", 0, "header-only.csv' has a header but no rows"},
        {"blank-only.csv", "\n\r\n\n", 0, "blank-only.csv' has no header row"},
        {"dup.csv", "a,b,a\n1,2,3\n", 1, "line 1: column 'a' appears twice"},
        {"nested.jsonl", "{\"a\":1}\n\n{\"a\":{\"b\":2}}\n", 3,
         "line 3: 'a' holds an object or array; values must be flat"},
        {"array.jsonl", "{\"a\":1, \"list\":[1,2]}\n", 1, "line 1: 'list' holds an object or array; values must be flat"},
        {"not-object.jsonl", "[1,2]\n", 1, "line 1: expected a JSON object"},
        {"unterminated.jsonl", "{\"a\":\"x}\n{\"a\":1}\n", 1, "line 1: unterminated string"},
        {"bad-escape.jsonl", "{\"a\":1}\n{\"a\":\"\\x\"}\n", 2, "line 2: bad escape in a string"},
        {"surrogate.jsonl", "{\"a\":\"\\ud800x\"}\n", 1, "line 1: bad escape in a string"},
        {"trailing-comma.jsonl", "{\"a\":1,}\n", 1, "line 1: expected a quoted key"},
        {"dup-key.jsonl", "{\"a\":1,\"a\":2}\n", 1, "line 1: key 'a' appears twice"},
        {"after.jsonl", "{\"a\":1} x\n", 1, "line 1: text after the object"},
        {"number.jsonl", "{\"a\":01}\n", 1, "line 1: expected ',' or '}'"},
        {"minus.jsonl", "{\"a\":-}\n", 1, "line 1: expected a string, number, true, false or null"},
        {"word.jsonl", "{\"a\":nope}\n", 1, "line 1: expected a string, number, true, false or null"},
        {"control.jsonl", "{\"a\":\"x\ty\"}\n", 1, "line 1: raw control character in a string"},
        {"two-lines.jsonl", "{\"a\":1,\n\"b\":2}\n", 1, "line 1: expected a quoted key"},
        {"no-rows.jsonl", "\n \n", 0, "no-rows.jsonl' has no rows"},
    };
    /* clang-format on */

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct invalid_case *c = &cases[i];
        struct feeder f;
        struct feeder_error err;
        int rc = feeder_open(&f, write_file(c->file, c->data, strlen(c->data)), &err);
        size_t n = strlen(err.msg), m = strlen(c->msg);
        if (rc != -EINVAL || err.line != c->line || n < m || strcmp(err.msg + n - m, c->msg) != 0)
            fail_msg("%s: rc %d line %zu '%s', want line %zu '...%s'", c->file, rc, err.line, err.msg, c->line, c->msg);
        assert_null(f.map);
        feeder_release(&f);
    }
}

static void test_unreadable(void **state)
{
    struct feeder f;
    struct feeder_error err;
    char msg[300];

    (void)state;
    assert_int_equal(feeder_open(&f, "/nonexistent/trips.csv", &err), -ENOENT);
    assert_string_equal(err.msg, "cannot read '/nonexistent/trips.csv': no such file or directory");
    assert_int_equal(feeder_open(&f, tmp_dir, &err), -EINVAL);
    snprintf(msg, sizeof(msg), "cannot read '%s': not a regular file", tmp_dir);
    assert_string_equal(err.msg, msg);
    feeder_release(NULL);
}

/* Reads stay inside a file that ends exactly at a page boundary. */
static void test_page_end(void **state)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *data = malloc(page);
    struct feeder f;
    struct feeder_error err;
    const char *val;
    size_t len;
    char buf[8];

    (void)state;
    for (int quoted = 0; quoted < 2; quoted++) {
        memset(data, 'x', page);
        memcpy(data, "a,b\n1,", 6);
        if (quoted) data[6] = '"', data[page - 1] = '"';
        assert_int_equal(feeder_open(&f, write_file("page.csv", data, page), &err), 0);
        assert_int_equal(feeder_field(&f, 0, 1, buf, sizeof(buf), &val, &len), 0);
        assert_int_equal(len, quoted ? page - 8 : page - 6);
        feeder_release(&f);
    }
    free(data);
}

static void test_field_range(void **state)
{
    struct feeder f;
    struct feeder_error err;
    const char *val;
    size_t len;
    char buf[8];

    (void)state;
    assert_int_equal(feeder_open(&f, write_file("r.csv", "a\n1\n", 4), &err), 0);
    assert_int_equal(feeder_field(&f, 1, 0, buf, sizeof(buf), &val, &len), -ERANGE);
    assert_int_equal(feeder_field(&f, 0, 1, buf, sizeof(buf), &val, &len), -ERANGE);
    assert_int_equal(feeder_field(&f, 0, -1, buf, sizeof(buf), &val, &len), -ERANGE);
    assert_int_equal(feeder_column(&f, "A"), -1);
    assert_null(feeder_column_name(&f, 1));
    assert_int_equal(feeder_column_max_len(&f, 7), 0);
    feeder_release(&f);
    feeder_release(&f);
}

/* ---- Round trips against a simple model ---------------------------------- */

enum { RT_ROWS = 300, RT_COLS = 4, RT_VALUE_MAX = 12 };

/* A table of random values: the model a round trip must reproduce. */
struct table {
    char cell[RT_ROWS][RT_COLS][RT_VALUE_MAX * 2 + 1];
};

/* Fills t with short values drawn from bytes that CSV and JSON must escape. */
static void table_fill(struct table *t, unsigned seed)
{
    static const char *const atoms[] = {
        "a", "Z", "0", ",", "\"", "\n", "\r", " ", "\t", "\\", "/", "{", "\xc3\xa9", "\xf0\x9f\x98\x80", "\r\n", ""};
    srand(seed);
    for (int r = 0; r < RT_ROWS; r++)
        for (int c = 0; c < RT_COLS; c++) {
            char *v = t->cell[r][c];
            v[0] = '\0';
            for (int k = rand() % RT_VALUE_MAX; k > 0; k--)
                strcat(v, atoms[rand() % (int)(sizeof(atoms) / sizeof(atoms[0]))]);
        }
}

/* Appends v to out as a CSV field, quoting when needed (and sometimes not). */
static size_t csv_put(char *out, const char *v)
{
    bool quote = strpbrk(v, ",\"\r\n") != NULL || v[0] == '\0' || rand() % 4 == 0;
    size_t n = 0;
    if (quote) out[n++] = '"';
    for (const char *p = v; *p; p++) {
        if (quote && *p == '"') out[n++] = '"';
        out[n++] = *p;
    }
    if (quote) out[n++] = '"';
    return n;
}

/* Appends v to out as a JSON string, escaping at random where allowed. */
static size_t json_put(char *out, const char *v)
{
    size_t n = 0;
    out[n++] = '"';
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            n += (size_t)sprintf(out + n, "\\%c", *p);
        else if (*p < 0x20 || (*p < 0x80 && rand() % 8 == 0))
            n += (size_t)sprintf(out + n, "\\u%04x", *p);
        else if (*p == 0xc3 && p[1] == 0xa9 && rand() % 2)
            n += (size_t)sprintf(out + n, "\\u00E9"), p++;
        else if (*p == 0xf0 && rand() % 2)
            n += (size_t)sprintf(out + n, "\\ud83d\\ude00"), p += 3;
        else
            out[n++] = (char)*p;
    }
    out[n++] = '"';
    return n;
}

/* Writes t as CSV or JSONL, loads it and compares every value. */
static void round_trip(const struct table *t, bool jsonl, unsigned seed)
{
    char *data = malloc(RT_ROWS * RT_COLS * RT_VALUE_MAX * 16 + 256), *val_buf = NULL;
    size_t n = 0;
    struct feeder f;
    struct feeder_error err;

    srand(seed);
    if (!jsonl) n += (size_t)sprintf(data, "c0,c1,\"c\"\"2\",c3\r\n");
    for (int r = 0; r < RT_ROWS; r++) {
        if (jsonl) data[n++] = '{';
        for (int c = 0; c < RT_COLS; c++) {
            if (c) data[n++] = ',';
            if (jsonl) n += (size_t)sprintf(data + n, c == 2 ? "\"c\\\"2\": " : "\"c%d\":", c);
            n += jsonl ? json_put(data + n, t->cell[r][c]) : csv_put(data + n, t->cell[r][c]);
        }
        if (jsonl) data[n++] = '}';
        if (r + 1 < RT_ROWS || rand() % 2) n += (size_t)sprintf(data + n, rand() % 2 ? "\r\n" : "\n");
    }
    int rc = feeder_open(&f, write_file(jsonl ? "rt.jsonl" : "rt.csv", data, n), &err);
    if (rc != 0) fail_msg("seed %u: %s", seed, err.msg);
    assert_int_equal(feeder_rows(&f), RT_ROWS);
    assert_int_equal(feeder_column(&f, "c\"2"), 2);
    for (int r = 0; r < RT_ROWS; r++)
        for (int c = 0; c < RT_COLS; c++) {
            size_t cap = feeder_column_max_len(&f, c), len;
            const char *val;
            val_buf = realloc(val_buf, cap + 1);
            assert_int_equal(feeder_field(&f, (size_t)r, c, val_buf, cap, &val, &len), 0);
            if (len != strlen(t->cell[r][c]) || memcmp(val, t->cell[r][c], len) != 0)
                fail_msg("%s seed %u row %d col %d: got '%.*s', want '%s'", jsonl ? "jsonl" : "csv", seed, r, c,
                         (int)len, val, t->cell[r][c]);
        }
    feeder_release(&f);
    free(val_buf);
    free(data);
}

static void test_round_trip(void **state)
{
    static struct table t;

    (void)state;
    for (unsigned seed = 1; seed <= 20; seed++) {
        table_fill(&t, seed);
        round_trip(&t, false, seed);
        round_trip(&t, true, seed);
    }
}

/* Readers on several threads see what one thread sees. */
struct reader {
    const struct feeder *f;
    unsigned long sum; /* a digest of every value read */
};

static void *read_all(void *arg)
{
    struct reader *rd = arg;
    char buf[64];
    for (size_t r = 0; r < feeder_rows(rd->f); r++)
        for (int c = 0; c < (int)feeder_columns(rd->f); c++) {
            const char *val;
            size_t len;
            if (feeder_field(rd->f, r, c, buf, sizeof(buf), &val, &len) != 0) return NULL;
            for (size_t i = 0; i < len; i++)
                rd->sum = rd->sum * 31 + (unsigned char)val[i];
        }
    return rd;
}

static void test_concurrent_reads(void **state)
{
    static struct table t;
    struct feeder f;
    struct feeder_error err;
    struct reader one, many[4];
    pthread_t tid[4];

    (void)state;
    table_fill(&t, 99);
    round_trip(&t, false, 99); /* leaves rt.csv behind */
    char path[128];
    snprintf(path, sizeof(path), "%s/rt.csv", tmp_dir);
    assert_int_equal(feeder_open(&f, path, &err), 0);
    one = (struct reader){.f = &f};
    assert_non_null(read_all(&one));
    for (int i = 0; i < 4; i++) {
        many[i] = (struct reader){.f = &f};
        assert_int_equal(pthread_create(&tid[i], NULL, read_all, &many[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *res;
        assert_int_equal(pthread_join(tid[i], &res), 0);
        assert_non_null(res);
        assert_true(many[i].sum == one.sum);
    }
    feeder_release(&f);
}

/* Seconds on the monotonic clock (a test may time itself). */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_million_rows(void **state)
{
    enum { ROWS = 1000000 };
    size_t cap = 64 + (size_t)ROWS * 48, len = 0;
    char *data = malloc(cap);
    struct feeder f;
    struct feeder_error err;
    char buf[64];
    const char *val;
    size_t n;

    (void)state;
    len += (size_t)sprintf(data, "from_lat,from_lng,to_lat,to_lng\n");
    for (int i = 0; i < ROWS; i++)
        len += (size_t)sprintf(data + len, "48.%06d,2.%06d,48.%06d,2.%06d\n", i, (i * 7) % 1000000, (i * 13) % 1000000,
                               (i * 31) % 1000000);
    const char *path = write_file("million.csv", data, len);
    free(data);
    double start = now_s();
    assert_int_equal(feeder_open(&f, path, &err), 0);
    double took = now_s() - start;
    print_message("1M rows (%zu bytes) loaded and indexed in %.3f s\n", len, took);
    assert_int_equal(feeder_rows(&f), ROWS);
    assert_true(took < 2.0);
    assert_int_equal(feeder_field(&f, 765432, 2, buf, sizeof(buf), &val, &n), 0);
    snprintf(buf, sizeof(buf), "48.%06d", (765432 * 13) % 1000000);
    assert_int_equal(n, strlen(buf));
    assert_memory_equal(val, buf, n);
    feeder_release(&f);
    unlink(path);
}

static void test_pick_seq_once(void **state)
{
    struct picker p;

    (void)state;
    assert_int_equal(picker_init(&p, PICK_SEQ, 0, 1), -EINVAL);
    assert_int_equal(picker_init(&p, PICK_SEQ, 3, 1), 0);
    for (uint64_t i = 0; i < 10; i++)
        assert_int_equal(picker_row(&p, i), i % 3);
    assert_int_equal(picker_row(&p, UINT64_MAX), UINT64_MAX % 3);
    assert_int_equal(picker_init(&p, PICK_ONCE, 3, 1), 0);
    for (uint64_t i = 0; i < 3; i++)
        assert_int_equal(picker_row(&p, i), i);
    assert_true(picker_row(&p, 3) == PICK_NONE);
    assert_true(picker_row(&p, 1000) == PICK_NONE);
}

static void test_pick_random(void **state)
{
    enum { ROWS = 10, DRAWS = 100000 };
    struct picker a, b, c;
    unsigned count[ROWS] = {0};
    int differ = 0;

    (void)state;
    assert_int_equal(picker_init(&a, PICK_RANDOM, ROWS, 42), 0);
    assert_int_equal(picker_init(&b, PICK_RANDOM, ROWS, 42), 0);
    assert_int_equal(picker_init(&c, PICK_RANDOM, ROWS, 43), 0);
    for (uint64_t i = 0; i < DRAWS; i++) {
        uint64_t row = picker_row(&a, i);
        assert_true(row < ROWS);
        assert_int_equal(row, picker_row(&b, i)); /* same seed, same rows */
        differ += row != picker_row(&c, i);
        count[row]++;
    }
    /* Reading backwards (another thread split) gives the same rows. */
    for (uint64_t i = DRAWS; i-- > DRAWS - 100;)
        assert_int_equal(picker_row(&a, i), picker_row(&b, i));
    assert_true(differ > DRAWS / 2);
    double chi2 = 0, expect = (double)DRAWS / ROWS;
    for (int r = 0; r < ROWS; r++)
        chi2 += (count[r] - expect) * (count[r] - expect) / expect;
    assert_true(chi2 < 27.9); /* 9 degrees of freedom, p = 0.001 */
}

static void test_pick_mode_names(void **state)
{
    static const char *const names[] = {"seq", "random", "once"};
    enum pick_mode mode;

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(pick_mode_parse(names[i], &mode), 0);
        assert_string_equal(pick_mode_name(mode), names[i]);
    }
    assert_int_equal(pick_mode_parse("Random", &mode), -EINVAL);
    assert_int_equal(pick_mode_parse("", &mode), -EINVAL);
}

static int make_tmp_dir(void **state)
{
    (void)state;
    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/test_feeder.XXXXXX");
    return mkdtemp(tmp_dir) ? 0 : -1;
}

static int remove_tmp_dir(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_unreadable),
        cmocka_unit_test(test_page_end),
        cmocka_unit_test(test_field_range),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_concurrent_reads),
        cmocka_unit_test(test_million_rows),
        cmocka_unit_test(test_pick_seq_once),
        cmocka_unit_test(test_pick_random),
        cmocka_unit_test(test_pick_mode_names),
    };
    return cmocka_run_group_tests(tests, make_tmp_dir, remove_tmp_dir);
}
