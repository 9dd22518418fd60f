/*
 * fuzz_chaos_api.c — the chaos control API: request heads
 * (api_parse_head in src/chaos/api.c) and the routes they reach with their
 * JSON bodies (src/chaos/routes.c, toxic_json.c).
 *
 * The input is the bytes of one API connection, handled the way api.c's
 * handle_input does: heads are parsed from an exactly sized heap copy,
 * chunked and oversized bodies refused, and each complete request goes to
 * routes_handle on a fresh chaos server (proxies the requests create
 * listen on loopback port 0: common.c). At most 32 requests per input.
 *
 * Checked: a complete head fits the input with a NUL-terminated method
 * and path; a head is judged by its bytes alone (a strict prefix of it is
 * incomplete); every reply has a status in 200..599 and a body that is
 * JSON, except 204 which has none.
 */
#include <string.h>

#include <jansson.h>

#include "chaos/api.h"
#include "chaos/chaos.h"
#include "chaos/routes.h"
#include "common.h"

static int parse(const char *in, size_t len, struct api_req *r)
{
    char *copy = malloc(len ? len : 1);
    CHECK(copy);
    memcpy(copy, in, len);
    int rc = api_parse_head(copy, len, r);
    free(copy);
    CHECK(rc >= -1 && rc <= 1);
    if (rc == 1) {
        CHECK(r->head_len >= 4 && r->head_len <= len);
        CHECK(memchr(r->method, '\0', sizeof r->method) && memchr(r->path, '\0', sizeof r->path));
    }
    return rc;
}

static void check_reply(const struct api_reply *reply)
{
    CHECK(reply->status >= 200 && reply->status <= 599);
    if (reply->status == 204) {
        CHECK(reply->body == NULL);
        return;
    }
    CHECK(reply->body);
    json_t *v = json_loads(reply->body, JSON_DECODE_ANY, NULL);
    CHECK(v);
    json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct chaos c;
    CHECK(chaos_init(&c, 1) == 0);
    const char *in = (const char *)data;
    size_t len = size;
    for (int n = 0; n < 32 && len > 0; n++) {
        struct api_req r;
        int rc = parse(in, len, &r);
        if (rc <= 0) break;
        struct api_req again;
        CHECK(parse(in, r.head_len - 1, &again) == 0);
        if (r.chunked || r.body_len > API_MAX_REQUEST || len - r.head_len < r.body_len) break;
        char *body = malloc(r.body_len ? r.body_len : 1);
        CHECK(body);
        memcpy(body, in + r.head_len, r.body_len);
        struct api_reply reply = {0};
        routes_handle(&c, r.method, r.path, body, r.body_len, &reply);
        check_reply(&reply);
        free(reply.body);
        free(body);
        in += r.head_len + r.body_len;
        len -= r.head_len + r.body_len;
        if (r.close) break;
    }
    chaos_release(&c);
    return 0;
}
