/*
 * script_host.c — the Lua states of a --script run: made, loaded, set up and
 * init()-ed before the run, asked done() after it (see script.h).
 *
 * The order is wrk's (wrk.c): the main state loads the script; then for
 * each thread a state of its own loads it, setup(thread) runs in the main
 * state, init(args) in the thread's; thread 0's request() is called once
 * to learn what one call returns (wrk's script_verify_request: it is not
 * sent). The wrk table and its Lua functions (wrk.format, wrk.init,
 * wrk.setup) are written here to behave as wrk's wrk.lua does, so a
 * script sees the same bytes, defaults and Host header as under wrk.
 */
#include "load/script_int.h"

#include <errno.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/reqscan.h"
#include "load/recorder.h"

/* The Lua half of the wrk table: what wrk.lua defines, as wrk behaves. */
static const char prelude[] =
    "local wrk = wrk\n"
    "function wrk.format(method, path, headers, body)\n"
    "  method = method or wrk.method\n"
    "  path = path or wrk.path\n"
    "  headers = headers or wrk.headers\n"
    "  body = body or wrk.body\n"
    "  if not headers['Host'] then headers['Host'] = wrk.host end\n"
    "  headers['Content-Length'] = body and string.len(body)\n"
    "  local lines = { string.format('%s %s HTTP/1.1', method, path) }\n"
    "  for name, value in pairs(headers) do lines[#lines + 1] = string.format('%s: %s', name, value) end\n"
    "  lines[#lines + 1] = ''\n"
    "  lines[#lines + 1] = body or ''\n"
    "  return table.concat(lines, '\\r\\n')\n"
    "end\n"
    "function wrk.setup(thread)\n"
    "  if type(setup) == 'function' then setup(thread) end\n"
    "end\n"
    "function wrk.init(args)\n"
    "  if not wrk.headers['Host'] then\n"
    "    local host = wrk.host\n"
    "    if host:find(':') then host = '[' .. host .. ']' end\n"
    "    if wrk.port then host = host .. ':' .. wrk.port end\n"
    "    wrk.headers['Host'] = host\n"
    "  end\n"
    "  if type(init) == 'function' then init(args) end\n"
    "  local req = wrk.format()\n"
    "  wrk.request = function() return req end\n"
    "end\n";

static const char *const fn_names[SCRIPT_NFN] = {"request", "response", "delay", "done", "session"};

