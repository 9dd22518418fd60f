/*
 * json.c — build the results JSON with jansson (see json.h).
 *
 * Pure serialization: every figure written here was measured by the run or
 * derived by report/analysis.c (chaos baselines and recovery, hints, the
 * intended arrivals per second). A figure computed here would be a second
 * source of truth for the renderers that read the JSON.
 */
#include "report/json.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/hist_codec.h"
#include "core/version.h"
#include "load/script.h"

/* {min, mean, p50, ..., max, count} of a histogram in µs. */
json_t *report_json_percentiles(const struct hist *h)
{
    json_t *o = json_object();
    json_object_set_new(o, "min", json_integer(hist_min(h)));
    json_object_set_new(o, "mean", json_real(h->total_count ? hist_mean(h) : 0));
    json_object_set_new(o, "p50", json_integer(hist_value_at_percentile(h, 50)));
    json_object_set_new(o, "p90", json_integer(hist_value_at_percentile(h, 90)));
    json_object_set_new(o, "p99", json_integer(hist_value_at_percentile(h, 99)));
    json_object_set_new(o, "p99_9", json_integer(hist_value_at_percentile(h, 99.9)));
    json_object_set_new(o, "p99_99", json_integer(hist_value_at_percentile(h, 99.99)));
    json_object_set_new(o, "max", json_integer(hist_max(h)));
    json_object_set_new(o, "count", json_integer(h->total_count));
    return o;
}

/* {"200": n, ...} from a status counter array. */
static json_t *status_object(const uint64_t *status)
{
    json_t *o = json_object();
    for (int i = 0; status && i < REC_MAX_STATUS; i++) {
        if (!status[i]) continue;
        char key[16];
        snprintf(key, sizeof(key), "%d", i);
        json_object_set_new(o, key, json_integer((json_int_t)status[i]));
    }
    return o;
}

