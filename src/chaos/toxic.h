/*
 * toxic.h — the arithmetic every toxic needs on the proxy's data path:
 * the dice, latency, bandwidth pacing, slice sizes and packet loss. The
 * toxic itself (struct toxic, the table, the parsers) is spec/toxic_spec.h.
 *
 * Nothing here allocates, prints or reads the clock.
 */
#ifndef SALVO_CHAOS_TOXIC_H
#define SALVO_CHAOS_TOXIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/toxic_spec.h"

/* ---------------------------------------------------------------- arithmetic */

/* A uniform draw in [0, 1) fixed by its three inputs (splitmix64 mixing). */
double toxic_dice(uint64_t seed, uint64_t a, uint64_t b);

/*
 * True when t hits connection conn_id (and request seq for HTTP toxics; 0
 * otherwise): the connection's die for this toxic is below t->toxicity.
 */
bool toxic_hits(const struct toxic *t, uint64_t seed, uint64_t conn_id, uint64_t seq);

/* latency ± jitter for a die u in [0, 1), in ns, never negative. */
uint64_t toxic_latency_ns(int64_t latency_ms, int64_t jitter_ms, double u);

/* Time to send `bytes` at rate_kbs KB/s (KB = 1000 bytes), in ns; 0 when rate <= 0. */
uint64_t toxic_bandwidth_ns(int64_t rate_kbs, size_t bytes);

/* Bytes per write that keep a paced stream smooth: 10 ms of rate, at least 1. */
size_t toxic_bandwidth_quantum(int64_t rate_kbs);

/*
 * A token bucket kept as a virtual clock: the time at which the bytes
 * already granted will have drained at the rate. A writer may start when
 * that time has come (toxic_pace_due <= now); each write then pushes it on
 * by the write's duration at the rate. A clock that fell behind by more
 * than `slack_ns` (the bucket's depth: an idle stream may burst this much
 * time's worth) restarts from now. One per paced stream: a connection's
 * direction (bandwidth), or a proxy's direction shared by all its
 * connections (bandwidth_shared). Caller-owned; zero is an empty bucket.
 */
struct toxic_pace {
    uint64_t next_ns;
};

/* When the next write may start. */
static inline uint64_t toxic_pace_due(const struct toxic_pace *p)
{
    return p->next_ns;
}

/* Accounts for `bytes` written at `now_ns` at rate_kbs (no-op when rate <= 0). */
void toxic_pace_charge(struct toxic_pace *p, int64_t rate_kbs, size_t bytes, uint64_t now_ns, uint64_t slack_ns);

/*
 * packet_loss's decision for one chunk, given whether the previous chunk
 * of the same stream was dropped and a die u in [0, 1). A two-state
 * Markov chain whose long-run drop share is exactly loss and whose
 * lag-one correlation is corr: after a drop the next drops with
 * loss + corr·(1 − loss), after a pass with loss·(1 − corr). (toxiproxy
 * adds corr to the rate after a drop, which raises the share above
 * loss_rate; here loss_rate means the share, whatever the burstiness.)
 */
bool toxic_loss_drops(int64_t loss_ppm, int64_t corr_ppm, bool prev_dropped, double u);

/* A slice length average ± variation for a die u in [0, 1), at least 1. */
size_t toxic_slice_len(int64_t average, int64_t variation, double u);

#endif
