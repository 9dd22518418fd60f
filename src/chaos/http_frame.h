/*
 * http_frame.h — where HTTP/1.x messages begin and end in a byte stream.
 *
 * The chaos proxy forwards bytes as they come and must not hold a request
 * back just to parse it, so this framer is streaming: it is fed whatever
 * arrived, in any pieces, never asks for the same bytes twice and never
 * needs the head in one buffer (unlike http/parser.c, whose caller keeps
 * the head contiguous). It keeps only what framing needs: the method (HEAD,
 * CONNECT), the status, Content-Length, Transfer-Encoding: chunked,
 * Connection and Upgrade. It does not validate more than framing requires;
 * input it cannot frame is an error, and the proxy then treats the rest of
 * the connection as opaque bytes.
 *
 * Contract of http_frame_feed(f, buf, len):
 *   - consumes bytes up to and including the one that completes an event,
 *     or all of buf; f->events then says what happened at that point:
 *     HTTP_FRAME_HEAD (the final head is complete: results are valid) and
 *     HTTP_FRAME_DONE (the message is complete; the next byte starts the
 *     next message). Both bits are set for a message without a body.
 *   - a message starts with the first byte fed while http_frame_idle(f);
 *     for a response, call http_frame_expect() before that byte to say
 *     whether the request was HEAD.
 *   - interim 1xx responses (not 101) are part of the message that follows
 *     them: no event until the final head.
 *   - -1: malformed; f->error names the problem and every later call fails.
 *   - a response without length ends at EOF: call http_frame_eof().
 *
 * Costs: one branch per head byte, O(1) per body chunk; no allocation.
 */
#ifndef SALVO_CHAOS_HTTP_FRAME_H
#define SALVO_CHAOS_HTTP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_FRAME_HEAD 1u
#define HTTP_FRAME_DONE 2u
#define HTTP_FRAME_MAX_HEAD 65536 /* a head larger than this is an error */

/* The framing state of one direction of one connection; caller-owned. */
struct http_frame {
    /* Results of the current message, valid from its HEAD event until the
       next message starts. */
    bool is_response;
    bool method_head;       /* request: HEAD (its response has no body) */
    bool upgrade;           /* request: CONNECT or Upgrade; response: 101 */
    bool keep_alive;        /* request: the client expects the connection to stay open */
    int status;             /* response: the final status */
    int64_t content_length; /* -1 when absent */
    bool chunked;
    uint64_t head_bytes; /* bytes of the head, interim heads included */
    unsigned events;     /* HTTP_FRAME_* bits set by the last feed */
    const char *error;   /* static text once a feed returned -1 */

    /* Private. */
    int state;
    bool expect_no_body; /* response to a HEAD request */
    bool http10;         /* the message is HTTP/1.0 */
    bool conn_close, conn_keep_alive, has_upgrade;
    uint64_t remaining; /* body or chunk bytes left */
    uint32_t line_len;  /* bytes of the current line (limits chunk-ext, trailers) */
    uint8_t name_len, value_len, line1_len;
    bool name_long, value_long;
    uint8_t header;   /* which header the current line is: an enum in http_frame.c */
    uint8_t tail_pos; /* next slot of the tail ring */
    char name[32];
    char value[64];
    char line1[64]; /* the start of the first line */
    char tail[8];   /* ring of the last 8 bytes of the first line */
};

/* Prepares f for a stream of requests (is_response false) or responses. */
void http_frame_init(struct http_frame *f, bool is_response);

/* True between messages: the next byte fed starts a new message. */
bool http_frame_idle(const struct http_frame *f);

/* Response framing: the next response answers a HEAD request (no body). */
void http_frame_expect(struct http_frame *f, bool head_request);

/* See the contract above. Returns bytes consumed (0 only when len is 0) or -1. */
ssize_t http_frame_feed(struct http_frame *f, const char *buf, size_t len);

/*
 * The stream ended. Returns 1 when this completed a close-delimited
 * response (DONE), 0 when the stream ended cleanly between messages, -1
 * when a message was cut short.
 */
int http_frame_eof(struct http_frame *f);

#endif
