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
    X(INTERRUPTED, "interrupted")   /* in flight at Ctrl-C */                                                          \
    X(BACKLOG_FULL, "backlog_full") /* backlog cap: never sent */                                                      \
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
