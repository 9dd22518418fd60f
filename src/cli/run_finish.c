/*
 * run_finish.c — `salvo run`: what is checked once every option is known
 * (the request generator, rates, combinations, stages, the run id and the
 * provenance); run_cli.c parses the options, run_exec.c runs and reports.

 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/random.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/exit.h"
#include "cli/provenance.h"
#include "cli/run_args.h"
#include "core/clock.h"
#include "core/units.h"
#include "http/url.h"
#include "load/body_budget.h"
#include "load/check_stream.h"
#include "load/config.h"
#include "load/feeder.h"
#include "load/reqgen.h"
#include "load/script.h"
#include "load/targets.h"
#include "report/dash.h"
#include "report/progress.h"
#include "report/thresholds.h"

#define START_AT_MAX_AHEAD_NS (24 * 3600 * NS_PER_S) /* further ahead is a typo (a year, a day), not a plan */
#define FEW_REQUESTS 10                              /* fewer than this make no percentile worth reading */
#define MAX_RATE 1e7                                 /* per process: beyond it the backlog alone would exhaust memory */

/* Builds the request generator from one URL or a targets file, with data. */
static int build_requests(struct run_config *cfg, struct run_args *a, char **body_buf)
{
    char why[600];
    if (a->data_path) {
        struct feeder_error fe;
        if (feeder_open(&a->feeder, a->data_path, &fe) < 0) return usage_error("%s", fe.msg);
        a->has_feeder = true;
    }
    struct reqgen_spec *specs;
    size_t n = 1;
    if (a->targets_path) {
        struct feeder_error fe;
        if (targets_parse(a->targets_path, &a->targets, &fe) < 0) return usage_error("%s", fe.msg);
        a->has_targets = true;
        n = a->targets.count;
    }
    specs = calloc(n, sizeof(*specs));
    struct url *urls = calloc(n, sizeof(*urls));
    if (!specs || !urls) abort();
    int code = -1;
    for (size_t i = 0; code < 0 && i < n && a->has_targets; i++) {
        const struct target *t = &a->targets.items[i];
        const char *uwhy;
        if (url_parse(&urls[i], t->url, &uwhy) < 0) {
            char shown[512];
            url_mask_password(shown, sizeof(shown), t->url);
            snprintf(why, sizeof(why), "'%s' line %zu: bad URL '%s': %s", a->targets_path, t->line, shown, uwhy);
            code = usage_error("%s", why);
        } else if (i > 0 &&
                   (urls[i].tls != urls[0].tls || strcmp(urls[i].host, urls[0].host) || urls[i].port != urls[0].port)) {
            snprintf(why, sizeof(why),
                     "'%s' line %zu: every target must use the same scheme, host and port as the first",
                     a->targets_path, t->line);
            code = usage_error("%s", why);
        }
        specs[i] = (struct reqgen_spec){.method = t->method,
                                        .path = urls[i].path,
                                        .headers = (const char *const *)t->headers,
                                        .nheaders = t->nheaders,
                                        .body = t->body,
                                        .body_len = t->body_len,
                                        .name = cfg->name ? cfg->name : t->name,
                                        .weight = t->weight};
    }
    if (code < 0 && a->has_targets) cfg->url = urls[0];
    if (code < 0 && !a->has_targets) {
        size_t body_len = a->body ? strlen(a->body) : 0;
        const char *body = a->body;
        if (a->body_file) {
            int rc = cli_read_file(a->body_file, body_buf, &body_len);
            if (rc < 0) code = usage_error("cannot read '%s': %s", a->body_file, error_text(rc));
            body = *body_buf;
        }
        specs[0] = (struct reqgen_spec){.method = cfg->method,
                                        .path = cfg->url.path,
                                        .headers = a->headers,
                                        .nheaders = a->nheaders,
                                        .body = body,
                                        .body_len = body_len,
                                        .name = cfg->name,
                                        .weight = 1};
    }
    if (code < 0 && reqgen_init(&a->gen, specs, n, a->has_feeder ? &a->feeder : NULL, a->pick, cfg->seed, a->pick_seed,
                                cfg->url.host_header, a->max_names, why, sizeof(why)) < 0)
        code = usage_error("%s", why);
    free(specs);
    free(urls);
    if (code >= 0) return code;
    cfg->gen = &a->gen;
    if (!cfg->name) cfg->name = a->gen.names[0];
    return -1;
}

