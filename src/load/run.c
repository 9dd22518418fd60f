/*
 * run.c — orchestrate workers and merge their seconds (see run.h).
 */
#include "load/run.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/clock.h"
#include "load/script.h"
#include "load/validity.h"
#include "core/hist_codec.h"

/* Workers start this long after they are created, all on the same instant. */
#define START_DELAY_NS (50 * NS_PER_MS)
#define STEAL_NOTE_PCT 2.0                   /* hypervisor steal worth naming in a late-generator verdict */
#define STEAL_HINT_PCT 5.0                   /* ... and worth a hint in any run */
#define MIN_JUDGED_WALL_NS (100 * NS_PER_MS) /* a worker's CPU shares mean something from this long */

/* Fires chaos edges due by now; returns the next edge (absolute ns) or UINT64_MAX. */
static uint64_t chaos_fire(const struct run_hooks *hooks, uint64_t start_ns, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    for (size_t i = 0; hooks && i < hooks->nchaos; i++) {
        struct chaos_window *w = &hooks->chaos[i];
        if (now >= start_ns) chaos_window_tick(w, now - start_ns);
        uint64_t edge = chaos_window_next(w);
        if (edge != UINT64_MAX && start_ns + edge < next) next = start_ns + edge;
    }
    return next;
}

/*
 * Keeps the second's histograms, encoded (a few hundred bytes each instead
 * of a 188 KB counts array), so `salvo compare` can bootstrap over seconds.
 * Per name only for RUN_HDR_NAMES names, so memory stays bounded with many
 * names: the first names to get traffic, the busiest of a second first.
 * While fewer are kept every name with traffic joins, so a kept name's
 * seconds before it joined really had none.
 */
static void keep_second_hists(struct run_result *r, struct timeline_row *row, const struct interval *iv)
{
    row->hdr_latency = hist_encode_base64(&iv->latency);
    row->hdr_service = hist_encode_base64(&iv->service);
    row->hdr_names = row->hdr_names_svc = NULL;
    if (iv->ngroups <= 1) return;
    if (!r->hdr_kept && !(r->hdr_kept = calloc(iv->ngroups, sizeof(*r->hdr_kept)))) abort();
    while (r->nhdr_kept < RUN_HDR_NAMES) {
        uint32_t best = UINT32_MAX;
        for (uint32_t g = 0; g < iv->ngroups; g++)
            if (!r->hdr_kept[g] && iv->groups[g].done &&
                (best == UINT32_MAX || iv->groups[g].done > iv->groups[best].done))
                best = g;
        if (best == UINT32_MAX) break;
        r->hdr_kept[best] = true;
        r->nhdr_kept++;
    }
    row->hdr_names = calloc(iv->ngroups, sizeof(*row->hdr_names));
    row->name_done = calloc(iv->ngroups, sizeof(*row->name_done));
    row->name_errors = calloc(iv->ngroups, sizeof(*row->name_errors));
    row->hdr_names_svc = calloc(iv->ngroups, sizeof(*row->hdr_names_svc));
    if (!row->hdr_names || !row->name_done || !row->name_errors || !row->hdr_names_svc) abort();
    for (uint32_t g = 0; g < iv->ngroups; g++) {
        const struct hist *h = r->hdr_kept[g] ? interval_group_latency(iv, g) : NULL;
        if (h && h->total_count) row->hdr_names[g] = hist_encode_base64(h);
        const struct hist *svc = r->hdr_kept[g] ? interval_group_service(iv, g) : NULL;
        if (svc && svc->total_count) row->hdr_names_svc[g] = hist_encode_base64(svc);
        /* Saturated, not wrapped: 4 G responses of one name in one second is beyond any generator. */
        row->name_done[g] = iv->groups[g].done > UINT32_MAX ? UINT32_MAX : (uint32_t)iv->groups[g].done;
        row->name_errors[g] = iv->groups[g].errors > UINT32_MAX ? UINT32_MAX : (uint32_t)iv->groups[g].errors;
    }
}

