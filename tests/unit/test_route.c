/*
 * test_route.c — the demo city (src/target/roadmap.c), A* (astar.c) and
 * snapping (snap.c) against naive reference models.
 *
 * A* is checked against a plain O(n²) Dijkstra that shares nothing with it
 * but the map: every pair from a sample of sources on 30×30 maps of several
 * seeds must get the same duration, and exactly the pairs Dijkstra cannot
 * connect must be "no route". Snapping is checked against a scan of every
 * routable node, for points inside, around and far outside the map. The map
 * itself is checked for determinism and for the invariants the heuristic's
 * admissibility rests on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "target/astar.h"
#include "target/rng.h"
#include "target/roadmap.h"
#include "target/snap.h"

/* ---- Reference model --------------------------------------------------- */

/* Plain Dijkstra from src over open roads: dist[v] in seconds, INFINITY if unreachable. */
static void dijkstra(const struct roadmap *map, uint32_t src, double *dist)
{
    uint32_t n = map->node_count;
    bool *done = calloc(n, sizeof(*done));
    assert_non_null(done);
    for (uint32_t v = 0; v < n; v++)
        dist[v] = INFINITY;
    dist[src] = 0;
    for (;;) {
        uint32_t best = UINT32_MAX;
        for (uint32_t v = 0; v < n; v++)
            if (!done[v] && dist[v] < INFINITY && (best == UINT32_MAX || dist[v] < dist[best])) best = v;
        if (best == UINT32_MAX) break;
        done[best] = true;
        for (uint32_t e = map->first_road[best]; e < map->first_road[best + 1]; e++) {
            double d = dist[best] + map->roads[e].time_s;
            if (d < dist[map->roads[e].to]) dist[map->roads[e].to] = d;
        }
    }
    free(done);
}

/* Checks A* from src to every node against Dijkstra's distances; returns pairs without a route. */
static uint32_t check_source(const struct roadmap *map, struct astar *a, uint32_t src, const double *dist)
{
    uint32_t unreachable = 0;
    for (uint32_t dst = 0; dst < map->node_count; dst++) {
        struct route_result r;
        int rc = astar_route(a, src, dst, &r);
        if (dist[dst] == INFINITY) {
            assert_int_equal(rc, -ENOENT);
            unreachable++;
            continue;
        }
        assert_int_equal(rc, 0);
        assert_true(fabs(r.duration_s - dist[dst]) <= 1e-9 * (1 + dist[dst]));
        assert_true(r.distance_m + 1e-6 >= roadmap_node_distance(map, src, dst));
        assert_true(r.nodes >= 1);
        assert_true(r.settled >= 1);
        if (src == dst) assert_int_equal(r.nodes, 1);
    }
    return unreachable;
}

/* ---- A* ---------------------------------------------------------------- */

static void test_astar_matches_dijkstra(void **state)
{
    (void)state;
    uint32_t unreachable = 0;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        struct roadmap map;
        struct astar a;
        assert_int_equal(roadmap_generate(&map, 30, 30, seed), 0);
        assert_int_equal(astar_init(&a, &map), 0);
        double *dist = malloc(map.node_count * sizeof(*dist));
        assert_non_null(dist);
        struct rng rng;
        rng_init(&rng, seed);
        for (int i = 0; i < 15; i++) {
            uint32_t src = (uint32_t)(rng_next(&rng) % map.node_count);
            dijkstra(&map, src, dist);
            unreachable += check_source(&map, &a, src, dist);
        }
        free(dist);
        astar_release(&a);
        roadmap_release(&map);
    }
    /* The park and closures leave some nodes cut off, so "no route" was exercised. */
    assert_true(unreachable > 0);
}

static void test_astar_other_shapes(void **state)
{
    (void)state;
    static const uint32_t shapes[][2] = {{2, 2}, {2, 17}, {17, 2}, {60, 45}};
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        struct roadmap map;
        struct astar a;
        assert_int_equal(roadmap_generate(&map, shapes[i][0], shapes[i][1], 42 + i), 0);
        assert_int_equal(astar_init(&a, &map), 0);
        double *dist = malloc(map.node_count * sizeof(*dist));
        assert_non_null(dist);
        for (uint32_t src = 0; src < map.node_count; src += map.node_count / 3 + 1) {
            dijkstra(&map, src, dist);
            check_source(&map, &a, src, dist);
        }
        free(dist);
        astar_release(&a);
        roadmap_release(&map);
    }
}

