/*
 * route_query.h — the parameters of GET /api/route, checked.
 *
 * A 400 is only useful if it says which parameter is wrong and why, so the
 * parser reports the culprit's name and a reason as pointers to static
 * strings (no formatting, no allocation on the request path). Coordinates
 * are plain decimal degrees "LAT,LNG" — no exponents, no hex, no inf or nan,
 * unlike strtod, and independent of the locale. Values are percent-decoded
 * ("52.5%2C13.4" is fine) and '+' is a space, as in HTML forms; spaces
 * around the numbers are allowed. Unknown parameters are ignored; a
 * repeated from or to is refused, because which one was meant is a guess.
 *
 * When both parameters are wrong, "from" is the one reported.
 */
#ifndef SALVO_TARGET_ROUTE_QUERY_H
#define SALVO_TARGET_ROUTE_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "target/roadmap.h"

/* The two endpoints of a route request, in degrees. */
struct route_query {
    double from_lat, from_lng, to_lat, to_lng;
};

/* Why a query was refused. */
struct route_query_error {
    const char *parameter; /* "from" or "to" */
    const char *reason;    /* a lower-case phrase, static */
    bool outside;          /* the coordinate is valid but outside the accepted box */
};

/*
 * Parses query[0..len) (the part after '?', without the '?') and checks both
 * coordinates against the box `accept`. Returns 0, or -EINVAL with *err set.
 */
int route_query_parse(struct route_query *q, const char *query, size_t len, const struct geo_bounds *accept,
                      struct route_query_error *err);

#endif
