/*
 * profile.c — fetch a pprof profile during the run (see profile.h).
 */
#include "load/profile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "http/client.h"

void profiles_init(struct profiles *p)
{
    memset(p, 0, sizeof(*p));
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);
}

int profiles_add(struct profiles *p, const char *url, uint64_t at_ns, bool at_given, uint64_t for_ns, bool for_given,
                 bool tls_verify, char *why, size_t whylen)
{
    if (p->n == PROFILE_MAX) {
        snprintf(why, whylen, "too many --profile URLs (at most %d)", PROFILE_MAX);
        return -EINVAL;
    }
    struct profile_job *j = &p->jobs[p->n];
    memset(j, 0, sizeof(*j));
    const char *bad;
    if (url_parse(&j->url, url, &bad) < 0 || url_resolve(&j->url, &bad) < 0) {
        char shown[512];
        url_mask_password(shown, sizeof(shown), url);
        snprintf(why, whylen, "bad --profile '%s': %s", shown, bad);
        return -EINVAL;
    }
    if (j->url.tls && !p->has_tls) {
        if (tls_init(&p->tls, tls_verify, &bad) < 0 || tls_set_alpn(&p->tls, false) < 0) {
            snprintf(why, whylen, "bad --profile '%s': %s", url, bad ? bad : "TLS setup failed");
            return -EINVAL;
        }
        p->has_tls = true;
    }
    j->url_text = url;
    j->ramp_group = -1;
    j->kept = true;
    j->at_ns = at_ns;
    j->at_given = at_given;
    j->for_ns = for_ns;
    j->for_given = for_given;
    p->n++;
    return 0;
}

/* The N of a seconds=N already in the path (0 when none or not a number). */
static uint64_t seconds_in(const char *path, bool *has)
{
    const char *q = strchr(path, '?');
    *has = false;
    for (const char *s = q; s && (s = strstr(s, "seconds=")); s++)
        if (s[-1] == '?' || s[-1] == '&') {
            *has = true;
            return strtoull(s + 8, NULL, 10) * NS_PER_S;
        }
    return 0;
}

/*
 * A ramp's --profile (no --profile-at, no seconds= in its URL) becomes
 * back-to-back profiles every K seconds over the whole run (K: --profile-for,
 * else a quarter of the run, at most PROFILE_RAMP_EVERY_NS; at least 2 s),
 * each K - 1 s long; each copy
 * remembers its origin in ramp_group. Returns the number of jobs in out.
 */
static size_t expand_ramp(const struct profiles *p, uint64_t run_ns, struct profile_job *out)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n && n < PROFILE_JOBS; i++) {
        const struct profile_job *j = &p->jobs[i];
        bool has;
        seconds_in(j->url.path, &has);
        if (j->at_given || has) {
            out[n++] = *j;
            continue;
        }
        uint64_t every = j->for_given ? j->for_ns : run_ns / 4;
        if (!j->for_given && every > PROFILE_RAMP_EVERY_NS) every = PROFILE_RAMP_EVERY_NS;
        /* Each lasts a second less than the spacing: Go refuses a CPU profile while the last one still runs. */
        every = every < 2 * NS_PER_S ? 2 * NS_PER_S : every / NS_PER_S * NS_PER_S;
        for (uint64_t at = 0; n < PROFILE_JOBS && (at == 0 || at + every <= run_ns); at += every) {
            out[n] = *j;
            out[n].at_ns = at;
            out[n].for_ns = every - NS_PER_S;
            out[n].at_given = out[n].for_given = true;
            out[n++].ramp_group = (int)i;
        }
    }
    return n;
}

int profiles_plan(struct profiles *p, uint64_t run_ns, const char *json_path, bool ramp, char *why, size_t whylen)
{
    char stem[4000] = "salvo";
    bool named = json_path && strcmp(json_path, "-");
    if (named) {
        snprintf(stem, sizeof(stem), "%s", json_path);
        size_t n = strlen(stem);
        if (n > 5 && !strcmp(stem + n - 5, ".json")) stem[n - 5] = '\0';
    }
    if (ramp) {
        struct profile_job *expanded = malloc(PROFILE_JOBS * sizeof(*expanded));
        if (!expanded) abort();
        p->n = expand_ramp(p, run_ns, expanded);
        memcpy(p->jobs, expanded, p->n * sizeof(*expanded));
        free(expanded);
    }
    for (size_t i = 0; i < p->n; i++) {
        struct profile_job *j = &p->jobs[i];
        if (!j->at_given) j->at_ns = run_ns / 3;
        if (j->at_ns >= run_ns) {
            snprintf(why, whylen, "bad --profile-at for '%s': at or after the end of the run (-d)", j->url_text);
            return -EINVAL;
        }
        uint64_t in_url = seconds_in(j->url.path, &j->has_seconds);
        if (j->has_seconds)
            j->for_ns = in_url;
        else {
            if (!j->for_given) j->for_ns = run_ns / 3 < PROFILE_MAX_FOR_NS ? run_ns / 3 : PROFILE_MAX_FOR_NS;
            uint64_t secs = (j->for_ns + NS_PER_S / 2) / NS_PER_S;
            if (!secs) secs = 1;
            size_t len = strlen(j->url.path);
            snprintf(j->url.path + len, sizeof(j->url.path) - len, "%cseconds=%llu",
                     strchr(j->url.path, '?') ? '&' : '?', (unsigned long long)secs);
            j->for_ns = secs * NS_PER_S;
        }
        snprintf(j->path, sizeof(j->path), "%s%sprofile-%zu.pb.gz", stem, named ? "." : "-", i + 1);
    }
    return 0;
}

