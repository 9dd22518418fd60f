/*
 * fuzz_window.c — `salvo run --chaos SPEC` (chaos_window_parse in
 * src/chaos/window.c).
 *
 * The input is one spec. Parsing only reads it: no signal is sent and
 * no API is called (common.c keeps any api= address numeric and on
 * loopback). A parsed window has a known action and NUL-terminated
 * strings; a failed parse names its reason.
 */
#include <errno.h>
#include <string.h>

#include "load/window.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = fuzz_strndup(data, size);
    struct chaos_window *w = malloc(sizeof(*w));
    CHECK(w);
    const char *why = NULL;
    int rc = chaos_window_parse(w, spec, &why);
    if (rc == 0) {
        CHECK(w->action == CHAOS_PAUSE || w->action == CHAOS_KILL || w->action == CHAOS_TOXIC ||
              w->action == CHAOS_EXEC);
        CHECK(memchr(w->spec, '\0', sizeof w->spec) && memchr(w->toxic_json, '\0', sizeof w->toxic_json));
        CHECK(memchr(w->cmd, '\0', sizeof w->cmd) && memchr(w->undo, '\0', sizeof w->undo));
        chaos_window_release(w);
    } else {
        CHECK(rc < 0 && why && *why);
    }
    free(w);
    free(spec);
    return 0;
}
