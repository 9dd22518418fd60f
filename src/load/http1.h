/*
 * http1.h — HTTP/1.1 as a connection protocol (proto.h).
 *
 * Requests go out as rendered by the request generator; responses are
 * parsed by http/parser.c in the order the requests were written. A
 * connection carries one request at a time, or with --pipeline N up to N,
 * answered in order (RFC 9112 §9.3.2). Keep-alive follows the response:
 * Connection: close, a close-delimited body or bytes nobody asked for end
 * the connection. Reads land in the worker's shared scratch buffer; only a
 * response head that is not complete yet is carried per connection.
 */
#ifndef SALVO_HTTP1_H
#define SALVO_HTTP1_H

#include <stdint.h>

#include "load/proto.h"

extern const struct proto_ops http1_proto;

struct conn;
struct worker;

/*
 * The kept-body budget on HTTP/1.1 (body_budget.h): a response reserves
 * when its head is complete, or its connection stops reading until
 * http1_budget_grant hands it room and resumes it. http1_budget_drop gives
 * back what c's oldest response holds or stops its wait (it was judged,
 * failed, timed out, or the connection closes).
 */
void http1_budget_drop(struct conn *c);
/* Resumes the waiting connections of w that fit now, oldest first. */
void http1_budget_grant(struct worker *w, uint64_t now_ns);

#endif
