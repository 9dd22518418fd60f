/*
 * targets.c — parse a --targets file and pick a target per arrival.
 *
 * The parser reads the whole file (it is small and read once, before the
 * run) and walks it line by line through three states: between targets,
 * inside a target's header block, and after its @body line. Every error
 * names the file and the line, because a targets file is written by hand.
 *
 * Picking a target per arrival is reqgen_pick's (load/reqgen.c).
 */
#include "load/targets.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where the parser is. */
enum state { BETWEEN, IN_HEADERS, AFTER_BODY };

/* The parse of one file. */
struct parse {
    const char *path;
    struct targets *out;
    struct feeder_error *err;
    enum state state;
    size_t line;
    char *pending_name;    /* from a "# name=" line waiting for its target */
    double pending_weight; /* 0 when there is no pending comment */
    size_t pending_line;
};

/* Fills err with "'path' line N: ..." and returns rc. */
static int fail(struct parse *ps, int rc, const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(ps->err->msg, sizeof(ps->err->msg), "'%s' line %zu: %s", ps->path, ps->line, what);
    ps->err->line = ps->line;
    return rc;
}

/* strndup that aborts when memory runs out. */
static char *copy(const char *s, size_t n)
{
    char *c = strndup(s, n);
    if (!c) abort();
    return c;
}

/* Why a file could not be read, as messages say it. */
static void reason(int rc, char *buf, size_t cap)
{
    if (rc == -EINVAL) {
        snprintf(buf, cap, "not a regular file");
        return;
    }
    snprintf(buf, cap, "%s", strerror(-rc));
    buf[0] = (char)tolower((unsigned char)buf[0]);
}

/*
 * Reads a whole regular file of at most max bytes into a malloc'd,
 * NUL-terminated buffer. Returns 0, -EINVAL (not a regular file), -EFBIG
 * or the errno of the failed call.
 */
static int read_file(const char *path, size_t max, char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
    struct stat st;
    if (fd < 0) return -errno;
    if (fstat(fd, &st) < 0)
        rc = -errno;
    else if (!S_ISREG(st.st_mode))
        rc = -EINVAL;
    else if ((uint64_t)st.st_size > max)
        rc = -EFBIG;
    char *buf = rc < 0 ? NULL : malloc((size_t)st.st_size + 1);
    size_t got = 0;
    if (rc == 0 && !buf) abort();
    while (rc == 0 && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            rc = -errno;
        else if (n == 0)
            rc = -EIO; /* the file shrank under us */
        else
            got += (size_t)n;
    }
    close(fd);
    if (rc < 0) return free(buf), rc;
    buf[got] = '\0';
    *data = buf, *len = got;
    return 0;
}

/* ---- Lines -------------------------------------------------------------- */

