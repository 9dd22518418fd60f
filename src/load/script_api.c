/*
 * script_api.c — the C functions a wrk script calls: wrk.lookup,
 * wrk.connect, the thread object (thread.addr, thread:get/set/stop), the
 * addr object, check(name, cond), and done()'s stats objects.
 *
 * thread:get/set copy values between two states (Lua states share
 * nothing): nil, booleans, numbers, strings and tables of those, as wrk
 * allows. They run where wrk runs them: setup() before the run, done()
 * after it, on the main thread; a worker's own thread:get/set touch only
 * its own state.
 */
#include "load/script_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/hist.h"
#include "load/recorder.h"

#define THREAD_MT "salvo.thread"
#define ADDR_MT "salvo.addr"
#define STATS_MT "salvo.stats"
#define COPY_DEPTH 16 /* nested tables thread:get/set copy */
#define CONNECT_WAIT_MS 1000

/* An address object: what wrk.lookup returns and thread.addr holds. */
struct script_addr {
    struct sockaddr_storage ss;
    socklen_t len;
};

static void push_addr(lua_State *L, const struct sockaddr *sa, socklen_t len)
{
    struct script_addr *a = lua_newuserdata(L, sizeof(*a));
    memset(a, 0, sizeof(*a));
    memcpy(&a->ss, sa, len < sizeof(a->ss) ? len : sizeof(a->ss));
    a->len = len;
    luaL_getmetatable(L, ADDR_MT);
    lua_setmetatable(L, -2);
}

/* tostring(addr): "1.2.3.4:80" or "[::1]:80". */
static int addr_tostring(lua_State *L)
{
    struct script_addr *a = luaL_checkudata(L, 1, ADDR_MT);
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (a->ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        port = ntohs(s6->sin6_port);
        lua_pushfstring(L, "[%s]:%d", host, (int)port);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        port = ntohs(s4->sin_port);
        lua_pushfstring(L, "%s:%d", host, (int)port);
    }
    return 1;
}

/* wrk.lookup(host, service): every address getaddrinfo knows, as addr objects. */
static int api_lookup(lua_State *L)
{
    const char *host = luaL_checkstring(L, 1), *service = luaL_optstring(L, 2, "http");
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc) return luaL_error(L, "unable to resolve %s:%s: %s", host, service, gai_strerror(rc));
    lua_newtable(L);
    int i = 1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        push_addr(L, ai->ai_addr, ai->ai_addrlen);
        lua_rawseti(L, -2, i++);
    }
    freeaddrinfo(res);
    return 1;
}

/* wrk.connect(addr): true when a TCP connection to addr succeeds (within a second). */
static int api_connect(lua_State *L)
{
    struct script_addr *a = luaL_checkudata(L, 1, ADDR_MT);
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    bool ok = false;
    if (fd >= 0) {
        if (connect(fd, (struct sockaddr *)&a->ss, a->len) == 0) {
            ok = true;
        } else if (errno == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int err = 0;
            socklen_t el = sizeof(err);
            ok = poll(&p, 1, CONNECT_WAIT_MS) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && !err;
        }
        close(fd);
    }
    lua_pushboolean(L, ok);
    return 1;
}

/* The thread object: a pointer to its script_thread. */
static struct script_thread *check_thread(lua_State *L)
{
    return *(struct script_thread **)luaL_checkudata(L, 1, THREAD_MT);
}

static int thread_get(lua_State *L)
{
    struct script_thread *t = check_thread(L);
    const char *name = luaL_checkstring(L, 2);
    if (t->L == L) {
        lua_getglobal(L, name);
        return 1;
    }
    lua_getglobal(t->L, name);
    script_api_copy(t->L, -1, L, 0);
    lua_pop(t->L, 1);
    return 1;
}

static int thread_set(lua_State *L)
{
    struct script_thread *t = check_thread(L);
    const char *name = luaL_checkstring(L, 2);
    lua_settop(L, 3);
    if (t->L == L) {
        lua_setglobal(L, name);
        return 0;
    }
    script_api_copy(L, 3, t->L, 0);
    lua_setglobal(t->L, name);
    return 0;
}

