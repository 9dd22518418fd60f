/*
 * api.c — the request handlers of `salvo target`; see api.h for the why.
 *
 * Bodies are formatted with snprintf into the server's scratch buffer,
 * which only the event thread uses, and copied into the connection's write
 * buffer by tconn_respond: the request path allocates nothing. JSON is
 * written by hand because every string in it is a static phrase without
 * quotes or backslashes.
 */
#include "target/api.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "target/hold.h"
#include "target/login.h"
#include "target/route_query.h"
#include "target/service.h"
#include "target/tconn.h"

#define JSON NULL /* tconn_respond's default content type */
#define PROMETHEUS_TEXT "text/plain; version=0.0.4; charset=utf-8"

/* Sends a JSON body formatted into the scratch buffer. */
__attribute__((format(printf, 5, 6))) static void reply(struct target_service *srv, struct tconn *c, int code,
                                                        const char *extra_headers, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(srv->scratch, sizeof(srv->scratch), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(srv->scratch)) n = snprintf(srv->scratch, sizeof(srv->scratch), "{}");
    tconn_respond(c, code, JSON, extra_headers, srv->scratch, (size_t)n);
}

/* GET /metrics. */
static void serve_metrics(struct target_service *srv, struct tconn *c)
{
    struct metrics_gauges g = {
        .cache_hits = srv->cache.hits,
        .cache_misses = srv->cache.misses,
        .cache_evictions = srv->cache.evictions,
        .cache_entries = srv->cache.len,
        .cache_capacity = srv->cache.capacity,
        .queue_depth = jobq_len(&srv->jobs),
        .queue_capacity = srv->cfg.queue,
        .inflight = srv->inflight,
        .workers = srv->cfg.workers,
        .connections = srv->open_conns,
    };
    /* Leave room for the response head in the connection's buffer. */
    int n = target_metrics_render(&srv->metrics, &g, srv->scratch, sizeof(srv->scratch) - 512);
    int h = n < 0 ? 0 : hold_render(srv, srv->scratch + n, sizeof(srv->scratch) - 512 - (size_t)n);
    if (h < 0)
        n = -1;
    else
        n += h;
    if (n < 0)
        reply(srv, c, 500, NULL, "{\"error\":\"metrics page too large\"}");
    else
        tconn_respond(c, 200, PROMETHEUS_TEXT, NULL, srv->scratch, (size_t)n);
}

/* Sends a route answer, computed or cached. */
static void send_route(struct target_service *srv, struct tconn *c, uint32_t from, uint32_t to,
                       const struct route_result *r, bool reachable, bool cached)
{
    if (!reachable)
        reply(srv, c, srv->cfg.error_bodies ? 200 : 422, NULL,
              "{\"error\":\"no route\",\"from_node\":%u,\"to_node\":%u,\"cached\":%s}", from, to,
              cached ? "true" : "false");
    else
        reply(srv, c, 200, NULL,
              "{\"distance_m\":%.1f,\"duration_s\":%.1f,\"nodes\":%u,\"cached\":%s,\"from_node\":%u,\"to_node\":%u}",
              r->distance_m, r->duration_s, r->nodes, cached ? "true" : "false", from, to);
}

/* Answers a refused query with the parameter's name and the reason. */
static void bad_query(struct target_service *srv, struct tconn *c, const struct route_query_error *err)
{
    const struct geo_bounds *b = &srv->accept;
    if (err->outside)
        reply(srv, c, srv->cfg.error_bodies ? 200 : 400, NULL,
              "{\"error\":\"%s (accepted: lat %.4f..%.4f, lng %.4f..%.4f)\",\"parameter\":\"%s\"}", err->reason,
              b->lat_min, b->lat_max, b->lng_min, b->lng_max, err->parameter);
    else
        reply(srv, c, 400, NULL, "{\"error\":\"%s\",\"parameter\":\"%s\"}", err->reason, err->parameter);
}

/* GET /api/route: parse, snap, then the cache, else a worker, else 503. */
static enum api_outcome serve_route(struct target_service *srv, struct tconn *c, const char *query, size_t query_len)
{
    struct route_query q;
    struct route_query_error err;
    if (route_query_parse(&q, query, query_len, &srv->accept, &err) < 0) {
        bad_query(srv, c, &err);
        return API_DONE;
    }
    uint32_t from = snap_index_nearest(&srv->snap, q.from_lat, q.from_lng, NULL);
    uint32_t to = snap_index_nearest(&srv->snap, q.to_lat, q.to_lng, NULL);
    struct route_result r;
    bool reachable;
    if (route_cache_get(&srv->cache, from, to, &r, &reachable)) {
        send_route(srv, c, from, to, &r, reachable, true);
        return API_DONE;
    }
    struct route_job job = {
        .slot = c->slot, .gen = srv->slots[c->slot].gen, .from = from, .to = to, .queued_ns = clock_now_ns()};
    if (srv->inflight >= srv->cfg.workers + srv->cfg.queue || jobq_push(&srv->jobs, &job) < 0) {
        reply(srv, c, 503, "Retry-After: 1\r\n", "{\"error\":\"overloaded: %u route computations outstanding\"}",
              srv->inflight);
        return API_DONE;
    }
    srv->inflight++;
    return API_PENDING;
}

