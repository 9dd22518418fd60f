/*
 * common.h — what every verb front-end shares: the one-line usage error,
 * errno as lower-case text, and the option table.
 *
 * Each verb describes its options once, as an array of struct cli_opt
 * rows (name, value placeholder, help text, numeric limits). The getopt
 * tables, the --help text and the "unknown option" / "needs a value" /
 * "bad value" messages are all generated from those rows, so an option
 * cannot be documented with one limit and checked against another, and
 * every verb answers -h, --help and mistakes the same way.
 */
#ifndef SALVO_CLI_COMMON_H
#define SALVO_CLI_COMMON_H

#include <getopt.h> /* optind, after cli_parse */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Prints "salvo: " + the formatted message + newline on stderr; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * strerror(err) lower-cased as salvo's messages are ("no such file or
 * directory"); err may be negative (-errno). The text lives in a buffer
 * per thread, valid until the next call on that thread.
 */
const char *error_text(int err);

/* One option of a verb. */
struct cli_opt {
    int id;           /* what the handler is given: the short letter, or an enum value >= 256 */
    const char *name; /* the long name, without "--" */
    const char *arg;  /* value placeholder in the help ("N", "FILE"); NULL: a flag without value */
    const char *help; /* help text; '\n' continues on the next line under it */
    double lo, hi;    /* limits of a numeric value (cli_uint); both 0 when none */
};

/*
 * X-macro helpers: a verb lists its options once as
 *   #define VERB_OPTIONS(S, L) S('r', "rate", "N", "help", lo, hi) L(OPT_X, "x", NULL, "help", 0, 0) ...
 * (S: a row whose id is its short letter; L: a long-only row whose id is an
 * enum name) and gets its enum with VERB_OPTIONS(CLI_SKIP, CLI_ENUM) and its
 * rows with VERB_OPTIONS(CLI_ROW, CLI_ROW).
 */
#define CLI_SKIP(id, name, arg, help, lo, hi)
#define CLI_ENUM(id, name, arg, help, lo, hi) id,
#define CLI_ROW(id, name, arg, help, lo, hi) {id, name, arg, help, lo, hi},
#define CLI_FIRST_LONG 256 /* ids of long-only options start here */
#define CLI_NOPTS(rows) (sizeof(rows) / sizeof((rows)[0]))

/* A verb's option table and the help around it. */
struct cli_verb {
    const char *name;     /* "run" */
    const char *synopsis; /* first line(s) of --help, ending in '\n' */
    const char *epilog;   /* after the options, or NULL */
    const struct cli_opt *opts;
    size_t nopts;
};

/* Handles one option: returns -1 to go on, or the exit code to stop with. */
typedef int (*cli_handler)(const struct cli_opt *opt, char *arg, void *ctx);

/*
 * Parses argv (argv[0] is the verb) with getopt_long in order: each option
 * goes to handle(); -h and --help print the help on stdout and return 0;
 * an unknown option or a missing value is a usage error naming it. Returns
 * -1 with optind at the first operand, or the exit code.
 */
int cli_parse(const struct cli_verb *v, int argc, char **argv, cli_handler handle, void *ctx);

/* Prints the verb's --help text. */
void cli_usage(const struct cli_verb *v, FILE *out);

/* "bad value 'ARG' for --NAME: WHY"; returns EXIT_USAGE. */
int cli_bad_value(const struct cli_opt *opt, const char *arg, const char *why);

/*
 * Parses a decimal integer within the row's limits [lo, hi]; on failure
 * prints "bad value 'x' for --NAME: expected an integer from LO to HI".
 * Returns -1 (go on) or EXIT_USAGE.
 */
int cli_uint(const struct cli_opt *opt, const char *arg, uint64_t *out);

/*
 * Parses a wall-clock instant: RFC 3339 ("2026-11-27T10:00:00Z",
 * "...+01:00", fractions) or Unix seconds, into ns since the epoch.
 * Returns 0, -ERANGE for a number too large for seconds (milliseconds?),
 * or -EINVAL.
 */
int cli_parse_time(const char *s, uint64_t *out);

/* Reads a whole file into a malloc'd buffer (*out, freed by the caller). Returns 0 or -errno. */
int cli_read_file(const char *path, char **out, size_t *len);

#endif
