/*
 * routes.c — the control API's handlers; see routes.h for the table.
 *
 * Each handler parses what it needs from the JSON body, calls the proxy or
 * server function and renders the resource again, so what a client reads
 * back is always the state in force, not an echo of what it sent.
 */
#include "chaos/routes.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaos/chaos.h"
#include "chaos/proxy.h"
#include "spec/toxic_json.h"
#include "core/version.h"

#define MAX_SEGMENTS 5

/* Fills out with a JSON value (stolen) and a status. */
static void reply_json(struct api_reply *out, int status, json_t *v)
{
    out->status = status;
    out->body = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(12)); /* toxicity 0.3, not 0.29999999999999999 */
    json_decref(v);
}

/* Fills out with toxiproxy's error shape. */
static void reply_error(struct api_reply *out, int status, const char *msg)
{
    reply_json(out, status, json_pack("{s:s, s:i}", "error", msg, "status", status));
}

/* The error reply for a -errno from proxy or server functions. */
static void reply_errno(struct api_reply *out, int rc, const char *what)
{
    char msg[160];
    if (rc == -EEXIST)
        snprintf(msg, sizeof msg, "%s already exists", what);
    else if (rc == -ENOENT)
        snprintf(msg, sizeof msg, "%s not found", what);
    else if (rc == -EHOSTUNREACH)
        snprintf(msg, sizeof msg, "%s: the listen or upstream host does not resolve", what);
    else
        snprintf(msg, sizeof msg, "%s: %s", what, strerror(-rc));
    int status = rc == -EEXIST ? 409 : rc == -ENOENT ? 404 : rc == -EINVAL || rc == -EHOSTUNREACH ? 400 : 500;
    reply_error(out, status, msg);
}

static json_t *proxy_json(const struct proxy *p)
{
    json_t *toxics = json_array();
    for (size_t i = 0; i < p->group.ntoxics; i++)
        json_array_append_new(toxics, toxic_to_json(&p->group.toxics[i]));
    return json_pack("{s:s, s:s, s:s, s:b, s:o}", "name", p->name, "listen", p->listen.text, "upstream",
                     p->group.upstream.text, "enabled", p->enabled, "toxics", toxics);
}

/* Parses the body as JSON; replies 400 and returns NULL when it is not. */
static json_t *parse_body(const char *body, size_t len, struct api_reply *out)
{
    json_error_t jerr;
    json_t *v = json_loadb(body, len, 0, &jerr);
    if (!v) {
        char msg[200];
        snprintf(msg, sizeof msg, "bad request body: %s", jerr.text);
        reply_error(out, 400, msg);
    }
    return v;
}

/* A string member, or NULL when absent or empty. */
static const char *str_member(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : NULL;
}

/* Creates one proxy from its JSON; replaces a different one of the same name when replace. */
static int create_proxy(struct chaos *c, const json_t *in, bool replace, struct proxy **out, const char **missing)
{
    const char *name = str_member(in, "name"), *upstream = str_member(in, "upstream");
    const char *listen = str_member(in, "listen");
    if (!name || !upstream) {
        *missing = !name ? "name" : "upstream";
        return -EINVAL;
    }
    const json_t *en = json_object_get(in, "enabled");
    bool enabled = en && json_is_boolean(en) ? json_is_true(en) : true;
    struct proxy *old = chaos_find(c, name);
    if (old && replace) {
        if (strcmp(old->group.upstream.text, upstream) == 0 && (!listen || strcmp(old->listen.text, listen) == 0)) {
            *out = old;
            return 0;
        }
        chaos_remove_proxy(c, name);
    }
    return chaos_add_proxy(c, name, listen ? listen : "127.0.0.1:0", upstream, enabled, out);
}

static void post_proxies(struct chaos *c, const json_t *in, struct api_reply *out)
{
    struct proxy *p;
    const char *missing = NULL;
    int rc = create_proxy(c, in, false, &p, &missing);
    if (missing) {
        char msg[80];
        snprintf(msg, sizeof msg, "missing required field: %s", missing);
        return reply_error(out, 400, msg);
    }
    if (rc < 0) return reply_errno(out, rc, "proxy");
    reply_json(out, 201, proxy_json(p));
}

