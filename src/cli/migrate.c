/* `specbase migrate FILE --db PATH [--apply] [--allow-data-loss]`: compare
 * the spec with the database and print the plan (store/migrate.h); with
 * --apply, run it in one transaction after an online backup. Drift (the
 * schema changed behind the applied spec's back) and unallowed data loss
 * stop it with exit 1 and nothing changed. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "spec/spec.h"
#include "store/db.h"
#include "store/migrate.h"
#include "util/buf.h"
#include "util/die.h"

static const struct sb_cli_usage usage = {
    "migrate",
    "migrate FILE --db PATH [--apply] [--allow-data-loss]",
    "Compare the spec in FILE with the SQLite database at PATH and print the\n"
    "plan: each step in words and in SQL. Steps that can lose or rewrite data\n"
    "(dropping a collection or field, changing a field's type, making a field\n"
    "required) are marked DATA LOSS.\n"
    "\n"
    "  --db PATH           the database (created by --apply when missing)\n"
    "  --apply             run the plan in one transaction, after an online\n"
    "                      backup to PATH.backup-<UTC time>; on any failure\n"
    "                      nothing changes\n"
    "  --allow-data-loss   let --apply run steps marked DATA LOSS\n"
    "\n"
    "If the database schema differs from what the last applied spec produced\n"
    "(changed by hand), every difference is reported and nothing is done.\n"
    "Exit status: 0 plan shown or applied, 1 invalid spec, drift, refused or\n"
    "failed migration, 2 usage error.",
};

/* Take --db PATH / --db=PATH out of argv (the rest goes to sb_cli_parse). */
static int take_db(int argc, char **argv, char **rest, int *n_rest, const char **db)
{
    *db = NULL;
    *n_rest = 0;
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (i > 0 && !options_done) {
            if (strcmp(arg, "--") == 0)
                options_done = true;
            else if (strcmp(arg, "--db") == 0) {
                if (i + 1 >= argc)
                    return sb_cli_usage_error(&usage, "--db needs a PATH");
                *db = argv[++i];
                continue;
            } else if (strncmp(arg, "--db=", 5) == 0) {
                *db = arg + 5;
                continue;
            }
        }
        rest[(*n_rest)++] = argv[i];
    }
    rest[*n_rest] = NULL;
    return 0;
}

static void print_outcome_plan(const struct sb_plan *plan)
{
    struct sb_buf out;
    sb_buf_init(&out);
    sb_plan_print(plan, &out);
    sb_cli_write_stdout(sb_buf_str(&out), out.len);
    sb_buf_free(&out);
}

static void loss_steps(const struct sb_plan *plan, struct sb_buf *out)
{
    size_t n = 0;
    for (size_t i = 0; i < plan->n_steps; i++)
        if (plan->steps[i].data_loss)
            sb_buf_printf(out, "%s%zu", n++ ? ", " : "", i + 1);
}

static int report_drift(const char *db_path, const struct sb_buf *err)
{
    fprintf(stderr,
            "specbase migrate: the schema of %s differs from what the applied spec produced:\n"
            "%s"
            "Nothing was changed. Undo these changes (or restore a backup), or express them\n"
            "in the spec; specbase never overwrites a schema it did not make.\n",
            db_path, sb_buf_str(err));
    return SB_EXIT_INPUT;
}

static int plan_only(const char *db_path, const struct sb_model *model)
{
    struct sb_buf err;
    sb_buf_init(&err);
    sqlite3 *db = NULL;
    /* A database that does not exist yet is planned from nothing, without
     * creating the file. */
    bool exists = access(db_path, F_OK) == 0;
    int rc = sb_db_open(exists ? db_path : ":memory:", SB_DB_INSPECT, NULL, &db, &err);
    struct sb_plan *plan = NULL;
    if (rc == 0)
        rc = sb_migrate_plan(db, model, &plan, &err);
    int exit_code = SB_EXIT_OK;
    if (rc == SB_STORE_EDRIFT) {
        exit_code = report_drift(db_path, &err);
    } else if (rc != 0) {
        fprintf(stderr, "specbase migrate: %s\n", sb_buf_str(&err));
        exit_code = SB_EXIT_INPUT;
    } else {
        print_outcome_plan(plan);
        if (plan->n_steps) {
            struct sb_buf steps;
            sb_buf_init(&steps);
            loss_steps(plan, &steps);
            if (steps.len)
                printf("\nStep%s %s can lose or rewrite data: run again with --apply "
                       "--allow-data-loss to apply the plan.\n",
                       strchr(sb_buf_str(&steps), ',') ? "s" : "", sb_buf_str(&steps));
            else
                printf("\nRun again with --apply to apply the plan.\n");
            sb_buf_free(&steps);
        }
    }
    sb_plan_free(plan);
    sb_db_close(db);
    sb_buf_free(&err);
    return exit_code;
}

