/*
 * run_cli.c — `salvo run URL [options]`: the option table and its
 * handlers; run_finish.c checks what needs every option known, run_exec.c
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

/*
 * Every option of `salvo run`, once: id (short letter or enum name), long
 * name, value placeholder, help text and numeric limits. The enum, getopt's
 * tables, --help and the limit checks are generated from it.
 */
#define RUN_OPTIONS(S, L)                                                                                              \
    S('r', "rate", "N",                                                                                                \
      "requests per second (required in the open model;\n"                                                             \
      "with --closed or --conn-stages: a cap on the request rate)",                                                    \
      0, 0)                                                                                                            \
    L(OPT_ARRIVAL, "arrival", "KIND", "constant (default) or poisson", 0, 0)                                           \
    S('d', "duration", "D", "run length, e.g. 30s, 2m (default 10s)", 0, 0)                                            \
    S('c', "connections", "N", "open: cap on open connections (default 10000); closed: connections (default 10)", 1,   \
      1000000)                                                                                                         \
    S('t', "threads", "N", "worker threads (default: number of CPUs)", 1, 1024)                                        \
    L(OPT_TIMEOUT, "timeout", "D",                                                                                     \
      "a request without a complete response this long after its\n"                                                    \
      "intended send time is a timeout (default 10s)",                                                                 \
      0, 0)                                                                                                            \
    L(OPT_CLOSED, "closed", NULL, "closed model for comparison (subject to coordinated omission)", 0, 0)               \
    S('m', "method", "M", "request method (default GET)", 0, 0)                                                        \
    S('H', "header", "'K: V'", "request header (repeatable)", 0, MAX_HEADERS)                                          \
    L(OPT_REDACT, "redact", "NAME",                                                                                    \
      "header whose value reports show as <redacted> (repeatable; Authorization,\n"                                    \
      "Cookie and Proxy-Authorization always are)",                                                                    \
      0, MAX_HEADERS)                                                                                                  \
    L(OPT_BODY, "body", "STRING", "request body", 0, 0)                                                                \
    L(OPT_BODY_FILE, "body-file", "FILE", "request body from a file", 0, 0)                                            \
    S('k', "insecure", NULL, "do not verify the TLS certificate", 0, 0)                                                \
    L(OPT_JSON, "json", "FILE", "write the results JSON to FILE ('-' for stdout, implies -q)", 0, 0)                   \
    L(OPT_HTML, "html", "FILE", "write a self-contained HTML report", 0, 0)                                            \
    L(OPT_JUNIT, "junit", "FILE", "write the verdict as JUnit XML (a case per threshold, check and health rule)", 0,   \
      0)                                                                                                               \
    S('q', "quiet", NULL, "no terminal summary", 0, 0)                                                                 \
    L(OPT_SPIN, "spin", "D", "busy-poll this long before each deadline (e.g. 20us; 0: never; default: auto)", 0, 0)    \
    L(OPT_SEED, "seed", "N", "seed of the Poisson arrivals (default 1: every shard must agree)", 0, 0)                 \
    L(OPT_SHARD, "shard", "K/N", "run arrivals i = K (mod N) of the whole schedule", 0, 100000)                        \
    L(OPT_START_AT, "start-at", "TIME",                                                                                \
      "start on this wall-clock instant (RFC 3339 or Unix seconds), for shards;\n"                                     \
      "at most 24 h ahead",                                                                                            \
      0, 0)                                                                                                            \
    L(OPT_STAGES, "stages", "SPEC",                                                                                    \
      "piecewise-linear rate, e.g. '30s:100,1m:1000,30s:0' (instead of -d;\n"                                          \
      "starts from -r or 0); open model only",                                                                         \
      0, SCHEDULE_MAX_STAGES)                                                                                          \
    L(OPT_CONN_STAGES, "conn-stages", "SPEC",                                                                          \
      "closed model ramping the number of connections (k6's ramping-vus),\n"                                           \
      "e.g. '30s:50,1m:50,30s:0' (instead of -d; -r caps the rate)",                                                   \
      0, SCHEDULE_MAX_STAGES)                                                                                          \
    L(OPT_NAME, "name", "NAME", "name the figures are grouped under (default: URL path)", 0, 0)                        \
    L(OPT_MAX_LAG, "max-lag", "D", "send-lag p99 above which the run is invalid (default 1ms)", 0, 0)                  \
    L(OPT_ALLOW_INVALID, "allow-invalid", NULL, "exit 0 even when the run is invalid", 0, 0)                           \
    L(OPT_NO_KEEPALIVE, "no-keepalive", NULL, "a new connection for every request (salvo closes first)", 0, 0)         \
    L(OPT_PIPELINE, "pipeline", "N",                                                                                   \
      "up to N HTTP/1.1 requests in flight per connection, answered in order (default 1)", 1, PIPELINE_MAX)            \
    L(OPT_HTTP1, "http1.1", NULL, "speak HTTP/1.1 only (https: ALPN offers only http/1.1)", 0, 0)                      \
    L(OPT_HTTP2, "http2", NULL, "https: require h2 in ALPN; a server that does not pick it fails the run", 0, 0)       \
    L(OPT_H2C, "h2c", NULL, "http://: speak HTTP/2 with prior knowledge (no Upgrade)", 0, 0)                           \
    L(OPT_STREAMS, "streams", "N",                                                                                     \
      "HTTP/2 streams in flight per connection (default: the server's limit, at most 100)", 1, PIPELINE_MAX)           \
    L(OPT_H2_WINDOW, "h2-window", "BITS|SIZE",                                                                         \
      "HTTP/2 stream receive window (h2load's -w): 2^BITS-1 bytes for BITS\n"                                          \
      "0..30, or a size like 1MiB (default 65535)",                                                                    \
      0, 0)                                                                                                            \
    L(OPT_H2_CONN_WINDOW, "h2-conn-window", "BITS|SIZE",                                                               \
      "HTTP/2 connection receive window (h2load's -W), as --h2-window (default 65535)", 0, 0)                          \
    L(OPT_H2_HEADER_TABLE, "h2-header-table", "SIZE",                                                                  \
      "HPACK table size salvo decodes with (SETTINGS_HEADER_TABLE_SIZE; default 4096)", 0, 0)                          \
    L(OPT_THRESHOLD, "threshold", "EXPR", "pass/fail gate, repeatable, e.g. 'latency.p99 < 250ms' (exit 99)", 0,       \
      MAX_THRESHOLDS)                                                                                                  \
    L(OPT_SCRIPT, "script", "FILE",                                                                                    \
      "a wrk Lua script shapes requests and reads responses (docs/scripting.md);\n"                                    \
      "arguments after -- go to its init(args)",                                                                       \
      0, 0)                                                                                                            \
    L(OPT_SESSION_TIMEOUT, "session-timeout", "D",                                                                     \
      "a script's session() still running this long after its\n"                                                       \
      "scheduled start ends as a timeout (default: none)",                                                             \
      0, 0)                                                                                                            \
    L(OPT_CHECK, "check", "EXPR",                                                                                      \
      "judge every response, repeatable: 'NAME: status == 200', 'json.error absent' (docs/scripting.md)", 0,           \
      CHECK_MAX)                                                                                                       \
    L(OPT_MAX_BODY, "max-body", "BYTES", "body bytes a check may read (default 1MiB; longer: body_too_large)", 0, 0)   \
    L(OPT_BODY_BUDGET, "body-budget", "BYTES",                                                                         \
      "kept bodies of all responses together (default 64MiB); beyond it a body waits for room", 0, 0)                  \
    L(OPT_PROGRESS, "progress", "MODE", "auto (default), tty, plain or off: live progress on stderr", 0, 0)            \
    L(OPT_HLOG, "hlog", "FILE", "HdrHistogram interval log (v1.3) of latency per second", 0, 0)                        \
    L(OPT_METRICS, "metrics", "ADDR", "serve Prometheus metrics during the run (9464, 127.0.0.1:9464, [::1]:9464)", 0, \
      0)                                                                                                               \
    L(OPT_DASHBOARD, "dashboard", "ADDR",                                                                              \
      "serve a live web dashboard during the run (8089, 127.0.0.1:8089, [::1]:8089;\n"                                 \
      "a bare port is loopback)",                                                                                      \
      0, 0)                                                                                                            \
    L(OPT_DASHBOARD_LINGER, "dashboard-linger", "D",                                                                   \
      "keep the dashboard up this long after the run (default 0: it stops with salvo)", 0, 0)                          \
    L(OPT_REMOTE_WRITE, "remote-write", "URL",                                                                         \
      "push the figures each second to a Prometheus remote-write receiver,\n"                                          \
      "e.g. http://127.0.0.1:9090/api/v1/write (docs/remote-write.md)",                                                \
      0, 0)                                                                                                            \
    L(OPT_REMOTE_WRITE_HEADER, "remote-write-header", "'K: V'", "header of every remote-write push (repeatable)", 0,   \
      RW_MAX_HEADERS)                                                                                                  \
    L(OPT_DATA, "data", "FILE", "CSV (with header) or JSON Lines rows for {column} templates", 0, 0)                   \
    L(OPT_PICK, "pick", "MODE", "seq (default), random or once (each row at most once, then stop); needs --data", 0,   \
      0)                                                                                                               \
    L(OPT_PICK_SEED, "pick-seed", "N", "seed of --pick random (default: new each run, printed in the JSON)", 0,        \
      9007199254740991.0)                                                                                              \
    L(OPT_TARGETS, "targets", "FILE", "vegeta-style targets file (METHOD URL, headers, @body; '# name= weight=')", 0,  \
      0)                                                                                                               \
    L(OPT_MAX_NAMES, "max-names", "N", "cap on distinct request names; the rest count as 'other' (default 100)", 1,    \
      100000)                                                                                                          \
    L(OPT_CHAOS, "chaos", "SPEC",                                                                                      \
      "fault window, repeatable: 'at=4s for=2s pause pid=PID',\n"                                                      \
      "'at=20s kill pid=PID signal=TERM',\n"                                                                           \
      "'at=5s for=10s toxic=latency latency=200ms api=HOST:PORT proxy=NAME',\n"                                        \
      "'at=5s for=5s exec CMD undo CMD'",                                                                              \
      0, MAX_CHAOS)                                                                                                    \
    L(OPT_SCRAPE, "scrape", "URL",                                                                                     \
      "read a server's Prometheus metrics once a second during the run\n"                                              \
      "(repeatable; docs/evidence.md)",                                                                                \
      0, SCRAPE_MAX_TARGETS)                                                                                           \
    L(OPT_SCRAPE_MATCH, "scrape-match", "REGEX", "keep the scraped series whose name{labels} match (POSIX ERE)", 0, 0) \
    L(OPT_SCRAPE_MAX, "scrape-max-series", "N", "cap on scraped series kept; the rest are counted (default 200)", 1,   \
      100000)                                                                                                          \
    L(OPT_PROFILE, "profile", "URL",                                                                                   \
      "fetch a Go pprof profile during the run (repeatable), saved as\n"                                               \
      "<json stem>.profile-N.pb.gz",                                                                                   \
      0, PROFILE_MAX)                                                                                                  \
    L(OPT_PROFILE_AT, "profile-at", "T", "when the last --profile starts (default: a third into the run)", 0, 0)       \
    L(OPT_PROFILE_FOR, "profile-for", "D", "how long the last --profile lasts (default: a third of the run, <= 30s)",  \
      0, 0)