static int thread_stop(lua_State *L)
{
    check_thread(L)->stopped = true;
    return 0;
}

static int thread_index(lua_State *L)
{
    struct script_thread *t = check_thread(L);
    const char *key = luaL_checkstring(L, 2);
    if (!strcmp(key, "addr")) {
        if (t->addr_len)
            push_addr(L, (struct sockaddr *)&t->addr, t->addr_len);
        else
            lua_pushnil(L);
        return 1;
    }
    if (!strcmp(key, "get"))
        lua_pushcfunction(L, thread_get);
    else if (!strcmp(key, "set"))
        lua_pushcfunction(L, thread_set);
    else if (!strcmp(key, "stop"))
        lua_pushcfunction(L, thread_stop);
    else
        lua_pushnil(L);
    return 1;
}

static int thread_newindex(lua_State *L)
{
    struct script_thread *t = check_thread(L);
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "addr")) return luaL_error(L, "thread has no field '%s' to assign (only addr)", key);
    struct script_addr *a = luaL_checkudata(L, 3, ADDR_MT);
    memcpy(&t->addr, &a->ss, sizeof(t->addr));
    t->addr_len = a->len;
    return 0;
}

void script_api_push_thread(lua_State *L, struct script_thread *t)
{
    struct script_thread **p = lua_newuserdata(L, sizeof(*p));
    *p = t;
    luaL_getmetatable(L, THREAD_MT);
    lua_setmetatable(L, -2);
}

void script_api_copy(lua_State *from, int idx, lua_State *to, int depth)
{
    if (idx < 0) idx = lua_gettop(from) + idx + 1;
    switch (lua_type(from, idx)) {
    case LUA_TBOOLEAN: lua_pushboolean(to, lua_toboolean(from, idx)); return;
    case LUA_TNUMBER: lua_pushnumber(to, lua_tonumber(from, idx)); return;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(from, idx, &n);
        lua_pushlstring(to, s, n);
        return;
    }
    case LUA_TTABLE:
        if (depth < COPY_DEPTH) {
            lua_newtable(to);
            lua_pushnil(from);
            while (lua_next(from, idx)) {
                script_api_copy(from, -2, to, depth + 1);
                script_api_copy(from, -1, to, depth + 1);
                lua_settable(to, -3);
                lua_pop(from, 1);
            }
            return;
        }
        lua_pushnil(to); /* too deep */
        return;
    default: lua_pushnil(to); return;
    }
}

/*
 * The counter index of check name: a --check of that name, a name this
 * thread used before (cached in its table), or a new one registered for
 * the whole run under the mutex. CHECK_MAX names at most: -1 beyond.
 */
static int check_index(struct script_thread *t, lua_State *L, const char *name)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->checks_ref);
    lua_getfield(L, -1, name);
    if (lua_isnumber(L, -1)) {
        int k = (int)lua_tointeger(L, -1);
        lua_pop(L, 2);
        return k;
    }
    lua_pop(L, 1);
    struct script *s = t->owner;
    int k = -1;
    for (uint32_t i = 0; i < s->nbase && k < 0; i++)
        if (!strcmp(s->base[i].name, name)) k = (int)i;
    pthread_mutex_lock(&s->mu);
    uint32_t n = atomic_load(&s->nnames);
    for (uint32_t i = 0; i < n && k < 0; i++)
        if (!strcmp(s->names[i], name)) k = (int)(s->nbase + i);
    if (k < 0 && s->nbase + n < CHECK_MAX) {
        snprintf(s->names[n], sizeof(s->names[n]), "%s", name);
        k = (int)(s->nbase + n);
        atomic_store(&s->nnames, n + 1);
    }
    pthread_mutex_unlock(&s->mu);
    lua_pushinteger(L, k);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
    return k;
}

