/*
 * html_fmt.c — escaping, number formatting and tolerant JSON reading for the
 * HTML report (see html_fmt.h).
 *
 * salvo never calls setlocale, so printf's decimal point is always '.', and
 * the thousands grouping is done here rather than with the locale's "'" flag.
 */
#include "report/html_fmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* U+00A0 and U+202F in UTF-8: the page is served as UTF-8. */
#define NBSP "\xc2\xa0"
#define THIN_NBSP "\xe2\x80\xaf"

void html_esc(FILE *out, const char *s)
{
    if (!s) return;
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

/* Three significant digits of v followed by unit, with sep between. */
static const char *sig3(char *buf, size_t cap, double v, const char *sep, const char *unit)
{
    if (v >= 100)
        snprintf(buf, cap, "%.0f%s%s", v, sep, unit);
    else if (v >= 10)
        snprintf(buf, cap, "%.1f%s%s", v, sep, unit);
    else
        snprintf(buf, cap, "%.2f%s%s", v, sep, unit);
    return buf;
}

const char *html_fmt_us(char *buf, size_t cap, double us)
{
    if (!isfinite(us)) return snprintf(buf, cap, "—"), buf;
    if (us < 1000)
        snprintf(buf, cap, "%.0f" NBSP "µs", us);
    else if (us < 999500)
        sig3(buf, cap, us / 1e3, NBSP, "ms");
    else
        sig3(buf, cap, us / 1e6, NBSP, "s");
    return buf;
}

/* Drops a trailing ".0" so that tick labels read "2ms", not "2.0ms". */
static const char *short_num(char *buf, size_t cap, double v, const char *unit)
{
    if (fabs(v - round(v)) < 1e-9)
        snprintf(buf, cap, "%.0f%s", v, unit);
    else
        snprintf(buf, cap, "%.3g%s", v, unit);
    return buf;
}

const char *html_fmt_us_short(char *buf, size_t cap, double us)
{
    if (us < 1000) return short_num(buf, cap, us, "µs");
    if (us < 1e6) return short_num(buf, cap, us / 1e3, "ms");
    return short_num(buf, cap, us / 1e6, "s");
}

const char *html_fmt_count(char *buf, size_t cap, double n)
{
    char digits[32];
    if (!isfinite(n)) return snprintf(buf, cap, "—"), buf;
    snprintf(digits, sizeof(digits), "%.0f", fabs(n));
    size_t len = strlen(digits), at = 0;
    if (n <= -0.5 && at + 1 < cap) buf[at++] = '-';
    for (size_t i = 0; i < len && at + 1 < cap; i++) {
        if (i && (len - i) % 3 == 0 && len > 4) {
            if (at + sizeof(THIN_NBSP) >= cap) break;
            memcpy(buf + at, THIN_NBSP, sizeof(THIN_NBSP) - 1);
            at += sizeof(THIN_NBSP) - 1;
        }
        buf[at++] = digits[i];
    }
    if (cap) buf[at < cap ? at : cap - 1] = '\0';
    return buf;
}

const char *html_fmt_num(char *buf, size_t cap, double v)
{
    if (!isfinite(v))
        snprintf(buf, cap, "—");
    else if (fabs(v - round(v)) < 1e-9 && fabs(v) < 1e15)
        html_fmt_count(buf, cap, v);
    else if (fabs(v) >= 100 && fabs(v) < 1e9)
        snprintf(buf, cap, "%.1f", v);
    else
        snprintf(buf, cap, "%.3g", v);
    return buf;
}

const char *html_fmt_rate(char *buf, size_t cap, double v)
{
    if (fabs(v) >= 100)
        html_fmt_count(buf, cap, round(v));
    else
        snprintf(buf, cap, "%.1f", v);
    return buf;
}

const char *html_fmt_si(char *buf, size_t cap, double v)
{
    if (fabs(v) >= 1e6) return short_num(buf, cap, v / 1e6, "M");
    if (fabs(v) >= 1e3) return short_num(buf, cap, v / 1e3, "k");
    return short_num(buf, cap, v, "");
}

double html_num(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_number(v) ? json_number_value(v) : 0;
}

const char *html_str(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : "";
}

json_t *html_obj(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_object(v) ? v : NULL;
}

json_t *html_arr(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_array(v) ? v : NULL;
}

/* True when key ends with suffix. */
static bool ends_with(const char *key, const char *suffix)
{
    size_t k = key ? strlen(key) : 0, s = strlen(suffix);
    return k >= s && strcmp(key + k - s, suffix) == 0;
}

void html_value(FILE *out, const char *key, const json_t *v)
{
    char b[HTML_FMT_MAX];
    if (json_is_string(v)) {
        html_esc(out, json_string_value(v));
    } else if (json_is_number(v) && ends_with(key, "_us")) {
        fputs(html_fmt_us(b, sizeof(b), json_number_value(v)), out);
    } else if (json_is_number(v) && ends_with(key, "_kb")) {
        fprintf(out, "%s" NBSP "MiB", html_fmt_num(b, sizeof(b), round(json_number_value(v) / 102.4) / 10));
    } else if (json_is_number(v)) {
        fputs(html_fmt_num(b, sizeof(b), json_number_value(v)), out);
    } else if (json_is_boolean(v)) {
        fputs(json_is_true(v) ? "yes" : "no", out);
    } else if (json_is_null(v) || !v) {
        fputs("—", out);
    } else {
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        html_esc(out, text);
        free(text);
    }
}