enum { OPT_RUN_FIRST = CLI_FIRST_LONG - 1, RUN_OPTIONS(CLI_SKIP, CLI_ENUM) };

static const struct cli_opt run_opts[] = {RUN_OPTIONS(CLI_ROW, CLI_ROW)};

static const struct cli_verb run_verb = {
    .name = "run",
    .synopsis = "usage: salvo run URL [options]   or   salvo run --targets FILE [options]\n",
    .opts = run_opts,
    .nopts = CLI_NOPTS(run_opts),
};

/* What an option handler writes into: the frozen config and the rest of the command line. */
struct run_ctx {
    struct run_config *cfg;
    struct run_args *a;
};

/* Parses a duration option; zero_ok for --spin and --max-lag, at most hi_ns when hi_ns > 0. */
static int duration_opt(const struct cli_opt *o, const char *arg, uint64_t *out, bool zero_ok, uint64_t hi_ns,
                        const char *example)
{
    if (parse_duration_ns(arg, out) < 0 || (!zero_ok && *out == 0) || (hi_ns && *out > hi_ns))
        return usage_error("bad value '%s' for --%s: expected a duration %s", arg, o->name, example);
    return -1;
}

/* Parses a --stages or --conn-stages spec into cfg's stages. */
static int stages_opt(const struct cli_opt *o, const char *arg, struct run_config *cfg)
{
    int rc = schedule_parse_stages(arg, cfg->stages, SCHEDULE_MAX_STAGES, &cfg->nstages);
    if (rc == -E2BIG)
        return usage_error("bad value '%s' for --%s: too many stages (at most %.0f)", arg, o->name, o->hi);
    if (rc < 0 || cfg->nstages == 0) return cli_bad_value(o, arg, "expected DURATION:RATE,… e.g. 30s:100,1m:1000");
    return -1;
}

