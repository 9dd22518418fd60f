/*
 * profile.h — `salvo run --profile URL`: a server's Go pprof profile,
 * fetched while the load runs and saved next to the results.
 *
 * Each profile has its own thread that sleeps until the run's t0 + at,
 * then GETs the URL (with `seconds=N` added for a CPU profile unless the
 * URL already says `seconds=`) under a deadline of the profile's length
 * plus PROFILE_GRACE_NS: a hanging endpoint costs a warning and an error
 * in the JSON, and (with the default placement, the middle third of the
 * run) never delays the run's end. The body must be gzip (what pprof
 * serves); it is written to path. The threads touch only their own job.
 */
#ifndef SALVO_PROFILE_H
#define SALVO_PROFILE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/tls.h"
#include "http/url.h"

#define PROFILE_MAX 8   /* --profile URLs */
#define PROFILE_JOBS 32 /* profiles, once a ramp's are spread over it */
#define PROFILE_RAMP_EVERY_NS (10 * 1000000000ull)
#define PROFILE_MAX_FOR_NS (30 * 1000000000ull) /* the default length is the middle third, at most this */
#define PROFILE_GRACE_NS (2 * 1000000000ull)
#define PROFILE_MAX_BODY (64u << 20)

struct profiles;

/* One profile to fetch and what became of it. */
struct profile_job {
    struct profiles *owner;
    const char *url_text;   /* as given */
    struct url url;         /* with seconds=N added when it was not there */
    uint64_t at_ns, for_ns; /* from the run's t0; for_ns 0: a snapshot (no seconds=) */
    bool at_given, for_given, has_seconds;
    int ramp_group;             /* -1; else one of a ramp's back-to-back profiles, from --profile number ramp_group */
    bool kept;                  /* false: a ramp's profile away from the knee, deleted after the run */
    uint64_t fetch_deadline_ns; /* while the fetch runs: when it ends at the latest (under the owner's mu) */
    char path[4096];
    pthread_t thread;
    bool started;
    /* Results (read after profile_stop). */
    bool ok;
    size_t bytes;
    double fetched_at_s, took_s; /* from the run's t0 */
    char error[300];
};

/* All profiles of one run. */
struct profiles {
    struct profile_job jobs[PROFILE_JOBS];
    size_t n;
    struct tls tls;
    bool has_tls;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    uint64_t start_ns; /* the run's t0, 0 until known */
    bool stop;
    void (*warn)(void *ctx, const struct profile_job *j); /* on a failure, from the job's thread; may be NULL */
    void *warn_ctx;
};

/* Prepares p (empty). */
void profiles_init(struct profiles *p);

/*
 * Adds a profile of url at at_ns for for_ns (given: the options were
 * given). Returns 0, or -EINVAL with why (one line naming the culprit).
 */
int profiles_add(struct profiles *p, const char *url, uint64_t at_ns, bool at_given, uint64_t for_ns, bool for_given,
                 bool tls_verify, char *why, size_t whylen);

/*
 * Fills what the defaults depend on: the run's planned length (at: its
 * middle third; for: that third, at most 30 s), the seconds= of each URL,
 * and the file names from the JSON path (NULL or "-": salvo-profile-N.pb.gz).
 * With ramp (--stages), a --profile without --profile-at or seconds=
 * becomes back-to-back profiles over the whole run, every --profile-for
 * (default a quarter of the run, at most 10 s), at most PROFILE_JOBS in all.
 * Returns 0, or -EINVAL with why when a profile would start after the run.
 */
int profiles_plan(struct profiles *p, uint64_t run_ns, const char *json_path, bool ramp, char *why, size_t whylen);

/*
 * After a ramp: keeps the profiles that hold the knee (second knee_s) and
 * their neighbours, deletes the files of the others (kept = false). Without
 * a knee every profile is kept.
 */
void profiles_keep_around(struct profiles *p, bool has_knee, double knee_s);

/* Starts the threads; each waits for profiles_set_start. */
int profiles_start(struct profiles *p);
void profiles_set_start(struct profiles *p, uint64_t start_ns);

/* How many profiles are being fetched now (*n), and when the last of them ends at the latest (0: none). */
uint64_t profiles_pending_until(struct profiles *p, size_t *n);

/* Ends the wait of profiles not yet begun (they fail: "the run ended first") and joins all. */
void profiles_stop(struct profiles *p);
void profiles_release(struct profiles *p);

#endif
