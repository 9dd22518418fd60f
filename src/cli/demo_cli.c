/*
 * demo_cli.c — `salvo demo`: why salvo exists, in one command.
 *
 * Starts `salvo target --auth --error-bodies` (the demo routing API) on a
 * free loopback port, logs in for a bearer token that every run carries,
 * generates trips of which every tenth ends outside the city, measures the
 * engine's capacity, then runs three short experiments and prints them
 * side by side:
 *   1. naive: closed model, one fixed route — the cache answers;
 *   2. naive while the target is frozen (SIGSTOP) for 2 s — still looks
 *      fine, because a closed loop stops sending while the server is stuck;
 *   3. honest: open model near capacity, random trips, the same freeze,
 *      and a check of every body.
 * The capacity run is the check lesson's naive side: a plain closed loop
 * over the same trips, it counts the 200s with {"error":…} bodies as
 * successes; the honest run's --check 'json.error absent' counts them as
 * check_failed. The lesson costs no extra run.
 * Each experiment is a real `salvo run` (same code path as the verb), with
 * its results written as JSON; the demo reads them back for the table, the
 * combined JSON and the HTML report. Every child is ended by PID.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "report/html.h"
#include "report/fmt.h"
#include "report/summary.h"

#define DEMO_SECONDS "10s"

/* Every option of `salvo demo`, once (see cli/common.h). */
#define DEMO_OPTIONS(S, L)                                                                                             \
    L(OPT_JSON, "json", "FILE", "also write the three results as one JSON ({\"experiments\": [...]})", 0, 0)           \
    L(OPT_HTML, "html", "FILE", "where the HTML report goes (default salvo-demo.html)", 0, 0)

enum { OPT_DEMO_FIRST = CLI_FIRST_LONG - 1, DEMO_OPTIONS(CLI_SKIP, CLI_ENUM) };

static const struct cli_opt demo_opts[] = {DEMO_OPTIONS(CLI_ROW, CLI_ROW)};

static const struct cli_verb demo_verb = {
    .name = "demo",
    .synopsis = "usage: salvo demo [--json FILE] [--html FILE]\n"
                "Starts the demo target on a free loopback port and tests it three ways, side by side:\n"
                "the naive way (closed loop, one route), the same during a 2 s freeze, and the honest way\n"
                "(open model near capacity, varied trips, the same freeze, every body checked). The target\n"
                "runs with --auth (each run carries a token from POST /api/login) and --error-bodies: every\n"
                "tenth trip leaves the city and is answered 200 {\"error\": ...}, which only a check counts.\n"
                "Takes about 40 s.\n",
    .opts = demo_opts,
    .nopts = CLI_NOPTS(demo_opts),
};
#define NEXP 3

/* The target process and the files of one demo. */
struct demo {
    char self[4096];
    char dir[64];
    pid_t target;
    char host[64]; /* 127.0.0.1:PORT */
    char url_fixed[256], url_tpl[256], trips[128];
    char auth[160]; /* "Authorization: Bearer TOKEN" */
    json_t *results[NEXP];
    json_t *capacity_run; /* the unchecked closed loop over the trips: the check lesson's naive side */
    double capacity;
};

/* Starts `salvo target` and reads the port from its first line. */
static int start_target(struct demo *d)
{
    int fds[2];
    if (pipe(fds) < 0) return -errno;
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, STDERR_FILENO);
        execl(d->self, d->self, "target", "--listen", "127.0.0.1:0", "--workers", "2", "--queue", "256", "--cache",
              "10000", "--auth", "--error-bodies", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    d->target = pid;
    FILE *f = fdopen(fds[0], "r");
    char line[256] = "";
    bool got = f && fgets(line, sizeof(line), f);
    if (f) fclose(f);
    const char *at = got ? strstr(line, "127.0.0.1:") : NULL;
    if (!at) return -EIO;
    snprintf(d->host, sizeof(d->host), "%.*s", (int)strcspn(at, " \r\n"), at);
    return 0;
}

/*
 * POST /api/login as user "demo" over a plain blocking socket (the target
 * is on loopback and answers at once) and keeps the header every run sends.
 */
