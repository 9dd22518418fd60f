/*
 * run_exec.c — run a parsed `salvo run` and report it: doctor findings
 * first, live progress, HdrHistogram log and Prometheus metrics each
 * second, then the summary, thresholds, JSON and HTML, and the exit code
 * of the table in docs/thresholds.md (130/143 interrupted, 2 unwritable
 * output, 1 runtime error, 98 invalid, 99 threshold failed, 0 pass).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/exit.h"
#include "cli/run_args.h"
#include "core/clock.h"
#include "load/script.h"
#include "load/run.h"
#include "report/analysis.h"
#include "report/dash.h"
#include "report/html.h"
#include "report/json.h"
#include "report/junit.h"
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

/* The one warning of a failing --remote-write, as soon as it is known (even with -q: figures are being lost). */
static void rw_warn(struct run_args *a)
{
    char msg[700];
    if (a->rw.opts && rwrite_take_warning(&a->rw, msg, sizeof(msg))) {
        progress_finish(&a->prog);
        fprintf(stderr, "salvo: warning: %s\n", msg);
    }
}

/*
 * Pushes the final figures (bounded by RW_FINAL_BUDGET_NS) and writes what
 * the pushes cost into the results: remote_write {url, pushes, ok, failed,
 * dropped, seconds_sent, seconds_dropped, series, error}.
 */
