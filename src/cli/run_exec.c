/*
 * run_exec.c — run a parsed `salvo run` and report it: doctor findings
 * first, live progress, HdrHistogram log and Prometheus metrics each
 * second, then the summary, thresholds, JSON and HTML, and the exit code
 * (0 ok, 1 runtime error, 98 invalid, 99 threshold failed).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/run_args.h"
#include "core/clock.h"
#include "load/run.h"
#include "report/analysis.h"
#include "report/html.h"
#include "report/json.h"
#include "report/summary.h"
#include "sys/doctor.h"

/* Raises the soft open-file limit to the hard limit: every connection is a file. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* run_hooks.second: progress line and HdrHistogram log line. */
static void on_second(void *ctx, const struct run_config *cfg, const struct timeline_row *row,
                      const struct interval *merged)
{
    struct run_args *a = ctx;
    progress_second(&a->prog, cfg, row);
    /* One log line per request name (the tag) and second. */
    for (uint32_t g = 0; a->hlog.f && g < merged->ngroups; g++) {
        hlog_interval(&a->hlog, cfg->gen->names[g], (double)row->t, 1.0, interval_group_latency(merged, g));
    }
    if (a->metrics_addr) prom_second(&a->prom, cfg, row, merged);
}

/*
 * Prints the doctor findings that matter to this run, before it starts:
 * each failure in full (the run will hit that limit, so not even -q hides
 * it), and all warnings together on one short line (not with -q). The
 * symptom and the fix of a warning are 'salvo doctor''s to explain: in
 * full they wrapped over several terminal lines before every run.
 */
static void doctor_preflight(const struct run_config *cfg)
{
    struct doctor_plan plan;
    doctor_plan_init(&plan);
    plan.rate = cfg->closed ? 0 : cfg->rate;
    plan.connections = cfg->connections;
    plan.threads = cfg->threads;
    plan.keepalive = !cfg->no_keepalive;
    plan.target_host = cfg->url.host;
    plan.target_port = (uint16_t)cfg->url.port;
    struct doctor_report *rep = malloc(sizeof(*rep));
    if (!rep) abort();
    if (doctor_check_all(&plan, rep) == 0) {
        const struct doctor_check *found[DOCTOR_MAX_CHECKS];
        size_t n = doctor_findings(rep, DOCTOR_WARN, found, DOCTOR_MAX_CHECKS), nwarn = 0;
        char warns[512] = "";
        for (size_t i = 0; i < n && i < DOCTOR_MAX_CHECKS; i++) {
            char line[1024];
            if (found[i]->status != DOCTOR_WARN) {
                doctor_format_line(found[i], line, sizeof(line));
                fprintf(stderr, "salvo: doctor: %s\n", line);
                continue;
            }
            size_t len = strlen(warns);
            /* A short value reads at a glance; a long one is the doctor's to explain. */
            bool short_value = strlen(found[i]->value) <= 24;
            snprintf(warns + len, sizeof(warns) - len, "%s%s%s%s", nwarn++ ? ", " : "", found[i]->name,
                     short_value ? " = " : "", short_value ? found[i]->value : "");
        }
        if (nwarn && !cfg->quiet)
            fprintf(stderr, "salvo: doctor: %zu warning%s for this run: %s; 'salvo doctor' says why and how to fix\n",
                    nwarn, nwarn == 1 ? "" : "s", warns);
    }
    free(rep);
}

