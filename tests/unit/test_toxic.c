/*
 * test_toxic.c — the toxic spec parser, the JSON mapping and the toxic
 * arithmetic (dice, latency, bandwidth, slices), table-driven.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chaos/toxic.h"
#include "spec/toxic_spec.h"
#include "spec/toxic_json.h"
#include "core/clock.h"

/* A spec that must parse, and what it must give. */
struct spec_case {
    const char *spec;
    enum toxic_type type;
    enum toxic_stream stream;
    double toxicity;
    const char *name;
    int64_t attr[TOXIC_MAX_ATTRS];
};

static void test_spec_valid(void **state)
{
    static const struct spec_case cases[] = {
        {"latency latency=100ms jitter=10ms", TOXIC_LATENCY, STREAM_DOWNSTREAM, 1, "latency_downstream", {100, 10}},
        {"latency latency=100", TOXIC_LATENCY, STREAM_DOWNSTREAM, 1, "latency_downstream", {100, 0}},
        {"latency latency=1.5s", TOXIC_LATENCY, STREAM_DOWNSTREAM, 1, "latency_downstream", {1500, 0}},
        {"latency  latency=2s\tstream=upstream", TOXIC_LATENCY, STREAM_UPSTREAM, 1, "latency_upstream", {2000, 0}},
        {"bandwidth rate=512KB stream=upstream", TOXIC_BANDWIDTH, STREAM_UPSTREAM, 1, "bandwidth_upstream", {512}},
        {"bandwidth rate=512KB/s", TOXIC_BANDWIDTH, STREAM_DOWNSTREAM, 1, "bandwidth_downstream", {512}},
        {"bandwidth rate=1.5MB", TOXIC_BANDWIDTH, STREAM_DOWNSTREAM, 1, "bandwidth_downstream", {1500}},
        {"bandwidth rate=100", TOXIC_BANDWIDTH, STREAM_DOWNSTREAM, 1, "bandwidth_downstream", {100}},
        {"slow_close delay=250ms", TOXIC_SLOW_CLOSE, STREAM_DOWNSTREAM, 1, "slow_close_downstream", {250}},
        {"timeout timeout=0", TOXIC_TIMEOUT, STREAM_DOWNSTREAM, 1, "timeout_downstream", {0}},
        {"reset_peer timeout=1s toxicity=0.5",
         TOXIC_RESET_PEER,
         STREAM_DOWNSTREAM,
         0.5,
         "reset_peer_downstream",
         {1000}},
        {"slicer average_size=64 size_variation=32 delay=10ms",
         TOXIC_SLICER,
         STREAM_DOWNSTREAM,
         1,
         "slicer_downstream",
         {64, 32, 10000}},
        {"slicer average_size=1KiB delay=500us",
         TOXIC_SLICER,
         STREAM_DOWNSTREAM,
         1,
         "slicer_downstream",
         {1024, 0, 500}},
        {"limit_data bytes=1MB", TOXIC_LIMIT_DATA, STREAM_DOWNSTREAM, 1, "limit_data_downstream", {1000000}},
        {"http_status status=503 toxicity=0.2",
         TOXIC_HTTP_STATUS,
         STREAM_DOWNSTREAM,
         0.2,
         "http_status_downstream",
         {503}},
        {"http_status", TOXIC_HTTP_STATUS, STREAM_DOWNSTREAM, 1, "http_status_downstream", {503}},
        {"http_status status=429 toxicity=20% name=busy", TOXIC_HTTP_STATUS, STREAM_DOWNSTREAM, 0.2, "busy", {429}},
        {"http_latency latency=300ms toxicity=0.1",
         TOXIC_HTTP_LATENCY,
         STREAM_DOWNSTREAM,
         0.1,
         "http_latency_downstream",
         {300, 0}},
        {"http_cut", TOXIC_HTTP_CUT, STREAM_DOWNSTREAM, 1, "http_cut_downstream", {-1}},
        {"http_cut bytes=10", TOXIC_HTTP_CUT, STREAM_DOWNSTREAM, 1, "http_cut_downstream", {10}},
        {"handshake delay=50ms", TOXIC_HANDSHAKE, STREAM_DOWNSTREAM, 1, "handshake_downstream", {50}},
        {"bandwidth_shared rate=1MB stream=upstream",
         TOXIC_BANDWIDTH_SHARED,
         STREAM_UPSTREAM,
         1,
         "bandwidth_shared_upstream",
         {1000}},
        {"latency toxicity=0", TOXIC_LATENCY, STREAM_DOWNSTREAM, 0, "latency_downstream", {0, 0}},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct spec_case *c = &cases[i];
        struct toxic t;
        char err[200] = "";
        int rc = toxic_parse_spec(&t, c->spec, err, sizeof err);
        if (rc != 0) fail_msg("'%s': rc %d (%s)", c->spec, rc, err);
        if (t.type != c->type || t.stream != c->stream || fabs(t.toxicity - c->toxicity) > 1e-12 ||
            strcmp(t.name, c->name) != 0)
            fail_msg("'%s': type %d stream %d toxicity %g name %s", c->spec, t.type, t.stream, t.toxicity, t.name);
        for (int a = 0; a < toxic_attr_count(t.type); a++)
            if (t.attr[a] != c->attr[a])
                fail_msg("'%s': %s = %lld, want %lld", c->spec, toxic_attr_name(t.type, a), (long long)t.attr[a],
                         (long long)c->attr[a]);
    }
}