/* check(name, cond): counts a pass or a fail; a fail makes the current response check_failed. Returns cond. */
static int api_check(lua_State *L)
{
    struct script_thread *t = lua_touserdata(L, lua_upvalueindex(1));
    const char *name = luaL_checkstring(L, 1);
    bool ok = lua_toboolean(L, 2);
    if (t && t->rec) {
        int k = check_index(t, L, name);
        if (k >= 0) recorder_check(t->rec, (uint32_t)k, ok ? CHECK_PASS : CHECK_FAIL);
        if (!ok) t->check_failed = true;
    }
    lua_pushboolean(L, ok);
    return 1;
}

/* The stats object of done(): latency or requests, over a struct hist. */
static const struct hist *check_stats(lua_State *L)
{
    return *(const struct hist **)luaL_checkudata(L, 1, STATS_MT);
}

static int stats_percentile(lua_State *L)
{
    const struct hist *h = check_stats(L);
    double p = luaL_checknumber(L, 2);
    lua_pushnumber(L, h->total_count ? (double)hist_value_at_percentile(h, p) : 0);
    return 1;
}

/* stats(i): the value and count of the i-th recorded value step (wrk's latency(i)). */
static int stats_call(lua_State *L)
{
    const struct hist *h = check_stats(L);
    lua_Integer want = luaL_checkinteger(L, 2), i = 0;
    struct hist_iter it;
    hist_iter_init(&it, h);
    while (hist_iter_next(&it)) {
        if (++i == want) {
            lua_pushnumber(L, (double)it.value);
            lua_pushnumber(L, (double)it.count);
            return 2;
        }
    }
    return 0;
}

static int stats_index(lua_State *L)
{
    const struct hist *h = check_stats(L);
    const char *key = luaL_checkstring(L, 2);
    bool any = h->total_count > 0;
    if (!strcmp(key, "min"))
        lua_pushnumber(L, any ? (double)hist_min(h) : 0);
    else if (!strcmp(key, "max"))
        lua_pushnumber(L, any ? (double)hist_max(h) : 0);
    else if (!strcmp(key, "mean"))
        lua_pushnumber(L, any ? hist_mean(h) : 0);
    else if (!strcmp(key, "stdev"))
        lua_pushnumber(L, any ? hist_stddev(h) : 0);
    else if (!strcmp(key, "percentile"))
        lua_pushcfunction(L, stats_percentile);
    else
        lua_pushnil(L);
    return 1;
}

void script_api_push_stats(lua_State *L, const void *h)
{
    const struct hist **p = lua_newuserdata(L, sizeof(*p));
    *p = h;
    luaL_getmetatable(L, STATS_MT);
    lua_setmetatable(L, -2);
}

/* Registers a metatable with these metamethods. */
static void new_type(lua_State *L, const char *name, const luaL_Reg *fns)
{
    luaL_newmetatable(L, name);
    for (; fns->name; fns++) {
        lua_pushcfunction(L, fns->func);
        lua_setfield(L, -2, fns->name);
    }
    lua_pop(L, 1);
}

void script_api_open(lua_State *L, struct script_thread *self)
{
    static const luaL_Reg thread_fns[] = {{"__index", thread_index}, {"__newindex", thread_newindex}, {NULL, NULL}};
    static const luaL_Reg addr_fns[] = {{"__tostring", addr_tostring}, {NULL, NULL}};
    static const luaL_Reg stats_fns[] = {{"__index", stats_index}, {"__call", stats_call}, {NULL, NULL}};
    new_type(L, THREAD_MT, thread_fns);
    new_type(L, ADDR_MT, addr_fns);
    new_type(L, STATS_MT, stats_fns);
    lua_getglobal(L, "wrk");
    lua_pushcfunction(L, api_lookup);
    lua_setfield(L, -2, "lookup");
    lua_pushcfunction(L, api_connect);
    lua_setfield(L, -2, "connect");
    lua_pop(L, 1);
    lua_pushlightuserdata(L, self);
    lua_pushcclosure(L, api_check, 1);
    lua_setglobal(L, "check");
}
