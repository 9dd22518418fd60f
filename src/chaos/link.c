/*
 * link.c — one proxied connection and its two directions; see link.h.
 *
 * The state machine is "pump until nothing moves": every event or timer of
 * a link calls link_pump, which reads each source while its queue has room,
 * then flushes each queue as far as release times, pacing and the peer
 * allow, and arms the direction's timer for whatever it waits on. Sockets
 * are edge-triggered, so the link remembers readable/writable itself. Each
 * pump reads a bounded amount and schedules a continuation (the direction
 * timer, due at once) instead of starving other connections.
 *
 * Byte toxics are evaluated per chunk from the proxy's current list (a
 * handful of entries): see effects_of. Per-connection dice come from
 * toxic_hits, so nothing per toxic is stored in the link.
 */
#include "chaos/link.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "chaos/chaos.h"
#include "chaos/proxy.h"
#include "core/clock.h"
#include "core/container.h"

#define READ_BUDGET 8 /* reads per direction per pump (8 × 64 KiB) */
#define PUMP_ROUNDS 4
#define PACE_SLACK_NS (10 * NS_PER_MS) /* a late wake-up may catch up this much */
#define WATCH (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)

enum { UP = STREAM_UPSTREAM, DOWN = STREAM_DOWNSTREAM };

/* What the byte toxics that hit one direction of one link add up to. */
struct effects {
    bool timeout; /* swallow data (timeout toxic) */
    bool reset;   /* reset_peer: reset reset_ms after data */
    int64_t reset_ms;
    int64_t limit;       /* limit_data: bytes, -1 none */
    int64_t rate;        /* bandwidth KB/s, 0 unpaced */
    int64_t shared_rate; /* bandwidth_shared KB/s: drawn from the proxy's bucket, 0 none */
    int64_t slow_close_ms;
    int64_t latency_ms, jitter_ms;
    const struct toxic *slicer;
    const struct toxic *loss; /* packet_loss: drops a share of chunks */
};

static void link_pump(struct link *l);
static void tox_arm(struct link *l);
static int link_start(struct link *l);

#define LINK_OF(ptr, member) container_of(ptr, struct link, member)

static uint64_t seed_of(const struct link *l)
{
    return l->proxy->chaos->seed;
}

/* True when toxic t hits this connection. */
static bool hits(const struct link *l, const struct toxic *t)
{
    return toxic_hits(t, seed_of(l), l->id, 0);
}

/* A fresh die for direction d (jitter, slice sizes). */
static double roll(struct link *l, int d)
{
    return toxic_dice(seed_of(l), l->id * 2 + (uint64_t)d, l->dir[d].rolls++);
}

/* Adds up the byte toxics that hit direction d of l. */
static void effects_of(const struct link *l, int d, struct effects *e)
{
    *e = (struct effects){.limit = -1};
    const struct proxy *p = l->proxy;
    for (size_t i = 0; i < p->ntoxics; i++) {
        const struct toxic *t = &p->toxics[i];
        if ((int)t->stream != d || toxic_type_is_http(t->type) || !hits(l, t)) continue;
        int64_t a = t->attr[0];
        switch (t->type) {
        case TOXIC_LATENCY:
            e->latency_ms += a;
            e->jitter_ms += t->attr[ATTR_JITTER];
            break;
        case TOXIC_BANDWIDTH:
            if (a > 0 && (e->rate == 0 || a < e->rate)) e->rate = a;
            break;
        case TOXIC_BANDWIDTH_SHARED:
            if (a > 0 && (e->shared_rate == 0 || a < e->shared_rate)) e->shared_rate = a;
            break;
        case TOXIC_SLOW_CLOSE:
            if (a > e->slow_close_ms) e->slow_close_ms = a;
            break;
        case TOXIC_TIMEOUT: e->timeout = true; break;
        case TOXIC_RESET_PEER:
            if (!e->reset || a < e->reset_ms) e->reset_ms = a;
            e->reset = true;
            break;
        case TOXIC_SLICER:
            if (!e->slicer && t->attr[ATTR_AVG] > 0) e->slicer = t;
            break;
        case TOXIC_LIMIT_DATA:
            if (e->limit < 0 || a < e->limit) e->limit = a;
            break;
        case TOXIC_PACKET_LOSS:
            if (!e->loss && a > 0) e->loss = t;
            break;
        default: break;
        }
    }
}

/* Wakes direction d at `when` (keeps an earlier wake-up). */
static void dir_wake(struct link *l, int d, uint64_t when)
{
    struct timer *t = &l->dir[d].timer;
    if (!timer_armed(t) || when < t->deadline_ns) timer_arm(&l->proxy->chaos->loop, t, when);
}

