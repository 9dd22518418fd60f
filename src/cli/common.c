/*
 * common.c — the verb front-ends' shared plumbing (see common.h): usage
 * errors, lower-case errno text, and option tables turned into getopt
 * tables, help text and messages.
 */
#include "cli/common.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "http/url.h"

#define HELP_COLUMN 24 /* where the help text of an option starts */

int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("salvo: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_USAGE;
}

const char *error_text(int err)
{
    static __thread char buf[128];
    snprintf(buf, sizeof(buf), "%s", strerror(err < 0 ? -err : err));
    /* "No such file" -> "no such file", but an acronym ("EOF", "TLS") keeps its case. */
    if (isupper((unsigned char)buf[0]) && !isupper((unsigned char)buf[1]))
        buf[0] = (char)tolower((unsigned char)buf[0]);
    return buf;
}

/* True when the row has a one-letter form (-r). */
static bool has_short(const struct cli_opt *o)
{
    return o->id > 0 && o->id < 256 && isalnum(o->id);
}

void cli_usage(const struct cli_verb *v, FILE *out)
{
    fputs(v->synopsis, out);
    for (size_t i = 0; i < v->nopts; i++) {
        const struct cli_opt *o = &v->opts[i];
        char left[96];
        int n = has_short(o) ? snprintf(left, sizeof(left), "  -%c, --%s", o->id, o->name)
                             : snprintf(left, sizeof(left), "      --%s", o->name);
        if (o->arg) n += snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->arg);
        fprintf(out, "%s%*s", left, n < HELP_COLUMN - 1 ? HELP_COLUMN - n : 2, "");
        for (const char *p = o->help; *p; p++) {
            fputc(*p, out);
            if (*p == '\n' && p[1]) fprintf(out, "%*s", HELP_COLUMN, "");
        }
        fputc('\n', out);
    }
    fprintf(out, "  -h, --help%*sthis help\n", HELP_COLUMN - 12, "");
    if (v->epilog) fputs(v->epilog, out);
}

/* The option as the user typed it: "--json" (without "=value") or "-r". */
static const char *typed_option(char **argv, char *buf, size_t cap)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    if (strncmp(arg, "--", 2) == 0 || !optopt || optopt >= 256)
        snprintf(buf, cap, "%.*s", (int)strcspn(arg, "="), arg);
    else
        snprintf(buf, cap, "-%c", optopt);
    return buf;
}

int cli_parse(const struct cli_verb *v, int argc, char **argv, cli_handler handle, void *ctx)
{
    enum { HELP_ID = 'h' };
    struct option *longs = calloc(v->nopts + 2, sizeof(*longs));
    char *shorts = calloc(3 * v->nopts + 4, 1);
    if (!longs || !shorts) abort();
    size_t ns = 0;
    shorts[ns++] = ':'; /* a missing value returns ':', not '?' */
    shorts[ns++] = 'h';
    for (size_t i = 0; i < v->nopts; i++) {
        const struct cli_opt *o = &v->opts[i];
        longs[i] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL, o->id};
        if (has_short(o)) {
            shorts[ns++] = (char)o->id;
            if (o->arg) shorts[ns++] = ':';
        }
    }
    longs[v->nopts] = (struct option){"help", no_argument, NULL, HELP_ID};
    optind = 1;
    opterr = 0;
    int code = -1, c;
    char typed[128];
    while (code < 0 && (c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        const struct cli_opt *o = NULL;
        for (size_t i = 0; i < v->nopts && !o; i++)
            if (v->opts[i].id == c) o = &v->opts[i];
        if (c == HELP_ID) {
            cli_usage(v, stdout);
            code = EXIT_OK;
        } else if (c == ':') {
            code = usage_error("option '%s' needs a value (try 'salvo %s --help')",
                               typed_option(argv, typed, sizeof typed), v->name);
        } else if (c == '?' || !o) {
            code = usage_error("unknown option '%s' (try 'salvo %s --help')", typed_option(argv, typed, sizeof typed),
                               v->name);
        } else {
            code = handle(o, optarg, ctx);
        }
    }
    free(longs);
    free(shorts);
    return code;
}

int cli_bad_value(const struct cli_opt *opt, const char *arg, const char *why)
{
    char shown[512]; /* a URL-valued option (--remote-write, ...) must not echo a typed password */
    url_mask_password(shown, sizeof(shown), arg);
    return usage_error("bad value '%s' for --%s: %s", shown, opt->name, why);
}

int cli_uint(const struct cli_opt *opt, const char *arg, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    bool ok = isdigit((unsigned char)arg[0]) && !errno && !*end;
    if (ok && (opt->lo || opt->hi)) ok = (double)v >= opt->lo && (double)v <= opt->hi;
    if (ok) {
        *out = v;
        return -1;
    }
    if (!opt->lo && !opt->hi) return cli_bad_value(opt, arg, "expected an unsigned integer");
    return usage_error("bad value '%s' for --%s: expected an integer from %.0f to %.0f", arg, opt->name, opt->lo,
                       opt->hi);
}

#define UNIX_S_MAX 1e10 /* year 2286: a larger "Unix time" is milliseconds or a typo */

int cli_parse_time(const char *s, uint64_t *out)
{
    char *end;
    double secs = strtod(s, &end);
    if (end != s && !*end && secs > 0) {
        if (secs >= UNIX_S_MAX) return -ERANGE; /* milliseconds, most likely: refuse, never guess */
        *out = (uint64_t)(secs * 1e9);
        return 0;
    }
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p) return -EINVAL;
    double frac = 0;
    if (*p == '.') {
        frac = strtod(p, &end);
        p = end;
    }
    long offset = 0;
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (*p == '+' || *p == '-') {
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2) return -EINVAL;
        offset = (hh * 3600L + mm * 60L) * (*p == '+' ? 1 : -1);
        p += 6;
    } else
        return -EINVAL;
    if (*p) return -EINVAL;
    time_t t = timegm(&tm) - offset;
    if (t <= 0) return -EINVAL;
    *out = (uint64_t)t * NS_PER_S + (uint64_t)(frac * 1e9);
    return 0;
}

int cli_read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -errno;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap && !(buf = realloc(buf, cap = cap ? 2 * cap : 65536))) abort();
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int err = ferror(f) ? -EIO : 0;
    fclose(f);
    if (err)
        free(buf);
    else
        *out = buf, *len = n;
    return err;
}
