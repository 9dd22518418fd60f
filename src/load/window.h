/*
 * window.h — chaos windows of `salvo run --chaos SPEC`.
 *
 * A window is a fault applied to a process the user named, at a time
 * relative to the run start: `at=4s for=2s pause pid=PID` (SIGSTOP, then
 * SIGCONT when the window ends) or `at=20s kill pid=PID signal=TERM` (one
 * signal), `at=5s for=10s toxic=latency latency=200ms api=HOST:PORT
 * proxy=NAME` (a toxic added through a toxiproxy-compatible API, removed
 * at the end; the words that are not the window's are a `salvo chaos
 * --toxic` spec, read by the same parser) or `at=5s for=5s exec CMD undo
 * CMD` (shell commands). The run's main thread fires them on time (it
 * wakes for the next window edge, not just once a second) and adds each
 * merged second's latency to the windows it overlaps, so the results can
 * say how the service behaved during each fault and how long it took to
 * recover.
 *
 * The windows are a feature of the run, so they live in load/; they reuse
 * the chaos proxy's toxic spec parser and JSON form (spec/toxic_spec.h,
 * spec/toxic_json.h), which are pure data below both.
 */
#ifndef SALVO_WINDOW_H
#define SALVO_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/endpoint.h"
#include "spec/toxic_spec.h"
#include "core/hist.h"

enum chaos_action { CHAOS_PAUSE, CHAOS_KILL, CHAOS_TOXIC, CHAOS_EXEC };

/* One window and what was measured during it. */
struct chaos_window {
    char spec[256];
    enum chaos_action action;
    uint64_t at_ns, for_ns;
    pid_t pid;
    int signal;
    char api[64];           /* toxic: control API host:port of a salvo chaos / toxiproxy, as written */
    struct endpoint api_ep; /* toxic: api resolved when parsed, so no lookup blocks the run */
    char proxy[64];         /* toxic: proxy name */
    char toxic_json[512];   /* toxic: the POST body, serialised by toxic_to_json */
    char toxic_name[TOXIC_NAME_MAX];
    enum toxic_type toxic_type; /* toxic: its type (the http_* ones frame HTTP/1.x only) */
    char error[192];            /* why chaos_window_parse failed, when a fixed string cannot say */
    char cmd[512], undo[512];   /* exec: shell commands at start and end */
    pid_t children[2];
    bool started, ended;
    bool failed; /* the signal could not be sent (process gone) */
    uint64_t requests, errors;
    struct hist latency; /* seconds overlapping the window */
};

/*
 * Parses spec into w (hist allocated). A toxic is checked in full here
 * (type, attributes, units), so a typo fails before the run. Returns 0 or
 * -EINVAL with *why set (it may point into w).
 */
int chaos_window_parse(struct chaos_window *w, const char *spec, const char **why);
/* Checks that the target exists now (process, or proxy behind the API). Returns 0 or -errno. */
int chaos_window_check(const struct chaos_window *w);
/* Fires the window's edges due by now_ns (relative to the run start). */
void chaos_window_tick(struct chaos_window *w, uint64_t rel_now_ns);
/* Next edge (relative ns) still to fire, or UINT64_MAX. */
uint64_t chaos_window_next(const struct chaos_window *w);
/* Ends a pause early (run over or interrupted): the process is resumed. */
void chaos_window_finish(struct chaos_window *w);
/*
 * Reaps the window's shell commands, waiting at most 500 ms for each.
 * Writes into note[0..cap) one line (no newline, no "salvo: ") naming the
 * commands still running, which are left to finish on their own, or ""
 * when there are none. Returns the note's length. Call it once, at the
 * end of the run, before chaos_window_release.
 */
size_t chaos_window_reap(struct chaos_window *w, char *note, size_t cap);
/* Frees the histogram; NULL is fine. */
void chaos_window_release(struct chaos_window *w);

#endif