/* A spec that must fail, and a word its error must contain (the culprit). */
struct bad_case {
    const char *spec;
    const char *culprit;
};

static void test_spec_invalid(void **state)
{
    static const struct bad_case cases[] = {
        {"", "empty"},
        {"lattency latency=1", "lattency"},
        {"latency latncy=1", "latncy"},
        {"latency latency", "latency"},
        {"latency latency=", "latency="},
        {"latency =5", "=5"},
        {"latency latency=abc", "abc"},
        {"latency latency=-5", "-5"},
        {"latency latency=1500us", "whole number"},
        {"latency latency=1e3", "1e3"},
        {"latency stream=sideways", "sideways"},
        {"latency toxicity=1.5", "1.5"},
        {"latency toxicity=-0.1", "-0.1"},
        {"latency toxicity=nan", "nan"},
        {"latency name=a/b", "a/b"},
        {"bandwidth rate=64KiB", "whole number"},
        {"bandwidth rate=12parsecs", "12parsecs"},
        {"http_status status=99", "99"},
        {"http_status status=600", "600"},
        {"slicer average_size=10 size_variation=10", "size_variation"},
        {"latency latency=2d", "2d"},
        {"limit_data bytes=1.5", "whole number"},
        {"bandwidth rate=99999999999999999999999", "too large"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct toxic t;
        char err[200] = "";
        int rc = toxic_parse_spec(&t, cases[i].spec, err, sizeof err);
        if (rc != -EINVAL) fail_msg("'%s': rc %d, want -EINVAL", cases[i].spec, rc);
        if (!strstr(err, cases[i].culprit))
            fail_msg("'%s': error '%s' does not name '%s'", cases[i].spec, err, cases[i].culprit);
    }
}

static void test_json_round_trip(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *in = json_loads("{\"type\":\"latency\",\"stream\":\"upstream\",\"toxicity\":0.25,"
                            "\"attributes\":{\"latency\":100,\"jitter\":\"20ms\"}}",
                            0, &jerr);
    assert_non_null(in);
    struct toxic t;
    char err[200];
    assert_int_equal(toxic_from_json(&t, in, err, sizeof err), 0);
    assert_string_equal(t.name, "latency_upstream");
    assert_int_equal(t.attr[ATTR_LATENCY], 100);
    assert_int_equal(t.attr[ATTR_JITTER], 20);
    json_t *out = toxic_to_json(&t);
    assert_string_equal(json_string_value(json_object_get(out, "stream")), "upstream");
    assert_true(fabs(json_real_value(json_object_get(out, "toxicity")) - 0.25) < 1e-12);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "attributes"), "jitter")), 20);
    json_decref(out);
    json_decref(in);

    /* An update changes toxicity and attributes only; bad ones are refused. */
    json_t *patch = json_loads("{\"toxicity\":1,\"attributes\":{\"latency\":5}}", 0, &jerr);
    assert_int_equal(toxic_patch_json(&t, patch, err, sizeof err), 0);
    assert_int_equal(t.attr[ATTR_LATENCY], 5);
    json_decref(patch);
    static const char *const bad[] = {
        "{\"type\":\"nope\"}",
        "{\"type\":\"latency\",\"stream\":\"x\"}",
        "{\"type\":\"latency\",\"attributes\":{\"latncy\":1}}",
        "{\"type\":\"latency\",\"toxicity\":2}",
        "{\"type\":\"latency\",\"attributes\":{\"latency\":1.5}}",
        "[]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *v = json_loads(bad[i], 0, &jerr);
        if (toxic_from_json(&t, v, err, sizeof err) != -EINVAL) fail_msg("%s was accepted", bad[i]);
        json_decref(v);
    }
}