/* Writes to a side: bytes written, 0 when it would block, -1 after closing the link. */
static ssize_t side_write(struct link *l, struct link_side *s, const char *p, size_t n)
{
    ssize_t w = send(s->io.fd, p, n, MSG_NOSIGNAL);
    if (w >= 0) {
        if ((size_t)w < n) s->writable = false;
        return w;
    }
    if (errno == EAGAIN || errno == EINTR) {
        s->writable = errno == EINTR;
        return 0;
    }
    link_close(l, LINK_CLOSE_RESET);
    return -1;
}

/* The side direction d writes to. */
static struct link_side *dst_of(struct link *l, int d)
{
    return d == UP ? &l->server : &l->client;
}

/* Applies the byte toxics to bytes entering direction d and queues them. */
static void l4_push(struct link *l, int d, const char *buf, size_t len, uint64_t extra_ns, uint64_t now)
{
    struct link_dir *dir = &l->dir[d];
    struct effects e;
    effects_of(l, d, &e);
    if (e.timeout || dir->close_after) return; /* swallowed, as toxiproxy does */
    if (e.loss) {
        dir->lost_last =
            toxic_loss_drops(e.loss->attr[ATTR_LOSS_RATE], e.loss->attr[ATTR_CORRELATION], dir->lost_last, roll(l, d));
        if (dir->lost_last) return; /* the chunk is gone: TCP will not resend what the proxy ate */
    }
    if (e.reset) {
        if (!dir->reset_at_ns) {
            dir->reset_at_ns = now + (uint64_t)e.reset_ms * NS_PER_MS;
            tox_arm(l);
        }
        return;
    }
    if (e.limit >= 0) {
        uint64_t room = (uint64_t)e.limit > dir->bytes_in ? (uint64_t)e.limit - dir->bytes_in : 0;
        if (len >= room) {
            len = (size_t)room;
            dir->close_after = true;
        }
    }
    dir->bytes_in += len;
    if (len == 0) return;
    uint64_t release = now + extra_ns;
    if (e.latency_ms || e.jitter_ms) release += toxic_latency_ns(e.latency_ms, e.jitter_ms, roll(l, d));
    struct link_side *dst = dst_of(l, d);
    if (dir->queue.bytes == 0 && release <= now && dir->pace_ns <= now && e.rate == 0 && e.shared_rate == 0 &&
        !e.slicer && dst->writable) {
        ssize_t w = side_write(l, dst, buf, len); /* the fast path: no queue */
        if (w < 0) return;
        buf += w;
        len -= (size_t)w;
    }
    uint64_t last = chaos_queue_last_release(&dir->queue);
    if (dir->queue.bytes > 0 && release < last) release = last;
    if (len > 0) chaos_queue_push(&dir->queue, buf, len, release);
}

/* Sends the proxy's own answers that are due (http_status). */
static void emit_synth(struct link *l, uint64_t now)
{
    char buf[EXCHANGE_SYNTH_MAX];
    bool close = false;
    size_t n;
    while (!l->closed && (n = exchange_next_synth(&l->ex, buf, &close)) > 0) {
        l4_push(l, DOWN, buf, n, 0, now);
        if (close) l->dir[DOWN].close_after = true;
    }
}

/* Starts or stops feeding the exchange before bytes of direction d (see link.h). */
static void framing_update(struct link *l, int d)
{
    bool wanted = l->proxy->nhttp_toxics > 0;
    if (!l->framing && wanted && d == UP && l->last_in != UP && l->dir[UP].queue.bytes == 0 &&
        l->dir[DOWN].queue.bytes == 0) {
        exchange_restart(&l->ex);
        l->framing = true;
    } else if (l->framing && !wanted && exchange_quiet(&l->ex)) {
        l->framing = false;
    }
}

/* Keeps client bytes the exchange could not take yet (they are read again before the socket). */
static void hold(struct link *l, const char *buf, size_t len)
{
    char *grown = malloc(len);
    if (!grown) abort();
    memcpy(grown, buf, len); /* buf may point into the old held bytes */
    free(l->held);
    l->held = grown;
    l->held_len = len;
}

/*
 * Bytes read from the source of direction d: HTTP toxics, then byte toxics.
 * Consecutive forwarded steps with the same delay are pushed as one run, so
 * a response whose head and body came in one read leaves in one write.
 */
