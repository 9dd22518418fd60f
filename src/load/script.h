/*
 * script.h — `salvo run --script FILE`: wrk's Lua script API, unchanged.
 *
 * A wrk script shapes each request (request()), reads each response
 * (response()), and reports at the end (done()); see docs/scripting.md.
 * As in wrk there is one LuaJIT state per worker thread, used only by that
 * thread while the run goes on, and one more state where setup(thread)
 * and done() run, used only by the main thread before and after the run.
 * The states are made, loaded, set up and init()-ed by script_new on the
 * main thread before any traffic, so a script that does not load or fails
 * there is a usage error (exit 2) naming FILE:LINE.
 *
 * During the run a worker calls its own state only: script_request at an
 * arrival's due time (the bytes are kept in its state until the request's
 * outcome is final), script_bytes when a connection writes them,
 * script_response on a complete response, script_delay in the closed
 * model. An error in those fails that one request (script_error); the
 * first message is kept. Each call into Lua is stamped, so a watchdog on
 * the main thread (script_watch) sees a worker stuck in Lua.
 *
 * Shared between threads: only the names of the checks that Lua's
 * check(name, cond) registers (a mutex, taken once per name and thread)
 * and the stamps the watchdog reads (atomics).
 */
#ifndef SALVO_SCRIPT_H
#define SALVO_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "http/url.h"
#include "load/check.h"

#define SCRIPT_HANG_NS (2ull * 1000000000ull) /* a call into Lua longer than this is a hung script */

struct script;
struct script_thread;
struct recorder;
struct feeder;

/* What done() reports: the run's totals, length and completed requests per second. */
struct script_figures {
    const struct recorder *total;
    double duration_s;
    const uint64_t *done_per_second;
    size_t nseconds;
};

/* What a script starts from: the run's URL and request options, its arguments. */
struct script_spec {
    const char *path;
    const char *const *args; /* after `--` */
    int nargs;
    const struct url *url; /* resolved */
    const char *method;    /* -m, or NULL */
    const char *const *headers;
    size_t nheaders;
    const char *body; /* --body, or NULL */
    size_t body_len;
    uint32_t threads;
    const struct check *checks; /* --check: a Lua check() of the same name shares its counters */
    uint32_t nchecks;
};

/* The optional globals a script may define. */
enum script_fn { SCRIPT_REQUEST, SCRIPT_RESPONSE, SCRIPT_DELAY, SCRIPT_DONE, SCRIPT_SESSION, SCRIPT_NFN };

/*
 * Makes the states, loads the script in each, runs setup(thread) and
 * init(args) for every thread as wrk does, and probes request() once on
 * thread 0 (as wrk does) to learn how many requests one call returns.
 * Returns 0, or -EINVAL with one line in why: "FILE:LINE: error".
 */
int script_new(struct script **out, const struct script_spec *spec, char *why, size_t cap);
/* Closes every state; NULL is fine. Never while a worker runs. */
void script_free(struct script *s);

/* True when the script defines fn (a global function). */
bool script_defines(const struct script *s, enum script_fn fn);
/* The number of requests the probe call of request() returned (1 without request()). */
uint32_t script_requests_per_call(const struct script *s);
/* Worker id's state. */
struct script_thread *script_thread_of(struct script *s, uint32_t id);
/* The address setup() gave thread.addr, or NULL (the URL's address). */
const struct sockaddr_storage *script_thread_addr(const struct script_thread *t, socklen_t *len);
/* The worker's recorder, where Lua's check() counts (on the worker's thread from now on). */
void script_thread_bind(struct script_thread *t, struct recorder *rec);
/* True once Lua called thread:stop() for this thread. */
bool script_thread_stopped(const struct script_thread *t);
/* The first error message of this thread's request()/response()/delay() calls ("" when none). */
const char *script_thread_error(const struct script_thread *t);

/* ---- on the worker's thread ---- */

/*
 * Calls request() for the arrival key (unique among the requests in
 * flight) and keeps its bytes until script_forget; *nreq is how many
 * requests they hold. Without request(), the bytes are wrk's default
 * request, built once after init(). Returns 0, or -1 (the message is kept).
 */
