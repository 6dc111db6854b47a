/* The module's one clock: monotonic, so deadlines and waits measured on
 * different threads (Apache's, PHP's, the watchdog's) compare. */
#ifndef TA_CLOCK_H
#define TA_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t ta_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static inline uint64_t ta_now_ms(void) { return ta_now_us() / 1000u; }

/* The same clock at the kernel tick's resolution (1 to 10 ms), for
 * checks made often: it costs a few ns where ta_now_us() costs ~25. */
static inline uint64_t ta_coarse_ms(void)
{
    struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

#endif
