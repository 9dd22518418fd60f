/*
 * transport.c — a connection's socket (non-blocking connect, TCP_NODELAY),
 * its TLS handshake and the two byte transports (plain, TLS) the state
 * machine of conn.c reads and writes through (contract in conn.h: bytes,
 * 0 at EOF, CONN_AGAIN, or -errno).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "load/conn.h"

int conn_socket_open(struct conn *c, const struct url *u)
{
    int fd = socket(u->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (const struct sockaddr *)&u->addr, u->addr_len) < 0 && errno != EINPROGRESS) {
        int err = errno;
        close(fd);
        return -err;
    }
    c->io.fd = fd;
    return 0;
}

int conn_connect_result(struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(c->io.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return -errno;
    return -err;
}

int conn_handshake(struct conn *c, const struct tls *tls, const char *host, char *why, size_t cap, bool *verify)
{
    *verify = false;
    if (!c->ssl) {
        c->ssl = tls_session_new(tls, c->io.fd, host);
        if (!c->ssl) {
            snprintf(why, cap, "cannot create TLS session");
            return -1;
        }
    }
    ERR_clear_error();
    int rc = SSL_do_handshake(c->ssl);
    if (rc == 1) return 1;
    int e = SSL_get_error(c->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
    *verify = tls_describe_failure(c->ssl, why, cap);
    return -1;
}

void conn_close_fd(struct conn *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->io.fd >= 0) close(c->io.fd);
    c->io.fd = -1;
}

/* Plain read: bytes, 0 at EOF, CONN_AGAIN, or -errno. */
static ssize_t plain_read(struct conn *c, char *buf, size_t len)
{
    ssize_t n = read(c->io.fd, buf, len);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EINTR) return CONN_AGAIN;
    return -errno;
}

/* Plain write: bytes, CONN_AGAIN, or -errno. */
static ssize_t plain_write(struct conn *c, const char *buf, size_t len)
{
    ssize_t n = send(c->io.fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EINTR) return CONN_AGAIN;
    return -errno;
}

/* Maps an SSL result to the transport contract. */
static ssize_t tls_result(struct conn *c, int rc)
{
    if (rc > 0) return rc;
    int e = SSL_get_error(c->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return CONN_AGAIN;
    if (e == SSL_ERROR_ZERO_RETURN) return 0;
    if (e == SSL_ERROR_SYSCALL) {
        ERR_clear_error();
        return errno ? -errno : 0; /* EOF without close_notify */
    }
    ERR_clear_error();
    return -EPROTO;
}

static ssize_t tls_read(struct conn *c, char *buf, size_t len)
{
    ERR_clear_error();
    errno = 0;
    return tls_result(c, SSL_read(c->ssl, buf, (int)len));
}

static ssize_t tls_write(struct conn *c, const char *buf, size_t len)
{
    ERR_clear_error();
    errno = 0;
    return tls_result(c, SSL_write(c->ssl, buf, (int)len));
}

const struct transport transport_plain = {plain_read, plain_write};
const struct transport transport_tls = {tls_read, tls_write};
