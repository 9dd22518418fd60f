/*
 * login.c — login bodies and bearer tokens; see login.h for the why.
 *
 * The JSON reader is a single pass over one flat object: member names and
 * string values without escapes (a user name never needs one), numbers,
 * true, false and null skipped; anything nested or escaped is refused,
 * which is fine for a demo body and keeps the code small enough to fuzz
 * exhaustively. The tag chains hash_mix64 over the key and the name.
 */
#include "target/login.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "core/hash.h"

int login_key_init(struct login_key *key)
{
    uint64_t k[2];
    size_t got = 0;
    while (got < sizeof(k)) {
        ssize_t n = getrandom((char *)k + got, sizeof(k) - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? -errno : -EIO;
        got += (size_t)n;
    }
    key->k0 = k[0];
    key->k1 = k[1];
    return 0;
}

/* A byte of the user-name alphabet. */
static bool is_user_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
           ch == '@' || ch == '-';
}

/* Checks a candidate name user[0..len) and NUL-terminates it. */
static int accept_user(char *user, size_t len, const char **why)
{
    if (len == 0) return *why = "empty user name", -EINVAL;
    for (size_t i = 0; i < len; i++)
        if (!is_user_char((unsigned char)user[i]))
            return *why = "user name may only hold letters, digits and . _ @ -", -EINVAL;
    user[len] = '\0';
    return (int)len;
}

/* A read position in a JSON body. */
struct jcur {
    const char *p, *end;
};

static void skip_blanks(struct jcur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
        c->p++;
}

/* Reads a "string" without escapes; [*s, *s + *n) is its content. */
static int read_string(struct jcur *c, const char **s, size_t *n)
{
    if (c->p == c->end || *c->p != '"') return -1;
    const char *start = ++c->p;
    while (c->p < c->end && *c->p != '"') {
        if (*c->p == '\\' || (unsigned char)*c->p < 0x20) return -1;
        c->p++;
    }
    if (c->p == c->end) return -1;
    *s = start;
    *n = (size_t)(c->p++ - start);
    return 0;
}

/* Skips a number, true, false or null: a run of their characters. */
static int skip_scalar(struct jcur *c)
{
    const char *start = c->p;
    while (c->p < c->end && *c->p && strchr("0123456789+-.eEtrufalsn", *c->p))
        c->p++;
    return c->p > start ? 0 : -1;
}

/* Reads {"user": "NAME", ...} and copies NAME into user. */
static int parse_json(const char *body, size_t len, char *user, const char **why)
{
    struct jcur c = {body, body + len};
    const char *found = NULL;
    size_t found_len = 0;
    skip_blanks(&c);
    c.p++; /* the '{' the caller saw */
    skip_blanks(&c);
    bool first = true;
    while (c.p < c.end && *c.p != '}') {
        if (!first && *c.p++ != ',') return *why = "malformed JSON body", -EINVAL;
        skip_blanks(&c);
        const char *name, *value = NULL;
        size_t name_len, value_len = 0;
        if (read_string(&c, &name, &name_len) < 0) return *why = "malformed JSON body", -EINVAL;
        skip_blanks(&c);
        if (c.p == c.end || *c.p++ != ':') return *why = "malformed JSON body", -EINVAL;
        skip_blanks(&c);
        int rc = c.p < c.end && *c.p == '"' ? read_string(&c, &value, &value_len) : skip_scalar(&c);
        if (rc < 0) return *why = "malformed JSON body (flat object of strings and numbers expected)", -EINVAL;
        if (name_len == 4 && memcmp(name, "user", 4) == 0) {
            if (!value) return *why = "user must be a string", -EINVAL;
            if (found) return *why = "user given more than once", -EINVAL;
            found = value, found_len = value_len;
        }
        skip_blanks(&c);
        first = false;
    }
    if (c.p == c.end) return *why = "malformed JSON body", -EINVAL;
    c.p++;
    skip_blanks(&c);
    if (c.p != c.end) return *why = "malformed JSON body (bytes after the object)", -EINVAL;
    if (!found) return *why = "missing user in the JSON body", -EINVAL;
    if (found_len > LOGIN_USER_MAX) return *why = "user name longer than 64 bytes", -EINVAL;
    memcpy(user, found, found_len);
    return accept_user(user, found_len, why);
}

/* Value of a hex digit, or -1. */
static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Reads user=NAME from a form body, percent-decoding it into user. */
static int parse_form(const char *body, size_t len, char *user, const char **why)
{
    const char *p = body, *end = body + len;
    int found = -1;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pair_end = amp ? amp : end;
        if (pair_end - p >= 5 && memcmp(p, "user=", 5) == 0) {
            if (found >= 0) return *why = "user given more than once", -EINVAL;
            size_t n = 0;
            for (const char *v = p + 5; v < pair_end; v++) {
                char ch = *v;
                if (ch == '+') ch = ' ';
                if (ch == '%') {
                    int hi = pair_end - v > 2 ? hex_value(v[1]) : -1, lo = hi >= 0 ? hex_value(v[2]) : -1;
                    if (lo < 0) return *why = "malformed percent-encoding in user", -EINVAL;
                    ch = (char)(hi * 16 + lo);
                    v += 2;
                }
                if (n == LOGIN_USER_MAX) return *why = "user name longer than 64 bytes", -EINVAL;
                user[n++] = ch;
            }
            found = accept_user(user, n, why);
            if (found < 0) return found;
        }
        p = pair_end + (amp ? 1 : 0);
    }
    if (found < 0)
        return *why = "missing user, expected a JSON body with a user string or a form with user=NAME", -EINVAL;
    return found;
}

int login_parse_user(const char *body, size_t len, char *user, const char **why)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    if (i < len && body[i] == '{') return parse_json(body, len, user, why);
    return parse_form(body, len, user, why);
}

/* The keyed tag of a user name. */
static uint64_t tag_of(const struct login_key *key, const char *user, size_t len)
{
    uint64_t h = hash_mix64(key->k0 ^ len);
    for (size_t i = 0; i < len; i++)
        h = hash_mix64(h ^ (unsigned char)user[i] ^ key->k1);
    return hash_mix64(h ^ key->k0) ^ key->k1;
}

size_t login_token(const struct login_key *key, const char *user, size_t user_len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    memcpy(out, user, user_len);
    out[user_len] = '.';
    uint64_t tag = tag_of(key, user, user_len);
    for (int i = 0; i < LOGIN_TAG_HEX; i++)
        out[user_len + 1 + (size_t)i] = digits[(tag >> (60 - 4 * i)) & 15];
    out[user_len + 1 + LOGIN_TAG_HEX] = '\0';
    return user_len + 1 + LOGIN_TAG_HEX;
}

bool login_bearer_valid(const struct login_key *key, const char *auth, size_t len)
{
    if (len < 7 || strncasecmp(auth, "bearer ", 7) != 0) return false;
    const char *t = auth + 7, *end = auth + len;
    while (t < end && (*t == ' ' || *t == '\t'))
        t++;
    while (end > t && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t n = (size_t)(end - t);
    if (n < 1 + 1 + LOGIN_TAG_HEX || n > LOGIN_TOKEN_MAX) return false;
    size_t user_len = n - 1 - LOGIN_TAG_HEX;
    if (t[user_len] != '.') return false;
    for (size_t i = 0; i < user_len; i++)
        if (!is_user_char((unsigned char)t[i])) return false;
    char want[LOGIN_TOKEN_MAX + 1];
    login_token(key, t, user_len, want);
    /* Not constant-time: the demo's token guards nothing worth a timing attack. */
    return memcmp(want, t, n) == 0;
}
