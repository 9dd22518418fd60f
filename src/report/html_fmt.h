/*
 * html_fmt.h — escaping, number formatting and tolerant JSON reading for the
 * HTML report.
 *
 * Every string the report takes from a results JSON (URL, request names,
 * threshold expressions, error text) may contain markup characters, and the
 * page must stay one inert document whatever a user put in a URL; so all of
 * them go through html_esc, which is safe both in text and inside
 * double-quoted attribute values. The getters never fail: a missing or
 * mistyped key reads as 0, "" or NULL, so a result from an older or newer
 * salvo renders what it has instead of aborting the page.
 *
 * Formatting follows HdrHistogram's precision: durations are shown with
 * three significant digits ("207 ms", "1.91 s"), which is all a 3-digit
 * histogram knows. Output buffers are the caller's; nothing allocates.
 */
#ifndef SALVO_HTML_FMT_H
#define SALVO_HTML_FMT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Size that fits any string the html_fmt_* functions produce. */
#define HTML_FMT_MAX 48

/* Writes s (NULL reads as "") with &, <, >, " and ' replaced by entities. */
void html_esc(FILE *out, const char *s);

/* "850 µs", "5.38 ms", "1.91 s"; the space is a no-break space. Returns buf. */
const char *html_fmt_us(char *buf, size_t cap, double us);

/* Like html_fmt_us but compact, for tick labels: "850µs", "5ms", "1.9s". */
const char *html_fmt_us_short(char *buf, size_t cap, double us);

/* An integer count with thin-space thousands groups: "445 957". Returns buf. */
const char *html_fmt_count(char *buf, size_t cap, double n);

/* A number as short as it reads well: "12", "4.53", "0.0012", "1.2e+09". */
const char *html_fmt_num(char *buf, size_t cap, double v);

/* A rate: grouped whole numbers from 100 up ("44 596"), else one decimal ("12.5"). */
const char *html_fmt_rate(char *buf, size_t cap, double v);

/* A compact count for tick labels: "500", "45k", "1.2M". Returns buf. */
const char *html_fmt_si(char *buf, size_t cap, double v);

/* obj[key] as a number (integer or real); 0 when absent or not a number. */
double html_num(const json_t *obj, const char *key);

/* obj[key] as a string; "" when absent or not a string. */
const char *html_str(const json_t *obj, const char *key);

/* obj[key] when it is an object (resp. array), else NULL. */
json_t *html_obj(const json_t *obj, const char *key);
json_t *html_arr(const json_t *obj, const char *key);

/*
 * Writes any JSON scalar readably: strings escaped, integers grouped, reals
 * via html_fmt_num, booleans as yes/no, null as "—". Arrays and objects are
 * written as their compact JSON text, escaped. Keys ending in "_us" are
 * formatted as durations and those ending in "_kb" as sizes.
 */
void html_value(FILE *out, const char *key, const json_t *v);

#endif
