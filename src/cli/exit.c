/*
 * exit.c — exit-code precedence (see exit.h). An interruption outranks
 * everything (the user asked to stop: nothing else the run says is the
 * whole story); a usage error comes before any traffic; a runtime error
 * means the figures are missing; INVALID means they may be the
 * generator's, so a threshold judged on them is not worth a FAIL.
 */
#include "cli/exit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"

int exit_rank(int code)
{
    switch (code) {
    case EXIT_OK: return 0;
    case EXIT_THRESHOLD: return 1;
    case EXIT_INVALID: return 2;
    case EXIT_USAGE: return 4;
    case EXIT_SIGINT:
    case EXIT_SIGTERM: return 5;
    default: return 3; /* EXIT_RUNTIME and anything unknown */
    }
}

int exit_worse(int a, int b)
{
    return exit_rank(b) > exit_rank(a) ? b : a;
}

int exit_of_signal(int sig)
{
    return sig > 0 ? 128 + sig : EXIT_OK;
}

/*
 * Opens every output file before the work, so that a path that cannot be
 * written (a directory, under /proc, in a missing directory) is refused
 * with exit 2 before any traffic, not after the whole run with its
 * results lost. A file the probe created is removed again: a run that
 * ends in an error leaves no empty result behind. Returns -1 or 2.
 */
int probe_outputs(const char *const *paths, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *p = paths[i];
        if (!p || (p[0] == '-' && !p[1])) continue;
        bool existed = access(p, F_OK) == 0;
        int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
        if (fd < 0) {
            fprintf(stderr, "salvo: cannot write '%s': %s\n", p, error_text(errno));
            return EXIT_USAGE;
        }
        close(fd);
        if (!existed) unlink(p);
    }
    return -1;
}
