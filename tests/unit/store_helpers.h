/* Helpers shared by the store unit tests: a checked model from spec text, a
 * scratch directory for database files, and one-value queries. Included
 * once per test program, after test.h. */
#ifndef SB_TEST_STORE_HELPERS_H
#define SB_TEST_STORE_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "spec/spec.h"
#include "util/buf.h"
#include "util/diag.h"

/* Parse and check text; the test fails (and NULL is returned) on errors. */
__attribute__((unused)) static struct sb_model *model_of(const char *text)
{
    struct sb_source source = {"test.spec", text, strlen(text)};
    struct sb_diags diags;
    sb_diags_init(&diags, &source);
    struct sb_model *model = sb_spec_parse("test.spec", text, strlen(text), &diags);
    if (diags.n_errors == 0)
        sb_spec_check(model, &diags);
    if (diags.n_errors) {
        struct sb_buf out;
        sb_buf_init(&out);
        sb_diags_sort(&diags);
        sb_diags_render(&diags, &out);
        sb_test_fail(__FILE__, __LINE__, "spec does not check:\n%s", sb_buf_str(&out));
        sb_buf_free(&out);
        sb_model_free(model);
        model = NULL;
    }
    sb_diags_free(&diags);
    return model;
}

static char scratch_dir[64];

/* A path in the test's scratch directory (caller frees). */
__attribute__((unused)) static char *scratch_path(const char *name)
{
    if (!scratch_dir[0]) {
        snprintf(scratch_dir, sizeof(scratch_dir), "/tmp/sb-test-store-XXXXXX");
        if (!mkdtemp(scratch_dir))
            abort();
    }
    size_t len = strlen(scratch_dir) + strlen(name) + 2;
    char *path = malloc(len);
    snprintf(path, len, "%s/%s", scratch_dir, name);
    return path;
}

/* Remove the scratch directory and whatever the tests left in it. */
__attribute__((destructor)) static void scratch_cleanup(void)
{
    if (!scratch_dir[0])
        return;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", scratch_dir);
}

/* The first column of the first row of sql as an integer; -1 on error. */
__attribute__((unused)) static long long query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    long long value = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
}

/* Run sql; returns the SQLite result code (extended). */
__attribute__((unused)) static int exec_rc(sqlite3 *db, const char *sql)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? rc : sqlite3_extended_errcode(db);
}

#endif
