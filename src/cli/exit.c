/*
 * exit.c — exit-code precedence (see exit.h). An interruption outranks
 * everything (the user asked to stop: nothing else the run says is the
 * whole story); a usage error comes before any traffic; a runtime error
 * means the figures are missing; INVALID means they may be the
 * generator's, so a threshold judged on them is not worth a FAIL.
 */
#include "cli/exit.h"

#include <signal.h>

#include "cli/cli.h"

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
