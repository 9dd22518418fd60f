/*
 * doctor_checks.c — the helpers every group of checks uses (see
 * doctor_checks.h): reading a setting or reporting that it could not be
 * read, and rounding up to a power of two.
 */
#include "sys/doctor_checks.h"

#include <errno.h>
#include <string.h>

bool doctor_read(struct doctor_ctx *ctx, struct doctor_report *r, const char *name, int64_t *vals, int n)
{
    int rc = sysctl_get(&ctx->sys, name, vals, n);
    if (rc == n) return true;
    struct doctor_check *c = doctor_add(r, name);
    c->status = DOCTOR_WARN;
    if (rc == -EINVAL)
        DOCTOR_SET(c->value, "unknown: not a number");
    else if (rc < 0)
        DOCTOR_SET(c->value, "unknown: cannot read it (%s)", strerror(-rc));
    else
        DOCTOR_SET(c->value, "unknown: %d values where %d were expected", rc, n);
    DOCTOR_SET(c->symptom, "this setting could not be judged");
    return false;
}

int64_t doctor_pow2(int64_t v)
{
    int64_t p = 1;
    while (p < v && p < INT64_MAX / 2)
        p *= 2;
    return p;
}
