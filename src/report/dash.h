/*
 * dash.h — the live dashboard of a run (`--dashboard ADDR`).
 *
 * While a run lasts, a small HTTP server on its own thread serves one
 * self-contained page (the HTML report's style sheet, inline script, no
 * external assets) and the JSON feed it polls. The feed is fed by the main
 * thread once a second from the same merged second the progress line and
 * --metrics read (dash_second): the workers never see the dashboard, and
 * the main thread only formats one row and swaps a few strings under a
 * mutex, so a slow or hostile browser cannot slow the schedule.
 *
 * The feed (GET /data?from=N) answers at once when it has rows from N on
 * (or the run ended); otherwise it holds the request (a long poll) until
 * the next second or DASH_HOLD_NS, so the page updates as soon as a second
 * is merged. When the run ends (dash_finish) every held request is
 * answered with the final state and "ended": the page keeps it and says
 * "run ended". dash_stop then closes the server: at once when no page
 * is watching (nothing polled in the last seconds, as in CI), else as soon
 * as a page got the final state, and never later than DASH_FLUSH_NS; it
 * never keeps a CI job waiting, unless the caller lingers between the two.
 *
 * Hostile clients: at most DASH_MAX_CONNS connections (more are closed on
 * accept), a request head of at most DASH_MAX_REQUEST bytes (more: 431), a
 * request must arrive within DASH_REQUEST_NS and a response be written
 * within DASH_WRITE_NS, else the connection is closed. Loopback unless the
 * address names another host (the shared host:port syntax of
 * core/endpoint.h; a bare PORT is 127.0.0.1).
 *
 * The feed's "scrape" member is a hook for scraped server series
 * (`--scrape`): dash_scrape() hands it a JSON array of
 * {"name", "unit"?, "points": [[t_s, value|null], ...]}, and the page
 * draws one chart per series when the array is present.
 *
 * Ownership: struct dash is caller-owned; dash_start allocates, dash_stop
 * frees (safe when never started). All functions but the server thread's
 * own are called from one thread (the run's main thread).
 */
#ifndef SALVO_DASH_H
#define SALVO_DASH_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hist.h"
#include "core/listener.h"
#include "core/loop.h"
#include "load/config.h"
#include "load/recorder.h"
#include "load/run.h"
#include "report/thresholds.h"

#define DASH_MAX_CONNS 32
#define DASH_MAX_REQUEST 4096
#define DASH_REQUEST_NS (5ull * 1000 * 1000 * 1000) /* from accept to a complete request head */
#define DASH_WRITE_NS (10ull * 1000 * 1000 * 1000)  /* to write one response */
#define DASH_HOLD_NS (2ull * 1000 * 1000 * 1000)    /* a long poll without news is answered after this */
#define DASH_FLUSH_NS (500ull * 1000 * 1000)        /* dash_stop's wait for a watching page's last poll */
#define DASH_MAX_ROWS 86400                         /* seconds kept for the page (a day); later rows are dropped */

struct dash_conn;

/* What the page is told about the run before it starts. */
struct dash_info {
    const struct run_config *cfg;
    const struct threshold *thresholds;
    int nthresholds;
    const double (*chaos)[2]; /* [start_s, end_s) of each window */
    const char *const *chaos_action;
    size_t nchaos;
};

/* The dashboard: server thread state and the feed it serves. */
struct dash {
    int listen_fd;
    char url[160]; /* http://HOST:PORT/, with the port the kernel chose for port 0 */
    bool started;
    char *page; /* dash_page(), built once */
    /* server thread only */
    struct loop loop;
    struct listener listener;
    struct loop_io wake_io;                  /* eventfd: the main thread published or asked to stop */
    struct dash_conn *pool;                  /* DASH_MAX_CONNS structs, allocated once */
    struct dash_conn *conns[DASH_MAX_CONNS]; /* the slots in use (NULL: free) */
    unsigned nconns;
    unsigned long long refused, served;
    uint64_t last_poll_ns; /* when a /data request was last answered */
    bool sent_ended;       /* a /data answer with "ended" went out */
    pthread_t thread;
    /* guarded by mu */
    pthread_mutex_t mu;
    char *run_json, *state_json, *scrape_json;
    char *rows; /* the rows' JSON texts, each followed by a comma */
    size_t rows_len, rows_cap;
    size_t *row_end; /* row i ends at row_end[i] in rows */
    size_t row_cap;
    uint32_t nrows;
    bool ended, stopping;
    /* main thread only */
    const struct threshold *thresholds;
    int nthresholds;
    struct hist latency; /* the whole run so far, for the live thresholds */
    uint64_t sent, done, errors, late_seconds;
    double intended_total;
};

/* What a request asks for. */
enum dash_route { DASH_PAGE, DASH_DATA, DASH_NOT_FOUND, DASH_BAD_METHOD, DASH_BAD_HOST, DASH_BAD_REQUEST };

/* A parsed request head. */
struct dash_request {
    enum dash_route route;
    uint32_t from;      /* /data: the first row wanted (at most 10^8) */
    bool wait;          /* /data: wait=1, hold until there is news */
    const char *reason; /* DASH_BAD_REQUEST: why, one line (a static string), or NULL */
};

/*
 * Parses a request head (len bytes, no NUL needed; the server calls it once
 * the blank line is in): "GET / ", "GET /index.html", "GET /data?from=N&wait=1".
 * Never fails and keeps no pointer into head: a head without a request
 * line is DASH_BAD_REQUEST, another method DASH_BAD_METHOD. A /data whose
 * from is not digits ("abc", "-1", empty) is DASH_BAD_REQUEST with a reason
 * (answered 400); digits beyond 10^8 clamp to it; wait is 1 or no hold.
 * A Host header
 * that names neither an IP literal nor localhost is DASH_BAD_HOST: a page of
 * another site whose name was rebound to 127.0.0.1 sends its own name there,
 * and must not read the run (DNS rebinding). No Host header (HTTP/1.0) is
 * accepted.
 */
void dash_parse_request(const char *head, size_t len, struct dash_request *out);

/* Checks an address without opening anything: 0, -EINVAL (not HOST:PORT) or -EHOSTUNREACH. */
int dash_check_addr(const char *addr);

/* Listens on addr and starts the server thread. Returns 0 or -errno (nothing left open then). */
int dash_start(struct dash *d, const char *addr, const struct dash_info *info);

/* Adds one merged second: a row, the totals, the live verdict. */
void dash_second(struct dash *d, const struct run_config *cfg, const struct timeline_row *row,
                 const struct interval *merged);

/* Replaces the scraped series (a JSON array, see above; copied). */
void dash_scrape(struct dash *d, const char *json_array);

/*
 * The run is over: publishes the final state from its results JSON (the
 * verdict word of exit_code, every threshold as judged) and answers every
 * held request with it.
 */
void dash_finish(struct dash *d, json_t *result, int exit_code);

/* Answers what is held, waits at most DASH_FLUSH_NS for it to leave, closes everything. */
void dash_stop(struct dash *d);

/* Internal to dash.c and dash_feed.c: set up the feed of d (before the server starts; 0 or -errno), and free it. */
int dash_feed_init(struct dash *d, const struct dash_info *in);
void dash_feed_release(struct dash *d);

/* The page (dash_page.c), allocated; the caller frees it. */
char *dash_page(void);

#endif
