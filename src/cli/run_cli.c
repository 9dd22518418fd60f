/*
 * run_cli.c — `salvo run URL [options]`: parse and validate; run_exec.c
 * runs and reports.
 *
 * Everything the user typed is checked before a single request leaves:
 * a bad value names the option and the value and exits 2. The run itself
 * always ends with a summary and (with --json) a results file, also after
 * Ctrl-C, so what was measured is never lost.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/run_args.h"
#include "core/clock.h"
#include "core/units.h"
#include "load/config.h"
#include "load/feeder.h"
#include "load/reqgen.h"
#include "load/targets.h"
#include "report/progress.h"
#include "report/thresholds.h"

enum {
    OPT_ARRIVAL = 1000,
    OPT_TIMEOUT,
    OPT_CLOSED,
    OPT_BODY,
    OPT_BODY_FILE,
    OPT_JSON,
    OPT_SPIN,
    OPT_SEED,
    OPT_SHARD,
    OPT_NAME,
    OPT_MAX_LAG,
    OPT_ALLOW_INVALID,
    OPT_NO_KEEPALIVE,
    OPT_THRESHOLD,
    OPT_PROGRESS,
    OPT_HLOG,
    OPT_METRICS,
    OPT_CHAOS,
    OPT_DATA,
    OPT_PICK,
    OPT_TARGETS,
    OPT_MAX_NAMES,
    OPT_STAGES,
    OPT_START_AT,
    OPT_HTML,
    OPT_HELP
};

static const struct option long_opts[] = {
    {"rate", required_argument, 0, 'r'},
    {"arrival", required_argument, 0, OPT_ARRIVAL},
    {"duration", required_argument, 0, 'd'},
    {"connections", required_argument, 0, 'c'},
    {"threads", required_argument, 0, 't'},
    {"timeout", required_argument, 0, OPT_TIMEOUT},
    {"closed", no_argument, 0, OPT_CLOSED},
    {"method", required_argument, 0, 'm'},
    {"header", required_argument, 0, 'H'},
    {"body", required_argument, 0, OPT_BODY},
    {"body-file", required_argument, 0, OPT_BODY_FILE},
    {"insecure", no_argument, 0, 'k'},
    {"json", required_argument, 0, OPT_JSON},
    {"quiet", no_argument, 0, 'q'},
    {"spin", required_argument, 0, OPT_SPIN},
    {"seed", required_argument, 0, OPT_SEED},
    {"shard", required_argument, 0, OPT_SHARD},
    {"name", required_argument, 0, OPT_NAME},
    {"max-lag", required_argument, 0, OPT_MAX_LAG},
    {"allow-invalid", no_argument, 0, OPT_ALLOW_INVALID},
    {"no-keepalive", no_argument, 0, OPT_NO_KEEPALIVE},
    {"threshold", required_argument, 0, OPT_THRESHOLD},
    {"progress", required_argument, 0, OPT_PROGRESS},
    {"hlog", required_argument, 0, OPT_HLOG},
    {"metrics", required_argument, 0, OPT_METRICS},
    {"chaos", required_argument, 0, OPT_CHAOS},
    {"data", required_argument, 0, OPT_DATA},
    {"pick", required_argument, 0, OPT_PICK},
    {"targets", required_argument, 0, OPT_TARGETS},
    {"max-names", required_argument, 0, OPT_MAX_NAMES},
    {"stages", required_argument, 0, OPT_STAGES},
    {"start-at", required_argument, 0, OPT_START_AT},
    {"html", required_argument, 0, OPT_HTML},
    {"help", no_argument, 0, OPT_HELP},
    {0, 0, 0, 0},
};

static const char usage_text[] =
    "usage: salvo run URL [options]   or   salvo run --targets FILE [options]\n"
    "  -r, --rate N          requests per second (required in the open model)\n"
    "      --arrival KIND    constant (default) or poisson\n"
    "  -d, --duration D      run length, e.g. 30s, 2m (default 10s)\n"
    "  -c, --connections N   open: cap on open connections (default 10000); closed: connections (default 10)\n"
    "  -t, --threads N       worker threads (default: number of CPUs)\n"
    "      --timeout D       a request without a complete response this long after its\n"
    "                        intended send time is a timeout (default 10s)\n"
    "      --closed          closed model for comparison (subject to coordinated omission)\n"
    "  -m, --method M        request method (default GET)\n"
    "  -H, --header 'K: V'   request header (repeatable)\n"
    "      --body STRING     request body\n"
    "      --body-file FILE  request body from a file\n"
    "  -k, --insecure        do not verify the TLS certificate\n"
    "      --json FILE       write the results JSON to FILE ('-' for stdout)\n"
    "      --html FILE       write a self-contained HTML report\n"
    "  -q, --quiet           no terminal summary\n"
    "      --spin D          busy-poll this long before each deadline (e.g. 20us; default 0)\n"
    "      --seed N          seed of the Poisson arrivals (default 1)\n"
    "      --shard K/N       run arrivals i = K (mod N) of the whole schedule\n"
    "      --start-at TIME   start on this wall-clock instant (RFC 3339 or Unix seconds), for shards\n"
    "      --stages SPEC     piecewise-linear rate, e.g. '30s:100,1m:1000,30s:0' (instead of -d; starts from -r or 0)\n"
    "      --name NAME       name the figures are grouped under (default: URL path)\n"
    "      --max-lag D       send-lag p99 above which the run is invalid (default 1ms)\n"
    "      --allow-invalid   exit 0 even when the run is invalid\n"
    "      --no-keepalive    a new connection for every request (salvo closes first)\n"
    "      --threshold EXPR  pass/fail gate, repeatable, e.g. 'latency.p99 < 250ms' (exit 99)\n"
    "      --progress MODE   auto (default), tty, plain or off: live progress on stderr\n"
    "      --hlog FILE       HdrHistogram interval log (v1.3) of latency per second\n"
    "      --metrics ADDR    serve Prometheus metrics during the run (9464, 127.0.0.1:9464, [::1]:9464)\n"
    "      --data FILE       CSV (with header) or JSON Lines rows for {column} templates\n"
    "      --pick MODE       seq (default), random or once (each row at most once, then stop)\n"
    "      --targets FILE    vegeta-style targets file (METHOD URL, headers, @body; '# name= weight=')\n"
    "      --max-names N     cap on distinct request names; the rest count as 'other' (default 100)\n"
    "      --chaos SPEC      fault window, repeatable: 'at=4s for=2s pause pid=PID',\n"
    "                        'at=20s kill pid=PID signal=TERM',\n"
    "                        'at=5s for=10s toxic=latency latency=200ms api=HOST:PORT proxy=NAME',\n"
    "                        'at=5s for=5s exec CMD undo CMD'\n";

/* One-line usage error naming the culprit; returns the usage exit code. */
static int usage_error(const char *fmt, const char *a, const char *b)
{
    fputs("salvo: ", stderr);
    fprintf(stderr, fmt, a, b);
    fputs("\n", stderr);
    return EXIT_USAGE;
}

