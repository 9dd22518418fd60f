/*
 * toxic_json.h — a toxic as toxiproxy's JSON: {"name", "type", "stream",
 * "toxicity", "attributes": {...}}.
 *
 * Reading is stricter than toxiproxy in one way: an attribute the type
 * does not have is an error (400) rather than silently ignored, because a
 * misspelt "latncy" that does nothing is the worst kind of chaos. Attribute
 * values are numbers in API units; a string with units ("100ms", "512KB")
 * is accepted too, as on the command line.
 */
#ifndef SALVO_SPEC_TOXIC_JSON_H
#define SALVO_SPEC_TOXIC_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "spec/toxic_spec.h"

/* A new JSON object for t (caller owns the reference). */
json_t *toxic_to_json(const struct toxic *t);

/*
 * Fills t from a create request: type is required; name, stream, toxicity
 * and attributes are optional (toxiproxy's defaults). Returns 0 or -EINVAL
 * with a reason in err.
 */
int toxic_from_json(struct toxic *t, const json_t *obj, char *err, size_t errlen);

/*
 * Applies an update request to t: toxicity and attributes (the fields
 * toxiproxy lets an update change; others are ignored). 0 or -EINVAL.
 */
int toxic_patch_json(struct toxic *t, const json_t *obj, char *err, size_t errlen);

#endif
