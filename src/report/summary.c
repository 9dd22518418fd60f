/*
 * summary.c — human-readable summary (see summary.h).
 */
#include "report/summary.h"

#include <string.h>

#include "core/errors.h"

const char *report_fmt_us(char *buf, size_t cap, double us)
{
    if (us < 1000)
        snprintf(buf, cap, "%.0fus", us);
    else if (us < 1e6)
        snprintf(buf, cap, "%.2fms", us / 1e3);
    else
        snprintf(buf, cap, "%.3fs", us / 1e6);
    return buf;
}

/* One row of percentiles; lower bounds (censored by the timeout) get "≥". */
static void hist_row(FILE *out, const char *label, const struct hist *h, int64_t censor_us)
{
    static const double pcts[] = {50, 90, 99, 99.9, 99.99};
    char b[32];
    fprintf(out, "  %-13s", label);
    if (!h->total_count) {
        fprintf(out, "  (none)\n");
        return;
    }
    for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
        int64_t v = hist_value_at_percentile(h, pcts[i]);
        report_fmt_us(b, sizeof(b), (double)v);
        fprintf(out, " %s%9s", censor_us && v >= censor_us ? ">=" : "  ", b);
    }
    fprintf(out, "  %10s", report_fmt_us(b, sizeof(b), (double)hist_max(h)));
    fprintf(out, "  %10s", report_fmt_us(b, sizeof(b), hist_mean(h)));
    fprintf(out, "  %9lld\n", (long long)h->total_count);
}

/* The percentile tables. */
static void print_tables(FILE *out, const struct run_config *cfg, const struct run_result *r)
{
    const struct recorder *t = &r->total;
    int64_t censor = t->timeout ? (int64_t)(cfg->timeout_ns / 1000) : 0;
    fprintf(out, "  %-13s %11s %11s %11s %11s %11s  %10s  %10s  %9s\n", "", "p50", "p90", "p99", "p99.9", "p99.99",
            "max", "mean", "count");
    hist_row(out, cfg->closed ? "latency*" : "latency", &t->latency, censor);
    hist_row(out, "service time", &t->service, 0);
    if (!cfg->closed) hist_row(out, "wait", &t->wait, 0);
    hist_row(out, "ttfb", &t->ttfb, 0);
    hist_row(out, "connect", &t->connect, 0);
    if (!cfg->closed) hist_row(out, "send lag", &t->send_lag, 0);
    if (censor) fprintf(out, "  (>= : at or above the %.1fs timeout, a lower bound)\n", (double)cfg->timeout_ns / 1e9);
}

/* Outcome counts, status codes, errors. */
static void print_outcomes(FILE *out, const struct run_result *r)
{
    const struct recorder *t = &r->total;
    fprintf(out, "requests    %llu scheduled = %llu ok + %llu http_error + %llu failed + %llu timeout + %llu unsent\n",
            (unsigned long long)t->scheduled, (unsigned long long)t->ok, (unsigned long long)t->http_error,
            (unsigned long long)t->failed, (unsigned long long)t->timeout, (unsigned long long)t->unsent);
    fprintf(out, "status     ");
    int shown = 0;
    for (int i = 0; i < REC_MAX_STATUS; i++)
        if (t->status[i]) fprintf(out, " %d: %llu", i, (unsigned long long)t->status[i]), shown++;
    fprintf(out, "%s\n", shown ? "" : " (no responses)");
    shown = 0;
    for (int i = 0; i < ERR_COUNT; i++) {
        if (!t->errors[i]) continue;
        fprintf(out, "%s %s: %llu", shown++ ? "," : "errors     ", salvo_err_name(i), (unsigned long long)t->errors[i]);
    }
    if (shown) fprintf(out, "\n");
    if (r->first_error[0]) fprintf(out, "first error %s\n", r->first_error);
}

/* Rates, pool, generator, kernel. */
static void print_health(FILE *out, const struct run_config *cfg, const struct run_result *r)
{
    char b1[32], b2[32];
    if (r->rate_intended > 0 && cfg->nshards > 1)
        fprintf(out,
                "rate        intended %.1f/s for the whole run, %.1f/s for this shard (%u of %u); "
                "achieved %.1f/s (%llu sent in %.2fs)\n",
                r->rate_intended, r->rate_intended / cfg->nshards, cfg->shard, cfg->nshards, r->rate_achieved,
                (unsigned long long)r->sent, r->duration_s);
    else if (r->rate_intended > 0)
        fprintf(out, "rate        intended %.1f/s, achieved %.1f/s (%llu sent in %.2fs)\n", r->rate_intended,
                r->rate_achieved, (unsigned long long)r->sent, r->duration_s);
    else
        fprintf(out, "rate        achieved %.1f/s (%llu sent in %.2fs; closed loop, no intended rate)\n",
                r->rate_achieved, (unsigned long long)r->sent, r->duration_s);
    const struct pool_stats *p = &r->pool;
    fprintf(out,
            "pool        opened %llu, closed %llu (server %llu, us %llu, error %llu), connect errors %llu, "
            "max open %llu, waited %llu (total %s), backlog max %llu, %.1f requests/connection\n",
            (unsigned long long)p->opened,
            (unsigned long long)(p->closed_by_server + p->closed_by_us + p->closed_by_error),
            (unsigned long long)p->closed_by_server, (unsigned long long)p->closed_by_us,
            (unsigned long long)p->closed_by_error, (unsigned long long)p->connect_errors,
            (unsigned long long)p->max_open, (unsigned long long)p->wait_count,
            report_fmt_us(b1, sizeof(b1), (double)p->wait_ns / 1e3), (unsigned long long)p->backlog_max,
            p->opened ? (double)(r->total.ok + r->total.http_error) / (double)p->opened : 0.0);
    fprintf(out, "generator   cpu %.0f%% (busiest thread %.0f%%), max RSS %.1f MB", r->cpu_pct_total, r->cpu_pct_max,
            (double)r->max_rss_kb / 1024.0);
    if (!cfg->closed)
        fprintf(out, ", send lag p99 %s",
                report_fmt_us(b2, sizeof(b2), (double)hist_value_at_percentile(&r->total.send_lag, 99)));
    if (r->machine.ok)
        fprintf(out, "; machine busy %.0f%% (softirq %.0f%%), steal %.0f%%", r->machine.busy_pct,
                r->machine.softirq_pct, r->machine.steal_pct);
    fprintf(out, "\n");
    int shown = 0;
    for (int i = 0; i < KERNEL_NCOUNTERS; i++) {
        int64_t d = kernel_counter_delta(&r->kernel_before, &r->kernel_after, i);
        if (!d || strcmp(kernel_counter_name(i), "TcpExt.TW") == 0) continue;
        fprintf(out, "%s %s %+lld", shown++ ? "," : "kernel     ", kernel_counter_name(i), (long long)d);
    }
    if (shown) fprintf(out, "  (deltas for this network namespace, all processes)\n");
    for (int i = 0; i < KERNEL_NCOUNTERS; i++) {
        int64_t d = kernel_counter_delta(&r->kernel_before, &r->kernel_after, i);
        if (!d || strcmp(kernel_counter_name(i), "TcpExt.TW") == 0 ||
            strcmp(kernel_counter_name(i), "Tcp.OutRsts") == 0)
            continue;
        fprintf(out, "  %-27s %s\n", kernel_counter_name(i), kernel_counter_meaning(i));
    }
}

