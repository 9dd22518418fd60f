/*
 * exit.h — which of two exit codes a verb returns when both apply (the
 * table in docs/thresholds.md): 130/143 > 2 > 1 > 98 > 99 > 0.
 */
#ifndef SALVO_CLI_EXIT_H
#define SALVO_CLI_EXIT_H

#include <stddef.h>

#define EXIT_SIGINT 130  /* 128 + SIGINT, as a shell reports a process Ctrl-C ended */
#define EXIT_SIGTERM 143 /* 128 + SIGTERM */

/* Rank of an exit code: higher wins. An unknown non-zero code ranks as a runtime error (1). */
int exit_rank(int code);

/* The code that wins between a and b. */
int exit_worse(int a, int b);

/* 130 for SIGINT, 143 for SIGTERM, 0 for no signal (any other signal: 128 + sig). */
int exit_of_signal(int sig);

/*
 * Opens (creating, then removing again, when new) each output path that is
 * not NULL or "-", before any traffic. On the first that cannot be written
 * prints "salvo: cannot write 'PATH': WHY" and returns EXIT_USAGE; else -1.
 */
int probe_outputs(const char *const *paths, size_t n);

#endif
