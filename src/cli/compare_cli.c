/*
 * compare_cli.c — `salvo compare BASE.json CAND.json [options]`, or
 * `--baseline F… --candidate F…`: did the candidate get slower?
 *
 * Reads results JSON (run or merge), refuses results that did not measure
 * the same experiment (unless --force), and prints for every figure the two
 * values, the change and its 95 % bootstrap interval, and a verdict
 * (src/report/compare.c). Exit codes (architecture.md): 2 bad options, an
 * unreadable, truncated or non-salvo file, results without per-second
 * histograms, incomparable results — all before any output; 98 an input
 * run is invalid (unless --allow-invalid); 99 a --fail-if gate failed; 0
 * otherwise, whatever the verdicts (gate with --fail-if).
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/compare_args.h"
#include "cli/exit.h"
#include "core/clock.h"
#include "report/compare.h"
#include "report/compare_find.h"
#include "report/compare_html.h"
#include "report/compare_load.h"
#include "report/compare_out.h"
#include "report/json.h"
#include "report/junit.h"

/* Every option of `salvo compare`, once (see cli/common.h). */
#define COMPARE_OPTIONS(S, L)                                                                                          \
    L(OPT_BASELINE, "baseline", "FILE", "a baseline result; the files after it are baselines too", 0, 0)               \
    L(OPT_CANDIDATE, "candidate", "FILE", "a candidate result; the files after it are candidates too", 0, 0)           \
    L(OPT_FAIL_IF, "fail-if", "EXPR",                                                                                  \
      "exit 99 when the candidate is significantly worse beyond it,\n"                                                 \
      "e.g. 'latency.p99 > +10%', 'errors.rate > +1%', 'rate.achieved < -5%' (repeatable)",                            \
      0, 0)                                                                                                            \
    L(OPT_NOISE, "noise", "FIGURE=PCT",                                                                                \
      "noise floor of a figure (default p50 5, p90 7.5, p99 10, p99_9 20,\n"                                           \
      "errors.rate 0.5 percentage points, rate.achieved 2); repeatable",                                               \
      0, 0)                                                                                                            \
    L(OPT_JSON, "json", "FILE", "write the comparison as JSON ('-' for stdout)", 0, 0)                                 \
    L(OPT_HTML, "html", "FILE", "write the comparison as a self-contained HTML page", 0, 0)                            \
    L(OPT_JUNIT, "junit", "FILE", "write the gates as JUnit XML (a test case per --fail-if, and validity)", 0, 0)      \
    L(OPT_RESAMPLES, "resamples", "N", "bootstrap resamples (default 1000)", 1000, 1000000)                            \
    L(OPT_SEED, "seed", "N", "seed of the bootstrap (default 1)", 0, 1e18)                                             \
    L(OPT_FORCE, "force", NULL, "compare results of different experiments anyway", 0, 0)                               \
    L(OPT_ALLOW_INVALID, "allow-invalid", NULL, "do not exit 98 when an input run is marked invalid", 0, 0)            \
    S('q', "quiet", NULL, "no table on stdout (implied by --json -)", 0, 0)

enum { OPT_COMPARE_FIRST = CLI_FIRST_LONG - 1, COMPARE_OPTIONS(CLI_SKIP, CLI_ENUM) };

static const struct cli_opt compare_opts[] = {COMPARE_OPTIONS(CLI_ROW, CLI_ROW)};

static const struct cli_verb compare_verb = {
    .name = "compare",
    .synopsis = "usage: salvo compare BASE.json CAND.json [options]\n"
                "       salvo compare --baseline FILE… --candidate FILE… [options]\n"
                "Compares a candidate with a baseline, figure by figure, with 95% confidence intervals\n"
                "from a block bootstrap over each run's seconds (and over the runs, when several).\n",
    .epilog = "Results of different experiments (rate, duration, threads, names, …) are refused (exit 2)\n"
              "unless --force; a different host is only a warning. See docs/compare.md.\n",
    .opts = compare_opts,
    .nopts = CLI_NOPTS(compare_opts),
};

