/*
 * toxic_spec.c — the toxic table and its parsers; see toxic_spec.h.
 *
 * One static table describes every type: its toxiproxy name, whether it is
 * HTTP-aware, and its attributes (name, unit, default, range). Everything
 * else — defaults, the spec parser, range checks, the JSON mapping in
 * toxic_json.c — reads that table, so a new toxic is one table row plus
 * its behaviour in chaos/link.c or chaos/exchange.c.
 */
#include "spec/toxic_spec.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/units.h"

/* How an attribute is written and what a bare number means. */
enum unit { UNIT_MS, UNIT_US, UNIT_KBS, UNIT_BYTES, UNIT_STATUS, UNIT_FRACTION };

/* One attribute of a toxic type. */
struct attr_def {
    const char *name;
    enum unit unit;
    int64_t def, min, max;
};

/* One toxic type. */
struct type_def {
    const char *name;
    bool http;
    int nattrs;
    struct attr_def attrs[TOXIC_MAX_ATTRS];
};

#define DAY_MS (86400ll * 1000)
#define BIG (1ll << 50)

static const struct type_def types[TOXIC_TYPE_COUNT] = {
    [TOXIC_LATENCY] = {"latency", false, 2, {{"latency", UNIT_MS, 0, 0, DAY_MS}, {"jitter", UNIT_MS, 0, 0, DAY_MS}}},
    [TOXIC_BANDWIDTH] = {"bandwidth", false, 1, {{"rate", UNIT_KBS, 0, 0, BIG}}},
    [TOXIC_SLOW_CLOSE] = {"slow_close", false, 1, {{"delay", UNIT_MS, 0, 0, DAY_MS}}},
    [TOXIC_TIMEOUT] = {"timeout", false, 1, {{"timeout", UNIT_MS, 0, 0, DAY_MS}}},
    [TOXIC_RESET_PEER] = {"reset_peer", false, 1, {{"timeout", UNIT_MS, 0, 0, DAY_MS}}},
    [TOXIC_SLICER] = {"slicer",
                      false,
                      3,
                      {{"average_size", UNIT_BYTES, 0, 0, BIG},
                       {"size_variation", UNIT_BYTES, 0, 0, BIG},
                       {"delay", UNIT_US, 0, 0, DAY_MS * 1000}}},
    [TOXIC_LIMIT_DATA] = {"limit_data", false, 1, {{"bytes", UNIT_BYTES, 0, 0, BIG}}},
    [TOXIC_HTTP_STATUS] = {"http_status", true, 1, {{"status", UNIT_STATUS, 503, 200, 599}}},
    [TOXIC_HTTP_LATENCY] = {"http_latency",
                            true,
                            2,
                            {{"latency", UNIT_MS, 0, 0, DAY_MS}, {"jitter", UNIT_MS, 0, 0, DAY_MS}}},
    [TOXIC_HTTP_CUT] = {"http_cut", true, 1, {{"bytes", UNIT_BYTES, -1, -1, BIG}}},
    [TOXIC_HANDSHAKE] = {"handshake", false, 1, {{"delay", UNIT_MS, 0, 0, DAY_MS}}},
    [TOXIC_BANDWIDTH_SHARED] = {"bandwidth_shared", false, 1, {{"rate", UNIT_KBS, 0, 0, BIG}}},
    [TOXIC_PACKET_LOSS] = {"packet_loss",
                           false,
                           2,
                           {{"loss_rate", UNIT_FRACTION, TOXIC_PPM / 10, 0, TOXIC_PPM},
                            {"correlation", UNIT_FRACTION, 0, 0, TOXIC_PPM}}},
};

const char *toxic_type_name(enum toxic_type type)
{
    return (unsigned)type < TOXIC_TYPE_COUNT ? types[type].name : NULL;
}

int toxic_type_from_name(const char *name, enum toxic_type *out)
{
    for (int i = 0; i < TOXIC_TYPE_COUNT; i++) {
        if (strcmp(name, types[i].name) == 0) {
            *out = (enum toxic_type)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *toxic_stream_name(enum toxic_stream stream)
{
    return stream == STREAM_UPSTREAM ? "upstream" : "downstream";
}

int toxic_stream_from_name(const char *name, enum toxic_stream *out)
{
    if (strcmp(name, "upstream") == 0)
        *out = STREAM_UPSTREAM;
    else if (strcmp(name, "downstream") == 0)
        *out = STREAM_DOWNSTREAM;
    else
        return -EINVAL;
    return 0;
}

bool toxic_type_is_http(enum toxic_type type)
{
    return (unsigned)type < TOXIC_TYPE_COUNT && types[type].http;
}

int toxic_attr_count(enum toxic_type type)
{
    return (unsigned)type < TOXIC_TYPE_COUNT ? types[type].nattrs : 0;
}

const char *toxic_attr_name(enum toxic_type type, int i)
{
    if ((unsigned)type >= TOXIC_TYPE_COUNT || i < 0 || i >= types[type].nattrs) return NULL;
    return types[type].attrs[i].name;
}

void toxic_default_name(struct toxic *t)
{
    snprintf(t->name, sizeof t->name, "%s_%s", types[t->type].name, toxic_stream_name(t->stream));
}

void toxic_init(struct toxic *t, enum toxic_type type)
{
    *t = (struct toxic){.type = type, .stream = STREAM_DOWNSTREAM, .toxicity = 1.0};
    for (int i = 0; i < types[type].nattrs; i++)
        t->attr[i] = types[type].attrs[i].def;
    toxic_default_name(t);
}

bool toxic_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= TOXIC_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '_' && c != '-' && c != '.') return false;
    }
    return true;
}

