/*
 * fuzz_login.c — the login body parser and bearer check of `salvo target`
 * (src/target/login.c).
 *
 * The input, from an exactly sized heap copy so ASan catches a read past
 * the end, is tried both as a login body and as an Authorization value.
 * Contract: a body either names a user of 1..LOGIN_USER_MAX bytes of the
 * name alphabet, NUL-terminated, whose token then verifies, or is refused
 * with a reason free of quotes; no input verifies as a bearer token under
 * a key unless it is that key's token for its name (checked by
 * re-deriving it).
 */
#include <errno.h>
#include <string.h>

#include "common.h"
#include "target/login.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    CHECK(copy);
    memcpy(copy, data, size);
    struct login_key key = {0x5a17, 0xc0ffee};
    char user[LOGIN_USER_MAX + 1], token[LOGIN_TOKEN_MAX + 1], auth[LOGIN_TOKEN_MAX + 8];
    const char *why = NULL;
    int n = login_parse_user(copy, size, user, &why);
    if (n >= 0) {
        CHECK(n >= 1 && n <= LOGIN_USER_MAX && user[n] == '\0' && strlen(user) == (size_t)n);
        for (int i = 0; i < n; i++)
            CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-", user[i]));
        size_t t = login_token(&key, user, (size_t)n, token);
        CHECK(t == (size_t)n + 1 + LOGIN_TAG_HEX && strlen(token) == t);
        memcpy(auth, "Bearer ", 7);
        memcpy(auth + 7, token, t);
        CHECK(login_bearer_valid(&key, auth, 7 + t));
    } else {
        CHECK(n == -EINVAL && why && !strchr(why, '"') && !strchr(why, '\\'));
    }
    if (login_bearer_valid(&key, copy, size)) {
        /* Only a real token passes: its tag is the one the key gives its name. */
        const char *end = copy + size;
        while (end > copy && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        const char *t = end - LOGIN_TAG_HEX - 1; /* the '.' before the tag */
        const char *name = t;
        while (name > copy && name[-1] != ' ' && name[-1] != '\t')
            name--;
        size_t len = (size_t)(t - name);
        CHECK(len >= 1 && len <= LOGIN_USER_MAX);
        login_token(&key, name, len, token);
        CHECK(memcmp(token, name, len + 1 + LOGIN_TAG_HEX) == 0);
    }
    free(copy);
    return 0;
}
