/* `specbase check FILE`: read, parse and check a spec (sb_spec_load). Silent
 * with exit 0 when the spec is valid; the diagnostics on stderr and exit 1
 * when it is not, or when the file cannot be read. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "spec/spec.h"
#include "util/buf.h"

static const struct sb_cli_usage usage = {
    "check",
    "check FILE",
    "Read, parse and check the spec in FILE ('-' for standard input). Prints\n"
    "nothing and exits 0 when it is valid; prints each error with its line,\n"
    "column and source line to stderr and exits 1 when it is not.",
};

int sb_cmd_check(int argc, char **argv)
{
    const char *file;
    int exit_code;
    if (sb_cli_parse(argc, argv, &usage, NULL, 0, &file, &exit_code) < 0)
        return exit_code;

    struct sb_model *model = NULL;
    char *text = NULL;
    struct sb_buf err;
    sb_buf_init(&err);
    int rc = sb_spec_load(file, &model, &text, &err);
    fputs(sb_buf_str(&err), stderr); /* diagnostics, or warnings of a valid spec */
    if (model)
        sb_model_free(model);
    free(text);
    sb_buf_free(&err);
    return rc < 0 ? SB_EXIT_INPUT : SB_EXIT_OK;
}
