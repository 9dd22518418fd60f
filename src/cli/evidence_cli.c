/*
 * evidence_cli.c — `salvo run`'s --scrape and --profile: the options, the
 * checks before any traffic (a bad URL or regex exits 2), and the side
 * threads around the run. What the threads do is load/scrape.h and
 * load/profile.h; the JSON they leave is report/evidence.h.
 *
 * A side job never touches the run: its failures are one warning on
 * stderr each (not with -q: the cause is in the JSON) and never change the
 * run's figures, verdict or exit code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/common.h"
#include "cli/exit.h"
#include "cli/run_args.h"
#include "core/clock.h"
#include "core/units.h"
#include "report/evidence.h"

int evidence_opt(const struct cli_opt *o, const char *arg, struct run_args *a)
{
    const char *n = o->name;
    if (!strcmp(n, "scrape")) {
        if (a->nscrape == SCRAPE_MAX_TARGETS)
            return usage_error("too many --scrape URLs (at most %d)", SCRAPE_MAX_TARGETS);
        a->scrape_urls[a->nscrape++] = arg;
        return -1;
    }
    if (!strcmp(n, "scrape-match")) return a->scrape_match = arg, -1;
    if (!strcmp(n, "scrape-max-series")) {
        uint64_t v;
        int rc = cli_uint(o, arg, &v);
        if (rc < 0) a->scrape_cap = (uint32_t)v;
        return rc;
    }
    if (!strcmp(n, "profile")) {
        if (a->nprofile == PROFILE_MAX) return usage_error("too many --profile URLs (at most %d)", PROFILE_MAX);
        a->profile[a->nprofile++].url = arg;
        return -1;
    }
    /* --profile-at and --profile-for: of the --profile before them. */
    if (!a->nprofile) return usage_error("--%s '%s' comes before any --profile URL", n, arg);
    uint64_t ns;
    bool at = !strcmp(n, "profile-at");
    if (parse_duration_ns(arg, &ns) < 0 || (!at && ns < NS_PER_S))
        return cli_bad_value(o, arg,
                             at ? "expected a duration from the start, e.g. 10s" : "expected 1s or more, e.g. 30s");
    if (at) {
        a->profile[a->nprofile - 1].at_ns = ns;
        a->profile[a->nprofile - 1].at_given = true;
    } else {
        a->profile[a->nprofile - 1].for_ns = ns;
        a->profile[a->nprofile - 1].for_given = true;
    }
    return -1;
}

int evidence_prepare(const struct run_config *cfg, struct run_args *a)
{
    char why[600];
    if (a->scrape_match && !a->nscrape) return usage_error("--scrape-match needs a --scrape URL");
    if (a->nscrape) {
        a->scrape_ready = true;
        if (scrape_init(&a->scrape, a->scrape_urls, a->nscrape, a->scrape_match, a->scrape_cap, cfg->tls.verify, why,
                        sizeof(why)) < 0)
            return usage_error("%s", why);
    }
    if (a->nprofile) {
        profiles_init(&a->profiles);
        a->profiles_ready = true;
        for (size_t i = 0; i < a->nprofile; i++)
            if (profiles_add(&a->profiles, a->profile[i].url, a->profile[i].at_ns, a->profile[i].at_given,
                             a->profile[i].for_ns, a->profile[i].for_given, cfg->tls.verify, why, sizeof(why)) < 0)
                return usage_error("%s", why);
        bool ramp = cfg->nstages && !cfg->closed;
        if (profiles_plan(&a->profiles, cfg->duration_ns, cfg->json_path, ramp, why, sizeof(why)) < 0)
            return usage_error("%s", why);
    }
    return -1;
}

/* The first failure of a scrape target: one line, the rest is in the JSON. */
static void scrape_warn(void *ctx, const struct scrape_target *t, const char *cause)
{
    (void)ctx;
    fprintf(stderr, "salvo: warning: scrape '%s': %s (such rounds are gaps; causes in the JSON's scrape.targets)\n",
            t->url_text, cause);
}

