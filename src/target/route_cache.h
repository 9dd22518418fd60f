/*
 * route_cache.h — the LRU cache of computed routes.
 *
 * This cache is the point of the demo: a load test that repeats one route
 * measures it (microseconds) instead of the service (milliseconds per A*).
 * Keys are snapped (from, to) node pairs, so nearby coordinates share an
 * entry, as in real routing services. Unreachable pairs are cached too: an
 * A* that fails explores the whole component and is the costliest miss.
 *
 * All entries are allocated at init (about 56 bytes each) and linked by
 * 32-bit indices: a chained hash table with twice as many buckets as
 * entries for lookup, and a doubly linked recency list for eviction. Get and
 * put are O(1) and never allocate. Capacity 0 disables the cache: every get
 * is a miss and put does nothing.
 *
 * Ownership: route_cache_init allocates, route_cache_release frees. Not
 * thread-safe: the server touches it from its event thread only.
 */
#ifndef SALVO_TARGET_ROUTE_CACHE_H
#define SALVO_TARGET_ROUTE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "target/astar.h"

#define ROUTE_CACHE_MAX 10000000u

/* One cached answer and its links. */
struct route_cache_entry {
    uint64_t key;               /* from << 32 | to */
    struct route_result result; /* meaningful when reachable */
    bool reachable;
    uint32_t newer, older; /* recency list neighbours, ROUTE_CACHE_NIL at the ends */
    uint32_t chain;        /* next entry in the same bucket */
};

#define ROUTE_CACHE_NIL UINT32_MAX

/* A fixed-capacity LRU map from node pairs to route answers. */
struct route_cache {
    uint32_t capacity, len;
    uint32_t newest, oldest; /* ends of the recency list */
    uint32_t bucket_mask;
    uint32_t *buckets; /* first entry of each chain */
    struct route_cache_entry *entries;
    uint64_t hits, misses, evictions;
};

/* Allocates room for capacity entries (0..ROUTE_CACHE_MAX). Returns 0 or -EINVAL. */
int route_cache_init(struct route_cache *cache, uint32_t capacity);
/* Frees the cache; NULL is fine. */
void route_cache_release(struct route_cache *cache);

/*
 * Looks (from, to) up. On a hit copies the answer out, makes the entry the
 * most recently used, counts a hit and returns true; else counts a miss.
 */
bool route_cache_get(struct route_cache *cache, uint32_t from, uint32_t to, struct route_result *out, bool *reachable);
/* Like get, but changes neither recency nor the counters. */
bool route_cache_peek(const struct route_cache *cache, uint32_t from, uint32_t to);
/* Inserts or replaces the answer for (from, to), evicting the least recently used entry when full. */
void route_cache_put(struct route_cache *cache, uint32_t from, uint32_t to, const struct route_result *result,
                     bool reachable);

#endif
