/*
 * script_call.c — the calls a worker makes into its own Lua state during
 * the run (request, response, delay), and the watchdog that sees one of
 * them hang (see script.h).
 *
 * Every call is stamped (lua_since_ns) so the main thread can tell how
 * long a worker has been inside Lua without asking it. On a hang the
 * watchdog signals the worker's thread; the handler (on that thread, as
 * lua.c does for Ctrl-C) sets a hook that raises an error at the next Lua
 * instruction the interpreter runs. LuaJIT runs no hook inside a compiled
 * loop, so the caller must not count on it: script_thread_abandon is the
 * fallback, and a call that returns after it parks its thread for good.
 *
 * Cost per request: one pcall, two clock reads, a table set and a get for
 * the bytes; a request() that returns the same (interned) string every
 * time is scanned once.
 */
#include "load/script_int.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "http/reqscan.h"
#include "load/recorder.h"

#define HANG_SIGNAL SIGUSR2

static __thread struct script_thread *current; /* the state this thread is calling, for the signal handler */

void script_enter(struct script_thread *t, enum script_fn fn)
{
    current = t;
    atomic_store_explicit(&t->calling, (int)fn, memory_order_relaxed);
    atomic_store_explicit(&t->lua_since_ns, clock_now_ns(), memory_order_release);
}

void script_leave(struct script_thread *t)
{
    atomic_store_explicit(&t->lua_since_ns, 0, memory_order_release);
    while (atomic_load(&t->abandoned))
        pause(); /* the run ended without this thread: touch nothing of it */
    if (atomic_load_explicit(&t->hang, memory_order_relaxed)) lua_sethook(t->L, NULL, 0, 0);
}

int script_call(struct script_thread *t, enum script_fn fn, int nargs, int nres)
{
    script_enter(t, fn);
    int rc = lua_pcall(t->L, nargs, nres, 0);
    script_leave(t);
    return rc;
}

void script_keep_error(struct script_thread *t, const char *what)
{
    if (!t->error[0]) {
        const char *msg = what ? what : lua_tostring(t->L, -1);
        snprintf(t->error, sizeof(t->error), "%s", msg ? msg : "error object is not a string");
        for (char *p = t->error; *p; p++)
            if (*p == '\n' || *p == '\r') *p = ' ';
    }
    if (!what) lua_pop(t->L, 1);
}

void script_thread_fail(struct script_thread *t, const char *msg)
{
    char line[256];
    snprintf(line, sizeof(line), "%s: %s", t->where[SCRIPT_REQUEST], msg);
    script_keep_error(t, line);
}

int script_request(struct script_thread *t, uint64_t key, uint32_t *nreq)
{
    if (t->static_bytes) {
        *nreq = t->static_n;
        return 0;
    }
    lua_State *L = t->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->fn_ref[SCRIPT_REQUEST]);
    if (script_call(t, SCRIPT_REQUEST, 0, 1)) {
        script_keep_error(t, NULL);
        return -1;
    }
    char msg[256];
    if (lua_type(L, -1) != LUA_TSTRING) {
        snprintf(msg, sizeof(msg), "%s: request() returned %s, not a string of HTTP/1.1 request bytes",
                 t->where[SCRIPT_REQUEST], luaL_typename(L, -1));
        lua_pop(L, 1);
        script_keep_error(t, msg);
        return -1;
    }
    size_t len;
    const char *p = lua_tolstring(L, -1, &len);
    if (p != t->last_bytes || len != t->last_len) {
        const char *why;
        ssize_t n = reqscan_count(p, len, &why);
        if (n < 0) {
            snprintf(msg, sizeof(msg), "%s: request() returned bytes that are not an HTTP/1.1 request: %s",
                     t->where[SCRIPT_REQUEST], why);
            lua_pop(L, 1);
            script_keep_error(t, msg);
            return -1;
        }
        /* Anchored in the registry, so no other string can take its address while it is cached. */
        lua_pushvalue(L, -1);
        lua_rawseti(L, LUA_REGISTRYINDEX, t->last_ref);
        t->last_bytes = p;
        t->last_len = len;
        t->last_n = (uint32_t)n;
    }
    *nreq = t->last_n;
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->pending_ref);
    lua_pushnumber(L, (lua_Number)key);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 2);
    return 0;
}

int script_bytes(struct script_thread *t, uint64_t key, const char **bytes, size_t *len)
{
    if (t->static_bytes && !script_is_step(key)) {
        *bytes = t->static_bytes;
        *len = t->static_len;
        return 0;
    }
    lua_State *L = t->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->pending_ref);
    lua_pushnumber(L, (lua_Number)key);
    lua_rawget(L, -2);
    int rc = -1;
    if (lua_type(L, -1) == LUA_TSTRING) {
        *bytes = lua_tolstring(L, -1, len); /* the table keeps the string alive */
        rc = 0;
    }
    lua_pop(L, 2);
    return rc;
}

void script_forget(struct script_thread *t, uint64_t key)
{
    if (t->static_bytes && !script_is_step(key)) return;
    lua_State *L = t->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->pending_ref);
    lua_pushnumber(L, (lua_Number)key);
    lua_pushnil(L);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* Pushes the head's header lines as a table name -> value (the last of a name wins, as in wrk). */
