/*
 * find.h — the search behind `salvo find`, as pure code: which rate to try
 * next given the verdicts so far, and the sustainability rule's trend test.
 *
 * The search never runs anything: the verb asks find_next() for a rate,
 * runs a step there, and tells find_record() how it went. That keeps the
 * budget (at most 12 steps for any capacity between 100/s and 100 000/s
 * from the default start) testable on a simulated service.
 *
 * Phases: BRACKET multiplies the rate by FIND_GROWTH until a step fails
 * (or the generator cannot keep up, or --max is reached); BISECT tries the
 * geometric middle of [highest pass, lowest fail] until their ratio is at
 * most 1 + precision; CONFIRM holds the highest pass for twice the step
 * duration, and when that fails steps down by 1 + precision and confirms
 * again (at most FIND_MAX_CONFIRMS times).
 */
#ifndef SALVO_LOAD_FIND_H
#define SALVO_LOAD_FIND_H

#include <stdbool.h>
#include <stddef.h>

/* Bracketing growth factor: 100/s to 102 400/s in 5 steps, then 5 bisections to 5 %. */
#define FIND_GROWTH 4.0
/* From a ramp's knee the capacity is near: bracket by 2 either way (4 bisections to 5 %). */
#define FIND_SEED_GROWTH 2.0
#define FIND_MAX_CONFIRMS 3

enum find_verdict {
    FIND_PASS,    /* sustainable within the SLOs */
    FIND_FAIL,    /* the service broke an SLO or queued up */
    FIND_INVALID, /* the generator did not produce the rate: an upper bound only */
};

enum find_phase { FIND_BRACKET, FIND_BISECT, FIND_CONFIRM, FIND_DONE };

enum find_stop {
    FIND_STOP_NONE,
    FIND_STOP_FOUND,         /* confirmed: capacity is the confirmed rate */
    FIND_STOP_MAX,           /* --max passed and confirmed: capacity is at least --max */
    FIND_STOP_LOWEST_FAILS,  /* even --from fails the SLOs (exit 99) */
    FIND_STOP_GENERATOR,     /* the highest valid step passes: salvo is the limit (exit 98) */
    FIND_STOP_GENERATOR_GAP, /* the service fails at s->fail, but salvo cannot produce rates above s->lo (98) */
    FIND_STOP_CONFIRM_FAILS, /* every confirmation failed (exit 99) */
    FIND_STOP_NO_ANSWER,     /* nothing listens, or no HTTP response in the first step or the ramp (exit 1) */
    FIND_STOP_RUN_FAILED,    /* a step could not run (exit 1) */
};

struct find_search {
    double from, max, precision; /* precision: 0.05 for 5 % */
    enum find_phase phase;
    double lo;       /* highest passing rate (0: none yet) */
    double hi;       /* lowest failing or invalid rate (0: none yet) */
    bool hi_invalid; /* hi is a generator bound, not a service failure */
    double fail;     /* lowest rate the service failed at (0: none) */
    double next;     /* the rate find_next returns */
    int confirms;    /* confirmations tried */
    int steps;       /* steps recorded */
    double growth;   /* bracketing factor: FIND_GROWTH, or FIND_SEED_GROWTH after find_seed */
    bool seeded;     /* started at a proposed rate: a failing start steps down instead of stopping */
    enum find_stop stop;
    double capacity; /* set when stop is FOUND or MAX */
};

/* Starts a search; returns -EINVAL when from <= 0, max < from or precision <= 0. */
int find_init(struct find_search *s, double from, double max, double precision);
/*
 * Starts the bracket at rate (clamped to [from, max]) instead of from, with
 * FIND_SEED_GROWTH: a ramp's knee proposes it. A failing (or invalid) step
 * before any pass then divides the rate by the growth and tries again,
 * down to from; a pass after a failure bisects between them.
 */
void find_seed(struct find_search *s, double rate);
/* The next rate to run, and whether it is a confirmation (held twice as long); false when done. */
bool find_next(const struct find_search *s, double *rate, bool *confirm);
/* Records the verdict of the step find_next proposed. */
void find_record(struct find_search *s, enum find_verdict v);
/* Ends the search for a reason outside the verdicts (no answer, a run that failed): phase DONE, no capacity. */
void find_abort(struct find_search *s, enum find_stop stop);
/* A stable word for s->stop ("found", "max", "lowest_rate_fails", ...). */
const char *find_stop_name(enum find_stop stop);

/*
 * The trend rule: an ordinary least-squares line through in-flight counts
 * y[0..n) sampled every dt seconds. growing is true when the slope is
 * significant (t = slope / its standard error above the one-sided Student t
 * quantile for n - 2 degrees of freedom at the normal 3-sigma tail, p =
 * 0.00135: 3 points need t > 236, 15 points t > 3.69) and the rise over 10 s
 * exceeds 5 % of the mean (and at least one request, so an idle service's
 * 0 → 1 flicker is not a queue).
 */
struct find_trend {
    double slope_per_s, t, mean;
    bool growing;
};
void find_trend(const double *y, size_t n, double dt, struct find_trend *out);
/* The slope's significance bar for dof = n - 2 degrees of freedom (Student t, one-sided p = 0.00135). */
double find_t_critical(size_t dof);

#endif
