/* Prepared statements cached per thread and connection, and binding of
 * storage values (spec/value.h). A request's SQL text depends only on the
 * shape of its query, so the same few statements serve most requests:
 * preparing costs more than running a point query, so they are kept.
 *
 * The cache is thread-local: a connection is used by one thread at a time
 * (a worker's own reader connection, the writer's connection on the writer
 * thread), so its cached statements are too. */
#ifndef SB_STORE_STMT_H
#define SB_STORE_STMT_H

#include <stddef.h>

#include <sqlite3.h>

#include "spec/value.h"
#include "util/buf.h"

/* A ready statement for sql[0..len) on db, from this thread's cache or
 * newly prepared (and cached). Borrowed: give it back with sb_stmt_done.
 * Returns 0, or SQLite's result code with the message in err. */
int sb_stmt_get(sqlite3 *db, const char *sql, size_t len, sqlite3_stmt **out, struct sb_buf *err);
/* Reset the statement and clear its bindings (it stays cached). */
void sb_stmt_done(sqlite3_stmt *stmt);
/* Bind values[0..n) to ?1..?n (text is bound without a copy: it must live
 * until sb_stmt_done). Returns SQLite's result code. */
int sb_stmt_bind(sqlite3_stmt *stmt, const struct sb_value *values, size_t n);
/* Finalize every statement this thread cached for db, on the thread that
 * used it, before closing it (never sqlite3_next_stmt + finalize: FTS5
 * owns statements of its own on the connection). */
void sb_stmt_forget(sqlite3 *db);
#endif
