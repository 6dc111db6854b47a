/* Minimal TAP producer for the unit tests: `1..N` up front, then one
 * `ok`/`not ok` line per check. main() returns tap_done() so a wrong plan or
 * a failure makes the binary exit non-zero for prove. */
#ifndef TA_TAP_H
#define TA_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_planned, tap_run, tap_failed;

static inline void tap_plan(int n)
{
    tap_planned = n;
    printf("1..%d\n", n);
    fflush(stdout);
}

/* Returns cond so callers can skip dependent steps after a failure. */
static inline int tap_ok(int cond, const char *fmt, ...)
{
    va_list ap;
    tap_run++;
    if (!cond) tap_failed++;
    printf("%sok %d - ", cond ? "" : "not ", tap_run);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    return cond;
}

/* Extra context for a failure; TAP treats '#' lines as comments. */
static inline void tap_diag(const char *fmt, ...)
{
    va_list ap;
    fputs("# ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

#define tap_is_int(got, want, ...)                                          \
    do {                                                                    \
        long long g_ = (long long)(got), w_ = (long long)(want);            \
        if (!tap_ok(g_ == w_, __VA_ARGS__))                                 \
            tap_diag("  got %lld, expected %lld", g_, w_);                  \
    } while (0)

static inline int tap_done(void)
{
    if (tap_run != tap_planned)
        tap_diag("planned %d tests but ran %d", tap_planned, tap_run);
    return tap_failed || tap_run != tap_planned;
}

#endif
