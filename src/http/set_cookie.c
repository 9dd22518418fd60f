/*
 * set_cookie.c — Set-Cookie pairs of a response head (set_cookie.h).
 */
#include "http/set_cookie.h"

#include <string.h>
#include <strings.h>

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

/* True when [p, e) holds a control byte (a lone CR would split the Cookie header it goes out in). */
static int has_ctl(const char *p, const char *e)
{
    for (; p < e; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) return 1;
    return 0;
}

int set_cookie_next(const char *head, size_t len, size_t *pos, const char **name, size_t *nlen, const char **val,
                    size_t *vlen)
{
    const char *end = head + len;
    const char *line = head + (*pos < len ? *pos : len);
    if (*pos == 0) { /* the status line */
        const char *nl = memchr(head, '\n', len);
        line = nl ? nl + 1 : end;
    }
    while (line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        const char *next = eol ? eol + 1 : end;
        const char *stop = eol ? eol : end;
        if (stop > line && stop[-1] == '\r') stop--;
        if (stop == line) break; /* the blank line ends the head */
        *pos = (size_t)(next - head);
        if (stop - line > 11 && !strncasecmp(line, "set-cookie:", 11)) {
            const char *p = line + 11;
            while (p < stop && blank(*p))
                p++;
            const char *semi = memchr(p, ';', (size_t)(stop - p));
            if (!semi) semi = stop;
            const char *eq = memchr(p, '=', (size_t)(semi - p));
            if (eq) {
                const char *ne = eq, *v = eq + 1, *ve = semi;
                while (ne > p && blank(ne[-1]))
                    ne--;
                while (v < ve && blank(*v))
                    v++;
                while (ve > v && blank(ve[-1]))
                    ve--;
                if (ne > p && !has_ctl(p, ne) && !has_ctl(v, ve)) {
                    *name = p;
                    *nlen = (size_t)(ne - p);
                    *val = v;
                    *vlen = (size_t)(ve - v);
                    return 1;
                }
            }
        }
        line = next;
    }
    *pos = len;
    return 0;
}
