/*
 * fuzz_template.c — {column} templates (src/http/template.c).
 *
 * The first byte picks the escape mode (enum tpl_escape, low 2 bits); the
 * rest is the template text, compiled against a fixed two-row CSV data
 * file whose columns are "a", "from_lat" and "q" (values with quotes,
 * braces, control bytes and UTF-8, the things escaping is for). A compiled
 * template renders every row into exactly template_max_len bytes without
 * -ENOSPC, renders the same twice, and a buffer one byte short of a
 * non-empty render gives -ENOSPC, never an overflow (ASan watches).
 */
#include <errno.h>
#include <string.h>

#include "common.h"
#include "http/template.h"
#include "load/feeder.h"

static struct feeder data;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const char csv[] = "a,from_lat,q\n"
                              "1,52.5,\"say \"\"hi\"\"\"\n"
                              "\"x\ty\",-0.0001,\"{}\\ \x01 caf\xc3\xa9 ?&=#%\"\n";
    struct feeder_error err;
    const char *path = fuzz_write_file("template.csv", (const uint8_t *)csv, sizeof csv - 1);
    CHECK(feeder_open(&data, path, &err) == 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
    if (size == 0) return 0;
    enum tpl_escape mode = (enum tpl_escape)(buf[0] & 3);
    const struct feeder *f = buf[0] & 4 ? NULL : &data;
    const struct row_source *src = f ? feeder_source(f) : NULL; /* what the templates read */
    char *text = malloc(size - 1 ? size - 1 : 1);               /* not NUL-terminated: ASan sees a read past len */
    CHECK(text);
    memcpy(text, buf + 1, size - 1);
    struct template t;
    struct template_error err;
    int rc = template_compile(&t, text, size - 1, mode, src, &err);
    if (rc < 0) {
        CHECK((rc == -EINVAL || rc == -ENOENT) && err.msg[0] && memchr(err.msg, '\0', sizeof err.msg));
        template_release(&t);
        free(text);
        return 0;
    }
    size_t max = template_max_len(&t, src);
    size_t rows = f ? feeder_rows(f) : 1;
    char *out = malloc(max ? max : 1), *again = malloc(max ? max : 1);
    CHECK(out && again);
    for (size_t row = 0; row < rows; row++) {
        ssize_t n = template_render(&t, src, row, out, max);
        CHECK(n >= 0 && (size_t)n <= max);
        CHECK(template_render(&t, src, row, again, max) == n && memcmp(out, again, (size_t)n) == 0);
        if (n > 0) {
            char *short_buf = malloc((size_t)n - 1 ? (size_t)n - 1 : 1);
            CHECK(short_buf);
            CHECK(template_render(&t, src, row, short_buf, (size_t)n - 1) == -ENOSPC);
            free(short_buf);
        }
        if (template_is_static(&t)) break;
    }
    if (f && !template_is_static(&t)) CHECK(template_render(&t, src, rows, out, max) == -ERANGE);
    free(out);
    free(again);
    template_release(&t);
    free(text);
    return 0;
}