/* An array of strings. */
static json_t *string_array(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* Where the requests came from and what gated them (secrets already redacted by the front-end). */
static void provenance_object(json_t *o, const struct run_provenance *p)
{
    enum { BODY_SHOWN = 4096 }; /* a body is provenance, not payload: its head is enough */
    if (p->data_path) json_object_set_new(o, "data", json_string(p->data_path));
    if (p->pick) json_object_set_new(o, "pick", json_string(p->pick));
    if (p->targets_path) json_object_set_new(o, "targets", json_string(p->targets_path));
    json_object_set_new(o, "headers", string_array(p->headers, p->nheaders));
    if (p->body) {
        size_t len = strlen(p->body);
        json_object_set_new(o, "body", json_stringn(p->body, len > BODY_SHOWN ? BODY_SHOWN : len));
        json_object_set_new(o, "body_bytes", json_integer((json_int_t)len));
    }
    if (p->body_file) json_object_set_new(o, "body_file", json_string(p->body_file));
    json_object_set_new(o, "thresholds", string_array(p->thresholds, p->nthresholds));
    if (p->nredact) json_object_set_new(o, "redact", string_array(p->redact, p->nredact));
}

/* The frozen configuration, for provenance and for merge's compatibility check. */
static json_t *config_object(const struct run_config *cfg)
{
    json_t *o = json_object();
    json_object_set_new(o, "url", json_string(cfg->url_text));
    json_object_set_new(o, "method", json_string(cfg->method));
    json_object_set_new(o, "name", json_string(cfg->name));
    json_object_set_new(o, "rate", json_real(cfg->rate));
    json_object_set_new(o, "arrival", json_string(cfg->arrival == ARRIVAL_POISSON ? "poisson" : "constant"));
    json_object_set_new(o, "duration_s", json_real((double)cfg->duration_ns / 1e9));
    json_object_set_new(o, "timeout_s", json_real((double)cfg->timeout_ns / 1e9));
    if (cfg->session_timeout_ns)
        json_object_set_new(o, "session_timeout_s", json_real((double)cfg->session_timeout_ns / 1e9));
    json_object_set_new(o, "connections", json_integer(cfg->connections));
    json_object_set_new(o, "threads", json_integer(cfg->threads));
    json_object_set_new(o, "seed", json_integer((json_int_t)cfg->seed));
    if (cfg->gen && cfg->gen->data) /* the seed of --pick random's rows: new each run unless --pick-seed */
        json_object_set_new(o, "pick_seed", json_integer((json_int_t)cfg->gen->pick_seed));
    json_object_set_new(o, "shard", json_integer(cfg->shard));
    json_object_set_new(o, "shards", json_integer(cfg->nshards));
    json_object_set_new(o, "spin_us", json_real((double)cfg->spin_ns / 1e3));
    json_object_set_new(o, "spin_auto", json_boolean(cfg->spin_auto)); /* spin_us is then unused */
    json_object_set_new(o, "start_at_unix_ms", json_integer((json_int_t)(cfg->start_at_wall_ns / 1000000)));
    json_object_set_new(o, "model", json_string(cfg->closed ? "closed" : "open"));
    json_t *stages = json_array();
    for (size_t i = 0; i < cfg->nstages; i++)
        json_array_append_new(stages, json_pack("{s:f,s:f}", "duration_s", (double)cfg->stages[i].duration_ns / 1e9,
                                                "target_rate", cfg->stages[i].target_rate));
    json_object_set_new(o, "stages", stages);
    json_object_set_new(o, "insecure", json_boolean(!cfg->tls.verify));
    json_object_set_new(o, "keepalive", json_boolean(!cfg->no_keepalive));
    static const char *const modes[] = {"auto", "http/1.1", "h2", "h2c"};
    json_object_set_new(o, "protocol", json_string(modes[cfg->http_mode]));
    json_object_set_new(o, "streams", json_integer(cfg->streams)); /* 0: the server's limit, at most 100 */
    /* HTTP/2 windows and header table salvo sent (null: the protocol's default) */
    json_object_set_new(o, "h2_window", cfg->h2_window ? json_integer(cfg->h2_window) : json_null());
    json_object_set_new(o, "h2_conn_window", cfg->h2_conn_window ? json_integer(cfg->h2_conn_window) : json_null());
    json_object_set_new(o, "h2_header_table",
                        cfg->h2_header_table_set ? json_integer(cfg->h2_header_table) : json_null());
    provenance_object(o, &cfg->prov);
    json_object_set_new(o, "command", json_string(cfg->command_line));
    json_object_set_new(o, "start_rate", json_real(cfg->start_rate));
    json_object_set_new(o, "stages_ramp", json_string(cfg->conn_ramp ? "connections" : "rate"));
    json_object_set_new(o, "allow_invalid", json_boolean(cfg->allow_invalid));
    return o;
}

/* settings {name: {"value": entries}}: the distinct values servers sent, "other" past the kept ones. */
static json_t *h2_settings_object(const struct h2_stats *h)
{
    json_t *o = json_object();
    for (uint32_t id = 1; id <= H2_SETTING_IDS; id++) {
        const struct h2_setting_hist *hs = &h->settings[id - 1];
        if (!hs->n || !h2_setting_name(id)) continue;
        json_t *values = json_object();
        for (uint32_t k = 0; k < hs->n; k++) {
            char v[16];
            snprintf(v, sizeof v, "%u", hs->value[k]);
            json_object_set_new(values, v, json_integer((json_int_t)hs->count[k]));
        }
        if (hs->other) json_object_set_new(values, "other", json_integer((json_int_t)hs->other));
        json_object_set_new(o, h2_setting_name(id), values);
    }
    if (h->settings_unknown) json_object_set_new(o, "unknown", json_integer((json_int_t)h->settings_unknown));
    return o;
}

/*
 * h2 {conns, streams_max, goaways, resets {code: n}, cancels,
 * settings_max_streams_min, settings {name: {value: n}}, flow_wait
 * {streams, total_ms, max_ms}, zero_limit, zero_holds}: aggregates only.
 */
static json_t *h2_object(const struct h2_stats *h)
{
    static const char *const codes[H2_CODES] = {"no_error",
                                                "protocol_error",
                                                "internal_error",
                                                "flow_control_error",
                                                "settings_timeout",
                                                "stream_closed",
                                                "frame_size_error",
                                                "refused_stream",
                                                "cancel",
                                                "compression_error",
                                                "connect_error",
                                                "enhance_your_calm",
                                                "inadequate_security",
                                                "http_1_1_required",
                                                "other"};
    json_t *resets = json_object();
    for (int i = 0; i < H2_CODES; i++)
        if (h->resets[i]) json_object_set_new(resets, codes[i], json_integer((json_int_t)h->resets[i]));
    json_t *o = json_pack("{s:I,s:I,s:I,s:o,s:I,s:o}", "conns", (json_int_t)h->conns, "streams_max",
                          (json_int_t)h->streams_max, "goaways", (json_int_t)h->goaways, "resets", resets, "cancels",
                          (json_int_t)h->cancels, "settings_max_streams_min",
                          h->settings_seen ? json_integer((json_int_t)h->settings_min_streams) : json_null());
    json_object_set_new(o, "settings", h2_settings_object(h));
    json_object_set_new(o, "flow_wait",
                        json_pack("{s:I,s:f,s:f}", "streams", (json_int_t)h->flow_waits, "total_ms",
                                  (double)h->flow_wait_ns / 1e6, "max_ms", (double)h->flow_wait_max_ns / 1e6));
    json_object_set_new(o, "zero_limit", json_integer((json_int_t)h->zero_limit));
    json_object_set_new(o, "zero_holds", json_integer((json_int_t)h->zero_holds));
    return o;
}

/* requests {scheduled, ok, http_error, failed, timeout, unsent}. */
/* requests {scheduled, ok, http_error, check_failed, failed, timeout, unsent}. */
static json_t *requests_object(const struct recorder *t)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "scheduled", (json_int_t)t->scheduled, "ok", (json_int_t)t->ok,
                     "http_error", (json_int_t)t->http_error, "check_failed", (json_int_t)t->check_failed, "failed",
                     (json_int_t)t->failed, "timeout", (json_int_t)t->timeout, "unsent", (json_int_t)t->unsent);
}

