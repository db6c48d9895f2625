/* `specbase gen TARGET FILE`: load a spec like `check` and print code for
 * clients of its API. One target so far: `ts`, the TypeScript Database type
 * that @supabase/supabase-js takes as its generic (api/typescript.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/typescript.h"
#include "cli/cli.h"
#include "spec/spec.h"
#include "util/buf.h"

static const struct sb_cli_usage usage = {
    "gen",
    "gen ts FILE",
    "Read, parse and check the spec in FILE ('-' for standard input) and print\n"
    "code for clients of its REST API on stdout. Targets:\n"
    "  ts  TypeScript types in the shape of `supabase gen types typescript`:\n"
    "      import type { Database } from './database.types'\n"
    "      const supabase = createClient<Database>(url, key)\n"
    "Errors are reported as by 'specbase check' (exit 1).",
};

int sb_cmd_gen(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: specbase %s\n\n%s\n", usage.usage, usage.help);
            return SB_EXIT_OK;
        }
    if (argc < 2)
        return sb_cli_usage_error(&usage, "missing the target (ts)");
    if (strcmp(argv[1], "ts") != 0)
        return sb_cli_usage_error(&usage, "unknown target '%s'; the targets are: ts", argv[1]);
    /* the rest is parsed as a command of its own: "ts FILE" */
    const char *file;
    int exit_code;
    if (sb_cli_parse(argc - 1, argv + 1, &usage, NULL, 0, &file, &exit_code) < 0)
        return exit_code;

    struct sb_model *model = NULL;
    char *text = NULL;
    struct sb_buf err, out;
    sb_buf_init(&err);
    sb_buf_init(&out);
    int rc = sb_spec_load(file, &model, &text, &err);
    fputs(sb_buf_str(&err), stderr);
    if (rc == 0) {
        sb_typescript_database(model, &out);
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
