/*
 * hold_state.h — the counters of `salvo target --service-time` (hold.h),
 * apart from its functions so that target_service can embed them without
 * the two headers including each other.
 */
#ifndef SALVO_TARGET_HOLD_STATE_H
#define SALVO_TARGET_HOLD_STATE_H

#include <stdint.h>

#include "target/rng.h"

#define HOLD_SPIN_NS 100000ull /* the sleep ends this early; the worker spins the rest (timer slack) */

/* The counters and the jitter stream of held requests (event thread). */
struct target_hold {
    struct rng rng;
    uint64_t count, sum_ns, max_ns;
};

#endif
