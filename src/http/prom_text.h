/*
 * prom_text.h — a reader of the Prometheus text exposition format 0.0.4,
 * for `salvo run --scrape` (what a server says about itself during a run).
 *
 * The body of a /metrics answer is read one line at a time:
 *   - `# TYPE name counter|gauge|histogram|summary|untyped` and
 *     `# HELP name text` are returned as such; other `#` lines and blank
 *     lines are skipped;
 *   - a sample is `name{label="value",...} value [timestamp_ms]`; label
 *     values keep their escapes (\\, \" and \n) as written: the text is a
 *     stable key, and prom_text_unescape gives the value itself;
 *   - values are Go floats: 1, -2.5e3, +Inf, -Inf, NaN.
 *
 * The contract (picohttpparser's shape): stateless, no allocation, the
 * result points into the caller's buffer (valid while it is), and one bad
 * line does not end the reading: prom_text_next steps over it and says
 * why, so the caller may count it and go on. Input comes from the network:
 * every length is checked, nothing is assumed NUL-terminated.
 */
#ifndef SALVO_PROM_TEXT_H
#define SALVO_PROM_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROM_TEXT_MAX_LABELS 32 /* more labels on one sample: a malformed line */

/* A span of the caller's buffer (not NUL-terminated). */
struct prom_text_str {
    const char *p;
    size_t len;
};

/* One label; value is as written, between its quotes, escapes included. */
struct prom_text_label {
    struct prom_text_str name, value;
};

/* A family's type (# TYPE); untyped when a sample comes without one. */
enum prom_text_kind { PROM_UNTYPED, PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM, PROM_SUMMARY };

/* What a line was. */
enum prom_text_line_type { PROM_LINE_SAMPLE, PROM_LINE_TYPE, PROM_LINE_HELP };

/* One parsed line; every span points into the buffer given to prom_text_next. */
struct prom_text_line {
    enum prom_text_line_type type;
    struct prom_text_str name; /* the sample's metric name, or the family of a TYPE/HELP line */
    enum prom_text_kind kind;  /* TYPE lines */
    struct prom_text_str help; /* HELP lines: the text, escapes included */
    struct prom_text_label labels[PROM_TEXT_MAX_LABELS];
    size_t nlabels;
    double value;
    bool has_timestamp;
    int64_t timestamp_ms;
};

/*
 * Reads the next TYPE, HELP or sample line of buf[0..len) from *pos and
 * moves *pos past it. Returns 1 with *out filled, 0 at the end of buf, or
 * -1 for a malformed line (*pos past it, *why a static reason such as
 * "bad metric name", "bad label", "unterminated label value", "bad value",
 * "bad timestamp", "too many labels", "unknown type", "NUL byte").
 */
int prom_text_next(const char *buf, size_t len, size_t *pos, struct prom_text_line *out, const char **why);

/* The name of a kind: "counter", "gauge", "histogram", "summary", "untyped". */
const char *prom_text_kind_name(enum prom_text_kind kind);

/*
 * Writes s with its escapes undone (\\ \" \n) into out[0..n), always
 * NUL-terminated when n > 0, and returns the full unescaped length (as
 * snprintf does: a return >= n means out was cut).
 */
size_t prom_text_unescape(struct prom_text_str s, char *out, size_t n);

/* The label called name on line, or NULL. */
const struct prom_text_label *prom_text_label(const struct prom_text_line *line, const char *name);

/* True when s equals the NUL-terminated text. */
bool prom_text_str_eq(struct prom_text_str s, const char *text);

#endif
