#include "worker_config.h"

#include <errno.h>
#include <stdlib.h>

int ta_parse_int(const char *arg, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi) return -1;
    *out = (int) v;
    return 0;
}

int ta_parse_size(const char *arg, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    long long mult = 1;
    if (*end && !end[1]) {
        switch (*end) {
        case 'k': case 'K': mult = 1LL << 10; end++; break;
        case 'm': case 'M': mult = 1LL << 20; end++; break;
        case 'g': case 'G': mult = 1LL << 30; end++; break;
        }
    }
    if (errno || end == arg || *end || v < 0 || v > (1LL << 50) / mult) return -1;
    *out = v * mult;
    return 0;
}
