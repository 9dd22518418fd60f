/*
 * units.c — parsing of durations and rates (see units.h).
 *
 * A duration is accumulated in integer nanoseconds term by term, the
 * fraction of each term being scaled with 128-bit integers, so every value
 * a user can type with up to 18 decimals is converted exactly (or rounded
 * to the nearest nanosecond) and overflow is detected rather than wrapped.
 * This runs once per option at start-up; nothing here is on a hot path.
 */
#include "core/units.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

/* The digits of a fraction beyond this many are read but ignored. */
#define FRACTION_DIGITS_MAX 18

/* A duration unit and its length in nanoseconds. */
struct duration_unit {
    const char *name;
    uint64_t ns;
};

static const struct duration_unit duration_units[] = {
    {"ns", 1},         {"us", NS_PER_US}, {"\xc2\xb5s", NS_PER_US}, /* "µs" in UTF-8 */
    {"ms", NS_PER_MS}, {"s", NS_PER_S},   {"m", 60 * NS_PER_S},     {"h", 3600 * NS_PER_S},
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * Reads "digits[.digits]" at *p (at least one digit in all) into an integer
 * part and a fraction numerator/denominator. Advances *p. Returns false on
 * a missing number or an integer part above UINT64_MAX.
 */
static bool read_decimal(const char **p, uint64_t *integer, uint64_t *frac_num, uint64_t *frac_den)
{
    const char *c = *p;
    int ndigits = 0;

    *integer = 0;
    *frac_num = 0;
    *frac_den = 1;
    for (; is_digit(*c); c++, ndigits++) {
        if (__builtin_mul_overflow(*integer, 10, integer) ||
            __builtin_add_overflow(*integer, (uint64_t)(*c - '0'), integer))
            return false;
    }
    if (*c == '.') {
        int kept = 0;
        for (c++; is_digit(*c); c++, ndigits++) {
            if (kept == FRACTION_DIGITS_MAX) continue;
            *frac_num = *frac_num * 10 + (uint64_t)(*c - '0');
            *frac_den *= 10;
            kept++;
        }
    }
    *p = c;
    return ndigits > 0;
}

/* Returns integer.frac × unit_ns rounded to the nearest ns, or false on overflow. */
static bool scale_decimal(uint64_t integer, uint64_t frac_num, uint64_t frac_den, uint64_t unit_ns, uint64_t *out)
{
    unsigned __int128 frac_ns = ((unsigned __int128)frac_num * unit_ns + frac_den / 2) / frac_den;
    uint64_t whole;

    if (__builtin_mul_overflow(integer, unit_ns, &whole) || frac_ns > UINT64_MAX) return false;
    return !__builtin_add_overflow(whole, (uint64_t)frac_ns, out);
}

/* Matches the unit spelled by the non-digit run at *p; advances *p. */
static const struct duration_unit *read_unit(const char **p)
{
    size_t len = 0;

    while ((*p)[len] != '\0' && !is_digit((*p)[len]) && (*p)[len] != '.')
        len++;
    for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++) {
        const struct duration_unit *u = &duration_units[i];
        if (strlen(u->name) == len && memcmp(u->name, *p, len) == 0) {
            *p += len;
            return u;
        }
    }
    return NULL;
}

int parse_duration_ns(const char *s, uint64_t *out)
{
    static const struct duration_unit seconds = {"s", NS_PER_S};
    const char *p = s;
    uint64_t total = 0;

    if (s == NULL || *s == '\0') return -EINVAL;
    do {
        uint64_t integer, frac_num, frac_den, term;
        const struct duration_unit *unit;
        bool first = p == s;

        if (!read_decimal(&p, &integer, &frac_num, &frac_den)) return -EINVAL;
        /* A number without a unit means seconds, but only on its own. */
        if (first && *p == '\0') {
            unit = &seconds;
        } else if ((unit = read_unit(&p)) == NULL) {
            return -EINVAL;
        }
        if (!scale_decimal(integer, frac_num, frac_den, unit->ns, &term) || __builtin_add_overflow(total, term, &total))
            return -EINVAL;
    } while (*p != '\0');
    *out = total;
    return 0;
}

/* Parses a plain decimal rate with an optional "/s"; see parse_rate. */
static int parse_rate_common(const char *s, bool allow_zero, double *out)
{
    const char *p = s;
    char *end;
    double value;
    int ndigits = 0;

    if (s == NULL) return -EINVAL;
    /* Check the shape first: strtod alone would take "inf", "0x1p4", " 5". */
    for (; is_digit(*p); p++)
        ndigits++;
    if (*p == '.')
        for (p++; is_digit(*p); p++)
            ndigits++;
    if (ndigits == 0) return -EINVAL;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!is_digit(*p)) return -EINVAL;
        while (is_digit(*p))
            p++;
    }
    if (strcmp(p, "") != 0 && strcmp(p, "/s") != 0) return -EINVAL;
    errno = 0;
    value = strtod(s, &end);
    if (end != p || errno == ERANGE || !isfinite(value)) return -EINVAL;
    if (value < 0 || (value == 0 && !allow_zero)) return -EINVAL;
    *out = value;
    return 0;
}

int parse_rate(const char *s, double *out)
{
    return parse_rate_common(s, false, out);
}

int parse_rate_or_zero(const char *s, double *out)
{
    return parse_rate_common(s, true, out);
}
