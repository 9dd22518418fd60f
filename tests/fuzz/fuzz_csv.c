/* fuzz_csv.c — CSV --data files (src/load/feeder.c); the checks are in fuzz_feeder.h. */
#include "fuzz_feeder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_feeder("data.csv", data, size);
    return 0;
}
