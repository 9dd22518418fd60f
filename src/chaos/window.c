/*
 * window.c — parse and fire chaos windows (see window.h).
 *
 * A pause is always undone: if the run ends or is interrupted inside the
 * window, chaos_window_finish sends SIGCONT, so salvo never leaves a
 * stopped process behind.
 */
#include "chaos/window.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
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

/* A toxic attribute's value as toxiproxy wants it: "200ms" → 200, "2s" → 2000, "512KB" → 512. */
static bool attr_value(const char *val, double *out)
{
    char *end;
    double v = strtod(val, &end);
    if (end == val) return false;
    if (!strcmp(end, "s")) v *= 1000;
    else if (!strcmp(end, "us")) v /= 1000;
    else if (*end && strcmp(end, "ms") && strcmp(end, "KB") && strcmp(end, "B") && strcmp(end, "kb")) return false;
    *out = v;
    return true;
}

/* Appends one toxic attribute (or a top-level field) to the POST body being built. */
static int add_toxic_field(struct chaos_window *w, char *attrs, size_t cap, const char *key, const char *val,
                           const char **why)
{
    size_t n = strlen(attrs);
    if (!strcmp(key, "stream")) {
        if (strcmp(val, "upstream") && strcmp(val, "downstream")) return *why = "stream= must be upstream or downstream", -EINVAL;
        snprintf(w->toxic_json + strlen(w->toxic_json), sizeof(w->toxic_json) - strlen(w->toxic_json),
                 ",\"stream\":\"%s\"", val);
        return 0;
    }
    double v;
    if (!attr_value(val, &v)) return *why = "bad toxic attribute value", -EINVAL;
    if (!strcmp(key, "toxicity")) {
        snprintf(w->toxic_json + strlen(w->toxic_json), sizeof(w->toxic_json) - strlen(w->toxic_json),
                 ",\"toxicity\":%g", v);
        return 0;
    }
    for (const char *p = key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || *p == '_')) return *why = "bad toxic attribute name", -EINVAL;
    snprintf(attrs + n, cap - n, "%s\"%s\":%.0f", n ? "," : "", key, v);
    return 0;
}

/* Applies one key=value word to w; attrs collects toxic attributes. */
static int parse_word(struct chaos_window *w, char *word, char *attrs, size_t cap, const char **why)
{
    char *eq = strchr(word, '=');
    if (!eq) {
        if (!strcmp(word, "pause")) w->action = CHAOS_PAUSE;
        else if (!strcmp(word, "kill")) w->action = CHAOS_KILL;
        else return *why = "unknown action (pause, kill, toxic=TYPE or exec CMD)", -EINVAL;
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
        snprintf(w->toxic_json, sizeof(w->toxic_json), "{\"type\":\"%.40s\",\"name\":\"%s\"", val, w->toxic_name);
        return 0;
    }
    if (!strcmp(word, "api")) return snprintf(w->api, sizeof(w->api), "%s", val) >= (int)sizeof(w->api) ? (*why = "api= too long", -EINVAL) : 0;
    if (!strcmp(word, "proxy")) return snprintf(w->proxy, sizeof(w->proxy), "%s", val) >= (int)sizeof(w->proxy) ? (*why = "proxy= too long", -EINVAL) : 0;
    if (w->action == CHAOS_TOXIC) return add_toxic_field(w, attrs, cap, word, val, why);
    return *why = "unknown key (at, for, pid, signal, toxic, api, proxy)", -EINVAL;
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
    if (ex >= head) *ex = '\0';
    else *head = '\0';
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
    char buf[1024], attrs[256] = "", *save = NULL;
    snprintf(buf, sizeof(buf), "%s", spec);
    int rc = split_exec(w, buf, why);
    if (rc < 0) return rc;
    bool has_at = false;
    for (char *word = strtok_r(buf, " \t", &save); word; word = strtok_r(NULL, " \t", &save)) {
        has_at |= !strncmp(word, "at=", 3);
        if ((rc = parse_word(w, word, attrs, sizeof(attrs), why)) < 0) return rc;
    }
    if ((int)w->action < 0) return *why = "missing action (pause, kill, toxic=TYPE or exec CMD)", -EINVAL;
    if (!has_at) return *why = "missing at=TIME", -EINVAL;
    if ((w->action == CHAOS_PAUSE || w->action == CHAOS_KILL) && !w->pid) return *why = "missing pid=PID", -EINVAL;
    if (w->action == CHAOS_PAUSE && !w->for_ns) return *why = "pause needs for=DURATION", -EINVAL;
    if (w->action == CHAOS_TOXIC && !w->proxy[0]) return *why = "toxic needs proxy=NAME", -EINVAL;
    if (w->action == CHAOS_TOXIC && !w->for_ns) return *why = "toxic needs for=DURATION", -EINVAL;
    if (w->action == CHAOS_TOXIC) {
        size_t n = strlen(w->toxic_json);
        snprintf(w->toxic_json + n, sizeof(w->toxic_json) - n, ",\"attributes\":{%s}}", attrs);
    }
    hist_init(&w->latency, REC_LOWEST_US, REC_HIGHEST_US, REC_SIGFIG);
    return 0;
}

/*
 * One blocking HTTP/1.1 exchange with the control API (loopback, short
 * bodies): returns the status code, or -errno.
 */
static int api_call(const char *api, const char *method, const char *path, const char *body)
{
    char host[64];
    snprintf(host, sizeof(host), "%s", api);
    char *colon = strrchr(host, ':');
    if (!colon) return -EINVAL;
    *colon = '\0';
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (!strcmp(host, "localhost")) snprintf(host, sizeof(host), "127.0.0.1");
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) return -EINVAL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    char req[1024];
    int n = snprintf(req, sizeof(req),
                     "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s", method, path, api, body ? strlen(body) : 0, body ? body : "");
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
        int status = api_call(w->api, "GET", path, NULL);
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
        w->failed = api_call(w->api, "POST", path, w->toxic_json) / 100 != 2;
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
            api_call(w->api, "DELETE", path, NULL);
        }
        if (w->action == CHAOS_EXEC && w->undo[0]) w->children[1] = spawn_shell(w->undo);
    }
    w->ended = true;
}

void chaos_window_release(struct chaos_window *w)
{
    if (!w) return;
    /* Reap the shell commands (they had the whole run to finish). */
    for (int i = 0; i < 2; i++)
        if (w->children[i] > 0) waitpid(w->children[i], NULL, 0);
    hist_release(&w->latency);
}
