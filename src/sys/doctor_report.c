/*
 * doctor_report.c — adding a check to a doctor report (see doctor_report.h).
 */
#include "sys/doctor_report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct doctor_check *doctor_add(struct doctor_report *r, const char *name)
{
    /* The groups add a fixed number of checks, well below the cap. */
    if (r->n == DOCTOR_MAX_CHECKS) abort();
    struct doctor_check *c = &r->checks[r->n++];
    memset(c, 0, sizeof(*c));
    DOCTOR_SET(c->name, "%s", name);
    c->status = DOCTOR_OK;
    return c;
}

void doctor_set(char *field, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(field, cap, fmt, ap);
    va_end(ap);
}