/* Parses a positive integer no larger than max. */
static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-') return false;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v == 0 || v > max) return false;
    *out = v;
    return true;
}

#define START_AT_MAX_UNIX_S 1e10 /* year 2286: a larger "Unix time" is milliseconds or a typo */
#define MAX_RATE 1e7             /* per process: beyond it the backlog alone would exhaust memory */

/* Parses RFC 3339 ("2026-11-27T10:00:00Z", "...+01:00", fractions) or Unix seconds into wall ns. */
static int parse_start_at(const char *s, uint64_t *out)
{
    char *end;
    double secs = strtod(s, &end);
    if (end != s && !*end && secs > 0) {
        if (secs >= START_AT_MAX_UNIX_S) return -ERANGE; /* milliseconds, most likely: refuse, never guess */
        *out = (uint64_t)(secs * 1e9);
        return 0;
    }
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p) return -EINVAL;
    double frac = 0;
    if (*p == '.') {
        frac = strtod(p, &end);
        p = end;
    }
    long offset = 0;
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (*p == '+' || *p == '-') {
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2) return -EINVAL;
        offset = (hh * 3600L + mm * 60L) * (*p == '+' ? 1 : -1);
        p += 6;
    } else
        return -EINVAL;
    if (*p) return -EINVAL;
    time_t t = timegm(&tm) - offset;
    if (t <= 0) return -EINVAL;
    *out = (uint64_t)t * NS_PER_S + (uint64_t)(frac * 1e9);
    return 0;
}

