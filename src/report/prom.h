/*
 * prom.h — live Prometheus metrics during a run (`--metrics ADDR`).
 *
 * A tiny HTTP server on its own thread answers every GET with the text
 * the main thread last published (once a second, after it merged the
 * workers' second). The workers never see it: publishing swaps a string
 * under a mutex, off the hot path.
 */
#ifndef SALVO_PROM_H
#define SALVO_PROM_H

#include <pthread.h>
#include <stdbool.h>

#include "core/hist.h"
#include "load/config.h"
#include "load/recorder.h"
#include "load/run.h"
#include "report/rw_series.h"

/* The server and the running totals it reports; caller-owned. */
struct prom {
    int fd;
    char url[160]; /* http://HOST:PORT/metrics, with the port the kernel chose for port 0 */
    pthread_t thread;
    pthread_mutex_t mu;
    char *body; /* guarded by mu */
    bool running;
    struct rw_totals totals; /* per request name, main thread only; the same sums remote write keeps */
};

/*
 * Listens on addr ("127.0.0.1:9090", "[::1]:9090", ":9090" or "9090" =
 * loopback; port 0 lets the kernel choose, p->url tells). Returns 0 or -errno.
 */
int prom_start(struct prom *p, const char *addr);
/* Checks a --metrics address without opening anything: 0, -EINVAL (not HOST:PORT) or -EHOSTUNREACH. */
int prom_check_addr(const char *addr);
/* Adds one merged second (per name) and republishes the text. */
void prom_second(struct prom *p, const struct run_config *cfg, const struct timeline_row *row,
                 const struct interval *merged);
/* Stops the server thread and frees everything; safe if never started. */
void prom_stop(struct prom *p);

#endif
