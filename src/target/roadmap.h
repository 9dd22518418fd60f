/*
 * roadmap.h — the road network of the demo city that `salvo target` routes on.
 *
 * A load-testing demo needs a service whose cost is real and whose answers
 * can be checked, so the city is generated, not shipped: a grid of
 * intersections over a Berlin-sized bounding box, positions jittered, with
 * three road classes (side streets, arterials every 10th row and column, and
 * a faster ring road every 50th), one-way side streets, random closures, a
 * river crossed only by arterial bridges and a park with no side streets.
 * The same (rows, cols, seed) gives the same map, bit for bit, everywhere.
 *
 * Positions are kept as metres east (x) and north (y) of the box's south-west
 * corner in an equirectangular projection at the box's centre latitude; over
 * 17 km the error against a great circle is far below a road's width, and
 * the projection makes "straight-line distance" an exact Euclidean metric,
 * which A*'s heuristic needs to stay consistent.
 *
 * Invariants: every open edge has time_s >= length_m / max_speed_mps and
 * length_m >= the straight-line distance between its ends, so the
 * straight-line distance divided by max_speed_mps never overestimates.
 * A closed edge has time_s = INFINITY. `routable` marks the largest strongly
 * connected component as found at generation time (it is not recomputed by
 * roadmap_close_edge); only routable intersections are snapped to.
 *
 * Ownership: roadmap_generate allocates every array, roadmap_release frees
 * them. After generation the map is read-only and may be shared by threads.
 * Memory is about 40 bytes per intersection (3.6 MB at 300×300).
 */
#ifndef SALVO_TARGET_ROADMAP_H
#define SALVO_TARGET_ROADMAP_H

#include <stdbool.h>
#include <stdint.h>

#define ROADMAP_DEFAULT_ROWS 300
#define ROADMAP_DEFAULT_COLS 300
#define ROADMAP_MAX_SIDE 2000
#define ROADMAP_NO_NODE UINT32_MAX

/* A latitude/longitude box in degrees. */
struct geo_bounds {
    double lat_min, lat_max, lng_min, lng_max;
};

/* One directed road segment, stored with the other out-edges of its start. */
struct road {
    uint32_t to;    /* the intersection it leads to */
    float time_s;   /* travel time in seconds (INFINITY when closed) */
    float length_m; /* length in metres along the road */
};

/* The network as a compressed adjacency list (CSR). */
struct roadmap {
    uint32_t rows, cols; /* intersection (r, c) is node r * cols + c; row 0 is the south */
    uint32_t node_count, road_count;
    struct geo_bounds bounds; /* the box the grid spans */
    double m_per_deg_lat, m_per_deg_lng;
    float *x_m, *y_m;     /* position of each node, metres east/north of the south-west corner */
    uint32_t *first_road; /* out-roads of node v: roads[first_road[v] .. first_road[v + 1]) */
    struct road *roads;
    uint8_t *routable; /* 1 if the node is in the main strongly connected component */
    uint32_t routable_count;
    double max_speed_mps; /* an upper bound on every road's speed, for the heuristic */
};

/* The bounding box every generated map spans (around central Berlin). */
void roadmap_default_bounds(struct geo_bounds *out);

/*
 * Builds a rows × cols map from seed. rows and cols are 2..ROADMAP_MAX_SIDE.
 * Returns 0 or -EINVAL; out of memory aborts. Takes ~50 ms at 300×300.
 */
int roadmap_generate(struct roadmap *map, uint32_t rows, uint32_t cols, uint64_t seed);
/* Frees the arrays; NULL and a zeroed map are fine. */
void roadmap_release(struct roadmap *map);

/* Projects a coordinate to metres east/north of the south-west corner. */
void roadmap_project(const struct roadmap *map, double lat, double lng, double *x_m, double *y_m);
/* The coordinate of a node. */
void roadmap_node_latlng(const struct roadmap *map, uint32_t node, double *lat, double *lng);
/* Straight-line distance in metres between two nodes. */
double roadmap_node_distance(const struct roadmap *map, uint32_t a, uint32_t b);

/*
 * Closes the road from -> to (for tests and what-if experiments).
 * Returns 0, or -ENOENT when there is no such road.
 */
int roadmap_close_road(struct roadmap *map, uint32_t from, uint32_t to);

#endif
