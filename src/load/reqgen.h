/*
 * reqgen.h — what request arrival i sends.
 *
 * A run sends one URL, or the targets of a vegeta-style file, optionally
 * filled from rows of a data file. Everything is compiled before the run
 * (templates against the data file's columns, names into group indexes)
 * and read-only afterwards, so workers share it without locks. Choosing
 * the target and the row is a pure function of the global arrival index,
 * so threads and shards split the work exactly like the schedule. The one
 * thing that changes during a run is the closed model's arrival counter:
 * without a schedule to number its arrivals, its threads take numbers from
 * one shared atomic counter (reqgen_claim), so they follow one sequence.
 *
 * Rendering writes into a caller buffer of at least reqgen.max_len bytes
 * and never allocates; a request without placeholders is rendered once
 * and sent from the same bytes every time.
 */
#ifndef SALVO_REQGEN_H
#define SALVO_REQGEN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/template.h"
#include "load/feeder.h"
#include "load/targets.h"

#define REQGEN_MAX_HEADERS 64

/* One compiled request shape. */
struct reqgen_target {
    char method[24];
    bool head;
    struct template path;
    struct template headers[REQGEN_MAX_HEADERS];
    size_t nheaders;
    bool has_body;
    struct template body;
    uint32_t group;
    char *static_bytes; /* the rendered request when nothing varies */
    size_t static_len;
};

/* The request side of a run; owns its targets and names. */
struct reqgen {
    struct reqgen_target *targets;
    size_t ntargets;
    double *cumulative;        /* weights for picking, NULL for one target */
    const struct feeder *data; /* borrowed; NULL without --data */
    struct picker picker;
    uint64_t seed;      /* target choice */
    uint64_t pick_seed; /* data rows of --pick random */
    char host_header[300];
    size_t max_len; /* bound on any rendered request */
    char **names;   /* group names; the last is "other" on overflow */
    uint32_t nnames;
    uint32_t max_names;
    _Atomic uint64_t *claimed; /* closed model: arrival numbers handed out so far */
};

/* One target as written on the command line or in a targets file. */
struct reqgen_spec {
    const char *method;
    const char *path; /* path and query of the URL (template) */
    const char *const *headers;
    size_t nheaders;
    const char *body; /* NULL: no body */
    size_t body_len;
    const char *name; /* NULL: the path without its query */
    double weight;
};

/*
 * Compiles n specs against data (may be NULL) for requests to host_header.
 * seed drives the weighted choice of target (like the arrivals, it must be
 * the same in every shard); pick_seed drives --pick random's rows alone,
 * so a run can draw new rows without changing its schedule.
 * Returns 0, or a negative errno with a message in why (cap bytes), e.g.
 * "template uses column 'x' that 'trips.csv' lacks".
 */
int reqgen_init(struct reqgen *g, const struct reqgen_spec *specs, size_t n, const struct feeder *data,
                enum pick_mode pick, uint64_t seed, uint64_t pick_seed, const char *host_header, uint32_t max_names,
                char *why, size_t cap);
/* Frees everything; NULL is fine. */
void reqgen_release(struct reqgen *g);
/* The group of name, made now if new (past max_names: "other"). Before the run only (a script's step names). */
uint32_t reqgen_add_name(struct reqgen *g, const char *name);

/* The target arrival index uses. */
size_t reqgen_pick(const struct reqgen *g, uint64_t index);
/* The group (request name) of arrival index. */
static inline uint32_t reqgen_group(const struct reqgen *g, uint64_t index)
{
    return g->targets[reqgen_pick(g, index)].group;
}
/* True when arrival index has no data row left (--pick once used it up). */
bool reqgen_exhausted(const struct reqgen *g, uint64_t index);
/*
 * Closed model: the next arrival number of this process (0, 1, 2, ... from
 * reqgen_init, one run per reqgen), each handed out once whichever thread
 * asks. Safe from any thread.
 */
uint64_t reqgen_claim(const struct reqgen *g);
/* True when every request is the same bytes (a cache may answer them all). */
bool reqgen_is_static(const struct reqgen *g);

/*
 * Renders the request of arrival index. *bytes points into buf or at the
 * target's static bytes. Returns 0, -ENODATA when the data is used up, or
 * -ENOSPC (cannot happen with cap >= max_len).
 */
int reqgen_render(const struct reqgen *g, uint64_t index, char *buf, size_t cap, const char **bytes, size_t *len,
                  bool *head);

#endif
