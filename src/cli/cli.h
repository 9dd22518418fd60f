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

/* `salvo demo`: the naive test and the honest test side by side. */
int cli_demo(int argc, char **argv);
int cli_doctor(int argc, char **argv);

/* `salvo report RESULT.json… --html FILE`. */
int cli_report(int argc, char **argv);

/* `salvo merge RESULT.json… [--json OUT] [--html OUT] [--threshold EXPR]…`. */
int cli_merge(int argc, char **argv);
/* salvo compare BASE.json CAND.json [options] (compare_cli.c). */
int cli_compare(int argc, char **argv);

/* `salvo target [options]`: the demo route-planning service. */
int cli_target(int argc, char **argv);
int cli_chaos(int argc, char **argv);
/* `salvo find URL --slo EXPR… [run options]`: the highest sustainable rate. */
int cli_find(int argc, char **argv);

#endif
