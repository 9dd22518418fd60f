/*
 * compare_find_cli.c — `salvo compare` of two find results: the
 * capacities and their ranges (report/compare_find.c), then every rate
 * both searches ran with the same confirmation flag, compared as runs;
 * gates, --json and --junit (docs/compare.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/compare_args.h"
#include "cli/exit.h"
#include "report/compare_find.h"
#include "report/compare_html.h"
#include "report/compare_load.h"
#include "report/compare_out.h"
#include "report/json.h"
#include "report/junit.h"

#define MAX_PAIRS 64

/* The steps of both find results at the same rate, checked loadable and comparable. Returns an exit code or -1. */
static int find_pairs(const struct compare_args *a, const struct inputs *in, size_t (*pairs)[2], size_t *npairs)
{
    *npairs = cmp_find_pairs(in->doc[0], in->doc[1], pairs, MAX_PAIRS);
    for (size_t k = 0; k < *npairs; k++) {
        const json_t *sb = json_array_get(json_object_get(in->doc[0], "steps"), pairs[k][0]);
        const json_t *sc = json_array_get(json_object_get(in->doc[1], "steps"), pairs[k][1]);
        char why[256];
        bool host;
        struct cmp_run run;
        for (int side = 0; side < 2; side++) {
            if (cmp_run_from_json(side ? sc : sb, side ? a->cand[0] : a->base[0], &run, why, sizeof(why)) < 0) {
                fprintf(stderr, "salvo: cannot compare '%s': step %zu: %s\n", side ? a->cand[0] : a->base[0],
                        pairs[k][side], why);
                return EXIT_USAGE;
            }
            cmp_run_release(&run);
        }
        if (cmp_comparable(sb, sc, &host, why, sizeof(why)) < 0 && !a->force) {
            fprintf(stderr, "salvo: cannot compare '%s' with '%s': steps %zu and %zu: %s (--force compares anyway)\n",
                    a->cand[0], a->base[0], pairs[k][0], pairs[k][1], why);
            return EXIT_USAGE;
        }
    }
    return -1;
}

/* The figure gates at one rate, as JUnit cases named with it (r NULL: not compared, why says so). */
static void junit_rate(const struct compare_args *a, struct junit *j, const struct cmp_result *r, double rate,
                       bool confirm, const char *why)
{
    for (size_t i = 0; j && i < a->ngates; i++) {
        if (a->gates[i].capacity) continue;
        char name[320];
        snprintf(name, sizeof(name), "%s at %.0f/s%s", a->gate_text[i], rate, confirm ? " (confirmation)" : "");
        if (r)
            junit_add_gate(j, name, &a->gates[i], r);
        else
            junit_case(j, "salvo.compare.fail_if", name, JUNIT_SKIPPED, NULL, why, NULL);
    }
}

/* One pair of same-rate steps compared: printed, gated, appended to rates. Returns whether a gate failed. */
static bool compare_step_pair(const struct compare_args *a, const struct inputs *in, const size_t pair[2],
                              json_t *rates, FILE *out, bool first, struct junit *j, FILE *html)
{
    const json_t *sb = json_array_get(json_object_get(in->doc[0], "steps"), pair[0]);
    const json_t *sc = json_array_get(json_object_get(in->doc[1], "steps"), pair[1]);
    double rate = json_number_value(json_object_get(json_object_get(sb, "find"), "rate"));
    bool confirm = json_is_true(json_object_get(json_object_get(sb, "find"), "confirm"));
    bool invalid = json_is_false(json_object_get(sb, "valid")) || json_is_false(json_object_get(sc, "valid"));
    if (out)
        printf("\nat %.0f/s%s (baseline step %zu, candidate step %zu)\n", rate, confirm ? ", confirmation" : "",
               pair[0] + 1, pair[1] + 1);
    json_t *o;
    bool failed = false;
    if (invalid && !a->allow_invalid) {
        if (out) printf("  not compared: the generator was invalid in a step (an upper bound, not a measurement)\n");
        o = json_pack("{s:s}", "skipped", "a step's generator was invalid");
        junit_rate(a, j, NULL, rate, confirm, "not compared: the generator was invalid in a step");
        if (html) cmp_html_find_rate(html, NULL, rate, confirm, "the generator was invalid in a step");
    } else {
        struct cmp_run rb, rc;
        char why[256];
        struct cmp_result *r = calloc(1, sizeof(*r));
        if (!r) abort();
        cmp_run_from_json(sb, a->base[0], &rb, why, sizeof(why)); /* find_pairs checked both load */
        cmp_run_from_json(sc, a->cand[0], &rc, why, sizeof(why));
        const struct cmp_run *b1[1] = {&rb}, *c1[1] = {&rc};
        cmp_compute(b1, 1, c1, 1, &a->opt, r);
        o = cmp_result_json(r);
        r->within_run_only &= first; /* the note once, above the first table */
        if (out) {
            cmp_print(out, r);
            cmp_print_verdict(out, r);
        }
        failed = compare_judge_gates(a, r, out);
        junit_rate(a, j, r, rate, confirm, NULL);
        if (html) cmp_html_find_rate(html, r, rate, confirm, NULL);
        cmp_run_release(&rb);
        cmp_run_release(&rc);
        free(r);
    }
    json_object_set_new(o, "rate", json_real(rate));
    json_object_set_new(o, "confirm", json_boolean(confirm));
    json_object_set_new(o, "baseline_step", json_integer((json_int_t)pair[0]));
    json_object_set_new(o, "candidate_step", json_integer((json_int_t)pair[1]));
    json_array_append_new(rates, o);
    return failed;
}

