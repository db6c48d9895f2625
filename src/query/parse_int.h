/* Internals shared by the query-string parser's files: the cursor over one
 * key or value, PostgREST-shaped errors, and the lexical pieces every part
 * uses (field names, json paths, identifiers). parse_lex.c implements them;
 * parse.c (dispatch, order, limits, columns), parse_select.c and
 * parse_filter.c (operators, values, logic trees) build on them. */
#ifndef SB_QUERY_PARSE_INT_H
#define SB_QUERY_PARSE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "api/error.h"
#include "query/ast.h"
#include "util/arena.h"

/* State shared by one sb_query_parse call: counters for the bounds that
 * span parameters. */
struct qp_ctx {
    struct sb_arena *arena;
    struct sb_api_error *err;
    size_t arena_start; /* arena->used_total when parsing began */
    size_t n_conditions;
    size_t n_select;
    size_t n_order;
};

/* A cursor over one text (a key or a value). what names it in errors:
 * "failed to parse <what> (<text>)". */
struct qp_cur {
    struct qp_ctx *ctx;
    const char *text;
    size_t len;
    size_t pos;
    const char *what;
};

void qp_cur_init(struct qp_cur *cur, struct qp_ctx *ctx, const char *text, size_t len,
                 const char *what);

/* Fail at byte pos with the PostgREST message for the cursor and details
 * from fmt. Returns -1. */
int qp_error_at(struct qp_cur *cur, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fail at the cursor: `unexpected "x" expecting <expecting>`. Returns -1. */
int qp_unexpected(struct qp_cur *cur, const char *expecting);
/* Fail with a PGRST123 (aggregates are refused). Returns -1. */
int qp_aggregate_error(struct qp_cur *cur);
/* The longest prefix of text[0..len), at most max bytes, that ends on a
 * UTF-8 character boundary (text being valid UTF-8). */
size_t qp_utf8_cut(const char *text, size_t len, size_t max);
/* -1 (and the error) when the parse has used more than SB_Q_MAX_AST_BYTES. */
int qp_budget(struct qp_cur *cur);

static inline bool qp_eof(const struct qp_cur *cur)
{
    return cur->pos >= cur->len;
}
/* The byte at the cursor, or -1 at the end. */
static inline int qp_peek(const struct qp_cur *cur)
{
    return cur->pos < cur->len ? (unsigned char)cur->text[cur->pos] : -1;
}
static inline int qp_peek_at(const struct qp_cur *cur, size_t ahead)
{
    return cur->pos + ahead < cur->len ? (unsigned char)cur->text[cur->pos + ahead] : -1;
}
/* Whether the text at the cursor starts with lit (not consumed). */
bool qp_looking_at(const struct qp_cur *cur, const char *lit);
/* Consume lit if the text at the cursor starts with it. */
bool qp_accept(struct qp_cur *cur, const char *lit);
/* Skip spaces, tabs and line breaks. */
void qp_ws(struct qp_cur *cur);

/* Whether a field name can start at the cursor (a '"' or an identifier
 * character). */
bool qp_at_name(const struct qp_cur *cur);
/* field name: "quoted \" name" | ident ('-' ident)*  where ident is a run of
 * letters, digits, '_', '$' and inner spaces, trimmed. A quoted name keeps
 * its spaces; an empty one is refused. *quoted tells which form (may be
 * NULL). */
int qp_name(struct qp_cur *cur, const char **out, bool *quoted);
/* json path: ('->' | '->>') (index | key)*, appended to path. */
int qp_json_path(struct qp_cur *cur, struct sb_q_path *path);
/* field: ws name json-path ws. */
int qp_field(struct qp_cur *cur, struct sb_q_path *path);
/* identifier (casts, fts configs): letters, digits, '_', '$', inner spaces. */
int qp_ident(struct qp_cur *cur, const char **out);
/* "quoted" with \x escapes, the cursor on the opening quote; the text
 * without quotes in *out (out_len may be NULL). */
int qp_quoted(struct qp_cur *cur, const char **out, size_t *out_len);
/* Whether the cursor is on a '"' that a later '"' closes. */
bool qp_quote_closes(const struct qp_cur *cur);

/* ---- parse_select.c -------------------------------------------------------- */

/* The whole text of the cursor as a select forest. */
int qp_select(struct qp_cur *cur, struct sb_q_select_item ***items, size_t *n_items);

/* ---- parse_filter.c -------------------------------------------------------- */

/* A top-level filter value `[not.]op[...].value` (the whole text). */
int qp_filter_value(struct qp_cur *cur, struct sb_q_filter *filter);
/* A logic param's value `(tree,...)` (the whole text), the group kind and
 * negation coming from the key. */
int qp_logic_value(struct qp_cur *cur, bool is_or, bool negate, struct sb_q_cond **out);
/* Count one condition against SB_Q_MAX_CONDITIONS. */
int qp_count_condition(struct qp_cur *cur);

#endif
