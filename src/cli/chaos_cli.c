/*
 * chaos_cli.c — `salvo chaos`: a user-space L4 fault proxy with HTTP-aware
 * toxics and a toxiproxy-compatible control API.
 *
 * Everything the user typed is checked before a socket opens: a bad spec
 * or address names the option and the value and exits 2. Once running, the
 * proxy serves until SIGINT or SIGTERM and prints the addresses it actually
 * bound (port 0 picks a free one), one per line on stdout, so a script can
 * start it with port 0 and read where it listens.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "chaos/api.h"
#include "chaos/chaos.h"
#include "core/endpoint.h"
#include "chaos/proxy.h"
#include "chaos/toxic.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "core/clock.h"

#define MAX_TOXICS 64

/* Every option of `salvo chaos`, once (see cli/common.h). */
#define CHAOS_OPTIONS(S, L)                                                                                            \
    L(OPT_LISTEN, "listen", "ADDR",                                                                                    \
      "where clients connect, e.g. 127.0.0.1:8080 (':8080' is loopback; port 0 picks one)", 0, 0)                      \
    L(OPT_UPSTREAM, "upstream", "ADDR", "where the proxy connects, e.g. 127.0.0.1:80", 0, 0)                           \
    L(OPT_TOXIC, "toxic", "SPEC",                                                                                      \
      "a fault, repeatable: 'TYPE key=value ...', e.g.\n"                                                              \
      "'latency latency=100ms jitter=10ms', 'bandwidth rate=512KB stream=upstream',\n"                                 \
      "'http_status status=503 toxicity=0.2'; types: latency bandwidth slow_close\n"                                   \
      "timeout reset_peer slicer limit_data http_status http_latency http_cut handshake\n"                             \
      "bandwidth_shared packet_loss",                                                                                              \
      0, MAX_TOXICS)                                                                                                   \
    L(OPT_API, "api", "ADDR", "control API, toxiproxy's paths (default 127.0.0.1:8474; 'off' for none)", 0, 0)         \
    L(OPT_NAME, "name", "NAME", "name of the --listen proxy in the API (default salvo)", 0, 0)                         \
    L(OPT_SEED, "seed", "N", "seed of the toxicity dice (default: random)", 0, 0)

enum { OPT_CHAOS_FIRST = CLI_FIRST_LONG - 1, CHAOS_OPTIONS(CLI_SKIP, CLI_ENUM) };

static const struct cli_opt chaos_opts_table[] = {CHAOS_OPTIONS(CLI_ROW, CLI_ROW)};

static const struct cli_verb chaos_verb = {
    .name = "chaos",
    .synopsis = "usage: salvo chaos [--listen ADDR --upstream ADDR] [--toxic SPEC]... [--api ADDR] [--name NAME]\n",
    .epilog = "Without --listen, proxies are created through the API only (like toxiproxy-server).\n",
    .opts = chaos_opts_table,
    .nopts = CLI_NOPTS(chaos_opts_table),
};

