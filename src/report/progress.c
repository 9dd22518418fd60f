/*
 * progress.c — live progress (see progress.h).
 */
#include "report/progress.h"

#include <unistd.h>

#include "report/fmt.h"
#include "report/summary.h"

void progress_init(struct progress *p, FILE *out, enum progress_mode mode)
{
    *p = (struct progress){.out = out};
    if (mode == PROGRESS_OFF)
        p->out = NULL;
    else if (mode == PROGRESS_TTY)
        p->tty = true;
    else if (mode == PROGRESS_AUTO)
        p->tty = isatty(fileno(out));
}

bool progress_second_valid(const struct run_config *cfg, const struct timeline_row *row, char *why, size_t cap)
{
    if (cfg->closed) return true;
    /* The run's rule 1 applied to this second alone: warnings and verdict agree (load/validity.h). */
    struct lag_figures f = {.arrivals = row->arrivals,
                            .late = row->late,
                            .lag_p50_us = row->lag_p50_us,
                            .lag_p99_us = row->lag_p99_us,
                            .lat_p50_us = row->p50_us,
                            .lat_p99_us = row->p99_us,
                            .max_lag_us = (cfg->max_lag_ns + 500) / 1000,
                            .spin = validity_spin_of(cfg)};
    return validity_lag(&f, why, cap);
}

void progress_second(void *ctx, const struct run_config *cfg, const struct timeline_row *row)
{
    struct progress *p = ctx;
    if (!p->out) return;
    char p50[32], p99[32];
    report_fmt_us(p50, sizeof(p50), (double)row->p50_us);
    report_fmt_us(p99, sizeof(p99), (double)row->p99_us);
    double total = (double)cfg->duration_ns / 1e9;
    char why[512];
    if (!progress_second_valid(cfg, row, why, sizeof(why))) {
        if (p->tty) fputs("\r\033[K", p->out);
        fprintf(p->out, "salvo: warning: second %u: %s\n", row->t + 1, why);
        p->line_open = false;
    }
    /* The drain after the planned duration is not a second of load: no "[4s/3s]" line. */
    if (cfg->nstages == 0 && (double)row->t >= total) return;
    fprintf(p->out, "%s[%4us/%.0fs] %8llu/s", p->tty ? "\r\033[K" : "", row->t + 1, total,
            (unsigned long long)row->sent);
    char rate[32];
    if (cfg->rate > 0) fprintf(p->out, " of %s/s", report_fmt_rate(rate, sizeof(rate), cfg->rate));
    fprintf(p->out, "  p50 %s  p99 %s  errors %llu  conns %llu  backlog %llu%s", p50, p99,
            (unsigned long long)row->errors, (unsigned long long)row->conns, (unsigned long long)row->backlog,
            p->tty ? "" : "\n");
    p->line_open = p->tty;
    fflush(p->out);
}

void progress_finish(struct progress *p)
{
    if (p->out && p->line_open) fputc('\n', p->out);
    p->line_open = false;
}
