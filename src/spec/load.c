/* Reading a spec file and running the front end on it (parse, then check),
 * with the diagnostics rendered for the caller. See spec.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"
#include "util/die.h"

int sb_spec_read_file(const char *path, char **text, size_t *len, struct sb_buf *err)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!fp) {
        sb_buf_printf(err, "specbase: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct sb_buf data;
    sb_buf_init(&data);
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        if (data.len + n > SB_SPEC_MAX_BYTES) {
            sb_buf_printf(err, "specbase: %s: larger than %u bytes (4 MiB), the limit for a spec\n", path,
                          SB_SPEC_MAX_BYTES);
            rc = -1;
            break;
        }
        sb_buf_append(&data, chunk, n);
    }
    if (rc == 0 && ferror(fp)) {
        sb_buf_printf(err, "specbase: %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    if (fp != stdin)
        fclose(fp);
    if (rc != 0) {
        sb_buf_free(&data);
        return -1;
    }
    *len = data.len;
    *text = sb_buf_take(&data);
    return 0;
}

int sb_spec_load(const char *path, struct sb_model **out, char **text_out, struct sb_buf *err)
{
    char *text;
    size_t len;
    *out = NULL;
    *text_out = NULL;
    if (sb_spec_read_file(path, &text, &len, err) != 0)
        return -1;
    struct sb_source source = {.name = strcmp(path, "-") == 0 ? "<stdin>" : path, .text = text, .len = len};
    struct sb_diags diags;
    sb_diags_init(&diags, &source);
    struct sb_model *model = sb_spec_parse(source.name, text, len, &diags);
    if (diags.n_errors == 0)
        sb_spec_check(model, &diags);
    if (diags.n_errors) {
        sb_diags_sort(&diags); /* report in source order */
        sb_diags_render(&diags, err);
        sb_diags_free(&diags);
        sb_model_free(model);
        free(text);
        return -1;
    }
    sb_diags_free(&diags);
    *out = model;
    *text_out = text;
    return 0;
}