/* Toxicity 0.2 over many connections hits 20 % of them; the dice are stable. */
static void test_dice(void **state)
{
    (void)state;
    struct toxic t;
    toxic_init(&t, TOXIC_HTTP_STATUS);
    t.id = 7;
    t.toxicity = 0.2;
    int hit = 0, n = 100000;
    for (int i = 0; i < n; i++)
        hit += toxic_hits(&t, 42, 1, (uint64_t)i);
    assert_true(fabs((double)hit / n - 0.2) < 0.01);
    for (int i = 0; i < 100; i++)
        assert_int_equal(toxic_hits(&t, 42, 5, (uint64_t)i), toxic_hits(&t, 42, 5, (uint64_t)i));
    /* Raising the toxicity only adds connections: a hit stays a hit. */
    struct toxic more = t;
    more.toxicity = 0.5;
    for (int i = 0; i < 1000; i++)
        if (toxic_hits(&t, 42, (uint64_t)i, 0)) assert_true(toxic_hits(&more, 42, (uint64_t)i, 0));
    t.toxicity = 0;
    for (int i = 0; i < 1000; i++)
        assert_false(toxic_hits(&t, 42, (uint64_t)i, 0));
    double lo = 1, hi = 0;
    for (int i = 0; i < 10000; i++) {
        double u = toxic_dice(1, 2, (uint64_t)i);
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
        assert_true(u >= 0 && u < 1);
    }
    assert_true(lo < 0.001 && hi > 0.999);
}

static void test_math(void **state)
{
    (void)state;
    assert_int_equal(toxic_latency_ns(100, 0, 0.3), 100 * NS_PER_MS);
    assert_int_equal(toxic_latency_ns(100, 10, 0.0), 90 * NS_PER_MS);
    assert_int_equal(toxic_latency_ns(100, 10, 0.5), 100 * NS_PER_MS);
    assert_true(toxic_latency_ns(100, 10, 0.999999) <= 110 * NS_PER_MS);
    assert_int_equal(toxic_latency_ns(5, 10, 0.0), 0); /* never negative */
    /* 512 KB/s: 512 000 bytes take one second; 10 ms of it is 5120 bytes. */
    assert_int_equal(toxic_bandwidth_ns(512, 512000), NS_PER_S);
    assert_int_equal(toxic_bandwidth_ns(1, 1), NS_PER_MS);
    assert_int_equal(toxic_bandwidth_ns(0, 1000), 0);
    assert_int_equal(toxic_bandwidth_quantum(512), 5120);
    assert_int_equal(toxic_slice_len(64, 0, 0.7), 64);
    assert_int_equal(toxic_slice_len(64, 32, 0.0), 32);
    assert_int_equal(toxic_slice_len(64, 32, 0.5), 64);
    assert_true(toxic_slice_len(64, 32, 0.99999) <= 96);
    assert_int_equal(toxic_slice_len(1, 0, 0.0), 1);
    /* The mean slice is the average size. */
    double sum = 0;
    for (int i = 0; i < 10000; i++)
        sum += (double)toxic_slice_len(100, 50, toxic_dice(3, 4, (uint64_t)i));
    assert_true(fabs(sum / 10000 - 100) < 2);
}

/*
 * The shared bucket against a naive model: several writers take turns,
 * each writing one quantum whenever the bucket is due; over a simulated
 * second the bytes written together stay at the rate, an idle bucket
 * bursts at most its slack, and a late clock does not owe a backlog.
 */