/* --noise FIGURE=PCT; a bare "p99" sets latency and service time. */
static int parse_noise(const struct cli_opt *o, const char *arg, struct cmp_options *opt)
{
    const char *eq = strchr(arg, '=');
    char *end;
    double v = eq ? strtod(eq + 1, &end) : 0;
    if (!eq || end == eq + 1 || (*end && strcmp(end, "%") != 0) || !(v >= 0 && v <= 1000))
        return cli_bad_value(o, arg, "expected FIGURE=PCT, e.g. latency.p99=15");
    size_t len = (size_t)(eq - arg);
    int f = cmp_fig_by_name(arg, len);
    if (f >= 0) {
        opt->noise[f] = v;
        return -1;
    }
    char lat[40], svc[40];
    snprintf(lat, sizeof(lat), "latency.%.*s", (int)(len < 20 ? len : 20), arg);
    snprintf(svc, sizeof(svc), "service_time.%.*s", (int)(len < 20 ? len : 20), arg);
    int fl = cmp_fig_by_name(lat, strlen(lat)), fs = cmp_fig_by_name(svc, strlen(svc));
    if (fl < 0) return cli_bad_value(o, arg, "unknown figure");
    opt->noise[fl] = opt->noise[fs] = v;
    return -1;
}

/* cli_handler of `salvo compare`. */
static int compare_opt(const struct cli_opt *o, char *arg, void *ctx)
{
    struct compare_args *a = ctx;
    uint64_t v;
    int code;
    char why[160];
    switch (o->id) {
    case OPT_BASELINE:
    case OPT_CANDIDATE: {
        bool base = o->id == OPT_BASELINE;
        size_t *n = base ? &a->nbase : &a->ncand;
        if (*n == MAX_RUNS) return usage_error("too many results (at most %d per side)", MAX_RUNS);
        (base ? a->base : a->cand)[(*n)++] = arg;
        return -1;
    }
    case OPT_FAIL_IF:
        if (a->ngates == MAX_GATES) return usage_error("too many --fail-if gates (at most %d)", MAX_GATES);
        if (cmp_failif_parse(arg, &a->gates[a->ngates], why, sizeof(why)) < 0) return cli_bad_value(o, arg, why);
        a->gate_text[a->ngates++] = arg;
        return -1;
    case OPT_NOISE: return parse_noise(o, arg, &a->opt);
    case OPT_JSON: a->json_path = arg; return -1;
    case OPT_HTML: a->html_path = arg; return -1;
    case OPT_JUNIT: a->junit_path = arg; return -1;
    case OPT_RESAMPLES:
        if ((code = cli_uint(o, arg, &v)) < 0) a->opt.resamples = (unsigned)v;
        return code;
    case OPT_SEED:
        if ((code = cli_uint(o, arg, &v)) < 0) a->opt.seed = v;
        return code;
    case OPT_FORCE: a->force = true; return -1;
    case OPT_ALLOW_INVALID: a->allow_invalid = true; return -1;
    case 'q': a->quiet = true; return -1;
    }
    return -1;
}

/*
 * getopt takes one value per option, so "--baseline a b --candidate c d"
 * is rewritten to "--baseline=a --baseline=b --candidate=c --candidate=d"
 * before parsing. Returns the new argv; free_lists frees it.
 */
static char **expand_lists(int argc, char **argv)
{
    char **out = calloc((size_t)argc + 1, sizeof(*out));
    if (!out) abort();
    const char *list = NULL;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--baseline") == 0 || strcmp(s, "--candidate") == 0) {
            list = s;
            out[i] = argv[i];
            if (i + 1 < argc) out[i + 1] = argv[i + 1], i++;
            continue;
        }
        if (list && s[0] != '-') {
            size_t n = strlen(list) + strlen(s) + 2;
            out[i] = malloc(n);
            if (!out[i]) abort();
            snprintf(out[i], n, "%s=%s", list, s);
            continue;
        }
        if (s[0] == '-') list = NULL;
        out[i] = argv[i];
    }
    return out;
}

/* Frees expand_lists' copy (the strings it made, not argv's own). */
static void free_lists(struct compare_args *a)
{
    for (int i = 0; a->argv && i < a->argc; i++) {
        bool own = true;
        for (int k = 0; k < a->argc && own; k++)
            own = a->argv[i] != a->orig[k];
        if (own) free(a->argv[i]);
    }
    free(a->argv);
    a->argv = NULL;
}

/* Parses the options; returns an exit code, or -1 to go on. */
static int parse_args(int argc, char **argv, struct compare_args *a)
{
    cmp_options_default(&a->opt);
    a->orig = argv;
    a->argc = argc;
    argv = a->argv = expand_lists(argc, argv); /* getopt permutes this copy: operands are read from it too */
    int code = cli_parse(&compare_verb, argc, argv, compare_opt, a);
    if (code >= 0) return code;
    int rest = argc - optind;
    if (rest && (a->nbase || a->ncand))
        return usage_error("give either BASE.json CAND.json or --baseline/--candidate, not both");
    if (rest == 2) {
        a->base[a->nbase++] = argv[optind];
        a->cand[a->ncand++] = argv[optind + 1];
    } else if (rest) {
        return usage_error("compare needs BASE.json CAND.json (see 'salvo compare --help')");
    }
    if (!a->nbase || !a->ncand) return usage_error("compare needs a baseline and a candidate result");
    if (a->json_path && strcmp(a->json_path, "-") == 0) a->quiet = true;
    return -1;
}