bool toxic_attr_is_fraction(enum toxic_type type, int i)
{
    if ((unsigned)type >= TOXIC_TYPE_COUNT || i < 0 || i >= types[type].nattrs) return false;
    return types[type].attrs[i].unit == UNIT_FRACTION;
}

/* Index of attribute key in the type, or -1. */
static int attr_index(enum toxic_type type, const char *key)
{
    for (int i = 0; i < types[type].nattrs; i++)
        if (strcmp(types[type].attrs[i].name, key) == 0) return i;
    return -1;
}

/* The API unit of an attribute, for error messages. */
static const char *unit_word(enum unit u)
{
    static const char *const words[] = {"ms", "µs", "KB/s", "bytes", "", "ppm"};
    return words[u];
}

int toxic_set_attr(struct toxic *t, const char *key, int64_t value, char *err, size_t errlen)
{
    int i = attr_index(t->type, key);
    if (i < 0) {
        if (err) snprintf(err, errlen, "%s has no attribute '%s'", types[t->type].name, key);
        return -ENOENT;
    }
    const struct attr_def *a = &types[t->type].attrs[i];
    if (value < a->min || value > a->max) {
        if (err)
            snprintf(err, errlen, "%s %s=%lld is out of range %lld..%lld%s%s", types[t->type].name, key,
                     (long long)value, (long long)a->min, (long long)a->max, *unit_word(a->unit) ? " " : "",
                     unit_word(a->unit));
        return -ERANGE;
    }
    t->attr[i] = value;
    return 0;
}

/* A size or rate suffix and what it multiplies by. */
struct scale {
    const char *suffix;
    double factor;
};

static const struct scale byte_scales[] = {
    {"", 1},     {"b", 1},           {"kb", 1e3}, {"kib", 1024},
    {"mb", 1e6}, {"mib", 1048576.0}, {"gb", 1e9}, {"gib", 1073741824.0},
    {NULL, 0},
};

/*
 * Parses "<decimal><suffix>" with a suffix from table (case-insensitive)
 * into number × factor. No sign, no exponent, no hex, no inf.
 */
static int parse_scaled(const char *text, const struct scale *table, double *out)
{
    const char *p = text;
    if (!isdigit((unsigned char)*p) && *p != '.') return -EINVAL;
    while (isdigit((unsigned char)*p) || *p == '.')
        p++;
    char *end;
    double v = strtod(text, &end);
    if (end != p || !isfinite(v)) return -EINVAL;
    for (const struct scale *s = table; s->suffix; s++) {
        if (strcasecmp(p, s->suffix) == 0) {
            *out = v * s->factor;
            return 0;
        }
    }
    return -EINVAL;
}

/* True for a bare decimal number ("100", "1.5"): a value in API units. */
static bool bare_number(const char *text)
{
    int digits = 0, dots = 0;
    for (const char *p = text; *p; p++) {
        if (isdigit((unsigned char)*p))
            digits++;
        else if (*p == '.')
            dots++;
        else
            return false;
    }
    return digits > 0 && dots <= 1 && strlen(text) < 24;
}

