/*
 * roadmap.c — generation of the demo city; see roadmap.h for the why.
 *
 * Generation runs in three passes: place the intersections, plan every
 * street segment between grid neighbours (class, direction, closure, river,
 * park), then pack the open directions into the CSR arrays. A last pass
 * finds the largest strongly connected component by a forward and a
 * backward breadth-first search from a few seeds, so that snapping never
 * lands on an intersection that a one-way trap or a closure cut off.
 *
 * The random stream is consumed in a fixed order (nodes row by row, then
 * streets, then segments), which is what makes a seed reproducible; change
 * the order and every published seed changes its map.
 */
#include "target/roadmap.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "target/rng.h"

#define M_PER_DEG_LAT 111320.0
#define JITTER 0.25 /* of the grid spacing, each axis */
#define ARTERIAL_EVERY 10
#define RING_EVERY 50
#define SIDE_KMH 30.0
#define ARTERIAL_KMH 50.0
#define RING_KMH 70.0
#define ONEWAY_SHARE 0.3 /* of side streets */
#define SIDE_CLOSED 0.03 /* share of side-street segments closed */
#define ARTERIAL_CLOSED 0.003
#define SEED_TRIES 16

/* Road classes, slowest first. */
enum street { STREET_SIDE, STREET_ARTERIAL, STREET_RING };

/* The plan of one undirected segment: which directions are open, and its cost. */
struct segment {
    uint8_t dirs; /* bit 0: forward (east or north) open; bit 1: backward open */
    float time_s, length_m;
};

/* Everything generation needs besides the map; lives on the stack. */
struct gen {
    struct roadmap *map;
    struct rng rng;
    uint8_t *row_oneway, *col_oneway;            /* 0 two-way, else the one open direction bit */
    uint32_t park_r0, park_r1, park_c0, park_c1; /* park interior, half-open */
    double river_base, river_amp, river_phase;
    struct segment *east, *north; /* east[r * (cols-1) + c], north[r * cols + c] */
};

void roadmap_default_bounds(struct geo_bounds *out)
{
    *out = (struct geo_bounds){.lat_min = 52.45, .lat_max = 52.60, .lng_min = 13.25, .lng_max = 13.50};
}

/* calloc that aborts: out of memory is not an error we handle. */
static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) abort();
    return p;
}

void roadmap_project(const struct roadmap *map, double lat, double lng, double *x_m, double *y_m)
{
    *x_m = (lng - map->bounds.lng_min) * map->m_per_deg_lng;
    *y_m = (lat - map->bounds.lat_min) * map->m_per_deg_lat;
}

void roadmap_node_latlng(const struct roadmap *map, uint32_t node, double *lat, double *lng)
{
    *lat = map->bounds.lat_min + map->y_m[node] / map->m_per_deg_lat;
    *lng = map->bounds.lng_min + map->x_m[node] / map->m_per_deg_lng;
}

double roadmap_node_distance(const struct roadmap *map, uint32_t a, uint32_t b)
{
    double dx = (double)map->x_m[a] - map->x_m[b], dy = (double)map->y_m[a] - map->y_m[b];
    return sqrt(dx * dx + dy * dy);
}

/* Pass 1: a jittered grid, row 0 in the south, column 0 in the west. */
static void place_nodes(struct gen *g)
{
    struct roadmap *map = g->map;
    double dlat = (map->bounds.lat_max - map->bounds.lat_min) / map->rows;
    double dlng = (map->bounds.lng_max - map->bounds.lng_min) / map->cols;
    for (uint32_t r = 0; r < map->rows; r++) {
        for (uint32_t c = 0; c < map->cols; c++) {
            double lat = map->bounds.lat_min + dlat * (r + 0.5 + rng_range(&g->rng, -JITTER, JITTER));
            double lng = map->bounds.lng_min + dlng * (c + 0.5 + rng_range(&g->rng, -JITTER, JITTER));
            double x, y;
            roadmap_project(map, lat, lng, &x, &y);
            map->x_m[r * map->cols + c] = (float)x;
            map->y_m[r * map->cols + c] = (float)y;
        }
    }
}

