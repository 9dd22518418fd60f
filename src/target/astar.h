/*
 * astar.h — fastest routes by A*, with scratch memory owned by one thread.
 *
 * A route miss is the expensive path of `salvo target`, and it must cost
 * real computation without costing allocations: each worker thread owns one
 * struct astar whose arrays are sized for the map once, at init. Reuse
 * between queries is O(1): a per-query stamp says which entries are valid,
 * so nothing is cleared (the arrays are wiped only when the stamp wraps,
 * once every 2^32 queries).
 *
 * The heuristic is the straight-line distance to the goal divided by the
 * map's max_speed_mps. Every road takes at least its straight-line length at
 * that speed and straight-line distance obeys the triangle inequality, so
 * the heuristic is consistent: the first time the goal is settled its
 * duration is optimal, and no node needs to be settled twice. The heap is
 * lazy (stale entries are skipped when popped), and each road relaxes at
 * most once because its start is settled once, so the heap never holds more
 * than road_count + 1 entries.
 *
 * Ownership: astar_init allocates ~40 bytes per node plus 16 per road;
 * astar_release frees. The map is borrowed and must outlive the scratch.
 */
#ifndef SALVO_TARGET_ASTAR_H
#define SALVO_TARGET_ASTAR_H

#include <stdint.h>

#include "target/roadmap.h"

/* The answer for one (from, to) pair. */
struct route_result {
    double duration_s; /* fastest travel time */
    double distance_m; /* length of that route */
    uint32_t nodes;    /* intersections on the route, both ends included */
    uint32_t settled;  /* intersections A* settled to find it (the work done) */
};

/* An entry of the open set: a node and its priority g + h. */
struct astar_open {
    double f;
    uint32_t node;
};

/* Per-thread scratch for A* over one map. */
struct astar {
    const struct roadmap *map;
    uint32_t stamp;          /* the current query's stamp */
    uint32_t *seen_stamp;    /* == stamp: g_s, dist_m, hops of the node are valid */
    uint32_t *done_stamp;    /* == stamp: the node is settled */
    double *g_s, *dist_m;    /* best known duration and its distance from the start */
    uint32_t *hops;          /* roads on that best route */
    struct astar_open *heap; /* binary min-heap on f */
    uint32_t heap_len, heap_cap;
};

/* Sizes the scratch for map. Returns 0; out of memory aborts. */
int astar_init(struct astar *a, const struct roadmap *map);
/* Frees the scratch; NULL is fine. */
void astar_release(struct astar *a);

/*
 * The fastest route from -> to over open roads. Returns 0 and fills *out,
 * -ENOENT if the goal is unreachable, -EINVAL for a node out of range.
 * Allocation-free; costs milliseconds on a 300×300 map.
 */
int astar_route(struct astar *a, uint32_t from, uint32_t to, struct route_result *out);

#endif
