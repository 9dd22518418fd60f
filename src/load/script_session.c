/*
 * script_session.c — salvo's own flow API: `session(s)`, one coroutine per
 * arrival (see docs/scripting.md, "Sessions").
 *
 * A session is a Lua thread (coroutine) of the worker's state, anchored in
 * a registry table under its arrival key with its scheduled start. Its
 * steps (s:get, s:post, s:request) build HTTP/1.1 bytes with wrk.format,
 * keep them under a step key (as request() bytes are kept) and yield; the
 * engine sends them as a request whose intended time is when the session
 * asked, and resumes the coroutine with the response table when the
 * outcome is known. s:sleep(seconds) yields a think time. Nothing here
 * touches the engine: script_session_start/resume say what the session
 * wants next (a step, a sleep, or its end).
 */
#include "load/script_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "http/reqscan.h"
#include "http/set_cookie.h"
#include "load/feeder.h"

#define SESSION_MT "salvo.session"
#define NAMES_KEY "salvo.step_names" /* registry: step name -> group index (script_name_group) */
#define STEP_BIT (1ull << 52)        /* step keys: apart from arrival keys, and exact as Lua numbers (< 2^53) */

/* The session's jar (s.cookies, at index 1) as the step's Cookie header, unless -H or the step gives one. */
static void push_cookie(lua_State *L, int merged)
{
    lua_getfield(L, merged, "Cookie");
    lua_getfield(L, merged, "cookie");
    bool given = !lua_isnil(L, -1) || !lua_isnil(L, -2);
    lua_pop(L, 2);
    lua_getfield(L, 1, "cookies");
    if (given || !lua_istable(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    char buf[8192];
    size_t pos = 0;
    int jar = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, jar)) {
        size_t klen, vlen;
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &klen) : NULL;
        const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &vlen) : NULL;
        if (k && v && pos + klen + vlen + 3 < sizeof(buf)) {
            if (pos) buf[pos++] = ';', buf[pos++] = ' ';
            memcpy(buf + pos, k, klen);
            pos += klen;
            buf[pos++] = '=';
            memcpy(buf + pos, v, vlen);
            pos += vlen;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (!pos) return;
    lua_pushlstring(L, buf, pos);
    lua_setfield(L, merged, "Cookie");
}

/* Builds the bytes of a step with wrk.format(method, path, headers, body) and yields them. */
static int yield_request(lua_State *L, const char *method, int url_idx, int headers_idx, int body_idx)
{
    size_t ulen;
    const char *url = luaL_checklstring(L, url_idx, &ulen);
    /* An absolute URL keeps only its path: a session talks to the run's host. */
    const char *path = url;
    if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) {
        const char *slash = strchr(url + (url[4] == 's' ? 8 : 7), '/');
        path = slash ? slash : "/";
    }
    /* Arguments beyond the caller's are absent (the pushes below must not be mistaken for them). */
    int top = lua_gettop(L);
    bool has_headers = headers_idx && headers_idx <= top && !lua_isnil(L, headers_idx);
    bool has_body = body_idx && body_idx <= top && !lua_isnil(L, body_idx);
    lua_getglobal(L, "wrk");
    lua_getfield(L, -1, "format");
    lua_pushstring(L, method);
    lua_pushstring(L, path);
    /* The step's headers: wrk.headers (Host with its port, -H) under the step's own. */
    lua_newtable(L);
    int merged = lua_gettop(L);
    for (int src = 0; src < 2; src++) {
        if (src == 0) {
            lua_getglobal(L, "wrk");
            lua_getfield(L, -1, "headers");
            lua_remove(L, -2);
        } else if (has_headers) {
            lua_pushvalue(L, headers_idx);
        } else {
            break;
        }
        if (lua_istable(L, -1)) {
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                lua_pushvalue(L, -2);
                lua_insert(L, -2);
                lua_settable(L, merged);
            }
        }
        lua_pop(L, 1);
    }
    push_cookie(L, merged);
    if (has_body)
        lua_pushvalue(L, body_idx);
    else
        lua_pushnil(L);
    lua_call(L, 4, 1);
    lua_pushliteral(L, "request");
    lua_insert(L, -2);
    /* The group s:name chose for this step (then back to the run's). */
    lua_getfield(L, 1, "_group");
    lua_pushnil(L);
    lua_setfield(L, 1, "_group");
    return lua_yield(L, 3);
}

