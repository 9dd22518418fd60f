/*
 * fmt.c — the figures' text forms shared by every text renderer (see fmt.h).
 */
#include "report/fmt.h"

#include <math.h>
#include <stdio.h>

const char *report_fmt_us(char *buf, size_t cap, double us)
{
    if (us < 1000)
        snprintf(buf, cap, "%.0fus", us);
    else if (us < 1e6)
        snprintf(buf, cap, "%.2fms", us / 1e3);
    else
        snprintf(buf, cap, "%.3fs", us / 1e6);
    return buf;
}

/* A rate with the digits a small one needs: 300, 12.5, 0.0001. */
const char *report_fmt_rate(char *buf, size_t cap, double r)
{
    if (r >= 100 || r == floor(r))
        snprintf(buf, cap, "%.0f", r);
    else if (r >= 1)
        snprintf(buf, cap, "%.1f", r);
    else
        snprintf(buf, cap, "%.3g", r);
    return buf;
}