/*
 * checks {NAME: {expr, pass, fail, body_too_large}}: counts only, so a
 * merge sums them and thresholds derive the rate from them.
 */
static json_t *checks_object(const struct run_config *cfg, const struct recorder *t)
{
    json_t *o = json_object();
    for (uint32_t i = 0; i < cfg->nchecks && i < CHECK_MAX; i++)
        json_object_set_new(o, cfg->checks[i].name,
                            json_pack("{s:I,s:I,s:I}", "pass", (json_int_t)t->check_pass[i], "fail",
                                      (json_int_t)t->check_fail[i], "body_too_large",
                                      (json_int_t)t->check_too_large[i]));
    /* Lua's check(name, cond) names follow the --check ones (load/script.h). */
    for (uint32_t k = 0; k < script_check_count(cfg->script); k++) {
        uint32_t i = cfg->nchecks + k;
        if (i >= CHECK_MAX) break;
        json_object_set_new(o, script_check_name(cfg->script, k),
                            json_pack("{s:I,s:I,s:I}", "pass", (json_int_t)t->check_pass[i], "fail",
                                      (json_int_t)t->check_fail[i], "body_too_large",
                                      (json_int_t)t->check_too_large[i]));
    }
    return o;
}

/* groups {name: {requests, latency_us, status}}. */
static json_t *groups_object(const struct run_config *cfg, const struct recorder *t)
{
    json_t *o = json_object();
    for (uint32_t g = 0; g < t->ngroups; g++) {
        const struct group_rec *gr = &t->groups[g];
        json_t *e =
            json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "requests", (json_int_t)gr->requests, "ok", (json_int_t)gr->ok,
                      "http_error", (json_int_t)gr->http_error, "check_failed", (json_int_t)gr->check_failed, "failed",
                      (json_int_t)gr->failed, "timeout", (json_int_t)gr->timeout);
        json_object_set_new(e, "latency_us", report_json_percentiles(&gr->latency));
        json_object_set_new(e, "status", status_object(gr->status));
        char *b64 = hist_encode_base64(&gr->latency);
        if (b64) json_object_set_new(e, "hdr_latency_us", json_string(b64));
        free(b64);
        json_object_set_new(o, cfg->gen->names[g], e);
    }
    return o;
}

