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

static void render_ts(const struct sb_model *model, void *ctx, struct sb_buf *out)
{
    (void)ctx;
    sb_typescript_database(model, out);
}

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

    return sb_cli_print_spec(file, render_ts, NULL);
}
