/*
 * find_cli.c — `salvo find URL --slo EXPR… [run options]`: the highest
 * rate the service sustains within its SLOs (docs/find.md).
 *
 * Each step is one open-model `salvo run` (run_execute) at a fixed rate,
 * with run's own option table and checks (run_cli_prepare); the search is
 * load/find.c, the verdict of a step report/find_judge.c. Between steps it
 * waits for --cooldown with SIGINT/SIGTERM taken, so Ctrl-C there stops the
 * search as promptly as during a step, and the bracket so far is reported.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/exit.h"
#include "cli/run_args.h"
#include "core/clock.h"
#include "core/units.h"
#include "load/find.h"
#include "load/run.h"
#include "report/analysis.h"
#include "report/find_judge.h"
#include "report/html_find.h"
#include "report/json.h"
#include "report/junit.h"

#define FIND_OPTIONS(S, L)                                                                                             \
    L(OPT_SLO, "slo", "EXPR", "service level objective, repeatable, threshold language: 'latency.p99 < 250ms'", 0,     \
      MAX_THRESHOLDS)                                                                                                  \
    L(OPT_FROM, "from", "R", "first rate (default 100/s)", 0, 0)                                                       \
    L(OPT_MAX, "max", "R", "highest rate tried (default 1000000/s)", 0, 0)                                             \
    L(OPT_PRECISION, "precision", "PCT", "stop bisecting when the bracket is this narrow (default 5%)", 0, 0)          \
    L(OPT_STEP, "step-duration", "D", "length of each step; its first quarter is warm-up (default 20s)", 0, 0)         \
    L(OPT_COOLDOWN, "cooldown", "D", "idle time between steps once nothing is in flight (default 2s)", 0, 0)

enum { OPT_FIND_FIRST = CLI_FIRST_LONG + 200, FIND_OPTIONS(CLI_SKIP, CLI_ENUM) };

static const struct cli_opt find_opts[] = {FIND_OPTIONS(CLI_ROW, CLI_ROW)};

/* The command line of find beyond run's. */
struct find_args {
    struct run_config *cfg;
    struct run_args *a;
    double from, max, precision;
    uint64_t step_ns, cooldown_ns;
    bool from_given;
};

/* run's options that a search sets itself, or cannot do yet. */
static int refused(const struct cli_opt *o)
{
    static const char *const own[][2] = {
        {"rate", "find chooses the rates: use --from and --max"},
        {"duration", "use --step-duration"},
        {"conn-stages", "find is open-model only"},
        {"closed", "find is open-model only"},
        {"shard", "find runs on one machine; a sharded search is later work"},
        {"start-at", "find starts at once"},
        {"chaos", "find measures the service as it is"},
        {"threshold", "use --slo"},
        {"metrics", "a search's steps do not feed a live endpoint yet (each step's JSON has its seconds)"},
        {"dashboard", "a live view of a search is later work"},
        {"dashboard-linger", "a live view of a search is later work"},
        {"remote-write", "a search's steps are not pushed yet (use it with run)"},
        {"remote-write-header", "a search's steps are not pushed yet (use it with run)"},
    };
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        if (!strcmp(o->name, own[i][0])) return usage_error("--%s is not for find: %s", o->name, own[i][1]);
    return -2;
}

static int find_opt(const struct cli_opt *o, char *arg, void *ctx)
{
    struct find_args *f = ctx;
    const char *why;
    switch (o->id) {
    case OPT_SLO:
        if (f->a->nthresholds == MAX_THRESHOLDS) return usage_error("too many --slo (at most %d)", MAX_THRESHOLDS);
        if (threshold_parse(&f->a->thresholds[f->a->nthresholds], arg, &why) < 0)
            return usage_error("bad slo '%s': %s", arg, why);
        f->a->nthresholds++;
        return -1;
    case OPT_FROM:
    case OPT_MAX:
        if (parse_rate(arg, o->id == OPT_FROM ? &f->from : &f->max) < 0)
            return cli_bad_value(o, arg, "expected a positive rate, e.g. 100 or 100/s");
        if (o->id == OPT_FROM) f->from_given = true;
        return -1;
    case OPT_PRECISION: {
        char *end;
        double v = strtod(arg, &end);
        if (end == arg || (*end && strcmp(end, "%")) || !(v > 0) || v >= 100)
            return cli_bad_value(o, arg, "expected a percentage above 0 and below 100, e.g. 5%");
        f->precision = v / 100;
        return -1;
    }
    case OPT_STEP:
    case OPT_COOLDOWN: {
        uint64_t *dst = o->id == OPT_STEP ? &f->step_ns : &f->cooldown_ns;
        if (parse_duration_ns(arg, dst) < 0 || (o->id == OPT_STEP && *dst < 2 * NS_PER_S))
            return cli_bad_value(o, arg,
                                 o->id == OPT_STEP ? "expected a duration of at least 2s" : "expected a duration");
        if (o->id == OPT_STEP) f->cfg->duration_ns = *dst; /* run's checks (--profile-at) see a step's length */
        return -1;
    }
    }
    return refused(o);
}

