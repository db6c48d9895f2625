/* PostgREST's answer for a statement SQLite refused: constraint failures as
 * PostgreSQL's SQLSTATEs (23505 unique, 23503 foreign key, 23514 check,
 * 23502 not null, 22P02 wrong type), busy as 503, failures of the query
 * functions (regular expressions, full text) as 400, anything else 500.
 * Shared by the records API and actions. */
#ifndef SB_API_DBERROR_H
#define SB_API_DBERROR_H

#include <stdbool.h>

#include <sqlite3.h>

#include "api/error.h"
#include "query/sql.h"

/* The messages of the actions' arithmetic function (actions.c), which map
 * to PostgreSQL's 22012 and 22003. */
#define SB_ARITH_ZERO "division by zero"
#define SB_ARITH_RANGE "value out of range"

/* Fill err for db's last error (rc its result code); collection names the
 * table in messages (NULL: "?"), deleting picks the foreign-key wording. */
void sb_api_db_error(sqlite3 *db, int rc, const char *collection, bool deleting, struct sb_api_error *err);

/* Run sql on db (prepared through the statement cache), calling on_row (may
 * be NULL) for each result row; a nonzero return of on_row stops the run.
 * Returns SQLITE_OK, SQLITE_ABORT (stopped by on_row, err untouched unless
 * on_row set it) or SQLite's code with err filled as sb_api_db_error does;
 * a statement that does not prepare is a 500 "could not prepare a
 * statement" (of action, when action is not NULL). */
int sb_api_run(sqlite3 *db, const struct sb_sql *sql, const char *collection, bool deleting,
               int (*on_row)(sqlite3_stmt *stmt, void *arg), void *arg, const char *action,
               struct sb_api_error *err);

#endif