/* Appends the merged second sec of all workers to the timeline. */
static void merge_second(struct run_result *r, struct worker *ws, uint32_t n, uint64_t sec, struct interval *tmp)
{
    interval_reset(tmp);
    for (uint32_t i = 0; i < n; i++) {
        struct interval *iv = &ws[i].slots[sec % WORKER_SLOTS];
        interval_add(tmp, iv);
        interval_reset(iv);
        atomic_store_explicit(&ws[i].seconds_consumed, sec + 1, memory_order_release);
    }
    if (r->nrows == r->cap_rows) {
        r->cap_rows = r->cap_rows ? 2 * r->cap_rows : 64;
        r->timeline = realloc(r->timeline, r->cap_rows * sizeof(*r->timeline));
        if (!r->timeline) abort();
    }
    r->timeline[r->nrows++] = (struct timeline_row){.t = (uint32_t)sec,
                                                    .sent = tmp->sent,
                                                    .done = tmp->done,
                                                    .errors = tmp->errors,
                                                    .inflight = tmp->inflight,
                                                    .conns = tmp->conns,
                                                    .backlog = tmp->backlog,
                                                    .lag_max_us = (int64_t)tmp->lag_max_us,
                                                    .late = tmp->late,
                                                    .p50_us = hist_value_at_percentile(&tmp->latency, 50),
                                                    .p99_us = hist_value_at_percentile(&tmp->latency, 99),
                                                    .max_us = hist_max(&tmp->latency),
                                                    .lag_p50_us = hist_value_at_percentile(&tmp->send_lag, 50),
                                                    .lag_p99_us = hist_value_at_percentile(&tmp->send_lag, 99),
                                                    .arrivals = (uint64_t)tmp->send_lag.total_count};
    keep_second_hists(r, &r->timeline[r->nrows - 1], tmp);
}

/* Merges every second that all workers have published. */
static void merge_ready(struct run_result *r, struct worker *ws, uint32_t n, uint64_t *next_sec, struct interval *tmp,
                        const struct run_config *cfg, const struct run_hooks *hooks)
{
    /* A finished worker has nothing more to publish: it counts as ready. */
    for (;;) {
        bool any = false;
        for (uint32_t i = 0; i < n; i++) {
            bool done = atomic_load_explicit(&ws[i].finished, memory_order_acquire);
            bool has = atomic_load_explicit(&ws[i].seconds_published, memory_order_acquire) > *next_sec;
            if (!has && !done) return;
            any |= has;
        }
        if (!any) return;
        merge_second(r, ws, n, *next_sec, tmp);
        if (hooks && hooks->second) hooks->second(hooks->ctx, cfg, &r->timeline[r->nrows - 1], tmp);
        (*next_sec)++;
    }
}

/* True once every worker has ended. */
static bool all_finished(struct worker *ws, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (!atomic_load_explicit(&ws[i].finished, memory_order_acquire)) return false;
    return true;
}

/*
 * The script watchdog, once per wake-up of the main loop: a worker inside
 * one call into Lua for longer than SCRIPT_HANG_NS ends the run (every
 * worker is stopped). The hung worker gets a second to give up (the hook
 * script_watch asked for raises an error in interpreted code); one still
 * in Lua then (a compiled endless loop) is abandoned: its requests get
 * their outcomes from here and its thread is never joined. Returns the
 * abandoned worker's index or -1.
 */
static int watch_script(const struct run_config *cfg, struct run_result *r, struct worker *ws, uint32_t n,
                        uint64_t *hang_ns)
{
    uint64_t now = clock_now_ns();
    if (!r->script_hang[0]) {
        int id = script_watch(cfg->script, now, SCRIPT_HANG_NS, r->script_hang, sizeof(r->script_hang));
        if (id < 0) return -1;
        *hang_ns = now;
        for (uint32_t i = 0; i < n; i++)
            worker_stop(&ws[i]);
        return -1;
    }
    if (now - *hang_ns < NS_PER_S) return -1;
    for (uint32_t i = 0; i < n; i++) {
        struct script_thread *t = script_thread_of(cfg->script, i);
        if (atomic_load(&ws[i].finished) || !script_thread_in_lua(t)) continue;
        script_thread_abandon(t);
        if (script_thread_in_lua(t)) { /* still in Lua after the flag: it parks if it ever returns */
            worker_abandon(&ws[i]);
            return (int)i;
        }
    }
    return -1;
}