/* What the command line asked for. */
struct chaos_opts {
    const char *listen, *upstream, *api, *name;
    struct toxic toxics[MAX_TOXICS];
    int ntoxics;
    uint64_t seed;
    bool seeded;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Checks an address option without opening anything. */
static int check_addr(const char *opt, const char *value)
{
    struct endpoint ep;
    int rc = endpoint_parse(&ep, value);
    if (rc == -EINVAL) return usage_error("%s '%s': expected HOST:PORT (try 'salvo chaos --help')", opt, value);
    if (rc < 0) return usage_error("%s '%s': host does not resolve", opt, value);
    return 0;
}

/* cli_handler of `salvo chaos`. */
static int chaos_opt(const struct cli_opt *opt, char *arg, void *ctx)
{
    struct chaos_opts *o = ctx;
    char err[200];
    switch (opt->id) {
    case OPT_LISTEN: o->listen = arg; return -1;
    case OPT_UPSTREAM: o->upstream = arg; return -1;
    case OPT_API: o->api = arg; return -1;
    case OPT_NAME: o->name = arg; return -1;
    case OPT_SEED: {
        int code = cli_uint(opt, arg, &o->seed);
        o->seeded = code < 0;
        return code;
    }
    case OPT_TOXIC:
        if (o->ntoxics == MAX_TOXICS) return usage_error("--toxic '%s': more than %.0f toxics", arg, opt->hi);
        if (toxic_parse_spec(&o->toxics[o->ntoxics], arg, err, sizeof err) != 0)
            return usage_error("--toxic '%s': %s", arg, err);
        for (int i = 0; i < o->ntoxics; i++)
            if (strcmp(o->toxics[i].name, o->toxics[o->ntoxics].name) == 0)
                return usage_error("--toxic '%s': a toxic named '%s' already exists (add name=...)", arg,
                                   o->toxics[i].name);
        o->ntoxics++;
        return -1;
    }
    return -1;
}

/* Parses argv into o. Returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, struct chaos_opts *o)
{
    *o = (struct chaos_opts){.api = "127.0.0.1:8474", .name = "salvo"};
    int code = cli_parse(&chaos_verb, argc, argv, chaos_opt, o);
    if (code >= 0) return code;
    if (optind < argc) return usage_error("unexpected argument '%s' (try 'salvo chaos --help')", argv[optind]);
    if (!o->listen && o->upstream) return usage_error("--upstream '%s' needs --listen", o->upstream);
    if (o->listen && !o->upstream) return usage_error("--listen '%s' needs --upstream", o->listen);
    if (!o->listen && o->ntoxics) return usage_error("--toxic needs --listen and --upstream");
    if (!o->listen && strcmp(o->api, "off") == 0) return usage_error("--api off needs --listen");
    if (!toxic_name_valid(o->name)) return usage_error("--name '%s': use 1..63 of A-Z a-z 0-9 _ - .", o->name);
    int rc;
    if (o->listen && ((rc = check_addr("--listen", o->listen)) || (rc = check_addr("--upstream", o->upstream))))
        return rc;
    if (strcmp(o->api, "off") != 0 && (rc = check_addr("--api", o->api))) return rc;
    return -1;
}

/* Opens the API and the command-line proxy. Returns an exit code or -1 on success. */
static int open_all(struct chaos *c, struct api *api, const struct chaos_opts *o)
{
    if (strcmp(o->api, "off") != 0) {
        int rc = api_init(api, c, o->api);
        if (rc < 0) {
            fprintf(stderr, "salvo: cannot listen on '%s' (--api): %s\n", o->api, error_text(rc));
            return EXIT_RUNTIME;
        }
        printf("salvo chaos: api on %s\n", api->ep.text);
    }
    if (!o->listen) return -1;
    struct proxy *p;
    int rc = chaos_add_proxy(c, o->name, o->listen, o->upstream, true, &p);
    if (rc < 0) {
        fprintf(stderr, "salvo: cannot listen on '%s' (--listen): %s\n", o->listen, error_text(rc));
        return EXIT_RUNTIME;
    }
    for (int i = 0; i < o->ntoxics; i++)
        proxy_add_toxic(p, &o->toxics[i]);
    printf("salvo chaos: proxy '%s' on %s to %s with %d toxic(s)\n", p->name, p->listen.text, p->group.upstream.text,
           o->ntoxics);
    return -1;
}

int cli_chaos(int argc, char **argv)
{
    struct chaos_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    if (!o.seeded && getrandom(&o.seed, sizeof o.seed, 0) != sizeof o.seed)
        o.seed = clock_wall_ns() ^ (uint64_t)getpid();
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct chaos c;
    struct api api = {0};
    if ((rc = chaos_init(&c, o.seed)) < 0) {
        fprintf(stderr, "salvo: cannot start the event loop: %s\n", error_text(rc));
        return EXIT_RUNTIME;
    }
    int code = open_all(&c, &api, &o);
    fflush(stdout);
    while (code < 0 && !stop_requested) {
        rc = chaos_run_once(&c, clock_now_ns() + 100 * NS_PER_MS);
        if (rc < 0) {
            fprintf(stderr, "salvo: event loop failed: %s\n", error_text(rc));
            code = EXIT_RUNTIME;
        }
    }
    api_release(&api);
    chaos_release(&c);
    return code < 0 ? EXIT_OK : code;
}
