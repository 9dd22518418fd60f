/*
 * units.h — parsing of the durations and rates written on the command line.
 *
 * Durations are parsed exactly into integer nanoseconds (no detour through
 * a double, so "1.1s" is 1100000000 ns, not 1099999999). Rates are parsed
 * with strtod, which rounds correctly; salvo never calls setlocale, so the
 * decimal point is always '.'. The parsers never allocate and never print.
 */
#ifndef SALVO_UNITS_H
#define SALVO_UNITS_H

#include <stdint.h>

/*
 * Parses a duration into nanoseconds: a decimal number followed by a unit
 * (ns, us or µs, ms, s, m, h), optionally several in a row like Go and k6
 * ("1m30s", "1h2.5m"), or a bare number meaning seconds ("10", "0.25").
 * Fractions finer than a nanosecond are rounded to the nearest one. Signs,
 * exponents, spaces, unknown units and values above UINT64_MAX ns (about
 * 584 years) are rejected. Returns 0 or -EINVAL; *out is written only on
 * success.
 */
int parse_duration_ns(const char *s, uint64_t *out);

/*
 * Parses a request rate in requests per second: a positive finite decimal
 * number ("1000", "2.5", "1e4"), optionally followed by "/s". Returns 0 or
 * -EINVAL; *out is written only on success.
 */
int parse_rate(const char *s, double *out);

/* Like parse_rate but accepts 0 too (the target of a ramp-down stage). */
int parse_rate_or_zero(const char *s, double *out);

#endif
