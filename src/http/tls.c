/*
 * tls.c — OpenSSL client context (see tls.h).
 */
#include "http/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

int tls_init(struct tls *t, bool verify, const char **why)
{
    t->verify = verify;
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx) return *why = "cannot create TLS context", -EINVAL;
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (verify) {
        SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
        if (SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
            SSL_CTX_free(t->ctx);
            t->ctx = NULL;
            return *why = "cannot load the system CA certificates", -EINVAL;
        }
    } else {
        SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
    }
    return 0;
}

int tls_set_alpn(struct tls *t, bool h2)
{
    /* Wire format: each name prefixed by its length, the preferred first. */
    static const unsigned char both[] = "\x02h2\x08http/1.1", h1[] = "\x08http/1.1";
    int rc = h2 ? SSL_CTX_set_alpn_protos(t->ctx, both, sizeof(both) - 1)
                : SSL_CTX_set_alpn_protos(t->ctx, h1, sizeof(h1) - 1);
    return rc == 0 ? 0 : -EINVAL; /* 0 is success for this OpenSSL call */
}

void tls_release(struct tls *t)
{
    if (!t || !t->ctx) return;
    SSL_CTX_free(t->ctx);
    t->ctx = NULL;
}

/* True when host is an IPv4 or IPv6 literal (no SNI for those, per RFC 6066). */
static bool is_ip_literal(const char *host)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

SSL *tls_session_new(const struct tls *t, int fd, const char *host)
{
    SSL *s = SSL_new(t->ctx);
    if (!s) return NULL;
    SSL_set_fd(s, fd);
    SSL_set_connect_state(s);
    if (!is_ip_literal(host)) SSL_set_tlsext_host_name(s, host);
    if (t->verify) {
        X509_VERIFY_PARAM *param = SSL_get0_param(s);
        if (is_ip_literal(host))
            X509_VERIFY_PARAM_set1_ip_asc(param, host);
        else
            SSL_set1_host(s, host);
    }
    return s;
}

bool tls_describe_failure(SSL *s, char *buf, size_t cap)
{
    long vr = SSL_get_verify_result(s);
    if (vr != X509_V_OK) {
        snprintf(buf, cap, "certificate verify failed: %s", X509_verify_cert_error_string(vr));
        ERR_clear_error();
        return true;
    }
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, buf, cap);
    else
        snprintf(buf, cap, "handshake failed");
    ERR_clear_error();
    return false;
}
