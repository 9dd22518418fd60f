/*
 * service.h — the state of `salvo target` that its endpoints work on: the
 * map and its snap index, the route cache, the job queues and the
 * admission count, the counters, and the connection slot table.
 *
 * It sits between the connections (tconn.h, which know nothing of it) and
 * the server (server.h, which embeds it and adds the sockets, the loop and
 * the threads), so that api.c can serve requests without reaching up into
 * the server. Everything here is owned and touched by the event thread,
 * except the two job queues, which are the only things shared with the
 * workers. Admission and slot rules are described in server.h.
 */
#ifndef SALVO_TARGET_SERVICE_H
#define SALVO_TARGET_SERVICE_H

#include <stdint.h>
#include <sys/socket.h>

#include "target/hold_state.h"
#include "target/jobq.h"
#include "target/login.h"
#include "target/metrics.h"
#include "target/roadmap.h"
#include "target/route_cache.h"
#include "target/snap.h"
#include "target/tconn.h"

/* What the command line chose. */
struct target_config {
    struct sockaddr_storage listen_addr;
    socklen_t listen_len;
    uint32_t workers;                 /* 1..TARGET_MAX_WORKERS */
    uint32_t queue;                   /* 0..TARGET_MAX_QUEUE */
    uint32_t cache;                   /* 0..ROUTE_CACHE_MAX entries */
    uint32_t max_conns;               /* the slot table's size: at most this many connections are open */
    uint64_t hold_ns, hold_jitter_ns; /* --service-time, --jitter (hold.h); 0: serve routes */
    bool auth;                        /* --auth: /api/route needs a bearer token from /api/login */
    bool error_bodies;                /* --error-bodies: unroutable points answer 200 with {"error":…} */
};

/* A connection slot: the generation tells a reused slot from its former self. */
struct target_slot {
    struct tconn *conn; /* NULL when free */
    uint32_t gen;
    uint32_t next_free;
};

/* The service state (embedded in struct target_server). */
struct target_service {
    struct target_config cfg;
    const struct roadmap *map;
    struct snap_index snap;
    struct geo_bounds accept; /* the map's box plus the margin */
    struct jobq jobs, done;
    uint32_t inflight; /* jobs queued, computing or done-but-unanswered */
    struct route_cache cache;
    struct target_metrics metrics;
    struct target_hold hold;
    struct login_key login_key; /* tags the tokens of /api/login */
    struct target_slot *slots;
    uint32_t free_slot, open_conns;
    char scratch[TCONN_RESPONSE_MAX]; /* response bodies being built (event thread) */
};

/* The connection in slot with generation gen, or NULL if it has closed since. */
static inline struct tconn *target_service_lookup(struct target_service *svc, uint32_t slot, uint32_t gen)
{
    if (slot >= svc->cfg.max_conns || svc->slots[slot].gen != gen) return NULL;
    return svc->slots[slot].conn;
}

#endif
