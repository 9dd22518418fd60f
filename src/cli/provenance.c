/*
 * provenance.c — shell-quoted, credential-free command lines and headers
 * (see provenance.h).
 */
#include "cli/provenance.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Header names that are secret whatever the user says. */
static const char *const builtin_secrets[] = {"Authorization", "Cookie", "Proxy-Authorization"};

bool provenance_secret(const char *header_line, const struct redactions *r)
{
    const char *colon = strchr(header_line, ':');
    if (!colon) return false;
    size_t len = (size_t)(colon - header_line);
    while (len > 0 && (header_line[len - 1] == ' ' || header_line[len - 1] == '\t'))
        len--;
    for (size_t i = 0; i < sizeof(builtin_secrets) / sizeof(builtin_secrets[0]); i++)
        if (strlen(builtin_secrets[i]) == len && strncasecmp(builtin_secrets[i], header_line, len) == 0) return true;
    for (size_t i = 0; r && i < r->n; i++)
        if (strlen(r->names[i]) == len && strncasecmp(r->names[i], header_line, len) == 0) return true;
    return false;
}

const char *provenance_header(char *out, size_t cap, const char *header_line, const struct redactions *r)
{
    if (cap == 0) return out;
    if (provenance_secret(header_line, r)) {
        int name_len = (int)(strchr(header_line, ':') - header_line);
        snprintf(out, cap, "%.*s: %s", name_len, header_line, PROVENANCE_REDACTED);
    } else {
        snprintf(out, cap, "%s", header_line);
    }
    return out;
}

/* Appends text to out at *n (snprintf-style accounting: *n may pass cap). */
static void put(char *out, size_t cap, size_t *n, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++, (*n)++)
        if (*n + 1 < cap) out[*n] = text[i];
    if (cap) out[*n < cap ? *n : cap - 1] = '\0';
}

/* True if word needs no quoting in a POSIX shell. */
static bool shell_safe(const char *word)
{
    if (!*word) return false;
    for (const char *p = word; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%_+=:,./-", *p)) return false;
    return true;
}

/* Appends " " and word, shell-quoted. */
static void put_word(char *out, size_t cap, size_t *n, const char *word)
{
    put(out, cap, n, " ", 1);
    if (shell_safe(word)) {
        put(out, cap, n, word, strlen(word));
        return;
    }
    put(out, cap, n, "'", 1);
    for (const char *p = word; *p; p++) {
        if (*p == '\'')
            put(out, cap, n, "'\\''", 4);
        else
            put(out, cap, n, p, 1);
    }
    put(out, cap, n, "'", 1);
}

/* Appends prefix + header (redacted if secret) as one shell word. */
static void put_header(char *out, size_t cap, size_t *n, const char *prefix, const char *header,
                       const struct redactions *r)
{
    char shown[4096], word[4200];
    provenance_header(shown, sizeof(shown), header, r);
    snprintf(word, sizeof(word), "%s%s", prefix, shown);
    put_word(out, cap, n, word);
}

size_t provenance_command(char *out, size_t cap, int argc, char *const *argv, const struct redactions *r)
{
    size_t n = 0;
    put(out, cap, &n, "salvo", 5);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-H") == 0 || strcmp(a, "--header") == 0) && i + 1 < argc) {
            put_word(out, cap, &n, a);
            put_header(out, cap, &n, "", argv[++i], r);
        } else if (strncmp(a, "--header=", 9) == 0) {
            put_header(out, cap, &n, "--header=", a + 9, r);
        } else if (strncmp(a, "-H", 2) == 0 && a[2]) {
            put_header(out, cap, &n, "-H", a + 2, r);
        } else {
            put_word(out, cap, &n, a);
        }
    }
    return n;
}
