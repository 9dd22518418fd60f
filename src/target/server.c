/*
 * server.c — sockets, threads and lifecycle of `salvo target`; see server.h
 * for the design. The endpoints are in api.c, the connections in tconn.c.
 *
 * Threads: the caller's thread runs the event loop; workers block in
 * jobq_pop and run A*. Workers are started with every signal blocked, so
 * SIGTERM and SIGINT always interrupt the event thread's epoll wait and the
 * stop flag is seen at once.
 *
 * Freeing a connection is deferred until the current event batch is over:
 * the loop may still hold an event for it in the same batch, and it checks
 * the connection's loop_io generation, which must still be readable.
 */
#include "target/server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/container.h"
#include "target/api.h"
#include "target/hold.h"
#include "target/service.h"
#include "target/tconn.h"

#define SLOT_NONE UINT32_MAX
#define ACCEPT_BATCH 64
#define RUN_SLICE_NS (100 * NS_PER_MS)

static void retire(void *ctx, struct tconn *c);
static bool handle(void *ctx, struct tconn *c, const struct http_req *req);

/* Worker thread: computes routes until the job queue is closed. */
static void *worker_main(void *arg)
{
    struct target_worker *w = arg;
    struct target_server *srv = w->srv;
    struct route_job job;
    while (jobq_pop(&srv->svc.jobs, &job) == 0) {
        uint64_t start_ns = clock_now_ns();
        if (job.hold_ns)
            hold_run(&job, start_ns);
        else
            job.status = astar_route(&w->astar, job.from, job.to, &job.result);
        job.compute_ns = clock_now_ns() - start_ns;
        /* Cannot fail: admission keeps the done queue's content below its capacity. */
        jobq_push(&srv->svc.done, &job);
        uint64_t one = 1;
        ssize_t n = write(srv->wake_fd, &one, sizeof(one));
        (void)n; /* only EAGAIN at counter overflow, and then a wake-up is pending anyway */
    }
    return NULL;
}