/* The options that take a number, a duration or a spec. Returns -1, an exit code, or -2: not one of these. */
static int value_opt(const struct cli_opt *o, char *arg, struct run_config *cfg, struct run_args *a)
{
    uint64_t v;
    int code = -1;
    switch (o->id) {
    case 'r':
        if (parse_rate(arg, &cfg->rate) < 0)
            return cli_bad_value(o, arg, "expected a positive number of requests per second");
        a->rate_given = true;
        return -1;
    case 'd': a->duration_given = true; return duration_opt(o, arg, &cfg->duration_ns, false, 0, "like 500ms, 30s, 2m");
    case OPT_TIMEOUT: return duration_opt(o, arg, &cfg->timeout_ns, false, 0, "like 2s");
    case OPT_SPIN:
        cfg->spin_auto = false; /* a given --spin replaces the automatic one */
        return duration_opt(o, arg, &cfg->spin_ns, true, NS_PER_S, "up to 1s, like 20us");
    case OPT_MAX_LAG: return duration_opt(o, arg, &cfg->max_lag_ns, true, 0, "like 1ms");
    case 'c':
        if ((code = cli_uint(o, arg, &v)) < 0) cfg->connections = (uint32_t)v, a->conns_given = true;
        return code;
    case 't':
        if ((code = cli_uint(o, arg, &v)) < 0) cfg->threads = (uint32_t)v, a->threads_given = true;
        return code;
    case OPT_MAX_NAMES:
        if ((code = cli_uint(o, arg, &v)) < 0) a->max_names = (uint32_t)v;
        return code;
    case OPT_SEED: return cli_uint(o, arg, &cfg->seed);
    case OPT_PICK_SEED:
        if ((code = cli_uint(o, arg, &a->pick_seed)) < 0) a->pick_seed_given = true;
        return code;
    case OPT_SHARD: {
        unsigned k, n;
        char extra;
        if (sscanf(arg, "%u/%u%c", &k, &n, &extra) != 2 || n == 0 || k >= n || n > o->hi)
            return cli_bad_value(o, arg, "expected K/N with 0 <= K < N");
        cfg->shard = k;
        cfg->nshards = n;
        return -1;
    }
    case OPT_STAGES: a->stages_given = true; return stages_opt(o, arg, cfg);
    case OPT_CONN_STAGES: a->conn_stages = true; return stages_opt(o, arg, cfg);
    case OPT_START_AT: {
        int bad = cli_parse_time(arg, &cfg->start_at_wall_ns);
        if (bad == -ERANGE)
            return cli_bad_value(o, arg,
                                 "too large for Unix seconds (milliseconds?); e.g. 1795752613 or 2026-11-27T10:00:00Z");
        if (bad < 0) return cli_bad_value(o, arg, "expected RFC 3339 (2026-11-27T10:00:00Z) or Unix seconds");
        return -1;
    }
    default: return -2;
    }
}

