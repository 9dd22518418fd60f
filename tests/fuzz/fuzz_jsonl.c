/*
 * fuzz_jsonl.c — JSON Lines --data files (src/load/feeder.c over
 * feeder_jsonl.c); the checks are in fuzz_feeder.h.
 */
#include "fuzz_feeder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_feeder("data.jsonl", data, size);
    return 0;
}
