/*
 * snap.c — the uniform grid behind snapping; see snap.h for the why.
 *
 * Invariant: every routable node is listed in exactly one cell, the one its
 * position falls in (clamped to the grid). The search visits cells in rings
 * of growing Chebyshev distance k around the query's cell and stops after
 * ring k once the best distance is at most k cell widths: every cell of a
 * later ring is at least that far away. A point outside the grid searches
 * from the cell of its projection onto the grid, which keeps that bound true
 * because projecting onto a convex set never lengthens distances to it.
 */
#include "target/snap.h"

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

/* The grid coordinate of x along an axis of `cells` cells, clamped. */
static uint32_t cell_of(double x, double cell_m, uint32_t cells)
{
    double i = floor(x / cell_m);
    if (!(i >= 0)) return 0; /* also NaN */
    if (i >= cells) return cells - 1;
    return (uint32_t)i;
}

/* The cell a node belongs to. */
static uint32_t node_cell(const struct snap_index *idx, uint32_t v)
{
    uint32_t cx = cell_of(idx->map->x_m[v], idx->cell_m, idx->cells_x);
    uint32_t cy = cell_of(idx->map->y_m[v], idx->cell_m, idx->cells_y);
    return cy * idx->cells_x + cx;
}

int snap_index_init(struct snap_index *idx, const struct roadmap *map)
{
    memset(idx, 0, sizeof(*idx));
    if (map->routable_count == 0) return -ENOENT;
    double width = (map->bounds.lng_max - map->bounds.lng_min) * map->m_per_deg_lng;
    double height = (map->bounds.lat_max - map->bounds.lat_min) * map->m_per_deg_lat;
    idx->map = map;
    idx->cell_m = fmin(width / map->cols, height / map->rows);
    idx->cells_x = (uint32_t)ceil(width / idx->cell_m);
    idx->cells_y = (uint32_t)ceil(height / idx->cell_m);
    uint32_t ncells = idx->cells_x * idx->cells_y;
    idx->first = xcalloc(ncells + 1, sizeof(*idx->first));
    idx->nodes = xcalloc(map->routable_count, sizeof(*idx->nodes));
    for (uint32_t v = 0; v < map->node_count; v++)
        if (map->routable[v]) idx->first[node_cell(idx, v) + 1]++;
    for (uint32_t i = 0; i < ncells; i++)
        idx->first[i + 1] += idx->first[i];
    uint32_t *fill = xcalloc(ncells, sizeof(*fill));
    memcpy(fill, idx->first, ncells * sizeof(*fill));
    for (uint32_t v = 0; v < map->node_count; v++)
        if (map->routable[v]) idx->nodes[fill[node_cell(idx, v)]++] = v;
    free(fill);
    return 0;
}

void snap_index_release(struct snap_index *idx)
{
    if (!idx) return;
    free(idx->first);
    free(idx->nodes);
    memset(idx, 0, sizeof(*idx));
}

/* The best candidate so far. */
struct nearest {
    double x, y, best_d2;
    uint32_t best;
};

/* Considers every node of cell (cx, cy) if the cell exists. */
static void visit_cell(const struct snap_index *idx, int64_t cx, int64_t cy, struct nearest *n)
{
    if (cx < 0 || cy < 0 || cx >= idx->cells_x || cy >= idx->cells_y) return;
    uint32_t cell = (uint32_t)cy * idx->cells_x + (uint32_t)cx;
    for (uint32_t i = idx->first[cell]; i < idx->first[cell + 1]; i++) {
        uint32_t v = idx->nodes[i];
        double dx = idx->map->x_m[v] - n->x, dy = idx->map->y_m[v] - n->y;
        double d2 = dx * dx + dy * dy;
        if (d2 < n->best_d2 || (d2 == n->best_d2 && v < n->best)) {
            n->best_d2 = d2;
            n->best = v;
        }
    }
}

uint32_t snap_index_nearest(const struct snap_index *idx, double lat, double lng, double *dist_m)
{
    struct nearest n = {.best_d2 = INFINITY, .best = ROADMAP_NO_NODE};
    if (!idx->nodes || isnan(lat) || isnan(lng)) return ROADMAP_NO_NODE;
    roadmap_project(idx->map, lat, lng, &n.x, &n.y);
    int64_t cx = cell_of(n.x, idx->cell_m, idx->cells_x), cy = cell_of(n.y, idx->cell_m, idx->cells_y);
    int64_t max_k = idx->cells_x > idx->cells_y ? idx->cells_x : idx->cells_y;
    for (int64_t k = 0; k <= max_k; k++) {
        if (k == 0) visit_cell(idx, cx, cy, &n);
        for (int64_t x = cx - k; k > 0 && x <= cx + k; x++) {
            visit_cell(idx, x, cy - k, &n);
            visit_cell(idx, x, cy + k, &n);
        }
        for (int64_t y = cy - k + 1; k > 0 && y <= cy + k - 1; y++) {
            visit_cell(idx, cx - k, y, &n);
            visit_cell(idx, cx + k, y, &n);
        }
        double reach_m = (double)k * idx->cell_m;
        if (n.best != ROADMAP_NO_NODE && n.best_d2 <= reach_m * reach_m) break;
    }
    if (dist_m) *dist_m = sqrt(n.best_d2);
    return n.best;
}
