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

static void render_json(const struct sb_model *model, void *ctx, struct sb_buf *out)
{
    (void)ctx;
    sb_spec_to_json(model, out);
}

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

    return sb_cli_print_spec(file, render_json, NULL);
}
