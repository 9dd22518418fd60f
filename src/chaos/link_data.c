/*
 * link_data.c — the data path of a proxied connection: reading, the toxics
 * applied to each chunk, queueing and writing; see link.h for the model and
 * link_data.h for what the lifecycle half (link.c) calls here.
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
 * handful of entries): see link_effects. Per-connection dice come from
 * toxic_hits, so nothing per toxic is stored in the link.
 */
#include "chaos/link_data.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"

#define READ_BUDGET 8 /* reads per direction per pump (8 × 64 KiB) */
#define PUMP_ROUNDS 4
#define PACE_SLACK_NS (10 * NS_PER_MS) /* a late wake-up may catch up this much */

/* Ends the link: the data path stops at once, link.c closes the sockets when the pump returns. */
static void link_doom(struct link *l, enum link_close_how how)
{
    if (l->closed) return;
    l->closed = true;
    l->close_how = how;
}

bool link_hits(const struct link *l, const struct toxic *t)
{
    return toxic_hits(t, l->group->seed, l->id, 0);
}

/* A fresh die for direction d (jitter, slice sizes). */
static double roll(struct link *l, int d)
{
    return toxic_dice(l->group->seed, l->id * 2 + (uint64_t)d, l->dir[d].rolls++);
}

/* Adds up the byte toxics that hit direction d of l. */
void link_effects(const struct link *l, int d, struct link_effects *e)
{
    *e = (struct link_effects){.limit = -1};
    const struct link_group *p = l->group;
    for (size_t i = 0; i < p->ntoxics; i++) {
        const struct toxic *t = &p->toxics[i];
        if ((int)t->stream != d || toxic_type_is_http(t->type) || !link_hits(l, t)) continue;
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
    if (!timer_armed(t) || when < t->deadline_ns) timer_arm(l->group->loop, t, when);
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
    link_doom(l, LINK_CLOSE_RESET);
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
    struct link_effects e;
    link_effects(l, d, &e);
    if (e.timeout || dir->close_after) return; /* swallowed, as toxiproxy does */
    if (e.loss) {
        dir->lost_last =
            toxic_loss_drops(e.loss->attr[ATTR_LOSS_RATE], e.loss->attr[ATTR_CORRELATION], dir->lost_last, roll(l, d));
        if (dir->lost_last) return; /* the chunk is gone: TCP will not resend what the proxy ate */
    }
    if (e.reset) {
        if (!dir->reset_at_ns) {
            dir->reset_at_ns = now + (uint64_t)e.reset_ms * NS_PER_MS;
            link_tox_arm(l);
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
    bool wanted = l->group->nhttp_toxics > 0;
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
    const struct link_group *p = l->group;
    framing_update(l, d);
    l->last_in = (int8_t)d;
    if (!l->framing) { /* no HTTP toxic: the bytes are only bytes */
        l4_push(l, d, buf, len, 0, now);
        return;
    }
    struct exchange_dice dice = {p->toxics, p->ntoxics, l->group->seed, l->id};
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
    char *scratch = l->group->scratch;
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
            link_doom(l, LINK_CLOSE_RESET); /* a reset on one side resets the other */
            return true;
        }
    }
    return moved;
}

/* The queue of direction d is empty: close, or pass the FIN on (after slow_close). */
static bool dir_finish(struct link *l, int d, const struct link_effects *e, uint64_t now)
{
    struct link_dir *dir = &l->dir[d];
    if (dir->close_after) {
        link_doom(l, LINK_CLOSE_FIN);
        return true;
    }
    if (!dir->src_eof || dir->dst_shut || (d == UP && !l->connected)) return false;
    if (e->reset) { /* reset_peer: the peer gets a reset, never a clean FIN */
        if (!dir->reset_at_ns) {
            dir->reset_at_ns = now + (uint64_t)e->reset_ms * NS_PER_MS;
            link_tox_arm(l);
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
    if (l->dir[UP].dst_shut && l->dir[DOWN].dst_shut) link_doom(l, LINK_CLOSE_FIN);
    return true;
}

/* Writes what direction d may send now. True when anything happened. */
static bool dir_flush(struct link *l, int d, uint64_t now)
{
    struct link_dir *dir = &l->dir[d];
    struct link_side *dst = dst_of(l, d);
    struct link_effects e;
    link_effects(l, d, &e);
    struct toxic_pace *shared = &l->group->shared_pace[d];
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
void link_pump(struct link *l)
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

/* The earliest timeout-toxic deadline of l, or UINT64_MAX. */
uint64_t link_timeout_deadline(const struct link *l)
{
    uint64_t next = UINT64_MAX;
    const struct link_group *p = l->group;
    for (size_t i = 0; i < p->ntoxics; i++) {
        const struct toxic *t = &p->toxics[i];
        if (t->type != TOXIC_TIMEOUT || t->attr[ATTR_TIMEOUT] <= 0 || !link_hits(l, t)) continue;
        uint64_t from = t->added_ns > l->start_ns ? t->added_ns : l->start_ns;
        uint64_t at = from + (uint64_t)t->attr[ATTR_TIMEOUT] * NS_PER_MS;
        if (at < next) next = at;
    }
    return next;
}

/* Arms tox_timer for the next handshake start, timeout close or reset. */
void link_tox_arm(struct link *l)
{
    uint64_t next = l->start_at_ns ? l->start_at_ns : link_timeout_deadline(l);
    for (int d = 0; d < 2; d++)
        if (l->dir[d].reset_at_ns && l->dir[d].reset_at_ns < next) next = l->dir[d].reset_at_ns;
    struct loop *loop = l->group->loop;
    if (next == UINT64_MAX)
        timer_disarm(loop, &l->tox_timer);
    else
        timer_arm(loop, &l->tox_timer, next);
}