/* Reads path as a results document. Prints the error and returns an exit code, or -1. */
static int load_doc(const char *path, json_t **doc)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "salvo: cannot read '%s': %s\n", path, error_text(errno));
        return EXIT_USAGE;
    }
    /* Read whole, then parsed from memory: jansson's stream reader takes a getc per byte. */
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 1 << 16;
            char *n = realloc(text, cap);
            if (!n) abort();
            text = n;
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    bool failed = ferror(f);
    fclose(f);
    json_error_t err;
    *doc = failed ? NULL : json_loadb(text, len, 0, &err);
    free(text);
    if (failed) {
        fprintf(stderr, "salvo: cannot read '%s': read error\n", path);
        return EXIT_USAGE;
    }
    if (!*doc) {
        fprintf(stderr, "salvo: cannot compare '%s': not a salvo result (invalid JSON at line %d: %s)\n", path,
                err.line, err.text);
        return EXIT_USAGE;
    }
    return -1;
}

static void inputs_release(struct inputs *in)
{
    for (size_t i = 0; i < in->n; i++) {
        cmp_run_release(&in->run[i]);
        json_decref(in->doc[i]);
    }
}

/* Loads one file as input k of side s. Returns an exit code or -1. */
static int load_one(struct inputs *in, const char *path, int s, size_t k)
{
    char why[256];
    json_t *doc;
    int code = load_doc(path, &doc);
    if (code >= 0) return code;
    size_t i = in->n;
    in->doc[i] = doc;
    in->n++;
    if (cmp_is_find(doc)) {
        in->nfind++;
        return -1;
    }
    if (cmp_run_from_json(doc, path, &in->run[i], why, sizeof(why)) < 0) {
        fprintf(stderr, "salvo: cannot compare '%s': %s\n", path, why);
        return EXIT_USAGE;
    }
    in->side[s][k] = &in->run[i];
    if (json_is_false(json_object_get(doc, "valid"))) {
        fprintf(stderr, "salvo: warning: '%s' is marked invalid: the generator may have shaped its figures\n", path);
        in->invalid = true;
    }
    return -1;
}

/* Checks every input against the first baseline. Returns an exit code or -1. */
static int check_comparable(const struct compare_args *a, const struct inputs *in)
{
    char diff[256];
    for (size_t i = 1; i < in->n; i++) {
        bool host_differs;
        const char *path = i < a->nbase ? a->base[i] : a->cand[i - a->nbase];
        if (cmp_comparable(in->doc[0], in->doc[i], &host_differs, diff, sizeof(diff)) < 0) {
            if (!a->force) {
                fprintf(stderr, "salvo: cannot compare '%s' with '%s': %s (--force compares anyway)\n", path,
                        a->base[0], diff);
                return EXIT_USAGE;
            }
            fprintf(stderr, "salvo: warning: '%s' and '%s' differ (%s); compared anyway (--force)\n", path, a->base[0],
                    diff);
        }
        if (host_differs)
            fprintf(stderr, "salvo: warning: '%s' ran against another host than '%s'\n", path, a->base[0]);
    }
    return -1;
}

void compare_print_gate(FILE *out, const char *text, bool fails, bool inconclusive, const char *what)
{
    if (!out) return;
    if (inconclusive && !fails)
        fprintf(out, "fail-if '%s': not judged (the %s is inconclusive)\n", text, what);
    else
        fprintf(out, "fail-if '%s': %s\n", text, fails ? "FAIL" : "pass");
}

bool compare_judge_gates(const struct compare_args *a, const struct cmp_result *r, FILE *out)
{
    bool failed = false;
    for (size_t i = 0; i < a->ngates; i++) {
        if (a->gates[i].capacity) continue; /* judged once, on the capacities (compare_finds) */
        bool inconclusive;
        bool fails = cmp_failif_fails(&a->gates[i], r, &inconclusive);
        failed |= fails;
        compare_print_gate(out, a->gate_text[i], fails, inconclusive, "figure");
    }
    return failed;
}

/*
 * Writes --junit: validity of the inputs, then one case per gate. Returns
 * an exit code or -1.
 */
