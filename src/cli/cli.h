/*
 * cli.h — the verb front-ends. Each parses its options, runs the verb and
 * returns the process exit code; only these and main.c print errors.
 */
#ifndef SALVO_CLI_H
#define SALVO_CLI_H

#define EXIT_OK 0
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define EXIT_INVALID 98
#define EXIT_THRESHOLD 99

/* `salvo run URL [options]`. */
int cli_run(int argc, char **argv);

#endif