static int fetch_token(struct demo *d)
{
    const char *colon = strrchr(d->host, ':');
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    static const char body[] = "{\"user\":\"demo\"}";
    char req[256], resp[1024];
    int n = snprintf(req, sizeof(req),
                     "POST /api/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     d->host, sizeof(body) - 1, body);
    size_t got = 0;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 && write(fd, req, (size_t)n) == n) {
        ssize_t r;
        while (got < sizeof(resp) - 1 && (r = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
            got += (size_t)r;
    }
    close(fd);
    resp[got] = '\0';
    const char *t = strstr(resp, "\"token\":\"");
    if (strncmp(resp, "HTTP/1.1 200", 12) != 0 || !t) return -EPROTO;
    t += strlen("\"token\":\"");
    snprintf(d->auth, sizeof(d->auth), "Authorization: Bearer %.*s", (int)strcspn(t, "\""), t);
    return 0;
}

/*
 * Rewrites the trips so that every tenth one ends north of the city
 * (lat 52.70, outside the accepted box): the target answers those 200 with
 * {"error":"coordinate outside the map…"} — a wrong answer a status code
 * does not show.
 */
static int spoil_trips(const char *raw, const char *out_path)
{
    FILE *in = fopen(raw, "r"), *out = in ? fopen(out_path, "w") : NULL;
    if (!out) {
        if (in) fclose(in);
        return -errno;
    }
    char line[256];
    for (long row = -1; fgets(line, sizeof(line), in); row++) {
        double a, b, c, e;
        if (row >= 0 && row % 10 == 9 && sscanf(line, "%lf,%lf,%lf,%lf", &a, &b, &c, &e) == 4)
            fprintf(out, "%.6f,%.6f,52.700000,%.6f\n", a, b, e);
        else
            fputs(line, out);
    }
    fclose(in);
    return fclose(out) == 0 ? 0 : -errno;
}

/* The SIGINT/SIGTERM that stopped the demo (0: none), and the child that gets it passed on. */
static volatile sig_atomic_t demo_signal;
static volatile pid_t demo_child;

/*
 * A signal to the demo goes to the experiment running (which stops and
 * writes its result, as `salvo run` does); the demo then skips the rest and
 * exits 130/143 like every verb. Ctrl-C in a terminal reaches the child
 * too: a second one then is a second one for it, and ends it at once.
 */
static void on_demo_signal(int sig)
{
    if (!demo_signal) demo_signal = sig;
    if (demo_child > 0) kill(demo_child, sig);
}

static void catch_signals(void)
{
    struct sigaction sa = {.sa_handler = on_demo_signal}; /* no SA_RESTART: waitpid sees EINTR and retries */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Runs `salvo ARGS...` as a child and waits; returns its exit code. */
static int run_child(const char *self, char *const argv[])
{
    if (demo_signal) return 128 + demo_signal; /* stopped: start nothing more */
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid == 0) {
        execv(self, argv);
        _exit(127);
    }
    demo_child = pid;
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    demo_child = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Runs one experiment with `salvo run ARGS --json FILE`; loads its result. */
static json_t *experiment(struct demo *d, const char *title, char **args, size_t nargs, int idx)
{
    if (demo_signal) return NULL; /* stopped: the rest is skipped */
    char json_path[128];
    snprintf(json_path, sizeof(json_path), "%s/exp%d.json", d->dir, idx);
    char *argv[40];
    size_t n = 0;
    argv[n++] = d->self;
    argv[n++] = "run";
    for (size_t i = 0; i < nargs && n < 34; i++)
        argv[n++] = args[i];
    argv[n++] = "--json";
    argv[n++] = json_path;
    argv[n++] = "-q";
    argv[n++] = "--allow-invalid";
    argv[n] = NULL;
    printf("  %d/3 %s ...\n", idx + 1, title);
    fflush(stdout);
    int rc = run_child(d->self, argv);
    json_t *doc = json_load_file(json_path, 0, NULL);
    if (!doc && !demo_signal) fprintf(stderr, "salvo: demo experiment '%s' failed (exit %d)\n", title, rc);
    return doc;
}

/* A figure of a result by dotted path, e.g. "latency_us.p99". */
static double fig(json_t *doc, const char *a, const char *b)
{
    json_t *o = json_object_get(doc, a);
    return json_number_value(b ? json_object_get(o, b) : o);
}

/* Measures the engine's capacity on cache misses with a short closed loop. */
static double measure_capacity(struct demo *d)
{
    char json_path[128];
    snprintf(json_path, sizeof(json_path), "%s/capacity.json", d->dir);
    char *argv[] = {d->self,    "run", d->url_tpl, "--data", d->trips, "--pick",  "random",
                    "--closed", "-c",  "16",       "-d",     "3s",     "-q",      "--allow-invalid",
                    "--seed",   "7",   "-H",       d->auth,  "--json", json_path, NULL};
    run_child(d->self, argv);
    json_t *doc = json_load_file(json_path, 0, NULL);
    double cap = doc ? fig(doc, "rate", "achieved") : 0;
    d->capacity_run = doc;
    return cap > 10 ? cap : 100;
}

/* What a tool that looks only at the transport and the status calls errors (check_failed is not among them). */
static double demo_errors(json_t *doc)
{
    return fig(doc, "requests", "failed") + fig(doc, "requests", "timeout") + fig(doc, "requests", "http_error");
}

/* True if the run judged its responses with --check. */
static bool checked(json_t *doc)
{
    return json_object_size(json_object_get(doc, "checks")) > 0;
}

/* Prints the side-by-side table. */
static void print_table(struct demo *d, const char *const titles[NEXP])
{
    static const struct {
        const char *label, *obj, *key;
        bool us;
    } rows[] = {
        {"model", NULL, NULL, false},
        {"requests", "requests", "scheduled", false},
        {"achieved rate /s", "rate", "achieved", false},
        {"latency p50", "latency_us", "p50", true},
        {"latency p99", "latency_us", "p99", true},
        {"latency p99.9", "latency_us", "p99_9", true},
        {"latency max", "latency_us", "max", true},
        {"errors excl. checks", NULL, NULL, false}, /* failed + timeout + http_error; check_failed is the next row */
        {"check_failed", "requests", "check_failed", false},
    };
    printf("\n%-19s", "");
    for (int i = 0; i < NEXP; i++)
        printf(" | %-26s", titles[i]);
    printf("\n");
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        printf("%-19s", rows[r].label);
        for (int i = 0; i < NEXP; i++) {
            char cell[48] = "-";
            json_t *doc = d->results[i];
            if (doc && r == 0)
                snprintf(cell, sizeof(cell), "%s", json_string_value(json_object_get(doc, "model")));
            else if (doc && !rows[r].obj)
                snprintf(cell, sizeof(cell), "%.0f", demo_errors(doc));
            else if (doc && !strcmp(rows[r].label, "check_failed") && !checked(doc))
                snprintf(cell, sizeof(cell), "- (no check)");
            else if (doc && rows[r].us)
                report_fmt_us(cell, sizeof(cell), fig(doc, rows[r].obj, rows[r].key));
            else if (doc)
                snprintf(cell, sizeof(cell), "%.0f", fig(doc, rows[r].obj, rows[r].key));
            printf(" | %-26s", cell);
        }
        printf("\n");
    }
}

/* The check lesson: the unchecked capacity run against the honest run's check of every body. */
static void print_check_lesson(struct demo *d)
{
    json_t *naive = d->capacity_run, *honest = d->results[2];
    if (!naive || !honest || !checked(honest)) return;
    double ok = fig(honest, "requests", "ok"), bad = fig(honest, "requests", "check_failed");
    printf("- Every tenth trip ends outside the city, and the service answers it 200 {\"error\": ...}, as many\n"
           "  real APIs do. The capacity run (a plain closed loop over these trips, like wrk) counted\n"
           "  %.0f requests and %.0f errors. The honest run checked every body (--check 'routed: json.error\n"
           "  absent'): %.0f check_failed, %.1f%% of the %.0f complete 200s, wrong answers a status code hides.\n",
           fig(naive, "requests", "scheduled"), demo_errors(naive), bad, ok + bad > 0 ? 100.0 * bad / (ok + bad) : 0,
           ok + bad);
}

/* The few sentences that read the table for the user. */
static void print_reading(struct demo *d)
{
    if (!d->results[0] || !d->results[1] || !d->results[2]) return;
    char a[32], b[32], c[32];
    double naive = fig(d->results[0], "latency_us", "p99"), frozen = fig(d->results[1], "latency_us", "p99");
    double honest = fig(d->results[2], "latency_us", "p99");
    report_fmt_us(a, sizeof(a), naive);
    report_fmt_us(b, sizeof(b), frozen);
    report_fmt_us(c, sizeof(c), honest);
    printf("\nWhat this says:\n");
    printf("- The naive test (closed loop, one route) reports p99 %s: the route cache answered every request.\n", a);
    printf("- Freezing the service for 2 s barely shows (p99 %s): the closed loop stopped sending while the\n"
           "  server was stuck, so the users who would have waited were never measured (coordinated omission).\n",
           b);
    printf("- The honest test sends on schedule (%.0f/s, near the measured capacity of %.0f/s) with varied\n"
           "  routes and measures from when each request should have left: p99 %s, %.0fx the naive figure.\n",
           fig(d->results[2], "rate", "intended"), d->capacity, c, naive > 0 ? honest / naive : 0);
    printf("  That is what users arriving during the freeze, and queueing behind it, really experienced.\n");
    print_check_lesson(d);
}

/* Writes {"experiments": [{"name", "result"}]} and the HTML report. */
static int write_outputs(struct demo *d, const char *const titles[NEXP], const char *json_path, const char *html_path)
{
    int rc = 0;
    if (json_path) {
        json_t *all = json_object(), *list = json_array();
        for (int i = 0; i < NEXP; i++)
            if (d->results[i])
                json_array_append_new(list, json_pack("{s:s,s:O}", "name", titles[i], "result", d->results[i]));
        json_object_set_new(all, "experiments", list);
        if (d->capacity_run) json_object_set(all, "capacity_run", d->capacity_run);
        if (json_dump_file(all, json_path, JSON_INDENT(2)) < 0) {
            fprintf(stderr, "salvo: cannot write '%s'\n", json_path);
            rc = EXIT_RUNTIME;
        }
        json_decref(all);
    }
    json_t *ok[NEXP];
    const char *ok_titles[NEXP];
    size_t n = 0;
    for (int i = 0; i < NEXP; i++)
        if (d->results[i]) ok[n] = d->results[i], ok_titles[n++] = titles[i];
    if (n && report_html_file(html_path, ok, ok_titles, n) < 0) {
        fprintf(stderr, "salvo: cannot write '%s'\n", html_path);
        rc = EXIT_RUNTIME;
    } else if (n) {
        printf("\nreport: %s\n", html_path);
    }
    return rc;
}

/* Ends the target and removes the temporary files. */
static void cleanup(struct demo *d)
{
    if (d->target > 0) {
        kill(d->target, SIGCONT);
        kill(d->target, SIGTERM);
        waitpid(d->target, NULL, 0);
        d->target = 0;
    }
    char path[160];
    const char *files[] = {"exp0.json", "exp1.json", "exp2.json", "capacity.json", "trips.csv", "trips-raw.csv"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", d->dir, files[i]);
        unlink(path);
    }
    rmdir(d->dir);
    for (int i = 0; i < NEXP; i++)
        json_decref(d->results[i]);
    json_decref(d->capacity_run);
}

/* Runs the three experiments. */
static void run_experiments(struct demo *d, const char *const titles[NEXP])
{
    char pause[96], rate[32], metrics[96];
    snprintf(pause, sizeof(pause), "at=3s for=2s pause pid=%d", (int)d->target);
    /* The frozen runs also read the target's /metrics: the freeze is a gap there, then the queue drains. */
    snprintf(metrics, sizeof(metrics), "http://%s/metrics", d->host);
    char *naive[] = {d->url_fixed, "--closed", "-c", "50", "-d", DEMO_SECONDS, "-H", d->auth};
    char *frozen[] = {d->url_fixed, "--closed", "-c",    "50",     "-d",   DEMO_SECONDS,
                      "-H",         d->auth,    "--chaos", pause, "--scrape", metrics};
    d->results[0] = experiment(d, titles[0], naive, 8, 0);
    d->results[1] = experiment(d, titles[1], frozen, 12, 1);
    snprintf(rate, sizeof(rate), "%.0f", d->capacity * 0.7);
    char *honest[] = {d->url_tpl, "-r",      rate,    "--data",  d->trips, "--pick",
                      "random",   "-d",      DEMO_SECONDS, "--chaos", pause,    "--timeout",
                      "10s",      "-H",      d->auth, "--check", "routed: json.error absent",
                      "--scrape", metrics};
    d->results[2] = experiment(d, titles[2], honest, 19, 2);
}

/* cli_handler of `salvo demo`: ctx is {json_path, html_path}. */
static int demo_opt(const struct cli_opt *o, char *arg, void *ctx)
{
    const char **paths = ctx;
    paths[o->id == OPT_JSON ? 0 : 1] = arg;
    return -1;
}

int cli_demo(int argc, char **argv)
{
    const char *paths[2] = {NULL, "salvo-demo.html"}; /* --json, --html */
    int code = cli_parse(&demo_verb, argc, argv, demo_opt, paths);
    if (code >= 0) return code;
    if (optind < argc) return usage_error("unexpected argument '%s' (try 'salvo demo --help')", argv[optind]);
    const char *json_path = paths[0], *html_path = paths[1];
    static struct demo d;
    memset(&d, 0, sizeof(d));
    ssize_t n = readlink("/proc/self/exe", d.self, sizeof(d.self) - 1);
    if (n <= 0) return fprintf(stderr, "salvo: cannot find my own binary\n"), EXIT_RUNTIME;
    snprintf(d.dir, sizeof(d.dir), "/tmp/salvo-demo-XXXXXX");
    if (!mkdtemp(d.dir)) return fprintf(stderr, "salvo: cannot create a temporary directory\n"), EXIT_RUNTIME;
    static const char *const titles[NEXP] = {"1 naive: closed, one route", "2 naive + 2 s freeze",
                                             "3 honest: open, trips, freeze"};
    catch_signals();
    printf("salvo demo: the same service tested the naive way and the honest way\n");
    if (start_target(&d) < 0) {
        fprintf(stderr, "salvo: cannot start 'salvo target'\n");
        cleanup(&d);
        return EXIT_RUNTIME;
    }
    if (fetch_token(&d) < 0) {
        fprintf(stderr, "salvo: cannot log in to the demo target on '%s'\n", d.host);
        cleanup(&d);
        return EXIT_RUNTIME;
    }
    char raw[128];
    snprintf(raw, sizeof(raw), "%s/trips-raw.csv", d.dir);
    snprintf(d.trips, sizeof(d.trips), "%s/trips.csv", d.dir);
    char *gen[] = {d.self, "target", "--gen-trips", "20000", "--out", raw, NULL};
    run_child(d.self, gen);
    if (spoil_trips(raw, d.trips) < 0) {
        fprintf(stderr, "salvo: cannot write '%s'\n", d.trips);
        cleanup(&d);
        return EXIT_RUNTIME;
    }
    snprintf(d.url_fixed, sizeof(d.url_fixed), "http://%s/api/route?from=52.5200,13.4050&to=52.4800,13.3300", d.host);
    snprintf(d.url_tpl, sizeof(d.url_tpl), "http://%s/api/route?from={from_lat},{from_lng}&to={to_lat},{to_lng}",
             d.host);
    printf("  target on %s; measuring its capacity on cache misses ...\n", d.host);
    fflush(stdout);
    d.capacity = measure_capacity(&d);
    run_experiments(&d, titles);
    if (demo_signal) {
        fprintf(stderr, "salvo: demo interrupted by %s: no table, no report\n",
                demo_signal == SIGTERM ? "SIGTERM" : "SIGINT");
        cleanup(&d);
        return 128 + demo_signal;
    }
    print_table(&d, titles);
    print_reading(&d);
    int rc = write_outputs(&d, titles, json_path, html_path);
    cleanup(&d);
    return rc;
}
