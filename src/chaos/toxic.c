/*
 * toxic.c — the toxic arithmetic the proxy runs on every chunk: dice,
 * latency, pacing, slices, loss; see toxic.h. The table and the parsers
 * are plain data in spec/toxic_spec.c.
 */
#include "chaos/toxic.h"

#include <math.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/hash.h"

/* ---------------------------------------------------------------- arithmetic */

double toxic_dice(uint64_t seed, uint64_t a, uint64_t b)
{
    uint64_t h = hash_splitmix64(hash_splitmix64(hash_splitmix64(seed) ^ a) ^ b);
    return (double)(h >> 11) * 0x1.0p-53;
}

bool toxic_hits(const struct toxic *t, uint64_t seed, uint64_t conn_id, uint64_t seq)
{
    if (t->toxicity >= 1.0) return true;
    if (t->toxicity <= 0.0) return false;
    return toxic_dice(seed ^ hash_splitmix64(t->id), conn_id, seq) < t->toxicity;
}

uint64_t toxic_latency_ns(int64_t latency_ms, int64_t jitter_ms, double u)
{
    double ns = (double)latency_ms * NS_PER_MS + (2.0 * u - 1.0) * (double)jitter_ms * NS_PER_MS;
    return ns > 0 ? (uint64_t)ns : 0;
}

uint64_t toxic_bandwidth_ns(int64_t rate_kbs, size_t bytes)
{
    if (rate_kbs <= 0) return 0;
    /* rate KB/s is rate bytes per ms. */
    return (uint64_t)bytes * NS_PER_MS / (uint64_t)rate_kbs;
}

size_t toxic_bandwidth_quantum(int64_t rate_kbs)
{
    return rate_kbs > 0 ? (size_t)rate_kbs * 10 : SIZE_MAX;
}

bool toxic_loss_drops(int64_t loss_ppm, int64_t corr_ppm, bool prev_dropped, double u)
{
    double loss = (double)loss_ppm / TOXIC_PPM, corr = (double)corr_ppm / TOXIC_PPM;
    double p = prev_dropped ? loss + corr * (1.0 - loss) : loss * (1.0 - corr);
    return u < p;
}

size_t toxic_slice_len(int64_t average, int64_t variation, double u)
{
    if (average <= 0) return SIZE_MAX;
    int64_t len = average + (int64_t)floor((2.0 * u - 1.0) * (double)variation + 0.5);
    return len >= 1 ? (size_t)len : 1;
}

void toxic_pace_charge(struct toxic_pace *p, int64_t rate_kbs, size_t bytes, uint64_t now_ns, uint64_t slack_ns)
{
    if (rate_kbs <= 0) return;
    if (p->next_ns + slack_ns < now_ns) p->next_ns = now_ns;
    p->next_ns += toxic_bandwidth_ns(rate_kbs, bytes);
}
