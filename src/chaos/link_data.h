/*
 * link_data.h — the data path of a link (link_data.c), as the lifecycle
 * half (link.c) calls it. Private to the link module: nothing outside
 * src/chaos/link*.c includes it.
 */
#ifndef SALVO_CHAOS_LINK_DATA_H
#define SALVO_CHAOS_LINK_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "chaos/link.h"

enum { UP = STREAM_UPSTREAM, DOWN = STREAM_DOWNSTREAM };

/* What the byte toxics that hit one direction of one link add up to. */
struct link_effects {
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

/* True when toxic t hits this connection. */
bool link_hits(const struct link *l, const struct toxic *t);
/* Adds up the byte toxics that hit direction d of l. */
void link_effects(const struct link *l, int d, struct link_effects *e);
/* Moves bytes until nothing moves (bounded), then arms what it waits on. */
void link_pump(struct link *l);
/* The earliest timeout-toxic deadline of l, or UINT64_MAX. */
uint64_t link_timeout_deadline(const struct link *l);
/* Arms tox_timer for the next handshake start, timeout close or reset. */
void link_tox_arm(struct link *l);

#endif
