/*
 * check_stream.h — checks on a connection's streams: keep the bytes a
 * check reads, judge them when the response is complete.
 *
 * Only a run with --check pays anything. Status-only checks keep nothing;
 * header checks keep the head; body and json checks keep up to --max-body
 * of the body besides (a longer body fails them with body_too_large). A
 * stream's buffer grows on demand, is reused by its next response and
 * freed after a response that made it larger than CHECK_KEEP_REUSE, so an
 * idle connection does not hold a large body. Runs on the worker's thread.
 */
#ifndef SALVO_CHECK_STREAM_H
#define SALVO_CHECK_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "load/body_budget.h"
#include "load/config.h"
#include "load/recorder.h"
#include "load/stream.h"

#define CHECK_KEEP_REUSE (64 * 1024) /* a kept buffer larger than this is freed after its response */

/* A stream starts a new response: nothing kept yet. */
static inline void check_stream_reset(struct stream *s)
{
    s->kept_len = 0;
    s->kept_over = false;
    s->kept_head = false;
    s->kept_body_at = 0;
}

/*
 * The final head of s's response ends at kept_len: from here on at most
 * --max-body body bytes are kept (as received: a chunked body's framing
 * counts), whatever the head's size, so --max-body means the body alone.
 */
static inline void check_stream_mark_body(struct stream *s)
{
    if (!s->kept_body_at) s->kept_body_at = s->kept_len;
}

/*
 * Body bytes s's response may still keep, now that its head is complete
 * (what the kept-body budget reserves, body_budget.h): its Content-Length,
 * or when the length is unknown (chunked, close-delimited) the rest of the
 * per-response cap; never more than that rest.
 */
size_t check_stream_body_need(const struct run_config *cfg, const struct stream *s);

/* The most one response may keep (its heads, then its body): a worker's budget share must hold it. */
size_t check_stream_keep_cap(const struct run_config *cfg);

/* Keeps bytes data[0..len) the parser consumed for s's response, within the cap. */
void check_stream_keep(const struct run_config *cfg, struct stream *s, const char *data, size_t len);

/*
 * HTTP/2: one header field of s's response HEADERS, kept as a line of an
 * HTTP/1.1-shaped head ("HTTP/2 NNN" for :status, "name: value" else) so
 * that checks read h2 and HTTP/1.1 responses alike. Fields past the head
 * cap are not kept. Fields of trailers (after the final head) are ignored.
 */
void check_stream_h2_field(const struct run_config *cfg, struct stream *s, const uint8_t *name, size_t namelen,
                           const uint8_t *value, size_t valuelen);

/*
 * HTTP/2: s's HEADERS frame with this :status ended. Ends the kept head;
 * a final head (status >= 200) of a run whose checks read bodies reserves
 * the body's room (body_budget_take); no room: the body is not kept and
 * body checks say body_too_large (docs/http2.md).
 */
void check_stream_h2_head_end(const struct run_config *cfg, struct body_budget *b, struct stream *s, int status);

/* HTTP/2: DATA bytes of s's response, kept within the cap once its final head is in. */
void check_stream_h2_data(const struct run_config *cfg, struct stream *s, const uint8_t *data, size_t len);

/*
 * Judges cfg's checks on s's complete response with this status, counts
 * each verdict in rec and returns true when any failed.
 */
bool check_stream_judge(const struct run_config *cfg, struct recorder *rec, struct stream *s, int status);

#endif