/* Reads a whole file into a malloc'd buffer. */
static int read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -errno;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap && !(buf = realloc(buf, cap = cap ? 2 * cap : 65536))) abort();
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int err = ferror(f) ? -EIO : 0;
    fclose(f);
    if (err)
        free(buf);
    else
        *out = buf, *len = n;
    return err;
}

/* Handles one option; returns -1 to continue or an exit code. */
static int parse_opt(int opt, struct run_config *cfg, struct run_args *a)
{
    unsigned long v;
    switch (opt) {
    case 'r':
        if (parse_rate(optarg, &cfg->rate) < 0)
            return usage_error("bad value '%s' for --rate: %s", optarg,
                               "expected a positive number of requests per second");
        a->rate_given = true;
        return -1;
    case OPT_ARRIVAL:
        if (strcmp(optarg, "constant") == 0)
            cfg->arrival = ARRIVAL_CONSTANT;
        else if (strcmp(optarg, "poisson") == 0)
            cfg->arrival = ARRIVAL_POISSON;
        else
            return usage_error("bad value '%s' for --arrival: %s", optarg, "expected constant or poisson");
        return -1;
    case 'd':
        if (parse_duration_ns(optarg, &cfg->duration_ns) < 0 || cfg->duration_ns == 0)
            return usage_error("bad value '%s' for --duration: %s", optarg, "expected a duration like 500ms, 30s, 2m");
        return -1;
    case 'c':
        if (!parse_uint(optarg, 1000000, &v))
            return usage_error("bad value '%s' for --connections: %s", optarg, "expected an integer from 1 to 1000000");
        cfg->connections = (uint32_t)v;
        a->conns_given = true;
        return -1;
    case 't':
        if (!parse_uint(optarg, 1024, &v))
            return usage_error("bad value '%s' for --threads: %s", optarg, "expected an integer from 1 to 1024");
        cfg->threads = (uint32_t)v;
        a->threads_given = true;
        return -1;
    case OPT_TIMEOUT:
        if (parse_duration_ns(optarg, &cfg->timeout_ns) < 0 || cfg->timeout_ns == 0)
            return usage_error("bad value '%s' for --timeout: %s", optarg, "expected a duration like 2s");
        return -1;
    case OPT_SPIN:
        if (parse_duration_ns(optarg, &cfg->spin_ns) < 0 || cfg->spin_ns > NS_PER_S)
            return usage_error("bad value '%s' for --spin: %s", optarg, "expected a duration up to 1s, like 20us");
        return -1;
    case OPT_MAX_LAG:
        if (parse_duration_ns(optarg, &cfg->max_lag_ns) < 0)
            return usage_error("bad value '%s' for --max-lag: %s", optarg, "expected a duration like 1ms");
        return -1;
    case OPT_SEED: {
        char *end;
        errno = 0;
        cfg->seed = strtoull(optarg, &end, 10);
        if (errno || *end || !*optarg || *optarg == '-')
            return usage_error("bad value '%s' for --seed: %s", optarg, "expected an unsigned integer");
        return -1;
    }
    case OPT_SHARD: {
        unsigned k, n;
        char extra;
        if (sscanf(optarg, "%u/%u%c", &k, &n, &extra) != 2 || n == 0 || k >= n || n > 100000)
            return usage_error("bad value '%s' for --shard: %s", optarg, "expected K/N with 0 <= K < N");
        cfg->shard = k;
        cfg->nshards = n;
        return -1;
    }
    case OPT_CLOSED: cfg->closed = true; return -1;
    case 'm': cfg->method = optarg; return -1;
    case 'H':
        if (a->nheaders == MAX_HEADERS) return usage_error("too many headers (at most %s)%s", "64", "");
        a->headers[a->nheaders++] = optarg;
        return -1;
    case OPT_BODY: a->body = optarg; return -1;
    case OPT_BODY_FILE: a->body_file = optarg; return -1;
    case 'k': cfg->tls.verify = false; return -1;
    case OPT_JSON: cfg->json_path = optarg; return -1;
    case 'q': cfg->quiet = true; return -1;
    case OPT_NAME: cfg->name = optarg; return -1;
    case OPT_ALLOW_INVALID: cfg->allow_invalid = true; return -1;
    case OPT_NO_KEEPALIVE: cfg->no_keepalive = true; return -1;
    case OPT_HLOG: a->hlog_path = optarg; return -1;
    case OPT_METRICS: {
        int bad = prom_check_addr(optarg);
        if (bad == -EHOSTUNREACH)
            return usage_error("bad value '%s' for --metrics: %s", optarg, "host does not resolve");
        if (bad < 0)
            return usage_error("bad value '%s' for --metrics: %s", optarg,
                               "expected PORT, HOST:PORT or [v6]:PORT, e.g. 9464 or 127.0.0.1:9464");
        a->metrics_addr = optarg;
        return -1;
    }
    case OPT_DATA: a->data_path = optarg; return -1;
    case OPT_HTML: a->html_path = optarg; return -1;
    case OPT_STAGES: {
        int rc = schedule_parse_stages(optarg, cfg->stages, SCHEDULE_MAX_STAGES, &cfg->nstages);
        if (rc < 0 || cfg->nstages == 0)
            return usage_error("bad value '%s' for --stages: %s", optarg,
                               rc == -E2BIG ? "too many stages (at most 64)"
                                            : "expected DURATION:RATE,… e.g. 30s:100,1m:1000");
        return -1;
    }
    case OPT_START_AT: {
        int bad = parse_start_at(optarg, &cfg->start_at_wall_ns);
        if (bad == -ERANGE)
            return usage_error("bad value '%s' for --start-at: %s", optarg,
                               "too large for Unix seconds (milliseconds?); e.g. 1795752613 or 2026-11-27T10:00:00Z");
        if (bad < 0)
            return usage_error("bad value '%s' for --start-at: %s", optarg,
                               "expected RFC 3339 (2026-11-27T10:00:00Z) or Unix seconds");
        return -1;
    }
    case OPT_TARGETS: a->targets_path = optarg; return -1;
    case OPT_PICK:
        if (pick_mode_parse(optarg, &a->pick) < 0)
            return usage_error("bad value '%s' for --pick: %s", optarg, "expected seq, random or once");
        return -1;
    case OPT_MAX_NAMES:
        if (!parse_uint(optarg, 100000, &v))
            return usage_error("bad value '%s' for --max-names: %s", optarg, "expected an integer from 1 to 100000");
        a->max_names = (uint32_t)v;
        return -1;
    case OPT_CHAOS: {
        const char *why;
        if (a->nchaos == MAX_CHAOS) return usage_error("too many --chaos windows (at most %s)%s", "16", "");
        if (chaos_window_parse(&a->chaos[a->nchaos], optarg, &why) < 0)
            return usage_error("bad --chaos '%s': %s", optarg, why);
        int rc = chaos_window_check(&a->chaos[a->nchaos]);
        a->nchaos++;
        if (rc < 0 && a->chaos[a->nchaos - 1].action == CHAOS_TOXIC)
            return usage_error("bad --chaos '%s': %s", optarg,
                               "the proxy is not reachable through api= (is salvo chaos or toxiproxy running?)");
        if (rc == -EPERM)
            return usage_error("bad --chaos '%s': the process exists but salvo may not signal it (EPERM)%s", optarg,
                               "");
        if (rc < 0) return usage_error("bad --chaos '%s': no process %s can signal", optarg, "that salvo");
        return -1;
    }
    case OPT_PROGRESS:
        if (!strcmp(optarg, "auto"))
            a->progress = PROGRESS_AUTO;
        else if (!strcmp(optarg, "tty"))
            a->progress = PROGRESS_TTY;
        else if (!strcmp(optarg, "plain"))
            a->progress = PROGRESS_PLAIN;
        else if (!strcmp(optarg, "off"))
            a->progress = PROGRESS_OFF;
        else
            return usage_error("bad value '%s' for --progress: %s", optarg, "expected auto, tty, plain or off");
        return -1;
    case OPT_THRESHOLD: {
        const char *why;
        if (a->nthresholds == MAX_THRESHOLDS) return usage_error("too many thresholds (at most %s)%s", "64", "");
        if (threshold_parse(&a->thresholds[a->nthresholds], optarg, &why) < 0)
            return usage_error("bad threshold '%s': %s", optarg, why);
        a->nthresholds++;
        return -1;
    }
    case OPT_HELP: fputs(usage_text, stdout); return EXIT_OK;
    default: return EXIT_USAGE; /* getopt printed the culprit */
    }
}