/* Parses one --chaos window and checks that its victim or proxy is there. */
static int chaos_opt(const struct cli_opt *o, const char *arg, struct run_args *a)
{
    const char *why;
    if (a->nchaos == MAX_CHAOS) return usage_error("too many --%s windows (at most %.0f)", o->name, o->hi);
    if (chaos_window_parse(&a->chaos[a->nchaos], arg, &why) < 0) return usage_error("bad --chaos '%s': %s", arg, why);
    int rc = chaos_window_check(&a->chaos[a->nchaos]);
    a->nchaos++;
    if (rc < 0 && a->chaos[a->nchaos - 1].action == CHAOS_TOXIC)
        return usage_error("bad --chaos '%s': %s", arg,
                           "the proxy is not reachable through api= (is salvo chaos or toxiproxy running?)");
    if (rc == -EPERM)
        return usage_error("bad --chaos '%s': the process exists but salvo may not signal it (EPERM)", arg);
    if (rc < 0) return usage_error("bad --chaos '%s': no process that salvo can signal", arg);
    return -1;
}

/* Parses one --threshold. */
static int threshold_opt(const struct cli_opt *o, const char *arg, struct run_args *a)
{
    const char *why;
    if (a->nthresholds == MAX_THRESHOLDS) return usage_error("too many thresholds (at most %.0f)", o->hi);
    if (threshold_parse(&a->thresholds[a->nthresholds], arg, &why) < 0)
        return usage_error("bad threshold '%s': %s", arg, why);
    a->nthresholds++;
    return -1;
}

