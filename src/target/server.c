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

#define SLOT_NONE UINT32_MAX
#define ACCEPT_BATCH 64
#define RUN_SLICE_NS (100 * NS_PER_MS)

/* Worker thread: computes routes until the job queue is closed. */
static void *worker_main(void *arg)
{
    struct target_worker *w = arg;
    struct target_server *srv = w->srv;
    struct route_job job;
    while (jobq_pop(&srv->jobs, &job) == 0) {
        uint64_t start_ns = clock_now_ns();
        job.status = astar_route(&w->astar, job.from, job.to, &job.result);
        job.compute_ns = clock_now_ns() - start_ns;
        /* Cannot fail: admission keeps the done queue's content below its capacity. */
        jobq_push(&srv->done, &job);
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
    srv->workers = calloc(srv->cfg.workers, sizeof(*srv->workers));
    if (!srv->workers) abort();
    int rc = 0;
    for (uint32_t i = 0; i < srv->cfg.workers && rc == 0; i++) {
        struct target_worker *w = &srv->workers[i];
        w->srv = srv;
        astar_init(&w->astar, srv->map);
        rc = -pthread_create(&w->thread, NULL, worker_main, w);
        if (rc == 0)
            srv->workers_started++;
        else
            astar_release(&w->astar);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Gives an accepted socket a slot and a connection, or closes it. */
static void adopt(struct target_server *srv, int fd)
{
    srv->metrics.connections_total++;
    uint32_t slot = srv->free_slot;
    struct tconn *c;
    if (slot == SLOT_NONE) {
        srv->metrics.connections_refused++;
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (tconn_new(srv, fd, slot, &c) < 0) {
        close(fd);
        return;
    }
    srv->free_slot = srv->slots[slot].next_free;
    srv->slots[slot].conn = c;
    srv->open_conns++;
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
    while (jobq_try_pop(&srv->done, &job) == 0)
        api_finish(srv, &job);
}

/* Creates, binds and starts the listening socket. Returns 0 or -errno. */
static int open_listener(struct target_server *srv)
{
    int family = srv->cfg.listen_addr.ss_family;
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&srv->cfg.listen_addr, srv->cfg.listen_len) < 0 || listen(fd, 4096) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return listener_init(&srv->listener, &srv->loop, fd, ACCEPT_BATCH, on_accept);
}

/* Sets up the slot table with every slot free. */
static void init_slots(struct target_server *srv)
{
    srv->slots = calloc(srv->cfg.max_conns ? srv->cfg.max_conns : 1, sizeof(*srv->slots));
    if (!srv->slots) abort();
    srv->free_slot = srv->cfg.max_conns ? 0 : SLOT_NONE;
    for (uint32_t i = 0; i < srv->cfg.max_conns; i++)
        srv->slots[i].next_free = i + 1 < srv->cfg.max_conns ? i + 1 : SLOT_NONE;
}

/* Everything but the threads and sockets. Returns 0 or -errno. */
static int init_state(struct target_server *srv)
{
    const struct geo_bounds *b = &srv->map->bounds;
    srv->accept = (struct geo_bounds){b->lat_min - TARGET_BOUNDS_MARGIN_DEG, b->lat_max + TARGET_BOUNDS_MARGIN_DEG,
                                      b->lng_min - TARGET_BOUNDS_MARGIN_DEG, b->lng_max + TARGET_BOUNDS_MARGIN_DEG};
    target_metrics_init(&srv->metrics);
    init_slots(srv);
    uint32_t outstanding = srv->cfg.workers + srv->cfg.queue;
    int rc = snap_index_init(&srv->snap, srv->map);
    if (rc == 0) rc = route_cache_init(&srv->cache, srv->cfg.cache);
    if (rc == 0) rc = jobq_init(&srv->jobs, outstanding);
    if (rc == 0) rc = jobq_init(&srv->done, outstanding);
    if (rc == 0) rc = loop_init(&srv->loop, 0);
    return rc;
}

int target_server_init(struct target_server *srv, const struct target_config *cfg, const struct roadmap *map)
{
    memset(srv, 0, sizeof(*srv));
    srv->cfg = *cfg;
    srv->map = map;
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
    if (srv->jobs.ring) jobq_close(&srv->jobs);
    for (uint32_t i = 0; i < srv->workers_started; i++) {
        pthread_join(srv->workers[i].thread, NULL);
        astar_release(&srv->workers[i].astar);
    }
    free(srv->workers);
    for (uint32_t i = 0; srv->slots && i < srv->cfg.max_conns; i++)
        if (srv->slots[i].conn) tconn_close(srv->slots[i].conn);
    reap(srv);
    free(srv->slots);
    listener_release(&srv->listener);
    if (srv->wake_fd >= 0) close(srv->wake_fd);
    if (srv->loop.epfd >= 0) loop_release(&srv->loop);
    jobq_release(&srv->jobs);
    jobq_release(&srv->done);
    route_cache_release(&srv->cache);
    snap_index_release(&srv->snap);
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

void target_server_retire(struct target_server *srv, struct tconn *c)
{
    struct target_slot *slot = &srv->slots[c->slot];
    slot->conn = NULL;
    slot->gen++;
    slot->next_free = srv->free_slot;
    srv->free_slot = c->slot;
    srv->open_conns--;
    c->next_zombie = srv->zombies;
    srv->zombies = c;
}

struct tconn *target_server_lookup(struct target_server *srv, uint32_t slot, uint32_t gen)
{
    if (slot >= srv->cfg.max_conns || srv->slots[slot].gen != gen) return NULL;
    return srv->slots[slot].conn;
}