static void rw_final(struct run_args *a, json_t *doc)
{
    if (!a->rw.started) return;
    rwrite_finish(&a->rw, json_is_true(json_object_get(doc, "valid")));
    rw_warn(a);
    struct rwrite_stats st;
    rwrite_stats(&a->rw, &st);
    json_t *o = json_object();
    json_object_set_new(o, "url", json_string(a->rw_opts.url_text));
    json_object_set_new(o, "pushes", json_integer((json_int_t)st.pushes));
    json_object_set_new(o, "ok", json_integer((json_int_t)st.pushes_ok));
    json_object_set_new(o, "failed", json_integer((json_int_t)st.pushes_failed));
    json_object_set_new(o, "dropped", json_integer((json_int_t)st.pushes_dropped));
    json_object_set_new(o, "seconds_sent", json_integer((json_int_t)st.seconds_sent));
    json_object_set_new(o, "seconds_dropped", json_integer((json_int_t)st.seconds_dropped));
    json_object_set_new(o, "series", json_integer((json_int_t)st.series));
    json_object_set_new(o, "error", st.first_error[0] ? json_string(st.first_error) : json_null());
    json_object_set_new(doc, "remote_write", o);
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
    if (a->dash_addr) dash_second(&a->dash, cfg, row, merged);
    evidence_second(a);
    rwrite_second(&a->rw, row, merged);
    rw_warn(a);
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

/* "45s", "1m20s", "2h03m": how long a wait is, as a person reads it. */
static void fmt_wait(char *b, size_t n, uint64_t ns)
{
    uint64_t s = (ns + NS_PER_S - 1) / NS_PER_S;
    if (s < 60)
        snprintf(b, n, "%llus", (unsigned long long)s);
    else if (s < 3600)
        snprintf(b, n, "%llum%02llus", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
    else
        snprintf(b, n, "%lluh%02llum", (unsigned long long)(s / 3600), (unsigned long long)(s % 3600 / 60));
}

/*
 * A --start-at in the future: says when the run starts (a silent wait
 * looks like a hang; -q hides it, as the user gave the instant), then
 * waits until lead_ns before it, so the preflight sees the server as it
 * will be when the run starts. A SIGINT/SIGTERM ends the wait and stays
 * pending: run_execute takes it at once and writes an interrupted result.
 */
static void wait_start(const struct run_config *cfg, uint64_t lead_ns)
{
    uint64_t wall = clock_wall_ns(), at = cfg->start_at_wall_ns;
    if (!at || at <= wall) return;
    if (!cfg->quiet) {
        time_t secs = (time_t)(at / NS_PER_S);
        struct tm tm;
        char when[64], in[32];
        gmtime_r(&secs, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
        fmt_wait(in, sizeof(in), at - wall);
        unsigned ms = (unsigned)(at % NS_PER_S / NS_PER_MS);
        if (ms)
            fprintf(stderr, "salvo: waiting until %s.%03uZ (in %s)\n", when, ms, in);
        else
            fprintf(stderr, "salvo: waiting until %sZ (in %s)\n", when, in);
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int fd = signalfd(-1, &set, SFD_CLOEXEC); /* polled, never read: the signal stays pending */
    for (;;) {
        uint64_t now = clock_wall_ns(); /* wall clock: the instant is one, on every shard */
        if (now + lead_ns >= at) break;
        uint64_t left = at - lead_ns - now;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ms = left > NS_PER_S ? 1000 : (int)(left / NS_PER_MS) + 1;
        if (fd >= 0 ? poll(&p, 1, ms) > 0 : usleep((useconds_t)ms * 1000) < 0) break;
    }
    if (fd >= 0) close(fd);
}

/* True when SIGINT or SIGTERM is pending (blocked since the start of the run verb). */
static bool signal_pending(void)
{
    sigset_t pending;
    return sigpending(&pending) == 0 && (sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM));
}

/*
 * One connect to the target before the first request: when nothing
 * listens there every request would be refused, so the run stops before
 * sending with exit 1 and the cause on one line. A connect that times out
 * or fails otherwise is left to the run: a firewall that drops SYNs is
 * something to measure. Returns -1 (go on) or EXIT_RUNTIME.
 */
int run_preflight_listen(const struct run_config *cfg, const char *nothing_sent)
{
    if (!cfg->url.addr_len || signal_pending()) return -1;
    int rc = doctor_probe_connect((const struct sockaddr *)&cfg->url.addr, cfg->url.addr_len, 1000);
    if (rc != -ECONNREFUSED) return -1;
    fprintf(stderr, "salvo: ERROR: nothing listens on %s (connection refused); %s\n", cfg->url.host_header,
            nothing_sent);
    return EXIT_RUNTIME;
}

/* run_hooks.started: t0 for the scrape and profile threads. */
static void on_started(void *ctx, uint64_t start_ns)
{
    evidence_started(ctx, start_ns);
}

/* run_hooks.interrupted: says what happens now, even with -q (the user is waiting for it). */
static void on_interrupted(void *ctx, int sig)
{
    struct run_args *a = ctx;
    progress_finish(&a->prog);
    fprintf(stderr, "salvo: %s: stopping, the results follow (again to abort at once)\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

void run_note_ending(json_t *doc, const struct run_result *r, int rc)
{
    if (r->stop_signal)
        json_object_set_new(doc, "interrupted_by", json_string(r->stop_signal == SIGTERM ? "SIGTERM" : "SIGINT"));
    const struct recorder *t = &r->total;
    char why[400] = "";
    if (rc < 0)
        snprintf(why, sizeof(why), "%s", error_text(rc));
    else if (r->script_hang[0])
        snprintf(why, sizeof(why), "script_error: %s (the watchdog ended the run; the figures are up to then)",
                 r->script_hang);
    else if (!r->stop_signal && t->scheduled > 0 && t->ok + t->http_error + t->check_failed == 0)
        snprintf(why, sizeof(why), "no response to any of %llu requests: %s", (unsigned long long)t->scheduled,
                 r->first_error[0] ? r->first_error : "none came back");
    if (why[0]) json_object_set_new(doc, "runtime_error", json_string(why));
}

/* Starts --dashboard with the run's description. Returns -1 (go on) or EXIT_RUNTIME. */
static int start_dashboard(const struct run_config *cfg, struct run_args *a)
{
    static const char *const actions[] = {"pause", "kill", "toxic", "exec"};
    double spans[MAX_CHAOS][2];
    const char *names[MAX_CHAOS];
    for (size_t i = 0; i < a->nchaos; i++) {
        spans[i][0] = (double)a->chaos_spans[i][0] / 1e9;
        spans[i][1] = (double)a->chaos_spans[i][1] / 1e9;
        names[i] = (unsigned)a->chaos[i].action < 4 ? actions[a->chaos[i].action] : "chaos";
    }
    struct dash_info info = {.cfg = cfg,
                             .thresholds = a->thresholds,
                             .nthresholds = a->nthresholds,
                             .chaos = (const double(*)[2])spans,
                             .chaos_action = names,
                             .nchaos = a->nchaos};
    int rc = dash_start(&a->dash, a->dash_addr, &info);
    if (rc < 0) {
        fprintf(stderr, "salvo: cannot serve the dashboard on '%s': %s\n", a->dash_addr, error_text(rc));
        return EXIT_RUNTIME;
    }
    /* -q hides it, unless the kernel chose the port: then nobody else can know it. */
    size_t n = strlen(a->dash_addr);
    bool chosen = !strcmp(a->dash_addr, "0") || (n >= 2 && !strcmp(a->dash_addr + n - 2, ":0"));
    if (!cfg->quiet || chosen) fprintf(stderr, "salvo: dashboard on %s\n", a->dash.url);
    return -1;
}

/*
 * The dashboard's end: the final state, then --dashboard-linger (a
 * SIGINT/SIGTERM ends the wait, not the exit code: the run is over), then
 * the server stops. Without linger it stops at once.
 */
static void end_dashboard(const struct run_config *cfg, struct run_args *a, json_t *doc, int code, bool interrupted)
{
    if (!a->dash_addr) return;
    dash_finish(&a->dash, doc, code);
    if (a->dash_linger_ns && !interrupted) {
        char d[32];
        fmt_wait(d, sizeof(d), a->dash_linger_ns);
        if (!cfg->quiet) fprintf(stderr, "salvo: dashboard stays up for %s on %s (Ctrl-C ends it)\n", d, a->dash.url);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        struct timespec ts = clock_ns_to_timespec(a->dash_linger_ns);
        while (sigtimedwait(&set, NULL, &ts) < 0 && errno == EINTR) {
        }
    }
    dash_stop(&a->dash);
}

/*
 * Writes the JUnit report of doc; returns code, or EXIT_RUNTIME when the
 * file could not be written (said on stderr).
 */
static int write_junit(const char *path, json_t *doc, int code)
{
    struct junit j;
    junit_init(&j, "salvo run");
    junit_add_result(&j, "salvo.run", doc);
    int rc = junit_file(&j, path);
    junit_release(&j);
    if (rc < 0) {
        fprintf(stderr, "salvo: cannot write '%s': %s\n", path, error_text(rc));
        return exit_worse(code, EXIT_RUNTIME);
    }
    return code;
}

/* --script: done(summary, latency, requests) with the run's figures. Returns 0 or -1 with why. */
static int script_report(const struct run_config *cfg, const struct run_result *r, char *why, size_t cap)
{
    if (!cfg->script) return 0;
    uint64_t *per_second = calloc(r->nrows ? r->nrows : 1, sizeof(*per_second));
    if (!per_second) abort();
    for (size_t i = 0; i < r->nrows; i++)
        per_second[i] = r->timeline[i].done;
    struct script_figures f = {&r->total, r->duration_s, per_second, r->nrows};
    int rc = script_done(cfg->script, &f, why, cap);
    free(per_second);
    return rc;
}

/* Runs the configured load and reports; returns the exit code. */
int run_cli_execute(struct run_config *cfg, struct run_args *a)
{
    raise_nofile();
    struct run_result r;
    const char *outs[] = {cfg->json_path, a->html_path, a->hlog_path, a->junit_path};
    int code = probe_outputs(outs, sizeof(outs) / sizeof(outs[0]));
    if (code >= 0) return code;
    /*
     * From here a SIGINT/SIGTERM waits for run_execute, which stops the run
     * and writes its results. A shell script starts `salvo run … &` with
     * SIGINT ignored, and an ignored signal is dropped even while blocked:
     * `kill -INT $!` must still stop the run (as it does a vegeta or k6).
     */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    doctor_preflight(cfg);
    wait_start(cfg, NS_PER_S);
    if ((code = run_preflight_listen(cfg, "no request was sent")) >= 0) return code;
    progress_init(&a->prog, stderr, cfg->quiet ? PROGRESS_OFF : a->progress);
    if (a->hlog_path) {
        int hrc = hlog_open(&a->hlog, a->hlog_path, clock_wall_ns());
        if (hrc < 0) {
            fprintf(stderr, "salvo: cannot write '%s': %s\n", a->hlog_path, error_text(hrc));
            return EXIT_USAGE;
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
    if (a->rw_opts.url_text) {
        const char *why = "";
        if (rwrite_start(&a->rw, &a->rw_opts, cfg, &why) < 0) {
            fprintf(stderr, "salvo: cannot push to '%s': %s\n", a->rw_opts.url_text, why);
            prom_stop(&a->prom);
            hlog_close(&a->hlog);
            return EXIT_USAGE;
        }
    }
    for (size_t i = 0; i < a->nchaos; i++) {
        a->chaos_spans[i][0] = a->chaos[i].at_ns;
        a->chaos_spans[i][1] = a->chaos[i].at_ns + (a->chaos[i].for_ns ? a->chaos[i].for_ns : NS_PER_S);
    }
    cfg->chaos_spans = (const uint64_t(*)[2])a->chaos_spans;
    cfg->nchaos_spans = (uint32_t)a->nchaos;
    if (a->dash_addr && (code = start_dashboard(cfg, a)) >= 0) {
        prom_stop(&a->prom);
        hlog_close(&a->hlog);
        return code;
    }
    struct run_hooks hooks = {.second = on_second,
                              .ctx = a,
                              .chaos = a->chaos,
                              .nchaos = a->nchaos,
                              .interrupted = on_interrupted,
                              .started = on_started};
    evidence_begin(cfg, a);
    int rc = run_execute(cfg, &hooks, &r);
    /* Interrupted: a second signal while the results are written (a blocked pipe, a slow disk) kills at once. */
    if (r.stop_signal) pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
    progress_finish(&a->prog);
    prom_stop(&a->prom);
    if (hlog_close(&a->hlog) < 0) fprintf(stderr, "salvo: cannot write '%s'\n", a->hlog_path);
    if (rc < 0) fprintf(stderr, "salvo: run failed: %s\n", error_text(rc));
    run_analyse(cfg, &r);
    json_t *doc = report_json_build(cfg, &r);
    run_note_ending(doc, &r, rc);
    rw_final(a, doc);
    evidence_end(a, doc, r.nrows, r.stop_signal != 0);
    thresholds_apply(a->thresholds, a->nthresholds, doc);
    if (!cfg->quiet) summary_print(stdout, doc, summary_color_flags(stdout));
    fflush(stdout);
    char done_why[512];
    bool done_failed = !r.script_hang[0] && script_report(cfg, &r, done_why, sizeof(done_why)) < 0;
    if (r.total.errors[ERR_TLS_VERIFY])
        fprintf(stderr, "salvo: TLS %s for '%s' (use -k to skip verification)\n", r.first_error, cfg->url.host);
    /* One decision for run, merge and report: the verdict of the results JSON (report/analysis.h). */
    code = verdict_of(doc).exit_code;
    if (done_failed) {
        /* The results stand; the script's report did not run to its end. */
        fprintf(stderr, "salvo: ERROR: done() failed: %s\n", done_why);
        code = exit_worse(code, EXIT_RUNTIME);
    }
    const char *cause = json_string_value(json_object_get(doc, "runtime_error"));
    if (cause && rc >= 0 && !r.stop_signal) fprintf(stderr, "salvo: ERROR: %s\n", cause);
    if (cfg->json_path && report_json_save(doc, cfg->json_path) < 0) {
        fprintf(stderr, "salvo: cannot write '%s': %s\n", cfg->json_path, error_text(errno ? errno : EIO));
        code = exit_worse(code, EXIT_RUNTIME);
    }
    if (a->html_path) {
        int hrc = report_html_file(a->html_path, &doc, NULL, 1);
        if (hrc < 0) {
            fprintf(stderr, "salvo: cannot write '%s': %s\n", a->html_path, error_text(hrc));
            code = exit_worse(code, EXIT_RUNTIME);
        }
    }
    if (a->junit_path) code = write_junit(a->junit_path, doc, code);
    /* A run that did not pass says so on stderr, even with -q (a script's log shows why). */
    if (code != EXIT_OK) summary_print_verdict(stderr, doc, verdict_word(code), summary_color_flags(stderr));
    end_dashboard(cfg, a, doc, code, r.stop_signal != 0);
    json_decref(doc);
    run_result_release(&r);
    rwrite_release(&a->rw);
    for (size_t i = 0; i < a->nchaos; i++) {
        char note[1200];
        if (chaos_window_reap(&a->chaos[i], note, sizeof(note)) > 0) fprintf(stderr, "salvo: %s\n", note);
        chaos_window_release(&a->chaos[i]);
    }
    return code;
}
