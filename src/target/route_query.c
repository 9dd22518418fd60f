/*
 * route_query.c — query-string decoding and coordinate checks for
 * /api/route; see route_query.h for the rules.
 *
 * Each value is percent-decoded into a small stack buffer (a coordinate pair
 * never needs more than a few dozen bytes; longer values are refused), then
 * read by a strict decimal reader. Nothing here allocates or calls strtod.
 */
#include "target/route_query.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define VALUE_MAX 64
#define MAX_DIGITS 17

/* A raw parameter value still encoded, as found in the query. */
struct raw_value {
    const char *p;
    size_t len;
    int count; /* how many times the parameter appeared */
};

/* Value of a hex digit, or -1. */
static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes src[0..len) into out (NUL-terminated); -1 if too long or badly encoded. */
static int decode(const char *src, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = src[i];
        if (ch == '+')
            ch = ' ';
        else if (ch == '%') {
            if (i + 2 >= len) return -1;
            int hi = hex_value(src[i + 1]), lo = hex_value(src[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if (ch == '\0' || n + 1 >= cap) return -1;
        out[n++] = ch;
    }
    out[n] = '\0';
    return 0;
}

/*
 * Reads a decimal number ([+-]digits[.digits] or [+-].digits) at *s and
 * advances *s. The digits are gathered as an integer and divided once by an
 * exact power of ten, so up to 15 significant digits give the double
 * nearest to the decimal (52.44 is exactly the 52.44 of the map's box).
 */
static int read_decimal(const char **s, double *out)
{
    static const double pow10[MAX_DIGITS + 1] = {1e0, 1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
                                                 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};
    const char *p = *s;
    bool negative = false;
    uint64_t mantissa = 0;
    int digits = 0, fraction = 0;
    if (*p == '+' || *p == '-') negative = *p++ == '-';
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        mantissa = mantissa * 10 + (uint64_t)(*p - '0');
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits++, fraction++)
            mantissa = mantissa * 10 + (uint64_t)(*p - '0');
    }
    if (digits == 0 || digits > MAX_DIGITS) return -1; /* also keeps mantissa below 10^17 */
    double value = (double)mantissa / pow10[fraction];
    *out = negative ? -value : value;
    *s = p;
    return 0;
}

/* Parses " LAT , LNG " from a decoded value. */
static int read_pair(const char *s, double *lat, double *lng)
{
    while (*s == ' ')
        s++;
    if (read_decimal(&s, lat) < 0) return -1;
    while (*s == ' ')
        s++;
    if (*s++ != ',') return -1;
    while (*s == ' ')
        s++;
    if (read_decimal(&s, lng) < 0) return -1;
    while (*s == ' ')
        s++;
    return *s == '\0' ? 0 : -1;
}

/* Records key=value pairs of the parameters we know. */
static void scan_query(const char *query, size_t len, struct raw_value *from, struct raw_value *to)
{
    const char *p = query, *end = query + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pair_end = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pair_end - p));
        const char *key_end = eq ? eq : pair_end;
        size_t key_len = (size_t)(key_end - p);
        struct raw_value *slot = NULL;
        if (key_len == 4 && memcmp(p, "from", 4) == 0)
            slot = from;
        else if (key_len == 2 && memcmp(p, "to", 2) == 0)
            slot = to;
        if (slot) {
            slot->count++;
            slot->p = eq ? eq + 1 : pair_end;
            slot->len = (size_t)(pair_end - slot->p);
        }
        p = pair_end + (amp ? 1 : 0);
    }
}

/* Checks one parameter and fills lat/lng; sets *err and returns -EINVAL when wrong. */
static int check_param(const char *name, const struct raw_value *raw, const struct geo_bounds *accept, double *lat,
                       double *lng, struct route_query_error *err)
{
    char buf[VALUE_MAX];
    *err = (struct route_query_error){.parameter = name};
    if (raw->count == 0)
        err->reason = "missing parameter";
    else if (raw->count > 1)
        err->reason = "parameter given more than once";
    else if (raw->len == 0)
        err->reason = "empty parameter, expected LAT,LNG";
    else if (decode(raw->p, raw->len, buf, sizeof(buf)) < 0 || read_pair(buf, lat, lng) < 0)
        err->reason = "malformed coordinate, expected LAT,LNG in decimal degrees";
    else if (*lat < -90 || *lat > 90 || *lng < -180 || *lng > 180)
        err->reason = "coordinate out of range, expected -90 <= LAT <= 90 and -180 <= LNG <= 180";
    else if (*lat < accept->lat_min || *lat > accept->lat_max || *lng < accept->lng_min || *lng > accept->lng_max) {
        err->reason = "coordinate outside the map";
        err->outside = true;
    } else
        return 0;
    return -EINVAL;
}

int route_query_parse(struct route_query *q, const char *query, size_t len, const struct geo_bounds *accept,
                      struct route_query_error *err)
{
    struct raw_value from = {0}, to = {0};
    scan_query(query, len, &from, &to);
    if (check_param("from", &from, accept, &q->from_lat, &q->from_lng, err) < 0) return -EINVAL;
    if (check_param("to", &to, accept, &q->to_lat, &q->to_lng, err) < 0) return -EINVAL;
    return 0;
}
