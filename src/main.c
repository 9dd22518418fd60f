/*
 * main.c — verb dispatch.
 */
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
          "  merge FILE…  add the results of the shards of one run into one result\n"
          "  report FILE  render saved results as one HTML page (--html OUT)\n"
          "  target       run the demo route-planning service to load-test\n"
          "  version      print the version\n"
          "\n"
          "`salvo run --help` lists the options of run.\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *verb = argv[1];
    if (strcmp(verb, "run") == 0) return cli_run(argc - 1, argv + 1);
    if (strcmp(verb, "chaos") == 0) return cli_chaos(argc - 1, argv + 1);
    if (strcmp(verb, "demo") == 0) return cli_demo(argc - 1, argv + 1);
    if (strcmp(verb, "target") == 0) return cli_target(argc - 1, argv + 1);
    if (strcmp(verb, "doctor") == 0) return cli_doctor(argc - 1, argv + 1);
    if (strcmp(verb, "report") == 0) return cli_report(argc - 1, argv + 1);
    if (strcmp(verb, "merge") == 0) return cli_merge(argc - 1, argv + 1);
    if (strcmp(verb, "version") == 0 || strcmp(verb, "--version") == 0) {
        printf("salvo %s\n", SALVO_VERSION);
        return EXIT_OK;
    }
    if (strcmp(verb, "help") == 0 || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    fprintf(stderr, "salvo: unknown verb '%s' (try 'salvo help')\n", verb);
    return EXIT_USAGE;
}
