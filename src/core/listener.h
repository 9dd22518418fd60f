/*
 * listener.h — a listening socket on a loop: accepts in batches, pauses
 * when the process runs out of file descriptors.
 *
 * salvo's three servers (the chaos proxies, the chaos API, the target) all
 * face floods of connections. One home for the accept loop gives them the
 * same rules:
 * - level-triggered, at most `batch` accepts per event, so a flood cannot
 *   starve the connections already open;
 * - out of descriptors (EMFILE, ENFILE, ENOBUFS, ENOMEM) the socket is
 *   unwatched for LISTENER_PAUSE_NS instead of spinning on an event that
 *   stays ready; the pending connections wait in the kernel's backlog;
 * - EINTR and ECONNABORTED (a connection that died in the backlog) are
 *   skipped, anything else ends the batch.
 *
 * Ownership: the caller owns the struct (embedded in its server) and hands
 * over the listening fd; listener_release closes it. The callback owns the
 * accepted fd (non-blocking, close-on-exec).
 */
#ifndef SALVO_CORE_LISTENER_H
#define SALVO_CORE_LISTENER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"

#define LISTENER_PAUSE_NS (100u * 1000 * 1000) /* 100 ms without accepting after EMFILE */

struct listener;

/* Called for every accepted connection; owns fd from then on. */
typedef void listener_fn(struct listener *ls, int fd);

/* One listening socket. */
struct listener {
    struct loop *loop;
    struct loop_io io; /* fd -1 when released */
    struct timer pause_timer;
    bool watched;
    unsigned batch;
    listener_fn *on_accept;
    uint64_t pauses; /* times accept ran out of descriptors */
};

/* Takes over listen_fd and watches it on loop. 0 or -errno (fd closed then). */
int listener_init(struct listener *ls, struct loop *loop, int listen_fd, unsigned batch, listener_fn *on_accept);
/* Stops watching and closes the fd. Idempotent; a zeroed struct is fine. */
void listener_release(struct listener *ls);

/* The listening fd, or -1. */
static inline int listener_fd(const struct listener *ls)
{
    return ls->io.fd;
}

#endif
