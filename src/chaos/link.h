/*
 * link.h — one proxied connection: a client socket, an upstream socket and
 * the two directions of bytes between them, with the proxy's toxics applied.
 *
 * Each direction (upstream = client to server, downstream = back, as in
 * toxiproxy) reads from its source, lets the HTTP exchange look at the bytes
 * (HTTP toxics), applies the byte toxics (timeout, reset_peer, limit_data,
 * latency) and queues what is left with a release time; its writer sends
 * queued bytes once released, paced by bandwidth and slicer, and passes the
 * FIN on (after slow_close). With no toxic and a ready peer, bytes go from
 * read() straight to write() without being queued.
 *
 * HTTP framing costs CPU on every read, so a link feeds its exchange only
 * while the proxy has an HTTP toxic. A link that did not frame starts at
 * the next point that is a request boundary for a client that does not
 * pipeline: the first client bytes, or client bytes that follow a response
 * with nothing queued. Should that guess be wrong, the framer turns the
 * exchange opaque and the HTTP toxics skip that connection. A link stops
 * framing when the last HTTP toxic is gone and no message is in flight.
 *
 * Toxics are not copied into the link: every decision reads the proxy's
 * current list, so a toxic added, changed or removed through the API takes
 * effect on live connections at once, and connections it does not hit are
 * not disturbed (every change of the proxy's toxic list calls link_refresh on each link).
 *
 * Ownership: a link knows nothing of proxies or of the server. What it
 * needs it is given when it is made: a struct link_group, embedded in its
 * proxy, holding the loop, the read scratch, the dice seed, the upstream,
 * the toxic list and the list of live links. link_close unlinks a link and
 * puts it on the group's graveyard (the server's list), which the server
 * frees after the current loop iteration, because the loop may still hold
 * an event for it. Single-threaded: everything runs on one loop.
 */
#ifndef SALVO_CHAOS_LINK_H
#define SALVO_CHAOS_LINK_H

#include "chaos/link_data.h"

/*
 * Takes over an accepted client fd: allocates the link, links it into the
 * proxy and starts it (or parks it for a handshake toxic). On failure the
 * fd is closed and -errno returned.
 */
int link_new(struct link_group *group, int client_fd);

/* Closes both sockets and hands the link to the server for freeing. Idempotent. */
void link_close(struct link *l, enum link_close_how how);

/* The proxy's toxics changed: re-arm deadlines and let held bytes move. */
void link_refresh(struct link *l);

/* Frees a closed link (called by the server after the loop iteration). */
void link_free(struct link *l);

#endif