/* Refuses rates one process cannot send and ramps that last no time. Returns -1 or an exit code. */
static int check_rates(const struct run_config *cfg)
{
    double top = cfg->nstages ? cfg->start_rate : cfg->rate;
    uint64_t total_ns = 0;
    for (size_t i = 0; i < cfg->nstages; i++) {
        if (cfg->stages[i].target_rate > top) top = cfg->stages[i].target_rate;
        total_ns += cfg->stages[i].duration_ns;
    }
    if (!cfg->closed && top > MAX_RATE) {
        char rate[32], max[32];
        snprintf(rate, sizeof rate, "%.0f", top);
        snprintf(max, sizeof max, "%.0f", MAX_RATE);
        return usage_error("rate %s/s is beyond one salvo process (at most %s/s): split it with --shard", rate, max);
    }
    if (cfg->nstages && total_ns == 0)
        return usage_error("--stages lasts 0 s: give at least one stage a duration, e.g. 0s:100,30s:100");
    return -1;
}

/*
 * Refuses the pairs of options where one would silently win or mean
 * something else than it says (before any traffic). Returns -1 or an exit code.
 */
static int check_combinations(const struct run_config *cfg, const struct run_args *a)
{
    int code;
    if (a->conn_stages && a->stages_given)
        return usage_error("give --stages (a rate) or --conn-stages (connections), not both");
    if (a->stages_given && cfg->closed)
        return usage_error("--stages is a request rate and --closed has none: to ramp connections in the closed "
                           "model use --conn-stages SPEC (-r then caps the rate)");
    if (cfg->nstages && a->duration_given)
        return usage_error("--%s sets the run's length: drop -d/--duration (or add a stage)",
                           a->conn_stages ? "conn-stages" : "stages");
    if (a->dash_linger_ns && !a->dash_addr) return usage_error("--dashboard-linger needs --dashboard ADDR");
    if (cfg->pipeline > 1 && cfg->no_keepalive)
        return usage_error("--pipeline needs kept-alive connections: drop --no-keepalive");
    if (cfg->pipeline > 1 && cfg->closed && (a->rate_given || cfg->nstages))
        return usage_error("--pipeline in the closed model keeps N in flight: it cannot be paced (-r) or ramped "
                           "(--conn-stages)");
    if ((code = run_check_protocol(cfg, a)) >= 0) return code;
    if (a->pick_given && !a->data_path)
        return usage_error("--pick '%s' picks rows of a data file: add --data FILE", pick_mode_name(a->pick));
    if (a->pick_seed_given && !a->data_path) return usage_error("--pick-seed needs --data FILE and --pick random");
    if (a->body && a->body_file) return usage_error("give either --body or --body-file, not both");
    if (a->rw_opts.nheaders && !a->rw_opts.url_text)
        return usage_error("--remote-write-header is for the pushes of --remote-write URL: add it");
    if (a->targets_path && (a->body || a->body_file || a->nheaders))
        return usage_error("with --targets '%s', headers and bodies come from the targets file", a->targets_path);
    uint64_t now = clock_wall_ns();
    if (cfg->start_at_wall_ns && cfg->start_at_wall_ns + NS_PER_S < now)
        return usage_error("--start-at is in the past");
    if (cfg->start_at_wall_ns > now + START_AT_MAX_AHEAD_NS)
        return usage_error("--start-at is %.1f h ahead (at most 24 h): a typo in the date?",
                           (double)(cfg->start_at_wall_ns - now) / 3600e9);
    return -1;
}

/* Turns the stages into the run's length and mean rate, or (--conn-stages) into the closed ramp. */
static void apply_stages(struct run_config *cfg, struct run_args *a)
{
    if (a->conn_stages) {
        /* Closed model: the stages ramp the number of connections (k6's ramping-vus); -r caps the rate. */
        struct schedule_cfg sc = {.stages = cfg->stages, .nstages = cfg->nstages, .nshards = 1, .nthreads = 1};
        cfg->closed = true;
        cfg->duration_ns = schedule_duration_ns(&sc);
        cfg->conn_ramp = true;
        double top = 0;
        for (size_t i = 0; i < cfg->nstages; i++)
            if (cfg->stages[i].target_rate > top) top = cfg->stages[i].target_rate;
        if (!a->conns_given) cfg->connections = top < 1 ? 1 : (uint32_t)(top + 0.5);
        a->conns_given = true;
    } else if (cfg->nstages) {
        if (a->rate_given) cfg->start_rate = cfg->rate; /* k6's startRate: the ramp starts from -r instead of 0 */
        struct schedule_cfg sc = {
            .stages = cfg->stages, .nstages = cfg->nstages, .start_rate = cfg->start_rate, .nshards = 1, .nthreads = 1};
        cfg->duration_ns = schedule_duration_ns(&sc);
        cfg->rate = schedule_expected_count(&sc) / ((double)cfg->duration_ns / 1e9);
        a->rate_given = true;
    }
}