/* Builds the request generator from one URL or a targets file, with data. */
static int build_requests(struct run_config *cfg, struct run_args *a, char **body_buf)
{
    char why[600];
    if (a->data_path) {
        struct feeder_error fe;
        if (feeder_open(&a->feeder, a->data_path, &fe) < 0) return usage_error("%s%s", fe.msg, "");
        a->has_feeder = true;
    }
    struct reqgen_spec *specs;
    size_t n = 1;
    if (a->targets_path) {
        struct feeder_error fe;
        if (targets_parse(a->targets_path, &a->targets, &fe) < 0) return usage_error("%s%s", fe.msg, "");
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
            snprintf(why, sizeof(why), "'%s' line %zu: bad URL '%s': %s", a->targets_path, t->line, t->url, uwhy);
            code = usage_error("%s%s", why, "");
        } else if (i > 0 &&
                   (urls[i].tls != urls[0].tls || strcmp(urls[i].host, urls[0].host) || urls[i].port != urls[0].port)) {
            snprintf(why, sizeof(why),
                     "'%s' line %zu: every target must use the same scheme, host and port as the first",
                     a->targets_path, t->line);
            code = usage_error("%s%s", why, "");
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
            int rc = read_file(a->body_file, body_buf, &body_len);
            if (rc < 0) code = usage_error("cannot read '%s': %s", a->body_file, strerror(-rc));
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
    if (code < 0 && reqgen_init(&a->gen, specs, n, a->has_feeder ? &a->feeder : NULL, a->pick, cfg->seed,
                                cfg->url.host_header, a->max_names, why, sizeof(why)) < 0)
        code = usage_error("%s%s", why, "");
    free(specs);
    free(urls);
    if (code >= 0) return code;
    cfg->gen = &a->gen;
    if (!cfg->name) cfg->name = a->gen.names[0];
    return -1;
}

/* True if path's directory exists and is writable (checked before the run, not after). */
static bool dir_writable(const char *path)
{
    if (!path || (path[0] == '-' && !path[1])) return true;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) return access(".", W_OK) == 0;
    if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    return access(dir, W_OK) == 0;
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
        return usage_error("--stages lasts 0 s: give at least one stage a duration, e.g. 0s:100,30s:100%s%s", "", "");
    return -1;
}

