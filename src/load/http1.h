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

#include "load/proto.h"

extern const struct proto_ops http1_proto;

#endif
