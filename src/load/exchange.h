/*
 * exchange.h — one request and its response on one connection of a worker.
 *
 * Private to the engine: engine.c schedules arrivals and hands them to
 * connections; exchange.c drives each connection through connect, TLS,
 * write, read and parse, records the outcome, and hands the connection
 * back (idle, closed, or to the next closed-model request). Both run on
 * the worker's own thread.
 */
#ifndef SALVO_EXCHANGE_H
#define SALVO_EXCHANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/container.h"
#include "load/conn.h"
#include "load/engine.h"

/* Why a connection was closed (pool statistics). */
enum close_reason { BY_SERVER, BY_US, BY_ERROR };

/* The interval slot of the current second. */
static inline struct interval *cur_interval(struct worker *w)
{
    return &w->slots[w->cur_sec % WORKER_SLOTS];
}

/* Sends c's request now (c is connected and c->req is set). */
void exchange_send(struct conn *c);
/* Opens connection slot c for its request (or none). False if it failed at once. */
bool exchange_start(struct worker *w, struct conn *c);
/* Closes c's socket; the slot goes back to the free stack unless keep_slot. */
void exchange_close(struct conn *c, enum close_reason why, bool keep_slot);
/* Unlinks c from the worker's idle list. */
void exchange_idle_unlink(struct worker *w, struct conn *c);
/* Takes c's request off it (the caller records its outcome). */
void exchange_drop_req(struct conn *c);
/* The epoll callback of every connection. */
void exchange_on_event(struct loop_io *io, uint32_t events);
/* A connection's timer: request deadline, pacing or backoff. */
void exchange_on_timer(struct timer *t, uint64_t now);

/* Provided by engine.c: hand the backlog to connections (open model). */
void engine_pump(struct worker *w, uint64_t now);
/* Provided by engine.c: give c (or a free slot) its next closed-model request. */
void engine_closed_next(struct worker *w, struct conn *c);

#endif