/* Parses one --check. */
static int check_opt(const char *arg, struct run_args *a)
{
    const char *why;
    if (a->nchecks == CHECK_MAX) return usage_error("too many checks (at most %d)", CHECK_MAX);
    if (check_parse(&a->checks[a->nchecks], arg, &why) < 0) return usage_error("bad check '%s': %s", arg, why);
    for (uint32_t i = 0; i < a->nchecks; i++)
        if (!strcmp(a->checks[i].name, a->checks[a->nchecks].name))
            return usage_error("bad check '%s': the name '%s' is taken (name it: 'NAME: EXPR')", arg,
                               a->checks[i].name);
    a->nchecks++;
    return -1;
}

/* Parses --max-body (up to 1GiB) or --body-budget (up to 1TiB): bytes with an optional k/KiB, m/MiB, g/GiB or t/TiB
 * suffix (powers of 1024). */
static int size_opt(const struct cli_opt *o, const char *arg, struct run_config *cfg)
{
    bool budget = o->id == OPT_BODY_BUDGET;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    unsigned long long scale = 1;
    if (!strcasecmp(end, "k") || !strcasecmp(end, "kib") || !strcasecmp(end, "kb"))
        scale = 1024;
    else if (!strcasecmp(end, "m") || !strcasecmp(end, "mib") || !strcasecmp(end, "mb"))
        scale = 1024 * 1024;
    else if (!strcasecmp(end, "g") || !strcasecmp(end, "gib") || !strcasecmp(end, "gb"))
        scale = 1024 * 1024 * 1024;
    else if (!strcasecmp(end, "t") || !strcasecmp(end, "tib") || !strcasecmp(end, "tb"))
        scale = 1ull << 40;
    else if (*end)
        return cli_bad_value(o, arg, "expected bytes, e.g. 65536, 64KiB or 1MiB");
    if (end == arg || errno || v == 0 || v > (budget ? 1ull << 40 : 1ull << 30) / scale)
        return cli_bad_value(o, arg, budget ? "expected 1 byte to 1TiB" : "expected 1 byte to 1GiB");
    *(budget ? &cfg->body_budget : &cfg->max_body) = (size_t)(v * scale);
    return -1;
}