/*
 * groups[name].timeline_hdr_latency_us: the name's latency histogram of each
 * timeline second (null when it had none), and timeline_done /
 * timeline_errors its responses and errors of each second, for the names
 * whose per-second histograms the run kept (at most RUN_HDR_NAMES, see
 * run.c), so `salvo compare` can bootstrap per name. A run of one name has
 * none: its timeline's histograms are that name's.
 */
static void groups_timelines(json_t *groups, const struct run_config *cfg, const struct run_result *r)
{
    const struct recorder *t = &r->total;
    for (uint32_t g = 0; r->hdr_kept && g < t->ngroups; g++) {
        if (!r->hdr_kept[g]) continue;
        json_t *a = json_array(), *svc = json_array(), *done = json_array(), *errors = json_array();
        for (size_t i = 0; i < r->nrows; i++) {
            const struct timeline_row *row = &r->timeline[i];
            const char *b64 = row->hdr_names ? row->hdr_names[g] : NULL;
            const char *b64_svc = row->hdr_names_svc ? row->hdr_names_svc[g] : NULL;
            json_array_append_new(a, b64 ? json_string(b64) : json_null());
            json_array_append_new(svc, b64_svc ? json_string(b64_svc) : json_null());
            json_array_append_new(done, json_integer(row->name_done ? row->name_done[g] : 0));
            json_array_append_new(errors, json_integer(row->name_errors ? row->name_errors[g] : 0));
        }
        json_t *e = json_object_get(groups, cfg->gen->names[g]);
        json_object_set_new(e, "timeline_hdr_latency_us", a);
        json_object_set_new(e, "timeline_hdr_service_time_us", svc);
        json_object_set_new(e, "timeline_done", done);
        json_object_set_new(e, "timeline_errors", errors);
    }
}

/* pool {opened, closed, ..., requests_per_conn} like Go's sql.DBStats. */
static json_t *pool_object(const struct pool_stats *p, const struct recorder *t)
{
    uint64_t closed = p->closed_by_server + p->closed_by_us + p->closed_by_error;
    json_t *o =
        json_pack("{s:I,s:I,s:{s:I,s:I,s:I},s:I,s:I,s:I,s:I,s:f,s:I,s:I}", "opened", (json_int_t)p->opened, "closed",
                  (json_int_t)closed, "closed_by", "server", (json_int_t)p->closed_by_server, "us",
                  (json_int_t)p->closed_by_us, "error", (json_int_t)p->closed_by_error, "connect_errors",
                  (json_int_t)p->connect_errors, "max_open", (json_int_t)p->max_open, "idle", (json_int_t)p->idle,
                  "wait_count", (json_int_t)p->wait_count, "wait_duration_us", (double)p->wait_ns / 1e3, "retries",
                  (json_int_t)p->retries, "backlog_max", (json_int_t)p->backlog_max);
    /* Responses per established connection: 1 without keep-alive, large with it. */
    json_object_set_new(o, "requests_per_conn",
                        json_real(p->opened ? (double)(t->ok + t->http_error) / (double)p->opened : 0));
    return o;
}

/* generator {cpu_pct, cpu_pct_per_thread, max_rss_kb, send_lag_us}. */
static json_t *generator_object(const struct run_result *r)
{
    json_t *per = json_array();
    for (uint32_t i = 0; i < r->nthreads; i++)
        json_array_append_new(per, json_real(r->cpu_pct[i]));
    json_t *o = json_object();
    json_object_set_new(o, "cpu_pct", json_real(r->cpu_pct_total));
    json_object_set_new(o, "cpu_pct_max_thread", json_real(r->cpu_pct_max));
    json_object_set_new(o, "spin_cpu_pct", json_real(r->spin_cpu_pct)); /* part of cpu_pct */
    json_object_set_new(o, "wake_late_p90_us", json_real(r->wake_late_us));
    json_object_set_new(o, "busy_pct_max_thread", json_real(r->busy_pct_max));
    json_object_set_new(o, "runq_wait_pct_max_thread", json_real(r->runq_wait_pct_max));
    json_object_set_new(o, "cpu_pct_per_thread", per);
    json_object_set_new(o, "max_rss_kb", json_integer(r->max_rss_kb));
    json_object_set_new(o, "send_lag_us", report_json_percentiles(&r->total.send_lag));
    const struct cpu_share *m = &r->machine;
    json_object_set_new(o, "machine_cpu",
                        m->ok ? json_pack("{s:f, s:f, s:f, s:f}", "busy_pct", m->busy_pct, "softirq_pct",
                                          m->softirq_pct, "iowait_pct", m->iowait_pct, "steal_pct", m->steal_pct)
                              : json_null());
    return o;
}

