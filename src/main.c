/* The specbase binary: finds the command named by argv[1] in the table of
 * src/cli/command_list.h and runs it with the rest of the arguments; handles
 * only --help and --version itself. Everything else lives in the library
 * (build/libspecbase.a), where the tests can reach it. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("usage: specbase COMMAND [ARGS]; 'specbase help' lists the commands\n", stderr);
        return SB_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        return sb_cmd_help(1, argv + 1);
    if (strcmp(name, "--version") == 0) {
        printf("specbase %s\n", SB_VERSION);
        return fflush(stdout) == 0 ? SB_EXIT_OK : SB_EXIT_INPUT;
    }
    if (name[0] == '-') {
        fprintf(stderr, "specbase: unknown option '%s'\n", name);
        fputs("usage: specbase COMMAND [ARGS]; 'specbase help' lists the commands\n", stderr);
        return SB_EXIT_USAGE;
    }
    const struct sb_command *cmd = sb_cli_find(name);
    if (!cmd)
        return sb_cli_unknown_command(name);
    return cmd->run(argc - 1, argv + 1);
}