int compare_finds(const struct compare_args *a, const struct inputs *in)
{
    if (a->nbase != 1 || a->ncand != 1 || in->nfind != 2) {
        fprintf(stderr, "salvo: compare find results one against one, not with run results or several per side\n");
        return EXIT_USAGE;
    }
    size_t pairs[MAX_PAIRS][2], npairs;
    int code = find_pairs(a, in, pairs, &npairs);
    if (code >= 0) return code;
    struct cmp_capacity cap;
    cmp_capacity_judge(in->doc[0], in->doc[1], &cap);
    FILE *out = a->quiet ? NULL : stdout;
    if (out) {
        printf("salvo compare: find result %s against %s\n\n", a->base[0], a->cand[0]);
        cmp_capacity_print(out, &cap);
        if (!npairs) printf("\nno rate was run by both searches: only the capacities compare\n");
    }
    json_t *rates = json_array();
    bool failed = false;
    FILE *html = a->html_path ? fopen(a->html_path, "w") : NULL;
    if (a->html_path && !html) {
        fprintf(stderr, "salvo: cannot write '%s': %s\n", a->html_path, error_text(errno));
        json_decref(rates);
        return EXIT_RUNTIME;
    }
    if (html) {
        char *text = cmp_capacity_text(&cap);
        cmp_html_find_begin(html, in->doc[0], in->doc[1], text ? text : "");
        free(text);
    }
    struct junit junit, *j = a->junit_path ? &junit : NULL;
    if (j) junit_init(j, "salvo compare");
    for (size_t i = 0; i < a->ngates; i++) {
        if (!a->gates[i].capacity) continue;
        bool inconclusive, fails = cmp_capacity_gate_fails(&a->gates[i], &cap, &inconclusive);
        failed |= fails;
        compare_print_gate(out, a->gate_text[i], fails, inconclusive, "capacity");
        if (j) junit_add_capacity_gate(j, a->gate_text[i], &a->gates[i], &cap);
    }
    for (size_t k = 0; k < npairs; k++)
        failed |= compare_step_pair(a, in, pairs[k], rates, out, k == 0, j, html);
    bool html_failed = html && cmp_html_find_end(html, npairs) < 0;
    if (html && fclose(html) != 0) html_failed = true;
    if (html_failed) {
        fprintf(stderr, "salvo: cannot write '%s': %s\n", a->html_path, error_text(EIO));
        if (j) junit_release(j);
        json_decref(rates);
        return EXIT_RUNTIME;
    }
    if (j) {
        junit_property(j, "capacity", cmp_verdict_name(cap.verdict));
        int rc = junit_file(j, a->junit_path);
        junit_release(j);
        if (rc < 0) {
            fprintf(stderr, "salvo: cannot write '%s': %s\n", a->junit_path, error_text(rc));
            json_decref(rates);
            return EXIT_RUNTIME;
        }
    }
    if (out)
        printf("\ncompare: capacity %s; %zu rate(s) run by both compared\n", cmp_verdict_name(cap.verdict), npairs);
    if (a->json_path) {
        json_t *doc = json_pack("{s:s, s:s, s:o, s:o}", "tool", "salvo", "kind", "compare_find", "capacity",
                                cmp_capacity_json(&cap), "rates", rates);
        int rc = report_json_save(doc, a->json_path);
        json_decref(doc);
        if (rc < 0) {
            fprintf(stderr, "salvo: cannot write '%s': %s\n", a->json_path, error_text(rc));
            return EXIT_USAGE;
        }
    } else {
        json_decref(rates);
    }
    return failed ? EXIT_THRESHOLD : EXIT_OK;
}