/* cli_handler of `salvo run`: one option into cfg and args. */
static int run_opt(const struct cli_opt *o, char *arg, void *ctx)
{
    struct run_config *cfg = ((struct run_ctx *)ctx)->cfg;
    struct run_args *a = ((struct run_ctx *)ctx)->a;
    static const char *const progress_modes[] = {
        [PROGRESS_AUTO] = "auto", [PROGRESS_TTY] = "tty", [PROGRESS_PLAIN] = "plain", [PROGRESS_OFF] = "off"};
    int code = value_opt(o, arg, cfg, a);
    if (code != -2) return code;
    switch (o->id) {
    case OPT_ARRIVAL:
        if (strcmp(arg, "constant") == 0)
            cfg->arrival = ARRIVAL_CONSTANT;
        else if (strcmp(arg, "poisson") == 0)
            cfg->arrival = ARRIVAL_POISSON;
        else
            return cli_bad_value(o, arg, "expected constant or poisson");
        return -1;
    case OPT_CLOSED: cfg->closed = true; return -1;
    case 'm': cfg->method = arg; return -1;
    case 'H':
        if (a->nheaders == MAX_HEADERS) return usage_error("too many headers (at most %.0f)", o->hi);
        a->headers[a->nheaders++] = arg;
        return -1;
    case OPT_REDACT:
        if (a->nredact == MAX_HEADERS) return usage_error("too many --redact names (at most %.0f)", o->hi);
        if (!*arg || strchr(arg, ':')) return cli_bad_value(o, arg, "expected a header name");
        a->redact[a->nredact++] = arg;
        return -1;
    case OPT_BODY: a->body = arg; return -1;
    case OPT_BODY_FILE: a->body_file = arg; return -1;
    case 'k': cfg->tls.verify = false; return -1;
    case OPT_JSON: cfg->json_path = arg; return -1;
    case 'q': cfg->quiet = true; return -1;
    case OPT_NAME:
        if (!*arg) return cli_bad_value(o, arg, "a name cannot be empty");
        cfg->name = arg;
        return -1;
    case OPT_ALLOW_INVALID: cfg->allow_invalid = true; return -1;
    case OPT_NO_KEEPALIVE: cfg->no_keepalive = true; return -1;
    case OPT_PIPELINE: {
        uint64_t depth;
        int rc = cli_uint(o, arg, &depth);
        if (rc < 0) cfg->pipeline = (uint32_t)depth;
        return rc;
    }
    case OPT_HTTP1:
    case OPT_HTTP2:
    case OPT_H2C: {
        enum http_mode m = o->id == OPT_HTTP1 ? HTTP_1 : o->id == OPT_HTTP2 ? HTTP_2 : HTTP_2C;
        if (cfg->http_mode != HTTP_AUTO && cfg->http_mode != m)
            return usage_error("--%s contradicts the protocol already chosen: give one of --http1.1, --http2, --h2c",
                               o->name);
        cfg->http_mode = m;
        return -1;
    }
    case OPT_STREAMS: {
        uint64_t n;
        int rc = cli_uint(o, arg, &n);
        if (rc < 0) cfg->streams = (uint32_t)n;
        return rc;
    }
    case OPT_H2_WINDOW: return run_h2_window_opt(o, arg, &cfg->h2_window);
    case OPT_H2_CONN_WINDOW: return run_h2_window_opt(o, arg, &cfg->h2_conn_window);
    case OPT_H2_HEADER_TABLE: return run_h2_table_opt(o, arg, cfg);
    case OPT_HLOG: a->hlog_path = arg; return -1;
    case OPT_METRICS: {
        int bad = prom_check_addr(arg);
        if (bad == -EHOSTUNREACH) return cli_bad_value(o, arg, "host does not resolve");
        if (bad < 0) return cli_bad_value(o, arg, "expected PORT, HOST:PORT or [v6]:PORT, e.g. 9464 or 127.0.0.1:9464");
        a->metrics_addr = arg;
        return -1;
    }
    case OPT_DASHBOARD: {
        int bad = dash_check_addr(arg);
        if (bad == -EHOSTUNREACH) return cli_bad_value(o, arg, "host does not resolve");
        if (bad < 0) return cli_bad_value(o, arg, "expected PORT, HOST:PORT or [v6]:PORT, e.g. 8089 or 127.0.0.1:8089");
        a->dash_addr = arg;
        return -1;
    }
    case OPT_DASHBOARD_LINGER:
        return duration_opt(o, arg, &a->dash_linger_ns, true, 24 * 3600 * NS_PER_S, "up to 24h, like 5m");
    case OPT_REMOTE_WRITE: {
        const char *why;
        if (a->rw_opts.url_text) return usage_error("--%s is given twice", o->name);
        if (rwrite_opts_url(&a->rw_opts, arg, &why) < 0) return cli_bad_value(o, arg, why);
        return -1;
    }
    case OPT_REMOTE_WRITE_HEADER: {
        const char *why;
        if (rwrite_opts_header(&a->rw_opts, arg, &why) < 0) return cli_bad_value(o, arg, why);
        return -1;
    }
    case OPT_DATA: a->data_path = arg; return -1;
    case OPT_HTML: a->html_path = arg; return -1;
    case OPT_JUNIT: a->junit_path = arg; return -1;
    case OPT_TARGETS: a->targets_path = arg; return -1;
    case OPT_PICK:
        if (pick_mode_parse(arg, &a->pick) < 0) return cli_bad_value(o, arg, "expected seq, random or once");
        a->pick_given = true;
        return -1;
    case OPT_CHAOS: return chaos_opt(o, arg, a);
    case OPT_SCRAPE:
    case OPT_SCRAPE_MATCH:
    case OPT_SCRAPE_MAX:
    case OPT_PROFILE:
    case OPT_PROFILE_AT:
    case OPT_PROFILE_FOR: return evidence_opt(o, arg, a);
    case OPT_THRESHOLD: return threshold_opt(o, arg, a);
    case OPT_CHECK: return check_opt(arg, a);
    case OPT_SCRIPT: a->script_path = arg; return -1;
    case OPT_SESSION_TIMEOUT: return duration_opt(o, arg, &cfg->session_timeout_ns, false, 0, "like 30s");
    case OPT_MAX_BODY:
    case OPT_BODY_BUDGET: return size_opt(o, arg, cfg);
    case OPT_PROGRESS:
        for (size_t i = 0; i < sizeof(progress_modes) / sizeof(progress_modes[0]); i++)
            if (!strcmp(arg, progress_modes[i])) return a->progress = (enum progress_mode)i, -1;
        return cli_bad_value(o, arg, "expected auto, tty, plain or off");
    default: return usage_error("option '--%s' has no handler", o->name); /* a row without a case: a bug */
    }
}

