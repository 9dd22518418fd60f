/*
 * chaos.h — the chaos server: the event loop, the named proxies and the
 * things every connection shares (the read buffer, the dice seed, ids).
 *
 * Everything runs on one thread and one loop: the proxies, their
 * connections and the control API. A fault proxy for a load test is
 * limited by syscalls, not by CPU, up to tens of thousands of requests per
 * second, and one thread makes changing toxics under load trivially safe:
 * an API call runs between two events, never in the middle of a write.
 *
 * Freeing is deferred: a link or proxy closed during an event may still
 * have events queued in the same loop iteration, so it is put on a dead
 * list and freed by chaos_run_once after the iteration.
 *
 * Ownership: caller-owned struct (chaos_init / chaos_release); the server
 * owns its proxies, which own their links.
 */
#ifndef SALVO_CHAOS_CHAOS_H
#define SALVO_CHAOS_CHAOS_H

#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"

struct proxy;
struct link;

/* The chaos server. */
struct chaos {
    struct loop loop;
    uint64_t seed;    /* dice seed: the same seed replays the same choices */
    uint64_t next_id; /* ids of links and toxics */
    struct proxy **proxies;
    size_t nproxies, cap;
    struct link *dead_links;
    struct proxy *dead_proxies;
    char *scratch; /* CHAOS_SCRATCH bytes (chaos/link.h), for reads */
};

/* Sets up the loop. Returns 0 or -errno. */
int chaos_init(struct chaos *c, uint64_t seed);
/* Stops and frees every proxy and the loop. NULL is fine. */
void chaos_release(struct chaos *c);

/* A fresh id (never 0). */
uint64_t chaos_next_id(struct chaos *c);

/* The proxy called name, or NULL. */
struct proxy *chaos_find(struct chaos *c, const char *name);

/*
 * Creates a proxy and starts it when enabled. Returns 0 and *out (may be
 * NULL), -EEXIST for a taken name, or what proxy_new / proxy_start return.
 */
int chaos_add_proxy(struct chaos *c, const char *name, const char *listen, const char *upstream, bool enabled,
                    struct proxy **out);
/* Stops and removes the proxy called name. 0 or -ENOENT. */
int chaos_remove_proxy(struct chaos *c, const char *name);
/* toxiproxy's reset: every proxy enabled, every toxic removed. 0 or the first -errno of a start. */
int chaos_reset(struct chaos *c);

/* Hands a removed proxy over for freeing after this iteration (closed links go to dead_links themselves). */
void chaos_bury_proxy(struct chaos *c, struct proxy *p);

/* One loop iteration (waiting until limit_ns at most), then frees the dead. 0 or -errno. */
int chaos_run_once(struct chaos *c, uint64_t limit_ns);

#endif