/* The state of one search while its steps run. */
struct find_run {
    struct run_args *a;
    struct find_window win;
    bool failed_profiled; /* the first failing step's profiles were kept */
};

static void on_started(void *ctx, uint64_t start_ns)
{
    evidence_started(((struct find_run *)ctx)->a, start_ns);
}

static void on_second(void *ctx, const struct run_config *cfg, const struct timeline_row *row,
                      const struct interval *merged)
{
    struct find_run *fr = ctx;
    progress_second(&fr->a->prog, cfg, row);
    find_window_second(&fr->win, row->t, merged);
}

/* Waits ns with SIGINT/SIGTERM blocked (run_execute leaves them so); returns the signal or 0. */
static int cooldown(uint64_t ns)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct timespec ts = clock_ns_to_timespec(ns);
    int sig = sigtimedwait(&set, NULL, &ts);
    return sig > 0 ? sig : 0;
}

static double num(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    if (b) v = json_object_get(v, b);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Whether a step (or the ramp) got any HTTP answer at all (a 200 that fails its checks is an answer). */
static bool answered(json_t *step)
{
    return num(step, "requests", "ok") + num(step, "requests", "http_error") + num(step, "requests", "check_failed") >
           0;
}

/* One table row: rate, verdict and why, judged p50/p99/p99.9, errors, validity; the header before the first. */
static void print_step(FILE *out, int i, json_t *step)
{
    if (i == 0) fprintf(out, "step       rate  verdict       p50       p99     p99.9   errors  valid   why\n");
    json_t *f = json_object_get(step, "find"), *j = json_object_get(f, "judged");
    double sched = num(step, "requests", "scheduled"), ok = num(step, "requests", "ok");
    char lat[3][32];
    const char *keys[] = {"p50_us", "p99_us", "p99_9_us"};
    bool none = !(num(j, "requests", "ok") > 0); /* no response in the window: no latency to show (not 0) */
    for (int k = 0; k < 3; k++) {
        double us = num(j, keys[k], NULL);
        if (isnan(us) || none)
            snprintf(lat[k], sizeof(lat[k]), "-");
        else
            snprintf(lat[k], sizeof(lat[k]), "%.2fms", us / 1e3);
    }
    fprintf(out, "%4d  %9.0f/s  %-7s %9s %9s %9s  %6.2f%%  %-7s %s%s\n", i + 1, num(f, "rate", NULL),
            json_string_value(json_object_get(f, "verdict")), lat[0], lat[1], lat[2],
            sched > 0 ? 100 * (sched - ok) / sched : 0.0,
            json_is_true(json_object_get(step, "valid")) ? "valid" : "INVALID",
            json_is_true(json_object_get(f, "confirm")) ? "(confirm) " : "",
            json_string_value(json_object_get(f, "why")));
}

/* Runs step rate (held 2x when confirm); returns its results object (owned), or NULL on a signal. */
static json_t *run_step(struct run_config *cfg, struct find_run *fr, double rate, bool confirm, uint64_t step_ns,
                        int step, enum find_verdict *v, int *rc)
{
    cfg->rate = rate;
    cfg->duration_ns = confirm ? 2 * step_ns : step_ns;
    if (find_window_init(&fr->win, (uint32_t)(cfg->duration_ns / NS_PER_S)) < 0) abort();
    struct run_hooks hooks = {.second = on_second, .started = on_started, .ctx = fr};
    struct run_result r;
    int bad = evidence_step(cfg, fr->a, step);
    if (bad >= 0) {
        *rc = -EINVAL;
        *v = FIND_INVALID;
        return json_object();
    }
    evidence_begin(cfg, fr->a);
    progress_init(&fr->a->prog, stderr, cfg->quiet ? PROGRESS_OFF : fr->a->progress);
    *rc = run_execute(cfg, &hooks, &r);
    progress_finish(&fr->a->prog);
    run_analyse(cfg, &r);
    json_t *doc = report_json_build(cfg, &r);
    run_note_ending(doc, &r, *rc);
    evidence_end(fr->a, doc, r.nrows, r.interrupted);
    thresholds_apply(fr->a->thresholds, fr->a->nthresholds, doc);
    char why[512];
    *v = find_judge(fr->a->thresholds, fr->a->nthresholds, doc, &fr->win, rate, why, sizeof(why));
    json_object_set_new(json_object_get(doc, "find"), "confirm", json_boolean(confirm));
    /* Profiles: the confirmation steps' and the first failing step's are kept, the others deleted. */
    bool keep = confirm || (*v == FIND_FAIL && !fr->failed_profiled);
    if (*v == FIND_FAIL && keep) fr->failed_profiled = true;
    evidence_keep_profiles(fr->a, doc, keep);
    find_window_release(&fr->win);
    bool interrupted = r.interrupted;
    run_result_release(&r);
    if (interrupted) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static void ramp_second(void *ctx, const struct run_config *cfg, const struct timeline_row *row,
                        const struct interval *merged)
{
    (void)merged;
    progress_second(&((struct run_args *)ctx)->prog, cfg, row);
}

static void ramp_started(void *ctx, uint64_t start_ns)
{
    evidence_started(ctx, start_ns);
}

/*
 * --scrape/--profile for the ramp, as for `run --stages` (docs/evidence.md):
 * the side jobs set up again for the ramp's length, its profiles spread
 * along it and those around the knee kept; files STEM.ramp.profile-K.pb.gz.
 * Returns -1, or the exit code of a bad option.
 */
static int ramp_evidence(const struct run_config *cfg, struct run_args *a)
{
    if (!a->nscrape && !a->nprofile) return -1;
    evidence_release(a);
    struct run_config c = *cfg;
    char stem[4000];
    const char *base = cfg->json_path && strcmp(cfg->json_path, "-") ? cfg->json_path : "salvo-find";
    size_t n = strlen(base);
    if (n > 5 && !strcmp(base + n - 5, ".json")) n -= 5;
    snprintf(stem, sizeof(stem), "%.*s.ramp.json", (int)n, base);
    c.json_path = stem;
    return evidence_prepare(&c, a);
}

/*
 * The --stages ramp, run once before the steps: where its p99 left the
 * floor (run.c's knee) proposes the first step; without a knee, the top
 * of the ramp does. With --scrape/--profile it carries its own scrape and
 * profiles, as a step does. Returns the ramp's result (owned), NULL on a
 * signal; *rc is the run's. The steps then run without the stages.
 */
static json_t *run_ramp(struct run_config *cfg, struct run_args *a, double *seed, int *rc)
{
    struct run_hooks hooks = {.second = ramp_second, .started = ramp_started, .ctx = a};
    struct run_result r;
    if (ramp_evidence(cfg, a) >= 0) {
        *rc = -EINVAL;
        return json_object();
    }
    evidence_begin(cfg, a);
    progress_init(&a->prog, stderr, cfg->quiet ? PROGRESS_OFF : a->progress);
    *rc = run_execute(cfg, &hooks, &r);
    progress_finish(&a->prog);
    run_analyse(cfg, &r);
    json_t *doc = report_json_build(cfg, &r);
    run_note_ending(doc, &r, *rc);
    evidence_end(a, doc, r.nrows, r.interrupted);
    *seed = r.knee.found ? r.knee.rate_intended : cfg->start_rate;
    for (size_t i = 0; !r.knee.found && i < cfg->nstages; i++)
        if (cfg->stages[i].target_rate > *seed) *seed = cfg->stages[i].target_rate;
    if (!cfg->quiet && answered(doc)) { /* else no knee to speak of: the caller says it does not answer */
        if (r.knee.found)
            fprintf(stderr,
                    "salvo: find ramp: p99 left its floor (%.2f ms) at %.0f/s (%.2f ms): the search starts there\n",
                    (double)r.knee.floor_p99_us / 1e3, *seed, (double)r.knee.p99_us / 1e3);
        else
            fprintf(stderr, "salvo: find ramp: no knee up to %.0f/s: the search starts there\n", *seed);
    }
    bool interrupted = r.interrupted;
    run_result_release(&r);
    cfg->nstages = 0;
    cfg->start_rate = 0;
    if (interrupted) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/*
 * The bracket as the terminal shows it, "[lo, hi]/s" with "-" where the
 * JSON's bracket has null (no pass, or no failure yet); "" while neither
 * is known (before the first step), so nothing is said about it.
 */
static const char *bracket_text(const struct find_search *s, char *buf, size_t cap)
{
    char lo[32] = "-", hi[32] = "-";
    if (s->lo > 0) snprintf(lo, sizeof(lo), "%.0f", s->lo);
    if (s->hi > 0) snprintf(hi, sizeof(hi), "%.0f", s->hi);
    if (s->lo > 0 || s->hi > 0)
        snprintf(buf, cap, "[%s, %s]/s", lo, hi);
    else
        buf[0] = 0;
    return buf;
}

/* The verdict line and the exit code of a finished (or stopped) search. */
static int conclude(const struct find_search *s, int sig, bool quiet, size_t nsteps)
{
    char br[80];
    bracket_text(s, br, sizeof(br));
    if (sig) {
        fprintf(stderr, "salvo: find interrupted after %zu step%s; %s%s\n", nsteps, nsteps == 1 ? "" : "s",
                br[0] ? "bracket so far " : "no bracket yet", br);
        return 128 + sig;
    }
    switch (s->stop) {
    case FIND_STOP_FOUND:
    case FIND_STOP_MAX:
        if (!quiet)
            printf("capacity: %.0f/s sustained within the SLOs%s (bracket %s, %d steps)\n", s->capacity,
                   s->stop == FIND_STOP_MAX ? " at --max, it may go higher" : "", br, s->steps);
        return EXIT_OK;
    case FIND_STOP_GENERATOR:
        fprintf(stderr, "salvo: the generator, not the service, is the limit at %.0f/s: add threads or shards\n",
                s->hi);
        return EXIT_INVALID;
    case FIND_STOP_GENERATOR_GAP:
        fprintf(stderr,
                "salvo: the service fails at %.0f/s, but the generator could not produce more than %.0f/s: the "
                "capacity lies between them; add threads or shards\n",
                s->fail, s->lo);
        return EXIT_INVALID;
    case FIND_STOP_LOWEST_FAILS:
        fprintf(stderr, "salvo: even the lowest rate, %.0f/s, is not sustainable within the SLOs\n", s->from);
        return EXIT_THRESHOLD;
    default:
        fprintf(stderr, "salvo: no rate held within the SLOs for a confirmation (lowest failing %.0f/s)\n", s->hi);
        return EXIT_THRESHOLD;
    }
}

/* The find result: capacity, bracket, every step, why it stopped. */
static json_t *find_doc(const struct find_search *s, json_t *steps, const struct find_args *f, int sig)
{
    json_t *slo = json_array();
    for (int i = 0; i < f->a->nthresholds; i++)
        json_array_append_new(slo, json_string(f->a->thresholds[i].text));
    bool found = !sig && (s->stop == FIND_STOP_FOUND || s->stop == FIND_STOP_MAX);
    return json_pack("{s:s, s:s, s:o, s:[o,o], s:O, s:s, s:o, s:f, s:f, s:f, s:f, s:f, s:f}", "tool", "salvo", "kind",
                     "find", "capacity", found ? json_real(s->capacity) : json_null(), "bracket",
                     s->lo > 0 ? json_real(s->lo) : json_null(), s->hi > 0 ? json_real(s->hi) : json_null(), "steps",
                     steps, "stopped_by", sig ? "interrupted" : find_stop_name(s->stop), "slo", slo, "from", s->from,
                     "max", s->max, "precision", s->precision, "growth", s->growth, "step_duration_s",
                     (double)f->step_ns / 1e9, "warmup_share", FIND_WARMUP_SHARE);
}

/* The search loop; returns the exit code and leaves the steps in steps. */
static int search(struct run_config *cfg, struct find_args *f, struct find_search *s, json_t *steps, int *sig)
{
    static struct find_run fr;
    fr.a = f->a;
    double rate;
    bool confirm;
    FILE *out = cfg->quiet ? NULL : stdout;
    bool retried = false; /* an invalid step is run once more before it bounds the search */
    while (find_next(s, &rate, &confirm)) {
        char br[80];
        if (!cfg->quiet && f->a->progress != PROGRESS_OFF)
            fprintf(stderr, "salvo: find step %d at %.0f/s%s%s%s\n", s->steps + 1, rate,
                    confirm ? " (confirming, 2x long)" : "", bracket_text(s, br, sizeof(br))[0] ? ", bracket " : "",
                    br);
        enum find_verdict v;
        int rc;
        json_t *doc = run_step(cfg, &fr, rate, confirm, f->step_ns, (int)json_array_size(steps) + 1, &v, &rc);
        if (!doc) {
            *sig = SIGINT;
            return -1;
        }
        if (rc < 0) {
            fprintf(stderr, "salvo: run failed: %s\n", error_text(rc));
            json_decref(doc);
            find_abort(s, FIND_STOP_RUN_FAILED);
            return EXIT_RUNTIME;
        }
        const char *cause = json_string_value(json_object_get(doc, "runtime_error"));
        if (cause && v == FIND_FAIL) /* a service that died mid-search: say so rather than "observed nan" */
            json_object_set_new(json_object_get(doc, "find"), "why", json_string(cause));
        if (json_array_size(steps) == 0 && !answered(doc)) {
            /* The step ran (it is in the JSON and the table), but there is nothing to judge: no answer at all. */
            json_t *fo = json_object_get(doc, "find");
            json_object_set_new(fo, "verdict", json_string("fail"));
            json_object_set_new(fo, "why", json_string(cause ? cause : "no HTTP response"));
            if (out) print_step(out, 0, doc);
            fprintf(stderr, "salvo: '%s' does not answer: no HTTP response in the first step; the search stops\n",
                    cfg->url_text);
            json_array_append_new(steps, doc);
            find_abort(s, FIND_STOP_NO_ANSWER);
            return EXIT_RUNTIME;
        }
        json_array_append_new(steps, doc);
        if (out) print_step(out, (int)json_array_size(steps) - 1, doc);
        if (out) fflush(out);
        /* A stall of the machine (a steal burst, a neighbour) is not the generator's limit: one retry. */
        if (v == FIND_INVALID && !retried) {
            retried = true;
            if (!cfg->quiet && f->a->progress != PROGRESS_OFF)
                fprintf(stderr, "salvo: find step at %.0f/s was invalid; running it once more\n", rate);
            if ((*sig = cooldown(f->cooldown_ns))) return -1;
            continue;
        }
        retried = false;
        find_record(s, v);
        if (s->phase != FIND_DONE && (*sig = cooldown(f->cooldown_ns))) return -1;
    }
    return -1;
}

int cli_find(int argc, char **argv)
{
    static struct run_config cfg;
    static struct run_args a;
    char *body_buf;
    run_cli_defaults(&cfg, &a);
    struct find_args f = {.cfg = &cfg,
                          .a = &a,
                          .from = 100,
                          .max = 1e6,
                          .precision = 0.05,
                          .step_ns = 20 * NS_PER_S,
                          .cooldown_ns = 2 * NS_PER_S};
    /* The rate and length each step gets are find's; run's checks see the first step's. */
    a.rate_given = true;
    cfg.rate = 100;
    cfg.duration_ns = f.step_ns;
    struct run_cli_ext ext = {
        .name = "find",
        .synopsis = "usage: salvo find URL --slo EXPR... [options]   or   salvo find --targets FILE --slo EXPR...\n"
                    "  the highest rate the service sustains within its SLOs (docs/find.md)\n",
        .epilog = "exit: 0 found, 99 even --from fails, 98 the generator is the limit, 1 no answer, 130/143 signal\n",
        .opts = find_opts,
        .nopts = CLI_NOPTS(find_opts),
        .handle = find_opt,
        .ctx = &f,
    };
    int code = run_cli_prepare(argc, argv, &ext, &cfg, &a, &body_buf);
    struct find_search s;
    if (code < 0 && a.nthresholds == 0) code = usage_error("find needs at least one --slo, e.g. 'latency.p99 < 250ms'");
    if (code < 0 && f.from > f.max) code = usage_error("--from %.0f/s is above --max %.0f/s", f.from, f.max);
    if (code < 0 && find_init(&s, f.from, f.max, f.precision) < 0)
        code = usage_error("bad --from, --max or --precision");
    const char *outs[] = {cfg.json_path, a.html_path, a.junit_path};
    if (code < 0) code = probe_outputs(outs, 3);
    if (code < 0 && cfg.nstages) {
        /* run's checks saw the ramp's length: the steps' --scrape/--profile are checked for theirs before traffic. */
        struct run_config step = cfg;
        step.nstages = 0;
        step.duration_ns = f.step_ns;
        code = evidence_step(&step, &a, 1);
    }
    if (code >= 0) {
        run_cli_release(&cfg, &a, body_buf);
        return code;
    }
    json_t *steps = json_array(), *ramp = NULL;
    int sig = 0;
    double seed = 0;
    /* run's preflight before the ramp or the first step: the one host every --targets line shares, too. */
    if ((code = run_preflight_listen(&cfg, "no step ran, no request was sent")) >= 0)
        find_abort(&s, FIND_STOP_NO_ANSWER);
    if (code < 0 && cfg.nstages) {
        int rc;
        cfg.start_rate = f.from; /* the ramp starts at --from (k6's startRate), not at 0 */
        ramp = run_ramp(&cfg, &a, &seed, &rc);
        if (!ramp)
            sig = SIGINT;
        else if (rc < 0 || !answered(ramp)) {
            fprintf(stderr,
                    rc < 0 ? "salvo: ramp failed: %s; no step ran\n"
                           : "salvo: '%s' does not answer: no HTTP response in the ramp; no step ran\n",
                    rc < 0 ? error_text(rc) : cfg.url_text);
            find_abort(&s, rc < 0 ? FIND_STOP_RUN_FAILED : FIND_STOP_NO_ANSWER);
            code = EXIT_RUNTIME;
        } else {
            find_seed(&s, seed);
            sig = cooldown(f.cooldown_ns);
        }
    }
    if (code < 0 && !sig) code = search(&cfg, &f, &s, steps, &sig);
    if (code < 0) code = conclude(&s, sig, cfg.quiet, json_array_size(steps));
    json_t *doc = find_doc(&s, steps, &f, sig);
    json_decref(steps);
    if (ramp) {
        json_object_set_new(doc, "ramp", ramp);
        json_object_set_new(doc, "seed_rate", json_real(seed));
    }
    if (cfg.json_path && report_json_save(doc, cfg.json_path) < 0) {
        fprintf(stderr, "salvo: cannot write '%s': %s\n", cfg.json_path, error_text(errno ? errno : EIO));
        if (code == EXIT_OK) code = EXIT_RUNTIME;
    }
    if (a.html_path) {
        int hrc = report_html_find_file(a.html_path, doc);
        if (hrc < 0) {
            fprintf(stderr, "salvo: cannot write '%s': %s\n", a.html_path, error_text(hrc));
            if (code == EXIT_OK) code = EXIT_RUNTIME;
        }
    }
    if (a.junit_path) {
        struct junit j;
        junit_init(&j, "salvo find");
        junit_add_find(&j, doc, code);
        int jrc = junit_file(&j, a.junit_path);
        junit_release(&j);
        if (jrc < 0) {
            fprintf(stderr, "salvo: cannot write '%s': %s\n", a.junit_path, error_text(jrc));
            if (code == EXIT_OK) code = EXIT_RUNTIME;
        }
    }
    json_decref(doc);
    run_cli_release(&cfg, &a, body_buf);
    return code;
}
