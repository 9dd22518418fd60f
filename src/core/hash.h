/*
 * hash.h — the one 64-bit mixer every seeded draw and hash table uses.
 *
 * salvo's random choices (the arrival schedule, row picking, toxic dice,
 * the demo target's streams) must be pure functions of a seed and an index,
 * so that a run replays exactly and shards agree without talking. They all
 * use splitmix64's finaliser: a bijection on 64 bits with full avalanche
 * (each input bit flips each output bit with probability about 1/2), cheap
 * enough for the hot path. It used to be copied five times; a change of
 * constant in one copy would have split a seed's meaning between modules.
 */
#ifndef SALVO_HASH_H
#define SALVO_HASH_H

#include <stddef.h>
#include <stdint.h>

/* splitmix64's increment, 2^64 divided by the golden ratio: spaces the inputs of successive indexes. */
#define HASH_GAMMA 0x9e3779b97f4a7c15ull

/* splitmix64's finaliser: a bijective mix with good avalanche. */
static inline uint64_t hash_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* One splitmix64 output for state x: the finaliser of x + HASH_GAMMA. */
static inline uint64_t hash_splitmix64(uint64_t x)
{
    return hash_mix64(x + HASH_GAMMA);
}

/* FNV-1a of n bytes (string keys: scraped series names). */
static inline uint64_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

#endif