/* Fills defaults and checks combinations once all options are known. */
static int finish_config(struct run_config *cfg, struct run_args *a, char **body_buf)
{
    const char *why = NULL;
    const char *outs[] = {cfg->json_path, a->html_path, a->hlog_path};
    for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++)
        if (!dir_writable(outs[i]))
            return usage_error("cannot write '%s': %s", outs[i], "no such directory or not writable");
    if (cfg->url_text && url_parse(&cfg->url, cfg->url_text, &why) < 0)
        return usage_error("bad URL '%s': %s", cfg->url_text, why);
    if (!cfg->url_text && !a->targets_path) return usage_error("missing URL: salvo run URL [options]%s%s", "", "");
    if (cfg->url_text && a->targets_path)
        return usage_error("give a URL or --targets '%s', not both%s", a->targets_path, "");
    if (cfg->nstages && cfg->closed && a->rate_given)
        return usage_error("--closed --stages ramps connections: -r/--rate has no meaning there%s%s", "", "");
    if (cfg->nstages && a->rate_given) { /* k6's startRate: the ramp starts from -r instead of 0 */
        cfg->start_rate = cfg->rate;
        a->rate_given = false;
    }
    int code = check_rates(cfg);
    if (code >= 0) return code;
    if (cfg->nstages && cfg->closed) {
        /* Closed model: the stages ramp the number of connections (k6's ramping-vus). */
        struct schedule_cfg sc = {.stages = cfg->stages, .nstages = cfg->nstages, .nshards = 1, .nthreads = 1};
        cfg->duration_ns = schedule_duration_ns(&sc);
        cfg->conn_ramp = true;
        double top = 0;
        for (size_t i = 0; i < cfg->nstages; i++)
            if (cfg->stages[i].target_rate > top) top = cfg->stages[i].target_rate;
        if (!a->conns_given) cfg->connections = top < 1 ? 1 : (uint32_t)(top + 0.5);
        a->conns_given = true;
    } else if (cfg->nstages) {
        struct schedule_cfg sc = {
            .stages = cfg->stages, .nstages = cfg->nstages, .start_rate = cfg->start_rate, .nshards = 1, .nthreads = 1};
        cfg->duration_ns = schedule_duration_ns(&sc);
        cfg->rate = schedule_expected_count(&sc) / ((double)cfg->duration_ns / 1e9);
        a->rate_given = true;
    }
    for (size_t i = 0; i < a->nchaos; i++) /* a window that cannot fire is a mistake, not a no-op */
        if (a->chaos[i].at_ns >= cfg->duration_ns)
            return usage_error("bad --chaos '%s': %s", a->chaos[i].spec, "at= is at or after the end of the run (-d)");
    if (cfg->start_at_wall_ns && cfg->start_at_wall_ns + NS_PER_S < clock_wall_ns())
        return usage_error("--start-at is in the past%s%s", "", "");
    if (!cfg->closed && !a->rate_given)
        return usage_error("the open model needs a rate: add -r N (requests/s)%s%s", "",
                           ", or --closed for a closed loop");
    if (cfg->closed && !a->conns_given) cfg->connections = 10;
    if (!a->threads_given) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->threads = n > 0 ? (uint32_t)n : 1;
    }
    if (cfg->threads > cfg->connections) cfg->threads = cfg->connections;
    if (a->body && a->body_file) return usage_error("give either --body or --body-file, not both%s%s", "", "");
    if (a->targets_path && (a->body || a->body_file || a->nheaders))
        return usage_error("with --targets '%s', headers and bodies come from the targets file%s", a->targets_path, "");
    code = build_requests(cfg, a, body_buf);
    if (code >= 0) return code;
    if (!cfg->url_text) cfg->url_text = a->targets_path;
    if (url_resolve(&cfg->url, &why) < 0) return usage_error("cannot resolve '%s': %s", cfg->url.host, why);
    if (cfg->url.tls && tls_init(&cfg->tls, cfg->tls.verify, &why) < 0) {
        fprintf(stderr, "salvo: %s\n", why);
        return EXIT_RUNTIME;
    }
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
 * The shard index is left out.
 */
