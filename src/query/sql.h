/* The SQL compiler of the records API: a parsed PostgREST query (ast.h)
 * plus the model becomes SQL text with bound values, for one dialect
 * (SQLite now). Names are resolved here against the collection: an unknown
 * column is PostgREST's 42703 error, a hidden or password field is as
 * unknown; every filter operand is validated for its field's type
 * (guard/validate.h) and bound, never spliced. Access rules (the spec's
 * `allow` rules, compiled by store/sqlexpr.c) are added to every statement
 * for the caller's identity.
 *
 * Rows come back as one JSON text per row built by the database (one
 * sb_json_build call per object, store/sqlfn.h), which keeps the response
 * path free of per-value work and lets embeds nest in one statement. */
#ifndef SB_QUERY_SQL_H
#define SB_QUERY_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/error.h"
#include "query/ast.h"
#include "spec/model.h"
#include "spec/value.h"
#include "store/sqlexpr.h"
#include "util/arena.h"
#include "util/buf.h"

/* SQL text and the values bound to its ?1, ?2, ... in order. A piece of
 * a statement may be built in a buffer of its own that shares the
 * statement's values (sb_sql_piece): placeholders are numbered, so where the
 * piece's text lands does not matter. */
struct sb_sql {
    struct sb_buf text;      /* owned (heap): sb_sql_free */
    struct sb_value *binds;  /* in arena; only in the statement's own sb_sql */
    size_t n_binds, cap_binds;
    struct sb_arena *arena;  /* borrowed */
    struct sb_sql *root;     /* the statement a piece binds into; NULL: itself */
};

void sb_sql_init(struct sb_sql *sql, struct sb_arena *arena);
/* Start a piece whose values go to statement's list. */
void sb_sql_piece(struct sb_sql *piece, struct sb_sql *statement);
void sb_sql_free(struct sb_sql *sql);
/* Append "?N" and bind value (copied; text stays borrowed). */
void sb_sql_bind(struct sb_sql *sql, const struct sb_value *value);
void sb_sql_bind_int(struct sb_sql *sql, int64_t v);
void sb_sql_bind_text(struct sb_sql *sql, const char *text, size_t len);
void sb_sql_bind_null(struct sb_sql *sql);

/* Who is asking: rules are compiled for this identity. */
struct sb_identity {
    const char *role;      /* "anon", "authenticated" or a declared role */
    bool authenticated;
    bool has_id;
    int64_t id;            /* the account's id when has_id */
    const char *email;     /* NULL when anonymous */
    bool bypass_rules;     /* the service key */
};

/* The value of an auth.* reference (auth.id, auth.role, auth.email) for
 * who, NULL when who has none: true with *out set, or false when ref is
 * not an auth reference. */
bool sb_sql_auth_value(const struct sb_identity *who, enum sb_ref_kind ref, struct sb_value *out);

/* The anonymous caller (role anon). */
extern const struct sb_identity sb_identity_anon;

struct sb_sql_ctx {
    const struct sb_model *model;
    const struct sb_dialect *dialect;
    const struct sb_identity *who;
    struct sb_arena *arena;
};

/* How a read's rows are to be returned. */
struct sb_read_opts {
    bool has_limit;        /* effective limit/offset, after the Range header */
    int64_t limit;
    int64_t offset;
    bool nulls_stripped;
};

/* SELECT of the rows of coll that query asks for: one column, the row's
 * JSON object text. Only rows the caller may read. */
int sb_sql_read(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                const struct sb_query *query, const struct sb_read_opts *opts, struct sb_sql *out,
                struct sb_api_error *err);
/* SELECT count(*) of the same rows, without limit and offset. */
int sb_sql_count(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                 const struct sb_query *query, struct sb_sql *out, struct sb_api_error *err);

/* The row JSON expression for the select list of query (for RETURNING of
 * writes): appended to out, with columns qualified by alias (NULL: bare). */
int sb_sql_row_json(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                    const struct sb_query *query, const char *alias, bool nulls_stripped,
                    struct sb_sql *out, struct sb_api_error *err);

/* " AND (filters of query's root level)" appended to out (nothing when there
 * are none), columns qualified by alias. For PATCH and DELETE. */
int sb_sql_filters(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                   const struct sb_query *query, const char *alias, struct sb_sql *out,
                   struct sb_api_error *err);

/* " ORDER BY ..." for the order= of query's root level (nothing when it
 * has none), columns qualified by alias. */
int sb_sql_order(const struct sb_sql_ctx *ctx, const struct sb_collection *coll, const struct sb_query *query,
                 const char *alias, struct sb_sql *out, struct sb_api_error *err);

/* " AND (rule)" for op (SB_RULE_READ/UPDATE/DELETE...) of coll and the
 * caller; " AND 0" when no rule allows it; nothing for the service key. */
int sb_sql_rule(const struct sb_sql_ctx *ctx, const struct sb_collection *coll, unsigned op,
                const char *alias, struct sb_sql *out, struct sb_api_error *err);

/* Which values an update rule sees for a row (see sb_sql_update_rule). */
enum sb_rule_row { SB_ROW_BEFORE, SB_ROW_AFTER };

/* " AND (update rule)" for an UPDATE that sets fields[i] = values[i]: with
 * SB_ROW_BEFORE plain names are the row as it is (old.f too) and new.f the
 * value being written (the column when not written); with SB_ROW_AFTER plain
 * names and new.f are the values after the update, old.f the row before.
 * A rule that names new. chooses no rows (nothing is written for BEFORE):
 * it is about the change, decided with AFTER for every row.
 * " AND 0" when no rule allows updates; nothing for the service key. */
int sb_sql_update_rule(const struct sb_sql_ctx *ctx, const struct sb_collection *coll, enum sb_rule_row row,
                       const char *alias, const struct sb_field *const *fields, const struct sb_value *values,
                       size_t n, struct sb_sql *out, struct sb_api_error *err);

/* The field called name that a client may see (not hidden, not password),
 * or NULL with PostgREST's 42703 "column coll.name does not exist" in err. */
const struct sb_field *sb_sql_visible_field(const struct sb_collection *coll, const char *name,
                                            struct sb_api_error *err);

#endif
