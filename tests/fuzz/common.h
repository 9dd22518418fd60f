/*
 * common.h — what the libFuzzer targets in tests/fuzz/ share.
 *
 * Each target is tests/fuzz/fuzz_NAME.c, built by `make fuzz` into
 * build/fuzz/fuzz_NAME with a clang/ASan/UBSan copy of the library, and
 * seeded from tests/fuzz/seeds/NAME/. common.c is linked into every one.
 */
#ifndef SALVO_FUZZ_COMMON_H
#define SALVO_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a crash, so libFuzzer keeps the input that broke it. */
#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz: check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);                            \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

/* A NUL-terminated heap copy of data[0..size) (the caller frees it). */
char *fuzz_strndup(const uint8_t *data, size_t size);

/*
 * Writes data[0..size) to a file called name in this process's private
 * temporary directory (removed at exit) and returns its path, valid until
 * the next call. Parsers that take a path (feeder, targets) read it there.
 */
const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size);

/* The temporary directory fuzz_write_file writes into. */
const char *fuzz_tmpdir(void);

#endif
