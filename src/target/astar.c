/*
 * astar.c — A* with a lazy binary heap; see astar.h for the why.
 *
 * Invariants during a query: a node with seen_stamp == stamp has a finite
 * g_s that is the best duration found so far; a node with done_stamp ==
 * stamp has its final, optimal g_s and is never pushed again. The heap may
 * hold stale entries for a node (an older, larger f); they are skipped on
 * pop because the node is then already settled.
 */
#include "target/astar.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* calloc that aborts: out of memory is not an error we handle. */
static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) abort();
    return p;
}

int astar_init(struct astar *a, const struct roadmap *map)
{
    uint32_t n = map->node_count;
    *a = (struct astar){.map = map};
    a->seen_stamp = xcalloc(n, sizeof(*a->seen_stamp));
    a->done_stamp = xcalloc(n, sizeof(*a->done_stamp));
    a->g_s = xcalloc(n, sizeof(*a->g_s));
    a->dist_m = xcalloc(n, sizeof(*a->dist_m));
    a->hops = xcalloc(n, sizeof(*a->hops));
    a->heap_cap = map->road_count + 1;
    a->heap = xcalloc(a->heap_cap, sizeof(*a->heap));
    return 0;
}

void astar_release(struct astar *a)
{
    if (!a) return;
    free(a->seen_stamp);
    free(a->done_stamp);
    free(a->g_s);
    free(a->dist_m);
    free(a->hops);
    free(a->heap);
    memset(a, 0, sizeof(*a));
}

/* Adds (f, node) to the heap. */
static void heap_push(struct astar *a, double f, uint32_t node)
{
    uint32_t i = a->heap_len++;
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (a->heap[parent].f <= f) break;
        a->heap[i] = a->heap[parent];
        i = parent;
    }
    a->heap[i] = (struct astar_open){.f = f, .node = node};
}

/* Removes and returns the node with the smallest f; the heap must not be empty. */
static uint32_t heap_pop(struct astar *a)
{
    uint32_t top = a->heap[0].node;
    struct astar_open last = a->heap[--a->heap_len];
    uint32_t i = 0;
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= a->heap_len) break;
        if (child + 1 < a->heap_len && a->heap[child + 1].f < a->heap[child].f) child++;
        if (last.f <= a->heap[child].f) break;
        a->heap[i] = a->heap[child];
        i = child;
    }
    if (a->heap_len > 0) a->heap[i] = last;
    return top;
}

/* Starts a new query: bumps the stamp, wiping the stamps when it wraps. */
static void next_stamp(struct astar *a)
{
    if (++a->stamp == 0) {
        memset(a->seen_stamp, 0, a->map->node_count * sizeof(*a->seen_stamp));
        memset(a->done_stamp, 0, a->map->node_count * sizeof(*a->done_stamp));
        a->stamp = 1;
    }
    a->heap_len = 0;
}

/* Relaxes the out-roads of the settled node v towards goal. */
static void expand(struct astar *a, uint32_t v, uint32_t goal)
{
    const struct roadmap *map = a->map;
    double gx = map->x_m[goal], gy = map->y_m[goal], inv_speed = 1.0 / map->max_speed_mps;
    for (uint32_t e = map->first_road[v]; e < map->first_road[v + 1]; e++) {
        const struct road *road = &map->roads[e];
        uint32_t w = road->to;
        double g = a->g_s[v] + road->time_s; /* infinite for a closed road, never better */
        if (a->done_stamp[w] == a->stamp) continue;
        if (a->seen_stamp[w] == a->stamp && a->g_s[w] <= g) continue;
        if (!(g < INFINITY)) continue;
        a->seen_stamp[w] = a->stamp;
        a->g_s[w] = g;
        a->dist_m[w] = a->dist_m[v] + road->length_m;
        a->hops[w] = a->hops[v] + 1;
        double dx = map->x_m[w] - gx, dy = map->y_m[w] - gy;
        heap_push(a, g + sqrt(dx * dx + dy * dy) * inv_speed, w);
    }
}

int astar_route(struct astar *a, uint32_t from, uint32_t to, struct route_result *out)
{
    if (from >= a->map->node_count || to >= a->map->node_count) return -EINVAL;
    next_stamp(a);
    a->seen_stamp[from] = a->stamp;
    a->g_s[from] = 0;
    a->dist_m[from] = 0;
    a->hops[from] = 0;
    heap_push(a, 0, from);
    uint32_t settled = 0;
    while (a->heap_len > 0) {
        uint32_t v = heap_pop(a);
        if (a->done_stamp[v] == a->stamp) continue; /* a stale entry */
        a->done_stamp[v] = a->stamp;
        settled++;
        if (v == to) {
            *out = (struct route_result){
                .duration_s = a->g_s[v], .distance_m = a->dist_m[v], .nodes = a->hops[v] + 1, .settled = settled};
            return 0;
        }
        expand(a, v, to);
    }
    return -ENOENT;
}