static int write_junit(const struct compare_args *a, const struct inputs *in, const struct cmp_result *r, double secs)
{
    struct junit j;
    junit_init(&j, "salvo compare");
    j.time_s = secs;
    char bad[1024] = "";
    size_t len = 0;
    for (size_t i = 0; i < in->n; i++) {
        const char *path = i < a->nbase ? a->base[i] : a->cand[i - a->nbase];
        if (json_is_false(json_object_get(in->doc[i], "valid")) && len + 4 < sizeof(bad))
            len += (size_t)snprintf(bad + len, sizeof(bad) - len, "%s'%s'", len ? ", " : "", path);
        if (len >= sizeof(bad)) len = sizeof(bad) - 1;
    }
    if (in->invalid) {
        char msg[1200];
        snprintf(msg, sizeof(msg), "input run marked invalid, the generator may have shaped its figures: %s%s", bad,
                 a->allow_invalid ? " (--allow-invalid: not judged)" : "");
        junit_case(&j, "salvo.compare", "valid inputs", a->allow_invalid ? JUNIT_SKIPPED : JUNIT_ERROR, "invalid", msg,
                   NULL);
    } else {
        junit_case(&j, "salvo.compare", "valid inputs", JUNIT_PASS, NULL, NULL, NULL);
    }
    for (size_t i = 0; i < a->ngates; i++)
        junit_add_gate(&j, a->gate_text[i], &a->gates[i], r);
    int rc = junit_file(&j, a->junit_path);
    junit_release(&j);
    if (rc < 0) {
        fprintf(stderr, "salvo: cannot write '%s': %s\n", a->junit_path, error_text(rc));
        return EXIT_RUNTIME;
    }
    return -1;
}

/* Writes --json and --html. Returns an exit code or -1. */
static int write_outputs(const struct compare_args *a, const struct inputs *in, const struct cmp_result *r)
{
    if (a->json_path) {
        json_t *doc = cmp_result_json(r);
        int rc = report_json_save(doc, a->json_path);
        json_decref(doc);
        if (rc < 0) {
            fprintf(stderr, "salvo: cannot write '%s': %s\n", a->json_path, error_text(rc));
            return EXIT_USAGE;
        }
    }
    if (a->html_path) {
        int rc = cmp_html_file(a->html_path, r, in->doc, a->nbase, in->doc + a->nbase, a->ncand);
        if (rc < 0) {
            fprintf(stderr, "salvo: cannot write '%s': %s\n", a->html_path, error_text(rc));
            return EXIT_USAGE;
        }
    }
    return -1;
}

/* ----------------------------------------------------------- find results */

int cli_compare(int argc, char **argv)
{
    struct compare_args a = {0};
    int code = parse_args(argc, argv, &a);
    if (code >= 0) {
        free_lists(&a);
        return code;
    }
    const char *outs[] = {a.json_path, a.html_path, a.junit_path};
    if ((code = probe_outputs(outs, 3)) >= 0) {
        free_lists(&a);
        return code;
    }
    uint64_t t0_ns = clock_now_ns();
    struct inputs *in = calloc(1, sizeof(*in));
    struct cmp_result *r = calloc(1, sizeof(*r));
    if (!in || !r) abort();
    for (size_t i = 0; code < 0 && i < a.nbase; i++)
        code = load_one(in, a.base[i], 0, i);
    for (size_t i = 0; code < 0 && i < a.ncand; i++)
        code = load_one(in, a.cand[i], 1, i);
    for (size_t i = 0; code < 0 && !in->nfind && i < a.ngates; i++)
        if (a.gates[i].capacity)
            code = usage_error("--fail-if '%s': capacity gates compare find results; these are run results",
                               a.gate_text[i]);
    if (code < 0 && in->nfind) code = compare_finds(&a, in);
    if (code < 0) code = check_comparable(&a, in);
    if (code < 0) {
        cmp_compute(in->side[0], a.nbase, in->side[1], a.ncand, &a.opt, r);
        FILE *out = a.quiet ? NULL : stdout;
        if (out) {
            printf("salvo compare: baseline %s%s against candidate %s%s\n", a.base[0], a.nbase > 1 ? " (and more)" : "",
                   a.cand[0], a.ncand > 1 ? " (and more)" : "");
            cmp_print(out, r);
            cmp_print_verdict(out, r);
        }
        bool failed = compare_judge_gates(&a, r, out);
        code = write_outputs(&a, in, r);
        if (code < 0 && a.junit_path) code = write_junit(&a, in, r, (double)(clock_now_ns() - t0_ns) / 1e9);
        if (code < 0) code = in->invalid && !a.allow_invalid ? EXIT_INVALID : failed ? EXIT_THRESHOLD : EXIT_OK;
    }
    inputs_release(in);
    free(in);
    free(r);
    free_lists(&a);
    return code;
}
