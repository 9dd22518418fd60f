/*
 * targets.h — a --targets file: several requests, each with a weight.
 *
 * The format is vegeta's HTTP targets format, plus names and weights:
 *
 *     # name=route weight=3
 *     GET http://localhost:8080/api/route?from={from_lat},{from_lng}
 *     Accept: application/json
 *
 *     POST http://localhost:8080/api/things
 *     Content-Type: application/json
 *     @bodies/thing.json
 *
 * A target is a "METHOD URL" line, then "Name: value" header lines, then
 * at most one "@file" line whose file (relative to the targets file's
 * directory unless absolute) is the body; a blank line ends a target.
 * Lines starting with '#' are comments, except that a comment of the form
 * "# name=NAME weight=W" (either key may be left out) directly before a
 * "METHOD URL" line names and weights that target. The URL, header values
 * and body may hold {column} templates; this module only returns their
 * text, the caller compiles them (http/template.h).
 *
 * Ownership: struct targets is caller-owned; targets_parse allocates every
 * string and array in it, including the bodies it reads, and
 * targets_release frees them. After parsing the struct is immutable.
 */
#ifndef SALVO_TARGETS_H
#define SALVO_TARGETS_H

#include <stddef.h>
#include <stdint.h>

#include "load/feeder.h"

/* Largest @body file read, in bytes. */
#define TARGETS_BODY_MAX (64u << 20)

/* One request of a targets file, as written. */
struct target {
    char *name;     /* from "# name=", or NULL */
    double weight;  /* > 0; 1 unless "# weight=" says otherwise */
    char *method;   /* upper-case letters, e.g. "GET" */
    char *url;      /* as written, possibly a template */
    char **headers; /* nheaders "Name: value" lines, value trimmed */
    size_t nheaders;
    char *body;      /* the @file's bytes plus a NUL, or NULL without @ */
    size_t body_len; /* bytes of body without the NUL */
    char *body_path; /* the @file's path as resolved, or NULL */
    size_t line;     /* the line of "METHOD URL", for later messages */
};

/* All targets of a file and their cumulative weights. */
struct targets {
    struct target *items;
    size_t count;       /* at least 1 after a successful parse */
    double *cumulative; /* cumulative[i] = weight of items 0..i */
};

/*
 * Reads and parses the file at path into out. Returns 0, or a negative
 * errno with err filled in ("'t.txt' line 4: expected 'Name: value'
 * header, '@file' or a blank line"): the read errno for the targets file
 * or a body file, -EINVAL for a malformed file, a file without targets or a
 * body over TARGETS_BODY_MAX. On failure nothing needs releasing.
 */
int targets_parse(const char *path, struct targets *out, struct feeder_error *err);

/* Frees everything; t may be NULL, zeroed or already released. */
void targets_release(struct targets *t);

#endif
