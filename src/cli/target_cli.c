/*
 * target_cli.c — `salvo target [options]`: the demo route-planning service,
 * or with --gen-trips a CSV of random trips for it.
 *
 * Every option is checked before anything starts; a bad one gets a
 * one-line error naming it and exit 2. When serving, the first line on
 * stdout is "listening on HOST:PORT", flushed at once, because callers that
 * ask for port 0 (the demo, the tests) read the chosen port from it.
 * SIGTERM and SIGINT stop the server cleanly with exit 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "core/clock.h"
#include "core/endpoint.h"
#include "core/units.h"
#include "target/roadmap.h"
#include "target/route_cache.h"
#include "target/server.h"
#include "target/trips.h"

#define MAX_CONNS 10000
#define SPARE_FDS 64 /* listener, epoll, eventfd, stdio, and one to accept-and-close with */
#define MAX_TRIPS 100000000ull

/* Every option of `salvo target`, once (see cli/common.h). */
#define TARGET_OPTIONS(S, L)                                                                                           \
    L(OPT_LISTEN, "listen", "HOST:PORT", "address to serve on (default 127.0.0.1:8080; port 0 picks a free one)", 0,   \
      0)                                                                                                               \
    L(OPT_SEED, "seed", "N", "seed of the generated city (default 1)", 0, 0)                                           \
    L(OPT_CACHE, "cache", "N", "route cache entries, 0 disables it (default 10000)", 0, ROUTE_CACHE_MAX)               \
    L(OPT_WORKERS, "workers", "N", "threads computing routes (default 2)", 1, TARGET_MAX_WORKERS)                      \
    L(OPT_QUEUE, "queue", "N", "route jobs that may wait for a worker; more get 503 (default 128)", 0,                 \
      TARGET_MAX_QUEUE)                                                                                                \
    L(OPT_GEN_TRIPS, "gen-trips", "N", "write N random trips as CSV and exit (no server)", 1, MAX_TRIPS)               \
    L(OPT_OUT, "out", "FILE", "where --gen-trips writes (default stdout)", 0, 0)                                       \
    L(OPT_SERVICE_TIME, "service-time", "D",                                                                           \
      "hold a worker for D per request instead of routing (every path but\n/health and /metrics); capacity is "        \
      "workers / D",                                                                                                   \
      0, 0)                                                                                                            \
    L(OPT_JITTER, "jitter", "J", "with --service-time: each hold is uniform in D-J..D+J", 0, 0)                        \
    L(OPT_AUTH, "auth", NULL, "/api/route answers 401 without 'Authorization: Bearer TOKEN' from POST /api/login", 0,  \
      0)                                                                                                               \
    L(OPT_ERROR_BODIES, "error-bodies", NULL,                                                                          \
      "points outside the city or without a route answer 200 with {\"error\":...} (default: 400/422)", 0, 0)

enum { OPT_TARGET_FIRST = CLI_FIRST_LONG - 1, TARGET_OPTIONS(CLI_SKIP, CLI_ENUM) };

static const struct cli_opt target_opts[] = {TARGET_OPTIONS(CLI_ROW, CLI_ROW)};

static const struct cli_verb target_verb = {
    .name = "target",
    .synopsis = "usage: salvo target [options]\n"
                "  a route-planning HTTP service to load-test: GET /api/route?from=LAT,LNG&to=LAT,LNG,\n"
                "  POST /api/login ({\"user\":\"NAME\"} or user=NAME: {\"token\":...}), GET /health,\n"
                "  GET /metrics (Prometheus)\n",
    .opts = target_opts,
    .nopts = CLI_NOPTS(target_opts),
};

/* Set by the signal handler; the only global the server looks at. */
static volatile sig_atomic_t stop_requested;

/* The parsed command line. */
struct target_args {
    const char *listen, *out;
    uint64_t seed, trips;
    uint32_t cache, workers, queue;
    uint64_t hold_ns, jitter_ns;
    bool gen_trips, auth, error_bodies;
};

