/*
 * doctor_cli.c — `salvo doctor [options]`: audit this machine for a
 * planned run and print the verdict as a table or as JSON.
 *
 * The judging is done by src/sys/doctor.c; this file only turns options
 * into a plan and the report into text. Exit codes: 0 when no check fails
 * (warnings included), 1 when one fails, 2 on a usage error, so that a
 * script can run `salvo doctor --rate R ... && salvo run ...`.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "core/units.h"
#include "sys/doctor.h"

/* Columns of the text table wider than this overflow into the next one. */
#define VALUE_COLUMN_MAX 56

/* Every option of `salvo doctor`, once (see cli/common.h). */
#define DOCTOR_OPTIONS(S, L)                                                                                           \
    S('r', "rate", "N", "planned requests per second", 0, 0)                                                           \
    S('c', "connections", "N", "planned concurrent connections (default 10000, salvo run's cap)", 1, 10000000)         \
    S('t', "threads", "N", "planned worker threads (default: one per online CPU)", 1, 1024)                            \
    L(OPT_NO_KEEPALIVE, "no-keepalive", NULL, "a new connection per request (salvo closes first)", 0, 0)               \
    L(OPT_TARGET, "target", "HOST:PORT", "the server; when it is on this machine, read its real listen backlog", 0, 0) \
    L(OPT_JSON, "json", NULL, "print the report as JSON", 0, 0)                                                        \
    L(OPT_ROOT, "root", "DIR", "read proc/ and sys/ under DIR instead of / (for tests)", 0, 0)

enum { OPT_DOCTOR_FIRST = CLI_FIRST_LONG - 1, DOCTOR_OPTIONS(CLI_SKIP, CLI_ENUM) };

static const struct cli_opt doctor_opts[] = {DOCTOR_OPTIONS(CLI_ROW, CLI_ROW)};

static const struct cli_verb doctor_verb = {
    .name = "doctor",
    .synopsis = "usage: salvo doctor [options]\n"
                "Audits this machine's kernel settings and limits for a planned run.\n",
    .epilog = "Exit status: 0 when no check fails, 1 when one does, 2 on a usage error.\n",
    .opts = doctor_opts,
    .nopts = CLI_NOPTS(doctor_opts),
};

/* What the command line asked for. */
struct doctor_args {
    struct doctor_plan plan;
    bool json;
    char target_host[256];
};

/* cli_handler of `salvo doctor`. */
static int doctor_opt(const struct cli_opt *o, char *arg, void *ctx)
{
    struct doctor_args *a = ctx;
    uint64_t v;
    int code = -1;
    switch (o->id) {
    case 'r':
        if (parse_rate(arg, &a->plan.rate) < 0)
            return cli_bad_value(o, arg, "expected a positive number of requests per second");
        return -1;
    case 'c':
        if ((code = cli_uint(o, arg, &v)) < 0) a->plan.connections = (uint32_t)v;
        return code;
    case 't':
        if ((code = cli_uint(o, arg, &v)) < 0) a->plan.threads = (uint32_t)v;
        return code;
    case OPT_NO_KEEPALIVE: a->plan.keepalive = false; return -1;
    case OPT_TARGET:
        if (doctor_parse_target(arg, a->target_host, sizeof(a->target_host), &a->plan.target_port) < 0)
            return cli_bad_value(o, arg, "expected HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080");
        a->plan.target_host = a->target_host;
        return -1;
    case OPT_JSON: a->json = true; return -1;
    case OPT_ROOT: a->plan.root = arg; return -1;
    }
    return -1;
}

/* One line saying what the report was judged against. */
static void print_plan(const struct doctor_args *a)
{
    const struct doctor_plan *p = &a->plan;
    char rate[48] = "no rate given", conns[48], threads[48] = "one thread per CPU", target[300] = "no target";
    if (p->rate > 0) snprintf(rate, sizeof(rate), "%g req/s", p->rate);
    if (p->connections)
        snprintf(conns, sizeof(conns), "%u connections", p->connections);
    else
        snprintf(conns, sizeof(conns), "%u connections (default cap)", DOCTOR_DEFAULT_CONNECTIONS);
    if (p->threads) snprintf(threads, sizeof(threads), "%u threads", p->threads);
    if (p->target_host) snprintf(target, sizeof(target), "target %s:%u", p->target_host, p->target_port);
    printf("salvo doctor: %s, %s, %s, %s, %s\n\n", rate, p->keepalive ? "keep-alive" : "no keep-alive", conns, threads,
           target);
}