/* Copies Lua's message (top of L's stack) into why, one line. */
static int lua_fail(lua_State *L, const char *prefix, char *why, size_t cap)
{
    const char *msg = lua_tostring(L, -1);
    snprintf(why, cap, "%s%s", prefix, msg ? msg : "(error object is not a string)");
    for (char *p = why; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    lua_pop(L, 1);
    return -EINVAL;
}

/* Sets the wrk table's fields from the run's URL and request options. */
static void fill_wrk(lua_State *L, const struct script_spec *spec)
{
    const struct url *u = spec->url;
    lua_newtable(L);
    lua_pushstring(L, u->tls ? "https" : "http");
    lua_setfield(L, -2, "scheme");
    lua_pushstring(L, u->host);
    lua_setfield(L, -2, "host");
    /* wrk.port is the URL's port as written (nil when the URL has none), as wrk's Host header needs. */
    size_t skip = strlen(u->host) + (u->host_header[0] == '[' ? 2 : 0);
    if (strlen(u->host_header) > skip && u->host_header[skip] == ':') {
        char port[16];
        snprintf(port, sizeof(port), "%u", u->port);
        lua_pushstring(L, port);
        lua_setfield(L, -2, "port");
    }
    lua_pushstring(L, spec->method ? spec->method : "GET");
    lua_setfield(L, -2, "method");
    lua_pushstring(L, u->path);
    lua_setfield(L, -2, "path");
    lua_newtable(L);
    for (size_t i = 0; i < spec->nheaders; i++) {
        const char *h = spec->headers[i], *colon = strchr(h, ':');
        if (!colon) continue;
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        lua_pushlstring(L, h, (size_t)(colon - h));
        lua_pushstring(L, v);
        lua_settable(L, -3);
    }
    lua_setfield(L, -2, "headers");
    if (spec->body) {
        lua_pushlstring(L, spec->body, spec->body_len);
        lua_setfield(L, -2, "body");
    }
    lua_setglobal(L, "wrk");
}

/* A new state with the libraries, the wrk table and the script loaded and run. */
static int new_state(lua_State **out, const struct script_spec *spec, struct script_thread *self, char *why, size_t cap)
{
    lua_State *L = luaL_newstate();
    if (!L) abort();
    *out = L;
    luaL_openlibs(L);
    fill_wrk(L, spec);
    script_api_open(L, self);
    script_session_open(L);
    if (luaL_loadbuffer(L, prelude, sizeof(prelude) - 1, "=wrk") || lua_pcall(L, 0, 0, 0))
        return lua_fail(L, "internal: ", why, cap);
    if (luaL_loadfile(L, spec->path) || lua_pcall(L, 0, 0, 0)) return lua_fail(L, "", why, cap);
    return 0;
}

/* Calls wrk.NAME with the value on top of the stack as its one argument. */
static int call_wrk(lua_State *L, const char *name, char *why, size_t cap)
{
    lua_getglobal(L, "wrk");
    lua_getfield(L, -1, name);
    lua_remove(L, -2);
    lua_insert(L, -2);
    if (lua_pcall(L, 1, 0, 0)) return lua_fail(L, "", why, cap);
    return 0;
}

/* "FILE:LINE" where the function on top of L's stack is defined (popped). */
static void where_defined(lua_State *L, char *out, size_t cap)
{
    lua_Debug ar;
    if (lua_getinfo(L, ">S", &ar) && ar.linedefined > 0)
        snprintf(out, cap, "%s:%d", ar.short_src, ar.linedefined);
    else
        snprintf(out, cap, "%s", ar.short_src);
}

/* Takes the global functions of t's state after init(): refs, and where they are defined. */
static void take_functions(struct script *s, struct script_thread *t)
{
    lua_State *L = t->L;
    for (int f = 0; f < SCRIPT_NFN; f++) {
        t->fn_ref[f] = LUA_NOREF;
        lua_getglobal(L, fn_names[f]);
        bool is_fn = lua_isfunction(L, -1);
        if (t->id == 0) s->has[f] = is_fn;
        if (!is_fn || f == SCRIPT_DONE) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -1);
        where_defined(L, t->where[f], sizeof(t->where[f]));
        t->fn_ref[f] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    if (t->fn_ref[SCRIPT_REQUEST] == LUA_NOREF) {
        /* wrk's default: wrk.request(), the request init() built once. */
        lua_getglobal(L, "wrk");
        lua_getfield(L, -1, "request");
        lua_remove(L, -2);
        snprintf(t->where[SCRIPT_REQUEST], sizeof(t->where[0]), "%s", s->path);
        t->fn_ref[SCRIPT_REQUEST] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
}

/*
 * Calls request() once in t's state and checks what it returns: a string
 * of one or more HTTP/1.1 requests. *n gets the count; the string stays
 * on the stack when keep.
 */
static int probe_request(struct script_thread *t, uint32_t *n, bool keep, char *why, size_t cap)
{
    lua_State *L = t->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->fn_ref[SCRIPT_REQUEST]);
    if (lua_pcall(L, 0, 1, 0)) return lua_fail(L, "", why, cap);
    if (lua_type(L, -1) != LUA_TSTRING) {
        snprintf(why, cap, "%s: request() returned %s, not a string of HTTP/1.1 request bytes", t->where[0],
                 luaL_typename(L, -1));
        lua_pop(L, 1);
        return -EINVAL;
    }
    size_t len;
    const char *p = lua_tolstring(L, -1, &len), *bad;
    ssize_t count = reqscan_count(p, len, &bad);
    if (count < 0) {
        snprintf(why, cap, "%s: request() returned bytes that are not an HTTP/1.1 request: %s", t->where[0], bad);
        lua_pop(L, 1);
        return -EINVAL;
    }
    *n = (uint32_t)count;
    if (!keep) lua_pop(L, 1);
    return 0;
}

/* Makes thread i's state: load, setup(thread) in the main state, init(args) in its own. */
static int thread_new(struct script *s, uint32_t i, const struct script_spec *spec, char *why, size_t cap)
{
    struct script_thread *t = &s->threads[i];
    t->owner = s;
    t->id = i;
    int rc = new_state(&t->L, spec, t, why, cap);
    if (rc < 0) return rc;
    script_api_push_thread(s->L, t);
    if ((rc = call_wrk(s->L, "setup", why, cap)) < 0) return rc;
    lua_State *L = t->L;
    lua_getglobal(L, "wrk");
    script_api_push_thread(L, t);
    lua_setfield(L, -2, "thread");
    lua_pop(L, 1);
    lua_createtable(L, spec->nargs, 0);
    for (int a = 0; a < spec->nargs; a++) {
        lua_pushstring(L, spec->args[a]);
        lua_rawseti(L, -2, a + 1);
    }
    if ((rc = call_wrk(L, "init", why, cap)) < 0) return rc;
    take_functions(s, t);
    lua_newtable(L);
    t->pending_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    t->checks_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushboolean(L, 0);
    t->last_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    t->sessions_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    t->steps_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    t->session_fn_ref = t->fn_ref[SCRIPT_SESSION];
    lua_getglobal(L, "request");
    bool dynamic = lua_isfunction(L, -1);
    lua_pop(L, 1);
    if (i == 0 && (rc = probe_request(t, &s->per_call, false, why, cap)) < 0) return rc;
    if (!dynamic) {
        /* wrk's static request: built once, sent as it is. */
        if ((rc = probe_request(t, &t->static_n, true, why, cap)) < 0) return rc;
        t->static_bytes = lua_tolstring(L, -1, &t->static_len);
        luaL_ref(L, LUA_REGISTRYINDEX); /* anchors the string for the state's life */
    }
    return 0;
}

int script_new(struct script **out, const struct script_spec *spec, char *why, size_t cap)
{
    struct script *s = calloc(1, sizeof(*s));
    if (!s) abort();
    *out = s;
    s->path = spec->path;
    s->base = spec->checks;
    s->nbase = spec->nchecks;
    pthread_mutex_init(&s->mu, NULL);
    s->nthreads = spec->threads;
    if (!(s->threads = calloc(spec->threads, sizeof(*s->threads)))) abort();
    int rc = new_state(&s->L, spec, NULL, why, cap);
    for (uint32_t i = 0; rc == 0 && i < spec->threads; i++)
        rc = thread_new(s, i, spec, why, cap);
    if (rc == 0) {
        lua_getglobal(s->L, "done");
        s->has[SCRIPT_DONE] = lua_isfunction(s->L, -1);
        lua_pop(s->L, 1);
        script_session_scan(s);
    }
    return rc;
}

void script_free(struct script *s)
{
    if (!s) return;
    for (uint32_t i = 0; i < s->nthreads; i++)
        if (s->threads[i].L && !atomic_load(&s->threads[i].abandoned)) lua_close(s->threads[i].L);
    if (s->L) lua_close(s->L);
    pthread_mutex_destroy(&s->mu);
    for (uint32_t i = 0; i < s->nstep_names; i++)
        free(s->step_names[i]);
    free(s->step_names);
    free(s->threads);
    free(s);
}

bool script_defines(const struct script *s, enum script_fn fn)
{
    return s && fn < SCRIPT_NFN && s->has[fn];
}

uint32_t script_requests_per_call(const struct script *s)
{
    return s && s->per_call ? s->per_call : 1;
}

struct script_thread *script_thread_of(struct script *s, uint32_t id)
{
    return s && id < s->nthreads ? &s->threads[id] : NULL;
}

const struct sockaddr_storage *script_thread_addr(const struct script_thread *t, socklen_t *len)
{
    if (!t || !t->addr_len) return NULL;
    *len = t->addr_len;
    return &t->addr;
}

bool script_thread_stopped(const struct script_thread *t)
{
    return t && t->stopped;
}

const char *script_thread_error(const struct script_thread *t)
{
    return t ? t->error : "";
}

uint32_t script_check_count(const struct script *s)
{
    return s ? atomic_load(&((struct script *)s)->nnames) : 0;
}

const char *script_check_name(const struct script *s, uint32_t k)
{
    return s && k < script_check_count(s) ? s->names[k] : "";
}

/* Sets field name of the table on top of L to the number v. */
static void set_number(lua_State *L, const char *name, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, name);
}

