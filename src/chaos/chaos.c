/*
 * chaos.c — the chaos server: proxies by name, deferred freeing; see chaos.h.
 *
 * Proxies are few (a handful per test), so they live in a plain array
 * searched linearly.
 */
#include "chaos/chaos.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "chaos/link.h"
#include "chaos/proxy.h"

int chaos_init(struct chaos *c, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->seed = seed;
    c->scratch = malloc(CHAOS_SCRATCH);
    if (!c->scratch) abort();
    int rc = loop_init(&c->loop, 0);
    if (rc < 0) {
        free(c->scratch);
        c->scratch = NULL;
    }
    return rc;
}

/* Frees everything on the dead lists. */
static void reap(struct chaos *c)
{
    while (c->dead_links) {
        struct link *l = c->dead_links;
        c->dead_links = l->next;
        link_free(l);
    }
    while (c->dead_proxies) {
        struct proxy *p = c->dead_proxies;
        c->dead_proxies = p->next_dead;
        proxy_free(p);
    }
}

void chaos_release(struct chaos *c)
{
    if (!c || !c->scratch) return;
    for (size_t i = 0; i < c->nproxies; i++)
        proxy_stop(c->proxies[i]);
    reap(c);
    for (size_t i = 0; i < c->nproxies; i++)
        proxy_free(c->proxies[i]);
    free(c->proxies);
    c->proxies = NULL;
    c->nproxies = 0;
    loop_release(&c->loop);
    free(c->scratch);
    c->scratch = NULL;
}

uint64_t chaos_next_id(struct chaos *c)
{
    return ++c->next_id;
}

struct proxy *chaos_find(struct chaos *c, const char *name)
{
    for (size_t i = 0; i < c->nproxies; i++)
        if (strcmp(c->proxies[i]->name, name) == 0) return c->proxies[i];
    return NULL;
}

int chaos_add_proxy(struct chaos *c, const char *name, const char *listen, const char *upstream, bool enabled,
                    struct proxy **out)
{
    if (chaos_find(c, name)) return -EEXIST;
    struct proxy *p;
    struct link_group shared = {
        .loop = &c->loop, .scratch = c->scratch, .seed = c->seed, .next_id = &c->next_id, .graveyard = &c->dead_links};
    int rc = proxy_new(&shared, name, listen, upstream, &p);
    if (rc < 0) return rc;
    if (enabled && (rc = proxy_start(p)) < 0) {
        proxy_free(p);
        return rc;
    }
    if (c->nproxies == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->proxies = realloc(c->proxies, c->cap * sizeof *c->proxies);
        if (!c->proxies) abort();
    }
    c->proxies[c->nproxies++] = p;
    if (out) *out = p;
    return 0;
}

int chaos_remove_proxy(struct chaos *c, const char *name)
{
    for (size_t i = 0; i < c->nproxies; i++) {
        struct proxy *p = c->proxies[i];
        if (strcmp(p->name, name) != 0) continue;
        memmove(&c->proxies[i], &c->proxies[i + 1], (c->nproxies - i - 1) * sizeof *c->proxies);
        c->nproxies--;
        proxy_stop(p);
        chaos_bury_proxy(c, p);
        return 0;
    }
    return -ENOENT;
}

int chaos_reset(struct chaos *c)
{
    int first = 0;
    for (size_t i = 0; i < c->nproxies; i++) {
        struct proxy *p = c->proxies[i];
        proxy_clear_toxics(p);
        if (!p->enabled) {
            int rc = proxy_start(p);
            if (rc < 0 && first == 0) first = rc;
        }
    }
    return first;
}

void chaos_bury_proxy(struct chaos *c, struct proxy *p)
{
    p->next_dead = c->dead_proxies;
    c->dead_proxies = p;
}

int chaos_run_once(struct chaos *c, uint64_t limit_ns)
{
    int rc = loop_run_once(&c->loop, limit_ns);
    reap(c);
    return rc;
}
