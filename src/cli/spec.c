/* `specbase spec --json FILE`: load a spec like `check` and print its checked
 * model as canonical JSON (sb_spec_to_json): stable key order, the same bytes
 * for the same spec, for tools and for reviewing what the checker derived. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "spec/spec.h"
#include "util/buf.h"

static const struct sb_cli_usage usage = {
    "spec",
    "spec --json FILE",
    "Read, parse and check the spec in FILE ('-' for standard input) and print\n"
    "the checked model as canonical JSON on stdout. Errors are reported as by\n"
    "'specbase check' (exit 1).",
};

int sb_cmd_spec(int argc, char **argv)
{
    bool json = false;
    const struct sb_cli_flag flags[] = {{"--json", &json}};
    const char *file;
    int exit_code;
    if (sb_cli_parse(argc, argv, &usage, flags, 1, &file, &exit_code) < 0)
        return exit_code;
    if (!json)
        return sb_cli_usage_error(&usage, "an output format is required (--json)");

    struct sb_model *model = NULL;
    char *text = NULL;
    struct sb_buf err, out;
    sb_buf_init(&err);
    sb_buf_init(&out);
    int rc = sb_spec_load(file, &model, &text, &err);
    fputs(sb_buf_str(&err), stderr);
    if (rc == 0) {
        sb_spec_to_json(model, &out);
        if (sb_cli_write_stdout(sb_buf_str(&out), out.len) < 0)
            rc = -1;
    }
    if (model)
        sb_model_free(model);
    free(text);
    sb_buf_free(&out);
    sb_buf_free(&err);
    return rc < 0 ? SB_EXIT_INPUT : SB_EXIT_OK;
}
