/*
 * main.c — verb dispatch.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/version.h"

/* Prints the top-level usage. */
static void usage(FILE *out)
{
    fputs("usage: salvo VERB [options]\n"
          "\n"
          "  run URL      generate load and measure it (open model by default)\n"
          "  chaos        fault proxy: toxiproxy's toxics and API, plus HTTP-aware toxics\n"
          "  demo         the naive test and the honest test of a demo service, side by side\n"
          "  doctor       audit this machine's kernel and limits for a planned run\n"
          "  find URL     the highest rate the service sustains within --slo EXPR\n"
          "  merge FILE…  add the results of the shards of one run into one result\n"
          "  compare B C  baseline against candidate: changes with confidence intervals, --fail-if gates\n"
          "  report FILE  render saved results as one HTML page (--html OUT)\n"
          "  target       run the demo route-planning service to load-test\n"
          "  version      print the version\n"
          "\n"
          "`salvo help VERB` (or `salvo VERB --help`) lists the options of VERB.\n",
          out);
}

/* The verbs, by name. */
static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} verbs[] = {
    {"run", cli_run},       {"chaos", cli_chaos},     {"demo", cli_demo},
    {"target", cli_target}, {"doctor", cli_doctor},   {"report", cli_report},
    {"merge", cli_merge},   {"compare", cli_compare}, {"find", cli_find},
};

/* The verb called name, or -1. */
static int verb_index(const char *name)
{
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strcmp(name, verbs[i].name) == 0) return (int)i;
    return -1;
}

/* `salvo help [VERB]`: the top-level help, or exactly what `salvo VERB --help` prints. */
static int help(int argc, char **argv)
{
    if (argc < 3) {
        usage(stdout);
        return EXIT_OK;
    }
    int v = verb_index(argv[2]);
    if (v < 0) {
        fprintf(stderr, "salvo: unknown verb '%s' (try 'salvo help')\n", argv[2]);
        return EXIT_USAGE;
    }
    char *args[] = {argv[2], "--help", NULL};
    return verbs[v].fn(2, args);
}

int main(int argc, char **argv)
{
    /*
     * A peer that resets a TLS connection makes OpenSSL's socket write
     * raise SIGPIPE (its BIO writes without MSG_NOSIGNAL): ignored in every
     * verb, so it is the EPIPE of that one connection, never the death of
     * a run with its results unwritten.
     */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *verb = argv[1];
    int v = verb_index(verb);
    if (v >= 0) return verbs[v].fn(argc - 1, argv + 1);
    if (strcmp(verb, "version") == 0 || strcmp(verb, "--version") == 0) {
        printf("salvo %s\n", SALVO_VERSION);
        return EXIT_OK;
    }
    if (strcmp(verb, "help") == 0 || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) return help(argc, argv);
    fprintf(stderr, "salvo: unknown verb '%s' (try 'salvo help')\n", verb);
    return EXIT_USAGE;
}
