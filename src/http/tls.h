/*
 * tls.h — OpenSSL client context for https targets.
 *
 * Verification is on by default (system CA store, host name checked against
 * the certificate, SNI sent); --insecure turns verification off. The
 * context is built once before the run and shared read-only by workers
 * (SSL_CTX is safe to use from several threads once configured).
 */
#ifndef SALVO_TLS_H
#define SALVO_TLS_H

#include <stdbool.h>
#include <openssl/ssl.h>

/* The client context; owns ctx. */
struct tls {
    SSL_CTX *ctx;
    bool verify;
};

/* Creates the context. Returns 0 or -EINVAL (*why set). */
int tls_init(struct tls *t, bool verify, const char **why);
/*
 * Sets the protocols the client offers in ALPN: h2 and http/1.1 (h2 true)
 * or http/1.1 alone. Returns 0 or -EINVAL.
 */
int tls_set_alpn(struct tls *t, bool h2);
/* Frees the context; NULL is fine. */
void tls_release(struct tls *t);
/* A new client session on fd with SNI and host verification for host. */
SSL *tls_session_new(const struct tls *t, int fd, const char *host);
/*
 * Describes the last handshake failure of s into buf (e.g. "certificate
 * verify failed: self-signed certificate"); returns true when it was a
 * certificate verification failure.
 */
bool tls_describe_failure(SSL *s, char *buf, size_t cap);

#endif