static void push_headers(lua_State *L, const char *h, size_t len)
{
    lua_newtable(L);
    const char *end = h + len, *line = memchr(h, '\n', len);
    while (line && ++line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol) break;
        const char *stop = eol > line && eol[-1] == '\r' ? eol - 1 : eol,
                   *colon = memchr(line, ':', (size_t)(stop - line));
        if (colon && colon > line) {
            const char *v = colon + 1;
            while (v < stop && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = stop;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            lua_pushlstring(L, line, (size_t)(colon - line));
            lua_pushlstring(L, v, (size_t)(ve - v));
            lua_rawset(L, -3);
        }
        line = eol;
    }
}

void script_push_response(lua_State *L, int status, const char *raw, size_t len, bool chunked)
{
    struct check_view v = {.status = status, .raw = raw ? raw : "", .len = raw ? len : 0, .chunked = chunked};
    const char *head, *body;
    size_t head_len, body_len;
    char *owned;
    check_view_parts(&v, &head, &head_len, &body, &body_len, &owned);
    push_headers(L, head, head_len);
    lua_pushlstring(L, body, body_len);
    free(owned);
}

int script_response(struct script_thread *t, int status, const char *raw, size_t len, bool chunked, bool *check_failed)
{
    lua_State *L = t->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->fn_ref[SCRIPT_RESPONSE]);
    lua_pushinteger(L, status);
    script_push_response(L, status, raw, len, chunked);
    t->check_failed = false;
    int rc = script_call(t, SCRIPT_RESPONSE, 3, 0);
    *check_failed = t->check_failed;
    t->check_failed = false;
    if (rc) {
        script_keep_error(t, NULL);
        return -1;
    }
    return 0;
}

int64_t script_delay_ns(struct script_thread *t)
{
    lua_State *L = t->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->fn_ref[SCRIPT_DELAY]);
    if (script_call(t, SCRIPT_DELAY, 0, 1)) {
        script_keep_error(t, NULL);
        return -1;
    }
    double ms = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (!(ms > 0)) return 0;
    if (ms > 3600e3) ms = 3600e3;
    return (int64_t)(ms * 1e6);
}

/* ---- the watchdog ---- */

/* The hook the signal handler sets: note where Lua is, and raise an error there. */
static void hang_hook(lua_State *L, lua_Debug *ar)
{
    struct script_thread *t = current;
    lua_sethook(L, NULL, 0, 0);
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0 && t) {
        snprintf(t->hang_where, sizeof(t->hang_where), "%s:%d", ar->short_src, ar->currentline);
        atomic_store(&t->hang_where_set, true);
    }
    luaL_error(L, "did not return within %d s (salvo's watchdog)", (int)(SCRIPT_HANG_NS / 1000000000ull));
}

/* On the hung worker's thread: asks its interpreter to call hang_hook at the next instruction. */
static void on_hang_signal(int sig)
{
    (void)sig;
    struct script_thread *t = current;
    if (t && atomic_load(&t->lua_since_ns)) lua_sethook(t->L, hang_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static pthread_once_t hang_once = PTHREAD_ONCE_INIT;

static void install_hang_handler(void)
{
    struct sigaction sa = {.sa_handler = on_hang_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(HANG_SIGNAL, &sa, NULL);
}

void script_thread_bind(struct script_thread *t, struct recorder *rec)
{
    pthread_once(&hang_once, install_hang_handler);
    t->rec = rec;
    t->worker = pthread_self();
    atomic_store_explicit(&t->bound, true, memory_order_release);
}

int script_watch(struct script *s, uint64_t now, uint64_t limit_ns, char *why, size_t cap)
{
    static const char *const names[SCRIPT_NFN] = {"request", "response", "delay", "done", "session"};
    for (uint32_t i = 0; s && i < s->nthreads; i++) {
        struct script_thread *t = &s->threads[i];
        uint64_t since = atomic_load_explicit(&t->lua_since_ns, memory_order_acquire);
        if (!since || now < since || now - since <= limit_ns || !atomic_load_explicit(&t->bound, memory_order_acquire))
            continue;
        int fn = atomic_load(&t->calling);
        if (fn < 0 || fn >= SCRIPT_NFN) fn = 0;
        if (!atomic_exchange(&t->hang, true)) pthread_kill(t->worker, HANG_SIGNAL);
        /* Give the hook a moment to say which line it is on. */
        for (int k = 0; k < 20 && !atomic_load(&t->hang_where_set) && atomic_load(&t->lua_since_ns); k++)
            usleep(5000);
        const char *where = atomic_load(&t->hang_where_set) ? t->hang_where : t->where[fn];
        snprintf(why, cap, "%s: %s() did not return within %d s", where, names[fn], (int)(limit_ns / 1000000000ull));
        return (int)i;
    }
    return -1;
}

bool script_thread_in_lua(const struct script_thread *t)
{
    return t && atomic_load_explicit(&((struct script_thread *)t)->lua_since_ns, memory_order_acquire) != 0;
}

void script_thread_abandon(struct script_thread *t)
{
    atomic_store(&t->abandoned, true);
}
