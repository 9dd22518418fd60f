/*
 * row_source.h — a table of named columns and numbered rows, as the request
 * templates (http/template.h) read it.
 *
 * The templates are HTTP text and the data files are a feature of the run
 * (load/feeder.h); templates must not know the feeder, which sits above
 * them. This is the little they need: a column's index by name, the
 * longest value of a column, a name for messages and one field of one
 * row. The feeder embeds a struct row_source and fills ops at open; a test
 * may supply its own.
 *
 * Rules for an implementation: the functions are pure reads, safe from any
 * number of threads at once, never allocate, and field() follows
 * feeder_field's contract (a value decoded into buf only when it must be,
 * -ENOSPC when cap is too small, -ERANGE out of range). The callbacks get
 * the struct row_source back, so the owner finds itself with container_of
 * and the source holds no pointer that a copy could leave dangling.
 */
#ifndef SALVO_ROW_SOURCE_H
#define SALVO_ROW_SOURCE_H

#include <stddef.h>

/* Longest column name, in bytes (a placeholder longer than this is an error). */
#define ROW_NAME_MAX 255

struct row_source;

/* What a row source can do; see the file comment for the rules. */
struct row_source_ops {
    /* The index of column name (exact, case-sensitive), or -1. */
    int (*column)(const struct row_source *src, const char *name);
    /* An upper bound on the decoded length of any value in column col. */
    size_t (*column_max_len)(const struct row_source *src, int col);
    /* What to call the source in messages: the data file's path. */
    const char *(*name)(const struct row_source *src);
    /* The value of column col in row `row` into *val, *len; 0 or a negative errno. */
    int (*field)(const struct row_source *src, size_t row, int col, char *buf, size_t cap, const char **val,
                 size_t *len);
};

/* Embedded in its owner; ops is static and shared by every owner of a kind. */
struct row_source {
    const struct row_source_ops *ops;
};

#endif
