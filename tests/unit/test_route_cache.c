/*
 * test_route_cache.c — the LRU route cache (src/target/route_cache.c).
 *
 * Table-driven checks of eviction order, hit and miss counts, replacement
 * in place, peek, and capacities 0 and 1; then a differential test against
 * a naive model (an array of keys with last-use times, evicting the oldest
 * by linear scan) over a long random mix of gets and puts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "target/rng.h"
#include "target/route_cache.h"

/* A result that encodes its key, so a wrong entry is noticed. */
static struct route_result result_for(uint32_t from, uint32_t to)
{
    return (struct route_result){.duration_s = from * 1000.0 + to, .distance_m = to, .nodes = from + 1};
}

/* Asserts a hit for (from, to) with the right result. */
static void expect_hit(struct route_cache *c, uint32_t from, uint32_t to)
{
    struct route_result r;
    bool reachable = false;
    assert_true(route_cache_get(c, from, to, &r, &reachable));
    assert_true(reachable);
    assert_true(r.duration_s == from * 1000.0 + to);
    assert_int_equal(r.nodes, from + 1);
}

/* Asserts a miss for (from, to). */
static void expect_miss(struct route_cache *c, uint32_t from, uint32_t to)
{
    struct route_result r;
    bool reachable;
    assert_false(route_cache_get(c, from, to, &r, &reachable));
}

/* Inserts the canonical result for (from, to). */
static void put(struct route_cache *c, uint32_t from, uint32_t to)
{
    struct route_result r = result_for(from, to);
    route_cache_put(c, from, to, &r, true);
}

static void test_eviction_order(void **state)
{
    (void)state;
    struct route_cache c;
    assert_int_equal(route_cache_init(&c, 3), 0);
    put(&c, 1, 10);
    put(&c, 2, 20);
    put(&c, 3, 30);
    expect_hit(&c, 1, 10); /* 1 is now the most recent; 2 the oldest */
    put(&c, 4, 40);        /* evicts 2 */
    assert_false(route_cache_peek(&c, 2, 20));
    assert_true(route_cache_peek(&c, 1, 10));
    assert_true(route_cache_peek(&c, 3, 30));
    put(&c, 5, 50); /* evicts 3: peek did not refresh it */
    assert_false(route_cache_peek(&c, 3, 30));
    put(&c, 1, 10); /* replacing refreshes 1 without growing */
    put(&c, 6, 60); /* evicts 4 */
    assert_false(route_cache_peek(&c, 4, 40));
    expect_hit(&c, 1, 10);
    expect_hit(&c, 5, 50);
    expect_hit(&c, 6, 60);
    expect_miss(&c, 2, 20);
    assert_int_equal(c.len, 3);
    assert_int_equal(c.hits, 4);
    assert_int_equal(c.misses, 1);
    assert_int_equal(c.evictions, 3);
    route_cache_release(&c);
}

static void test_pairs_are_ordered(void **state)
{
    (void)state;
    struct route_cache c;
    assert_int_equal(route_cache_init(&c, 8), 0);
    put(&c, 1, 2);
    expect_hit(&c, 1, 2);
    expect_miss(&c, 2, 1); /* one-way streets: (a, b) and (b, a) are different routes */
    struct route_result none = {0};
    route_cache_put(&c, 7, 8, &none, false);
    struct route_result r;
    bool reachable = true;
    assert_true(route_cache_get(&c, 7, 8, &r, &reachable));
    assert_false(reachable);
    assert_int_equal(c.hits, 2);
    assert_int_equal(c.misses, 1);
    route_cache_release(&c);
}

static void test_capacity_zero_and_one(void **state)
{
    (void)state;
    struct route_cache c;
    assert_int_equal(route_cache_init(&c, 0), 0);
    put(&c, 1, 1);
    expect_miss(&c, 1, 1);
    expect_miss(&c, 1, 1);
    assert_int_equal(c.misses, 2);
    assert_int_equal(c.len, 0);
    assert_false(route_cache_peek(&c, 1, 1));
    route_cache_release(&c);

    assert_int_equal(route_cache_init(&c, 1), 0);
    put(&c, 1, 1);
    expect_hit(&c, 1, 1);
    put(&c, 2, 2);
    expect_miss(&c, 1, 1);
    expect_hit(&c, 2, 2);
    assert_int_equal(c.evictions, 1);
    route_cache_release(&c);
    route_cache_release(NULL);

    assert_int_equal(route_cache_init(&c, ROUTE_CACHE_MAX + 1), -EINVAL);
}

/* ---- Differential test ------------------------------------------------- */

/* The naive model: keys with the time of their last use. */
struct model {
    uint64_t *key, *used;
    uint32_t len, cap;
    uint64_t clock;
};

/* Index of key in the model, or -1. */
static int model_find(const struct model *m, uint64_t key)
{
    for (uint32_t i = 0; i < m->len; i++)
        if (m->key[i] == key) return (int)i;
    return -1;
}

/* get: a hit refreshes the entry. */
static bool model_get(struct model *m, uint64_t key)
{
    int i = model_find(m, key);
    if (i >= 0) m->used[i] = ++m->clock;
    return i >= 0;
}

/* put: insert or refresh, evicting the least recently used when full. */
static void model_put(struct model *m, uint64_t key)
{
    int i = model_find(m, key);
    if (i < 0 && m->len < m->cap)
        i = (int)m->len++;
    else if (i < 0) {
        i = 0;
        for (uint32_t j = 1; j < m->len; j++)
            if (m->used[j] < m->used[i]) i = (int)j;
    }
    m->key[i] = key;
    m->used[i] = ++m->clock;
}

static void run_differential(uint32_t capacity, uint32_t key_space, int steps, uint64_t seed)
{
    struct route_cache c;
    struct model m = {.cap = capacity};
    struct rng rng;
    m.key = calloc(capacity + 1, sizeof(*m.key));
    m.used = calloc(capacity + 1, sizeof(*m.used));
    assert_non_null(m.key);
    assert_non_null(m.used);
    assert_int_equal(route_cache_init(&c, capacity), 0);
    rng_init(&rng, seed);
    uint64_t hits = 0, misses = 0;
    for (int step = 0; step < steps; step++) {
        uint32_t from = (uint32_t)(rng_next(&rng) % key_space), to = (uint32_t)(rng_next(&rng) % 3);
        uint64_t key = (uint64_t)from << 32 | to;
        if (rng_next(&rng) % 3 == 0) {
            model_put(&m, key);
            put(&c, from, to);
        } else {
            bool want = model_get(&m, key);
            if (want) {
                expect_hit(&c, from, to);
                hits++;
            } else {
                expect_miss(&c, from, to);
                misses++;
            }
        }
        assert_int_equal(c.len, m.len);
    }
    assert_int_equal(c.hits, hits);
    assert_int_equal(c.misses, misses);
    route_cache_release(&c);
    free(m.key);
    free(m.used);
}

static void test_matches_naive_model(void **state)
{
    (void)state;
    run_differential(1, 4, 2000, 1);
    run_differential(7, 10, 20000, 2);
    run_differential(64, 40, 50000, 3);
    run_differential(100, 1000, 50000, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eviction_order),
        cmocka_unit_test(test_pairs_are_ordered),
        cmocka_unit_test(test_capacity_zero_and_one),
        cmocka_unit_test(test_matches_naive_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
