/*
 * api.h — the endpoints of `salvo target`: /health, /metrics, /api/route,
 * /api/login.
 *
 * The request handlers of the server, kept apart from the socket plumbing
 * in server.c and tconn.c so that each file stays readable; they have no
 * struct of their own and work on the service state (service.h), never on
 * the server itself. Handlers run on the
 * event thread. A route is answered at once from the cache, refused at once
 * with 503 when too many computations are outstanding, or handed to the
 * workers; api_finish answers it when the job comes back.
 */
#ifndef SALVO_TARGET_API_H
#define SALVO_TARGET_API_H

#include "target/http_req.h"
#include "target/jobq.h"

struct target_service;
struct tconn;

/* What became of a request. */
enum api_outcome {
    API_DONE,    /* the response is queued on the connection */
    API_PENDING, /* a route job was queued; the connection must wait for api_finish */
};

/* Answers or queues one complete request; req points into the connection's buffer. */
enum api_outcome api_handle(struct target_service *srv, struct tconn *c, const struct http_req *req);

/* Takes a finished job: caches it, counts it, and answers its connection if that still exists. */
void api_finish(struct target_service *srv, const struct route_job *job);

#endif
