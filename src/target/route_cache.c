/*
 * route_cache.c — hash table plus recency list; see route_cache.h for why.
 *
 * Invariants: entries[0 .. len) are in use, each in exactly one bucket
 * chain and once in the recency list (newest first); the slots past len
 * are free. When full, the oldest entry is unlinked and its slot reused, so
 * len never shrinks and no free list is needed.
 */
#include "target/route_cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"

/* The key of a node pair. */
static uint64_t pair_key(uint32_t from, uint32_t to)
{
    return (uint64_t)from << 32 | to;
}

/* The bucket of a key (splitmix64's finaliser spreads neighbouring pairs). */
static uint32_t bucket_of(const struct route_cache *cache, uint64_t key)
{
    return (uint32_t)hash_mix64(key) & cache->bucket_mask;
}

int route_cache_init(struct route_cache *cache, uint32_t capacity)
{
    memset(cache, 0, sizeof(*cache));
    if (capacity > ROUTE_CACHE_MAX) return -EINVAL;
    cache->capacity = capacity;
    cache->newest = cache->oldest = ROUTE_CACHE_NIL;
    if (capacity == 0) return 0;
    uint32_t buckets = 1;
    while (buckets < 2 * capacity)
        buckets <<= 1;
    cache->bucket_mask = buckets - 1;
    cache->buckets = malloc(buckets * sizeof(*cache->buckets));
    cache->entries = calloc(capacity, sizeof(*cache->entries));
    if (!cache->buckets || !cache->entries) abort();
    memset(cache->buckets, 0xff, buckets * sizeof(*cache->buckets)); /* every chain ROUTE_CACHE_NIL */
    return 0;
}

void route_cache_release(struct route_cache *cache)
{
    if (!cache) return;
    free(cache->buckets);
    free(cache->entries);
    memset(cache, 0, sizeof(*cache));
}

/* The index of the entry for key, or ROUTE_CACHE_NIL. */
static uint32_t find(const struct route_cache *cache, uint64_t key)
{
    if (cache->capacity == 0) return ROUTE_CACHE_NIL;
    uint32_t i = cache->buckets[bucket_of(cache, key)];
    while (i != ROUTE_CACHE_NIL && cache->entries[i].key != key)
        i = cache->entries[i].chain;
    return i;
}

/* Takes entry i out of the recency list. */
static void list_unlink(struct route_cache *cache, uint32_t i)
{
    struct route_cache_entry *e = &cache->entries[i];
    if (e->newer != ROUTE_CACHE_NIL)
        cache->entries[e->newer].older = e->older;
    else
        cache->newest = e->older;
    if (e->older != ROUTE_CACHE_NIL)
        cache->entries[e->older].newer = e->newer;
    else
        cache->oldest = e->newer;
}

/* Puts entry i at the newest end of the recency list. */
static void list_push_newest(struct route_cache *cache, uint32_t i)
{
    struct route_cache_entry *e = &cache->entries[i];
    e->newer = ROUTE_CACHE_NIL;
    e->older = cache->newest;
    if (cache->newest != ROUTE_CACHE_NIL) cache->entries[cache->newest].newer = i;
    cache->newest = i;
    if (cache->oldest == ROUTE_CACHE_NIL) cache->oldest = i;
}

/* Takes entry i out of its bucket chain. */
static void chain_unlink(struct route_cache *cache, uint32_t i)
{
    uint32_t *link = &cache->buckets[bucket_of(cache, cache->entries[i].key)];
    while (*link != i)
        link = &cache->entries[*link].chain;
    *link = cache->entries[i].chain;
}

bool route_cache_get(struct route_cache *cache, uint32_t from, uint32_t to, struct route_result *out, bool *reachable)
{
    uint32_t i = find(cache, pair_key(from, to));
    if (i == ROUTE_CACHE_NIL) {
        cache->misses++;
        return false;
    }
    cache->hits++;
    if (cache->newest != i) {
        list_unlink(cache, i);
        list_push_newest(cache, i);
    }
    *out = cache->entries[i].result;
    *reachable = cache->entries[i].reachable;
    return true;
}

bool route_cache_peek(const struct route_cache *cache, uint32_t from, uint32_t to)
{
    return find(cache, pair_key(from, to)) != ROUTE_CACHE_NIL;
}

void route_cache_put(struct route_cache *cache, uint32_t from, uint32_t to, const struct route_result *result,
                     bool reachable)
{
    if (cache->capacity == 0) return;
    uint64_t key = pair_key(from, to);
    uint32_t i = find(cache, key);
    if (i != ROUTE_CACHE_NIL) {
        list_unlink(cache, i);
    } else {
        if (cache->len < cache->capacity) {
            i = cache->len++;
        } else {
            i = cache->oldest;
            list_unlink(cache, i);
            chain_unlink(cache, i);
            cache->evictions++;
        }
        uint32_t b = bucket_of(cache, key);
        cache->entries[i].key = key;
        cache->entries[i].chain = cache->buckets[b];
        cache->buckets[b] = i;
    }
    cache->entries[i].result = *result;
    cache->entries[i].reachable = reachable;
    list_push_newest(cache, i);
}
