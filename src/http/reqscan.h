/*
 * reqscan.h — where one HTTP/1.1 request ends in a script's bytes.
 *
 * A wrk script's request() returns raw request bytes, possibly several
 * requests one after another (wrk's pipeline.lua). salvo sends them as
 * they are, but must know how many responses to wait for and must refuse
 * bytes no server would read as requests, naming what is wrong, before
 * they go out. This scanner checks the request line, the header lines and
 * the body framing (Content-Length or chunked) of the first request and
 * says where it ends. It is pure: it never allocates and keeps no pointer
 * into the caller's bytes; *why is always a static string.
 */
#ifndef SALVO_REQSCAN_H
#define SALVO_REQSCAN_H

#include <stddef.h>
#include <sys/types.h>

#define REQSCAN_MAX_HEAD 65536 /* a request head longer than this is refused */

/*
 * Scans the request at p[0..len). Returns its length (> 0, at most len),
 * or -1 with *why naming the problem, e.g. "no request line",
 * "the request line does not end in HTTP/1.1", "body shorter than its
 * Content-Length". Bytes that end before the request does are an error
 * too: a script's request is complete or it is wrong.
 */
ssize_t reqscan_one(const char *p, size_t len, const char **why);

/* Counts the requests in p[0..len) (each scanned as above); -1 with *why on the first bad one. */
ssize_t reqscan_count(const char *p, size_t len, const char **why);

#endif