static void post_populate(struct chaos *c, const json_t *in, struct api_reply *out)
{
    if (!json_is_array(in)) return reply_error(out, 400, "bad request body: expected an array of proxies");
    json_t *created = json_array();
    size_t i;
    const json_t *item;
    json_array_foreach(in, i, item)
    {
        struct proxy *p;
        const char *missing = NULL;
        int rc = create_proxy(c, item, true, &p, &missing);
        if (rc < 0) {
            json_decref(created);
            char msg[120];
            if (missing)
                snprintf(msg, sizeof msg, "missing required field: %s", missing);
            else
                snprintf(msg, sizeof msg, "proxy %zu: %s", i, strerror(-rc));
            return reply_error(out, missing ? 400 : rc == -EEXIST ? 409 : 400, msg);
        }
        json_array_append_new(created, proxy_json(p));
    }
    reply_json(out, 201, json_pack("{s:o}", "proxies", created));
}

/* True when obj[key] is absent or of the JSON type wanted. */
static bool member_is(const json_t *obj, const char *key, json_type want)
{
    const json_t *v = json_object_get(obj, key);
    if (!v) return true;
    if (want == JSON_TRUE) return json_is_boolean(v);
    return json_typeof(v) == want;
}

/* POST or PATCH /proxies/{p}: validated whole, then applied whole (proxy_update). */
static void update_proxy(struct proxy *p, const json_t *in, struct api_reply *out)
{
    if (!json_is_object(in)) return reply_error(out, 400, "bad request body: expected a proxy object");
    static const char *const strings[] = {"name", "listen", "upstream"};
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) {
        if (member_is(in, strings[i], JSON_STRING)) continue;
        char msg[80];
        snprintf(msg, sizeof msg, "bad request body: %s must be a string", strings[i]);
        return reply_error(out, 400, msg);
    }
    if (!member_is(in, "enabled", JSON_TRUE))
        return reply_error(out, 400, "bad request body: enabled must be true or false");
    const char *name = str_member(in, "name");
    if (name && strcmp(name, p->name) != 0) return reply_error(out, 400, "bad request body: a proxy cannot be renamed");
    const json_t *en = json_object_get(in, "enabled");
    int enabled = en ? json_is_true(en) : -1;
    int rc = proxy_update(p, str_member(in, "listen"), str_member(in, "upstream"), enabled);
    if (rc < 0) return reply_errno(out, rc, "proxy");
    reply_json(out, 200, proxy_json(p));
}

static void add_toxic(struct proxy *p, const json_t *in, struct api_reply *out)
{
    struct toxic t;
    char err[160];
    if (toxic_from_json(&t, in, err, sizeof err) != 0) return reply_error(out, 400, err);
    int rc = proxy_add_toxic(p, &t);
    if (rc < 0) return reply_errno(out, rc, "toxic");
    reply_json(out, 200, toxic_to_json(proxy_find_toxic(p, t.name)));
}

static void update_toxic(struct proxy *p, struct toxic *old, const json_t *in, struct api_reply *out)
{
    struct toxic t = *old;
    char err[160];
    if (toxic_patch_json(&t, in, err, sizeof err) != 0) return reply_error(out, 400, err);
    proxy_update_toxic(p, old->name, &t);
    reply_json(out, 200, toxic_to_json(proxy_find_toxic(p, t.name)));
}

