/*
 * server.h — `salvo target`: the route-planning HTTP service itself.
 *
 * The demo needs a service that behaves like a real one under load: cheap
 * cached answers, expensive misses, a bounded queue that sheds load with
 * 503, and honest metrics. One event thread (this struct's loop) owns every
 * socket, the cache and the counters; `workers` threads only run A* on jobs
 * taken from a bounded queue and hand results back through a second queue
 * and an eventfd. So nothing but the two queues is shared, and they are the
 * only locks.
 *
 * Admission: at most workers + queue route computations are outstanding
 * (queued, computing, or finished but not yet answered); one more is
 * answered 503 with Retry-After: 1 at once. Counting that on the event
 * thread alone keeps the rule exact without locks, and also bounds the
 * queue of finished jobs, which therefore can never be full.
 *
 * Ownership: the caller owns the struct and the map (read-only, shared by
 * the workers, must outlive the server). target_server_init starts the
 * workers and the listening socket; target_server_release stops and frees
 * everything. Connections live in a slot table sized max_conns; a job names
 * its connection by slot and generation, so an answer for a connection that
 * closed meanwhile is recognised and dropped.
 */
#ifndef SALVO_TARGET_SERVER_H
#define SALVO_TARGET_SERVER_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/listener.h"
#include "core/loop.h"
#include "target/astar.h"
#include "target/service.h"
#include "target/tconn.h"

#define TARGET_MAX_WORKERS 256
#define TARGET_MAX_QUEUE 1000000
#define TARGET_BOUNDS_MARGIN_DEG 0.01 /* coordinates this far outside the map still snap */

/* A worker thread and its private A* scratch. */
struct target_worker {
    struct target_server *srv;
    struct astar astar;
    pthread_t thread;
};

/* The service. */
struct target_server {
    struct target_service svc; /* what the endpoints (api.c) work on */
    struct tconn_host host;    /* what every connection is given: loop, counters, handler */
    struct loop loop;
    struct listener listener;
    int wake_fd;
    struct loop_io wake_io;
    struct tconn *zombies; /* closed, freed after the current event batch */
    struct target_worker *workers;
    uint32_t workers_started;
};

/*
 * Generates the snapping index, binds and listens on cfg->listen_addr and
 * starts the workers. Returns 0 or -errno (e.g. -EADDRINUSE); on failure
 * everything is already released.
 */
int target_server_init(struct target_server *srv, const struct target_config *cfg, const struct roadmap *map);
/* Stops the workers, closes every socket and frees everything; NULL is fine. */
void target_server_release(struct target_server *srv);
/* The address actually bound (the port chosen when 0 was asked for). Returns 0 or -errno. */
int target_server_address(const struct target_server *srv, struct sockaddr_storage *addr, socklen_t *len);
/* Serves until *stop becomes non-zero (checked at least every 100 ms). Returns 0 or -errno. */
int target_server_run(struct target_server *srv, volatile sig_atomic_t *stop);

#endif
