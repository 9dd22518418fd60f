/*
 * set_cookie.h — the name=value pairs of a response head's Set-Cookie
 * lines, for a session's cookie jar (docs/scripting.md, "Sessions").
 *
 * Only the pair before the first ';' is taken; attributes (Path, Expires,
 * HttpOnly, ...) are dropped. Names and values are trimmed of spaces and
 * tabs; a line without '=', with an empty name, or with a control byte
 * (a lone CR, a tab inside) in its name or value is skipped. The head
 * ends at its blank line, or at len. Nothing is copied: the spans point
 * into head.
 */
#ifndef SALVO_SET_COOKIE_H
#define SALVO_SET_COOKIE_H

#include <stddef.h>

/*
 * The next pair at or after *pos (0 to begin: the status line is skipped).
 * Returns 1 with the spans set and *pos moved past its line, or 0 when
 * there is none left.
 */
int set_cookie_next(const char *head, size_t len, size_t *pos, const char **name, size_t *nlen, const char **val,
                    size_t *vlen);

#endif
