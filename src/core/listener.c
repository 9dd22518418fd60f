/*
 * listener.c — batched accept with a pause on descriptor exhaustion; see
 * listener.h for the rules.
 *
 * The socket is level-triggered on purpose: when a batch ends with
 * connections still queued, the next loop iteration reports it again,
 * after the other ready sockets had their turn.
 */
#include "core/listener.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/container.h"

static void on_ready(struct loop_io *io, uint32_t events);
static void on_pause_end(struct timer *t, uint64_t now_ns);

/* Starts watching the socket (again). */
static int watch(struct listener *ls)
{
    if (ls->watched || ls->io.fd < 0) return 0;
    int rc = loop_add(ls->loop, &ls->io, EPOLLIN);
    if (rc == 0) ls->watched = true;
    return rc;
}

/* Stops watching the socket. */
static void unwatch(struct listener *ls)
{
    if (!ls->watched) return;
    loop_del(ls->loop, &ls->io);
    ls->watched = false;
}

int listener_init(struct listener *ls, struct loop *loop, int listen_fd, unsigned batch, listener_fn *on_accept)
{
    memset(ls, 0, sizeof *ls);
    ls->loop = loop;
    ls->io = (struct loop_io){.fd = listen_fd, .on_event = on_ready};
    ls->batch = batch ? batch : 1;
    ls->on_accept = on_accept;
    timer_init(&ls->pause_timer, on_pause_end);
    int rc = watch(ls);
    if (rc < 0) {
        close(listen_fd);
        ls->io.fd = -1;
    }
    return rc;
}

void listener_release(struct listener *ls)
{
    if (!ls->loop) return;
    timer_disarm(ls->loop, &ls->pause_timer);
    unwatch(ls);
    if (ls->io.fd >= 0) close(ls->io.fd);
    ls->io.fd = -1;
}

/* True for the errors that mean "no descriptor or buffer for now". */
static bool out_of_resources(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

/* The socket is readable: accepts one batch. */
static void on_ready(struct loop_io *io, uint32_t events)
{
    (void)events;
    struct listener *ls = container_of(io, struct listener, io);
    for (unsigned i = 0; i < ls->batch && ls->io.fd >= 0; i++) {
        int fd = accept4(ls->io.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            ls->on_accept(ls, fd); /* may release ls: the loop condition re-checks the fd */
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (out_of_resources(errno)) {
            ls->pauses++;
            unwatch(ls);
            timer_arm(ls->loop, &ls->pause_timer, clock_now_ns() + LISTENER_PAUSE_NS);
        }
        return; /* EAGAIN: the backlog is empty */
    }
}

/* The pause is over: the next event tells whether descriptors came back. */
static void on_pause_end(struct timer *t, uint64_t now_ns)
{
    (void)now_ns;
    struct listener *ls = container_of(t, struct listener, pause_timer);
    watch(ls);
}
