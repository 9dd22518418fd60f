/*
 * fuzz_failif.c — `salvo compare --fail-if` gates (src/report/compare_failif.c).
 *
 * The input is the gate text. A parsed gate names a known figure, an
 * operator of '>' or '<' and a finite value; a failed parse says why in a
 * NUL-terminated message. A parsed gate is then judged on an empty and on
 * a one-row comparison, which must not crash whatever the figure; a
 * capacity gate is not judged there, and on synthetic capacities instead.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "common.h"
#include "report/compare.h"
#include "report/compare_find.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    struct cmp_failif g;
    char why[128];
    memset(why, 'x', sizeof why);
    int rc = cmp_failif_parse(text, &g, why, sizeof why);
    if (rc < 0) {
        CHECK(rc == -EINVAL && memchr(why, '\0', sizeof why) && why[0]);
    } else {
        CHECK(rc == 0 && (unsigned)g.fig < CMP_NFIG && (g.op == '>' || g.op == '<') && isfinite(g.value));
        static struct cmp_result r;
        bool inconclusive;
        r.nrows = 0;
        CHECK(!cmp_failif_fails(&g, &r, &inconclusive) && inconclusive);
        r.nrows = 1;
        r.rows[0] = (struct cmp_row){.fig = g.fig, .lo = -1, .hi = 1, .abs_lo = -1, .abs_hi = 1};
        cmp_failif_fails(&g, &r, &inconclusive);
        CHECK(g.capacity ? inconclusive : !inconclusive); /* a capacity gate is judged on find results only */
        if (g.capacity) {
            CHECK(g.op == '<' && g.percent);
            struct cmp_capacity c = {.verdict = CMP_REGRESSED, .lo = -50, .hi = -30};
            bool fails = cmp_capacity_gate_fails(&g, &c, &inconclusive);
            CHECK(!inconclusive && fails == (-30 < g.value));
            c.verdict = CMP_INCONCLUSIVE;
            CHECK(!cmp_capacity_gate_fails(&g, &c, &inconclusive) && inconclusive);
        }
    }
    free(text);
    return 0;
}