void profiles_keep_around(struct profiles *p, bool has_knee, double knee_s)
{
    for (size_t i = 0; i < p->n && has_knee; i++) {
        struct profile_job *j = &p->jobs[i];
        if (j->ramp_group < 0) continue;
        /* The shot that holds the knee, and its neighbours of the same ramp (len: the spacing). */
        double at = (double)j->at_ns / 1e9, len = (double)(j->for_ns + NS_PER_S) / 1e9;
        bool near = knee_s >= at - len && knee_s < at + 2 * len;
        if (near || !j->kept) continue;
        j->kept = false;
        if (j->ok) unlink(j->path);
    }
}

/* Waits until the run's t0 is known and then until t0 + at_ns; returns t0, or 0 when stopped first. */
static uint64_t wait_fire(struct profiles *p, uint64_t at_ns)
{
    pthread_mutex_lock(&p->mu);
    while (!p->stop && !p->start_ns)
        pthread_cond_wait(&p->cond, &p->mu);
    uint64_t start = p->start_ns;
    struct timespec ts = clock_ns_to_timespec(start + at_ns);
    while (!p->stop && clock_now_ns() < start + at_ns)
        pthread_cond_timedwait(&p->cond, &p->mu, &ts);
    if (p->stop) start = 0;
    pthread_mutex_unlock(&p->mu);
    return start;
}

/* Writes the body to j->path (through a temporary name, so a half file never shows). */
static int save(struct profile_job *j, const char *body, size_t len)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.part", j->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, body + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = errno ? errno : EIO;
            close(fd);
            unlink(tmp);
            return -e;
        }
        off += (size_t)w;
    }
    if (close(fd) < 0 || rename(tmp, j->path) < 0) {
        int e = errno;
        unlink(tmp);
        return -e;
    }
    return 0;
}

/* The fetch itself, at its time; fills the job's results. */
static void fetch(struct profiles *p, struct profile_job *j, uint64_t start)
{
    uint64_t t0 = clock_now_ns();
    j->fetched_at_s = (double)(t0 - start) / 1e9;
    struct http_client_req req = {
        .method = "GET",
        .url = &j->url,
        .deadline_ns = t0 + j->for_ns + PROFILE_GRACE_NS,
        .max_body = PROFILE_MAX_BODY,
        .tls = p->has_tls ? &p->tls : NULL,
    };
    struct http_client_resp resp = {0};
    char err[256];
    int rc = http_client_do(&req, &resp, err, sizeof(err));
    j->took_s = (double)(clock_now_ns() - t0) / 1e9;
    if (rc < 0)
        snprintf(j->error, sizeof(j->error), "%s", err);
    else if (resp.status != 200)
        snprintf(j->error, sizeof(j->error), "HTTP %d", resp.status);
    else if (resp.body_len < 2 || (unsigned char)resp.body[0] != 0x1f || (unsigned char)resp.body[1] != 0x8b)
        snprintf(j->error, sizeof(j->error), "not a pprof profile (no gzip header; Content-Type '%s')",
                 resp.content_type);
    else if ((rc = save(j, resp.body, resp.body_len)) < 0)
        snprintf(j->error, sizeof(j->error), "cannot write the profile: %s", strerror(-rc));
    else {
        j->ok = true;
        j->bytes = resp.body_len;
    }
    http_client_resp_free(&resp);
}

static void *profile_thread(void *arg)
{
    struct profile_job *j = arg;
    struct profiles *p = j->owner;
    uint64_t start = wait_fire(p, j->at_ns);
    if (start) {
        pthread_mutex_lock(&p->mu);
        j->fetch_deadline_ns = clock_now_ns() + j->for_ns + PROFILE_GRACE_NS;
        pthread_mutex_unlock(&p->mu);
        fetch(p, j, start);
    } else
        snprintf(j->error, sizeof(j->error), "the run ended before the profile's time (%.1fs)", (double)j->at_ns / 1e9);
    if (j->error[0] && p->warn) p->warn(p->warn_ctx, j);
    pthread_mutex_lock(&p->mu);
    j->fetch_deadline_ns = 0;
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

uint64_t profiles_pending_until(struct profiles *p, size_t *n)
{
    uint64_t until = 0;
    *n = 0;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->n; i++)
        if (p->jobs[i].fetch_deadline_ns) {
            (*n)++;
            if (p->jobs[i].fetch_deadline_ns > until) until = p->jobs[i].fetch_deadline_ns;
        }
    pthread_mutex_unlock(&p->mu);
    return until;
}

int profiles_start(struct profiles *p)
{
    for (size_t i = 0; i < p->n; i++) {
        struct profile_job *j = &p->jobs[i];
        j->owner = p;
        int rc = pthread_create(&j->thread, NULL, profile_thread, j);
        if (rc) return -rc;
        j->started = true;
    }
    return 0;
}

void profiles_set_start(struct profiles *p, uint64_t start_ns)
{
    pthread_mutex_lock(&p->mu);
    p->start_ns = start_ns ? start_ns : 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
}

void profiles_stop(struct profiles *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->n; i++)
        if (p->jobs[i].started) {
            pthread_join(p->jobs[i].thread, NULL);
            p->jobs[i].started = false;
        }
}

void profiles_release(struct profiles *p)
{
    if (!p) return;
    profiles_stop(p);
    if (p->has_tls) tls_release(&p->tls);
    p->has_tls = false;
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mu);
}
