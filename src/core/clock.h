/*
 * clock.h — the only place salvo reads the time.
 *
 * Every duration in salvo is a uint64_t count of monotonic nanoseconds named
 * *_ns. CLOCK_MONOTONIC never jumps with NTP steps or date changes, so a
 * latency is never negative and never inflated by a clock adjustment. The
 * wall clock is read only to label results and to align shards.
 */
#ifndef SALVO_CLOCK_H
#define SALVO_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull

/* Monotonic time in nanoseconds since an arbitrary fixed origin. */
static inline uint64_t clock_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Wall-clock time in nanoseconds since the Unix epoch. */
static inline uint64_t clock_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* CPU time consumed by the calling thread, in nanoseconds. */
static inline uint64_t clock_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Converts nanoseconds to a timespec (for epoll_pwait2 and timerfd). */
static inline struct timespec clock_ns_to_timespec(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / NS_PER_S), (long)(ns % NS_PER_S)};
    return ts;
}

#endif