/* True for an HTTP token character (RFC 9110 tchar). */
static bool tchar(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The first word of the comment s (n bytes, '#' first). */
static const char *comment_text(const char *s, size_t n)
{
    const char *p = s + 1;
    while (p < s + n && isspace((unsigned char)*p))
        p++;
    return p;
}

/* True if the comment's first word starts with "name=" or "weight=". */
static bool is_meta(const char *s, size_t n)
{
    const char *p = comment_text(s, n);
    size_t left = (size_t)(s + n - p);
    return (left >= 5 && memcmp(p, "name=", 5) == 0) || (left >= 7 && memcmp(p, "weight=", 7) == 0);
}

/* Parses "# name=N weight=W" into the pending name and weight. */
static int parse_meta(struct parse *ps, const char *s, size_t n)
{
    const char *end = s + n, *p = comment_text(s, n);
    if (ps->pending_weight > 0) return fail(ps, -EINVAL, "two name/weight comments for one target");
    ps->pending_weight = 1, ps->pending_line = ps->line;
    bool had_name = false, had_weight = false;
    while (p < end) {
        const char *word = p, *eq;
        while (p < end && !isspace((unsigned char)*p))
            p++;
        eq = memchr(word, '=', (size_t)(p - word));
        if (eq && eq - word == 4 && strncmp(word, "name", 4) == 0 && !had_name && eq + 1 < p) {
            ps->pending_name = copy(eq + 1, (size_t)(p - eq - 1));
            had_name = true;
        } else if (eq && eq - word == 6 && strncmp(word, "weight", 6) == 0 && !had_weight) {
            char num[64], *stop;
            snprintf(num, sizeof(num), "%.*s", (int)(p - eq - 1), eq + 1);
            ps->pending_weight = strtod(num, &stop);
            if (!num[0] || *stop || !isfinite(ps->pending_weight) || ps->pending_weight <= 0)
                return fail(ps, -EINVAL, "weight must be a positive number, not '%s'", num);
            had_weight = true;
        } else {
            return fail(ps, -EINVAL, "'%.*s': a name/weight comment takes name=NAME and weight=W once each",
                        (int)(p - word), word);
        }
        while (p < end && isspace((unsigned char)*p))
            p++;
    }
    return 0;
}

/* Starts a target from a "METHOD URL" line. */
static int start_target(struct parse *ps, const char *s, size_t n)
{
    const char *end = s + n, *sp = s;
    while (sp < end && *sp >= 'A' && *sp <= 'Z')
        sp++;
    const char *url = sp;
    while (url < end && (*url == ' ' || *url == '\t'))
        url++;
    if (sp == s || sp == url || url == end || memchr(url, ' ', (size_t)(end - url)) ||
        memchr(url, '\t', (size_t)(end - url)))
        return fail(ps, -EINVAL, "expected 'METHOD URL' (method in upper case), not '%.*s'", (int)n, s);
    struct targets *t = ps->out;
    t->items = realloc(t->items, (t->count + 1) * sizeof(*t->items));
    if (!t->items) abort();
    struct target *tg = &t->items[t->count++];
    *tg = (struct target){
        .name = ps->pending_name,
        .weight = ps->pending_weight > 0 ? ps->pending_weight : 1,
        .method = copy(s, (size_t)(sp - s)),
        .url = copy(url, (size_t)(end - url)),
        .line = ps->line,
    };
    ps->pending_name = NULL, ps->pending_weight = 0;
    ps->state = IN_HEADERS;
    return 0;
}

/* Adds a "Name: value" line to the current target. */
static int add_header(struct parse *ps, const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n), *p = s;
    while (p < s + n && tchar((unsigned char)*p))
        p++;
    if (!colon || p != colon || colon == s)
        return fail(ps, -EINVAL, "expected 'Name: value' header, '@file' or a blank line, not '%.*s'", (int)n, s);
    const char *value = colon + 1;
    while (value < s + n && (*value == ' ' || *value == '\t'))
        value++;
    struct target *tg = &ps->out->items[ps->out->count - 1];
    tg->headers = realloc(tg->headers, (tg->nheaders + 1) * sizeof(char *));
    if (!tg->headers) abort();
    size_t len = (size_t)(colon - s) + 2 + (size_t)(s + n - value) + 1;
    char *h = malloc(len);
    if (!h) abort();
    snprintf(h, len, "%.*s: %.*s", (int)(colon - s), s, (int)(s + n - value), value);
    tg->headers[tg->nheaders++] = h;
    return 0;
}

/* Reads the body named by an "@file" line into the current target. */
static int add_body(struct parse *ps, const char *s, size_t n)
{
    struct target *tg = &ps->out->items[ps->out->count - 1];
    const char *slash = strrchr(ps->path, '/');
    if (n < 2) return fail(ps, -EINVAL, "'@' needs a file name");
    size_t dir = s[1] == '/' || !slash ? 0 : (size_t)(slash - ps->path) + 1;
    tg->body_path = malloc(dir + n);
    if (!tg->body_path) abort();
    snprintf(tg->body_path, dir + n, "%.*s%.*s", (int)dir, ps->path, (int)(n - 1), s + 1);
    int rc = read_file(tg->body_path, TARGETS_BODY_MAX, &tg->body, &tg->body_len);
    if (rc == -EFBIG) return fail(ps, -EINVAL, "'%s' is bigger than %u bytes", tg->body_path, TARGETS_BODY_MAX);
    if (rc < 0) {
        char why[128];
        reason(rc, why, sizeof(why));
        return fail(ps, rc, "cannot read '%s': %s", tg->body_path, why);
    }
    ps->state = AFTER_BODY;
    return 0;
}

