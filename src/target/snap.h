/*
 * snap.h — nearest routable intersection to a coordinate, in O(1).
 *
 * Every route request snaps two points, so snapping must cost far less than
 * a cache hit: a uniform grid of cells about one street spacing wide, each
 * listing the routable intersections inside it. A query looks at its own
 * cell and then at rings of cells around it until no unseen cell can hold
 * anything closer; on a jittered street grid that is one or two rings.
 * Intersections outside the main strongly connected component are left out,
 * so a snapped point always has routes to every other snapped point (unless
 * roads are closed after the index was built).
 *
 * Ownership: snap_index_init allocates, snap_index_release frees; the index
 * borrows the map, which must outlive it. Read-only after init, so threads
 * may share it.
 */
#ifndef SALVO_TARGET_SNAP_H
#define SALVO_TARGET_SNAP_H

#include <stdint.h>

#include "target/roadmap.h"

/* A grid of cells over the map's box, in CSR form. */
struct snap_index {
    const struct roadmap *map;
    uint32_t cells_x, cells_y;
    double cell_m;   /* side of a square cell in metres */
    uint32_t *first; /* nodes of cell i: nodes[first[i] .. first[i + 1]) */
    uint32_t *nodes;
};

/* Builds the index over the routable nodes of map. Returns 0 or -ENOENT (nothing routable). */
int snap_index_init(struct snap_index *idx, const struct roadmap *map);
/* Frees the index; NULL is fine. */
void snap_index_release(struct snap_index *idx);

/*
 * The routable node nearest to (lat, lng), any point on Earth accepted
 * (far-away points just search longer), with its distance in metres when
 * dist_m is not NULL. ROADMAP_NO_NODE if the index is empty or a
 * coordinate is NaN.
 */
uint32_t snap_index_nearest(const struct snap_index *idx, double lat, double lng, double *dist_m);

#endif