void run_cli_defaults(struct run_config *cfg, struct run_args *a)
{
    *cfg = (struct run_config){
        .arrival = ARRIVAL_CONSTANT,
        .duration_ns = 10 * NS_PER_S,
        .timeout_ns = 10 * NS_PER_S,
        .max_lag_ns = NS_PER_MS,
        .spin_auto = true,
        .connections = 10000,
        .seed = 1,
        .nshards = 1,
        .method = "GET",
        .tls = {.verify = true},
    };
    memset(a, 0, sizeof(*a));
    a->max_names = 100;
    a->pick = PICK_SEQ;
}

/* A verb built on run's options: its rows after run's, its handler first (-2: run's turn). */
struct ext_ctx {
    struct run_ctx run;
    const struct run_cli_ext *ext;
};

static int ext_opt(const struct cli_opt *o, char *arg, void *ctx)
{
    struct ext_ctx *e = ctx;
    int code = e->ext->handle(o, arg, e->ext->ctx);
    return code == -2 ? run_opt(o, arg, &e->run) : code;
}

/* cli_parse with run's rows, or run's plus ext's. */
static int parse_with(const struct run_cli_ext *ext, int argc, char **argv, struct run_ctx *ctx)
{
    if (!ext) return cli_parse(&run_verb, argc, argv, run_opt, ctx);
    size_t n = CLI_NOPTS(run_opts) + ext->nopts;
    struct cli_opt *rows = malloc(n * sizeof(*rows));
    if (!rows) abort();
    memcpy(rows, run_opts, sizeof(run_opts));
    memcpy(rows + CLI_NOPTS(run_opts), ext->opts, ext->nopts * sizeof(*rows));
    struct cli_verb v = {.name = ext->name, .synopsis = ext->synopsis, .epilog = ext->epilog, .opts = rows, .nopts = n};
    struct ext_ctx e = {*ctx, ext};
    int code = cli_parse(&v, argc, argv, ext_opt, &e);
    free(rows);
    return code;
}