/* The class of the street along row or column index i. */
static enum street street_class(uint32_t i)
{
    if (i % RING_EVERY == RING_EVERY / 2) return STREET_RING;
    if (i % ARTERIAL_EVERY == ARTERIAL_EVERY / 2) return STREET_ARTERIAL;
    return STREET_SIDE;
}

/* Chooses one-way streets, the river's course and the park. */
static void plan_city(struct gen *g)
{
    struct roadmap *map = g->map;
    for (uint32_t r = 0; r < map->rows; r++)
        if (street_class(r) == STREET_SIDE && rng_unit(&g->rng) < ONEWAY_SHARE)
            g->row_oneway[r] = (rng_next(&g->rng) & 1) ? 1 : 2;
    for (uint32_t c = 0; c < map->cols; c++)
        if (street_class(c) == STREET_SIDE && rng_unit(&g->rng) < ONEWAY_SHARE)
            g->col_oneway[c] = (rng_next(&g->rng) & 1) ? 1 : 2;
    g->river_base = map->rows * 0.55;
    g->river_amp = map->rows * 0.06;
    g->river_phase = rng_range(&g->rng, 0, 2 * M_PI);
    uint32_t ph = map->rows / 10, pw = map->cols / 8;
    g->park_r0 = (uint32_t)(map->rows * 0.68);
    g->park_c0 = (uint32_t)(map->cols * 0.30);
    g->park_r1 = g->park_r0 + ph;
    g->park_c1 = g->park_c0 + pw;
}

/* True if intersection (r, c) lies north of the river. */
static bool north_of_river(const struct gen *g, uint32_t r, uint32_t c)
{
    double course = g->river_base + g->river_amp * sin(2 * M_PI * 1.3 * c / g->map->cols + g->river_phase);
    return r > (uint32_t)course;
}

/* True if intersection (r, c) is strictly inside the park. */
static bool in_park(const struct gen *g, uint32_t r, uint32_t c)
{
    return r >= g->park_r0 && r < g->park_r1 && c >= g->park_c0 && c < g->park_c1;
}

/* Plans the segment (r1, c1) -> (r2, c2), the forward direction, on a street of class cls. */
static struct segment plan_segment(struct gen *g, uint32_t r1, uint32_t c1, uint32_t r2, uint32_t c2, enum street cls,
                                   uint8_t oneway)
{
    static const double kmh[] = {SIDE_KMH, ARTERIAL_KMH, RING_KMH};
    static const double closed_share[] = {SIDE_CLOSED, ARTERIAL_CLOSED, 0};
    struct roadmap *map = g->map;
    /* Draw every number first so the stream does not depend on the outcome. */
    double closure = rng_unit(&g->rng), slow = rng_range(&g->rng, 0.7, 1.0), bend = rng_range(&g->rng, 1.0, 1.1);
    struct segment s = {.dirs = oneway ? oneway : 3};
    bool bridge_needed = north_of_river(g, r1, c1) != north_of_river(g, r2, c2);
    bool park = in_park(g, r1, c1) || in_park(g, r2, c2);
    if (closure < closed_share[cls] || (cls == STREET_SIDE && (bridge_needed || park))) s.dirs = 0;
    s.length_m = (float)(roadmap_node_distance(map, r1 * map->cols + c1, r2 * map->cols + c2) * bend);
    s.time_s = (float)(s.length_m / (kmh[cls] / 3.6 * slow));
    return s;
}

