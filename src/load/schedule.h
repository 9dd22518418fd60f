/*
 * schedule.h — when each request of an open-model run is due.
 *
 * The load is a rate function r(t) in requests per second over a run of
 * length D: either constant, or piecewise linear "stages" (k6 style: from a
 * start rate, each stage moves the rate linearly to its target over its
 * duration). With Λ(t) = ∫0^t r, arrival i (i = 0, 1, 2, ...) is due at
 *
 *     t_i = inf { t : Λ(t) > u_i }
 *
 * where u_i = i for constant arrivals (so a constant rate r gives t_i = i/r,
 * the first at t = 0) and u_i = E_0 + ... + E_i, a sum of unit-exponential
 * draws, for Poisson arrivals (a Poisson process, non-homogeneous when r
 * varies). Arrivals with t_i >= D do not exist. Taking the infimum of
 * Λ > u means an arrival that falls on a stretch of zero rate is due when
 * the rate becomes positive again, not when it dropped to zero.
 *
 * A due time is reported as floor(t_i) in nanoseconds from the run start:
 * the nanosecond in which the arrival falls, so "due_ns < D in ns" is the
 * same test as "t_i < D". For a constant rate with constant arrivals it is
 * computed directly from i with exact integer arithmetic whenever 128 bits
 * suffice (every practical rate and run), else in long double; it never
 * accumulates. Stages invert the piecewise-quadratic Λ segment by segment
 * in long double.
 *
 * Splitting: shard s of S takes global indices i ≡ s (mod S); thread k of n
 * takes every n-th of the shard's arrivals, so a share is the progression
 * i = s + k·S + m·S·n. Merged, the shares are exactly the single-process
 * schedule, bit for bit: E_i = -ln U(seed, i) comes from a counter-based
 * hash, so any share can compute any E_i, and every share adds all E_j in
 * index order (O(S·n) cheap hashes per arrival), as the whole schedule
 * would. Shards on different hosts agree as long as they run the same
 * build on the same architecture and C library (log and long double).
 *
 * Ownership: struct schedule is caller-owned and fixed-size; schedule_init
 * copies what it needs from the config (the stages array may be freed after
 * it returns) and allocates nothing. A schedule is used by one thread.
 */
#ifndef SALVO_SCHEDULE_H
#define SALVO_SCHEDULE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHEDULE_MAX_STAGES 64

/* How arrivals are spaced under the rate function. */
enum arrival { ARRIVAL_CONSTANT, ARRIVAL_POISSON };

/* One stage: the rate moves linearly to target_rate over duration_ns. */
struct stage {
    uint64_t duration_ns; /* 0 is allowed: a step change to target_rate */
    double target_rate;   /* requests per second, finite and >= 0 */
};

/* What to schedule, and which share of it this schedule produces. */
struct schedule_cfg {
    enum arrival arrival;
    double rate;                /* constant rate (> 0) when nstages == 0 */
    uint64_t duration_ns;       /* run length (> 0) when nstages == 0 */
    double start_rate;          /* rate at t = 0 when stages are used (>= 0) */
    const struct stage *stages; /* borrowed until schedule_init returns */
    size_t nstages;             /* 0 .. SCHEDULE_MAX_STAGES */
    uint64_t seed;              /* Poisson draws; every share uses the same */
    uint32_t shard, nshards;    /* 0/1 when not sharded */
    uint32_t thread, nthreads;  /* 0/1 for a single thread */
};

/* One piece of r(t): linear from rate_start over [start_ns, start_ns + duration_ns). */
struct schedule_segment {
    uint64_t start_ns, duration_ns;
    long double rate_start; /* requests/s at start_ns */
    long double slope;      /* requests/s², 0 for a flat segment */
    long double lambda_end; /* Λ at the end of the segment */
};

/* A share of a schedule being walked; see the file comment. */
struct schedule {
    enum arrival arrival;
    uint64_t duration_ns;
    uint64_t hash_key; /* derived from the seed */
    /* Constant rate, constant arrivals: due = i·1e9/rate, exactly. */
    bool exact;        /* this fast path applies */
    uint64_t rate_odd; /* rate = rate_odd · 2^rate_exp2, rate_odd odd */
    int rate_exp2;
    double rate;
    /* Everything else: Λ⁻¹ over the segments. */
    struct schedule_segment segments[SCHEDULE_MAX_STAGES];
    size_t nsegments;
    size_t cursor; /* segment of the last arrival; only moves forward */
    long double lambda_total;
    /* Walking state. */
    uint64_t next_index; /* global index of this share's next arrival */
    uint64_t stride;     /* nshards · nthreads */
    bool done;
    long double u_sum; /* Poisson: E_0 + ... + E_(summed - 1) */
    uint64_t summed;
};

/*
 * Prepares share (shard, thread) of the schedule cfg describes. Returns 0,
 * or -EINVAL for: NULL arguments, an unknown arrival kind, nshards or
 * nthreads 0, shard >= nshards, thread >= nthreads; without stages a rate
 * that is not finite and > 0 or a zero duration; with stages more than
 * SCHEDULE_MAX_STAGES, a start or target rate that is negative or not
 * finite, or a total duration of zero or above UINT64_MAX ns. A run whose
 * stages are all at rate 0 is valid and has no arrivals.
 */
int schedule_init(struct schedule *s, const struct schedule_cfg *cfg);

/*
 * Produces this share's next arrival: its due time as an offset from the
 * run start in ns (non-decreasing) and its global index. Returns false,
 * and keeps returning false, once no arrival remains before the end. Does
 * not allocate or make system calls.
 */
bool schedule_next(struct schedule *s, uint64_t *due_ns, uint64_t *index);
/*
 * How many arrivals s has left, consuming them (O(log n) probes for
 * constant arrivals; Poisson ones are stepped through, giving up when
 * *stop is set).
 */
uint64_t schedule_rest(struct schedule *s, atomic_bool *stop);

/* The run length D in ns (the sum of the stage durations with stages). */
uint64_t schedule_duration_ns(const struct schedule_cfg *cfg);

/* The rate r(t) in requests/s at t_ns from the start; 0 at and after D. */
double schedule_rate_at(const struct schedule_cfg *cfg, uint64_t t_ns);

/* Λ(D): the expected number of arrivals of the whole run (all shares). */
double schedule_expected_count(const struct schedule_cfg *cfg);

/* Λ(to) − Λ(from): the expected arrivals in [from_ns, to_ns) of the whole run (all shares). */
double schedule_expected_between(const struct schedule_cfg *cfg, uint64_t from_ns, uint64_t to_ns);

/*
 * Parses a k6-like stage list "30s:100,1m:1000,30s:0" (duration as in
 * parse_duration_ns, then the target rate as in parse_rate_or_zero; spaces
 * around items are allowed) into out[0 .. *n). Returns 0, -EINVAL for
 * malformed text or an empty list, or -E2BIG for more than max stages.
 * *n is written only on success; out may be partly written on failure.
 */
int schedule_parse_stages(const char *spec, struct stage *out, size_t max, size_t *n);

#endif
