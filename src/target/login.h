/*
 * login.h — POST /api/login of `salvo target`: the user name in its body,
 * and the bearer token the target hands out and later checks (--auth).
 *
 * The demo needs a login → route flow whose token a load test must carry,
 * not an authentication scheme: the token is "USER.TAG", TAG sixteen hex
 * digits of a keyed 64-bit mix of the user name under a 128-bit secret
 * drawn once per process. A token is unguessable and verifiable without
 * any state, but the mix is not a MAC (a determined attacker with many
 * tokens could recover the key): do not copy it into a real service.
 *
 * A user name is 1..LOGIN_USER_MAX bytes of [A-Za-z0-9._@-], so the token
 * needs no escaping in JSON or in a header. The body is JSON
 * (`{"user": "NAME"}`, other members skipped, strings without escapes) or
 * a form (`user=NAME&…`, percent-decoded, '+' a space, which then fails
 * the name's alphabet). The parsers never allocate and keep no pointer
 * into their input.
 */
#ifndef SALVO_TARGET_LOGIN_H
#define SALVO_TARGET_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGIN_USER_MAX 64
#define LOGIN_TAG_HEX 16
#define LOGIN_TOKEN_MAX (LOGIN_USER_MAX + 1 + LOGIN_TAG_HEX) /* without the NUL */

/* The per-process secret that tags tokens. */
struct login_key {
    uint64_t k0, k1;
};

/* Draws a fresh key from the kernel's random source. Returns 0 or -errno. */
int login_key_init(struct login_key *key);

/*
 * Finds the user name in a login body[0..len): JSON when its first
 * non-blank byte is '{', else a form. Writes it NUL-terminated into user
 * (at least LOGIN_USER_MAX + 1 bytes). Returns its length, or -EINVAL
 * with *why set to a static phrase (no quotes or backslashes: it goes into
 * JSON as it is).
 */
int login_parse_user(const char *body, size_t len, char *user, const char **why);

/* Writes the token of user (NUL-terminated) into out, at least LOGIN_TOKEN_MAX + 1 bytes; returns its length. */
size_t login_token(const struct login_key *key, const char *user, size_t user_len, char *out);

/*
 * True if header value auth[0..len) is "Bearer TOKEN" (scheme case-blind,
 * blanks around the token allowed) and TOKEN is one login_token gave for
 * some valid user name under key.
 */
bool login_bearer_valid(const struct login_key *key, const char *auth, size_t len);

#endif
