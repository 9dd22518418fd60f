/*
 * rng.h — the small deterministic generator behind the map and the trips.
 *
 * The road network and the trip files must be the same on every machine for
 * a given --seed, so they cannot use rand(): this is splitmix64, which is
 * fast, has no bad seeds (0 included) and is fully specified by its 64-bit
 * state. Not for cryptography. Single-threaded: each user owns its state.
 */
#ifndef SALVO_TARGET_RNG_H
#define SALVO_TARGET_RNG_H

#include <stdint.h>

#include "core/hash.h"

/* A splitmix64 stream. */
struct rng {
    uint64_t state;
};

/* Starts a stream; different seeds give unrelated streams. */
static inline void rng_init(struct rng *r, uint64_t seed)
{
    r->state = seed ^ 0x5a17a5a17a5a17a5ull;
}

/* The next 64 random bits. */
static inline uint64_t rng_next(struct rng *r)
{
    return hash_mix64(r->state += HASH_GAMMA);
}

/* A uniform double in [0, 1) with 53 random bits. */
static inline double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* A uniform double in [lo, hi). */
static inline double rng_range(struct rng *r, double lo, double hi)
{
    return lo + (hi - lo) * rng_unit(r);
}

#endif