/* Prints the knee of a ramp (see run.c find_knee). */
static void print_knee(FILE *out, const struct run_config *cfg, const struct run_result *r)
{
    char b1[32], b2[32];
    if (!cfg->nstages || cfg->closed) return;
    if (!r->knee.found) {
        fprintf(out, "knee        none: latency stayed near its floor for the whole ramp\n");
        return;
    }
    fprintf(out, "knee        latency left its floor at %.0f/s (second %u: p99 %s, floor %s)\n", r->knee.rate_intended,
            r->knee.t, report_fmt_us(b1, sizeof(b1), (double)r->knee.p99_us),
            report_fmt_us(b2, sizeof(b2), (double)r->knee.floor_p99_us));
}

void report_summary(FILE *out, const struct run_config *cfg, const struct run_result *r)
{
    const char *co = "latency is measured from the send time and is subject to coordinated omission: "
                     "a slow server made this tool send less, so slow periods are under-sampled";
    if (cfg->closed) {
        fprintf(out, "salvo: closed model with %u connections%s — WARNING: %s\n", cfg->connections,
                cfg->rate > 0 ? " (rate capped)" : "", co);
    } else if (cfg->nstages) {
        fprintf(out,
                "salvo: open model, %s arrivals ramped over %zu stage%s from %.1f/s (mean %.1f/s) for %.1fs, "
                "%u thread%s, up to %u connections\n",
                cfg->arrival == ARRIVAL_POISSON ? "poisson" : "evenly spaced", cfg->nstages,
                cfg->nstages == 1 ? "" : "s", cfg->start_rate, cfg->rate, (double)cfg->duration_ns / 1e9, cfg->threads,
                cfg->threads == 1 ? "" : "s", cfg->connections);
        fprintf(out, "latency = done - intended send time (what a user arriving on schedule waited)\n");
    } else {
        fprintf(out, "salvo: open model, %s arrivals at %.1f/s for %.1fs, %u thread%s, up to %u connections\n",
                cfg->arrival == ARRIVAL_POISSON ? "poisson" : "constant", cfg->rate, (double)cfg->duration_ns / 1e9,
                cfg->threads, cfg->threads == 1 ? "" : "s", cfg->connections);
        fprintf(out, "latency = done - intended send time (what a user arriving on schedule waited)\n");
    }
    if (r->interrupted) fprintf(out, "interrupted: partial results of %.2fs\n", r->duration_s);
    if (r->data_exhausted)
        fprintf(out, "data        --pick once used every row: the run ended early, the rest of the schedule "
                     "counts as unsent\n");
    if (cfg->nstages) {
        fprintf(out, "stages     ");
        for (size_t i = 0; i < cfg->nstages; i++)
            fprintf(out, " %.0fs->%.0f%s", (double)cfg->stages[i].duration_ns / 1e9, cfg->stages[i].target_rate,
                    cfg->conn_ramp ? " conns" : "/s");
        fprintf(out, "\n");
    }
    print_tables(out, cfg, r);
    print_outcomes(out, r);
    print_health(out, cfg, r);
    print_knee(out, cfg, r);
    if (cfg->closed) fprintf(out, "note        * %s\n", co);
    if (cfg->closed)
        fprintf(
            out,
            "hint        a closed loop's latency excludes the queueing users would see; run the open model (-r N)\n");
    if (reqgen_is_static(cfg->gen) && r->total.scheduled > 1)
        fprintf(out, "hint        every request was identical: a cache may have answered them all; feed varied "
                     "requests with --data\n");
    char steal[256];
    if (run_steal_hint(r, steal, sizeof steal)) fprintf(out, "hint        %s\n", steal);
    if (r->valid) fprintf(out, "verdict     valid\n");
    for (int i = 0; i < r->nreasons; i++)
        fprintf(out, "verdict     INVALID: %s\n", r->reasons[i]);
}
