/*
 * junit_cmpfind.c — the JUnit case of a capacity gate of `salvo compare`
 * on two find results (see junit.h). The figure gates of such a
 * comparison are judged per rate both searches ran, by junit_add_gate.
 */
#include <stdio.h>
#include <stdlib.h>

#include "report/compare_find.h"
#include "report/junit.h"

/* The terminal's capacity block on one line: runs of spaces and newlines as one space. */
static void capacity_line(const struct cmp_capacity *c, char *buf, size_t cap)
{
    char *text = cmp_capacity_text(c);
    size_t o = 0;
    bool gap = false;
    for (size_t i = 0; text && text[i] && o + 2 < cap; i++) {
        if (text[i] == ' ' || text[i] == '\n') {
            gap = o > 0;
            continue;
        }
        if (gap) buf[o++] = ' ';
        gap = false;
        buf[o++] = text[i];
    }
    buf[o] = '\0';
    free(text);
}

void junit_add_capacity_gate(struct junit *j, const char *text, const struct cmp_failif *g,
                             const struct cmp_capacity *c)
{
    const char *cls = "salvo.compare.fail_if";
    bool inconclusive;
    bool fails = cmp_capacity_gate_fails(g, c, &inconclusive);
    char line[512], msg[1024];
    capacity_line(c, line, sizeof(line));
    if (fails) {
        snprintf(msg, sizeof(msg), "%s: %s: even the largest change the ranges allow is beyond the gate", text, line);
        junit_case(j, cls, text, JUNIT_FAILURE, "fail_if", msg, NULL);
    } else if (inconclusive) {
        snprintf(msg, sizeof(msg), "%s: not judged, the capacity is inconclusive: %s", text, line);
        junit_case(j, cls, text, JUNIT_SKIPPED, NULL, msg, NULL);
    } else {
        junit_case(j, cls, text, JUNIT_PASS, NULL, NULL, NULL);
    }
}