/* Waits up to wait_ns for SIGINT/SIGTERM; returns the signal that came, or 0. */
static int wait_signal(const sigset_t *set, uint64_t wait_ns)
{
    struct timespec ts = clock_ns_to_timespec(wait_ns);
    int sig = sigtimedwait(set, NULL, &ts);
    return sig > 0 ? sig : 0;
}

/*
 * A second SIGINT/SIGTERM while the first one's drain goes on: the user
 * wants out now (a --timeout of 60 s would hold them), so the process
 * dies of that signal as if salvo had never caught it, and a shell sees
 * 130 or 143. Nothing is written: the first signal was the one that asks
 * for results.
 */
static _Noreturn void die_of(int sig)
{
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    raise(sig); /* pending while blocked: delivered by the unblock */
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    _exit(128 + sig);
}

/* Adds one reason why the run is not valid. */
__attribute__((format(printf, 3, 4))) static void invalidate(struct run_result *r, unsigned rule, const char *fmt, ...)
{
    r->valid = false;
    r->invalid_rules |= rule;
    if (r->nreasons >= 4) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reasons[r->nreasons++], sizeof(r->reasons[0]), fmt, ap);
    va_end(ap);
}

/* What the run's connections spoke (run_result.protocol). */
static const char *spoken(const struct run_config *cfg, const struct run_result *r)
{
    if (cfg->http_mode == HTTP_2C) return r->h2.conns ? "h2c" : NULL;
    if (r->h2.conns == 0) return r->pool.opened ? "http/1.1" : NULL;
    return r->h2.conns >= r->pool.opened ? "h2" : "mixed";
}

/* Collects recorders, pool statistics and health figures after join. */
static void collect(const struct run_config *cfg, struct run_result *r, struct worker *ws, uint64_t start_ns)
{
    uint64_t last_send = start_ns;
    for (uint32_t i = 0; i < cfg->threads; i++) {
        struct worker *w = &ws[i];
        recorder_add(&r->total, &w->rec);
        struct pool_stats *p = &r->pool, *q = &w->pool.stats;
        p->opened += q->opened;
        p->connect_errors += q->connect_errors;
        p->closed_by_server += q->closed_by_server;
        p->closed_by_us += q->closed_by_us;
        p->closed_by_error += q->closed_by_error;
        p->max_open += q->max_open;
        p->idle += q->idle;
        p->wait_count += q->wait_count;
        p->wait_ns += q->wait_ns;
        p->retries += q->retries;
        p->backlog_max += q->backlog_max;
        h2_stats_add(&r->h2, &w->h2);
        r->sent += w->sent;
        if (w->last_send_ns > last_send) last_send = w->last_send_ns;
        r->interrupted |= w->interrupted;
        r->data_exhausted |= w->data_exhausted;
        /*
         * CPU as a share of the run, not of the thread's own life: a thread
         * whose share of a 0.5/s schedule was one arrival ends after a few
         * milliseconds of start-up work, and "77 %" of those said nothing
         * about the 2 s run. An interrupted run is as long as it lasted.
         */
        uint64_t span = w->wall_ns;
        if (!w->interrupted && cfg->duration_ns > span) span = cfg->duration_ns;
        double pct = span ? 100.0 * (double)w->cpu_ns / (double)span : 0;
        uint64_t busy = w->cpu_ns > w->spin_ns ? w->cpu_ns - w->spin_ns : 0;
        /* A worker with nothing to send (a small shard) is done in microseconds: its shares are noise. */
        bool judged = w->wall_ns > 0 && (w->wall_ns >= MIN_JUDGED_WALL_NS || w->wall_ns >= cfg->duration_ns / 2);
        double busy_pct = judged ? 100.0 * (double)busy / (double)w->wall_ns : 0;
        if (busy_pct > r->busy_pct_max) r->busy_pct_max = busy_pct;
        double wait_pct = judged ? 100.0 * (double)w->runq_wait_ns / (double)w->wall_ns : 0;
        if (wait_pct > r->runq_wait_pct_max) r->runq_wait_pct_max = wait_pct;
        r->spin_cpu_pct += w->wall_ns ? 100.0 * (double)w->spin_ns / (double)w->wall_ns : 0;
        if (w->loop.wake_samples && (double)w->loop.wake_late_ns / 1e3 > r->wake_late_us)
            r->wake_late_us = (double)w->loop.wake_late_ns / 1e3;
        r->cpu_pct[i] = pct;
        r->cpu_pct_total += pct;
        if (pct > r->cpu_pct_max) r->cpu_pct_max = pct;
        if (!r->first_error[0] && w->first_error[0])
            snprintf(r->first_error, sizeof(r->first_error), "%s", w->first_error);
        r->sessions.scheduled += w->sessions.scheduled;
        r->sessions.completed += w->sessions.completed;
        r->sessions.failed += w->sessions.failed;
        r->sessions.timeout += w->sessions.timeout;
        r->sessions.unsent += w->sessions.unsent;
        hist_add(&r->session_us, &w->session_us);
        const char *serr = script_thread_error(w->script);
        if (!r->script_error[0] && serr && serr[0]) snprintf(r->script_error, sizeof(r->script_error), "%s", serr);
    }
    r->protocol = spoken(cfg, r);
    double send_phase = (double)(last_send - start_ns) / 1e9;
    double planned = (double)cfg->duration_ns / 1e9;
    r->duration_s = r->interrupted ? send_phase : (send_phase > planned ? send_phase : planned);
    r->rate_achieved = r->duration_s > 0 ? (double)r->sent / r->duration_s : 0;
    r->rate_intended = cfg->rate;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    r->max_rss_kb = ru.ru_maxrss;
}

