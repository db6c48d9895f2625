/* The commands of the specbase binary, one line each, in the order `specbase
 * help` lists them:
 *   SB_COMMAND(name, function, "one-line summary")
 * function is `int function(int argc, char **argv)` in src/cli/<name>.c
 * (argv[0] is the command's name; it returns the exit code). cli.h declares
 * the functions and help.c builds the command table from this list, so a
 * new command is this one line plus its file. */
/* clang-format off */
SB_COMMAND(help,    sb_cmd_help,    "show the commands, or one command's usage")
SB_COMMAND(check,   sb_cmd_check,   "check a spec file: silent when valid, errors on stderr")
SB_COMMAND(fmt,     sb_cmd_fmt,     "print a spec in canonical form, or check or rewrite it")
SB_COMMAND(spec,    sb_cmd_spec,    "print the checked model of a spec as JSON")
SB_COMMAND(migrate, sb_cmd_migrate, "show or apply the schema changes a spec makes to a database")
SB_COMMAND(serve,   sb_cmd_serve,   "serve a spec's REST API (PostgREST conventions) over HTTP")
SB_COMMAND(keys,    sb_cmd_keys,    "print the anon and service keys (JWTs) of a served spec")
SB_COMMAND(openapi, sb_cmd_openapi, "print the OpenAPI 3.1 document of a spec's REST API")
SB_COMMAND(gen,     sb_cmd_gen,     "print client code for a spec's API (gen ts: TypeScript types)")
SB_COMMAND(audit,   sb_cmd_audit,   "verify, show or export the audit trail of a database")
SB_COMMAND(threats, sb_cmd_threats, "list the threat events and bans recorded in a database")
/* clang-format on */
