/*
 * window.c — parse and fire chaos windows (see window.h).
 *
 * A pause is always undone: if the run ends or is interrupted inside the
 * window, chaos_window_finish sends SIGCONT, so salvo never leaves a
 * stopped process behind.
 */
#include "load/window.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/toxic_json.h"
#include "core/units.h"
#include "core/hist.h"

/* Maps "TERM", "SIGKILL", "9" to a signal number, or -1. */
static int parse_signal(const char *s)
{
    static const struct {
        const char *name;
        int sig;
    } sigs[] = {
        {"TERM", SIGTERM}, {"KILL", SIGKILL}, {"INT", SIGINT},   {"HUP", SIGHUP},
        {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
    };
    if (!strncmp(s, "SIG", 3)) s += 3;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (!strcmp(s, sigs[i].name)) return sigs[i].sig;
    char *end;
    long n = strtol(s, &end, 10);
    return *s && !*end && n > 0 && n < 65 ? (int)n : -1;
}

/* The words of a toxic window that are the toxic's, for toxic_parse_spec. */
struct toxic_words {
    char type[TOXIC_NAME_MAX];
    char rest[512]; /* " key=value …": every word that is not the window's */
    bool named;     /* a name= among them */
};

/* Keeps a key=value word the window does not know (split at eq) for the toxic. */
static int keep_toxic_word(struct toxic_words *tw, char *word, char *eq, const char **why)
{
    size_t n = strlen(tw->rest);
    tw->named |= !strcmp(word, "name");
    *eq = '=';
    if (snprintf(tw->rest + n, sizeof(tw->rest) - n, " %s", word) >= (int)(sizeof(tw->rest) - n))
        return *why = "toxic spec too long", -EINVAL;
    return 0;
}

/* Applies one window word to w; the others are kept in tw. */
static int parse_word(struct chaos_window *w, char *word, struct toxic_words *tw, const char **why)
{
    char *eq = strchr(word, '=');
    if (!eq) {
        if (!strcmp(word, "pause"))
            w->action = CHAOS_PAUSE;
        else if (!strcmp(word, "kill"))
            w->action = CHAOS_KILL;
        else
            return *why = "unknown action (pause, kill, toxic=TYPE or exec CMD)", -EINVAL;
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
    if (!strcmp(word, "toxic")) {
        w->action = CHAOS_TOXIC;
        if (!*val || strlen(val) >= sizeof(tw->type))
            return *why = "toxic= needs a toxic type (see salvo chaos --help)", -EINVAL;
        memcpy(tw->type, val, strlen(val) + 1);
        return 0;
    }
    if (!strcmp(word, "api"))
        return snprintf(w->api, sizeof(w->api), "%s", val) >= (int)sizeof(w->api) ? (*why = "api= too long", -EINVAL)
                                                                                  : 0;
    if (!strcmp(word, "proxy"))
        return snprintf(w->proxy, sizeof(w->proxy), "%s", val) >= (int)sizeof(w->proxy)
                   ? (*why = "proxy= too long", -EINVAL)
                   : 0;
    return keep_toxic_word(tw, word, eq, why);
}

/*
 * Builds the POST body with the proxy's own spec parser and serialiser, so
 * a window takes exactly the words, units and checks of `salvo chaos
 * --toxic`. Unnamed, the toxic gets a name of its own (two windows of one
 * type must not collide, nor delete a toxic someone else added).
 */
static int build_toxic(struct chaos_window *w, const struct toxic_words *tw, const char **why)
{
    char spec[sizeof(tw->type) + sizeof(tw->rest)];
    struct toxic t;
    snprintf(spec, sizeof(spec), "%s%s", tw->type, tw->rest);
    if (toxic_parse_spec(&t, spec, w->error, sizeof(w->error)) < 0) return *why = w->error, -EINVAL;
    w->toxic_type = t.type;
    if (tw->named)
        memcpy(w->toxic_name, t.name, sizeof(t.name));
    else
        memcpy(t.name, w->toxic_name, sizeof(t.name));
    json_t *obj = toxic_to_json(&t);
    char *body = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(12));
    json_decref(obj);
    int n = body ? snprintf(w->toxic_json, sizeof(w->toxic_json), "%s", body) : -1;
    free(body);
    if (n < 0 || n >= (int)sizeof(w->toxic_json)) return *why = "toxic spec too long", -EINVAL;
    return 0;
}

/* Resolves api= once, now, rather than on the run's main thread. */
static int resolve_api(struct chaos_window *w, const char **why)
{
    int rc = endpoint_parse_local(&w->api_ep, w->api);
    if (rc == 0) return 0;
    snprintf(w->error, sizeof(w->error),
             rc == -EINVAL ? "api='%s': expected HOST:PORT, e.g. 127.0.0.1:8474 or [::1]:8474"
                           : "api='%s': host does not resolve",
             w->api);
    return *why = w->error, -EINVAL;
}

/* Finishes a toxic window, or refuses toxic words left over in another kind. */
static int finish_toxic(struct chaos_window *w, const struct toxic_words *tw, const char **why)
{
    if (w->action != CHAOS_TOXIC) {
        if (!tw->rest[0]) return 0;
        snprintf(w->error, sizeof(w->error), "unknown key '%.*s' (at, for, pid, signal, toxic, api, proxy)",
                 (int)strcspn(tw->rest + 1, "="), tw->rest + 1);
        return *why = w->error, -EINVAL;
    }
    if (!w->proxy[0]) return *why = "toxic needs proxy=NAME", -EINVAL;
    if (!toxic_name_valid(w->proxy)) return *why = "proxy= must be 1..63 of A-Z a-z 0-9 _ - .", -EINVAL;
    if (!w->for_ns) return *why = "toxic needs for=DURATION", -EINVAL;
    int rc = build_toxic(w, tw, why);
    return rc < 0 ? rc : resolve_api(w, why);
}

/* Splits "... exec CMD [undo CMD]" off spec into w; the rest stays in head. */
static int split_exec(struct chaos_window *w, char *head, const char **why)
{
    char *ex = strstr(head, " exec ");
    if (!ex && !strncmp(head, "exec ", 5)) ex = head - 1;
    if (!ex) return 0;
    w->action = CHAOS_EXEC;
    char *cmd = ex + 6;
    char *undo = strstr(cmd, " undo ");
    if (undo) {
        *undo = '\0';
        if (strlen(undo + 6) >= sizeof(w->undo)) return *why = "undo command too long", -EINVAL;
        memcpy(w->undo, undo + 6, strlen(undo + 6) + 1);
    }
    if (strlen(cmd) >= sizeof(w->cmd)) return *why = "exec command too long", -EINVAL;
    memcpy(w->cmd, cmd, strlen(cmd) + 1);
    if (ex >= head)
        *ex = '\0';
    else
        *head = '\0';
    return w->cmd[0] ? 0 : (*why = "exec needs a command", -EINVAL);
}

int chaos_window_parse(struct chaos_window *w, const char *spec, const char **why)
{
    static unsigned serial;
    memset(w, 0, sizeof(*w));
    w->action = (enum chaos_action) - 1;
    w->signal = SIGTERM;
    snprintf(w->api, sizeof(w->api), "127.0.0.1:8474");
    snprintf(w->toxic_name, sizeof(w->toxic_name), "salvo_chaos_%u_%d", serial++, (int)getpid());
    snprintf(w->spec, sizeof(w->spec), "%s", spec);
    char buf[1024], *save = NULL;
    struct toxic_words tw = {.type = ""};
    snprintf(buf, sizeof(buf), "%s", spec);
    int rc = split_exec(w, buf, why);
    if (rc < 0) return rc;
    bool has_at = false;
    for (char *word = strtok_r(buf, " \t", &save); word; word = strtok_r(NULL, " \t", &save)) {
        has_at |= !strncmp(word, "at=", 3);
        if ((rc = parse_word(w, word, &tw, why)) < 0) return rc;
    }
    if ((int)w->action < 0) return *why = "missing action (pause, kill, toxic=TYPE or exec CMD)", -EINVAL;
    if (!has_at) return *why = "missing at=TIME", -EINVAL;
    if ((w->action == CHAOS_PAUSE || w->action == CHAOS_KILL) && !w->pid) return *why = "missing pid=PID", -EINVAL;
    if (w->action == CHAOS_PAUSE && !w->for_ns) return *why = "pause needs for=DURATION", -EINVAL;
    if ((rc = finish_toxic(w, &tw, why)) < 0) return rc;
    hist_init(&w->latency, HIST_STD_LOWEST, HIST_STD_HIGHEST, HIST_STD_SIGFIG);
    return 0;
}

/*
 * One blocking HTTP/1.1 exchange with the control API (loopback, short
 * bodies): returns the status code, or -errno.
 */
static int api_call(const struct chaos_window *w, const char *method, const char *path, const char *body)
{
    int fd = socket(w->api_ep.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (const struct sockaddr *)&w->api_ep.addr, w->api_ep.len) < 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    char req[1024];
    int n = snprintf(req, sizeof(req),
                     "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     method, path, w->api, body ? strlen(body) : 0, body ? body : "");
    char resp[64] = "";
    int status = -EIO;
    if (write(fd, req, (size_t)n) == n && read(fd, resp, sizeof(resp) - 1) > 12 && !strncmp(resp, "HTTP/1.", 7))
        status = atoi(resp + 9);
    close(fd);
    return status;
}

/* Starts `/bin/sh -c cmd` without waiting (the main thread must keep its beat). */
static pid_t spawn_shell(const char *cmd)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

int chaos_window_check(const struct chaos_window *w)
{
    if (w->action == CHAOS_EXEC) return access("/bin/sh", X_OK) == 0 ? 0 : -errno;
    if (w->action == CHAOS_TOXIC) {
        char path[128];
        snprintf(path, sizeof(path), "/proxies/%s", w->proxy);
        int status = api_call(w, "GET", path, NULL);
        return status == 200 ? 0 : status < 0 ? status : -ENOENT;
    }
    return kill(w->pid, 0) == 0 ? 0 : -errno;
}

/* Starts the fault. */
static void window_begin(struct chaos_window *w)
{
    char path[160];
    switch (w->action) {
    case CHAOS_PAUSE: w->failed = kill(w->pid, SIGSTOP) < 0; break;
    case CHAOS_KILL: w->failed = kill(w->pid, w->signal) < 0; break;
    case CHAOS_TOXIC:
        snprintf(path, sizeof(path), "/proxies/%s/toxics", w->proxy);
        w->failed = api_call(w, "POST", path, w->toxic_json) / 100 != 2;
        break;
    case CHAOS_EXEC: w->failed = (w->children[0] = spawn_shell(w->cmd)) < 0; break;
    }
}

void chaos_window_tick(struct chaos_window *w, uint64_t rel_now_ns)
{
    if (!w->started && rel_now_ns >= w->at_ns) {
        w->started = true;
        window_begin(w);
        if (w->action == CHAOS_KILL || (w->action == CHAOS_EXEC && !w->for_ns)) w->ended = true;
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
    char path[200];
    if (w->started && !w->ended) {
        if (w->action == CHAOS_PAUSE) kill(w->pid, SIGCONT);
        if (w->action == CHAOS_TOXIC) {
            snprintf(path, sizeof(path), "/proxies/%s/toxics/%s", w->proxy, w->toxic_name);
            api_call(w, "DELETE", path, NULL);
        }
        if (w->action == CHAOS_EXEC && w->undo[0]) w->children[1] = spawn_shell(w->undo);
    }
    w->ended = true;
}

/* Reaps child within about budget_ms; true when it has exited. */
static bool reap_within(pid_t child, int budget_ms)
{
    for (int waited = 0;; waited += 10) {
        pid_t rc = waitpid(child, NULL, WNOHANG);
        if (rc == child || (rc < 0 && errno == ECHILD)) return true;
        if (waited >= budget_ms) return false;
        poll(NULL, 0, 10);
    }
}

size_t chaos_window_reap(struct chaos_window *w, char *note, size_t cap)
{
    size_t len = 0;
    if (cap) note[0] = '\0';
    /*
     * The shell commands had the whole run to finish. One still running is
     * not waited for (a run must end on time): it is left to finish on its
     * own, and the note says so.
     */
    for (int i = 0; i < 2; i++) {
        if (w->children[i] <= 0) continue;
        if (reap_within(w->children[i], 500)) {
            w->children[i] = 0;
            continue;
        }
        if (len < cap) {
            int n = snprintf(note + len, cap - len, "%schaos %s command '%s' (pid %d) still running: not waited for",
                             len ? "; " : "", i ? "undo" : "exec", i ? w->undo : w->cmd, (int)w->children[i]);
            if (n > 0) len += (size_t)n < cap - len ? (size_t)n : cap - len - 1;
        }
    }
    return len;
}

void chaos_window_release(struct chaos_window *w)
{
    if (!w) return;
    hist_release(&w->latency);
}