static int apply(const char *db_path, const struct sb_model *model, const char *file,
                 const char *text, bool allow_data_loss)
{
    struct sb_buf err;
    sb_buf_init(&err);
    sqlite3 *db = NULL;
    int exit_code = SB_EXIT_INPUT;
    if (sb_db_open(db_path, SB_DB_WRITE, NULL, &db, &err) != 0) {
        fprintf(stderr, "specbase migrate: %s\n", sb_buf_str(&err));
        sb_buf_free(&err);
        return SB_EXIT_INPUT;
    }
    struct sb_migrate_options opts = {
        .allow_data_loss = allow_data_loss,
        .backup = true,
        .db_path = db_path,
        .source_name = sb_cli_display_name(file),
        .source = text,
        .source_len = strlen(text),
        .version = SB_VERSION,
    };
    struct sb_migrate_outcome out;
    int rc = sb_migrate_apply(db, model, &opts, &out, &err);
    if (rc == SB_STORE_EDRIFT) {
        report_drift(db_path, &err);
    } else {
        if (out.plan)
            print_outcome_plan(out.plan);
        if (rc == SB_STORE_EUNSAFE) {
            struct sb_buf steps;
            sb_buf_init(&steps);
            loss_steps(out.plan, &steps);
            fprintf(stderr,
                    "specbase migrate: refused: step%s %s can lose or rewrite data; add "
                    "--allow-data-loss to apply the plan. Nothing was changed.\n",
                    strchr(sb_buf_str(&steps), ',') ? "s" : "", sb_buf_str(&steps));
            sb_buf_free(&steps);
        } else if (rc != 0) {
            fprintf(stderr,
                    "specbase migrate: %s\nThe migration was rolled back: nothing was changed.\n",
                    sb_buf_str(&err));
        } else {
            exit_code = SB_EXIT_OK;
        }
        if (out.backup_path)
            printf("\nBackup of the database before the migration: %s\n", out.backup_path);
        if (rc == 0)
            printf(out.applied ? "\nApplied.\n"
                               : "\nNothing to apply: the database is up to date.\n");
    }
    sb_plan_free(out.plan);
    free(out.backup_path);
    sb_db_close(db);
    sb_buf_free(&err);
    fflush(stdout);
    return exit_code;
}

int sb_cmd_migrate(int argc, char **argv)
{
    char **rest = sb_xcalloc((size_t)argc + 1, sizeof(*rest));
    int n_rest = 0;
    const char *db_path = NULL;
    int exit_code = take_db(argc, argv, rest, &n_rest, &db_path);
    if (exit_code != 0) {
        free(rest);
        return exit_code;
    }
    bool do_apply = false, allow_loss = false;
    const struct sb_cli_flag flags[] = {{"--apply", &do_apply}, {"--allow-data-loss", &allow_loss}};
    const char *file;
    if (sb_cli_parse(n_rest, rest, &usage, flags, 2, &file, &exit_code) < 0) {
        free(rest);
        return exit_code;
    }
    free(rest);
    if (!db_path || !*db_path)
        return sb_cli_usage_error(&usage, "missing --db PATH");

    struct sb_model *model = NULL;
    char *text = NULL;
    struct sb_buf err;
    sb_buf_init(&err);
    if (sb_spec_load(file, &model, &text, &err) != 0) {
        fputs(sb_buf_str(&err), stderr);
        sb_buf_free(&err);
        if (model)
            sb_model_free(model);
        free(text);
        return SB_EXIT_INPUT;
    }
    sb_buf_free(&err);
    exit_code =
        do_apply ? apply(db_path, model, file, text, allow_loss) : plan_only(db_path, model);
    sb_model_free(model);
    free(text);
    return exit_code;
}
