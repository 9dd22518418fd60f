/*
 * link.c — the lifecycle of a proxied connection: creation, the socket and
 * timer events, the toxic deadlines (handshake, timeout, reset), closing
 * and freeing; see link.h. The bytes themselves move in link_data.c.
 */
#include "chaos/link.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/container.h"

#define WATCH (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)
#define LINK_OF(ptr, member) container_of(ptr, struct link, member)

static int link_start(struct link *l);

/* Moves bytes, then closes the link if the data path decided so. */
static void pump(struct link *l)
{
    link_pump(l);
    if (l->closed) link_close(l, l->close_how);
}

/* ---------------------------------------------------------------- events */

static void on_client(struct loop_io *io, uint32_t events)
{
    struct link *l = LINK_OF(io, client.io);
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) l->client.hup = true;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) l->client.readable = true;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) l->client.writable = true;
    pump(l);
}

static void on_server(struct loop_io *io, uint32_t events)
{
    struct link *l = LINK_OF(io, server.io);
    if (!l->connected) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
            link_close(l, LINK_CLOSE_FIN); /* upstream refused: the client sees a close, as with toxiproxy */
            return;
        }
        l->connected = true;
    }
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) l->server.hup = true;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) l->server.readable = true;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) l->server.writable = true;
    pump(l);
}

static void on_up_timer(struct timer *t, uint64_t now_ns)
{
    (void)now_ns;
    pump(LINK_OF(t, dir[UP].timer));
}

static void on_down_timer(struct timer *t, uint64_t now_ns)
{
    (void)now_ns;
    pump(LINK_OF(t, dir[DOWN].timer));
}

static void on_tox_timer(struct timer *t, uint64_t now_ns)
{
    struct link *l = LINK_OF(t, tox_timer);
    if (l->start_at_ns) {
        if (now_ns >= l->start_at_ns)
            link_start(l);
        else
            link_tox_arm(l);
        return;
    }
    for (int d = 0; d < 2; d++) {
        if (l->dir[d].reset_at_ns && now_ns >= l->dir[d].reset_at_ns) {
            link_close(l, LINK_CLOSE_RESET);
            return;
        }
    }
    if (now_ns >= link_timeout_deadline(l)) {
        link_close(l, LINK_CLOSE_FIN);
        return;
    }
    link_tox_arm(l);
}

/* ---------------------------------------------------------------- lifecycle */

/* The longest handshake delay that hits l, in ns (0: none). */
static uint64_t handshake_delay(const struct link *l)
{
    uint64_t delay = 0;
    const struct link_group *p = l->group;
    for (size_t i = 0; i < p->ntoxics; i++) {
        const struct toxic *t = &p->toxics[i];
        if (t->type == TOXIC_HANDSHAKE && link_hits(l, t) && (uint64_t)t->attr[ATTR_DELAY] * NS_PER_MS > delay)
            delay = (uint64_t)t->attr[ATTR_DELAY] * NS_PER_MS;
    }
    return delay;
}

int link_new(struct link_group *g, int client_fd)
{
    struct link *l = calloc(1, sizeof *l);
    if (!l) abort();
    l->group = g;
    l->id = ++*g->next_id;
    l->start_ns = clock_now_ns();
    l->client.io = (struct loop_io){.fd = client_fd, .on_event = on_client};
    l->server.io = (struct loop_io){.fd = -1, .on_event = on_server};
    chaos_queue_init(&l->dir[UP].queue);
    chaos_queue_init(&l->dir[DOWN].queue);
    timer_init(&l->dir[UP].timer, on_up_timer);
    timer_init(&l->dir[DOWN].timer, on_down_timer);
    timer_init(&l->tox_timer, on_tox_timer);
    exchange_init(&l->ex);
    l->last_in = -1;
    int one = 1;
    setsockopt(client_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    l->next = g->links;
    if (g->links) g->links->prev = l;
    g->links = l;
    g->nlinks++;
    uint64_t delay = handshake_delay(l);
    if (delay > 0) { /* accept late: the client waits for its first byte */
        l->start_at_ns = l->start_ns + delay;
        link_tox_arm(l);
        return 0;
    }
    return link_start(l);
}

/* Watches the client and connects upstream. */
static int link_start(struct link *l)
{
    struct loop *loop = l->group->loop;
    l->start_at_ns = 0;
    int rc = loop_add(loop, &l->client.io, WATCH);
    if (rc == 0) {
        l->client.watched = true;
        rc = endpoint_connect(&l->group->upstream);
    }
    if (rc >= 0) {
        l->server.io.fd = rc;
        rc = loop_add(loop, &l->server.io, WATCH);
    }
    if (rc < 0) {
        link_close(l, LINK_CLOSE_FIN);
        return rc;
    }
    l->server.watched = true;
    link_tox_arm(l);
    return 0;
}

/* Closes one side, with a reset when asked. */
static void side_close(struct loop *loop, struct link_side *s, enum link_close_how how)
{
    if (s->watched) loop_del(loop, &s->io);
    s->watched = false;
    if (s->io.fd < 0) return;
    if (how == LINK_CLOSE_RESET) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(s->io.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(s->io.fd);
    s->io.fd = -1;
}

void link_close(struct link *l, enum link_close_how how)
{
    if (l->released) return;
    l->closed = l->released = true;
    struct link_group *g = l->group;
    side_close(g->loop, &l->client, how);
    side_close(g->loop, &l->server, how);
    timer_disarm(g->loop, &l->dir[UP].timer);
    timer_disarm(g->loop, &l->dir[DOWN].timer);
    timer_disarm(g->loop, &l->tox_timer);
    if (l->prev) /* out of the group's list of live links */
        l->prev->next = l->next;
    else
        g->links = l->next;
    if (l->next) l->next->prev = l->prev;
    g->nlinks--;
    l->prev = NULL;
    l->next = *g->graveyard; /* freed by the server after this loop iteration */
    *g->graveyard = l;
}

void link_refresh(struct link *l)
{
    if (l->closed) return;
    for (int d = 0; d < 2; d++) {
        struct link_effects e;
        link_effects(l, d, &e);
        if (!e.reset) l->dir[d].reset_at_ns = 0; /* the reset_peer toxic was removed */
        if (e.rate == 0 && !e.slicer) l->dir[d].pace_ns = 0;
        if (e.slow_close_ms == 0) l->dir[d].eof_at_ns = 0;
    }
    if (l->start_at_ns) { /* a handshake delay follows its toxic too: shortened, lengthened or gone */
        l->start_at_ns = l->start_ns + handshake_delay(l);
        if (clock_now_ns() >= l->start_at_ns)
            link_start(l);
        else
            link_tox_arm(l);
        return;
    }
    link_tox_arm(l);
    pump(l);
}

void link_free(struct link *l)
{
    if (!l) return;
    chaos_queue_release(&l->dir[UP].queue);
    chaos_queue_release(&l->dir[DOWN].queue);
    exchange_release(&l->ex);
    free(l->held);
    free(l);
}