static void dir_ingest(struct link *l, int d, const char *buf, size_t len, uint64_t now)
{
    const struct proxy *p = l->proxy;
    framing_update(l, d);
    l->last_in = (int8_t)d;
    if (!l->framing) { /* no HTTP toxic: the bytes are only bytes */
        l4_push(l, d, buf, len, 0, now);
        return;
    }
    struct exchange_dice dice = {p->toxics, p->ntoxics, seed_of(l), l->id};
    const char *run = buf;
    size_t run_len = 0;
    uint64_t run_delay = 0;
    while (len > 0 && !l->closed) {
        struct exchange_step st;
        exchange_step(&l->ex, d, buf, len, &dice, &st);
        if (st.len == 0) { /* the pipeline is full: keep the rest for later, read no more */
            if (run_len > 0) l4_push(l, d, run, run_len, run_delay, now);
            hold(l, buf, len);
            return;
        }
        bool extends = st.forward && run_len > 0 && st.delay_ns == run_delay;
        if (run_len > 0 && !extends) {
            l4_push(l, d, run, run_len, run_delay, now);
            run_len = 0;
        }
        if (st.forward) {
            if (run_len == 0) run = buf, run_delay = st.delay_ns;
            run_len += st.len;
        }
        buf += st.len;
        len -= st.len;
        if (st.close_after || exchange_synth_due(&l->ex)) { /* what follows must queue behind the run */
            if (run_len > 0 && !l->closed) l4_push(l, d, run, run_len, run_delay, now);
            run_len = 0;
            if (st.close_after) l->dir[d].close_after = true;
            emit_synth(l, now);
        }
    }
    if (run_len > 0 && !l->closed) l4_push(l, d, run, run_len, run_delay, now);
}

/* Offers held client bytes again. True when some were taken. */
static bool feed_held(struct link *l, uint64_t now)
{
    char *buf = l->held;
    size_t len = l->held_len;
    l->held = NULL;
    l->held_len = 0;
    dir_ingest(l, UP, buf, len, now); /* may hold a shorter tail again */
    bool moved = l->held_len != len;
    free(buf);
    return moved;
}

/* Reads direction d's source while its queue has room. True when anything happened. */
static bool dir_read(struct link *l, int d, uint64_t now)
{
    struct link_dir *dir = &l->dir[d];
    struct link_side *src = d == UP ? &l->client : &l->server;
    char *scratch = l->proxy->chaos->scratch;
    bool moved = false;
    if (d == DOWN && !l->connected) return false;
    if (d == UP && l->held_len > 0) {
        moved = feed_held(l, now);
        if (l->held_len > 0) return moved; /* still full: the socket waits */
    }
    for (int i = 0; i < READ_BUDGET; i++) {
        if (l->closed || !src->readable || dir->src_eof || dir->queue.bytes >= LINK_QUEUE_CAP ||
            (d == UP && l->held_len))
            break;
        ssize_t n = read(src->io.fd, scratch, CHAOS_SCRATCH);
        if (n > 0) {
            /* A short read drained the socket; new data brings a new edge. */
            if ((size_t)n < CHAOS_SCRATCH && !src->hup) src->readable = false;
            dir_ingest(l, d, scratch, (size_t)n, now);
            moved = true;
        } else if (n == 0) {
            dir->src_eof = true;
            src->readable = false;
            if (d == DOWN && l->framing) {
                exchange_upstream_eof(&l->ex);
                emit_synth(l, now);
            }
            return true;
        } else if (errno == EAGAIN) {
            src->readable = false;
        } else if (errno != EINTR) {
            link_close(l, LINK_CLOSE_RESET); /* a reset on one side resets the other */
            return true;
        }
    }
    return moved;
}

/* The queue of direction d is empty: close, or pass the FIN on (after slow_close). */
static bool dir_finish(struct link *l, int d, const struct effects *e, uint64_t now)
{
    struct link_dir *dir = &l->dir[d];
    if (dir->close_after) {
        link_close(l, LINK_CLOSE_FIN);
        return true;
    }
    if (!dir->src_eof || dir->dst_shut || (d == UP && !l->connected)) return false;
    if (e->reset) { /* reset_peer: the peer gets a reset, never a clean FIN */
        if (!dir->reset_at_ns) {
            dir->reset_at_ns = now + (uint64_t)e->reset_ms * NS_PER_MS;
            tox_arm(l);
        }
        return false;
    }
    if (e->slow_close_ms > 0) {
        if (!dir->eof_at_ns) dir->eof_at_ns = now + (uint64_t)e->slow_close_ms * NS_PER_MS;
        if (now < dir->eof_at_ns) {
            dir_wake(l, d, dir->eof_at_ns);
            return false;
        }
    }
    shutdown(dst_of(l, d)->io.fd, SHUT_WR);
    dir->dst_shut = true;
    if (l->dir[UP].dst_shut && l->dir[DOWN].dst_shut) link_close(l, LINK_CLOSE_FIN);
    return true;
}

