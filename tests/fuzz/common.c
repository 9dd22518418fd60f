/*
 * common.c — helpers shared by the fuzz targets; see common.h.
 *
 * It also wraps getaddrinfo (every target links with
 * -Wl,--wrap=getaddrinfo): fuzzed input names hosts, and a parser that
 * resolves one (chaos endpoints, --chaos api=) must neither wait on DNS
 * (a hang to libFuzzer) nor bind or reach anything but loopback. So only
 * numeric hosts and "localhost" resolve, always to the loopback address of
 * their family, and always to port 0 (an ephemeral port, so a fuzzed
 * listener never takes a port another test on the machine needs).
 */
#include "common.h"

#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

int __real_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res);
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res);

char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    CHECK(s);
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

static char tmpdir[64];

static void tmpdir_remove(void)
{
    DIR *d = opendir(tmpdir);
    if (!d) return;
    char path[512];
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(tmpdir);
}

const char *fuzz_tmpdir(void)
{
    if (!tmpdir[0]) {
        /* tmpfs when there is one: rewriting a file per input on a disk made
           the file-reading targets wait on I/O (500 exec/s instead of 5000+). */
        const char *base = getenv("TMPDIR");
        if (!base || strlen(base) >= 40) base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(tmpdir, sizeof tmpdir, "%s/salvo-fuzz-XXXXXX", base);
        CHECK(mkdtemp(tmpdir));
        atexit(tmpdir_remove);
    }
    return tmpdir;
}

const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", fuzz_tmpdir(), name);
    FILE *f = fopen(path, "wb");
    CHECK(f);
    CHECK(fwrite(data, 1, size, f) == size || size == 0);
    CHECK(fclose(f) == 0);
    return path;
}

int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
    struct addrinfo h = hints ? *hints : (struct addrinfo){0};
    h.ai_flags |= AI_NUMERICHOST | AI_NUMERICSERV;
    if (node && strcmp(node, "localhost") == 0) node = "127.0.0.1";
    int rc = __real_getaddrinfo(node, service, &h, res);
    if (rc != 0) return rc;
    for (struct addrinfo *a = *res; a; a = a->ai_next) {
        if (a->ai_family == AF_INET) {
            struct sockaddr_in *in = (struct sockaddr_in *)a->ai_addr;
            in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            in->sin_port = 0;
        } else if (a->ai_family == AF_INET6) {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)a->ai_addr;
            in6->sin6_addr = in6addr_loopback;
            in6->sin6_port = 0;
        }
    }
    return 0;
}
