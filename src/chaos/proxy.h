/*
 * proxy.h — one named fault proxy: a listener, an upstream, a list of
 * toxics and the connections it carries; toxiproxy's "proxy" resource.
 *
 * A disabled proxy has no listener (new clients get ECONNREFUSED, as with
 * toxiproxy) and no connections: disabling closes them. Toxic names are
 * unique within a proxy. Changing the toxic list re-evaluates every live
 * connection at once (link_refresh) and touches nothing else, so changing
 * a toxic under load drops no connection the toxic does not hit.
 *
 * Ownership: the chaos server owns its proxies (chaos_add_proxy /
 * chaos_remove_proxy); a proxy owns its toxic array and its links. The
 * toxic pointers handed out by proxy_find_toxic stay valid until the next
 * change of the proxy's toxic list. Single-threaded.
 */
#ifndef SALVO_CHAOS_PROXY_H
#define SALVO_CHAOS_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chaos/link.h"
#include "core/endpoint.h"
#include "chaos/toxic.h"
#include "core/listener.h"
#include "core/loop.h"

/* One proxy. */
struct proxy {
    struct proxy *next_dead; /* in the server's list of proxies to free */
    char name[TOXIC_NAME_MAX];
    struct endpoint listen;
    bool enabled;
    struct listener listener; /* fd -1 while disabled */
    struct link_group group;  /* upstream, toxics and live links, lent to every link */
    size_t toxics_cap;
    uint64_t accepted; /* connections accepted since creation */
};

/*
 * Allocates a proxy (not yet listening). shared gives the server's part
 * of every link group (loop, scratch, seed, next_id, graveyard), which
 * must outlive the proxy. Returns 0 and *out, -EINVAL for an unusable name
 * or address, -ENOENT for a host that does not resolve.
 */
int proxy_new(const struct link_group *shared, const char *name, const char *listen, const char *upstream,
              struct proxy **out);
/* Stops the proxy and frees it. NULL is fine. Only the server calls this. */
void proxy_free(struct proxy *p);

/* Opens the listener (enabled = true). 0 or -errno (e.g. -EADDRINUSE). */
int proxy_start(struct proxy *p);
/* Closes the listener and every connection (enabled = false). */
void proxy_stop(struct proxy *p);

/*
 * Changes listen and/or upstream (NULL: keep) and the enabled state
 * (1, 0, or -1: keep), all or nothing: both addresses are parsed and a new
 * listener bound before anything changes, so on error (-EINVAL,
 * -EHOSTUNREACH, -EADDRINUSE, ...) the proxy, its listener and its
 * connections are as they were. A new listen address closes the old
 * connections; a new upstream applies to new connections only.
 */
int proxy_update(struct proxy *p, const char *listen, const char *upstream, int enabled);

/* The toxic called name, or NULL. */
struct toxic *proxy_find_toxic(struct proxy *p, const char *name);
/* Adds a copy of t (with a fresh id). 0 or -EEXIST when the name is taken. */
int proxy_add_toxic(struct proxy *p, const struct toxic *t);
/* Replaces the toxic called name by t, keeping its id (and dice). 0 or -ENOENT. */
int proxy_update_toxic(struct proxy *p, const char *name, const struct toxic *t);
/* Removes the toxic called name. 0 or -ENOENT. */
int proxy_remove_toxic(struct proxy *p, const char *name);
/* Removes every toxic. */
void proxy_clear_toxics(struct proxy *p);

#endif