/* Writes what direction d may send now. True when anything happened. */
static bool dir_flush(struct link *l, int d, uint64_t now)
{
    struct link_dir *dir = &l->dir[d];
    struct link_side *dst = dst_of(l, d);
    struct effects e;
    effects_of(l, d, &e);
    struct toxic_pace *shared = &l->proxy->shared_pace[d];
    bool moved = false;
    while (dir->queue.bytes > 0) {
        const char *p;
        uint64_t release;
        size_t n = chaos_queue_peek(&dir->queue, &p, &release);
        uint64_t due = release > dir->pace_ns ? release : dir->pace_ns;
        if (e.shared_rate > 0 && toxic_pace_due(shared) > due) due = toxic_pace_due(shared);
        if (due > now) {
            dir_wake(l, d, due);
            return moved;
        }
        if (!dst->writable) return moved;
        size_t chunk = n;
        if (e.rate > 0 && chunk > toxic_bandwidth_quantum(e.rate)) chunk = toxic_bandwidth_quantum(e.rate);
        if (e.shared_rate > 0 && chunk > toxic_bandwidth_quantum(e.shared_rate))
            chunk = toxic_bandwidth_quantum(e.shared_rate);
        if (e.slicer) {
            size_t slice = toxic_slice_len(e.slicer->attr[ATTR_AVG], e.slicer->attr[ATTR_VARIATION], roll(l, d));
            if (chunk > slice) chunk = slice;
        }
        ssize_t w = side_write(l, dst, p, chunk);
        if (w <= 0) return w < 0 || moved;
        chaos_queue_consume(&dir->queue, (size_t)w);
        moved = true;
        if (e.rate > 0) {
            if (dir->pace_ns + PACE_SLACK_NS < now) dir->pace_ns = now;
            dir->pace_ns += toxic_bandwidth_ns(e.rate, (size_t)w);
        }
        toxic_pace_charge(shared, e.shared_rate, (size_t)w, now, PACE_SLACK_NS);
        if (e.slicer) {
            uint64_t next = now + (uint64_t)e.slicer->attr[ATTR_SLICE_DELAY] * NS_PER_US;
            if (next > dir->pace_ns) dir->pace_ns = next;
        }
    }
    return dir_finish(l, d, &e, now) || moved;
}

/* Reads and writes until nothing moves, then schedules what is left. */
static void link_pump(struct link *l)
{
    uint64_t now = clock_now_ns();
    for (int round = 0; round < PUMP_ROUNDS && !l->closed; round++) {
        bool moved = false;
        for (int d = 0; d < 2 && !l->closed; d++)
            moved |= dir_read(l, d, now);
        for (int d = 0; d < 2 && !l->closed; d++)
            moved |= dir_flush(l, d, now);
        if (!moved) break;
    }
    for (int d = 0; d < 2 && !l->closed; d++) {
        struct link_side *src = d == UP ? &l->client : &l->server;
        bool can_read = d == UP || l->connected;
        bool held = d == UP && l->held_len > 0; /* waits for a response, not for a timer */
        if (can_read && src->readable && !held && !l->dir[d].src_eof && l->dir[d].queue.bytes < LINK_QUEUE_CAP)
            dir_wake(l, d, now); /* budget spent: continue in the next iteration */
    }
}

/* ---------------------------------------------------------------- events */

static void on_client(struct loop_io *io, uint32_t events)
{
    struct link *l = LINK_OF(io, client.io);
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) l->client.hup = true;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) l->client.readable = true;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) l->client.writable = true;
    link_pump(l);
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
    link_pump(l);
}

static void on_up_timer(struct timer *t, uint64_t now_ns)
{
    (void)now_ns;
    link_pump(LINK_OF(t, dir[UP].timer));
}

static void on_down_timer(struct timer *t, uint64_t now_ns)
{
    (void)now_ns;
    link_pump(LINK_OF(t, dir[DOWN].timer));
}

/* The earliest timeout-toxic deadline of l, or UINT64_MAX. */
static uint64_t timeout_deadline(const struct link *l)
{
    uint64_t next = UINT64_MAX;
    const struct proxy *p = l->proxy;
    for (size_t i = 0; i < p->ntoxics; i++) {
        const struct toxic *t = &p->toxics[i];
        if (t->type != TOXIC_TIMEOUT || t->attr[ATTR_TIMEOUT] <= 0 || !hits(l, t)) continue;
        uint64_t from = t->added_ns > l->start_ns ? t->added_ns : l->start_ns;
        uint64_t at = from + (uint64_t)t->attr[ATTR_TIMEOUT] * NS_PER_MS;
        if (at < next) next = at;
    }
    return next;
}