static void test_astar_closed_roads(void **state)
{
    (void)state;
    struct roadmap map;
    struct astar a;
    struct route_result r;
    assert_int_equal(roadmap_generate(&map, 30, 30, 7), 0);
    assert_int_equal(astar_init(&a, &map), 0);
    uint32_t goal = 15 * 30 + 15, start = 2 * 30 + 3;
    assert_int_equal(astar_route(&a, start, goal, &r), 0);
    /* Close every road into goal: it stays a node, but nothing reaches it any more. */
    for (uint32_t v = 0; v < map.node_count; v++)
        for (uint32_t e = map.first_road[v]; e < map.first_road[v + 1]; e++)
            if (map.roads[e].to == goal) assert_int_equal(roadmap_close_road(&map, v, goal), 0);
    assert_int_equal(astar_route(&a, start, goal, &r), -ENOENT);
    assert_int_equal(astar_route(&a, goal, goal, &r), 0);
    assert_int_equal(r.nodes, 1);
    assert_true(r.duration_s == 0);
    double *dist = malloc(map.node_count * sizeof(*dist));
    assert_non_null(dist);
    dijkstra(&map, start, dist);
    check_source(&map, &a, start, dist);
    free(dist);
    assert_int_equal(roadmap_close_road(&map, 0, 899), -ENOENT);
    assert_int_equal(astar_route(&a, 0, map.node_count, &r), -EINVAL);
    astar_release(&a);
    roadmap_release(&map);
}

/* ---- The map ----------------------------------------------------------- */

static void test_map_deterministic(void **state)
{
    (void)state;
    struct roadmap m1, m2, m3;
    assert_int_equal(roadmap_generate(&m1, 40, 50, 9), 0);
    assert_int_equal(roadmap_generate(&m2, 40, 50, 9), 0);
    assert_int_equal(roadmap_generate(&m3, 40, 50, 10), 0);
    assert_int_equal(m1.road_count, m2.road_count);
    assert_memory_equal(m1.x_m, m2.x_m, m1.node_count * sizeof(float));
    assert_memory_equal(m1.first_road, m2.first_road, (m1.node_count + 1) * sizeof(uint32_t));
    assert_memory_equal(m1.roads, m2.roads, m1.road_count * sizeof(struct road));
    assert_memory_equal(m1.routable, m2.routable, m1.node_count);
    assert_memory_not_equal(m1.x_m, m3.x_m, m1.node_count * sizeof(float));
    roadmap_release(&m1);
    roadmap_release(&m2);
    roadmap_release(&m3);
}

static void test_map_invariants(void **state)
{
    (void)state;
    struct roadmap map;
    assert_int_equal(roadmap_generate(&map, ROADMAP_DEFAULT_ROWS, ROADMAP_DEFAULT_COLS, 1), 0);
    double width = (map.bounds.lng_max - map.bounds.lng_min) * map.m_per_deg_lng;
    double height = (map.bounds.lat_max - map.bounds.lat_min) * map.m_per_deg_lat;
    uint32_t oneway = 0;
    for (uint32_t v = 0; v < map.node_count; v++) {
        assert_true(map.x_m[v] >= 0 && map.x_m[v] <= width);
        assert_true(map.y_m[v] >= 0 && map.y_m[v] <= height);
        for (uint32_t e = map.first_road[v]; e < map.first_road[v + 1]; e++) {
            const struct road *r = &map.roads[e];
            double straight = roadmap_node_distance(&map, v, r->to);
            assert_true(r->length_m >= straight * (1 - 1e-6));
            assert_true(r->time_s * map.max_speed_mps >= straight);
            bool back = false;
            for (uint32_t f = map.first_road[r->to]; f < map.first_road[r->to + 1]; f++)
                back |= map.roads[f].to == v;
            oneway += !back;
        }
    }
    /* Mostly connected, but the park and the river leave some nodes unroutable; some streets are one-way. */
    assert_true(map.routable_count > map.node_count * 95 / 100);
    assert_true(map.routable_count < map.node_count);
    assert_true(oneway > map.road_count / 20);
    assert_true(map.road_count > map.node_count * 3);
    roadmap_release(&map);
}

