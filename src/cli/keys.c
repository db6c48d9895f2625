/* `specbase keys FILE [--db PATH]`: print the anon and service keys of the
 * server that serves FILE on PATH: long-lived JWTs (role anon, role
 * service_role) signed with the server's secret (PATH.jwt-secret, created
 * with mode 0600 if it does not exist yet, or SPECBASE_JWT_SECRET). The anon
 * key is for browsers; the service key bypasses every rule and must stay on
 * servers (docs/auth.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/auth.h"
#include "cli/cli.h"
#include "spec/spec.h"

static const struct sb_cli_usage usage = {
    "keys",
    "keys FILE [--db PATH]",
    "Print the anon key and the service key of the server that serves FILE\n"
    "with the database PATH (default: FILE with .db). Both are JWTs signed with\n"
    "the server's secret, PATH.jwt-secret (made with mode 0600 when missing),\n"
    "or SPECBASE_JWT_SECRET when set. supabase-js takes the anon key; the\n"
    "service key bypasses every rule: keep it on servers.",
};

int sb_cmd_keys(int argc, char **argv)
{
    const char *db = NULL;
    char **rest = calloc((size_t)argc + 1, sizeof(*rest));
    int n_rest = 0;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && !strcmp(argv[i], "--db") && i + 1 < argc)
            db = argv[++i];
        else if (i > 0 && !strncmp(argv[i], "--db=", 5))
            db = argv[i] + 5;
        else
            rest[n_rest++] = argv[i];
    }
    const char *file;
    int exit_code = 0;
    if (sb_cli_parse(n_rest, rest, &usage, NULL, 0, &file, &exit_code) != 0) {
        free(rest);
        return exit_code;
    }
    free(rest);
    struct sb_buf err, anon, service;
    sb_buf_init(&err);
    sb_buf_init(&anon);
    sb_buf_init(&service);
    struct sb_model *model = NULL;
    char *text = NULL, *db_default = NULL;
    int rc = SB_EXIT_INPUT;
    if (sb_spec_load(file, &model, &text, &err) != 0) {
        fputs(sb_buf_str(&err), stderr);
        goto done;
    }
    if (!db) {
        size_t len = strlen(file);
        const char *dot = strrchr(file, '.');
        size_t stem = dot && !strchr(dot, '/') ? (size_t)(dot - file) : len;
        db_default = malloc(stem + 4);
        memcpy(db_default, file, stem);
        memcpy(db_default + stem, ".db", 4);
        db = db_default;
    }
    /* the keys only need the secret: an app without writer or server */
    struct sb_app app;
    memset(&app, 0, sizeof(app));
    app.model = model;
    app.db_path = db;
    if (sb_auth_init(&app, &err) != 0) {
        fprintf(stderr, "specbase: %s\n", sb_buf_str(&err));
        sb_auth_free(&app);
        goto done;
    }
    if (sb_auth_keys(&app, &anon, &service) == 0) {
        printf("anon     %s\nservice  %s\n", sb_buf_str(&anon), sb_buf_str(&service));
        rc = SB_EXIT_OK;
    }
    sb_auth_free(&app);
done:
    sb_model_free(model);
    free(text);
    free(db_default);
    sb_buf_free(&err);
    sb_buf_free(&anon);
    sb_buf_free(&service);
    return rc;
}
