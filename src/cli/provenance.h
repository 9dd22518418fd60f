/*
 * provenance.h — how a run says what was run, fit to be published.
 *
 * A results JSON and its HTML page are meant to be shared, and they carry
 * the command line and the request headers so that a reader can repeat
 * the run. Two things follow: the command must be pasteable back into a
 * shell (each word shell-quoted), and credentials must not travel with it.
 * A header is secret when its name is Authorization, Cookie or
 * Proxy-Authorization, or one the user named with --redact (compared
 * without regard to case); its value is replaced by "<redacted>" in the
 * command and in the config. Everything else is kept as given.
 *
 * Pure functions on caller-owned buffers; nothing here allocates or prints.
 */
#ifndef SALVO_CLI_PROVENANCE_H
#define SALVO_CLI_PROVENANCE_H

#include <stdbool.h>
#include <stddef.h>

#define PROVENANCE_REDACTED "<redacted>"

/* The names, beyond the built-in ones, whose header values are secret. */
struct redactions {
    const char *const *names;
    size_t n;
};

/* True if header line "Name: value" has a secret name. */
bool provenance_secret(const char *header_line, const struct redactions *r);

/*
 * Writes header_line to out, with its value replaced by "<redacted>" when
 * its name is secret ("Authorization: <redacted>"). Truncates to cap
 * (always terminated). Returns out.
 */
const char *provenance_header(char *out, size_t cap, const char *header_line, const struct redactions *r);

/*
 * Writes "salvo" and argv[0..argc) as one shell command line: each word
 * bare when it holds only safe characters, else in single quotes (a quote
 * inside as '\''), the value of each secret -H/--header redacted. Returns
 * the length it needed (as snprintf); out is always terminated.
 */
size_t provenance_command(char *out, size_t cap, int argc, char *const *argv, const struct redactions *r);

#endif
