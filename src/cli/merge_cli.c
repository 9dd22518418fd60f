/*
 * merge_cli.c — `salvo merge RESULT.json… [--json OUT] [--html OUT]
 * [--threshold EXPR]…`: one result from the shards of a run.
 *
 * Each shard of a `--shard K/N` run writes its own results JSON; this verb
 * adds them (src/report/merge.c) into one result in the same contract, so
 * thresholds are judged once on the whole run and the HTML report shows the
 * whole run. Exit codes: 0 done; 2 a usage error, an input that cannot be
 * read or is not a shard of the same run (the message names the file), or
 * an output that cannot be written (probed before reading any input); 1 a
 * write that failed anyway; 99 a threshold failed. A missing shard is a warning,
 * not an error: the merged result then says which shards it lacks.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/exit.h"
#include "report/analysis.h"
#include "cli/common.h"
#include "report/html.h"
#include "report/junit.h"
#include "report/json.h"
#include "report/merge.h"
#include "report/summary.h"
#include "report/thresholds.h"

#define MAX_THRESHOLDS 64
#define MAX_LISTED 16 /* shard indices named in one warning line */

/* What the command line asked for. */
struct merge_args {
    const char *json_path, *html_path, *junit_path;
    struct threshold thresholds[MAX_THRESHOLDS];
    int nthresholds;
    int quiet;
};

/* Every option of `salvo merge`, once (see cli/common.h). */
#define MERGE_OPTIONS(S, L)                                                                                            \
    L(OPT_JSON, "json", "FILE", "write the merged results JSON ('-' for stdout)", 0, 0)                                \
    L(OPT_HTML, "html", "FILE", "write the merged result as a self-contained HTML report", 0, 0)                       \
    L(OPT_JUNIT, "junit", "FILE", "write the merged verdict as JUnit XML (a test case per threshold, check, health)",  \
      0, 0)                                                                                                            \
    L(OPT_THRESHOLD, "threshold", "EXPR", "pass/fail gate on the merged result, repeatable (exit 99)", 0,              \
      MAX_THRESHOLDS)                                                                                                  \
    S('q', "quiet", NULL, "no summary on stdout (implied by --json -)", 0, 0)

enum { OPT_MERGE_FIRST = CLI_FIRST_LONG - 1, MERGE_OPTIONS(CLI_SKIP, CLI_ENUM) };

static const struct cli_opt merge_opts[] = {MERGE_OPTIONS(CLI_ROW, CLI_ROW)};

static const struct cli_verb merge_verb = {
    .name = "merge",
    .synopsis = "usage: salvo merge RESULT.json… [--json OUT] [--html OUT] [--junit OUT] [--threshold EXPR]…\n"
                "Adds the results of the shards of one run (salvo run --shard K/N) into one result:\n"
                "counts add, percentiles are recomputed from the summed histograms.\n",
    .epilog = "Results of different runs or a shard given twice are refused (exit 2);\n"
              "a missing shard is a warning and is listed in \"missing_shards\".\n",
    .opts = merge_opts,
    .nopts = CLI_NOPTS(merge_opts),
};

/* cli_handler of `salvo merge`. */
static int merge_opt(const struct cli_opt *o, char *arg, void *ctx)
{
    struct merge_args *a = ctx;
    const char *why;
    switch (o->id) {
    case OPT_JSON: a->json_path = arg; return -1;
    case OPT_HTML: a->html_path = arg; return -1;
    case OPT_JUNIT: a->junit_path = arg; return -1;
    case 'q': a->quiet = 1; return -1;
    case OPT_THRESHOLD:
        if (a->nthresholds == MAX_THRESHOLDS) return usage_error("too many thresholds (at most %d)", MAX_THRESHOLDS);
        if (threshold_parse(&a->thresholds[a->nthresholds], arg, &why) < 0)
            return usage_error("bad threshold '%s': %s", arg, why);
        a->nthresholds++;
        return -1;
    }
    return -1;
}

/* Parses the options; returns an exit code, or -1 to go on with argv[optind..]. */
static int parse_args(int argc, char **argv, struct merge_args *a)
{
    int code = cli_parse(&merge_verb, argc, argv, merge_opt, a);
    if (code >= 0) return code;
    if (optind >= argc) return usage_error("merge needs at least one RESULT.json (see 'salvo merge --help')");
    return -1;
}

/* Reads path and adds it to m. Prints the error and returns an exit code, or -1 on success. */
static int load_shard(struct merge *m, const char *path)
{
    char why[512];
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "salvo: cannot read '%s': %s\n", path, error_text(errno));
        return EXIT_USAGE; /* bad input, as in every verb */
    }
    json_error_t err;
    json_t *doc = json_loadf(f, 0, &err);
    fclose(f);
    if (!doc) {
        fprintf(stderr, "salvo: cannot merge '%s': not a salvo result (invalid JSON at line %d: %s)\n", path, err.line,
                err.text);
        return EXIT_USAGE;
    }
    int rc = merge_add(m, doc, path, why, sizeof(why));
    json_decref(doc);
    if (rc < 0) {
        fprintf(stderr, "salvo: cannot merge '%s': %s\n", path, why);
        return EXIT_USAGE;
    }
    return -1;
}

