/*
 * compare_out.h — how a comparison reads: the terminal table, the one-line
 * verdict and the JSON document. Renderers of a struct cmp_result only;
 * they judge nothing (compare.c did). out is borrowed; the JSON is the
 * caller's to json_decref.
 */
#ifndef SALVO_COMPARE_OUT_H
#define SALVO_COMPARE_OUT_H

#include <jansson.h>
#include <stdio.h>

#include "report/compare.h"

/* The table: one line per figure, the names' figures under their name. */
void cmp_print(FILE *out, const struct cmp_result *r);
/* "compare: regressed (2 regressed, …)". */
void cmp_print_verdict(FILE *out, const struct cmp_result *r);
/* "regressed" if any figure regressed, else "improved" if any improved, else "no significant change". */
const char *cmp_overall(const struct cmp_result *r);
/* {tool, kind: "compare", verdict, resamples, confidence, within_run_noise_only, figures: [...]}. */
json_t *cmp_result_json(const struct cmp_result *r);

#endif
