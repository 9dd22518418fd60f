/*
 * script_int.h — the insides of the Lua host, shared by script_host.c (states,
 * setup, init, done), script_api.c (the C functions Lua calls) and
 * script_call.c (the per-request calls and the watchdog). Not for other
 * modules: they see script.h.
 */
#ifndef SALVO_SCRIPT_INT_H
#define SALVO_SCRIPT_INT_H

#include <lauxlib.h>
#include <lua.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "load/script.h"

#define SCRIPT_WHERE 192 /* "FILE:LINE" of a function, or of the line a hung call was on */

/* One worker's state and what the worker needs of it. */
struct script_thread {
    struct script *owner;
    uint32_t id;
    lua_State *L;
    int fn_ref[SCRIPT_NFN]; /* registry refs of request (or wrk.request), response, delay; LUA_NOREF */
    char where[SCRIPT_NFN][SCRIPT_WHERE];
    int pending_ref;          /* table: arrival key -> the request bytes it sends */
    const char *static_bytes; /* no request(): wrk's default request, anchored in the registry */
    size_t static_len;
    uint32_t static_n;
    const char *last_bytes; /* the last string request() returned and its count: a pre-built one is scanned once */
    size_t last_len;
    uint32_t last_n;
    int last_ref;                 /* registry slot anchoring last_bytes */
    struct sockaddr_storage addr; /* thread.addr, when setup() gave one */
    socklen_t addr_len;
    bool stopped;                  /* thread:stop() */
    struct recorder *rec;          /* the worker's, for check() */
    int checks_ref;                /* table: check name -> counter index */
    int sessions_ref;              /* table: arrival key -> its session's coroutine */
    int steps_ref;                 /* table: step key -> arrival key of its session */
    int session_fn_ref;            /* session(), when defined */
    uint64_t steps;                /* step keys handed out */
    bool check_failed;             /* a check() failed during the current response() */
    char error[256];               /* the first error of a per-request call */
    pthread_t worker;              /* the worker's thread, for the watchdog's signal */
    atomic_bool bound;             /* worker and rec are set (release): the watchdog may signal it */
    _Atomic uint64_t lua_since_ns; /* when the current call into Lua began; 0: not in Lua */
    _Atomic int calling;           /* the enum script_fn being called */
    atomic_bool abandoned;         /* the watchdog gave up on it: park if the call returns */
    atomic_bool hang;              /* the watchdog asked the call to raise an error */
    char hang_where[SCRIPT_WHERE]; /* where the hook found it (written by the worker, read after) */
    atomic_bool hang_where_set;
};

/* The run's scripting. */
struct script {
    const char *path;
    lua_State *L; /* setup() and done() */
    struct script_thread *threads;
    uint32_t nthreads;
    bool has[SCRIPT_NFN];
    uint32_t per_call;
    const struct check *base; /* --check names (index i) */
    uint32_t nbase;
    pthread_mutex_t mu; /* guards names and nnames (check() registering a new name) */
    char names[CHECK_MAX][128];
    _Atomic uint32_t nnames;
    char **step_names; /* `:name("...")` literals of the script's text */
    uint32_t nstep_names;
};

/* script_api.c: installs wrk.lookup, wrk.connect, check() and the thread and addr types in L. */
void script_api_open(lua_State *L, struct script_thread *self);
/* Pushes the thread object of t (for setup() in the main state, or wrk.thread in t's own). */
void script_api_push_thread(lua_State *L, struct script_thread *t);
/* Pushes the stats object of done(): h is a struct hist (core/hist.h). */
void script_api_push_stats(lua_State *L, const void *h);
/* Copies the value at index idx of from onto to's stack (nil, booleans, numbers, strings, tables of those). */
void script_api_copy(lua_State *from, int idx, lua_State *to, int depth);

/* script_session.c: the session object's type. */
void script_session_open(lua_State *L);
/* script_json.c: r:json() (the response table at 1), and its types in L. */
int script_r_json(lua_State *L);
void script_json_open(lua_State *L);
/* script_session.c: collects the `:name("...")` literals of the script file into s->step_names. */
void script_session_scan(struct script *s);
/* script_session.c: s:name(name) in L means group. */
void script_session_name_group(lua_State *L, const char *name, uint32_t group);
/* script_call.c: pushes the headers table and the body string of a kept response. */
void script_push_response(lua_State *L, int status, const char *raw, size_t len, bool chunked);

/* script_call.c: calls a function on t's stack (nargs above it) with the watchdog's stamps; lua_pcall's result. */
int script_call(struct script_thread *t, enum script_fn fn, int nargs, int nres);
/* script_call.c: the watchdog's stamps around any call into Lua (script_call, a session's resume). */
void script_enter(struct script_thread *t, enum script_fn fn);
void script_leave(struct script_thread *t);
/* Keeps the first error message of t (the string on top of its stack, popped). */
void script_keep_error(struct script_thread *t, const char *what);

#endif