void api_finish(struct target_service *srv, const struct route_job *job)
{
    if (job->hold_ns) {
        hold_finish(srv, job);
        return;
    }
    srv->inflight--;
    target_metrics_compute(&srv->metrics, job->compute_ns, job->result.settled);
    bool reachable = job->status == 0;
    route_cache_put(&srv->cache, job->from, job->to, &job->result, reachable);
    struct tconn *c = target_service_lookup(srv, job->slot, job->gen);
    if (!c) return; /* the client went away while it was computed */
    send_route(srv, c, job->from, job->to, &job->result, reachable, false);
    tconn_resume(c);
}

/* POST /api/login: a token for the user named in the body. */
static void serve_login(struct target_service *srv, struct tconn *c, const struct http_req *req)
{
    char user[LOGIN_USER_MAX + 1], token[LOGIN_TOKEN_MAX + 1];
    const char *why;
    size_t len = req->content_length > 0 ? (size_t)req->content_length : 0;
    int n = login_parse_user(req->body, len, user, &why);
    if (n < 0) {
        reply(srv, c, 400, NULL, "{\"error\":\"%s\"}", why);
        return;
    }
    login_token(&srv->login_key, user, (size_t)n, token);
    reply(srv, c, 200, NULL, "{\"token\":\"%s\",\"user\":\"%s\"}", token, user);
}

/* The endpoints, by path. */
enum endpoint { EP_NONE, EP_HEALTH, EP_METRICS, EP_ROUTE, EP_LOGIN };

/* Finds the endpoint of path[0..len). */
static enum endpoint find_endpoint(const char *path, size_t len)
{
    static const struct {
        const char *path;
        enum endpoint ep;
    } table[] = {{"/health", EP_HEALTH}, {"/metrics", EP_METRICS}, {"/api/route", EP_ROUTE}, {"/api/login", EP_LOGIN}};
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strlen(table[i].path) == len && memcmp(table[i].path, path, len) == 0) return table[i].ep;
    return EP_NONE;
}

enum api_outcome api_handle(struct target_service *srv, struct tconn *c, const struct http_req *req)
{
    const char *mark = memchr(req->target, '?', req->target_len);
    size_t path_len = mark ? (size_t)(mark - req->target) : req->target_len;
    const char *query = mark ? mark + 1 : req->target + req->target_len;
    size_t query_len = req->target_len - path_len - (mark ? 1 : 0);
    enum endpoint ep = find_endpoint(req->target, path_len);
    if (ep == EP_LOGIN) {
        if (req->method_len == 4 && memcmp(req->method, "POST", 4) == 0)
            serve_login(srv, c, req);
        else
            reply(srv, c, 405, "Allow: POST\r\n", "{\"error\":\"method not allowed\"}");
        return API_DONE;
    }
    /*
     * Before the hold, so that --service-time with --auth refuses at once what it would refuse later.
     * Two Authorization headers are refused whatever they hold (RFC 9110 allows one): a valid token
     * after a bad one must not pass, and neither "first wins" nor "last wins" is what the sender meant.
     */
    if (ep == EP_ROUTE && srv->cfg.auth && req->authorization_count > 1) {
        reply(srv, c, 400, NULL, "{\"error\":\"more than one Authorization header\"}");
        return API_DONE;
    }
    if (ep == EP_ROUTE && srv->cfg.auth &&
        !(req->authorization && login_bearer_valid(&srv->login_key, req->authorization, req->authorization_len))) {
        reply(srv, c, 401, "WWW-Authenticate: Bearer\r\n",
              "{\"error\":\"missing or invalid bearer token (POST /api/login first)\"}");
        return API_DONE;
    }
    if (srv->cfg.hold_ns && ep != EP_HEALTH && ep != EP_METRICS) return hold_admit(srv, c) ? API_PENDING : API_DONE;
    bool get = (req->method_len == 3 && memcmp(req->method, "GET", 3) == 0) || c->head_only;
    if (ep == EP_NONE)
        reply(srv, c, 404, NULL, "{\"error\":\"not found\"}");
    else if (!get)
        reply(srv, c, 405, "Allow: GET, HEAD\r\n", "{\"error\":\"method not allowed\"}");
    else if (ep == EP_HEALTH)
        reply(srv, c, 200, NULL, "{\"status\":\"ok\"}");
    else if (ep == EP_METRICS)
        serve_metrics(srv, c);
    else
        return serve_route(srv, c, query, query_len);
    return API_DONE;
}