/*
 * The knee of a ramp: the first second from which the per-second p99 stays
 * above 3x its floor for two seconds in a row, where the floor is the
 * lowest per-second p99 of the seconds before it (seconds with fewer than
 * 20 responses are too noisy and skipped). The intended rate there is the
 * highest load the service took before latency left its floor.
 */
static void find_knee(const struct run_config *cfg, struct run_result *r)
{
    if (!cfg->nstages || cfg->closed) return;
    struct schedule_cfg sc = {
        .stages = cfg->stages, .nstages = cfg->nstages, .start_rate = cfg->start_rate, .nshards = 1, .nthreads = 1};
    double floor = -1;
    for (size_t i = 0; i + 1 < r->nrows; i++) {
        const struct timeline_row *row = &r->timeline[i], *next = &r->timeline[i + 1];
        if (row->done < 20) continue;
        if (floor >= 0 && row->p99_us > 3 * floor && next->p99_us > 3 * floor) {
            r->knee.found = true;
            r->knee.t = row->t;
            r->knee.rate_intended = schedule_rate_at(&sc, (uint64_t)row->t * NS_PER_S);
            r->knee.rate_sent = row->sent;
            r->knee.p99_us = row->p99_us;
            r->knee.floor_p99_us = (int64_t)floor;
            return;
        }
        if (floor < 0 || row->p99_us < floor) floor = (double)row->p99_us;
    }
}