/* kernel {counter: delta} for every watched counter. */
static json_t *kernel_object(const struct run_result *r)
{
    json_t *o = json_object();
    for (int i = 0; i < KERNEL_NCOUNTERS; i++)
        json_object_set_new(o, kernel_counter_name(i),
                            json_integer(kernel_counter_delta(&r->kernel_before, &r->kernel_after, i)));
    return o;
}

/*
 * timeline [{t, intended, sent, done, errors, p50_us, p99_us, max_us,
 * inflight, conns, …}]. intended: the arrivals this process's schedule
 * meant to send in that second (open model; null in the closed model), so
 * a ramp's achieved rate can be read against it second by second.
 */
static json_t *timeline_array(const struct run_config *cfg, const struct run_result *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->nrows; i++) {
        const struct timeline_row *t = &r->timeline[i];
        json_t *row = json_pack("{s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "t", (int)t->t, "sent", (json_int_t)t->sent,
                                "done", (json_int_t)t->done, "errors", (json_int_t)t->errors, "p50_us",
                                (json_int_t)t->p50_us, "p99_us", (json_int_t)t->p99_us, "max_us", (json_int_t)t->max_us,
                                "inflight", (json_int_t)t->inflight, "conns", (json_int_t)t->conns);
        json_object_set_new(row, "backlog", json_integer((json_int_t)t->backlog));
        json_object_set_new(row, "send_lag_max_us", json_integer((json_int_t)t->lag_max_us));
        json_object_set_new(row, "intended", cfg->closed ? json_null() : json_real(t->intended));
        if (t->hdr_latency) json_object_set_new(row, "hdr_latency_us", json_string(t->hdr_latency));
        if (t->hdr_service) json_object_set_new(row, "hdr_service_time_us", json_string(t->hdr_service));
        json_array_append_new(a, row);
    }
    return a;
}

/* chaos [{spec, action, start_s, end_s, requests, errors, p99_us, recovery_s}]. */
static json_t *chaos_array(const struct run_result *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->nchaos; i++) {
        const struct chaos_window *w = &r->chaos[i];
        const struct window_figures *f = i < RUN_MAX_WINDOWS ? &r->windows[i] : NULL;
        json_t *e = json_object();
        json_object_set_new(e, "spec", json_string(w->spec));
        static const char *const actions[] = {"pause", "kill", "toxic", "exec"};
        json_object_set_new(e, "action", json_string(actions[w->action]));
        json_object_set_new(e, "pid", json_integer(w->pid));
        json_object_set_new(e, "start_s", f ? json_real(f->start_s) : json_null());
        json_object_set_new(e, "end_s", f ? json_real(f->end_s) : json_null());
        json_object_set_new(e, "fired", json_boolean(w->started && !w->failed));
        const struct window_rec *wr = i < r->total.nwindows ? &r->total.windows[i] : NULL;
        json_object_set_new(e, "requests", json_integer(wr ? (json_int_t)wr->requests : 0));
        json_object_set_new(e, "errors", json_integer(wr ? (json_int_t)wr->errors : 0));
        json_object_set_new(e, "p50_us", json_integer(wr ? hist_value_at_percentile(&wr->latency, 50) : 0));
        json_object_set_new(e, "p99_us", json_integer(wr ? hist_value_at_percentile(&wr->latency, 99) : 0));
        json_object_set_new(e, "max_us", json_integer(wr ? hist_max(&wr->latency) : 0));
        bool base = f && f->has_baseline;
        json_object_set_new(e, "baseline_p99_us", base ? json_real(f->baseline_p99_us) : json_null());
        json_object_set_new(e, "baseline_error_share", base ? json_real(f->baseline_error_share) : json_null());
        json_object_set_new(e, "recovery_s", f && f->recovered ? json_real(f->recovery_s) : json_null());
        json_array_append_new(a, e);
    }
    return a;
}