static void test_map_rejects_bad_sizes(void **state)
{
    (void)state;
    struct roadmap map;
    assert_int_equal(roadmap_generate(&map, 1, 30, 1), -EINVAL);
    assert_int_equal(roadmap_generate(&map, 30, 0, 1), -EINVAL);
    assert_int_equal(roadmap_generate(&map, ROADMAP_MAX_SIDE + 1, 2, 1), -EINVAL);
    roadmap_release(&map);
    roadmap_release(NULL);
}

/* ---- Snapping ---------------------------------------------------------- */

/* The routable node nearest (lat, lng) by scanning them all; its distance in *dist_m. */
static uint32_t brute_nearest(const struct roadmap *map, double lat, double lng, double *dist_m)
{
    double x, y, best = INFINITY;
    uint32_t best_node = ROADMAP_NO_NODE;
    roadmap_project(map, lat, lng, &x, &y);
    for (uint32_t v = 0; v < map->node_count; v++) {
        if (!map->routable[v]) continue;
        double dx = map->x_m[v] - x, dy = map->y_m[v] - y, d = dx * dx + dy * dy;
        if (d < best) best = d, best_node = v;
    }
    *dist_m = sqrt(best);
    return best_node;
}

static void check_snapping(uint32_t rows, uint32_t cols, uint64_t seed, int points)
{
    struct roadmap map;
    struct snap_index idx;
    struct rng rng;
    assert_int_equal(roadmap_generate(&map, rows, cols, seed), 0);
    assert_int_equal(snap_index_init(&idx, &map), 0);
    rng_init(&rng, seed);
    const struct geo_bounds *b = &map.bounds;
    for (int i = 0; i < points; i++) {
        /* A box three times the map's size: inside, near, and well outside it. */
        double h = b->lat_max - b->lat_min, w = b->lng_max - b->lng_min;
        double lat = rng_range(&rng, b->lat_min - h, b->lat_max + h),
               lng = rng_range(&rng, b->lng_min - w, b->lng_max + w);
        if (i % 4 == 0) lat = b->lat_min + h * (rng_next(&rng) % 3) / 2; /* exactly on an edge or the middle */
        double want_m, got_m;
        uint32_t want = brute_nearest(&map, lat, lng, &want_m);
        uint32_t got = snap_index_nearest(&idx, lat, lng, &got_m);
        assert_int_not_equal(got, ROADMAP_NO_NODE);
        assert_true(map.routable[got]);
        assert_true(fabs(got_m - want_m) <= 1e-9 * (1 + want_m));
        if (got != want) assert_true(fabs(roadmap_node_distance(&map, got, want)) > 0); /* only a tie differs */
        double node_lat, node_lng, x, y;
        roadmap_node_latlng(&map, got, &node_lat, &node_lng);
        roadmap_project(&map, node_lat, node_lng, &x, &y);
        assert_true(fabs(x - map.x_m[got]) < 0.01 && fabs(y - map.y_m[got]) < 0.01);
    }
    snap_index_release(&idx);
    roadmap_release(&map);
}

static void test_snap_matches_scan(void **state)
{
    (void)state;
    check_snapping(30, 30, 3, 3000);
    check_snapping(7, 41, 4, 2000);
    check_snapping(ROADMAP_DEFAULT_ROWS, ROADMAP_DEFAULT_COLS, 1, 300);
}

static void test_snap_far_away_and_nan(void **state)
{
    (void)state;
    struct roadmap map;
    struct snap_index idx;
    double d;
    assert_int_equal(roadmap_generate(&map, 20, 20, 5), 0);
    assert_int_equal(snap_index_init(&idx, &map), 0);
    assert_int_not_equal(snap_index_nearest(&idx, 90, 180, &d), ROADMAP_NO_NODE);
    assert_int_not_equal(snap_index_nearest(&idx, -90, -180, &d), ROADMAP_NO_NODE);
    assert_int_equal(snap_index_nearest(&idx, NAN, 13.3, NULL), ROADMAP_NO_NODE);
    assert_int_equal(snap_index_nearest(&idx, 52.5, NAN, NULL), ROADMAP_NO_NODE);
    snap_index_release(&idx);
    snap_index_release(NULL);
    roadmap_release(&map);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_astar_matches_dijkstra), cmocka_unit_test(test_astar_other_shapes),
        cmocka_unit_test(test_astar_closed_roads),     cmocka_unit_test(test_map_deterministic),
        cmocka_unit_test(test_map_invariants),         cmocka_unit_test(test_map_rejects_bad_sizes),
        cmocka_unit_test(test_snap_matches_scan),      cmocka_unit_test(test_snap_far_away_and_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