static void compute_run_id(struct run_config *cfg, const struct run_args *a)
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
    for (size_t i = 0; i < a->nheaders; i++)
        h = fnv_add(h, a->headers[i]);
    h = fnv_add(fnv_add(h, a->body), a->body_file);
    snprintf(cfg->run_id, sizeof(cfg->run_id), "%016llx", (unsigned long long)h);
}

/* Joins argv into cfg->command_line for provenance. */
static void keep_command_line(struct run_config *cfg, int argc, char **argv)
{
    size_t n = 0;
    n += (size_t)snprintf(cfg->command_line, sizeof(cfg->command_line), "salvo");
    for (int i = 0; i < argc && n < sizeof(cfg->command_line); i++)
        n += (size_t)snprintf(cfg->command_line + n, sizeof(cfg->command_line) - n, " %s", argv[i]);
}

int cli_run(int argc, char **argv)
{
    struct run_config cfg = {
        .arrival = ARRIVAL_CONSTANT,
        .duration_ns = 10 * NS_PER_S,
        .timeout_ns = 10 * NS_PER_S,
        .max_lag_ns = NS_PER_MS,
        .connections = 10000,
        .seed = 1,
        .nshards = 1,
        .method = "GET",
        .tls = {.verify = true},
    };
    static struct run_args a; /* large (thresholds); one run per process */
    memset(&a, 0, sizeof(a));
    a.max_names = 100;
    a.pick = PICK_SEQ;
    keep_command_line(&cfg, argc, argv);
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "r:d:c:t:m:H:kq", long_opts, NULL)) != -1) {
        if (opt == '?') {
            const char *bad = optopt ? (char[]){'-', (char)optopt, 0} : argv[optind - 1];
            return usage_error("unknown option or missing value: '%s'%s", bad, " (see salvo run --help)");
        }
        int code = parse_opt(opt, &cfg, &a);
        if (code >= 0) return code;
    }
    if (optind + 1 < argc) return usage_error("unexpected argument '%s'%s", argv[optind + 1], "");
    cfg.url_text = optind < argc ? argv[optind] : NULL;
    char *body_buf = NULL;
    int code = finish_config(&cfg, &a, &body_buf);
    if (code < 0) {
        compute_run_id(&cfg, &a);
        code = run_cli_execute(&cfg, &a);
    }
    reqgen_release(&a.gen);
    if (a.has_targets) targets_release(&a.targets);
    if (a.has_feeder) feeder_release(&a.feeder);
    tls_release(&cfg.tls);
    free(body_buf);
    return code;
}
