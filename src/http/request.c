/*
 * request.c — render a request once (see request.h).
 */
#include "http/request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/version.h"

/* True if the header line names header `name` (case-insensitive). */
static bool header_is(const char *line, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(line, name, n) == 0 && line[n] == ':';
}

/* Checks "Name: value" with a token name and no CR/LF anywhere. */
static bool header_valid(const char *h)
{
    const char *colon = strchr(h, ':');
    if (!colon || colon == h) return false;
    for (const char *p = h; p < colon; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("()<>@,;\\\"/[]?={}", *p)) return false;
    return strpbrk(h, "\r\n") == NULL;
}

int request_render(struct request *r, const char *method, const char *path, const char *host_header,
                   const char *const *headers, size_t nheaders, const char *body, size_t body_len,
                   const char **why)
{
    bool has_host = false, has_ua = false;
    for (size_t i = 0; i < nheaders; i++) {
        if (!header_valid(headers[i])) return *why = "header must be 'Name: value'", -EINVAL;
        has_host |= header_is(headers[i], "host");
        has_ua |= header_is(headers[i], "user-agent");
        if (header_is(headers[i], "content-length") || header_is(headers[i], "transfer-encoding"))
            return *why = "Content-Length and Transfer-Encoding are set by salvo", -EINVAL;
    }
    for (const char *p = method; *p; p++)
        if (*p < 'A' || *p > 'Z') return *why = "method must be upper-case letters", -EINVAL;
    if (!*method) return *why = "empty method", -EINVAL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) abort();
    fprintf(f, "%s %s HTTP/1.1\r\n", method, path);
    if (!has_host) fprintf(f, "Host: %s\r\n", host_header);
    if (!has_ua) fputs("User-Agent: salvo/" SALVO_VERSION "\r\n", f);
    for (size_t i = 0; i < nheaders; i++) fprintf(f, "%s\r\n", headers[i]);
    if (body) fprintf(f, "Content-Length: %zu\r\n", body_len);
    fputs("\r\n", f);
    if (body && body_len) fwrite(body, 1, body_len, f);
    if (fclose(f) != 0) abort();
    r->bytes = buf;
    r->len = len;
    r->head = strcmp(method, "HEAD") == 0;
    return 0;
}

void request_release(struct request *r)
{
    if (!r) return;
    free(r->bytes);
    r->bytes = NULL;
    r->len = 0;
}
