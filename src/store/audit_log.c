/* Reading the audit trail (see audit_log.h). */
#include "store/audit_log.h"

#include <jansson.h>

#include "util/json_out.h"

int sb_audit_log_query(sqlite3 *db, const struct sb_audit_filter *filter, sqlite3_stmt **out,
                       struct sb_buf *err)
{
    struct sb_buf sql;
    sb_buf_init(&sql);
    sb_buf_puts(&sql, "SELECT \"seq\", \"at\", \"actor_sub\", \"actor_role\", \"actor_addr\", "
                      "\"request_id\", \"op\", \"collection\", \"row_id\", \"changes\", "
                      "\"prev_hash\", \"hash\" FROM \"_sb_audit\" WHERE \"seq\" > ?5");
    if (filter->since)
        sb_buf_puts(&sql, " AND \"at\" >= ?1");
    if (filter->actor)
        sb_buf_puts(&sql, " AND \"actor_sub\" = ?2");
    if (filter->collection)
        sb_buf_puts(&sql, " AND \"collection\" = ?3");
    if (filter->op)
        sb_buf_puts(&sql, " AND \"op\" = ?4");
    sb_buf_puts(&sql, " ORDER BY \"seq\"");
    if (filter->limit > 0)
        sb_buf_puts(&sql, " LIMIT ?6");
    *out = NULL;
    int rc = sqlite3_prepare_v2(db, sb_buf_str(&sql), -1, out, NULL);
    sb_buf_free(&sql);
    if (rc != SQLITE_OK) {
        sb_buf_printf(err, "reading the audit trail: %s", sqlite3_errmsg(db));
        sqlite3_finalize(*out);
        *out = NULL;
        return -1;
    }
    if (filter->since)
        sqlite3_bind_text(*out, 1, filter->since, -1, SQLITE_STATIC);
    if (filter->actor)
        sqlite3_bind_text(*out, 2, filter->actor, -1, SQLITE_STATIC);
    if (filter->collection)
        sqlite3_bind_text(*out, 3, filter->collection, -1, SQLITE_STATIC);
    if (filter->op)
        sqlite3_bind_text(*out, 4, filter->op, -1, SQLITE_STATIC);
    sqlite3_bind_int64(*out, 5, filter->after_seq);
    if (filter->limit > 0)
        sqlite3_bind_int64(*out, 6, filter->limit);
    return 0;
}

static void text_or_null(struct sb_buf *out, sqlite3_stmt *stmt, int i)
{
    const char *text = (const char *)sqlite3_column_text(stmt, i);
    if (text)
        sb_json_string(out, text, (size_t)sqlite3_column_bytes(stmt, i));
    else
        sb_buf_puts(out, "null");
}

void sb_audit_row_json(sqlite3_stmt *stmt, struct sb_buf *out)
{
    static const char *const names[] = {"seq",        "at",         "actor_sub", "actor_role",
                                        "actor_addr", "request_id", "op",        "collection",
                                        "row_id",     "changes",    "prev_hash", "hash"};
    enum { CHANGES = 9 };
    sb_buf_putc(out, '{');
    for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++) {
        if (i)
            sb_buf_putc(out, ',');
        sb_json_key(out, names[i]);
        int type = sqlite3_column_type(stmt, i);
        if (type == SQLITE_INTEGER) {
            sb_json_int(out, sqlite3_column_int64(stmt, i));
        } else if (i == CHANGES && type == SQLITE_TEXT) {
            const char *text = (const char *)sqlite3_column_text(stmt, i);
            json_t *parsed = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
            if (parsed && json_is_object(parsed))
                sb_buf_puts(out, text);
            else
                text_or_null(out, stmt, i);
            json_decref(parsed);
        } else {
            text_or_null(out, stmt, i);
        }
    }
    sb_buf_putc(out, '}');
}