/* The knee of a ramp (see run.c find_knee), or null. */
static json_t *knee_object(const struct run_config *cfg, const struct run_result *r)
{
    if (!cfg->nstages || cfg->closed || !r->knee.found) return json_null();
    json_t *k = json_object();
    json_object_set_new(k, "t", json_integer(r->knee.t));
    json_object_set_new(k, "rate_intended", json_real(r->knee.rate_intended));
    json_object_set_new(k, "rate_sent", json_integer((json_int_t)r->knee.rate_sent));
    json_object_set_new(k, "p99_us", json_integer(r->knee.p99_us));
    json_object_set_new(k, "floor_p99_us", json_integer(r->knee.floor_p99_us));
    return k;
}

/* Embeds h as HdrHistogram V2 base64 under key. */
static void set_hdr(json_t *o, const char *key, const struct hist *h)
{
    char *b64 = hist_encode_base64(h);
    if (!b64) return;
    json_object_set_new(o, key, json_string(b64));
    free(b64);
}

json_t *report_json_build(const struct run_config *cfg, const struct run_result *r)
{
    const struct recorder *t = &r->total;
    json_t *o = json_object();
    json_object_set_new(o, "tool", json_string("salvo"));
    json_object_set_new(o, "version", json_string(SALVO_VERSION));
    json_object_set_new(o, "run_id", json_string(cfg->run_id));
    json_object_set_new(o, "config", config_object(cfg));
    json_object_set_new(o, "model", json_string(cfg->closed ? "closed" : "open"));
    json_object_set_new(o, "protocol", r->protocol ? json_string(r->protocol) : json_null());
    if (cfg->closed)
        json_object_set_new(o, "warning",
                            json_string("closed model: latency is measured from the send time and is "
                                        "subject to coordinated omission"));
    json_object_set_new(o, "valid", json_boolean(r->valid));
    json_t *reasons = json_array();
    for (int i = 0; i < r->nreasons; i++)
        json_array_append_new(reasons, json_string(r->reasons[i]));
    json_object_set_new(o, "invalid_reasons", reasons);
    json_t *rules = json_array();
    for (unsigned bit = 1; bit < 1u << RUN_NRULES; bit <<= 1)
        if (r->invalid_rules & bit) json_array_append_new(rules, json_string(run_rule_name(bit)));
    json_object_set_new(o, "invalid_rules", rules);
    json_object_set_new(o, "interrupted", json_boolean(r->interrupted));
    json_object_set_new(o, "data_exhausted", json_boolean(r->data_exhausted));
    json_object_set_new(o, "start_unix_ms", json_integer((json_int_t)(r->wall_start_ns / 1000000)));
    json_object_set_new(o, "duration_s", json_real(r->duration_s));
    json_object_set_new(o, "elapsed_s", json_real(r->elapsed_s));
    json_object_set_new(o, "rate",
                        json_pack("{s:f,s:f,s:I}", "intended", r->rate_intended, "achieved", r->rate_achieved, "sent",
                                  (json_int_t)r->sent));
    json_object_set_new(o, "requests", requests_object(t));
    json_object_set_new(o, "checks", checks_object(cfg, t));
    if (cfg->check_body)
        json_object_set_new(o, "body_budget",
                            json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "budget_bytes", (json_int_t)cfg->body_budget,
                                      "peak_bytes", (json_int_t)t->body_kept_peak, "waits", (json_int_t)t->body_waits,
                                      "wait_us_total", (json_int_t)(t->body_wait_ns_total / 1000), "wait_us_max",
                                      (json_int_t)(t->body_wait_ns_max / 1000), "not_kept",
                                      (json_int_t)t->body_not_kept));
    json_object_set_new(o, "bytes",
                        json_pack("{s:I,s:I}", "in", (json_int_t)t->bytes_in, "out", (json_int_t)t->bytes_out));
    json_t *lat = report_json_percentiles(&t->latency);
    json_object_set_new(lat, "timeout_us", json_integer((json_int_t)(cfg->timeout_ns / 1000)));
    json_object_set_new(lat, "lower_bounds", json_boolean(t->timeout > 0));
    json_object_set_new(o, "latency_us", lat);
    json_object_set_new(o, "service_time_us", report_json_percentiles(&t->service));
    json_object_set_new(o, "wait_us", report_json_percentiles(&t->wait));
    json_object_set_new(o, "ttfb_us", report_json_percentiles(&t->ttfb));
    json_object_set_new(o, "connect_us", report_json_percentiles(&t->connect));
    json_object_set_new(o, "status", status_object(t->status));
    json_t *errors = json_object();
    for (int i = 0; i < ERR_COUNT; i++)
        if (t->errors[i]) json_object_set_new(errors, salvo_err_name(i), json_integer((json_int_t)t->errors[i]));
    json_object_set_new(o, "errors", errors);
    json_t *cerr = json_object();
    for (int i = 1; i < REC_MAX_ERRNO; i++) {
        const char *name = strerrorname_np(i);
        if (t->connect_errno[i])
            json_object_set_new(cerr, name ? name : "E?", json_integer((json_int_t)t->connect_errno[i]));
    }
    json_object_set_new(o, "connect_errors", cerr);
    json_object_set_new(o, "first_error", json_string(r->first_error));
    if (r->has_sessions) {
        const struct session_counts *n = &r->sessions;
        json_object_set_new(o, "sessions",
                            json_pack("{s:I,s:I,s:I,s:I,s:I}", "scheduled", (json_int_t)n->scheduled, "completed",
                                      (json_int_t)n->completed, "failed", (json_int_t)n->failed, "timeout",
                                      (json_int_t)n->timeout, "unsent", (json_int_t)n->unsent));
        json_object_set_new(o, "session_us", report_json_percentiles(&r->session_us));
    }
    if (cfg->script) {
        json_t *sc = json_pack("{s:s}", "file", cfg->script_path ? cfg->script_path : "");
        if (r->script_error[0]) json_object_set_new(sc, "first_error", json_string(r->script_error));
        if (r->script_hang[0]) json_object_set_new(sc, "hung", json_string(r->script_hang));
        json_object_set_new(o, "script", sc);
    }
    json_t *hints = json_array();
    for (int i = 0; i < r->nhints; i++)
        json_array_append_new(hints, json_string(r->hints[i]));
    json_object_set_new(o, "hints", hints);
    json_object_set_new(o, "groups", groups_object(cfg, t));
    groups_timelines(json_object_get(o, "groups"), cfg, r);
    json_object_set_new(o, "pool", pool_object(&r->pool, t));
    json_object_set_new(o, "h2", h2_object(&r->h2));
    json_object_set_new(o, "generator", generator_object(r));
    json_object_set_new(o, "kernel", kernel_object(r));
    json_object_set_new(o, "timeline", timeline_array(cfg, r));
    json_object_set_new(o, "thresholds", json_object());
    json_object_set_new(o, "chaos", chaos_array(r));
    json_object_set_new(o, "knee", knee_object(cfg, r));
    json_t *hdr = json_object();
    set_hdr(hdr, "latency_us", &t->latency);
    set_hdr(hdr, "service_time_us", &t->service);
    set_hdr(hdr, "wait_us", &t->wait);
    set_hdr(hdr, "ttfb_us", &t->ttfb);
    set_hdr(hdr, "connect_us", &t->connect);
    set_hdr(hdr, "send_lag_us", &t->send_lag);
    json_object_set_new(o, "hdr", hdr);
    return o;
}

int report_json_save(json_t *doc, const char *path)
{
    if (path[0] == '-' && !path[1]) {
        int rc = json_dumpf(doc, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        return rc == 0 ? 0 : -EIO;
    }
    /* Write aside and rename, so a reader (a merge job) never sees half a file. */
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp)) return -ENAMETOOLONG;
    if (json_dump_file(doc, tmp, JSON_INDENT(2)) != 0) {
        unlink(tmp);
        return -EIO;
    }
    if (rename(tmp, path) < 0) {
        int err = errno;
        unlink(tmp);
        return -err;
    }
    return 0;
}
