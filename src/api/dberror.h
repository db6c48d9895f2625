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

/* Fill err for db's last error (rc its result code); collection names the
 * table in messages (NULL: "?"), deleting picks the foreign-key wording. */
void sb_api_db_error(sqlite3 *db, int rc, const char *collection, bool deleting, struct sb_api_error *err);

#endif