/* summary: wrk's fields from salvo's outcomes (docs/scripting.md, "done()"). */
static void push_summary(lua_State *L, const struct script_figures *r)
{
    const struct recorder *t = r->total;
    const uint64_t *e = t->errors;
    uint64_t connect = e[ERR_CONNECT_REFUSED] + e[ERR_CONNECT_TIMEOUT] + e[ERR_ADDR_NOT_AVAIL] + e[ERR_NO_FD] +
                       e[ERR_CONNECT_OTHER] + e[ERR_TLS] + e[ERR_TLS_VERIFY] + e[ERR_H2_NOT_NEGOTIATED];
    uint64_t failed_other = t->failed > connect + e[ERR_WRITE] ? t->failed - connect - e[ERR_WRITE] : 0;
    lua_newtable(L);
    set_number(L, "duration", r->duration_s * 1e6);
    set_number(L, "requests", (double)(t->ok + t->http_error + t->check_failed));
    set_number(L, "bytes", (double)t->bytes_in);
    lua_newtable(L);
    set_number(L, "connect", (double)connect);
    set_number(L, "read", (double)(failed_other - e[ERR_SCRIPT]));
    set_number(L, "write", (double)e[ERR_WRITE]);
    set_number(L, "status", (double)t->http_error);
    set_number(L, "timeout", (double)t->timeout);
    set_number(L, "check", (double)t->check_failed);
    set_number(L, "script", (double)e[ERR_SCRIPT]);
    lua_setfield(L, -2, "errors");
}

int script_done(struct script *s, const struct script_figures *r, char *why, size_t cap)
{
    if (!s || !s->has[SCRIPT_DONE]) return 0;
    lua_State *L = s->L;
    /* requests: the completed requests of each second, as wrk samples its request rate. */
    struct hist per_second;
    hist_init(&per_second, 1, HIST_STD_HIGHEST, 3);
    for (size_t i = 0; i < r->nseconds; i++)
        hist_record_clamped(&per_second, (int64_t)r->done_per_second[i]);
    lua_getglobal(L, "done");
    push_summary(L, r);
    script_api_push_stats(L, &r->total->latency);
    script_api_push_stats(L, &per_second);
    int rc = lua_pcall(L, 3, 0, 0);
    hist_release(&per_second);
    fflush(stdout);
    if (rc) return lua_fail(L, "", why, cap);
    return 0;
}