static int s_get(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    return yield_request(L, "GET", 2, 3, 0);
}

static int s_post(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    return yield_request(L, "POST", 2, 4, 3);
}

static int s_request(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *method = luaL_checkstring(L, 2);
    return yield_request(L, method, 3, 4, 5);
}

static int s_sleep(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    double secs = luaL_checknumber(L, 2);
    lua_pushliteral(L, "sleep");
    lua_pushnumber(L, secs > 0 ? secs : 0);
    return lua_yield(L, 2);
}

static int s_check(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getglobal(L, "check");
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 3);
    lua_call(L, 2, 1);
    return 1;
}

/* s:name(name): the name the next step's figures go under (a name of the script's text, fixed before traffic). */
static int s_name(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *name = luaL_checkstring(L, 2);
    lua_getfield(L, LUA_REGISTRYINDEX, NAMES_KEY);
    lua_getfield(L, -1, name);
    if (lua_isnil(L, -1))
        return luaL_error(L,
                          "s:name('%s'): names are read from the script's text before traffic: write it as a "
                          "literal s:name('%s')",
                          name, name);
    lua_setfield(L, 1, "_group");
    lua_pop(L, 1);
    return 0;
}

/* Interprets what a coroutine yielded or returned (rc from lua_resume) into *out. */
static int session_outcome(struct script_thread *t, lua_State *co, int rc, uint64_t key, struct script_step *out)
{
    memset(out, 0, sizeof(*out));
    out->session = key;
    if (rc == 0) {
        out->what = SCRIPT_SESSION_DONE;
        return 0;
    }
    if (rc != LUA_YIELD) {
        lua_xmove(co, t->L, 1);
        script_keep_error(t, NULL);
        out->what = SCRIPT_SESSION_ERROR;
        return 0;
    }
    const char *kind = lua_tostring(co, -2);
    if (kind && !strcmp(kind, "sleep")) {
        out->what = SCRIPT_SESSION_SLEEP;
        out->sleep_ns = (uint64_t)(lua_tonumber(co, -1) * 1e9);
        lua_pop(co, 2);
        return 0;
    }
    int named = lua_isnumber(co, -1) ? (int)lua_tointeger(co, -1) + 1 : 0;
    lua_pop(co, 1);
    size_t len;
    const char *bytes = lua_tolstring(co, -1, &len), *why;
    char msg[256];
    if (!bytes || reqscan_count(bytes, len, &why) != 1) {
        snprintf(msg, sizeof(msg), "%s: a session step is not one HTTP/1.1 request: %s", t->where[SCRIPT_REQUEST],
                 bytes ? why : "no bytes");
        lua_pop(co, 2);
        script_keep_error(t, msg);
        out->what = SCRIPT_SESSION_ERROR;
        return 0;
    }
    /* Keep the bytes under a new step key, and which session asked. */
    uint64_t step = STEP_BIT | ++t->steps;
    lua_State *L = t->L;
    lua_xmove(co, L, 1);
    lua_pop(co, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->pending_ref);
    lua_pushnumber(L, (lua_Number)step);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->steps_ref);
    lua_pushnumber(L, (lua_Number)step);
    lua_pushnumber(L, (lua_Number)key);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    out->what = SCRIPT_SESSION_STEP;
    out->step = step;
    out->group = (uint32_t)named;
    return 0;
}

