/*
 * proxy.c — a named fault proxy: listener, toxics, connections; see proxy.h.
 *
 * The listener (core/listener.h) accepts a bounded batch per event and
 * pauses on EMFILE instead of spinning.
 */
#include "chaos/proxy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/container.h"

#define ACCEPT_BATCH 64

static void on_accept(struct listener *ls, int fd);

int proxy_new(const struct link_group *shared, const char *name, const char *listen, const char *upstream,
              struct proxy **out)
{
    if (!toxic_name_valid(name)) return -EINVAL;
    struct proxy *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->group = (struct link_group){.loop = shared->loop,
                                   .scratch = shared->scratch,
                                   .seed = shared->seed,
                                   .next_id = shared->next_id,
                                   .graveyard = shared->graveyard};
    strcpy(p->name, name);
    p->listener.io.fd = -1;
    int rc = endpoint_parse(&p->listen, listen);
    if (rc == 0) rc = endpoint_parse(&p->group.upstream, upstream);
    if (rc < 0) {
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void proxy_free(struct proxy *p)
{
    if (!p) return;
    proxy_stop(p);
    free(p->group.toxics);
    free(p);
}

int proxy_start(struct proxy *p)
{
    if (listener_fd(&p->listener) >= 0) return 0;
    int fd = endpoint_listen(&p->listen);
    if (fd < 0) return fd;
    endpoint_bound(&p->listen, fd); /* port 0 becomes the real port */
    int rc = listener_init(&p->listener, p->group.loop, fd, ACCEPT_BATCH, on_accept);
    if (rc < 0) return rc;
    p->enabled = true;
    return 0;
}

void proxy_stop(struct proxy *p)
{
    p->enabled = false;
    listener_release(&p->listener);
    while (p->group.links)
        link_close(p->group.links, LINK_CLOSE_FIN);
}

int proxy_update(struct proxy *p, const char *listen, const char *upstream, int enabled)
{
    /* Everything that can fail happens before anything changes: parse both
     * addresses, then bind the new listener while the old one still runs. */
    struct endpoint new_listen = p->listen, new_upstream = p->group.upstream;
    int rc = 0;
    if (listen && strcmp(listen, p->listen.text) != 0) rc = endpoint_parse(&new_listen, listen);
    if (rc == 0 && upstream && strcmp(upstream, p->group.upstream.text) != 0)
        rc = endpoint_parse(&new_upstream, upstream);
    if (rc < 0) return rc;
    bool want = enabled < 0 ? p->enabled : enabled != 0;
    bool moved = strcmp(new_listen.text, p->listen.text) != 0;
    int fd = -1;
    if (want && (moved || !p->enabled)) {
        fd = endpoint_listen(&new_listen);
        if (fd < 0) return fd;
        endpoint_bound(&new_listen, fd);
    }
    /* Apply: nothing below fails except listener_init's epoll_ctl (out of memory). */
    if (moved || !want) proxy_stop(p); /* a new address drops the old connections, as toxiproxy does */
    p->listen = new_listen;
    p->group.upstream = new_upstream;
    if (fd >= 0) {
        rc = listener_init(&p->listener, p->group.loop, fd, ACCEPT_BATCH, on_accept);
        if (rc < 0) return rc;
        p->enabled = true;
    }
    return 0;
}

/* One accepted connection becomes a link. */
static void on_accept(struct listener *ls, int fd)
{
    struct proxy *p = container_of(ls, struct proxy, listener);
    p->accepted++;
    link_new(&p->group, fd);
}

struct toxic *proxy_find_toxic(struct proxy *p, const char *name)
{
    for (size_t i = 0; i < p->group.ntoxics; i++)
        if (strcmp(p->group.toxics[i].name, name) == 0) return &p->group.toxics[i];
    return NULL;
}

/* Every live connection re-reads the toxic list. */
static void toxics_changed(struct proxy *p)
{
    p->group.nhttp_toxics = 0;
    for (size_t i = 0; i < p->group.ntoxics; i++)
        /* A toxic at toxicity 0 is inert: it must not even make links frame HTTP (toxiproxy #603). */
        if (toxic_type_is_http(p->group.toxics[i].type) && p->group.toxics[i].toxicity > 0) p->group.nhttp_toxics++;
    struct link *l = p->group.links;
    while (l) {
        struct link *next = l->next; /* a refresh may close l (an expired timeout) */
        link_refresh(l);
        l = next;
    }
}

int proxy_add_toxic(struct proxy *p, const struct toxic *t)
{
    if (proxy_find_toxic(p, t->name)) return -EEXIST;
    if (p->group.ntoxics == p->toxics_cap) {
        p->toxics_cap = p->toxics_cap ? p->toxics_cap * 2 : 8;
        p->group.toxics = realloc(p->group.toxics, p->toxics_cap * sizeof *p->group.toxics);
        if (!p->group.toxics) abort();
    }
    struct toxic *slot = &p->group.toxics[p->group.ntoxics++];
    *slot = *t;
    slot->id = ++*p->group.next_id;
    slot->added_ns = clock_now_ns();
    toxics_changed(p);
    return 0;
}

int proxy_update_toxic(struct proxy *p, const char *name, const struct toxic *t)
{
    struct toxic *old = proxy_find_toxic(p, name);
    if (!old) return -ENOENT;
    uint64_t id = old->id; /* the same dice: toxicity keeps hitting the same connections */
    *old = *t;
    old->id = id;
    old->added_ns = clock_now_ns(); /* toxiproxy restarts an updated toxic: a timeout counts from now */
    toxics_changed(p);
    return 0;
}

int proxy_remove_toxic(struct proxy *p, const char *name)
{
    struct toxic *t = proxy_find_toxic(p, name);
    if (!t) return -ENOENT;
    size_t i = (size_t)(t - p->group.toxics);
    memmove(&p->group.toxics[i], &p->group.toxics[i + 1], (p->group.ntoxics - i - 1) * sizeof *p->group.toxics);
    p->group.ntoxics--;
    toxics_changed(p);
    return 0;
}

void proxy_clear_toxics(struct proxy *p)
{
    p->group.ntoxics = 0;
    toxics_changed(p);
}