/* Applies the validity rules (docs/measurement.md). */
static void judge(const struct run_config *cfg, struct run_result *r)
{
    r->valid = true;
    if (cfg->closed) return;
    /* Rule 1, late sends: the same function decides the per-second warnings (validity.h). */
    struct lag_figures f;
    char why[sizeof(r->reasons[0]) - 80]; /* room for the steal note */
    validity_figures(&f, &r->total.send_lag, &r->total.latency, (cfg->max_lag_ns + 500) / 1000, validity_spin_of(cfg));
    if (!validity_lag(&f, why, sizeof(why))) {
        if (r->machine.ok && r->machine.steal_pct >= STEAL_NOTE_PCT)
            invalidate(r, RUN_RULE_LATE_SENDS, "%s (the hypervisor stole %.0f%% of this machine's CPU time)", why,
                       r->machine.steal_pct);
        else
            invalidate(r, RUN_RULE_LATE_SENDS, "%s", why);
    }
    /*
     * When the achieved rate fell short, was it the generator? Work per
     * request is roughly constant, so a busiest thread that was busy b of
     * the time at the achieved rate a could not have sent more than about
     * a / b: if the intended rate is beyond that, the generator itself was
     * (or would have been) the bottleneck, whatever the server did. A thread
     * busy less than half the time was not saturated (its shortfall is the
     * server's, e.g. refused connections that never get sent).
     */
    double busy = r->busy_pct_max / 100;
    double share = cfg->rate / (cfg->nshards ? cfg->nshards : 1); /* -r is the whole run's; a shard sends its part */
    if (!r->interrupted && r->total.scheduled > 0 && share > 0 && r->rate_achieved < 0.99 * share && busy >= 0.5) {
        double capacity = r->rate_achieved / busy;
        if (share > 0.95 * capacity)
            invalidate(r, RUN_RULE_SATURATED,
                       "generator saturated: at %.0f/s its busiest thread was busy %.0f%% of the time, so it "
                       "cannot send the intended rate (add threads or lower the rate)",
                       r->rate_achieved, r->busy_pct_max);
    }
    /* Arrivals dropped because the backlog was full were never sent: the generator lost its schedule. */
    if (r->total.errors[ERR_BACKLOG_FULL])
        invalidate(r, RUN_RULE_OVERWHELMED,
                   "generator overwhelmed: %llu arrivals found its backlog full and were never sent (lower the "
                   "rate, raise -c, or add threads)",
                   (unsigned long long)r->total.errors[ERR_BACKLOG_FULL]);
    /*
     * A worker that waited for a CPU for a good share of the run sent late
     * and read responses late: its figures describe the machine.
     */
    if (!r->interrupted && r->runq_wait_pct_max > 15)
        invalidate(r, RUN_RULE_OVERLOADED,
                   "the machine was overloaded: a worker thread waited for a CPU %.0f%% of the time (>%d%%)",
                   r->runq_wait_pct_max, 15);
}