/* Resumes session key's coroutine with nargs values on its stack. */
static int resume(struct script_thread *t, uint64_t key, int nargs_from_L, bool start, struct script_step *out)
{
    lua_State *L = t->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->sessions_ref);
    lua_pushnumber(L, (lua_Number)key);
    lua_rawget(L, -2);
    lua_State *co = NULL;
    void *user = NULL;
    if (lua_istable(L, -1)) {
        lua_rawgeti(L, -1, 1);
        co = lua_tothread(L, -1);
        lua_rawgeti(L, -2, 2);
        user = lua_touserdata(L, -1);
        lua_pop(L, 2);
    }
    lua_pop(L, 2);
    if (!co) {
        lua_pop(L, nargs_from_L);
        memset(out, 0, sizeof(*out));
        out->what = SCRIPT_SESSION_ERROR;
        return -1;
    }
    lua_xmove(L, co, nargs_from_L);
    t->check_failed = false;
    script_enter(t, SCRIPT_SESSION);
    int rc = lua_resume(co, start ? nargs_from_L - 1 : nargs_from_L); /* a start moves the function too */
    script_leave(t);
    session_outcome(t, co, rc, key, out);
    out->check_failed = t->check_failed;
    t->check_failed = false;
    out->user = user;
    if (out->what == SCRIPT_SESSION_DONE || out->what == SCRIPT_SESSION_ERROR) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, t->sessions_ref);
        lua_pushnumber(L, (lua_Number)key);
        lua_pushnil(L);
        lua_rawset(L, -3);
        lua_pop(L, 1);
    }
    return 0;
}

/* Pushes row `row` of data as a table of column -> string. */
static void push_row(lua_State *L, const struct feeder *data, uint64_t row)
{
    size_t ncols = feeder_columns(data);
    lua_createtable(L, 0, (int)ncols);
    for (size_t c = 0; c < ncols; c++) {
        size_t cap = feeder_column_max_len(data, (int)c) + 1, len = 0;
        char stackbuf[256], *buf = cap <= sizeof(stackbuf) ? stackbuf : malloc(cap);
        if (!buf) abort();
        const char *val = "";
        if (feeder_field(data, (size_t)row, (int)c, buf, cap, &val, &len) < 0) {
            val = "";
            len = 0;
        }
        lua_pushlstring(L, val, len);
        lua_setfield(L, -2, feeder_column_name(data, (int)c));
        if (buf != stackbuf) free(buf);
    }
}

int script_session_start(struct script_thread *t, uint64_t key, void *user, const struct feeder *data, uint64_t row,
                         struct script_step *out)
{
    lua_State *L = t->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->sessions_ref);
    lua_pushnumber(L, (lua_Number)key);
    lua_createtable(L, 2, 0);
    lua_State *co = lua_newthread(L);
    lua_rawseti(L, -2, 1);
    lua_pushlightuserdata(L, user);
    lua_rawseti(L, -2, 2);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->session_fn_ref);
    lua_newtable(L);
    luaL_getmetatable(L, SESSION_MT);
    lua_setmetatable(L, -2);
    lua_newtable(L);
    lua_setfield(L, -2, "cookies");
    /* The record keeps s too, for its jar. */
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->sessions_ref);
    lua_pushnumber(L, (lua_Number)key);
    lua_rawget(L, -2);
    lua_pushvalue(L, -3);
    lua_rawseti(L, -2, 3);
    lua_pop(L, 2);
    if (data && row != PICK_NONE) {
        push_row(L, data, row);
        lua_setfield(L, -2, "row");
    }
    (void)co;
    return resume(t, key, 2, true, out) < 0 ? -1 : 0;
}

/* Keeps the Set-Cookie name=value pairs of a response's head in the jar at index jar (attributes dropped). */
static void jar_update(lua_State *L, int jar, const char *raw, size_t len)
{
    size_t pos = 0, nlen, vlen;
    const char *name, *val;
    while (set_cookie_next(raw, len, &pos, &name, &nlen, &val, &vlen)) {
        lua_pushlstring(L, name, nlen);
        lua_pushlstring(L, val, vlen);
        lua_rawset(L, jar);
    }
}

/* The jar (s.cookies) of session key, pushed (nil when the session is gone). */
static void push_jar(lua_State *L, const struct script_thread *t, uint64_t key)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->sessions_ref);
    lua_pushnumber(L, (lua_Number)key);
    lua_rawget(L, -2);
    if (lua_istable(L, -1)) {
        lua_rawgeti(L, -1, 3);
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "cookies");
            lua_replace(L, -4);
            lua_pop(L, 2);
            return;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    lua_pushnil(L);
}

