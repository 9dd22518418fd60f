/*
 * report_cli.c — `salvo report RESULT.json… --html FILE`: re-render saved
 * results as the HTML report, and print each result's text summary (the
 * one `salvo run` printed, from the same JSON).
 *
 * The results JSON carries everything the report needs (percentiles, the
 * per-second timeline and the full histograms), so a report can be made
 * later, elsewhere, or for several runs side by side. A file may hold one
 * result or salvo demo's {"experiments": [{"name", "result"}]}; each
 * experiment then becomes a result titled by its name. Usage errors, an
 * input that cannot be read or is not a salvo result, and an output that
 * cannot be written (probed before reading) exit 2 naming the culprit; a
 * write that fails anyway exits 1.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/exit.h"
#include "cli/common.h"
#include "report/html.h"
#include "report/summary.h"

/* Results from every file, in order, with their titles. */
struct report_inputs {
    json_t **results; /* borrowed from docs */
    char **titles;    /* malloc'd */
    size_t n, cap;
    json_t **docs; /* one reference per file read */
    size_t ndocs;
};

/* Every option of `salvo report`, once (see cli/common.h). */
#define REPORT_OPTIONS(S, L)                                                                                           \
    L(OPT_HTML, "html", "FILE", "write one self-contained HTML page with every result", 0, 0)                          \
    L(OPT_TITLE, "title", "TEXT", "title of the next result (repeatable; default: the file name)", 0, 0)               \
    S('q', "quiet", NULL, "no summary on stdout", 0, 0)

enum { OPT_REPORT_FIRST = CLI_FIRST_LONG - 1, REPORT_OPTIONS(CLI_SKIP, CLI_ENUM) };

static const struct cli_opt report_opts[] = {REPORT_OPTIONS(CLI_ROW, CLI_ROW)};

static const struct cli_verb report_verb = {
    .name = "report",
    .synopsis = "usage: salvo report RESULT.json [RESULT.json…] --html FILE\n",
    .epilog = "A file may hold one result or salvo demo's {\"experiments\": [...]}.\n",
    .opts = report_opts,
    .nopts = CLI_NOPTS(report_opts),
};

/* Appends one result with its title (copied). */
static void inputs_add(struct report_inputs *in, json_t *result, const char *title)
{
    if (in->n == in->cap) {
        in->cap = in->cap ? 2 * in->cap : 4;
        in->results = realloc(in->results, in->cap * sizeof(*in->results));
        in->titles = realloc(in->titles, in->cap * sizeof(*in->titles));
        if (!in->results || !in->titles) abort();
    }
    in->results[in->n] = result;
    in->titles[in->n] = strdup(title);
    if (!in->titles[in->n]) abort();
    in->n++;
}

static void inputs_release(struct report_inputs *in)
{
    for (size_t i = 0; i < in->n; i++)
        free(in->titles[i]);
    for (size_t i = 0; i < in->ndocs; i++)
        json_decref(in->docs[i]);
    free(in->results);
    free(in->titles);
    free(in->docs);
}

/* The file name without directories and without ".json". */
static void file_title(char *buf, size_t cap, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(buf, cap, "%s", base);
    size_t len = strlen(buf);
    if (len > 5 && strcmp(buf + len - 5, ".json") == 0) buf[len - 5] = '\0';
}

/* Reads path and adds its result(s). Prints the error and returns -1 on failure. */
static int inputs_load(struct report_inputs *in, const char *path, const char *title)
{
    char name[256];
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "salvo: cannot read '%s': %s\n", path, error_text(errno));
        return -1;
    }
    json_error_t err;
    json_t *doc = json_loadf(f, 0, &err);
    fclose(f);
    if (!doc) {
        fprintf(stderr, "salvo: cannot read '%s': invalid JSON at line %d: %s\n", path, err.line, err.text);
        return -1;
    }
    in->docs = realloc(in->docs, (in->ndocs + 1) * sizeof(*in->docs));
    if (!in->docs) abort();
    in->docs[in->ndocs++] = doc;
    json_t *experiments = json_object_get(doc, "experiments"), *e;
    size_t i, before = in->n;
    json_array_foreach(experiments, i, e)
    {
        json_t *result = json_object_get(e, "result");
        const char *ename = json_string_value(json_object_get(e, "name"));
        if (!json_is_object(result)) continue;
        snprintf(name, sizeof(name), "%s", ename ? ename : "experiment");
        inputs_add(in, result, name);
    }
    if (in->n > before) return 0;
    if (!json_is_object(doc) || !json_is_object(json_object_get(doc, "config"))) {
        fprintf(stderr, "salvo: cannot read '%s': not a salvo result (no \"config\" object)\n", path);
        return -1;
    }
    file_title(name, sizeof(name), path);
    inputs_add(in, doc, title ? title : name);
    return 0;
}

/* Where report's options go. */
struct report_opts {
    const char **html, **titles;
    size_t *ntitles;
    bool *quiet;
};

/* cli_handler of `salvo report`. */
static int report_opt(const struct cli_opt *o, char *arg, void *ctx)
{
    struct report_opts *r = ctx;
    if (o->id == OPT_HTML)
        *r->html = arg;
    else if (o->id == 'q')
        *r->quiet = true;
    else
        r->titles[(*r->ntitles)++] = arg;
    return -1;
}

/* Parses the options; the files are loaded afterwards. Returns an exit code or -1 to go on. */
static int parse_args(int argc, char **argv, const char **html, const char **titles, size_t *ntitles, bool *quiet)
{
    struct report_opts r = {html, titles, ntitles, quiet};
    int code = cli_parse(&report_verb, argc, argv, report_opt, &r);
    if (code >= 0) return code;
    if (optind >= argc) return usage_error("report needs at least one RESULT.json (see 'salvo report --help')");
    if (!*html) return usage_error("report needs '--html FILE' (see 'salvo report --help')");
    return -1;
}

/* The text summary of every result, each under its title when there are several. */
static void print_summaries(const struct report_inputs *in)
{
    unsigned flags = summary_color_flags(stdout);
    for (size_t i = 0; i < in->n; i++) {
        if (in->n > 1) fprintf(stdout, "%s== %s\n", i ? "\n" : "", in->titles[i]);
        summary_print(stdout, in->results[i], flags);
    }
    fflush(stdout);
}

int cli_report(int argc, char **argv)
{
    const char *html = NULL;
    const char **titles = calloc((size_t)argc + 1, sizeof(*titles));
    size_t ntitles = 0;
    bool quiet = false;
    if (!titles) abort();
    int rc = parse_args(argc, argv, &html, titles, &ntitles, &quiet);
    if (rc >= 0) {
        free(titles);
        return rc;
    }
    const char *outs[] = {html};
    if ((rc = probe_outputs(outs, 1)) >= 0) {
        free(titles);
        return rc;
    }
    struct report_inputs in = {0};
    rc = EXIT_OK;
    for (int i = optind; i < argc && rc == EXIT_OK; i++) {
        size_t k = (size_t)(i - optind);
        if (inputs_load(&in, argv[i], k < ntitles ? titles[k] : NULL) < 0) rc = EXIT_USAGE;
    }
    if (rc == EXIT_OK) {
        int err = report_html_file(html, in.results, (const char *const *)in.titles, in.n);
        if (err < 0) fprintf(stderr, "salvo: cannot write '%s': %s\n", html, error_text(-err));
        if (err < 0) rc = EXIT_RUNTIME;
    }
    if (rc == EXIT_OK && !quiet) print_summaries(&in);
    inputs_release(&in);
    free(titles);
    return rc;
}
