/*
 * compare_args.h — what `salvo compare` parsed and loaded, shared by
 * compare_cli.c (options, runs) and compare_find_cli.c (two find results).
 * Private to those two files.
 */
#ifndef SALVO_CLI_COMPARE_ARGS_H
#define SALVO_CLI_COMPARE_ARGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "report/compare.h"

#define MAX_RUNS 64
#define MAX_GATES 32

/* What the command line asked for. */
struct compare_args {
    const char *base[MAX_RUNS], *cand[MAX_RUNS];
    size_t nbase, ncand;
    struct cmp_failif gates[MAX_GATES];
    const char *gate_text[MAX_GATES];
    size_t ngates;
    struct cmp_options opt;
    const char *json_path, *html_path, *junit_path;
    bool force, allow_invalid, quiet;
    char **argv, **orig; /* expand_lists' copy of argv, and the original */
    int argc;
};

/* Every input, loaded. */
struct inputs {
    json_t *doc[2 * MAX_RUNS];
    struct cmp_run run[2 * MAX_RUNS];
    const struct cmp_run *side[2][MAX_RUNS];
    size_t n;
    bool invalid;
    size_t nfind; /* find results among them (compared by compare_finds) */
};

/* One gate's outcome line; what: the judged thing ("figure", "capacity"). */
void compare_print_gate(FILE *out, const char *text, bool fails, bool inconclusive, const char *what);
/* Prints the figure gates' outcomes on r; true if one failed. */
bool compare_judge_gates(const struct compare_args *a, const struct cmp_result *r, FILE *out);
/* Two find results: the capacities, then every rate both searches ran. Returns the exit code. */
int compare_finds(const struct compare_args *a, const struct inputs *in);

#endif
