/*
 * fuzz_dash_request.c — the dashboard's request head parser
 * (dash_parse_request in src/report/dash.c), which reads whatever a
 * browser, or anything else on the port, sends.
 *
 * The input is a request head, exactly len bytes (copied to a buffer of
 * that size, so ASan catches a read past it). The route is one of the
 * five; /data's row is at most 10^8; the page and the feed are only ever
 * routed for a GET whose target starts with their path; parsing is
 * deterministic.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "report/dash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *head = malloc(size ? size : 1);
    if (!head) return 0;
    memcpy(head, data, size);
    struct dash_request a, b;
    dash_parse_request(head, size, &a);
    dash_parse_request(head, size, &b);
    CHECK(a.route == b.route && a.from == b.from && a.wait == b.wait && a.reason == b.reason);
    if (a.reason) CHECK(a.route == DASH_BAD_REQUEST && strlen(a.reason) < 100 && !strchr(a.reason, '\n'));
    CHECK((unsigned)a.route <= DASH_BAD_REQUEST);
    if (a.route == DASH_PAGE || a.route == DASH_DATA) CHECK(size >= 6);
    CHECK(a.from <= 100000000u);
    if (a.route == DASH_DATA) CHECK(size >= 9 && !memcmp(head, "GET /data", 9));
    if (a.route == DASH_PAGE) CHECK(size >= 6 && !memcmp(head, "GET /", 5));
    if (a.route != DASH_DATA) CHECK(a.from == 0 && !a.wait);
    free(head);
    return 0;
}