/* Pass 2: plans every segment between grid neighbours. */
static void plan_segments(struct gen *g)
{
    struct roadmap *map = g->map;
    for (uint32_t r = 0; r < map->rows; r++)
        for (uint32_t c = 0; c + 1 < map->cols; c++)
            g->east[r * (map->cols - 1) + c] = plan_segment(g, r, c, r, c + 1, street_class(r), g->row_oneway[r]);
    for (uint32_t r = 0; r + 1 < map->rows; r++)
        for (uint32_t c = 0; c < map->cols; c++)
            g->north[r * map->cols + c] = plan_segment(g, r, c, r + 1, c, street_class(c), g->col_oneway[c]);
}

/* Appends the road v -> to from segment s if the direction bit is open; counts only when roads is NULL. */
static void emit(struct roadmap *map, uint32_t *fill, uint32_t v, uint32_t to, const struct segment *s, uint8_t bit)
{
    if (!(s->dirs & bit)) return;
    if (map->roads) map->roads[fill[v]] = (struct road){.to = to, .time_s = s->time_s, .length_m = s->length_m};
    fill[v]++;
}

/* Emits the out-roads of every node in a fixed order: east, west, north, south. */
static void emit_all(struct gen *g, uint32_t *fill)
{
    struct roadmap *map = g->map;
    uint32_t cols = map->cols;
    for (uint32_t r = 0; r < map->rows; r++) {
        for (uint32_t c = 0; c < cols; c++) {
            uint32_t v = r * cols + c;
            if (c + 1 < cols) emit(map, fill, v, v + 1, &g->east[r * (cols - 1) + c], 1);
            if (c > 0) emit(map, fill, v, v - 1, &g->east[r * (cols - 1) + c - 1], 2);
            if (r + 1 < map->rows) emit(map, fill, v, v + cols, &g->north[r * cols + c], 1);
            if (r > 0) emit(map, fill, v, v - cols, &g->north[(r - 1) * cols + c], 2);
        }
    }
}

/* Pass 3: packs the open directions into the CSR arrays. */
static void build_csr(struct gen *g)
{
    struct roadmap *map = g->map;
    uint32_t n = map->node_count;
    uint32_t *fill = xcalloc(n, sizeof(*fill));
    emit_all(g, fill); /* counts out-degrees */
    map->first_road = xcalloc(n + 1, sizeof(*map->first_road));
    for (uint32_t v = 0; v < n; v++)
        map->first_road[v + 1] = map->first_road[v] + fill[v];
    map->road_count = map->first_road[n];
    map->roads = xcalloc(map->road_count, sizeof(*map->roads));
    memcpy(fill, map->first_road, n * sizeof(*fill));
    emit_all(g, fill);
    free(fill);
}

/* Marks in seen[] (with mark) every node reachable from start over open roads of (first, roads). */
static void reach(const uint32_t *first, const struct road *roads, uint32_t start, uint8_t *seen, uint8_t mark,
                  uint32_t *queue)
{
    uint32_t head = 0, tail = 0;
    seen[start] |= mark;
    queue[tail++] = start;
    while (head < tail) {
        uint32_t v = queue[head++];
        for (uint32_t e = first[v]; e < first[v + 1]; e++) {
            uint32_t w = roads[e].to;
            if (isinf(roads[e].time_s) || (seen[w] & mark)) continue;
            seen[w] |= mark;
            queue[tail++] = w;
        }
    }
}

/* The roads reversed, in CSR form, for the backward search. */
static void reverse_csr(const struct roadmap *map, uint32_t **first_out, struct road **roads_out)
{
    uint32_t n = map->node_count;
    uint32_t *first = xcalloc(n + 1, sizeof(*first)), *fill = xcalloc(n, sizeof(*fill));
    struct road *roads = xcalloc(map->road_count, sizeof(*roads));
    for (uint32_t e = 0; e < map->road_count; e++)
        first[map->roads[e].to + 1]++;
    for (uint32_t v = 0; v < n; v++)
        first[v + 1] += first[v];
    memcpy(fill, first, n * sizeof(*fill));
    for (uint32_t v = 0; v < n; v++)
        for (uint32_t e = map->first_road[v]; e < map->first_road[v + 1]; e++)
            roads[fill[map->roads[e].to]++] = (struct road){.to = v, .time_s = map->roads[e].time_s};
    free(fill);
    *first_out = first;
    *roads_out = roads;
}

