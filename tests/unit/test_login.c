/*
 * test_login.c — POST /api/login's body parser and the bearer tokens of
 * `salvo target --auth` (src/target/login.c), table-driven: which bodies
 * name which user, which are refused and why, and that a token verifies
 * under its key only, for its own bytes only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "target/login.h"

/* A body and the user it names (NULL: refused, with a word of the reason). */
struct body_case {
    const char *body;
    const char *user, *reason_word;
};

static const struct body_case bodies[] = {
    {"{\"user\":\"alice\"}", "alice", NULL},
    {" \r\n{ \"user\" : \"bob.smith@x-y_z\" } \n", "bob.smith@x-y_z", NULL},
    {"{\"pass\":\"pw\",\"n\":12.5e1,\"ok\":true,\"x\":null,\"user\":\"u1\"}", "u1", NULL},
    {"user=alice", "alice", NULL},
    {"a=1&user=al%69ce&b", "alice", NULL},
    {"user=%41", "A", NULL},
    {"{}", NULL, "missing"},
    {"{\"name\":\"alice\"}", NULL, "missing"},
    {"", NULL, "missing"},
    {"name=alice", NULL, "missing"},
    {"{\"user\":\"\"}", NULL, "empty"},
    {"user=", NULL, "empty"},
    {"{\"user\":\"a b\"}", NULL, "letters"},
    {"user=a+b", NULL, "letters"},
    {"user=a%2Fb", NULL, "letters"},
    {"user=a%zz", NULL, "percent"},
    {"user=a%4", NULL, "percent"},
    {"{\"user\":\"a\\\\u0041\"}", NULL, "malformed"},
    {"{\"user\":\"a\",}", NULL, "malformed"},
    {"{\"user\":\"a\"", NULL, "malformed"},
    {"{\"user\":\"a\"} x", NULL, "after"},
    {"{\"user\":{\"a\":1}}", NULL, "malformed"},
    {"{\"user\":12}", NULL, "string"},
    {"{\"user\":\"a\",\"user\":\"b\"}", NULL, "more than once"},
    {"user=a&user=b", NULL, "more than once"},
    {"{\"user\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", NULL, "longer"},
};

static void test_bodies(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        const struct body_case *b = &bodies[i];
        char user[LOGIN_USER_MAX + 1];
        const char *why = NULL;
        int n = login_parse_user(b->body, strlen(b->body), user, &why);
        if (b->user) {
            if (n < 0) print_error("case %zu '%s' refused: %s\n", i, b->body, why);
            assert_int_equal(n, (int)strlen(b->user));
            assert_string_equal(user, b->user);
        } else {
            if (n >= 0) print_error("case %zu '%s' accepted\n", i, b->body);
            assert_int_equal(n, -EINVAL);
            assert_non_null(why);
            if (!strstr(why, b->reason_word)) print_error("case %zu: '%s' lacks '%s'\n", i, why, b->reason_word);
            assert_non_null(strstr(why, b->reason_word));
            assert_null(strchr(why, '"')); /* it goes into JSON unescaped */
        }
    }
}

/* The longest name fits, and its token is LOGIN_TOKEN_MAX bytes. */
static void test_longest_name(void **state)
{
    (void)state;
    char body[128], user[LOGIN_USER_MAX + 1], token[LOGIN_TOKEN_MAX + 1], auth[160];
    char name[LOGIN_USER_MAX + 1];
    memset(name, 'z', LOGIN_USER_MAX);
    name[LOGIN_USER_MAX] = '\0';
    snprintf(body, sizeof(body), "user=%s", name);
    const char *why;
    assert_int_equal(login_parse_user(body, strlen(body), user, &why), LOGIN_USER_MAX);
    struct login_key key = {1, 2};
    assert_int_equal(login_token(&key, user, LOGIN_USER_MAX, token), LOGIN_TOKEN_MAX);
    assert_int_equal(strlen(token), LOGIN_TOKEN_MAX);
    snprintf(auth, sizeof(auth), "Bearer %s", token);
    assert_true(login_bearer_valid(&key, auth, strlen(auth)));
}

/* A token verifies with its key, in any scheme case, with blanks; any change of a byte or key refuses it. */
static void test_tokens(void **state)
{
    (void)state;
    struct login_key key = {0x0123456789abcdefull, 0xfedcba9876543210ull}, other = {key.k0, key.k1 ^ 1};
    char token[LOGIN_TOKEN_MAX + 1], auth[128];
    size_t n = login_token(&key, "alice", 5, token);
    assert_int_equal(n, 5 + 1 + LOGIN_TAG_HEX);
    assert_memory_equal(token, "alice.", 6);
    static const char *const forms[] = {"Bearer %s", "bearer %s", "BEARER   %s \t"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(auth, sizeof(auth), forms[i], token);
        assert_true(login_bearer_valid(&key, auth, strlen(auth)));
        assert_false(login_bearer_valid(&other, auth, strlen(auth)));
    }
    /* Every single-byte change of the token is refused. */
    for (size_t at = 0; at < n; at++) {
        snprintf(auth, sizeof(auth), "Bearer %s", token);
        char *p = auth + 7 + at;
        *p = *p == '0' ? '1' : *p == 'a' ? 'b' : '0';
        assert_false(login_bearer_valid(&key, auth, strlen(auth)));
    }
    /* The tag belongs to its name: bob cannot use alice's tag. */
    char forged[128];
    snprintf(forged, sizeof(forged), "Bearer bob%s", token + 5);
    assert_false(login_bearer_valid(&key, forged, strlen(forged)));
    static const char *const refused[] = {"",
                                          "Bearer",
                                          "Bearer ",
                                          "Basic YWxpY2U6cHc=",
                                          "Bearer .0123456789abcdef",
                                          "Bearer alice0123456789abcdef",
                                          "Bearer a b.0123456789abcdef"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        assert_false(login_bearer_valid(&key, refused[i], strlen(refused[i])));
    /* Different names get different tags; one key gives the same token twice. */
    char t2[LOGIN_TOKEN_MAX + 1], t3[LOGIN_TOKEN_MAX + 1];
    login_token(&key, "alicf", 5, t2);
    login_token(&key, "alice", 5, t3);
    assert_string_not_equal(token + 6, t2 + 6);
    assert_string_equal(token, t3);
}

/* Two fresh keys differ (the kernel's random source works). */
static void test_key_init(void **state)
{
    (void)state;
    struct login_key a, b;
    assert_int_equal(login_key_init(&a), 0);
    assert_int_equal(login_key_init(&b), 0);
    assert_true(a.k0 != b.k0 || a.k1 != b.k1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_longest_name),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_key_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