/* /proxies/{p}/toxics[/{t}] */
static void toxic_routes(struct proxy *p, const char *method, char **seg, int nseg, const json_t *in,
                         struct api_reply *out)
{
    bool get = strcmp(method, "GET") == 0, del = strcmp(method, "DELETE") == 0;
    bool post = strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0;
    if (nseg == 3) {
        if (get) {
            json_t *a = json_array();
            for (size_t i = 0; i < p->group.ntoxics; i++)
                json_array_append_new(a, toxic_to_json(&p->group.toxics[i]));
            return reply_json(out, 200, a);
        }
        if (strcmp(method, "POST") == 0) return add_toxic(p, in, out);
        return reply_error(out, 405, "method not allowed");
    }
    struct toxic *t = proxy_find_toxic(p, seg[3]);
    if (!t) return reply_error(out, 404, "toxic not found");
    if (get) return reply_json(out, 200, toxic_to_json(t));
    if (post) return update_toxic(p, t, in, out);
    if (del) {
        proxy_remove_toxic(p, seg[3]);
        out->status = 204;
        return;
    }
    reply_error(out, 405, "method not allowed");
}

/* /proxies/{p}... */
static void proxy_routes(struct chaos *c, const char *method, char **seg, int nseg, const json_t *in,
                         struct api_reply *out)
{
    struct proxy *p = chaos_find(c, seg[1]);
    if (!p) return reply_error(out, 404, "proxy not found");
    if (nseg >= 3) {
        if (strcmp(seg[2], "toxics") != 0 || nseg > 4) return reply_error(out, 404, "not found");
        return toxic_routes(p, method, seg, nseg, in, out);
    }
    if (strcmp(method, "GET") == 0) return reply_json(out, 200, proxy_json(p));
    if (strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0) return update_proxy(p, in, out);
    if (strcmp(method, "DELETE") == 0) {
        chaos_remove_proxy(c, seg[1]);
        out->status = 204;
        return;
    }
    reply_error(out, 405, "method not allowed");
}

/* Splits a path into at most MAX_SEGMENTS segments, in place. Returns the count or -1. */
static int split_path(char *path, char **seg)
{
    char *q = strchr(path, '?');
    if (q) *q = '\0';
    int n = 0;
    for (char *s = strtok(path, "/"); s; s = strtok(NULL, "/")) {
        if (n == MAX_SEGMENTS) return -1;
        seg[n++] = s;
    }
    return n;
}

/* Routes that need the body parsed. */
static void dispatch(struct chaos *c, const char *method, char **seg, int nseg, const json_t *in, struct api_reply *out)
{
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (nseg == 1 && strcmp(seg[0], "version") == 0 && get)
        return reply_json(out, 200, json_pack("{s:s}", "version", SALVO_VERSION));
    if (nseg == 1 && strcmp(seg[0], "reset") == 0 && post) {
        int rc = chaos_reset(c);
        if (rc < 0) return reply_errno(out, rc, "reset");
        out->status = 204;
        return;
    }
    if (nseg == 1 && strcmp(seg[0], "populate") == 0 && post) return post_populate(c, in, out);
    if (nseg == 1 && strcmp(seg[0], "proxies") == 0) {
        if (post) return post_proxies(c, in, out);
        if (!get) return reply_error(out, 405, "method not allowed");
        json_t *all = json_object();
        for (size_t i = 0; i < c->nproxies; i++)
            json_object_set_new(all, c->proxies[i]->name, proxy_json(c->proxies[i]));
        return reply_json(out, 200, all);
    }
    if (nseg >= 2 && strcmp(seg[0], "proxies") == 0) return proxy_routes(c, method, seg, nseg, in, out);
    reply_error(out, 404, "not found");
}

void routes_handle(struct chaos *c, const char *method, const char *path, const char *body, size_t body_len,
                   struct api_reply *out)
{
    *out = (struct api_reply){0};
    char buf[512], *seg[MAX_SEGMENTS];
    snprintf(buf, sizeof buf, "%s", path);
    int nseg = split_path(buf, seg);
    if (nseg < 0) return reply_error(out, 404, "not found");
    bool wants_body = strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0;
    json_t *in = NULL;
    if (wants_body && body_len > 0 && !(in = parse_body(body, body_len, out))) return;
    if (wants_body && !in) in = json_object(); /* POST /reset and friends send no body */
    dispatch(c, method, seg, nseg, in, out);
    json_decref(in);
}