static void test_pace_bucket(void **state)
{
    (void)state;
    const int64_t rate = 400; /* KB/s */
    const uint64_t slack = 10 * NS_PER_MS;
    const size_t quantum = toxic_bandwidth_quantum(rate);
    struct toxic_pace bucket = {0};
    uint64_t bytes = 0, now = 5 * NS_PER_S;
    const uint64_t end = now + NS_PER_S;
    while (now < end) { /* writers woken 1 ms after the bucket is due (a late loop) */
        if (toxic_pace_due(&bucket) <= now) {
            toxic_pace_charge(&bucket, rate, quantum, now, slack);
            bytes += quantum;
        }
        uint64_t next = toxic_pace_due(&bucket) + NS_PER_MS;
        now = next > now ? next : now + NS_PER_MS;
    }
    assert_true(bytes >= 380000 && bytes <= 404000 + quantum);
    /* Idle for a second: the clock restarts from now, no burst of a second's worth. */
    now += NS_PER_S;
    int writes = 0;
    while (toxic_pace_due(&bucket) <= now) {
        toxic_pace_charge(&bucket, rate, quantum, now, slack);
        writes++;
    }
    assert_int_equal(writes, 1);
    /* Within the slack, a late write is not penalised: the clock keeps its phase. */
    struct toxic_pace b2 = {.next_ns = 1000 * NS_PER_MS};
    toxic_pace_charge(&b2, rate, quantum, 1005 * NS_PER_MS, slack);
    assert_int_equal(b2.next_ns, 1010 * NS_PER_MS);
    toxic_pace_charge(&b2, 0, quantum, 2000 * NS_PER_MS, slack); /* rate 0: unpaced, untouched */
    assert_int_equal(b2.next_ns, 1010 * NS_PER_MS);
}

static void test_names(void **state)
{
    (void)state;
    for (int i = 0; i < TOXIC_TYPE_COUNT; i++) {
        enum toxic_type back;
        assert_int_equal(toxic_type_from_name(toxic_type_name((enum toxic_type)i), &back), 0);
        assert_int_equal(back, i);
    }
    assert_true(toxic_name_valid("latency_downstream"));
    assert_true(toxic_name_valid("a-b.c"));
    assert_false(toxic_name_valid(""));
    assert_false(toxic_name_valid("a b"));
    assert_false(toxic_name_valid("a%2f"));
    assert_true(toxic_type_is_http(TOXIC_HTTP_CUT));
    assert_false(toxic_type_is_http(TOXIC_LATENCY));
}

/*
 * packet_loss: over 20 000 chunks with the proxy's dice (a fixed seed),
 * the dropped share stays within 2 points of loss_rate whatever the
 * correlation, and correlation makes drops come in bursts.
 */
static void test_packet_loss_share(void **state)
{
    (void)state;
    static const int64_t rates[] = {0, 50000, 100000, 300000, 500000, 900000, TOXIC_PPM};
    static const int64_t corrs[] = {0, 250000, 500000, 900000};
    const int chunks = 20000;
    for (size_t r = 0; r < sizeof rates / sizeof *rates; r++) {
        for (size_t c = 0; c < sizeof corrs / sizeof *corrs; c++) {
            bool prev = false;
            int dropped = 0, runs = 0;
            for (int i = 0; i < chunks; i++) {
                bool now = toxic_loss_drops(rates[r], corrs[c], prev, toxic_dice(42, 7, (uint64_t)i));
                dropped += now;
                runs += now && !prev;
                prev = now;
            }
            double share = (double)dropped / chunks, want = (double)rates[r] / TOXIC_PPM;
            if (fabs(share - want) > 0.02)
                fail_msg("loss_rate %.2f correlation %.2f: dropped %.4f", want, (double)corrs[c] / TOXIC_PPM, share);
            if (rates[r] == 300000 && corrs[c] == 900000)
                assert_true(dropped > 5 * runs); /* bursts: long runs of drops */
        }
    }
    struct toxic t;
    char err[160];
    assert_int_equal(toxic_parse_spec(&t, "packet_loss loss_rate=0.25 correlation=10%", err, sizeof err), 0);
    assert_int_equal(t.attr[ATTR_LOSS_RATE], 250000);
    assert_int_equal(t.attr[ATTR_CORRELATION], 100000);
    json_t *j = toxic_to_json(&t);
    assert_true(fabs(json_real_value(json_object_get(json_object_get(j, "attributes"), "loss_rate")) - 0.25) < 1e-9);
    json_decref(j);
    assert_int_not_equal(toxic_parse_spec(&t, "packet_loss loss_rate=1.5", err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_valid),
        cmocka_unit_test(test_spec_invalid),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_dice),
        cmocka_unit_test(test_math),
        cmocka_unit_test(test_pace_bucket),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_packet_loss_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