/* Starts the worker threads with all signals blocked. Returns 0 or -errno. */
static int start_workers(struct target_server *srv)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    srv->workers = calloc(srv->svc.cfg.workers, sizeof(*srv->workers));
    if (!srv->workers) abort();
    int rc = 0;
    for (uint32_t i = 0; i < srv->svc.cfg.workers && rc == 0; i++) {
        struct target_worker *w = &srv->workers[i];
        w->srv = srv;
        astar_init(&w->astar, srv->svc.map);
        rc = -pthread_create(&w->thread, NULL, worker_main, w);
        if (rc == 0)
            srv->workers_started++;
        else
            astar_release(&w->astar);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/*
 * Every slot is taken: closes the connection that has gone longest without
 * an answer (idle keep-alives, slowloris heads, half-closed sockets) so
 * the newcomer gets its slot. Connections with a route job in flight or
 * output pending are spared. A linear scan: it only runs at the cap, and
 * the cap is at most 10 000. Returns false when nothing may be evicted.
 */
static bool evict(struct target_server *srv)
{
    struct tconn *oldest = NULL;
    for (uint32_t i = 0; i < srv->svc.cfg.max_conns; i++) {
        struct tconn *c = srv->svc.slots[i].conn;
        if (c && tconn_evictable(c) && (!oldest || c->answered_ns < oldest->answered_ns)) oldest = c;
    }
    if (!oldest) return false;
    srv->svc.metrics.connections_evicted++;
    tconn_close(oldest); /* gives its slot back at once (retire) */
    return true;
}

/* Gives an accepted socket a slot and a connection, or closes it. */
static void adopt(struct target_server *srv, int fd)
{
    srv->svc.metrics.connections_total++;
    if (srv->svc.free_slot == SLOT_NONE) evict(srv);
    uint32_t slot = srv->svc.free_slot;
    struct tconn *c;
    if (slot == SLOT_NONE) {
        srv->svc.metrics.connections_refused++;
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (tconn_new(&srv->host, fd, slot, &c) < 0) {
        close(fd);
        return;
    }
    srv->svc.free_slot = srv->svc.slots[slot].next_free;
    srv->svc.slots[slot].conn = c;
    srv->svc.open_conns++;
}

/* Listener callback (core/listener.h batches and pauses on EMFILE). */
static void on_accept(struct listener *ls, int fd)
{
    adopt(container_of(ls, struct target_server, listener), fd);
}

/* Eventfd callback: answers every finished job. */
static void on_wake(struct loop_io *io, uint32_t events)
{
    struct target_server *srv = container_of(io, struct target_server, wake_io);
    uint64_t count;
    struct route_job job;
    (void)events;
    ssize_t n = read(srv->wake_fd, &count, sizeof(count));
    (void)n; /* EAGAIN just means another callback already reset it */
    while (jobq_try_pop(&srv->svc.done, &job) == 0)
        api_finish(&srv->svc, &job);
}

/* Creates, binds and starts the listening socket. Returns 0 or -errno. */
static int open_listener(struct target_server *srv)
{
    int family = srv->svc.cfg.listen_addr.ss_family;
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&srv->svc.cfg.listen_addr, srv->svc.cfg.listen_len) < 0 || listen(fd, 4096) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return listener_init(&srv->listener, &srv->loop, fd, ACCEPT_BATCH, on_accept);
}

/* Sets up the slot table with every slot free. */
static void init_slots(struct target_server *srv)
{
    srv->svc.slots = calloc(srv->svc.cfg.max_conns ? srv->svc.cfg.max_conns : 1, sizeof(*srv->svc.slots));
    if (!srv->svc.slots) abort();
    srv->svc.free_slot = srv->svc.cfg.max_conns ? 0 : SLOT_NONE;
    for (uint32_t i = 0; i < srv->svc.cfg.max_conns; i++)
        srv->svc.slots[i].next_free = i + 1 < srv->svc.cfg.max_conns ? i + 1 : SLOT_NONE;
}

/* Everything but the threads and sockets. Returns 0 or -errno. */
static int init_state(struct target_server *srv)
{
    const struct geo_bounds *b = &srv->svc.map->bounds;
    srv->svc.accept = (struct geo_bounds){b->lat_min - TARGET_BOUNDS_MARGIN_DEG, b->lat_max + TARGET_BOUNDS_MARGIN_DEG,
                                          b->lng_min - TARGET_BOUNDS_MARGIN_DEG, b->lng_max + TARGET_BOUNDS_MARGIN_DEG};
    target_metrics_init(&srv->svc.metrics);
    init_slots(srv);
    uint32_t outstanding = srv->svc.cfg.workers + srv->svc.cfg.queue;
    int rc = login_key_init(&srv->svc.login_key);
    if (rc == 0) rc = snap_index_init(&srv->svc.snap, srv->svc.map);
    if (rc == 0) rc = route_cache_init(&srv->svc.cache, srv->svc.cfg.cache);
    if (rc == 0) rc = jobq_init(&srv->svc.jobs, outstanding);
    if (rc == 0) rc = jobq_init(&srv->svc.done, outstanding);
    if (rc == 0) rc = loop_init(&srv->loop, 0);
    return rc;
}

int target_server_init(struct target_server *srv, const struct target_config *cfg, const struct roadmap *map)
{
    memset(srv, 0, sizeof(*srv));
    srv->svc.cfg = *cfg;
    srv->svc.map = map;
    srv->host = (struct tconn_host){
        .loop = &srv->loop, .metrics = &srv->svc.metrics, .handle = handle, .retire = retire, .ctx = srv};
    srv->listener.io.fd = srv->wake_fd = srv->loop.epfd = -1;
    if (cfg->workers == 0 || cfg->workers > TARGET_MAX_WORKERS || cfg->queue > TARGET_MAX_QUEUE) return -EINVAL;
    int rc = init_state(srv);
    if (rc == 0) rc = open_listener(srv);
    if (rc == 0) {
        srv->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (srv->wake_fd < 0) rc = -errno;
    }
    if (rc == 0) {
        srv->wake_io = (struct loop_io){.fd = srv->wake_fd, .on_event = on_wake};
        rc = loop_add(&srv->loop, &srv->wake_io, EPOLLIN);
    }
    if (rc == 0) rc = start_workers(srv);
    if (rc < 0) target_server_release(srv);
    return rc;
}

/* Frees the connections closed during the last event batch. */
static void reap(struct target_server *srv)
{
    while (srv->zombies) {
        struct tconn *c = srv->zombies;
        srv->zombies = c->next_zombie;
        tconn_free(c);
    }
}

void target_server_release(struct target_server *srv)
{
    if (!srv) return;
    if (srv->svc.jobs.ring) jobq_close(&srv->svc.jobs);
    for (uint32_t i = 0; i < srv->workers_started; i++) {
        pthread_join(srv->workers[i].thread, NULL);
        astar_release(&srv->workers[i].astar);
    }
    free(srv->workers);
    for (uint32_t i = 0; srv->svc.slots && i < srv->svc.cfg.max_conns; i++)
        if (srv->svc.slots[i].conn) tconn_close(srv->svc.slots[i].conn);
    reap(srv);
    free(srv->svc.slots);
    listener_release(&srv->listener);
    if (srv->wake_fd >= 0) close(srv->wake_fd);
    if (srv->loop.epfd >= 0) loop_release(&srv->loop);
    jobq_release(&srv->svc.jobs);
    jobq_release(&srv->svc.done);
    route_cache_release(&srv->svc.cache);
    snap_index_release(&srv->svc.snap);
    memset(srv, 0, sizeof(*srv));
    srv->listener.io.fd = srv->wake_fd = srv->loop.epfd = -1;
}

int target_server_address(const struct target_server *srv, struct sockaddr_storage *addr, socklen_t *len)
{
    *len = sizeof(*addr);
    return getsockname(listener_fd(&srv->listener), (struct sockaddr *)addr, len) < 0 ? -errno : 0;
}

int target_server_run(struct target_server *srv, volatile sig_atomic_t *stop)
{
    while (!*stop) {
        int rc = loop_run_once(&srv->loop, clock_now_ns() + RUN_SLICE_NS);
        reap(srv);
        if (rc < 0) return rc;
    }
    return 0;
}

/* tconn_host callback: a closed connection gives its slot back; its memory is freed after the event batch. */
static void retire(void *ctx, struct tconn *c)
{
    struct target_server *srv = ctx;
    struct target_slot *slot = &srv->svc.slots[c->slot];
    slot->conn = NULL;
    slot->gen++;
    slot->next_free = srv->svc.free_slot;
    srv->svc.free_slot = c->slot;
    srv->svc.open_conns--;
    c->next_zombie = srv->zombies;
    srv->zombies = c;
}

/* tconn_host callback: one complete request goes to the endpoints. */
static bool handle(void *ctx, struct tconn *c, const struct http_req *req)
{
    struct target_server *srv = ctx;
    return api_handle(&srv->svc, c, req) == API_PENDING;
}