/* Converts text to API units of `unit`: 0, or -EINVAL with err set. */
static int text_to_units(const char *key, const char *text, enum unit unit, int64_t *out, char *err, size_t errlen)
{
    double units = 0;
    int rc = 0;
    if (unit == UNIT_BYTES && strcmp(text, "-1") == 0) {
        *out = -1;
        return 0;
    }
    if (unit == UNIT_FRACTION) {
        double v = 0;
        rc = toxic_parse_toxicity(text, &v) == 0 ? 0 : -EINVAL; /* "0.2" or "20%" */
        units = v * TOXIC_PPM;
    } else if (bare_number(text)) {
        units = strtod(text, NULL);
    } else if (unit == UNIT_MS || unit == UNIT_US) {
        uint64_t ns;
        rc = parse_duration_ns(text, &ns);
        units = (double)ns / (unit == UNIT_MS ? (double)NS_PER_MS : (double)NS_PER_US);
    } else if (unit == UNIT_BYTES || unit == UNIT_KBS) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", text);
        size_t n = strlen(buf);
        if (unit == UNIT_KBS && n > 2 && strcmp(buf + n - 2, "/s") == 0) buf[n - 2] = '\0';
        rc = parse_scaled(buf, byte_scales, &units);
        if (unit == UNIT_KBS) units /= 1000.0; /* a suffix names bytes; the API counts KB */
    } else {
        rc = -EINVAL;
    }
    if (rc != 0) {
        if (err) snprintf(err, errlen, "cannot read %s='%s'", key, text);
        return -EINVAL;
    }
    double whole = nearbyint(units);
    if (whole > (double)BIG) {
        if (err)
            snprintf(err, errlen, "%s='%s' is too large (at most %lld %s)", key, text, (long long)BIG, unit_word(unit));
        return -EINVAL;
    }
    if (fabs(units - whole) > 1e-9 * (whole > 1 ? whole : 1)) {
        if (err) snprintf(err, errlen, "%s='%s' is not a whole number of %s", key, text, unit_word(unit));
        return -EINVAL;
    }
    *out = (int64_t)whole;
    return 0;
}

int toxic_set_attr_text(struct toxic *t, const char *key, const char *text, char *err, size_t errlen)
{
    int i = attr_index(t->type, key);
    if (i < 0) return toxic_set_attr(t, key, 0, err, errlen);
    int64_t v;
    int rc = text_to_units(key, text, types[t->type].attrs[i].unit, &v, err, errlen);
    if (rc != 0) return rc;
    return toxic_set_attr(t, key, v, err, errlen);
}

int toxic_parse_toxicity(const char *text, double *out)
{
    char *end;
    if (!isdigit((unsigned char)*text) && *text != '.') return -EINVAL;
    double v = strtod(text, &end);
    if (end == text) return -EINVAL;
    if (*end == '%' && end[1] == '\0')
        v /= 100.0;
    else if (*end != '\0')
        return -EINVAL;
    if (!(v >= 0.0 && v <= 1.0)) return -EINVAL;
    *out = v;
    return 0;
}

int toxic_validate(const struct toxic *t, char *err, size_t errlen)
{
    if (t->type == TOXIC_SLICER && t->attr[ATTR_VARIATION] > 0 && t->attr[ATTR_VARIATION] >= t->attr[ATTR_AVG]) {
        if (err) snprintf(err, errlen, "slicer size_variation must be less than average_size");
        return -EINVAL;
    }
    return 0;
}

/* Applies one "key=value" word of a spec to t. */
static int spec_word(struct toxic *t, char *word, bool *named, char *err, size_t errlen)
{
    char *eq = strchr(word, '=');
    if (!eq || eq == word || eq[1] == '\0') {
        snprintf(err, errlen, "expected key=value, got '%s'", word);
        return -EINVAL;
    }
    *eq = '\0';
    const char *key = word, *val = eq + 1;
    if (strcmp(key, "stream") == 0) {
        if (toxic_stream_from_name(val, &t->stream) == 0) return 0;
        snprintf(err, errlen, "stream must be upstream or downstream, not '%s'", val);
        return -EINVAL;
    }
    if (strcmp(key, "toxicity") == 0) {
        if (toxic_parse_toxicity(val, &t->toxicity) == 0) return 0;
        snprintf(err, errlen, "toxicity must be between 0 and 1 (or 0%%..100%%), not '%s'", val);
        return -EINVAL;
    }
    if (strcmp(key, "name") == 0) {
        if (!toxic_name_valid(val)) {
            snprintf(err, errlen, "name '%s' must be 1..63 of A-Z a-z 0-9 _ - .", val);
            return -EINVAL;
        }
        snprintf(t->name, sizeof t->name, "%s", val);
        *named = true;
        return 0;
    }
    return toxic_set_attr_text(t, key, val, err, errlen) == 0 ? 0 : -EINVAL;
}

int toxic_parse_spec(struct toxic *t, const char *spec, char *err, size_t errlen)
{
    char buf[512];
    if (strlen(spec) >= sizeof buf) {
        snprintf(err, errlen, "spec is too long");
        return -EINVAL;
    }
    snprintf(buf, sizeof buf, "%s", spec);
    char *save = NULL;
    char *word = strtok_r(buf, " \t", &save);
    enum toxic_type type;
    if (!word) {
        snprintf(err, errlen, "empty spec: expected 'TYPE key=value ...'");
        return -EINVAL;
    }
    if (toxic_type_from_name(word, &type) != 0) {
        snprintf(err, errlen, "unknown toxic type '%s'", word);
        return -EINVAL;
    }
    toxic_init(t, type);
    bool named = false;
    while ((word = strtok_r(NULL, " \t", &save)) != NULL)
        if (spec_word(t, word, &named, err, errlen) != 0) return -EINVAL;
    if (!named) toxic_default_name(t);
    return toxic_validate(t, err, errlen);
}
