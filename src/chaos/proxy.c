/*
 * proxy.c — a named fault proxy: listener, toxics, connections; see proxy.h.
 *
 * The listener is level-triggered and accepts a bounded batch per event,
 * so a flood of connections cannot starve the connections already open.
 * When the process runs out of descriptors, the listener is paused for
 * 100 ms instead of spinning on EMFILE.
 */
#include "chaos/proxy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chaos/chaos.h"
#include "chaos/link.h"
#include "core/clock.h"
#include "core/container.h"

#define ACCEPT_BATCH 64
#define EMFILE_PAUSE_NS (100 * NS_PER_MS)

static void on_listener(struct loop_io *io, uint32_t events);
static void on_pause_end(struct timer *t, uint64_t now_ns);

int proxy_new(struct chaos *chaos, const char *name, const char *listen, const char *upstream, struct proxy **out)
{
    if (!toxic_name_valid(name)) return -EINVAL;
    struct proxy *p = calloc(1, sizeof *p);
    if (!p) abort();
    p->chaos = chaos;
    strcpy(p->name, name);
    p->listener.fd = -1;
    p->listener.on_event = on_listener;
    timer_init(&p->pause_timer, on_pause_end);
    int rc = endpoint_parse(&p->listen, listen);
    if (rc == 0) rc = endpoint_parse(&p->upstream, upstream);
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
    free(p->toxics);
    free(p);
}

/* Watches the listener (again). */
static void listener_watch(struct proxy *p)
{
    if (p->listener.fd >= 0 && !p->listener_watched && loop_add(&p->chaos->loop, &p->listener, EPOLLIN) == 0)
        p->listener_watched = true;
}

/* Stops watching the listener. */
static void listener_unwatch(struct proxy *p)
{
    if (!p->listener_watched) return;
    loop_del(&p->chaos->loop, &p->listener);
    p->listener_watched = false;
}

int proxy_start(struct proxy *p)
{
    if (p->listener.fd >= 0) return 0;
    int fd = endpoint_listen(&p->listen);
    if (fd < 0) return fd;
    p->listener.fd = fd;
    endpoint_bound(&p->listen, fd); /* port 0 becomes the real port */
    listener_watch(p);
    p->enabled = true;
    return 0;
}

void proxy_stop(struct proxy *p)
{
    p->enabled = false;
    timer_disarm(&p->chaos->loop, &p->pause_timer);
    listener_unwatch(p);
    if (p->listener.fd >= 0) close(p->listener.fd);
    p->listener.fd = -1;
    while (p->links)
        link_close(p->links, LINK_CLOSE_FIN);
}

int proxy_set_listen(struct proxy *p, const char *listen)
{
    struct endpoint ep;
    int rc = endpoint_parse(&ep, listen);
    if (rc < 0) return rc;
    if (strcmp(ep.text, p->listen.text) == 0) return 0;
    struct endpoint old = p->listen;
    bool was_enabled = p->enabled;
    if (was_enabled) proxy_stop(p);
    p->listen = ep;
    if (was_enabled && (rc = proxy_start(p)) < 0) {
        p->listen = old;
        proxy_start(p);
        return rc;
    }
    return 0;
}

int proxy_set_upstream(struct proxy *p, const char *upstream)
{
    struct endpoint ep;
    int rc = endpoint_parse(&ep, upstream);
    if (rc < 0) return rc;
    p->upstream = ep;
    return 0;
}

/* Accepts a batch of connections. */
static void on_listener(struct loop_io *io, uint32_t events)
{
    (void)events;
    struct proxy *p = container_of(io, struct proxy, listener);
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                listener_unwatch(p);
                timer_arm(&p->chaos->loop, &p->pause_timer, clock_now_ns() + EMFILE_PAUSE_NS);
            }
            return; /* EAGAIN, or a connection that died in the backlog */
        }
        p->accepted++;
        link_new(p, fd);
    }
}

/* The fd shortage pause is over. */
static void on_pause_end(struct timer *t, uint64_t now_ns)
{
    (void)now_ns;
    struct proxy *p = container_of(t, struct proxy, pause_timer);
    listener_watch(p);
}

struct toxic *proxy_find_toxic(struct proxy *p, const char *name)
{
    for (size_t i = 0; i < p->ntoxics; i++)
        if (strcmp(p->toxics[i].name, name) == 0) return &p->toxics[i];
    return NULL;
}

/* Every live connection re-reads the toxic list. */
static void toxics_changed(struct proxy *p)
{
    p->nhttp_toxics = 0;
    for (size_t i = 0; i < p->ntoxics; i++)
        if (toxic_type_is_http(p->toxics[i].type)) p->nhttp_toxics++;
    struct link *l = p->links;
    while (l) {
        struct link *next = l->next; /* a refresh may close l (an expired timeout) */
        link_refresh(l);
        l = next;
    }
}

int proxy_add_toxic(struct proxy *p, const struct toxic *t)
{
    if (proxy_find_toxic(p, t->name)) return -EEXIST;
    if (p->ntoxics == p->toxics_cap) {
        p->toxics_cap = p->toxics_cap ? p->toxics_cap * 2 : 8;
        p->toxics = realloc(p->toxics, p->toxics_cap * sizeof *p->toxics);
        if (!p->toxics) abort();
    }
    struct toxic *slot = &p->toxics[p->ntoxics++];
    *slot = *t;
    slot->id = chaos_next_id(p->chaos);
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
    size_t i = (size_t)(t - p->toxics);
    memmove(&p->toxics[i], &p->toxics[i + 1], (p->ntoxics - i - 1) * sizeof *p->toxics);
    p->ntoxics--;
    toxics_changed(p);
    return 0;
}

void proxy_clear_toxics(struct proxy *p)
{
    p->ntoxics = 0;
    toxics_changed(p);
}

void proxy_detach_link(struct proxy *p, struct link *l)
{
    if (l->prev)
        l->prev->next = l->next;
    else
        p->links = l->next;
    if (l->next) l->next->prev = l->prev;
    l->prev = l->next = NULL;
    p->nlinks--;
}