int script_session_resume(struct script_thread *t, uint64_t step, int status, const char *raw, size_t len, bool chunked,
                          const char *err, struct script_step *out)
{
    lua_State *L = t->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->steps_ref);
    lua_pushnumber(L, (lua_Number)step);
    lua_rawget(L, -2);
    uint64_t key = (uint64_t)lua_tonumber(L, -1);
    lua_pop(L, 1);
    lua_pushnumber(L, (lua_Number)step);
    lua_pushnil(L);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    script_forget(t, step);
    if (!err && raw) {
        push_jar(L, t, key);
        if (lua_istable(L, -1)) jar_update(L, lua_gettop(L), raw, len);
        lua_pop(L, 1);
    }
    /* The response table: status, headers, body (status 0 and error when there was no response). */
    lua_newtable(L);
    lua_pushinteger(L, status);
    lua_setfield(L, -2, "status");
    lua_pushcfunction(L, script_r_json);
    lua_setfield(L, -2, "json");
    if (err) {
        lua_pushstring(L, err);
        lua_setfield(L, -2, "error");
        lua_newtable(L);
        lua_setfield(L, -2, "headers");
        lua_pushliteral(L, "");
        lua_setfield(L, -2, "body");
    } else {
        script_push_response(L, status, raw, len, chunked);
        lua_setfield(L, -3, "body");
        lua_setfield(L, -2, "headers");
    }
    return resume(t, key, 1, false, out);
}

void script_session_drop(struct script_thread *t, uint64_t key)
{
    lua_State *L = t->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->sessions_ref);
    lua_pushnumber(L, (lua_Number)key);
    lua_pushnil(L);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

int script_session_wake(struct script_thread *t, uint64_t key, struct script_step *out)
{
    return resume(t, key, 0, false, out);
}

bool script_is_step(uint64_t key)
{
    return (key & STEP_BIT) != 0;
}

void script_session_open(lua_State *L)
{
    static const luaL_Reg fns[] = {{"get", s_get},     {"post", s_post},   {"request", s_request},
                                   {"sleep", s_sleep}, {"check", s_check}, {"name", s_name},
                                   {NULL, NULL}};
    luaL_newmetatable(L, SESSION_MT);
    lua_newtable(L);
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    script_json_open(L);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, NAMES_KEY);
}

void script_session_name_group(lua_State *L, const char *name, uint32_t group)
{
    lua_getfield(L, LUA_REGISTRYINDEX, NAMES_KEY);
    lua_pushinteger(L, (lua_Integer)group);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

void script_session_scan(struct script *s)
{
    FILE *f = fopen(s->path, "r");
    if (!f) return;
    char line[4096];
    while (fgets(line, sizeof(line), f)) {
        for (char *p = strstr(line, ":name("); p; p = strstr(p + 1, ":name(")) {
            char *q = p + 6;
            while (*q == ' ' || *q == '\t')
                q++;
            if (*q != '"' && *q != '\'') continue;
            char *end = strchr(q + 1, *q);
            if (!end || end == q + 1 || end - q - 1 > 127) continue;
            bool seen = false;
            for (uint32_t i = 0; i < s->nstep_names && !seen; i++)
                seen = strlen(s->step_names[i]) == (size_t)(end - q - 1) &&
                       !memcmp(s->step_names[i], q + 1, (size_t)(end - q - 1));
            if (seen || s->nstep_names >= 256) continue;
            s->step_names = realloc(s->step_names, (s->nstep_names + 1) * sizeof(*s->step_names));
            if (!s->step_names || !(s->step_names[s->nstep_names] = strndup(q + 1, (size_t)(end - q - 1)))) abort();
            s->nstep_names++;
        }
    }
    fclose(f);
}

uint32_t script_step_name_count(const struct script *s)
{
    return s ? s->nstep_names : 0;
}

const char *script_step_name(const struct script *s, uint32_t k)
{
    return s && k < s->nstep_names ? s->step_names[k] : NULL;
}

void script_set_step_group(struct script *s, const char *name, uint32_t group)
{
    for (uint32_t i = 0; i < s->nthreads; i++)
        script_session_name_group(s->threads[i].L, name, group);
}
