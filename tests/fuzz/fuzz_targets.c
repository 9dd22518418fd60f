/*
 * fuzz_targets.c — vegeta-style --targets files (src/load/targets.c).
 *
 * The input is the file, written next to a small body file "body.json"
 * (so "@body.json" lines resolve). A file that parses has targets with
 * positive weights, upper-case methods, non-empty URLs and cumulative
 * weights that rise; every pick is in range. A file that does not parse
 * says why.
 */
#include <math.h>
#include <string.h>

#include "common.h"
#include "load/feeder.h"
#include "load/targets.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const char body[] = "{\"from\": \"{from_lat}\"}\n";
    fuzz_write_file("body.json", (const uint8_t *)body, sizeof body - 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file("targets.txt", data, size);
    struct targets t;
    struct feeder_error err;
    memset(&err, 0, sizeof err);
    memset(&t, 0, sizeof t);
    int rc = targets_parse(path, &t, &err);
    if (rc < 0) {
        CHECK(err.msg[0] && memchr(err.msg, '\0', sizeof err.msg));
        targets_release(&t);
        return 0;
    }
    CHECK(t.count >= 1);
    double prev = 0;
    for (size_t i = 0; i < t.count; i++) {
        const struct target *g = &t.items[i];
        CHECK(isfinite(g->weight) && g->weight > 0);
        CHECK(g->method && g->method[0] && g->url); /* a NUL in the line may leave url "" */
        for (const char *m = g->method; *m; m++)
            CHECK(*m >= 'A' && *m <= 'Z');
        for (size_t h = 0; h < g->nheaders; h++)
            CHECK(g->headers[h] && strchr(g->headers[h], ':'));
        CHECK(!g->body || g->body[g->body_len] == '\0');
        CHECK(t.cumulative[i] >= prev);
        prev = t.cumulative[i];
    }
    targets_release(&t);
    return 0;
}