/* Warns (unless -q) when the run schedules so few requests that its figures mean little. */
static void warn_few_requests(const struct run_config *cfg)
{
    if ((cfg->closed && cfg->rate <= 0) || cfg->quiet) return; /* an uncapped closed loop has no schedule */
    double n = cfg->rate * ((double)cfg->duration_ns / 1e9) / (cfg->nshards ? cfg->nshards : 1);
    if (n >= FEW_REQUESTS) return;
    fprintf(stderr,
            "salvo: warning: %.4g/s for %.4g s schedules about %.3g requests (fewer than %d): "
            "raise -r or -d for figures that mean something\n",
            cfg->rate, (double)cfg->duration_ns / 1e9, n, FEW_REQUESTS);
}

/* Fills defaults and checks combinations once all options are known. */
int finish_config(struct run_config *cfg, struct run_args *a, char **body_buf)
{
    const char *why = NULL;
    const char *outs[] = {cfg->json_path, a->html_path, a->hlog_path, a->junit_path};
    int code = probe_outputs(outs, sizeof(outs) / sizeof(outs[0]));
    if (code >= 0) return code;
    if (cfg->url_text && url_parse(&cfg->url, cfg->url_text, &why) < 0) {
        char shown[512];
        url_mask_password(shown, sizeof(shown), cfg->url_text);
        return usage_error("bad URL '%s': %s", shown, why);
    }
    if (!cfg->url_text && !a->targets_path) return usage_error("missing URL: salvo run URL [options]");
    if (cfg->url_text && a->targets_path) return usage_error("give a URL or --targets '%s', not both", a->targets_path);
    code = check_combinations(cfg, a);
    if (code >= 0) return code;
    if (cfg->json_path && !strcmp(cfg->json_path, "-")) cfg->quiet = true; /* stdout is the JSON's alone */
    apply_stages(cfg, a);
    if ((code = check_rates(cfg)) >= 0) return code;
    for (size_t i = 0; i < a->nchaos; i++) /* a window that cannot fire is a mistake, not a no-op */
        if (a->chaos[i].at_ns >= cfg->duration_ns)
            return usage_error("bad --chaos '%s': %s", a->chaos[i].spec, "at= is at or after the end of the run (-d)");
    if (!cfg->closed && !a->rate_given)
        return usage_error("the open model needs a rate: add -r N (requests/s), or --closed for a closed loop");
    if (cfg->closed && !a->conns_given) cfg->connections = 10;
    if (!a->threads_given) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->threads = n > 0 ? (uint32_t)n : 1;
    }
    if (cfg->threads > cfg->connections) cfg->threads = cfg->connections;
    if ((code = build_requests(cfg, a, body_buf)) >= 0) return code;
    if ((code = run_script_check(cfg, a)) >= 0) return code;
    if (!cfg->url_text) cfg->url_text = a->targets_path;
    if (url_resolve(&cfg->url, &why) < 0) { /* a runtime failure (DNS may answer later), not a usage error */
        fprintf(stderr, "salvo: cannot resolve '%s': %s\n", cfg->url.host, why);
        return EXIT_RUNTIME;
    }
    if (cfg->url.tls && tls_init(&cfg->tls, cfg->tls.verify, &why) < 0) {
        fprintf(stderr, "salvo: %s\n", why);
        return EXIT_RUNTIME;
    }
    /* h2 is offered unless HTTP/1.1 is forced or asked of by an option that means HTTP/1.1 only (run_h1_only). */
    if (cfg->http_mode == HTTP_AUTO && (!cfg->url.tls || run_h1_only(cfg, a))) cfg->http_mode = HTTP_1;
    if (cfg->url.tls && tls_set_alpn(&cfg->tls, cfg->http_mode != HTTP_1) < 0) {
        fprintf(stderr, "salvo: cannot set the TLS ALPN protocols\n");
        return EXIT_RUNTIME;
    }
    if ((code = evidence_prepare(cfg, a)) >= 0) return code;
    if ((code = run_script_load(cfg, a)) >= 0) return code;
    warn_few_requests(cfg);
    if (a->pick == PICK_RANDOM && !cfg->quiet)
        printf("salvo: --pick random from '%s' with pick seed %llu (--pick-seed %llu draws the same rows again)\n",
               a->data_path, (unsigned long long)a->pick_seed, (unsigned long long)a->pick_seed);
    return -1;
}

