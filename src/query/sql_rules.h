/* Internal to the SQL compiler (sql.c, sql_rules.c): rule expressions as
 * SQL conditions. */
#ifndef SB_QUERY_SQL_RULES_H
#define SB_QUERY_SQL_RULES_H

#include "query/sql.h"

/* Append expr (a rule of the spec) as an SQL condition over the row alias
 * to out, values bound. Returns 0, or -1 with err set (500: the checked
 * model holds a rule that cannot be compiled). */
int sb_sql_rule_expr(const struct sb_sql_ctx *ctx, const struct sb_expr *expr, const char *alias,
                     struct sb_sql *out, struct sb_api_error *err);

/* "(<f's read rule>) AND " when f has a read rule and the caller is bound
 * by rules; nothing otherwise. Returns 0, or -1 with err set. */
int sb_sql_field_read_rule(const struct sb_sql_ctx *ctx, const struct sb_field *f, const char *alias,
                           struct sb_sql *out, struct sb_api_error *err);

#endif