/* Finds the largest strongly connected component among a few seeds' components. */
static void mark_routable(struct gen *g)
{
    struct roadmap *map = g->map;
    uint32_t n = map->node_count, *rfirst, *queue = xcalloc(n, sizeof(*queue));
    struct road *rroads;
    uint8_t *seen = xcalloc(n, 1);
    reverse_csr(map, &rfirst, &rroads);
    for (int attempt = 0; attempt < SEED_TRIES && map->routable_count <= n / 2; attempt++) {
        uint32_t start = attempt == 0 ? (map->rows / 2) * map->cols + map->cols / 2 : (uint32_t)(rng_next(&g->rng) % n);
        memset(seen, 0, n);
        reach(map->first_road, map->roads, start, seen, 1, queue);
        reach(rfirst, rroads, start, seen, 2, queue);
        uint32_t count = 0;
        for (uint32_t v = 0; v < n; v++)
            count += seen[v] == 3;
        if (count <= map->routable_count) continue;
        map->routable_count = count;
        for (uint32_t v = 0; v < n; v++)
            map->routable[v] = seen[v] == 3;
    }
    free(seen);
    free(queue);
    free(rfirst);
    free(rroads);
}

int roadmap_generate(struct roadmap *map, uint32_t rows, uint32_t cols, uint64_t seed)
{
    memset(map, 0, sizeof(*map));
    if (rows < 2 || cols < 2 || rows > ROADMAP_MAX_SIDE || cols > ROADMAP_MAX_SIDE) return -EINVAL;
    map->rows = rows;
    map->cols = cols;
    map->node_count = rows * cols;
    roadmap_default_bounds(&map->bounds);
    double lat_mid = (map->bounds.lat_min + map->bounds.lat_max) / 2;
    map->m_per_deg_lat = M_PER_DEG_LAT;
    map->m_per_deg_lng = M_PER_DEG_LAT * cos(lat_mid * M_PI / 180);
    /* A hair above the fastest road, so float rounding can never make the heuristic overestimate. */
    map->max_speed_mps = RING_KMH / 3.6 * 1.001;
    map->x_m = xcalloc(map->node_count, sizeof(*map->x_m));
    map->y_m = xcalloc(map->node_count, sizeof(*map->y_m));
    map->routable = xcalloc(map->node_count, 1);

    struct gen g = {.map = map};
    rng_init(&g.rng, seed);
    g.row_oneway = xcalloc(rows, 1);
    g.col_oneway = xcalloc(cols, 1);
    g.east = xcalloc((size_t)rows * (cols - 1), sizeof(*g.east));
    g.north = xcalloc((size_t)(rows - 1) * cols, sizeof(*g.north));
    place_nodes(&g);
    plan_city(&g);
    plan_segments(&g);
    build_csr(&g);
    mark_routable(&g);
    free(g.row_oneway);
    free(g.col_oneway);
    free(g.east);
    free(g.north);
    return 0;
}

void roadmap_release(struct roadmap *map)
{
    if (!map) return;
    free(map->x_m);
    free(map->y_m);
    free(map->first_road);
    free(map->roads);
    free(map->routable);
    memset(map, 0, sizeof(*map));
}

int roadmap_close_road(struct roadmap *map, uint32_t from, uint32_t to)
{
    if (from >= map->node_count) return -ENOENT;
    for (uint32_t e = map->first_road[from]; e < map->first_road[from + 1]; e++) {
        if (map->roads[e].to != to) continue;
        map->roads[e].time_s = INFINITY;
        return 0;
    }
    return -ENOENT;
}