/* cli_handler of `salvo target`. */
static int target_opt(const struct cli_opt *o, char *arg, void *ctx)
{
    struct target_args *a = ctx;
    uint64_t v;
    if (o->id == OPT_AUTH || o->id == OPT_ERROR_BODIES) {
        *(o->id == OPT_AUTH ? &a->auth : &a->error_bodies) = true;
        return -1;
    }
    if (o->id == OPT_SERVICE_TIME || o->id == OPT_JITTER) {
        uint64_t *dst = o->id == OPT_SERVICE_TIME ? &a->hold_ns : &a->jitter_ns;
        if (parse_duration_ns(arg, dst) < 0 || (o->id == OPT_SERVICE_TIME && *dst == 0))
            return cli_bad_value(o, arg, "expected a positive duration, e.g. 2ms");
        return -1;
    }
    int code = o->id == OPT_LISTEN || o->id == OPT_OUT ? -1 : cli_uint(o, arg, &v);
    if (code >= 0) return code;
    switch (o->id) {
    case OPT_LISTEN: a->listen = arg; break;
    case OPT_OUT: a->out = arg; break;
    case OPT_SEED: a->seed = v; break;
    case OPT_CACHE: a->cache = (uint32_t)v; break;
    case OPT_WORKERS: a->workers = (uint32_t)v; break;
    case OPT_QUEUE: a->queue = (uint32_t)v; break;
    case OPT_GEN_TRIPS: a->trips = v, a->gen_trips = true; break;
    }
    return -1;
}

