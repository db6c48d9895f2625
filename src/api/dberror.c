/* Database errors in PostgREST's shape, see dberror.h. */
#include "api/dberror.h"

#include <string.h>

#include "store/stmt.h"
#include "util/buf.h"

/* "UNIQUE constraint failed: item.name, item.x" -> "name, x" */
static void unique_columns(const char *msg, struct sb_buf *keys)
{
    const char *cols = strstr(msg, "failed: ");
    for (const char *p = cols ? cols + 8 : ""; *p;) {
        const char *dot = strchr(p, '.'), *comma = strchr(p, ',');
        if (!dot || (comma && comma < dot))
            break;
        const char *end = comma ? comma : p + strlen(p);
        sb_buf_printf(keys, "%s%.*s", keys->len ? ", " : "", (int)(end - dot - 1), dot + 1);
        p = comma ? comma + 2 : end;
    }
}

void sb_api_db_error(sqlite3 *db, int rc, const char *collection, bool deleting, struct sb_api_error *err)
{
    const char *name = collection ? collection : "?";
    const char *msg = sqlite3_errmsg(db);
    switch (sqlite3_extended_errcode(db)) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY: {
        struct sb_buf keys;
        sb_buf_init(&keys);
        unique_columns(msg, &keys);
        sb_api_error_set(err, 409, "23505", "duplicate key value violates unique constraint");
        if (keys.len)
            sb_api_error_details(err, "Key (%s) already exists.", keys.data);
        sb_buf_free(&keys);
        return;
    }
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        if (deleting) {
            sb_api_error_set(err, 409, "23503", "update or delete on table \"%s\" violates foreign key constraint",
                             name);
            sb_api_error_details(err, "Key is still referenced from another table.");
        } else {
            sb_api_error_set(err, 409, "23503", "insert or update on table \"%s\" violates foreign key constraint",
                             name);
            sb_api_error_details(err, "A referenced row does not exist.");
        }
        return;
    case SQLITE_CONSTRAINT_CHECK:
        sb_api_error_set(err, 400, "23514", "new row for relation \"%s\" violates check constraint", name);
        sb_api_error_details(err, "%s", msg);
        return;
    case SQLITE_CONSTRAINT_NOTNULL:
        sb_api_error_set(err, 400, "23502", "null value violates not-null constraint");
        sb_api_error_details(err, "%s", msg);
        return;
    case SQLITE_CONSTRAINT_DATATYPE:
        sb_api_error_set(err, 400, "22P02", "a value of relation \"%s\" has the wrong type", name);
        sb_api_error_details(err, "%s", msg);
        return;
    default:
        break;
    }
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        sb_api_error_set(err, 503, "PGRST003", "The database is busy; try again");
        return;
    }
    if (!strcmp(msg, SB_ARITH_ZERO)) {
        sb_api_error_set(err, 400, "22012", "division by zero");
        return;
    }
    if (!strcmp(msg, SB_ARITH_RANGE)) {
        sb_api_error_set(err, 400, "22003", "value out of range");
        return;
    }
    if (strstr(msg, "regular expression") || strstr(msg, "regexp")) {
        sb_api_error_set(err, 400, "2201B", "invalid regular expression: %s", msg);
        return;
    }
    if (strstr(msg, "fts5")) {
        sb_api_error_set(err, 400, "42601", "syntax error in text search query");
        return;
    }
    sb_api_error_set(err, 500, "XX000", "database error");
    sb_api_error_details(err, "%s", msg);
}

int sb_api_run(sqlite3 *db, const struct sb_sql *sql, const char *collection, bool deleting,
               int (*on_row)(sqlite3_stmt *stmt, void *arg), void *arg, const char *action,
               struct sb_api_error *err)
{
    sqlite3_stmt *stmt;
    struct sb_buf msg;
    sb_buf_init(&msg);
    int rc = sb_stmt_get(db, sql->text.data, sql->text.len, &stmt, &msg);
    if (rc != SQLITE_OK) {
        if (action)
            sb_api_error_set(err, 500, "XX000", "could not prepare a statement of action %s", action);
        else
            sb_api_error_set(err, 500, "XX000", "could not prepare a statement");
        sb_api_error_details(err, "%s", sb_buf_str(&msg));
        sb_buf_free(&msg);
        return rc;
    }
    sb_buf_free(&msg);
    rc = sb_stmt_bind(stmt, sql->binds, sql->n_binds);
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (on_row && on_row(stmt, arg) != 0) {
            rc = SQLITE_ABORT;
            break;
        }
        rc = SQLITE_OK;
    }
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    if (rc != SQLITE_OK && rc != SQLITE_ABORT && !sb_api_error_is_set(err))
        sb_api_db_error(db, rc, collection, deleting, err);
    sb_stmt_done(stmt);
    return rc;
}
