/*
 * junit.h — a verb's verdict as a JUnit XML report (`--junit FILE`).
 *
 * CI systems (GitLab, Jenkins, GitHub test reporters) read JUnit XML and
 * show each test case as green, red or grey. salvo's gates map onto it:
 * one test case per threshold, per check, per SLO and per --fail-if gate;
 * the run's own health (validity, interruption, no response at all) are
 * cases of their own, as <error>, since they mean the figures are not a
 * verdict on the server. The report is rendered from the results JSON (run,
 * merge, find) or from compare's result structures, never from run
 * internals, so a merged result reads like a single run. docs/report.md
 * lists the cases and their names.
 *
 * Ownership: struct junit is caller-owned; junit_case copies its strings;
 * junit_release frees them. Nothing here prints to the terminal or exits.
 */
#ifndef SALVO_JUNIT_H
#define SALVO_JUNIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "report/compare.h"

/* What became of one test case. */
enum junit_kind { JUNIT_PASS, JUNIT_FAILURE, JUNIT_ERROR, JUNIT_SKIPPED };

/* One test case; strings owned by the struct junit. */
struct junit_case {
    char *classname, *name;
    enum junit_kind kind;
    char *type;    /* the failure's or error's type attribute ("threshold", "invalid", ...) */
    char *message; /* one line: expression, measured value, reason */
    char *detail;  /* the element's text (may be NULL) */
};

/* One <testsuite> being built. */
struct junit {
    char *suite;
    double time_s;
    long long timestamp_ms; /* start of the run (Unix ms); 0: none */
    struct junit_case *cases;
    size_t ncases, cap;
    char *props[16][2]; /* <properties>: name, value */
    size_t nprops;
};

/* Starts an empty suite called suite (copied). */
void junit_init(struct junit *j, const char *suite);
/* Frees everything; a zeroed struct is fine. */
void junit_release(struct junit *j);
/* Adds one case (strings copied; type, message and detail may be NULL). */
void junit_case(struct junit *j, const char *classname, const char *name, enum junit_kind kind, const char *type,
                const char *message, const char *detail);
/* Adds one <property> (at most 16; later ones are dropped). */
void junit_property(struct junit *j, const char *name, const char *value);
/* How many cases of kind the suite holds. */
size_t junit_count(const struct junit *j, enum junit_kind kind);

/*
 * Writes s as XML character data, safe in text and in quoted attributes:
 * & < > " ' as entities, characters XML 1.0 forbids (controls other than
 * tab, newline and CR) and invalid UTF-8 as U+FFFD. NULL reads as "".
 */
void junit_escape(FILE *out, const char *s);

/* Writes the whole document. Returns 0 or -EIO. */
int junit_write(const struct junit *j, FILE *out);
/* Writes the document to path ("-": stdout). Returns 0 or -errno. */
int junit_file(const struct junit *j, const char *path);

/*
 * The cases of a run or merged result (classname e.g. "salvo.run"):
 * validity, interruption, responses, every threshold, every check.
 */
void junit_add_result(struct junit *j, const char *classname, json_t *result);

/*
 * The cases of a `salvo find` document: each SLO at the step that decided
 * the search, the capacity, validity, interruption, responses. exit_code
 * is find's (1 says no answer or a failed run, which the document lacks).
 */
void junit_add_find(struct junit *j, json_t *find_doc, int exit_code);

struct cmp_capacity;
/* One capacity gate (`capacity < -10%`) of `salvo compare` on two find results (junit_cmpfind.c). */
void junit_add_capacity_gate(struct junit *j, const char *text, const struct cmp_failif *g,
                             const struct cmp_capacity *c);

/* One --fail-if gate of `salvo compare`, with its figure's row from r. */
void junit_add_gate(struct junit *j, const char *text, const struct cmp_failif *g, const struct cmp_result *r);

#endif