static void profile_warn(void *ctx, const struct profile_job *j)
{
    (void)ctx;
    fprintf(stderr, "salvo: warning: profile '%s': %s\n", j->url_text, j->error);
}

void evidence_begin(const struct run_config *cfg, struct run_args *a)
{
    uint64_t planned = cfg->duration_ns + cfg->timeout_ns;
    if (a->scrape_ready) {
        if (!cfg->quiet) a->scrape.warn = scrape_warn;
        a->scrape.live = a->dash_addr != NULL; /* the dashboard draws the series as they come */
        if (scrape_start(&a->scrape, planned) < 0) fprintf(stderr, "salvo: warning: cannot start the scrape threads\n");
    }
    if (a->profiles_ready) {
        if (!cfg->quiet) a->profiles.warn = profile_warn;
        if (profiles_start(&a->profiles) < 0) fprintf(stderr, "salvo: warning: cannot start the profile threads\n");
    }
}

void evidence_started(struct run_args *a, uint64_t start_ns)
{
    if (a->scrape_ready) scrape_set_start(&a->scrape, start_ns);
    if (a->profiles_ready) profiles_set_start(&a->profiles, start_ns);
}

void evidence_second(struct run_args *a)
{
    if (!a->scrape_ready || !a->dash_addr) return;
    char *live = scrape_live(&a->scrape);
    if (live) dash_scrape(&a->dash, live);
    free(live);
}

void evidence_end(struct run_args *a, json_t *doc, size_t nrows, bool interrupted)
{
    if (a->scrape_ready) {
        scrape_stop(&a->scrape);
        json_object_set_new(doc, "scrape", evidence_scrape_json(&a->scrape, nrows));
    }
    if (a->profiles_ready) {
        size_t n;
        uint64_t until = profiles_pending_until(&a->profiles, &n), now = clock_now_ns();
        if (n && until > now + NS_PER_S) /* the user asked for it, but a silent wait looks like a hang */
            fprintf(stderr, "salvo: waiting up to %.0fs for %zu profile%s still being fetched%s\n",
                    (double)(until - now) / 1e9, n, n == 1 ? "" : "s", interrupted ? " (Ctrl-C again to abort)" : "");
        profiles_stop(&a->profiles);
        const json_t *knee = json_object_get(doc, "knee");
        profiles_keep_around(&a->profiles, json_is_object(knee), json_number_value(json_object_get(knee, "t")));
        json_object_set_new(doc, "profiles", evidence_profiles_json(&a->profiles));
    }
}

int evidence_step(const struct run_config *cfg, struct run_args *a, int step)
{
    if (!a->nscrape && !a->nprofile) return -1;
    evidence_release(a);
    struct run_config c = *cfg; /* read only: evidence_prepare takes the step's length and a per-step file stem */
    char stem[4000];
    const char *base = cfg->json_path && strcmp(cfg->json_path, "-") ? cfg->json_path : "salvo-find";
    size_t n = strlen(base);
    if (n > 5 && !strcmp(base + n - 5, ".json")) n -= 5;
    snprintf(stem, sizeof(stem), "%.*s.step%d.json", (int)n, base, step);
    c.json_path = stem;
    return evidence_prepare(&c, a);
}

void evidence_keep_profiles(struct run_args *a, json_t *doc, bool keep)
{
    json_t *list = json_object_get(doc, "profiles");
    for (size_t i = 0; a->profiles_ready && i < a->profiles.n; i++) {
        const struct profile_job *j = &a->profiles.jobs[i];
        if (!keep && j->ok) unlink(j->path);
        json_t *o = json_array_get(list, i);
        if (o) json_object_set_new(o, "kept", json_boolean(keep && j->ok));
    }
}

void evidence_release(struct run_args *a)
{
    if (a->scrape_ready) scrape_release(&a->scrape);
    if (a->profiles_ready) profiles_release(&a->profiles);
    a->scrape_ready = a->profiles_ready = false;
}
