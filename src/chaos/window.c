/*
 * window.c — parse and fire chaos windows (see window.h).
 *
 * A pause is always undone: if the run ends or is interrupted inside the
 * window, chaos_window_finish sends SIGCONT, so salvo never leaves a
 * stopped process behind.
 */
#include "chaos/window.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/units.h"
#include "load/recorder.h"

/* Maps "TERM", "SIGKILL", "9" to a signal number, or -1. */
static int parse_signal(const char *s)
{
    static const struct { const char *name; int sig; } sigs[] = {
        {"TERM", SIGTERM}, {"KILL", SIGKILL}, {"INT", SIGINT}, {"HUP", SIGHUP},
        {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
    };
    if (!strncmp(s, "SIG", 3)) s += 3;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (!strcmp(s, sigs[i].name)) return sigs[i].sig;
    char *end;
    long n = strtol(s, &end, 10);
    return *s && !*end && n > 0 && n < 65 ? (int)n : -1;
}

/* Applies one key=value word to w. */
static int parse_word(struct chaos_window *w, char *word, const char **why)
{
    char *eq = strchr(word, '=');
    if (!eq) {
        if (!strcmp(word, "pause")) w->action = CHAOS_PAUSE;
        else if (!strcmp(word, "kill")) w->action = CHAOS_KILL;
        else return *why = "unknown action (pause or kill)", -EINVAL;
        return 0;
    }
    *eq = '\0';
    const char *val = eq + 1;
    if (!strcmp(word, "at")) return parse_duration_ns(val, &w->at_ns) < 0 ? (*why = "bad at=", -EINVAL) : 0;
    if (!strcmp(word, "for")) return parse_duration_ns(val, &w->for_ns) < 0 ? (*why = "bad for=", -EINVAL) : 0;
    if (!strcmp(word, "pid")) {
        char *end;
        long pid = strtol(val, &end, 10);
        if (*end || pid <= 1 || pid > 1 << 22) return *why = "bad pid=", -EINVAL;
        w->pid = (pid_t)pid;
        return 0;
    }
    if (!strcmp(word, "signal")) return (w->signal = parse_signal(val)) < 0 ? (*why = "bad signal=", -EINVAL) : 0;
    return *why = "unknown key (at, for, pid, signal)", -EINVAL;
}

int chaos_window_parse(struct chaos_window *w, const char *spec, const char **why)
{
    memset(w, 0, sizeof(*w));
    w->action = (enum chaos_action) - 1;
    w->signal = SIGTERM;
    snprintf(w->spec, sizeof(w->spec), "%s", spec);
    char buf[256], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", spec);
    bool has_at = false;
    for (char *word = strtok_r(buf, " \t", &save); word; word = strtok_r(NULL, " \t", &save)) {
        has_at |= !strncmp(word, "at=", 3);
        int rc = parse_word(w, word, why);
        if (rc < 0) return rc;
    }
    if ((int)w->action < 0) return *why = "missing action (pause or kill)", -EINVAL;
    if (!has_at) return *why = "missing at=TIME", -EINVAL;
    if (!w->pid) return *why = "missing pid=PID", -EINVAL;
    if (w->action == CHAOS_PAUSE && !w->for_ns) return *why = "pause needs for=DURATION", -EINVAL;
    hist_init(&w->latency, REC_LOWEST_US, REC_HIGHEST_US, REC_SIGFIG);
    return 0;
}

int chaos_window_check(const struct chaos_window *w)
{
    return kill(w->pid, 0) == 0 ? 0 : -errno;
}

void chaos_window_tick(struct chaos_window *w, uint64_t rel_now_ns)
{
    if (!w->started && rel_now_ns >= w->at_ns) {
        w->started = true;
        int sig = w->action == CHAOS_PAUSE ? SIGSTOP : w->signal;
        if (kill(w->pid, sig) < 0) w->failed = true;
        if (w->action == CHAOS_KILL) w->ended = true;
    }
    if (w->started && !w->ended && rel_now_ns >= w->at_ns + w->for_ns) chaos_window_finish(w);
}

uint64_t chaos_window_next(const struct chaos_window *w)
{
    if (!w->started) return w->at_ns;
    if (!w->ended) return w->at_ns + w->for_ns;
    return UINT64_MAX;
}

void chaos_window_finish(struct chaos_window *w)
{
    if (w->started && !w->ended && w->action == CHAOS_PAUSE) kill(w->pid, SIGCONT);
    w->ended = true;
}

void chaos_window_release(struct chaos_window *w)
{
    if (w) hist_release(&w->latency);
}
