/* Reading the audit trail: the query behind `specbase audit log` and
 * GET /_/audit, and one entry as JSON (docs/audit.md). */
#ifndef SB_STORE_AUDIT_LOG_H
#define SB_STORE_AUDIT_LOG_H

#include <stdint.h>

#include <sqlite3.h>

#include "util/buf.h"

/* Which entries: every member is optional (NULL or 0: no condition).
 * Strings are borrowed until the statement is finalized. */
struct sb_audit_filter {
    const char *since;      /* at >= since (ISO 8601 text, compared as text) */
    const char *actor;      /* actor_sub */
    const char *collection;
    const char *op;
    int64_t after_seq;      /* seq > after_seq: the next page */
    int64_t limit;          /* at most this many (0: all) */
};

/* A statement over the entries filter selects, in seq order: its columns
 * are seq, at, actor_sub, actor_role, actor_addr, request_id, op,
 * collection, row_id, changes, prev_hash, hash. Finalize it. Returns 0, or
 * -1 with a message in err. */
int sb_audit_log_query(sqlite3 *db, const struct sb_audit_filter *filter, sqlite3_stmt **out,
                       struct sb_buf *err);

/* The current row of such a statement as one JSON object (no newline). The
 * changes are embedded as an object when they are one (a tampered row's
 * may not be: then as a string). */
void sb_audit_row_json(sqlite3_stmt *stmt, struct sb_buf *out);

#endif
