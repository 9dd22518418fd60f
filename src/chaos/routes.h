/*
 * routes.h — the control API's resources, with toxiproxy's paths, fields
 * and status codes for the subset salvo implements:
 *
 *   GET  /version                        {"version": "..."}
 *   GET  /proxies                        {name: proxy, ...}
 *   POST /proxies                        create (201; 409 if the name exists)
 *   POST /populate                       create or replace many (201)
 *   GET  /proxies/{p}                    one proxy
 *   POST|PATCH /proxies/{p}              update listen, upstream, enabled
 *   DELETE /proxies/{p}                  204
 *   GET  /proxies/{p}/toxics             [toxic, ...]
 *   POST /proxies/{p}/toxics             add (200; 409 if the name exists)
 *   GET  /proxies/{p}/toxics/{t}         one toxic
 *   POST|PATCH /proxies/{p}/toxics/{t}   update toxicity, attributes
 *   DELETE /proxies/{p}/toxics/{t}       204
 *   POST /reset                          enable all, remove all toxics (204)
 *
 * Errors are {"error": "...", "status": N} as in toxiproxy. The transport
 * (api.c) is separate so these handlers can be tested without sockets.
 */
#ifndef SALVO_CHAOS_ROUTES_H
#define SALVO_CHAOS_ROUTES_H

#include <stddef.h>

struct chaos;

/* The answer to one API request. */
struct api_reply {
    int status;
    char *body; /* malloc'd JSON text, or NULL for no body (204); the caller frees it */
};

/*
 * Handles one request against the chaos server. path may carry a query
 * string (ignored). Never fails: problems become 4xx/5xx replies.
 */
void routes_handle(struct chaos *c, const char *method, const char *path, const char *body, size_t body_len,
                   struct api_reply *out);

#endif