int script_request(struct script_thread *t, uint64_t key, uint32_t *nreq);
/* The bytes kept for key (valid until script_forget(key)). Returns 0 or -1 when none are kept. */
int script_bytes(struct script_thread *t, uint64_t key, const char **bytes, size_t *len);
/* Keeps msg as this thread's first error, after "FILE:LINE: " of request() (a request the caller refused). */
void script_thread_fail(struct script_thread *t, const char *msg);
/* key's outcome is final: its bytes may go. */
void script_forget(struct script_thread *t, uint64_t key);
/*
 * Calls response(status, headers, body) on the complete response kept in
 * raw[0..len) (heads and body as framed; chunked: decode the body).
 * *check_failed: a Lua check() failed while it ran. Returns 0 or -1.
 */
int script_response(struct script_thread *t, int status, const char *raw, size_t len, bool chunked, bool *check_failed);
/* Calls delay(): nanoseconds to wait before the next request, or -1 on an error. */
int64_t script_delay_ns(struct script_thread *t);

/* ---- sessions (script_session.c), on the worker's thread ---- */

/* What a session wants next. */
struct script_step {
    enum { SCRIPT_SESSION_STEP, SCRIPT_SESSION_SLEEP, SCRIPT_SESSION_DONE, SCRIPT_SESSION_ERROR } what;
    uint64_t session;  /* its arrival key */
    uint64_t step;     /* STEP: the key its request's bytes are kept under (script_bytes) */
    uint64_t sleep_ns; /* SLEEP: how long */
    uint32_t group;    /* STEP: 1 + the group s:name gave it, or 0 (the arrival's) */
    void *user;        /* what script_session_start was given for this session */
    bool check_failed; /* a check() failed while the session ran (after a step: that step is check_failed) */
};

/*
 * Starts session() for arrival key: runs it to its first step, sleep or
 * end. With data (--data), s.row is row `row` of it as a table of column
 * -> string. Returns 0 or -1.
 */
int script_session_start(struct script_thread *t, uint64_t key, void *user, const struct feeder *data, uint64_t row,
                         struct script_step *out);
/*
 * The step's outcome is known: resumes its session with the response
 * (raw as kept, like script_response) or, with err, a table of status 0
 * and that error. Its bytes are forgotten. Returns 0 or -1.
 */
int script_session_resume(struct script_thread *t, uint64_t step, int status, const char *raw, size_t len, bool chunked,
                          const char *err, struct script_step *out);
/* Session key ends before its coroutine did (--session-timeout): lets it go; its step in flight resumes nothing. */
void script_session_drop(struct script_thread *t, uint64_t key);
/* A session's sleep is over: resumes it. */
int script_session_wake(struct script_thread *t, uint64_t key, struct script_step *out);
/* The step names literal in the script's text (`:name("...")`), for the caller to make groups of. */
uint32_t script_step_name_count(const struct script *s);
const char *script_step_name(const struct script *s, uint32_t k);
/* s:name(name) puts the next step's figures under group (in every thread's state). Before traffic. */
void script_set_step_group(struct script *s, const char *name, uint32_t group);
/* True when key is a session step's (not an arrival's). */
bool script_is_step(uint64_t key);

/* ---- on the main thread ---- */

/*
 * The watchdog: the id of a thread that has been inside one call into Lua
 * for more than limit_ns at now, or -1. On a hit, why gets
 * "FILE:LINE: request() did not return within 2 s" (the line Lua is on
 * when a hook can tell, else where the function is defined) and the
 * thread is asked to raise an error at its next Lua instruction (LuaJIT
 * runs no hook inside a compiled loop, so this may never happen).
 */
int script_watch(struct script *s, uint64_t now, uint64_t limit_ns, char *why, size_t cap);
/* True when thread id is still inside Lua (a hung call that did not give up). */
bool script_thread_in_lua(const struct script_thread *t);
/* Thread id is abandoned: if its call ever returns, the worker parks for good. */
void script_thread_abandon(struct script_thread *t);

/* Lua's check() names beyond the --check ones: index nchecks + k. */
uint32_t script_check_count(const struct script *s);
const char *script_check_name(const struct script *s, uint32_t k);

/*
 * Calls done(summary, latency, requests) with the run's figures in wrk's
 * units (microseconds). Returns 0 (also without done()), or -1 with why.
 */
int script_done(struct script *s, const struct script_figures *r, char *why, size_t cap);

#endif
