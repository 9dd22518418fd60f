/*
 * fuzz_prom_text.c — the Prometheus text a --scrape target sends
 * (prom_text_next in src/http/prom_text.c, and scrape_ingest in
 * src/load/scrape_ingest.c that keeps it per round).
 *
 * The input is one /metrics body. Every line read keeps *pos moving
 * forward within the body; a parsed line's spans lie inside the body, its
 * name is not empty and it has at most PROM_TEXT_MAX_LABELS labels; an
 * unescaped value is never longer than its escaped text; a malformed line
 * has a reason. The body is then ingested twice (two rounds, a second
 * apart) into a target with a cap of 16 series: at most 16 are kept, and
 * every per-round value is a number or NAN, never out of its round.
 */
#include <math.h>
#include <string.h>

#include "common.h"
#include "http/prom_text.h"
#include "load/scrape.h"

static int inside(const uint8_t *data, size_t size, struct prom_text_str s)
{
    return s.len == 0 || ((const uint8_t *)s.p >= data && (const uint8_t *)s.p + s.len <= data + size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct prom_text_line line;
    const char *why;
    size_t pos = 0, lines = 0;
    for (int rc; (rc = prom_text_next(buf, size, &pos, &line, &why)) != 0 && lines < 100000; lines++) {
        CHECK(pos <= size);
        if (rc < 0) {
            CHECK(why && *why);
            continue;
        }
        CHECK(rc == 1 && line.name.len > 0 && inside(data, size, line.name));
        CHECK(line.nlabels <= PROM_TEXT_MAX_LABELS);
        for (size_t i = 0; i < line.nlabels; i++) {
            CHECK(inside(data, size, line.labels[i].name) && inside(data, size, line.labels[i].value));
            char out[64];
            size_t n = prom_text_unescape(line.labels[i].value, out, sizeof(out));
            CHECK(n <= line.labels[i].value.len && strlen(out) <= n);
        }
    }
    CHECK(pos == size);

    static struct scrape s;
    char err[256];
    CHECK(scrape_init(&s, NULL, 0, NULL, 16, true, err, sizeof(err)) == 0);
    struct scrape_target *t = &s.targets[0];
    t->owner = &s;
    s.planned_rounds = 4;
    int bad;
    for (uint32_t r = 0; r < 2; r++) {
        uint32_t round = scrape_add_round(t, (int32_t)r - 1, 1000000000ull * (r + 1));
        scrape_ingest(t, round, 1000000000ull * (r + 1), buf, size, &bad, &why);
        CHECK(bad == 0 || why);
    }
    CHECK(t->nseries <= 16 && atomic_load(&s.kept) == t->nseries);
    for (uint32_t i = 0; i < t->nseries; i++) {
        CHECK(t->series[i].key && t->series[i].name_len <= strlen(t->series[i].key));
        for (uint32_t r = 2; r < t->cap_rounds; r++)
            CHECK(isnan(t->series[i].val[r]));
    }
    s.ntargets = 1; /* so scrape_release frees target 0 */
    scrape_release(&s);
    return 0;
}