/* Resolves HOST:PORT (IPv6 hosts in brackets, port 0 for any) into cfg. Returns 0, or -1 with *why set. */
static int parse_listen(const char *text, struct target_config *cfg, const char **why)
{
    struct hostport hp;
    if (hostport_parse(&hp, text, strlen(text), HOSTPORT_PORT_ZERO, why) < 0) {
        *why = "expected HOST:PORT, e.g. 127.0.0.1:8080";
        return -1;
    }
    char port[8];
    snprintf(port, sizeof(port), "%u", hp.port);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int rc = getaddrinfo(hp.host, port, &hints, &res);
    if (rc != 0) {
        *why = gai_strerror(rc);
        return -1;
    }
    memcpy(&cfg->listen_addr, res->ai_addr, res->ai_addrlen);
    cfg->listen_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* --gen-trips: writes the CSV and returns the exit code. */
static int write_trips(const struct target_args *a)
{
    FILE *f = a->out ? fopen(a->out, "w") : stdout;
    if (!f) {
        fprintf(stderr, "salvo: cannot write '%s': %s\n", a->out, error_text(errno));
        return EXIT_RUNTIME;
    }
    struct geo_bounds box;
    struct trip_gen gen;
    struct trip t;
    roadmap_default_bounds(&box);
    trip_gen_init(&gen, &box, a->seed);
    fputs("from_lat,from_lng,to_lat,to_lng\n", f);
    for (uint64_t i = 0; i < a->trips; i++) {
        trip_gen_next(&gen, &t);
        fprintf(f, "%.6f,%.6f,%.6f,%.6f\n", t.from_lat, t.from_lng, t.to_lat, t.to_lng);
    }
    int failed = ferror(f) ? (errno ? errno : EIO) : 0;
    if ((f != stdout ? fclose(f) : fflush(f)) != 0 && !failed) failed = errno ? errno : EIO;
    if (!failed) return EXIT_OK;
    fprintf(stderr, "salvo: cannot write '%s': %s\n", a->out ? a->out : "stdout", error_text(failed));
    return EXIT_RUNTIME;
}

/* Signal handler: asks the event loop to stop. */
static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Routes SIGTERM and SIGINT to the stop flag (no SA_RESTART, so epoll wakes up). */
static void install_signals(void)
{
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Prints "listening on HOST:PORT" with the port actually bound. */
static void announce(const struct target_server *srv, const struct roadmap *map, const struct target_args *a,
                     uint64_t gen_ns)
{
    struct sockaddr_storage addr;
    socklen_t len;
    char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";
    if (target_server_address(srv, &addr, &len) == 0)
        getnameinfo((struct sockaddr *)&addr, len, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV);
    bool v6 = addr.ss_family == AF_INET6;
    printf("listening on %s%s%s:%s\n", v6 ? "[" : "", host, v6 ? "]" : "", port);
    printf("salvo target: %ux%u city (seed %" PRIu64 "), %u of %u intersections routable, %u roads, built in %.0f ms; "
           "%u workers, queue %u, cache %u%s%s\n",
           map->rows, map->cols, a->seed, map->routable_count, map->node_count, map->road_count, gen_ns / 1e6,
           a->workers, a->queue, a->cache, a->auth ? ", --auth" : "", a->error_bodies ? ", --error-bodies" : "");
    fflush(stdout);
}

/*
 * Raises the soft open-file limit to the hard one (every connection is a
 * file) and returns how many connections fit, so that connections beyond
 * it are refused cleanly instead of waiting in the backlog on EMFILE.
 */
static uint32_t connection_cap(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1000;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= MAX_CONNS + SPARE_FDS) return MAX_CONNS;
    return rl.rlim_cur > 2 * SPARE_FDS ? (uint32_t)(rl.rlim_cur - SPARE_FDS) : SPARE_FDS;
}

/* Builds the city, serves until a stop signal, and returns the exit code. */
static int serve(const struct target_args *a, struct target_config *cfg)
{
    struct roadmap map;
    struct target_server srv;
    install_signals();
    uint64_t start_ns = clock_now_ns();
    roadmap_generate(&map, ROADMAP_DEFAULT_ROWS, ROADMAP_DEFAULT_COLS, a->seed);
    uint64_t gen_ns = clock_now_ns() - start_ns;
    int rc = target_server_init(&srv, cfg, &map);
    if (rc < 0) {
        fprintf(stderr, "salvo: cannot listen on '%s': %s\n", a->listen, error_text(-rc));
        roadmap_release(&map);
        return EXIT_RUNTIME;
    }
    announce(&srv, &map, a, gen_ns);
    rc = target_server_run(&srv, &stop_requested);
    target_server_release(&srv);
    roadmap_release(&map);
    if (rc < 0) {
        fprintf(stderr, "salvo: target stopped: %s\n", error_text(-rc));
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

int cli_target(int argc, char **argv)
{
    struct target_args a = {.listen = "127.0.0.1:8080", .seed = 1, .cache = 10000, .workers = 2, .queue = 128};
    int rc = cli_parse(&target_verb, argc, argv, target_opt, &a);
    if (rc >= 0) return rc;
    if (optind < argc) return usage_error("unexpected argument '%s' (try 'salvo target --help')", argv[optind]);
    if (a.out && !a.gen_trips) return usage_error("--out needs --gen-trips");
    if (a.gen_trips) return write_trips(&a);
    if (a.jitter_ns && !a.hold_ns) return usage_error("--jitter needs --service-time");
    if (a.jitter_ns >= a.hold_ns && a.hold_ns) return usage_error("--jitter must be shorter than --service-time");
    struct target_config cfg = {.workers = a.workers,
                                .queue = a.queue,
                                .cache = a.cache,
                                .max_conns = connection_cap(),
                                .hold_ns = a.hold_ns,
                                .hold_jitter_ns = a.jitter_ns,
                                .auth = a.auth,
                                .error_bodies = a.error_bodies};
    const char *why;
    if (parse_listen(a.listen, &cfg, &why) < 0) return usage_error("bad value '%s' for --listen: %s", a.listen, why);
    return serve(&a, &cfg);
}
