/*
 * fuzz_feeder.h — the checks fuzz_csv.c and fuzz_jsonl.c share: the input
 * is written to a data file of the given name (its suffix picks the
 * format) and opened with feeder_open. A file that opens has rows and
 * columns (none for a JSON Lines file of "{}"), distinct
 * NUL-terminated column names (empty ones aside), and every field of every
 * row (the first and last 64 rows when there are more) decodes into a
 * buffer of feeder_column_max_len bytes, twice identically; one byte less
 * than a decoded value's length gives -ENOSPC; out-of-range rows and
 * columns give -ERANGE. A file that does not open says why.
 */
#ifndef SALVO_FUZZ_FEEDER_H
#define SALVO_FUZZ_FEEDER_H

#include <errno.h>
#include <string.h>

#include "common.h"
#include "load/feeder.h"

static void check_field(const struct feeder *f, size_t row, int col)
{
    size_t cap = feeder_column_max_len(f, col);
    char *buf = malloc(cap ? cap : 1);
    CHECK(buf);
    const char *v, *v2;
    size_t n, n2;
    CHECK(feeder_field(f, row, col, buf, cap, &v, &n) == 0);
    CHECK(n <= cap);
    char *first = malloc(n ? n : 1);
    CHECK(first);
    memcpy(first, v, n);
    CHECK(feeder_field(f, row, col, buf, cap, &v2, &n2) == 0 && n2 == n && memcmp(first, v2, n) == 0);
    if (v == buf && n > 0) {
        char *small = malloc(n - 1 ? n - 1 : 1);
        CHECK(small);
        CHECK(feeder_field(f, row, col, small, n - 1, &v2, &n2) == -ENOSPC);
        free(small);
    }
    free(first);
    free(buf);
}

static void fuzz_feeder(const char *name, const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file(name, data, size);
    struct feeder f;
    struct feeder_error err;
    memset(&err, 0, sizeof err);
    int rc = feeder_open(&f, path, &err);
    if (rc < 0) {
        CHECK(err.msg[0] && memchr(err.msg, '\0', sizeof err.msg));
        feeder_release(&f);
        return;
    }
    size_t rows = feeder_rows(&f), cols = feeder_columns(&f);
    CHECK(rows > 0); /* cols may be 0: JSON Lines rows of "{}" */
    for (size_t c = 0; c < cols; c++) {
        const char *cn = feeder_column_name(&f, (int)c);
        /* Empty names may repeat: no placeholder can name them ("{}" is an error). */
        CHECK(cn && (!cn[0] || feeder_column(&f, cn) == (int)c));
    }
    CHECK(feeder_column_name(&f, (int)cols) == NULL);
    for (size_t row = 0; row < rows; row++) {
        if (row == 64 && rows > 128) row = rows - 64;
        for (size_t c = 0; c < cols; c++)
            check_field(&f, row, (int)c);
    }
    char buf[8];
    const char *v;
    size_t n;
    CHECK(feeder_field(&f, rows, 0, buf, sizeof buf, &v, &n) == -ERANGE);
    CHECK(feeder_field(&f, 0, (int)cols, buf, sizeof buf, &v, &n) == -ERANGE);
    CHECK(feeder_field(&f, 0, -1, buf, sizeof buf, &v, &n) == -ERANGE);
    feeder_release(&f);
}

#endif