/* The aligned table, a fix line under each warn and fail, and the totals. */
static void print_text(const struct doctor_args *a, const struct doctor_report *r)
{
    int name_w = 5, value_w = 5;
    for (size_t i = 0; i < r->n; i++) {
        int n = (int)strlen(r->checks[i].name), v = (int)strlen(r->checks[i].value);
        if (n > name_w) name_w = n;
        if (v > value_w) value_w = v < VALUE_COLUMN_MAX ? v : VALUE_COLUMN_MAX;
    }
    print_plan(a);
    printf("%-6s %-*s  %-*s  %s\n", "STATUS", name_w, "CHECK", value_w, "VALUE", "RECOMMENDED");
    for (size_t i = 0; i < r->n; i++) {
        const struct doctor_check *c = &r->checks[i];
        printf("%-6s %-*s  %-*s  %s\n", doctor_status_name(c->status), name_w, c->name, value_w, c->value,
               c->recommended);
        if (c->status != DOCTOR_OK) printf("%-6s %s%s%s\n", "", c->symptom, c->fix[0] ? " -- fix: " : "", c->fix);
    }
    printf("\nsummary: %u ok, %u warn, %u fail\n", r->count[DOCTOR_OK], r->count[DOCTOR_WARN], r->count[DOCTOR_FAIL]);
}

/* {"plan":{...},"checks":[...],"summary":{...}} on stdout. */
static int print_json(const struct doctor_args *a, const struct doctor_report *r)
{
    const struct doctor_plan *p = &a->plan;
    json_t *checks = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const struct doctor_check *c = &r->checks[i];
        json_array_append_new(checks, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", c->name, "status",
                                                doctor_status_name(c->status), "value", c->value, "recommended",
                                                c->recommended, "symptom", c->symptom, "fix", c->fix));
    }
    char target[300];
    bool v6 = p->target_host && strchr(p->target_host, ':'); /* an IPv6 literal needs its brackets back */
    snprintf(target, sizeof(target), v6 ? "[%s]:%u" : "%s:%u", p->target_host ? p->target_host : "", p->target_port);
    json_t *plan = json_pack("{s:o, s:I, s:o, s:b, s:o}", "rate", p->rate > 0 ? json_real(p->rate) : json_null(),
                             "connections", (json_int_t)(p->connections ? p->connections : DOCTOR_DEFAULT_CONNECTIONS),
                             "threads", p->threads ? json_integer(p->threads) : json_null(), "keepalive", p->keepalive,
                             "target", p->target_host ? json_string(target) : json_null());
    json_t *doc =
        json_pack("{s:o, s:o, s:{s:i, s:i, s:i}}", "plan", plan, "checks", checks, "summary", "ok",
                  (int)r->count[DOCTOR_OK], "warn", (int)r->count[DOCTOR_WARN], "fail", (int)r->count[DOCTOR_FAIL]);
    if (!doc) abort();
    int rc = json_dumpf(doc, stdout, JSON_INDENT(2)) == 0 ? EXIT_OK : EXIT_RUNTIME;
    fputc('\n', stdout);
    json_decref(doc);
    return rc;
}

int cli_doctor(int argc, char **argv)
{
    struct doctor_args a;
    memset(&a, 0, sizeof(a));
    doctor_plan_init(&a.plan);
    a.plan.sample_ms = 250; /* the verb may take a moment to sample steal; a run's preflight does not */
    int code = cli_parse(&doctor_verb, argc, argv, doctor_opt, &a);
    if (code >= 0) return code;
    if (optind < argc) return usage_error("unexpected argument '%s' (salvo doctor takes options only)", argv[optind]);
    struct stat st;
    if (a.plan.root && (stat(a.plan.root, &st) < 0 || !S_ISDIR(st.st_mode)))
        return usage_error("bad value '%s' for --root: expected a directory", a.plan.root);

    struct doctor_report *report = malloc(sizeof(*report));
    if (!report) abort();
    int rc = doctor_check_all(&a.plan, report);
    if (rc < 0) {
        fprintf(stderr, "salvo: cannot audit under '%s': %s\n", a.plan.root ? a.plan.root : "/", error_text(rc));
        free(report);
        return EXIT_RUNTIME;
    }
    int out = a.json ? print_json(&a, report) : (print_text(&a, report), EXIT_OK);
    if (out == EXIT_OK && report->count[DOCTOR_FAIL] > 0) out = EXIT_RUNTIME;
    free(report);
    return out;
}
