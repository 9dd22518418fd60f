/*
 * fuzz_dechunk.c — the internal HTTP client's chunked decoder
 * (http_client_dechunk in src/http/client.c).
 *
 * Two properties. Any input: the decoder stays inside it and returns -1 or
 * a length no longer than the input. And a round trip: the input's bytes,
 * cut into chunks whose sizes come from the input itself and written in
 * chunked framing (hex sizes in either case, an extension on some, bare LF
 * on some), decode back to exactly those bytes.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "http/client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *raw = malloc(size ? size : 1);
    CHECK(raw);
    memcpy(raw, data, size);
    long n = http_client_dechunk(raw, size);
    CHECK(n == -1 || (n >= 0 && (size_t)n <= size));
    free(raw);

    size_t cap = size * 24 + 16;
    char *enc = malloc(cap);
    CHECK(enc);
    size_t w = 0, off = 0;
    while (off < size) {
        size_t piece = 1 + data[off] % 17;
        if (piece > size - off) piece = size - off;
        const char *eol = data[off] & 0x40 ? "\n" : "\r\n";
        w += (size_t)snprintf(enc + w, cap - w, data[off] & 0x20 ? "%zX%s%s" : "%zx%s%s", piece,
                              data[off] & 0x80 ? ";e=1" : "", eol);
        memcpy(enc + w, data + off, piece);
        w += piece;
        w += (size_t)snprintf(enc + w, cap - w, "%s", eol);
        off += piece;
    }
    w += (size_t)snprintf(enc + w, cap - w, "0\r\n\r\n");
    CHECK(w < cap);
    n = http_client_dechunk(enc, w);
    CHECK(n == (long)size);
    CHECK(size == 0 || memcmp(enc, data, size) == 0);
    free(enc);
    return 0;
}
