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
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "chaos/api.h"
#include "chaos/chaos.h"
#include "chaos/endpoint.h"
#include "chaos/proxy.h"
#include "chaos/toxic.h"
#include "cli/cli.h"
#include "core/clock.h"

#define MAX_TOXICS 64

enum { OPT_LISTEN = 1000, OPT_UPSTREAM, OPT_TOXIC, OPT_API, OPT_NAME, OPT_SEED, OPT_HELP };

static const struct option long_opts[] = {
    {"listen", required_argument, 0, OPT_LISTEN}, {"upstream", required_argument, 0, OPT_UPSTREAM},
    {"toxic", required_argument, 0, OPT_TOXIC},   {"api", required_argument, 0, OPT_API},
    {"name", required_argument, 0, OPT_NAME},     {"seed", required_argument, 0, OPT_SEED},
    {"help", no_argument, 0, OPT_HELP},           {0, 0, 0, 0},
};

static const char usage_text[] =
    "usage: salvo chaos [--listen ADDR --upstream ADDR] [--toxic SPEC]... [--api ADDR] [--name NAME]\n"
    "  --listen ADDR     where clients connect, e.g. 127.0.0.1:8080 (':8080' is loopback; port 0 picks one)\n"
    "  --upstream ADDR   where the proxy connects, e.g. 127.0.0.1:80\n"
    "  --toxic SPEC      a fault, repeatable: 'TYPE key=value ...', e.g.\n"
    "                    'latency latency=100ms jitter=10ms', 'bandwidth rate=512KB stream=upstream',\n"
    "                    'http_status status=503 toxicity=0.2'; types: latency bandwidth slow_close\n"
    "                    timeout reset_peer slicer limit_data http_status http_latency http_cut handshake\n"
    "                    bandwidth_shared\n"
    "  --api ADDR        control API, toxiproxy's paths (default 127.0.0.1:8474; 'off' for none)\n"
    "  --name NAME       name of the --listen proxy in the API (default salvo)\n"
    "  --seed N          seed of the toxicity dice (default: random)\n"
    "Without --listen, proxies are created through the API only (like toxiproxy-server).\n";

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

/* Prints a one-line usage error; returns the usage exit code. */
static int usage_error(const char *fmt, const char *a, const char *b)
{
    fputs("salvo: ", stderr);
    fprintf(stderr, fmt, a, b);
    fputs(" (try 'salvo chaos --help')\n", stderr);
    return EXIT_USAGE;
}

/* Checks an address option without opening anything. */
static int check_addr(const char *opt, const char *value)
{
    struct endpoint ep;
    int rc = endpoint_parse(&ep, value);
    if (rc == -EINVAL) return usage_error("%s '%s': expected HOST:PORT", opt, value);
    if (rc < 0) return usage_error("%s '%s': host does not resolve", opt, value);
    return 0;
}

/* Parses argv into o. Returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, struct chaos_opts *o)
{
    *o = (struct chaos_opts){.api = "127.0.0.1:8474", .name = "salvo"};
    char err[200];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN: o->listen = optarg; break;
        case OPT_UPSTREAM: o->upstream = optarg; break;
        case OPT_API: o->api = optarg; break;
        case OPT_NAME: o->name = optarg; break;
        case OPT_SEED: {
            char *end;
            errno = 0;
            o->seed = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end) return usage_error("--seed '%s': expected an integer%s", optarg, "");
            o->seeded = true;
            break;
        }
        case OPT_TOXIC:
            if (o->ntoxics == MAX_TOXICS) return usage_error("--toxic '%s': more than 64 toxics%s", optarg, "");
            if (toxic_parse_spec(&o->toxics[o->ntoxics], optarg, err, sizeof err) != 0)
                return usage_error("--toxic '%s': %s", optarg, err);
            for (int i = 0; i < o->ntoxics; i++)
                if (strcmp(o->toxics[i].name, o->toxics[o->ntoxics].name) == 0)
                    return usage_error("--toxic '%s': a toxic named '%s' already exists (add name=...)", optarg,
                                       o->toxics[i].name);
            o->ntoxics++;
            break;
        case OPT_HELP: fputs(usage_text, stdout); return EXIT_OK;
        default: return usage_error("unknown or incomplete option '%s'%s", argv[optind - 1], "");
        }
    }
    if (optind < argc) return usage_error("unexpected argument '%s'%s", argv[optind], "");
    if (!o->listen && o->upstream) return usage_error("--upstream '%s' needs --listen%s", o->upstream, "");
    if (o->listen && !o->upstream) return usage_error("--listen '%s' needs --upstream%s", o->listen, "");
    if (!o->listen && o->ntoxics) return usage_error("--toxic needs --listen and --upstream%s%s", "", "");
    if (!o->listen && strcmp(o->api, "off") == 0) return usage_error("--api off needs --listen%s%s", "", "");
    if (!toxic_name_valid(o->name)) return usage_error("--name '%s': use 1..63 of A-Z a-z 0-9 _ - .%s", o->name, "");
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
            fprintf(stderr, "salvo: cannot listen on '%s' (--api): %s\n", o->api, strerror(-rc));
            return EXIT_RUNTIME;
        }
        printf("salvo chaos: api on %s\n", api->ep.text);
    }
    if (!o->listen) return -1;
    struct proxy *p;
    int rc = chaos_add_proxy(c, o->name, o->listen, o->upstream, true, &p);
    if (rc < 0) {
        fprintf(stderr, "salvo: cannot listen on '%s' (--listen): %s\n", o->listen, strerror(-rc));
        return EXIT_RUNTIME;
    }
    for (int i = 0; i < o->ntoxics; i++)
        proxy_add_toxic(p, &o->toxics[i]);
    printf("salvo chaos: proxy '%s' on %s to %s with %d toxic(s)\n", p->name, p->listen.text, p->upstream.text,
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
        fprintf(stderr, "salvo: cannot start the event loop: %s\n", strerror(-rc));
        return EXIT_RUNTIME;
    }
    int code = open_all(&c, &api, &o);
    fflush(stdout);
    while (code < 0 && !stop_requested) {
        rc = chaos_run_once(&c, clock_now_ns() + 100 * NS_PER_MS);
        if (rc < 0) {
            fprintf(stderr, "salvo: event loop failed: %s\n", strerror(-rc));
            code = EXIT_RUNTIME;
        }
    }
    api_release(&api);
    chaos_release(&c);
    return code < 0 ? EXIT_OK : code;
}
