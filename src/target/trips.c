/*
 * trips.c — uniform random trips; see trips.h for the why.
 *
 * The seed is mixed with a constant so that the trips of seed S are not
 * drawn from the same stream as the map of seed S.
 */
#include "target/trips.h"

#define TRIPS_STREAM 0x7472697073ull /* "trips" */

void trip_gen_init(struct trip_gen *g, const struct geo_bounds *box, uint64_t seed)
{
    g->box = *box;
    rng_init(&g->rng, seed ^ TRIPS_STREAM);
}

void trip_gen_next(struct trip_gen *g, struct trip *out)
{
    out->from_lat = rng_range(&g->rng, g->box.lat_min, g->box.lat_max);
    out->from_lng = rng_range(&g->rng, g->box.lng_min, g->box.lng_max);
    out->to_lat = rng_range(&g->rng, g->box.lat_min, g->box.lat_max);
    out->to_lng = rng_range(&g->rng, g->box.lng_min, g->box.lng_max);
}
