/*
 * progress.h — live progress on stderr while a run lasts.
 *
 * On a terminal one line rewritten every second; otherwise one plain line
 * every second too, so that a 2-second run in a CI log shows its seconds
 * (k6 prints at the same cadence). Health warnings (the generator running
 * late) are printed as they happen.
 */
#ifndef SALVO_PROGRESS_H
#define SALVO_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

#include "load/config.h"
#include "load/run.h"

enum progress_mode { PROGRESS_AUTO, PROGRESS_TTY, PROGRESS_PLAIN, PROGRESS_OFF };

/* Progress state; caller-owned. */
struct progress {
    FILE *out;
    bool tty;
    bool line_open; /* a tty line without newline is on screen */
    unsigned warned_lag;
};

/* Sets up for mode (AUTO: tty if out is a terminal). */
void progress_init(struct progress *p, FILE *out, enum progress_mode mode);
/* run_hooks.second callback: ctx is a struct progress. */
void progress_second(void *ctx, const struct run_config *cfg, const struct timeline_row *row);
/* Ends the tty line so the summary starts on a fresh one. */
void progress_finish(struct progress *p);

/*
 * Rule 1 of the validity verdict on one second alone (the per-second
 * warnings and the live dashboard use it): false with why filled when the
 * generator's lateness shaped that second's latency. Always true closed.
 */
bool progress_second_valid(const struct run_config *cfg, const struct timeline_row *row, char *why, size_t cap);

#endif