int run_execute(const struct run_config *cfg, const struct run_hooks *hooks, struct run_result *r)
{
    memset(r, 0, sizeof(*r));
    recorder_init(&r->total, cfg->gen->nnames);
    recorder_windows(&r->total, 0, cfg->chaos_spans, cfg->nchaos_spans);
    hist_init(&r->session_us, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
    r->has_sessions = cfg->script_sessions;
    r->nthreads = cfg->threads;
    r->cpu_pct = calloc(cfg->threads, sizeof(double));
    struct worker *ws = calloc(cfg->threads, sizeof(*ws));
    if (!ws || !r->cpu_pct) abort();
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* workers inherit the mask */
    kernel_counters_read(&r->kernel_before);
    cpu_times_read(&r->machine_before);
    uint64_t start_ns = clock_now_ns() + START_DELAY_NS;
    r->wall_start_ns = clock_wall_ns() + START_DELAY_NS;
    if (cfg->start_at_wall_ns) {
        /* Shards on several machines start on the same wall-clock instant. */
        uint64_t mono = clock_now_ns(), wall = clock_wall_ns();
        start_ns = cfg->start_at_wall_ns > wall ? mono + (cfg->start_at_wall_ns - wall) : mono;
        r->wall_start_ns = cfg->start_at_wall_ns;
    }
    if (hooks && hooks->started) hooks->started(hooks->ctx, start_ns);
    int rc = 0;
    uint32_t started = 0;
    for (; started < cfg->threads; started++) {
        if ((rc = worker_init(&ws[started], cfg, started, start_ns)) < 0 || (rc = worker_start(&ws[started])) < 0) {
            worker_release(&ws[started]);
            break;
        }
    }
    struct interval tmp;
    interval_init(&tmp, cfg->gen->nnames);
    uint64_t next_sec = 0;
    bool stopping = started < cfg->threads;
    int abandoned = -1;
    uint64_t hang_ns = 0;
    for (uint32_t i = 0; stopping && i < started; i++)
        worker_stop(&ws[i]);
    while (!all_finished(ws, started)) {
        uint64_t now = clock_now_ns();
        uint64_t next = start_ns + (next_sec + 1) * NS_PER_S + 20 * NS_PER_MS;
        uint64_t edge = chaos_fire(hooks, start_ns, now);
        if (edge < next) next = edge;
        uint64_t wait = next > now ? next - now : 0;
        if (wait > 100 * NS_PER_MS) wait = 100 * NS_PER_MS;
        int sig = wait_signal(&set, wait);
        if (sig && r->stop_signal) die_of(sig);
        if (sig) {
            r->stop_signal = sig;
            if (hooks && hooks->interrupted) hooks->interrupted(hooks->ctx, sig);
        }
        if (sig && !stopping) {
            stopping = true;
            for (uint32_t i = 0; i < started; i++)
                worker_stop(&ws[i]);
        }
        merge_ready(r, ws, started, &next_sec, &tmp, cfg, hooks);
        if (cfg->script && abandoned < 0) {
            abandoned = watch_script(cfg, r, ws, started, &hang_ns);
            if (r->script_hang[0]) stopping = true;
        }
    }
    for (size_t i = 0; hooks && i < hooks->nchaos; i++)
        chaos_window_finish(&hooks->chaos[i]);
    for (uint32_t i = 0; i < started; i++)
        if ((int)i != abandoned) worker_join(&ws[i]);
    merge_ready(r, ws, started, &next_sec, &tmp, cfg, hooks);
    r->elapsed_s = (double)(clock_now_ns() - start_ns) / 1e9;
    kernel_counters_read(&r->kernel_after);
    cpu_times_read(&r->machine_after);
    r->machine = cpu_times_share(&r->machine_before, &r->machine_after);
    if (started == cfg->threads) collect(cfg, r, ws, start_ns);
    r->interrupted |= r->stop_signal != 0; /* a signal in the last drained moment still asked to stop */
    for (uint32_t i = 0; i < started; i++) {
        if (ws[i].rc < 0 && rc == 0) rc = ws[i].rc;
        if ((int)i != abandoned) worker_release(&ws[i]);
    }
    interval_release(&tmp);
    if (abandoned < 0) free(ws); /* the abandoned thread may still read its worker until the process exits */
    if (hooks) {
        r->chaos = hooks->chaos;
        r->nchaos = hooks->nchaos;
    }
    find_knee(cfg, r);
    judge(cfg, r);
    return rc;
}

void run_result_release(struct run_result *r)
{
    if (!r) return;
    recorder_release(&r->total);
    hist_release(&r->session_us);
    for (size_t i = 0; i < r->nrows; i++) {
        struct timeline_row *row = &r->timeline[i];
        free(row->hdr_latency);
        free(row->hdr_service);
        for (uint32_t g = 0; row->hdr_names && g < r->total.ngroups; g++)
            free(row->hdr_names[g]);
        free(row->hdr_names);
        for (uint32_t g = 0; row->hdr_names_svc && g < r->total.ngroups; g++)
            free(row->hdr_names_svc[g]);
        free(row->hdr_names_svc);
        free(row->name_done);
        free(row->name_errors);
    }
    free(r->hdr_kept);
    r->hdr_kept = NULL;
    free(r->timeline);
    free(r->cpu_pct);
    r->timeline = NULL;
    r->cpu_pct = NULL;
}

bool run_steal_hint(const struct run_result *r, char *buf, size_t n)
{
    if (!r->machine.ok || r->machine.steal_pct < STEAL_HINT_PCT) return false;
    snprintf(buf, n,
             "the hypervisor took %.0f%% of this machine's CPU time (steal) during the run: everything on it, the "
             "generator included, ran slower than its hardware allows",
             r->machine.steal_pct);
    return true;
}
