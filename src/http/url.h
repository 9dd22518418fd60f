/*
 * url.h — the target of a run: scheme, host, port and request path.
 *
 * Parsed once before the run; the address is resolved once too, so the hot
 * path never touches DNS. Only http and https are accepted.
 */
#ifndef SALVO_URL_H
#define SALVO_URL_H

#include <stdbool.h>
#include <sys/socket.h>

/* A parsed and resolved URL; owns no heap memory. */
struct url {
    bool tls;
    char host[256];        /* as written, without IPv6 brackets */
    char host_header[300]; /* host[:port] as it goes in the Host header */
    unsigned port;
    char path[4096]; /* path and query, "/" when empty */
    struct sockaddr_storage addr;
    socklen_t addr_len;
};

/*
 * Parses text into u. Returns 0, or -EINVAL with *why set to a static
 * description of what is wrong.
 */
int url_parse(struct url *u, const char *text, const char **why);

/* Resolves u->host into u->addr. Returns 0 or -EHOSTUNREACH (*why set). */
int url_resolve(struct url *u, const char **why);

/*
 * Copies text into out (outlen bytes, always NUL-terminated, cut if longer)
 * with the password of a "scheme://user:password@host" replaced by "***",
 * for error messages: url_parse refuses credentials, so the URL that carries
 * one is exactly the one an error message names. Any scheme; text without
 * a password is copied as it is.
 */
void url_mask_password(char *out, size_t outlen, const char *text);

#endif
