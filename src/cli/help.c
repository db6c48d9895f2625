/* `specbase help`, the command table built from command_list.h, and the
 * helpers every command shares: argument parsing with the usual exit codes
 * (0 ok, 1 bad input, 2 usage error), usage messages and checked writes to
 * stdout. src/main.c dispatches through sb_cli_find; each command in its own
 * file calls sb_cli_parse first. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"
#include "util/diag.h"

static const struct sb_command commands[] = {
#define SB_COMMAND(name, function, summary) {#name, function, summary},
#include "cli/command_list.h"
#undef SB_COMMAND
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct sb_cli_usage help_usage = {
    "help",
    "help [COMMAND]",
    "Without COMMAND, list the commands; with one, print its usage.",
};

const struct sb_command *sb_cli_find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

void sb_cli_print_commands(FILE *out)
{
    size_t width = 0;
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strlen(commands[i].name) > width)
            width = strlen(commands[i].name);
    fputs("usage: specbase COMMAND [ARGS]\n\ncommands:\n", out);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-*s  %s\n", (int)width, commands[i].name, commands[i].summary);
    fputs("\noptions:\n"
          "  --help     show this list\n"
          "  --version  print the version\n"
          "\n'specbase help COMMAND' or 'specbase COMMAND --help' shows a command's usage.\n",
          out);
}

int sb_cli_unknown_command(const char *name)
{
    const char *names[N_COMMANDS + 1];
    for (size_t i = 0; i < N_COMMANDS; i++)
        names[i] = commands[i].name;
    names[N_COMMANDS] = NULL;
    const char *near = sb_suggest(name, strlen(name), names);
    if (near)
        fprintf(stderr, "specbase: unknown command '%s'; did you mean '%s'?\n", name, near);
    else
        fprintf(stderr, "specbase: unknown command '%s'\n", name);
    fputs("usage: specbase COMMAND [ARGS]; 'specbase help' lists the commands\n", stderr);
    return SB_EXIT_USAGE;
}

int sb_cli_usage_error(const struct sb_cli_usage *usage, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "specbase %s: ", usage->command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: specbase %s\n", usage->usage);
    return SB_EXIT_USAGE;
}

static bool is_help_flag(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int sb_cli_parse(int argc, char **argv, const struct sb_cli_usage *usage,
                 const struct sb_cli_flag *flags, size_t n_flags, const char **file, int *exit_code)
{
    bool options_done = false;
    *file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && arg[0] == '-' && arg[1] != '\0') {
            if (strcmp(arg, "--") == 0) {
                options_done = true;
                continue;
            }
            if (is_help_flag(arg)) {
                printf("usage: specbase %s\n\n%s\n", usage->usage, usage->help);
                *exit_code = SB_EXIT_OK;
                return -1;
            }
            size_t j = 0;
            while (j < n_flags && strcmp(flags[j].name, arg) != 0)
                j++;
            if (j == n_flags) {
                *exit_code = sb_cli_usage_error(usage, "unknown option '%s'", arg);
                return -1;
            }
            *flags[j].set = true;
            continue;
        }
        if (*file) {
            *exit_code = sb_cli_usage_error(usage, "unexpected argument '%s'", arg);
            return -1;
        }
        *file = arg;
    }
    if (!*file) {
        *exit_code = sb_cli_usage_error(usage, "missing FILE");
        return -1;
    }
    return 0;
}

int sb_cli_write_stdout(const char *data, size_t len)
{
    if ((len && fwrite(data, 1, len, stdout) != len) || fflush(stdout) != 0) {
        fprintf(stderr, "specbase: write error: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

int sb_cli_print_spec(const char *file, void (*render)(const struct sb_model *model, void *ctx, struct sb_buf *out),
                      void *ctx)
{
    struct sb_model *model = NULL;
    char *text = NULL;
    struct sb_buf err, out;
    sb_buf_init(&err);
    sb_buf_init(&out);
    int rc = sb_spec_load(file, &model, &text, &err);
    fputs(sb_buf_str(&err), stderr);
    if (rc == 0) {
        render(model, ctx, &out);
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

const char *sb_cli_display_name(const char *file)
{
    return strcmp(file, "-") == 0 ? "<stdin>" : file;
}

int sb_cmd_help(int argc, char **argv)
{
    if (argc > 1 && is_help_flag(argv[1])) {
        printf("usage: specbase %s\n\n%s\n", help_usage.usage, help_usage.help);
        return SB_EXIT_OK;
    }
    if (argc > 2)
        return sb_cli_usage_error(&help_usage, "unexpected argument '%s'", argv[2]);
    if (argc < 2) {
        sb_cli_print_commands(stdout);
        return SB_EXIT_OK;
    }
    const struct sb_command *cmd = sb_cli_find(argv[1]);
    if (!cmd)
        return sb_cli_unknown_command(argv[1]);
    char *sub_argv[] = {argv[1], "--help", NULL};
    return cmd->run(2, sub_argv);
}
