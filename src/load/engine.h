/*
 * engine.h — a worker thread: its schedule share, connections and recorders.
 *
 * Each worker runs its own event loop and owns everything it touches while
 * the run goes on (style rule 5). The main thread talks to a worker only
 * through three things: the stop request (an atomic flag plus an eventfd
 * that wakes the loop), the per-second interval slots (published with a
 * release store of the finished-seconds counter), and, after join, the
 * worker's recorder and pool statistics.
 */
#ifndef SALVO_ENGINE_H
#define SALVO_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"
#include "load/backlog.h"
#include "load/config.h"
#include "load/conn.h"
#include "load/h2.h"
#include "load/pool.h"
#include "load/recorder.h"
#include "load/schedule.h"

#define WORKER_SLOTS 4            /* seconds in flight between a worker and the main thread (it merges within ~20 ms) */
#define WORKER_SCRATCH_SIZE 65536 /* shared read buffer of a worker */

/* One worker thread. */
struct worker {
    uint32_t id;
    const struct run_config *cfg;
    const struct transport *transport; /* plain or TLS, chosen once */
    const struct proto_ops *proto;     /* HTTP/1.1 or h2c, chosen beside the transport (TLS: until ALPN says) */
    pthread_t thread;
    uint64_t start_ns, end_ns, hard_end_ns;

    struct loop loop;
    struct schedule sched;
    bool sched_done;
    uint64_t next_due_ns, next_index; /* open model: the share's next arrival */
    struct timer sched_timer, backlog_timer, second_timer, ramp_timer;
    struct timer end_timer; /* open model: wakes the loop when the run's duration is over */

    struct pool pool; /* this worker's connections, their counts and statistics */
    struct backlog backlog;
    bool in_pump, pump_again;

    struct body_budget budget; /* this worker's share of --body-budget */
    struct timer budget_timer; /* resumes connections that waited for room, outside the callback that freed it */

    struct recorder rec;
    struct h2_stats h2;           /* HTTP/2 figures of this worker's connections */
    struct h2_backoff h2_backoff; /* servers allowing 0 streams: connections opened one per delay */
    uint64_t inflight_max;
    uint64_t cpu_ns, wall_ns, spin_ns;
    uint64_t runq_wait_ns; /* time runnable but without a CPU: the machine was overloaded */
    char *scratch;         /* reads land here; only partial heads are carried per connection */

    struct interval slots[WORKER_SLOTS];
    uint64_t cur_sec;
    _Atomic uint64_t seconds_published; /* slots [0, this) are final */
    _Atomic uint64_t seconds_consumed;  /* main thread has merged and reset [0, this) */
    atomic_bool finished;
    uint64_t sent, last_send_ns;

    int wake_fd;
    struct loop_io wake_io;
    atomic_bool stop;
    bool interrupted;
    bool data_exhausted;               /* --pick once ran out of rows */
    char first_error[256];             /* first TLS/connect failure, for the summary */
    struct script_thread *script;      /* --script: this worker's Lua state (NULL without) */
    bool script_stopped;               /* thread:stop(): the rest of the share is unsent */
    uint32_t script_fails;             /* closed model: request() failures in a row */
    const struct url *url;             /* where connections go: cfg->url, or url_own with setup()'s thread.addr */
    struct session_rec *sessions_head; /* session(): the running sessions (engine_session.c) */
    uint32_t sessions_live;
    struct session_counts {
        uint64_t scheduled, completed, failed, timeout, unsent;
    } sessions;
    struct hist session_us;    /* completed sessions, from their scheduled start */
    struct timer session_kick; /* a step was added to the backlog: pump */
    struct url url_own;
    int rc;
};

/* The interval slot of the current second. */
static inline struct interval *cur_interval(struct worker *w)
{
    return &w->slots[w->cur_sec % WORKER_SLOTS];
}

/* True when arrivals come off a schedule: the open model, or the closed one paced by --rate. */
static inline bool engine_uses_schedule(const struct run_config *cfg)
{
    return !cfg->closed || cfg->rate > 0;
}

/*
 * --script (engine_script.c): calls request() for arrival p (its bytes
 * are kept under p->index until its outcome). True when p is ready to go,
 * with the number of requests the bytes hold; false when request() failed:
 * then that is p's outcome (script_error), counted as scheduled.
 */
bool engine_script_arrival(struct worker *w, struct pending *p);
/*
 * --script with response() (engine_script.c): calls it on stream s's kept
 * response. True when it raised an error (the request's outcome is then
 * script_error); *check_failed when a check() in it failed.
 */
bool engine_script_response(struct worker *w, struct stream *s, int status, bool *check_failed);

/* engine_session.c: arrival p starts a session (session() is defined). */
void engine_session_arrival(struct worker *w, const struct pending *p);
/* A session step's response is complete (failed: response-side script error): resume its session. True when
 * an s:check failed before the session's next step or sleep: the step is check_failed. */
bool engine_session_answered(struct worker *w, struct stream *s, int status, bool failed);
/* A session step ended without a response: resume its session with the error. */
void engine_session_lost(struct worker *w, const struct pending *p, enum salvo_err err);
/* The worker ends: sessions still running count as timeout. */
void engine_session_finish(struct worker *w);

/*
 * The engine's side of the hand-back, called by the connection state
 * machine when a request ended: the open model hands the backlog to
 * connections; the closed model gives c (idle or with a free stream slot,
 * or a FREE slot holding a request, or NULL for any free slot) its next
 * request.
 */
void engine_pump(struct worker *w, uint64_t now);
void engine_closed_next(struct worker *w, struct conn *c);
/* Gives pending p to connection c (off its list or a free slot): connects it, or sends. */
void engine_hand(struct worker *w, struct conn *c, const struct pending *p);
/* The closed ramp's timer (--conn-stages, engine_closed.c): every 100 ms, opens connections up to w's share. */
void engine_closed_ramp(struct timer *t, uint64_t now);
/* --pick once used every row: the run ends for w (with a schedule, the rest of its share is unsent). */
void engine_data_used_up(struct worker *w);
/* The script called thread:stop(): this worker takes no more arrivals (open model: the rest are unsent). */
void engine_script_stop(struct worker *w);
/* Records n requests of pending p as failed with err (or timed out) and lets go of its script bytes. */
void engine_record_lost(struct worker *w, const struct pending *p, enum salvo_err err);
/*
 * The watchdog gave up on w (stuck in Lua): the main thread gives every
 * pending request of w its outcome as worker_finish would, and marks w
 * finished. w's thread is never joined.
 */
void worker_abandon(struct worker *w);

/*
 * The connection (off its pool list, or a free slot) that pending request
 * p takes now, or NULL: it waits (engine_pick.c). Open model: idle, a free
 * HTTP/2 stream, a new connection, a free pipelined slot; the paced
 * closed model over h2: idle, new, a free stream. *held: the zero-stream
 * back-off kept a connection from opening.
 */
struct conn *engine_pick_open(struct worker *w, const struct pending *p, uint64_t now, bool *held);
struct conn *engine_pick_closed(struct worker *w, const struct pending *p, uint64_t now, bool *held);

/* Prepares worker id of cfg->threads; start_ns is the common run start. */
int worker_init(struct worker *w, const struct run_config *cfg, uint32_t id, uint64_t start_ns);
/* Starts the thread. Returns 0 or -errno. */
int worker_start(struct worker *w);
/* Asks the worker to stop now (Ctrl-C); safe from any thread. */
void worker_stop(struct worker *w);
/* Waits for the thread to end. */
void worker_join(struct worker *w);
/* Frees everything; NULL is fine. */
void worker_release(struct worker *w);

#endif
