/*
 * errors.h — the kinds of request failure salvo counts.
 *
 * One X-macro generates the enum and the names, so a new kind is one line
 * and the per-kind counters are a plain array indexed by the enum. Names
 * are the keys of the results JSON "errors" object.
 */
#ifndef SALVO_ERRORS_H
#define SALVO_ERRORS_H

#include <errno.h>

#define SALVO_ERRORS(X)                                                                                                \
    X(CONNECT_REFUSED, "connect_refused")                                                                              \
    X(CONNECT_TIMEOUT, "connect_timeout")                                                                              \
    X(ADDR_NOT_AVAIL, "addr_not_avail") /* out of local ports */                                                       \
    X(NO_FD, "fd_exhausted")            /* EMFILE / ENFILE */                                                          \
    X(CONNECT_OTHER, "connect_error")                                                                                  \
    X(CONN_RESET, "conn_reset")                                                                                        \
    X(EOF_EARLY, "eof") /* closed mid-response */                                                                      \
    X(WRITE, "write_error")                                                                                            \
    X(READ, "read_error")                                                                                              \
    X(TLS_VERIFY, "tls_verify_failed")                                                                                 \
    X(TLS, "tls_error")                                                                                                \
    X(PARSE, "bad_response")                                                                                           \
    X(INTERRUPTED, "interrupted")             /* in flight at Ctrl-C */                                                \
    X(BACKLOG_FULL, "backlog_full")           /* backlog cap: never sent */                                            \
    X(H2_NOT_NEGOTIATED, "h2_not_negotiated") /* --http2: the server's ALPN did not pick h2 */                         \
    X(H2_NO_ERROR, "h2_no_error")             /* the h2 codes, in RFC 9113 order (h2.c maps them) */                   \
    X(H2_PROTOCOL_ERROR, "h2_protocol_error")                                                                          \
    X(H2_INTERNAL_ERROR, "h2_internal_error")                                                                          \
    X(H2_FLOW_CONTROL_ERROR, "h2_flow_control_error")                                                                  \
    X(H2_SETTINGS_TIMEOUT, "h2_settings_timeout")                                                                      \
    X(H2_STREAM_CLOSED, "h2_stream_closed")                                                                            \
    X(H2_FRAME_SIZE_ERROR, "h2_frame_size_error")                                                                      \
    X(H2_REFUSED, "h2_refused")                                                                                        \
    X(H2_CANCEL, "h2_cancel")                                                                                          \
    X(H2_COMPRESSION_ERROR, "h2_compression_error")                                                                    \
    X(H2_CONNECT_ERROR, "h2_connect_error")                                                                            \
    X(H2_ENHANCE_YOUR_CALM, "h2_enhance_your_calm")                                                                    \
    X(H2_INADEQUATE_SECURITY, "h2_inadequate_security")                                                                \
    X(H2_HTTP_1_1_REQUIRED, "h2_http_1_1_required")                                                                    \
    X(H2_OTHER, "h2_other_error") /* a code RFC 9113 does not define */                                                \
    X(SCRIPT, "script_error")     /* request() or response() raised an error or returned bad bytes */                  \
    X(TIMEOUT, "timeout")

enum salvo_err {
#define X(id, name) ERR_##id,
    SALVO_ERRORS(X)
#undef X
        ERR_COUNT
};

/* The JSON key of an error kind. */
static inline const char *salvo_err_name(enum salvo_err e)
{
    static const char *const names[] = {
#define X(id, name) name,
        SALVO_ERRORS(X)
#undef X
    };
    return (unsigned)e < ERR_COUNT ? names[e] : "unknown";
}

/* Maps a connect() errno to its kind. */
static inline enum salvo_err salvo_err_from_connect(int err)
{
    switch (err) {
    case ECONNREFUSED: return ERR_CONNECT_REFUSED;
    case ETIMEDOUT: return ERR_CONNECT_TIMEOUT;
    case EADDRNOTAVAIL: return ERR_ADDR_NOT_AVAIL;
    case EMFILE:
    case ENFILE: return ERR_NO_FD;
    case ECONNRESET: return ERR_CONN_RESET;
    default: return ERR_CONNECT_OTHER;
    }
}

#endif
