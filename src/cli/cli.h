/* The command line: one file per command (check.c, fmt.c, spec.c, ...), the
 * table of commands in command_list.h, and the helpers they share (help.c).
 * src/main.c only finds the command and calls it.
 *
 * Every command returns its exit code: 0 ok, 1 the input is wrong (the
 * diagnostics are on stderr), 2 usage error (a short usage line on stderr).
 * `--help` prints the command's usage to stdout and returns 0. */
#ifndef SB_CLI_H
#define SB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SB_VERSION "0.1.0"

enum { SB_EXIT_OK = 0, SB_EXIT_INPUT = 1, SB_EXIT_USAGE = 2 };

/* The commands: argv[0] is the command's name; returns the exit code. */
#define SB_COMMAND(name, function, summary) int function(int argc, char **argv);
#include "cli/command_list.h"
#undef SB_COMMAND

struct sb_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

/* The command called name (borrowed, static), or NULL. */
const struct sb_command *sb_cli_find(const char *name);

/* `specbase help`: the usage line, the commands and the global options. */
void sb_cli_print_commands(FILE *out);

/* Unknown command: message (with a suggestion when one is close) and the
 * usage line on stderr; returns SB_EXIT_USAGE. */
int sb_cli_unknown_command(const char *name);

/* What a command says about itself: usage is what follows "usage: specbase "
 * ("fmt [--check|--write] FILE"), help the paragraph printed under it. */
struct sb_cli_usage {
    const char *command;
    const char *usage;
    const char *help;
};

/* One boolean flag a command accepts ("--check"). */
struct sb_cli_flag {
    const char *name;
    bool *set; /* borrowed: set to true when the flag is given */
};

/* Parse argv[1..] of a command: the flags in flags (n_flags of them),
 * "-h"/"--help", "--" and exactly one FILE operand ("-" is standard input).
 * Returns 0 with *file set, or -1 when the command must stop and return
 * *exit_code (0 after printing the help, 2 after a usage error). */
int sb_cli_parse(int argc, char **argv, const struct sb_cli_usage *usage,
                 const struct sb_cli_flag *flags, size_t n_flags, const char **file,
                 int *exit_code);

/* Usage error: "specbase CMD: <message>" and the usage line on stderr;
 * returns SB_EXIT_USAGE. */
int sb_cli_usage_error(const struct sb_cli_usage *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Write len bytes to stdout and flush. On failure prints
 * "specbase: write error: ..." and returns -1. */
int sb_cli_write_stdout(const char *data, size_t len);

/* Load and check the spec in file (diagnostics to stderr), render it with
 * render(model, ctx, out) and write that to stdout. Returns the exit code:
 * SB_EXIT_OK, or SB_EXIT_INPUT when the spec is wrong or writing failed. */
struct sb_model;
struct sb_buf;
int sb_cli_print_spec(const char *file, void (*render)(const struct sb_model *model, void *ctx, struct sb_buf *out),
                      void *ctx);

/* The name diagnostics show for a FILE operand ("<stdin>" for "-"). */
const char *sb_cli_display_name(const char *file);

#endif