/* Writes "a, b, c" for the integers of an array (at most MAX_LISTED, then "…"). */
static void print_indices(FILE *out, json_t *list)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (i == MAX_LISTED) {
            fputs(", …", out);
            break;
        }
        fprintf(out, "%s%lld", i ? ", " : "", (long long)json_integer_value(v));
    }
}

/* Warns on stderr about the shards no file was given for. */
static void warn_missing(json_t *merged)
{
    json_t *missing = json_object_get(merged, "missing_shards");
    if (!json_array_size(missing)) return;
    fprintf(stderr, "salvo: warning: %zu of %lld shards missing (", json_array_size(missing),
            (long long)json_integer_value(json_object_get(json_object_get(merged, "config"), "shards")));
    print_indices(stderr, missing);
    fputs("): the merged result covers part of the run only\n", stderr);
}

/* Warns on stderr when the shards spoke different protocols (merge.c's hint says which). */
static void warn_mixed(json_t *merged)
{
    const char *p = json_string_value(json_object_get(merged, "protocol"));
    if (p && !strcmp(p, "mixed"))
        fputs("salvo: warning: the shards spoke different protocols (ALPN answers differed): the merged latencies "
              "mix them (see the hint)\n",
              stderr);
}

/* The merge's own command line, for provenance in config.command; words
 * with spaces or quotes are single-quoted so that it can be run again. */
static void set_command(json_t *merged, int argc, char **argv)
{
    size_t len = strlen("salvo") + 1;
    for (int i = 0; i < argc; i++)
        len += 3 + 4 * strlen(argv[i]);
    char *line = malloc(len), *p = line;
    if (!line) abort();
    p += sprintf(p, "salvo");
    for (int i = 0; i < argc; i++) {
        bool quote = argv[i][strcspn(argv[i], " \t'\"<>|&;$*?")] != '\0';
        *p++ = ' ';
        if (quote) *p++ = '\'';
        for (const char *c = argv[i]; *c; c++) {
            if (*c == '\'')
                p += sprintf(p, "'\\''"); /* ends the quote, an escaped ', reopens */
            else
                *p++ = *c;
        }
        if (quote) *p++ = '\'';
    }
    *p = '\0';
    json_object_set_new(json_object_get(merged, "config"), "command", json_string(line));
    free(line);
}

/* Writes the requested files; returns EXIT_OK or EXIT_RUNTIME. */
static int write_outputs(json_t *merged, const struct merge_args *a)
{
    int code = EXIT_OK;
    if (a->json_path && report_json_save(merged, a->json_path) < 0) {
        fprintf(stderr, "salvo: cannot write '%s': %s\n", a->json_path, error_text(errno ? errno : EIO));
        code = EXIT_RUNTIME;
    }
    if (a->html_path) {
        const char *title = "merged";
        int rc = report_html_file(a->html_path, &merged, &title, 1);
        if (rc < 0) {
            fprintf(stderr, "salvo: cannot write '%s': %s\n", a->html_path, error_text(-rc));
            code = EXIT_RUNTIME;
        }
    }
    if (a->junit_path) {
        struct junit j;
        junit_init(&j, "salvo merge");
        junit_add_result(&j, "salvo.merge", merged);
        int rc = junit_file(&j, a->junit_path);
        junit_release(&j);
        if (rc < 0) {
            fprintf(stderr, "salvo: cannot write '%s': %s\n", a->junit_path, error_text(rc));
            code = EXIT_RUNTIME;
        }
    }
    return code;
}

int cli_merge(int argc, char **argv)
{
    static struct merge_args a; /* large (thresholds); one merge per process */
    memset(&a, 0, sizeof(a));
    int code = parse_args(argc, argv, &a);
    if (code >= 0) return code;
    const char *outs[] = {a.json_path, a.html_path, a.junit_path};
    if ((code = probe_outputs(outs, 3)) >= 0) return code;
    struct merge m;
    merge_init(&m);
    for (int i = optind; i < argc && code < 0; i++)
        code = load_shard(&m, argv[i]);
    if (code >= 0) {
        merge_release(&m);
        return code;
    }
    json_t *merged = merge_result(&m);
    warn_missing(merged);
    warn_mixed(merged);
    set_command(merged, argc, argv);
    merge_apply_thresholds(merged, a.thresholds, a.nthresholds); /* their verdicts go into merged */
    bool json_on_stdout = a.json_path && strcmp(a.json_path, "-") == 0;
    if (!a.quiet && !json_on_stdout) summary_print(stdout, merged, summary_color_flags(stdout));
    fflush(stdout);
    /* One decision for run, merge and report: the verdict of the results JSON (report/analysis.h). */
    code = exit_worse(verdict_of(merged).exit_code, write_outputs(merged, &a));
    if (code != EXIT_OK) summary_print_verdict(stderr, merged, verdict_word(code), summary_color_flags(stderr));
    json_decref(merged);
    merge_release(&m);
    return code;
}
