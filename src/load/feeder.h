/*
 * feeder.h — the rows of a --data file, memory-mapped and indexed once.
 *
 * A data-driven run reads one row per request, from many threads, at up to
 * hundreds of thousands of requests per second, so the file is mapped
 * read-only and indexed in a single pass before the run: the index is one
 * array of row start offsets (32-bit when the file is under 4 GiB). A value
 * is found by scanning its row, which is short; nothing is decoded ahead of
 * time and nothing is written after feeder_open returns, so any number of
 * threads may read one feeder without locks.
 *
 * Formats (docs/data.md has the details):
 *   CSV   RFC 4180 with a header row: quoted fields, "" inside quotes,
 *         commas and line breaks inside quotes, CRLF or LF, optional final
 *         line break. Blank lines are skipped. Every row has exactly as
 *         many fields as the header.
 *   JSONL one flat JSON object per line; values are strings, numbers,
 *         booleans or null (null reads as the empty string, numbers and
 *         booleans as their text). The columns are the keys in order of
 *         first appearance; a row without a key reads "" for it.
 * The format is chosen by extension (.csv, .jsonl, .ndjson), else by the
 * first non-blank byte ('{' means JSONL). A UTF-8 byte order mark is skipped.
 *
 * Validation happens once, in feeder_open: a malformed row is reported with
 * its line number, so the reads during the run never fail on bad data.
 *
 * Ownership: struct feeder is caller-owned. feeder_open maps the file and
 * allocates the index and the column names; feeder_release unmaps and frees
 * them. Pointers returned by the accessors stay valid until feeder_release.
 * The file must not be modified while it is open (the map would change, or
 * fault if the file shrank).
 *
 * Also here: struct picker, the arrival-index → row rule of --pick. It is
 * three lines of arithmetic that exists only for the feeder's rows, too
 * small to be a module of its own.
 */
#ifndef SALVO_FEEDER_H
#define SALVO_FEEDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/row_source.h"

/* Longest column name, in bytes: what a template placeholder may name. */
#define FEEDER_NAME_MAX ROW_NAME_MAX

/* How a data file is laid out. */
enum feeder_format { FEEDER_CSV, FEEDER_JSONL };

/*
 * Why an open (or targets_parse) failed. msg is a complete sentence
 * fragment in the house style, ready to follow "salvo: ", e.g.
 * "'trips.csv' line 17: unterminated quote" or
 * "cannot read 'trips.csv': no such file or directory".
 */
struct feeder_error {
    char msg[512];
    size_t line; /* 1-based line of the problem; 0 when not about a line */
};

/* An open data file; read-only after feeder_open. See the file comment. */
struct feeder {
    enum feeder_format format;
    const char *map; /* the whole file, map_len bytes, PROT_READ */
    size_t map_len;
    size_t rows;
    uint32_t *start32; /* row start offsets, when map_len < 4 GiB ... */
    uint64_t *start64; /* ... else these; exactly one is non-NULL */
    size_t ncols;
    char **names;             /* ncols NUL-terminated column names */
    size_t *max_len;          /* per column: no value is longer than this decoded */
    char *path;               /* copy of the path, for messages */
    struct row_source source; /* what the templates read; see feeder_source */
};

/*
 * Maps and indexes the file at path. Returns 0, or a negative errno with
 * err filled in: the open/stat/mmap errno for a file that cannot be read,
 * -EINVAL for a malformed file (err->line set), an empty file, one with
 * no data rows or a path that is not a regular file. On failure nothing
 * needs releasing (feeder_release is harmless anyway).
 */
int feeder_open(struct feeder *f, const char *path, struct feeder_error *err);

/* Unmaps and frees; f may be NULL or zeroed or already released. */
void feeder_release(struct feeder *f);

/* The number of data rows (never 0 for an open feeder). */
size_t feeder_rows(const struct feeder *f);

/* The number of columns. */
size_t feeder_columns(const struct feeder *f);

/* The index of column name (exact, case-sensitive match), or -1. */
int feeder_column(const struct feeder *f, const char *name);

/* The name of column col, or NULL when col is out of range. */
const char *feeder_column_name(const struct feeder *f, int col);

/*
 * An upper bound on the decoded length of any value in column col (0 when
 * col is out of range): a buffer this big never makes feeder_field fail.
 */
size_t feeder_column_max_len(const struct feeder *f, int col);

/* The path the feeder was opened with. */
const char *feeder_path(const struct feeder *f);

/*
 * The feeder as the templates read it (spec/row_source.h), or NULL when f
 * is NULL (no data file). Valid while f is open; the callbacks are
 * feeder_column, feeder_column_max_len, feeder_path and feeder_field.
 */
const struct row_source *feeder_source(const struct feeder *f);

/*
 * The value of column col in row `row`. On success *val and *len describe
 * the decoded bytes (not NUL-terminated): either a pointer into the map,
 * when the value needs no decoding (the common case: no copy), or into buf,
 * where the decoded value is written. Returns 0, -ENOSPC when the value
 * needs decoding and cap is too small (feeder_column_max_len is always
 * enough), or -ERANGE for a row or column out of range. Never allocates;
 * safe to call from any number of threads at once.
 */
int feeder_field(const struct feeder *f, size_t row, int col, char *buf, size_t cap, const char **val, size_t *len);

/* ---- Picking a row per arrival ---------------------------------------- */

/* The --pick modes. */
enum pick_mode {
    PICK_SEQ,    /* arrival i takes row i mod rows: the file in order, looping */
    PICK_RANDOM, /* a uniform row from a hash of (seed, i), with replacement */
    PICK_ONCE,   /* arrival i takes row i; past the last row the data is used up */
};

/* What picker_row returns when PICK_ONCE has used every row. */
#define PICK_NONE UINT64_MAX

/*
 * The row rule of a run. A pure function of the arrival index, so it gives
 * the same rows however arrivals are split between threads and shards.
 * Caller-owned, no heap, immutable after picker_init: share it freely.
 */
struct picker {
    enum pick_mode mode;
    uint64_t rows;
    uint64_t key; /* derived from the seed */
};

/* Sets up p. Returns 0, or -EINVAL when rows is 0 or mode is unknown. */
int picker_init(struct picker *p, enum pick_mode mode, uint64_t rows, uint64_t seed);

/* The row for arrival index, or PICK_NONE (PICK_ONCE only) when used up. */
uint64_t picker_row(const struct picker *p, uint64_t index);

/* Parses "seq", "random" or "once". Returns 0 or -EINVAL. */
int pick_mode_parse(const char *text, enum pick_mode *mode);

/* The --pick spelling of mode. */
const char *pick_mode_name(enum pick_mode mode);

/*
 * A uniform 64-bit hash of (key, index), counter-based so that any thread
 * can compute the draw of any arrival. reqgen_pick uses it too.
 */
uint64_t pick_hash(uint64_t key, uint64_t index);

#endif
