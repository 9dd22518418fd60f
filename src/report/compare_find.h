/*
 * compare_find.h — `salvo compare` of two `salvo find` results: did the
 * candidate's capacity move, and how do the steps both ran at the same
 * rate compare?
 *
 * A find result does not carry a sampling distribution of its capacity;
 * what it carries is a bracket: the confirmed rate sustained the SLOs and
 * the lowest failing rate did not, so the capacity lies between them (to
 * the search's --precision). The capacity comparison is therefore interval
 * arithmetic on the two brackets, not a bootstrap: regressed when the
 * candidate's whole range lies below the baseline's, improved when above,
 * no significant change when they overlap, inconclusive when a side
 * claims no range at all (an interrupted search without a pass). The steps
 * at a rate both searches ran (with the same confirmation flag, so the
 * same duration) are full run results and are compared as runs.
 *
 * Nothing here prints except cmp_capacity_print; documents are borrowed.
 */
#ifndef SALVO_COMPARE_FIND_H
#define SALVO_COMPARE_FIND_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "report/compare.h"

/* Where one search puts its capacity: [lo, hi] (hi INFINITY: no failure seen). */
struct cmp_cap_range {
    bool found;      /* a confirmed capacity */
    double capacity; /* /s, when found */
    double lo, hi;   /* the range the result allows */
    const char *stopped_by;
};

/* The capacity of two find results, compared. */
struct cmp_capacity {
    struct cmp_cap_range base, cand;
    double diff;   /* % change of the capacity (both found), else NAN */
    double lo, hi; /* % change the two ranges allow (hi INFINITY when unbounded) */
    enum cmp_verdict verdict;
    char why[160];
};

/* True when doc is a find result (it has "steps"). */
bool cmp_is_find(const json_t *doc);

/* Compares the capacities of two find results. */
void cmp_capacity_judge(const json_t *base, const json_t *cand, struct cmp_capacity *out);

/*
 * The steps at the same rate and confirmation flag in both results, as
 * index pairs (baseline step, candidate step), in the baseline's order;
 * each baseline step pairs with the candidate's first unpaired match.
 * Returns how many (at most cap).
 */
size_t cmp_find_pairs(const json_t *base, const json_t *cand, size_t (*pairs)[2], size_t cap);

/*
 * Whether a "capacity < -PCT%" gate fails: the capacity regressed (the
 * candidate's whole range below the baseline's) and even the most the
 * ranges allow (c->hi, in %) is below the threshold. An inconclusive
 * capacity never fails; *inconclusive says so.
 */
bool cmp_capacity_gate_fails(const struct cmp_failif *g, const struct cmp_capacity *c, bool *inconclusive);

/* The capacity block of the terminal output, and its JSON. */
void cmp_capacity_print(FILE *out, const struct cmp_capacity *c);
/* cmp_capacity_print's text in a malloc'd string (NULL when out of memory). */
char *cmp_capacity_text(const struct cmp_capacity *c);
json_t *cmp_capacity_json(const struct cmp_capacity *c);

#endif