/* Arms tox_timer for the next handshake start, timeout close or reset. */
static void tox_arm(struct link *l)
{
    uint64_t next = l->start_at_ns ? l->start_at_ns : timeout_deadline(l);
    for (int d = 0; d < 2; d++)
        if (l->dir[d].reset_at_ns && l->dir[d].reset_at_ns < next) next = l->dir[d].reset_at_ns;
    struct loop *loop = &l->proxy->chaos->loop;
    if (next == UINT64_MAX)
        timer_disarm(loop, &l->tox_timer);
    else
        timer_arm(loop, &l->tox_timer, next);
}

static void on_tox_timer(struct timer *t, uint64_t now_ns)
{
    struct link *l = LINK_OF(t, tox_timer);
    if (l->start_at_ns) {
        if (now_ns >= l->start_at_ns)
            link_start(l);
        else
            tox_arm(l);
        return;
    }
    for (int d = 0; d < 2; d++) {
        if (l->dir[d].reset_at_ns && now_ns >= l->dir[d].reset_at_ns) {
            link_close(l, LINK_CLOSE_RESET);
            return;
        }
    }
    if (now_ns >= timeout_deadline(l)) {
        link_close(l, LINK_CLOSE_FIN);
        return;
    }
    tox_arm(l);
}

/* ---------------------------------------------------------------- lifecycle */

/* The longest handshake delay that hits l, in ns (0: none). */
static uint64_t handshake_delay(const struct link *l)
{
    uint64_t delay = 0;
    const struct proxy *p = l->proxy;
    for (size_t i = 0; i < p->ntoxics; i++) {
        const struct toxic *t = &p->toxics[i];
        if (t->type == TOXIC_HANDSHAKE && hits(l, t) && (uint64_t)t->attr[ATTR_DELAY] * NS_PER_MS > delay)
            delay = (uint64_t)t->attr[ATTR_DELAY] * NS_PER_MS;
    }
    return delay;
}

int link_new(struct proxy *p, int client_fd)
{
    struct link *l = calloc(1, sizeof *l);
    if (!l) abort();
    l->proxy = p;
    l->id = chaos_next_id(p->chaos);
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
    l->next = p->links;
    if (p->links) p->links->prev = l;
    p->links = l;
    p->nlinks++;
    uint64_t delay = handshake_delay(l);
    if (delay > 0) { /* accept late: the client waits for its first byte */
        l->start_at_ns = l->start_ns + delay;
        tox_arm(l);
        return 0;
    }
    return link_start(l);
}

/* Watches the client and connects upstream. */
static int link_start(struct link *l)
{
    struct loop *loop = &l->proxy->chaos->loop;
    l->start_at_ns = 0;
    int rc = loop_add(loop, &l->client.io, WATCH);
    if (rc == 0) {
        l->client.watched = true;
        rc = endpoint_connect(&l->proxy->upstream);
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
    tox_arm(l);
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
    if (l->closed) return;
    l->closed = true;
    struct chaos *c = l->proxy->chaos;
    side_close(&c->loop, &l->client, how);
    side_close(&c->loop, &l->server, how);
    timer_disarm(&c->loop, &l->dir[UP].timer);
    timer_disarm(&c->loop, &l->dir[DOWN].timer);
    timer_disarm(&c->loop, &l->tox_timer);
    proxy_detach_link(l->proxy, l);
    chaos_bury_link(c, l);
}

void link_refresh(struct link *l)
{
    if (l->closed) return;
    for (int d = 0; d < 2; d++) {
        struct effects e;
        effects_of(l, d, &e);
        if (!e.reset) l->dir[d].reset_at_ns = 0; /* the reset_peer toxic was removed */
        if (e.rate == 0 && !e.slicer) l->dir[d].pace_ns = 0;
        if (e.slow_close_ms == 0) l->dir[d].eof_at_ns = 0;
    }
    if (l->start_at_ns) { /* a handshake delay follows its toxic too: shortened, lengthened or gone */
        l->start_at_ns = l->start_ns + handshake_delay(l);
        if (clock_now_ns() >= l->start_at_ns)
            link_start(l);
        else
            tox_arm(l);
        return;
    }
    tox_arm(l);
    link_pump(l);
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