/* Runs the configured load and reports; returns the exit code. */
int run_cli_execute(struct run_config *cfg, struct run_args *a)
{
    raise_nofile();
    struct run_result r;
    doctor_preflight(cfg);
    progress_init(&a->prog, stderr, cfg->quiet ? PROGRESS_OFF : a->progress);
    if (a->hlog_path) {
        int hrc = hlog_open(&a->hlog, a->hlog_path, clock_wall_ns());
        if (hrc < 0) {
            fprintf(stderr, "salvo: cannot write '%s': %s\n", a->hlog_path, error_text(hrc));
            return EXIT_RUNTIME;
        }
    }
    a->prom.fd = -1;
    if (a->metrics_addr) {
        int prc = prom_start(&a->prom, a->metrics_addr);
        if (prc < 0) {
            fprintf(stderr, "salvo: cannot serve metrics on '%s': %s\n", a->metrics_addr, error_text(prc));
            hlog_close(&a->hlog);
            return EXIT_RUNTIME;
        }
        /* -q hides it, unless the kernel chose the port: then nobody else can know it. */
        size_t n = strlen(a->metrics_addr);
        bool chosen = !strcmp(a->metrics_addr, "0") || (n >= 2 && !strcmp(a->metrics_addr + n - 2, ":0"));
        if (!cfg->quiet || chosen) fprintf(stderr, "salvo: metrics on %s\n", a->prom.url);
    }
    for (size_t i = 0; i < a->nchaos; i++) {
        a->chaos_spans[i][0] = a->chaos[i].at_ns;
        a->chaos_spans[i][1] = a->chaos[i].at_ns + (a->chaos[i].for_ns ? a->chaos[i].for_ns : NS_PER_S);
    }
    cfg->chaos_spans = (const uint64_t(*)[2])a->chaos_spans;
    cfg->nchaos_spans = (uint32_t)a->nchaos;
    struct run_hooks hooks = {.second = on_second, .ctx = a, .chaos = a->chaos, .nchaos = a->nchaos};
    int rc = run_execute(cfg, &hooks, &r);
    progress_finish(&a->prog);
    prom_stop(&a->prom);
    if (hlog_close(&a->hlog) < 0) fprintf(stderr, "salvo: cannot write '%s'\n", a->hlog_path);
    if (rc < 0) fprintf(stderr, "salvo: run failed: %s\n", error_text(rc));
    run_analyse(cfg, &r);
    json_t *doc = report_json_build(cfg, &r);
    int failed = thresholds_apply(a->thresholds, a->nthresholds, doc);
    if (!cfg->quiet) summary_print(stdout, doc, summary_color_flags(stdout));
    fflush(stdout);
    if (r.total.errors[ERR_TLS_VERIFY])
        fprintf(stderr, "salvo: TLS %s for '%s' (use -k to skip verification)\n", r.first_error, cfg->url.host);
    int code = rc < 0 ? EXIT_RUNTIME : EXIT_OK;
    if (r.total.errors[ERR_H2_NOT_NEGOTIATED]) {
        fprintf(stderr,
                "salvo: '%s' did not pick h2 in TLS ALPN and --http2 requires it (drop --http2 to use HTTP/1.1)\n",
                cfg->url.host);
        if (r.total.ok + r.total.http_error == 0) code = EXIT_RUNTIME; /* not one response: the run is an ERROR */
    }
    if (cfg->json_path && report_json_save(doc, cfg->json_path) < 0) {
        fprintf(stderr, "salvo: cannot write '%s': %s\n", cfg->json_path, error_text(errno ? errno : EIO));
        code = EXIT_RUNTIME;
    }
    if (a->html_path) {
        int hrc = report_html_file(a->html_path, &doc, NULL, 1);
        if (hrc < 0) {
            fprintf(stderr, "salvo: cannot write '%s': %s\n", a->html_path, error_text(hrc));
            code = EXIT_RUNTIME;
        }
    }
    if (code == EXIT_OK && !r.valid && !cfg->allow_invalid) code = EXIT_INVALID;
    if (code == EXIT_OK && failed > 0) code = EXIT_THRESHOLD;
    /* A run that did not pass says so on stderr, even with -q (a script's log shows why). */
    if (code != EXIT_OK) summary_print_verdict(stderr, doc, verdict_word(code), summary_color_flags(stderr));
    json_decref(doc);
    run_result_release(&r);
    for (size_t i = 0; i < a->nchaos; i++) {
        char note[1200];
        if (chaos_window_reap(&a->chaos[i], note, sizeof(note)) > 0) fprintf(stderr, "salvo: %s\n", note);
        chaos_window_release(&a->chaos[i]);
    }
    return code;
}