/*
 * The kept-body budget (body_budget.h), once the threads are known: each
 * worker's equal share must hold the largest body one response may keep
 * (--max-body plus the heads), or that response would wait forever. The
 * default is 64MiB, raised to that minimum when many threads or a large
 * --max-body need more; a --body-budget below it is refused.
 */
static int budget_config(struct run_config *cfg)
{
    if (!cfg->check_body) return -1;
    size_t least = check_stream_keep_cap(cfg) * cfg->threads;
    if (!cfg->body_budget) {
        cfg->body_budget = least > BODY_BUDGET_DEFAULT ? least : BODY_BUDGET_DEFAULT;
        return -1;
    }
    if (cfg->body_budget < least)
        return usage_error("bad value for --body-budget: %zu bytes is less than %u thread%s x (--max-body + 32KiB) = "
                           "%zu bytes, the least that lets every response's body fit",
                           cfg->body_budget, cfg->threads, cfg->threads == 1 ? "" : "s", least);
    return -1;
}
int run_cli_prepare(int argc, char **argv, const struct run_cli_ext *ext, struct run_config *cfg, struct run_args *a,
                    char **body_buf)
{
    struct run_ctx ctx = {cfg, a};
    *body_buf = NULL;
    run_script_split_args(&argc, argv, a);
    int code = parse_with(ext, argc, argv, &ctx);
    if (code >= 0) return code;
    if (optind + 1 < argc)
        return usage_error("unexpected argument '%s' (try 'salvo %s --help')", argv[optind + 1],
                           ext ? ext->name : "run");
    if (!a->pick_seed_given && getrandom(&a->pick_seed, sizeof(a->pick_seed), 0) != sizeof(a->pick_seed))
        a->pick_seed = clock_wall_ns() ^ ((uint64_t)getpid() << 32);
    if (!a->pick_seed_given) a->pick_seed >>= 11; /* 53 bits: exact as a JSON number in any reader */
    cfg->url_text = optind < argc ? argv[optind] : NULL;
    keep_provenance(cfg, a, argc, argv);
    cfg->checks = a->checks;
    cfg->nchecks = a->nchecks;
    if (!cfg->max_body) cfg->max_body = CHECK_MAX_BODY_DEFAULT;
    for (uint32_t i = 0; i < a->nchecks; i++)
        cfg->check_body |= check_needs_body(&a->checks[i]);
    code = finish_config(cfg, a, body_buf);
    if (code < 0) code = budget_config(cfg);
    if (code < 0) compute_run_id(cfg, a);
    return code;
}

void run_cli_release(struct run_config *cfg, struct run_args *a, char *body_buf)
{
    evidence_release(a);
    script_free(cfg->script);
    cfg->script = NULL;
    reqgen_release(&a->gen);
    if (a->has_targets) targets_release(&a->targets);
    if (a->has_feeder) feeder_release(&a->feeder);
    tls_release(&cfg->tls);
    free(body_buf);
}

int cli_run(int argc, char **argv)
{
    struct run_config cfg;
    static struct run_args a; /* large (thresholds); one run per process */
    char *body_buf;
    run_cli_defaults(&cfg, &a);
    int code = run_cli_prepare(argc, argv, NULL, &cfg, &a, &body_buf);
    if (code < 0) code = run_cli_execute(&cfg, &a);
    run_cli_release(&cfg, &a, body_buf);
    return code;
}
