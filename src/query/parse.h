/* The PostgREST query-string parser: decoded pairs (src/query/qs.h) in, a
 * query AST (src/query/ast.h) out. It reads syntax only; names are checked
 * against the model, and values typed, by the binder that runs next.
 *
 * Which key is what (as PostgREST):
 *   select, columns, on_conflict          exactly these keys
 *   [path.]order|limit|offset             the level of `path` (top when none)
 *   [path.][not.]and|or                   a logic tree ANDed into that level
 *   anything else                         a filter `[path.]column[->json]`
 * where path is embed names separated by '.', each optionally
 * "double-quoted". Bare keys (no '=') are ignored, as PostgREST does.
 *
 * Errors are 400 PGRST100 in PostgREST's words: the message names what
 * failed and where (`"failed to parse filter (gtx.5)" (line 1, column 1)`)
 * and details say what was unexpected and what was expected. Aggregates
 * (`count()`, `col.sum()`) are recognised and refused with PGRST123, as
 * PostgREST does while they are disabled. */
#ifndef SB_QUERY_PARSE_H
#define SB_QUERY_PARSE_H

#include <stddef.h>

#include "api/error.h"
#include "query/ast.h"
#include "query/qs.h"
#include "util/arena.h"
#include "util/buf.h"

/* Parse pairs[0..n_pairs) (borrowed) into *out, allocating in arena.
 * Returns 0, or -1 with err filled (out is then partly filled garbage:
 * drop the arena). */
int sb_query_parse(struct sb_arena *arena, const struct sb_qs_pair *pairs, size_t n_pairs,
                   struct sb_query *out, struct sb_api_error *err);

/* Parse one select= value alone (text[0..len), borrowed), for callers that
 * have it outside a query string. Empty text gives zero items. */
int sb_query_parse_select(struct sb_arena *arena, const char *text, size_t len,
                          struct sb_q_select_item ***items, size_t *n_items,
                          struct sb_api_error *err);

/* Parse a PostgreSQL array literal `{a,"b,c",\"d}` (as sent with cs/cd/ov
 * on arrays and with (any)/(all)) into its elements (arena-owned, quotes and
 * backslash escapes removed, unquoted elements trimmed). One dimension
 * only; an unquoted NULL element is refused (there is no way to say it in
 * the result). At most SB_Q_MAX_LIST_VALUES elements. Returns 0, or -1 with
 * a one-line reason in *why (static text). */
int sb_q_parse_array_literal(struct sb_arena *arena, const char *text, size_t len,
                             const char ***items, size_t *n_items, const char **why);

/* The level of query whose embed path is names[0..n) (n == 0: the root),
 * or NULL when no parameter named it. Borrowed from query. */
const struct sb_q_level *sb_query_level(const struct sb_query *query, const char *const *names,
                                        size_t n);

/* A compact text form of the AST for tests and debugging, close to the
 * query string: `select=id,a:data->x::int&where=and(id.gt.'1')&order=id.desc`
 * with values in single quotes and embed levels as `rel.where=...`. */
void sb_query_dump(const struct sb_query *query, struct sb_buf *out);

#endif
