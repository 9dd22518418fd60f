/*
 * fuzz_url.c — run URLs (url_parse in src/http/url.c).
 *
 * The input is one URL. A parsed URL has a port in 1..65535, a path that
 * starts with '/' and NUL-terminated host fields; a failed parse is
 * -EINVAL with a reason. Nothing is resolved.
 */
#include <errno.h>
#include <string.h>

#include "common.h"
#include "http/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    struct url *u = malloc(sizeof(*u));
    CHECK(u);
    const char *why = NULL;
    int rc = url_parse(u, text, &why);
    if (rc == 0) {
        CHECK(u->port >= 1 && u->port <= 65535);
        CHECK(memchr(u->host, '\0', sizeof u->host) && memchr(u->host_header, '\0', sizeof u->host_header));
        CHECK(memchr(u->path, '\0', sizeof u->path) && u->path[0] == '/');
    } else {
        CHECK(rc == -EINVAL && why && *why);
    }
    free(u);
    free(text);
    return 0;
}
