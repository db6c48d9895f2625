/* `specbase openapi [--server URL] FILE`: load a spec like `check` and print
 * the OpenAPI 3.1 document of its API (api/openapi.h), the same bytes that
 * GET /rest/v1/ serves, without starting a server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/openapi.h"
#include "cli/cli.h"
#include "spec/spec.h"
#include "util/buf.h"

static const struct sb_cli_usage usage = {
    "openapi",
    "openapi [--server URL] FILE",
    "Read, parse and check the spec in FILE ('-' for standard input) and print\n"
    "the OpenAPI 3.1 document of its REST API on stdout (JSON). --server sets\n"
    "the URL of the servers list (default " SB_OPENAPI_SERVER_URL "). Errors are\n"
    "reported as by 'specbase check' (exit 1).",
};

/* argv[1..]: --server URL (or --server=URL), -h/--help, --, one FILE.
 * Returns 0, or -1 with *exit_code set. */
static int parse_args(int argc, char **argv, const char **server, const char **file, int *exit_code)
{
    bool options_done = false;
    *file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && arg[0] == '-' && arg[1] != '\0') {
            if (!strcmp(arg, "--")) {
                options_done = true;
            } else if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
                printf("usage: specbase %s\n\n%s\n", usage.usage, usage.help);
                *exit_code = SB_EXIT_OK;
                return -1;
            } else if (!strcmp(arg, "--server")) {
                if (i + 1 >= argc) {
                    *exit_code = sb_cli_usage_error(&usage, "--server needs a URL");
                    return -1;
                }
                *server = argv[++i];
            } else if (!strncmp(arg, "--server=", 9)) {
                *server = arg + 9;
            } else {
                *exit_code = sb_cli_usage_error(&usage, "unknown option '%s'", arg);
                return -1;
            }
            continue;
        }
        if (*file) {
            *exit_code = sb_cli_usage_error(&usage, "unexpected argument '%s'", arg);
            return -1;
        }
        *file = arg;
    }
    if (!*file) {
        *exit_code = sb_cli_usage_error(&usage, "missing FILE");
        return -1;
    }
    if (*server && !**server) {
        *exit_code = sb_cli_usage_error(&usage, "--server needs a URL");
        return -1;
    }
    return 0;
}

/* ctx: the server URL, or NULL */
static void render_openapi(const struct sb_model *model, void *ctx, struct sb_buf *out)
{
    struct sb_openapi_opts opts = {.server_url = ctx};
    sb_openapi_document(model, &opts, out);
}

int sb_cmd_openapi(int argc, char **argv)
{
    const char *server = NULL, *file;
    int exit_code;
    if (parse_args(argc, argv, &server, &file, &exit_code) < 0)
        return exit_code;

    return sb_cli_print_spec(file, render_openapi, (void *)server);
}
