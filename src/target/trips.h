/*
 * trips.h — random trips over the map, for data-driven load tests.
 *
 * An honest load test of a cached service must send many different
 * requests, so `salvo target --gen-trips N` writes N random trips that
 * `salvo run --data` can feed into the URL. Both ends are uniform over the
 * map's bounding box; they snap to the nearest routable intersection on
 * the server, so a point in the river or the park is fine. The stream is a
 * pure function of the seed, like the map.
 */
#ifndef SALVO_TARGET_TRIPS_H
#define SALVO_TARGET_TRIPS_H

#include "target/rng.h"
#include "target/roadmap.h"

/* One trip, in degrees. */
struct trip {
    double from_lat, from_lng, to_lat, to_lng;
};

/* A stream of random trips inside a box. */
struct trip_gen {
    struct geo_bounds box;
    struct rng rng;
};

/* Starts the stream for box and seed. */
void trip_gen_init(struct trip_gen *g, const struct geo_bounds *box, uint64_t seed);
/* The next trip. */
void trip_gen_next(struct trip_gen *g, struct trip *out);

#endif