/* Handles one line, trimmed, at ps->line. */
static int parse_line(struct parse *ps, const char *s, size_t n)
{
    /* Strings are copied as C strings: a NUL would silently cut a URL or header short. */
    if (memchr(s, '\0', n)) return fail(ps, -EINVAL, "a NUL byte in the line");
    if (n == 0) {
        if (ps->pending_weight > 0)
            return fail(ps, -EINVAL, "a name/weight comment must come directly before its target");
        ps->state = BETWEEN;
        return 0;
    }
    if (s[0] == '#') {
        if (!is_meta(s, n))
            return ps->pending_weight > 0
                       ? fail(ps, -EINVAL, "a name/weight comment must come directly before its target")
                       : 0;
        if (ps->state != BETWEEN) return fail(ps, -EINVAL, "a blank line must come before a name/weight comment");
        return parse_meta(ps, s, n);
    }
    switch (ps->state) {
    case BETWEEN: return start_target(ps, s, n);
    case IN_HEADERS: return s[0] == '@' ? add_body(ps, s, n) : add_header(ps, s, n);
    case AFTER_BODY: break;
    }
    return fail(ps, -EINVAL, "only a blank line may follow the '@file' line");
}

/* ---- Lifecycle ---------------------------------------------------------- */

/* Walks the lines of data, then computes the cumulative weights. */
static int parse_all(struct parse *ps, const char *data, size_t len)
{
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *stop = nl ? nl : end;
        const char *s = p;
        ps->line++;
        while (s < stop && isspace((unsigned char)*s))
            s++;
        while (stop > s && isspace((unsigned char)stop[-1]))
            stop--;
        int rc = parse_line(ps, s, (size_t)(stop - s));
        if (rc < 0) return rc;
        p = nl ? nl + 1 : end;
    }
    if (ps->pending_weight > 0) {
        ps->line = ps->pending_line;
        return fail(ps, -EINVAL, "a name/weight comment has no target after it");
    }
    struct targets *t = ps->out;
    if (t->count == 0) {
        snprintf(ps->err->msg, sizeof(ps->err->msg), "'%s' has no targets", ps->path);
        return -EINVAL;
    }
    t->cumulative = malloc(t->count * sizeof(double));
    if (!t->cumulative) abort();
    for (size_t i = 0; i < t->count; i++)
        t->cumulative[i] = (i ? t->cumulative[i - 1] : 0) + t->items[i].weight;
    return 0;
}

int targets_parse(const char *path, struct targets *out, struct feeder_error *err)
{
    struct parse ps = {.path = path, .out = out, .err = err};
    char *data = NULL;
    size_t len = 0;
    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    int rc = read_file(path, SIZE_MAX / 2, &data, &len);
    if (rc < 0) {
        char why[128];
        reason(rc, why, sizeof(why));
        snprintf(err->msg, sizeof(err->msg), "cannot read '%s': %s", path, why);
        return rc;
    }
    rc = parse_all(&ps, data, len);
    free(data);
    free(ps.pending_name);
    if (rc < 0) targets_release(out);
    return rc;
}

void targets_release(struct targets *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->count; i++) {
        struct target *tg = &t->items[i];
        for (size_t h = 0; h < tg->nheaders; h++)
            free(tg->headers[h]);
        free(tg->headers);
        free(tg->name);
        free(tg->method);
        free(tg->url);
        free(tg->body);
        free(tg->body_path);
    }
    free(t->items);
    free(t->cumulative);
    memset(t, 0, sizeof(*t));
}