/* FNV-1a of a string (with its terminator, so "ab"+"c" differs from "a"+"bc") into h. */
static uint64_t fnv_add(uint64_t h, const char *s)
{
    if (!s) s = "";
    do
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    while (*s++);
    return h;
}

/*
 * The run id: a hash of what every shard of one run must share (target,
 * requests and how they are picked, headers, body, schedule, shard count,
 * start instant), so `salvo merge` can refuse results of different runs.
 * The shard index is left out, and so is --pick-seed: it varies per run
 * (and per shard) by default so that a repeated run meets a cold cache.
 */
void compute_run_id(struct run_config *cfg, const struct run_args *a)
{
    char buf[2048];
    int n = snprintf(
        buf, sizeof(buf), "%s|%s|%s|%s|%.6f|%d|%llu|%llu|%u|%llu|%d|%u|%s", cfg->url_text ? cfg->url_text : "",
        cfg->method, a->data_path ? a->data_path : "", a->targets_path ? a->targets_path : "", cfg->rate,
        (int)cfg->arrival, (unsigned long long)cfg->duration_ns, (unsigned long long)cfg->seed, cfg->nshards,
        (unsigned long long)cfg->start_at_wall_ns, cfg->closed, (unsigned)cfg->nstages, cfg->name ? cfg->name : "");
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (int i = 0; i < n && i < (int)sizeof(buf); i++)
        h = (h ^ (unsigned char)buf[i]) * 1099511628211ull;
    for (size_t i = 0; i < cfg->nstages; i++)
        h = (h ^ (cfg->stages[i].duration_ns + (uint64_t)(cfg->stages[i].target_rate * 1000))) * 1099511628211ull;
    char extra[96];
    snprintf(extra, sizeof extra, "%d|%u|%.6f|%llu", (int)a->pick, (unsigned)a->max_names, cfg->start_rate,
             (unsigned long long)cfg->timeout_ns);
    h = fnv_add(h, extra);
    if (cfg->session_timeout_ns) { /* only when given: the ids of runs without it stay as they were */
        snprintf(extra, sizeof extra, "session-timeout=%llu", (unsigned long long)cfg->session_timeout_ns);
        h = fnv_add(h, extra);
    }
    for (size_t i = 0; i < a->nheaders; i++)
        h = fnv_add(h, a->headers[i]);
    h = fnv_add(fnv_add(h, a->body), a->body_file);
    snprintf(cfg->run_id, sizeof(cfg->run_id), "%016llx", (unsigned long long)h);
}

/*
 * Fills what the results say was run: the command line shell-quoted and
 * every secret header value redacted (cli/provenance.h), the request
 * sources, headers, body and thresholds.
 */
void keep_provenance(struct run_config *cfg, struct run_args *a, int argc, char **argv)
{
    struct redactions r = {a->redact, a->nredact};
    provenance_command(cfg->command_line, sizeof(cfg->command_line), argc, argv, &r);
    for (size_t i = 0; i < a->nheaders; i++) {
        provenance_header(a->header_shown[i], sizeof(a->header_shown[i]), a->headers[i], &r);
        a->header_shown_ptr[i] = a->header_shown[i];
    }
    for (int i = 0; i < a->nthresholds; i++)
        a->threshold_text[i] = a->thresholds[i].text;
    cfg->prov = (struct run_provenance){
        .data_path = a->data_path,
        .targets_path = a->targets_path,
        .pick = a->data_path ? pick_mode_name(a->pick) : NULL,
        .headers = a->header_shown_ptr,
        .nheaders = a->nheaders,
        .body = a->body,
        .body_file = a->body_file,
        .thresholds = a->threshold_text,
        .nthresholds = (size_t)a->nthresholds,
        .redact = a->redact,
        .nredact = a->nredact,
    };
}
