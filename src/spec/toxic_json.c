/*
 * toxic_json.c — toxics to and from toxiproxy's JSON; see toxic_json.h.
 */
#include "spec/toxic_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

json_t *toxic_to_json(const struct toxic *t)
{
    json_t *attrs = json_object();
    for (int i = 0; i < toxic_attr_count(t->type); i++) {
        json_t *v = toxic_attr_is_fraction(t->type, i) ? json_real((double)t->attr[i] / TOXIC_PPM)
                                                       : json_integer((json_int_t)t->attr[i]);
        json_object_set_new(attrs, toxic_attr_name(t->type, i), v);
    }
    return json_pack("{s:s, s:s, s:s, s:f, s:o}", "name", t->name, "type", toxic_type_name(t->type), "stream",
                     toxic_stream_name(t->stream), "toxicity", t->toxicity, "attributes", attrs);
}

/* Sets one attribute from a JSON number or a string with units. */
static int attr_from_json(struct toxic *t, const char *key, const json_t *v, char *err, size_t errlen)
{
    int i;
    for (i = 0; i < toxic_attr_count(t->type); i++)
        if (strcmp(toxic_attr_name(t->type, i), key) == 0) break;
    if (toxic_attr_is_fraction(t->type, i)) {
        double d = json_number_value(v);
        if (json_is_number(v) && d >= 0.0 && d <= 1.0)
            return toxic_set_attr(t, key, (int64_t)nearbyint(d * TOXIC_PPM), err, errlen) == 0 ? 0 : -EINVAL;
        if (!json_is_string(v)) {
            snprintf(err, errlen, "attribute '%s' must be a number between 0 and 1", key);
            return -EINVAL;
        }
    }
    if (json_is_string(v)) return toxic_set_attr_text(t, key, json_string_value(v), err, errlen) == 0 ? 0 : -EINVAL;
    if (json_is_integer(v))
        return toxic_set_attr(t, key, (int64_t)json_integer_value(v), err, errlen) == 0 ? 0 : -EINVAL;
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d == floor(d) && fabs(d) < 1e15) return toxic_set_attr(t, key, (int64_t)d, err, errlen) == 0 ? 0 : -EINVAL;
    }
    snprintf(err, errlen, "attribute '%s' must be a whole number", key);
    return -EINVAL;
}

/* Applies "toxicity" and "attributes" from obj when present. */
static int apply_common(struct toxic *t, const json_t *obj, char *err, size_t errlen)
{
    const json_t *tox = json_object_get(obj, "toxicity");
    if (tox && !json_is_null(tox)) {
        double v = json_number_value(tox);
        if (!json_is_number(tox) || !(v >= 0.0 && v <= 1.0)) {
            snprintf(err, errlen, "toxicity must be a number between 0 and 1");
            return -EINVAL;
        }
        t->toxicity = v;
    }
    const json_t *attrs = json_object_get(obj, "attributes");
    if (attrs && !json_is_null(attrs)) {
        if (!json_is_object(attrs)) {
            snprintf(err, errlen, "attributes must be an object");
            return -EINVAL;
        }
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)attrs, key, v)
        {
            if (attr_from_json(t, key, v, err, errlen) != 0) return -EINVAL;
        }
    }
    return toxic_validate(t, err, errlen);
}

int toxic_from_json(struct toxic *t, const json_t *obj, char *err, size_t errlen)
{
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "expected a JSON object");
        return -EINVAL;
    }
    const char *type = json_string_value(json_object_get(obj, "type"));
    enum toxic_type tt;
    if (!type || toxic_type_from_name(type, &tt) != 0) {
        snprintf(err, errlen, "invalid toxic type%s%s%s", type ? " '" : "", type ? type : "", type ? "'" : "");
        return -EINVAL;
    }
    toxic_init(t, tt);
    const json_t *stream = json_object_get(obj, "stream");
    if (stream && !json_is_null(stream) && !(json_is_string(stream) && *json_string_value(stream) == '\0')) {
        if (!json_is_string(stream) || toxic_stream_from_name(json_string_value(stream), &t->stream) != 0) {
            snprintf(err, errlen, "stream was invalid, can be either upstream or downstream");
            return -EINVAL;
        }
    }
    toxic_default_name(t);
    const json_t *name = json_object_get(obj, "name");
    if (name && !json_is_null(name) && !json_is_string(name)) {
        snprintf(err, errlen, "toxic name must be a string");
        return -EINVAL;
    }
    if (name && json_is_string(name) && *json_string_value(name) != '\0') {
        if (!toxic_name_valid(json_string_value(name))) {
            snprintf(err, errlen, "toxic name must be 1..63 of A-Z a-z 0-9 _ - .");
            return -EINVAL;
        }
        snprintf(t->name, sizeof t->name, "%s", json_string_value(name));
    }
    return apply_common(t, obj, err, errlen);
}

int toxic_patch_json(struct toxic *t, const json_t *obj, char *err, size_t errlen)
{
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "expected a JSON object");
        return -EINVAL;
    }
    return apply_common(t, obj, err, errlen);
}
