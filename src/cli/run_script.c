/*
 * run_script.c — `salvo run --script FILE [URL] [-- ARGS...]`: the
 * command line side of wrk scripts (docs/scripting.md). The script is
 * loaded, set up and init()-ed here, before any traffic, so a broken one
 * is a usage error naming FILE:LINE (exit 2).
 */
#include <stdio.h>
#include <string.h>

#include "cli/common.h"
#include "cli/exit.h"
#include "cli/run_args.h"
#include "load/script.h"

void run_script_split_args(int *argc, char **argv, struct run_args *a)
{
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--")) continue;
        a->script_dashdash = true;
        a->script_args = (const char *const *)argv + i + 1;
        a->nscript_args = *argc - i - 1;
        *argc = i;
        return;
    }
}

int run_script_check(struct run_config *cfg, const struct run_args *a)
{
    if (!a->script_path && cfg->session_timeout_ns)
        return usage_error("--session-timeout needs --script FILE with a session()");
    if (!a->script_path) {
        if (a->script_dashdash && a->nscript_args)
            return usage_error("unexpected argument '%s': arguments after -- are for a --script's init(args)",
                               a->script_args[0]);
        return -1;
    }
    if (a->targets_path) return usage_error("--script '%s' makes the requests: drop --targets", a->script_path);
    /* With --h2c/--http2 the request bytes become h2 headers (h2.c); otherwise HTTP/1.1, also over https. */
    if (cfg->http_mode == HTTP_AUTO) cfg->http_mode = HTTP_1;
    return -1;
}

int run_script_load(struct run_config *cfg, struct run_args *a)
{
    if (!a->script_path) return -1;
    struct script_spec spec = {
        .path = a->script_path,
        .args = a->script_args,
        .nargs = a->nscript_args,
        .url = &cfg->url,
        .method = strcmp(cfg->method, "GET") ? cfg->method : NULL,
        .headers = a->headers,
        .nheaders = a->nheaders,
        .body = a->body,
        .body_len = a->body ? strlen(a->body) : 0,
        .threads = cfg->threads,
        .checks = cfg->checks,
        .nchecks = cfg->nchecks,
    };
    char why[512];
    FILE *probe = fopen(a->script_path, "r");
    if (!probe) return usage_error("cannot read '%s': %s", a->script_path, "no such file or not readable");
    fclose(probe);
    if (script_new(&cfg->script, &spec, why, sizeof(why)) < 0) return usage_error("%s", why);
    cfg->script_path = a->script_path;
    cfg->script_response = script_defines(cfg->script, SCRIPT_RESPONSE);
    cfg->script_delay = script_defines(cfg->script, SCRIPT_DELAY);
    if (cfg->script_delay && !cfg->closed)
        return usage_error("'%s' defines delay(), a closed-model idea (wait after a response before the next "
                           "request): the open model sends each arrival at its time; add --closed, or drop delay()",
                           a->script_path);
    bool h2 = cfg->http_mode == HTTP_2 || cfg->http_mode == HTTP_2C;
    if (h2 && script_requests_per_call(cfg->script) > 1)
        return usage_error("'%s': request() returns %u requests at once, which HTTP/1.1 pipelines; over HTTP/2 "
                           "(--%s) each call must return one request",
                           a->script_path, script_requests_per_call(cfg->script),
                           cfg->http_mode == HTTP_2 ? "http2" : "h2c");
    cfg->script_sessions = script_defines(cfg->script, SCRIPT_SESSION);
    if (cfg->script_sessions && cfg->closed)
        return usage_error("'%s' defines session(): sessions arrive on a schedule (the open model); drop --closed and "
                           "give -r (sessions per second)",
                           a->script_path);
    if (cfg->script_sessions && (script_defines(cfg->script, SCRIPT_REQUEST) || cfg->script_response))
        return usage_error("'%s' defines session() and %s(): a session makes its own requests and reads its own "
                           "responses; keep one of the two",
                           a->script_path, cfg->script_response ? "response" : "request");
    if (a->data_path && !cfg->script_sessions)
        return usage_error("--script '%s' makes the requests: --data gives each session its row (s.row), and '%s' "
                           "defines no session(); drop --data",
                           a->script_path, a->script_path);
    if (cfg->session_timeout_ns && !cfg->script_sessions)
        return usage_error("--session-timeout bounds a script's sessions, and '%s' defines no session()",
                           a->script_path);
    if (cfg->script_sessions) cfg->script_response = false;
    for (uint32_t k = 0; cfg->script_sessions && k < script_step_name_count(cfg->script); k++) {
        const char *name = script_step_name(cfg->script, k);
        script_set_step_group(cfg->script, name, reqgen_add_name(&a->gen, name));
    }
    if (cfg->script_response || cfg->script_sessions) cfg->check_body = true;
    cfg->keep_resp = cfg->nchecks > 0 || cfg->script_response || cfg->script_sessions;
    return -1;
}
