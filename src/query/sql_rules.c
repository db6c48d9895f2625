/* Access rules compiled into SQL (see sql.h and sql_rules.h): a
 * collection's rule for an operation, an update's rule over the old or the
 * new row, and field read rules. Rule expressions are compiled by
 * store/sqlexpr.c; this file resolves their references (auth.*, the row's
 * fields, new.*) and binds every value. */
#include "query/sql_rules.h"

#include <stdio.h>
#include <string.h>

#include "store/sqlexpr.h"

bool sb_sql_auth_value(const struct sb_identity *who, enum sb_ref_kind ref, struct sb_value *out)
{
    *out = (struct sb_value){.kind = SB_VAL_NULL};
    switch (ref) {
    case SB_REF_AUTH_ID:
        if (who->has_id)
            *out = (struct sb_value){.kind = SB_VAL_INT, .i = who->id};
        return true;
    case SB_REF_AUTH_ROLE:
        *out = (struct sb_value){.kind = SB_VAL_TEXT, .text = who->role, .len = strlen(who->role)};
        return true;
    case SB_REF_AUTH_EMAIL:
        if (who->email)
            *out = (struct sb_value){.kind = SB_VAL_TEXT, .text = who->email, .len = strlen(who->email)};
        return true;
    default:
        return false;
    }
}

static void puts_sql(struct sb_sql *sql, const char *text)
{
    sb_buf_puts(&sql->text, text);
}

struct rule_env {
    struct sb_sql *sql;
    const struct sb_identity *who;
    const char *alias;
    /* an update's new row: these fields get these values */
    bool update;
    enum sb_rule_row row;
    const struct sb_field *const *fields;
    const struct sb_value *values;
    size_t n;
};

static void bind_into(struct sb_sql *sql, struct sb_buf *out, const struct sb_value *value);

/* The value field has in the update's new row: the value written, or the
 * column when the update does not write it. */
static void new_value(struct rule_env *env, const struct sb_field *f, struct sb_buf *out)
{
    for (size_t i = 0; i < env->n; i++)
        if (env->fields[i] == f) {
            bool decimal = f->type.kind == SB_TYPE_DECIMAL && !f->type.is_array;
            if (decimal)
                sb_buf_puts(out, "CAST(");
            bind_into(env->sql, out, &env->values[i]);
            if (decimal)
                sb_buf_puts(out, " AS NUMERIC)");
            return;
        }
    bool decimal = f->type.kind == SB_TYPE_DECIMAL && !f->type.is_array;
    if (decimal)
        sb_buf_puts(out, "CAST(");
    if (env->alias) {
        sb_sql_ident(out, env->alias);
        sb_buf_putc(out, '.');
    }
    sb_sql_ident(out, f->name);
    if (decimal)
        sb_buf_puts(out, " AS NUMERIC)");
}

/* Bind value into env->sql's list, writing its "?N" into out: sqlexpr may
 * compile into a buffer of its own before copying it to the statement. */
static void bind_into(struct sb_sql *sql, struct sb_buf *out, const struct sb_value *value)
{
    struct sb_sql piece;
    sb_sql_piece(&piece, sql);
    sb_sql_bind(&piece, value); /* "?N" goes where sqlexpr writes */
    sb_buf_append(out, piece.text.data, piece.text.len);
    sb_sql_free(&piece);
}

static int rule_ref(const struct sb_sqlexpr_ctx *ctx, const struct sb_expr *e, struct sb_buf *out)
{
    struct rule_env *env = ctx->user;
    const struct sb_identity *who = env->who;
    struct sb_value v = {.kind = SB_VAL_NULL};
    if (e->kind == SB_EXPR_AUTHENTICATED) {
        sb_buf_puts(out, who->authenticated ? "1" : "0");
        return 0;
    }
    if (sb_sql_auth_value(who, e->ref, &v)) {
        bind_into(env->sql, out, &v);
        return 0;
    }
    switch (e->ref) {
    case SB_REF_FIELD:
    case SB_REF_NEW_FIELD:
    case SB_REF_OLD_FIELD:
        if (env->update && e->ref != SB_REF_OLD_FIELD &&
            (e->ref == SB_REF_NEW_FIELD || env->row == SB_ROW_AFTER)) {
            new_value(env, e->field, out);
            return 0;
        }
        if (e->ref == SB_REF_FIELD && e->field->type.kind == SB_TYPE_DECIMAL && !e->field->type.is_array) {
            sb_buf_puts(out, "CAST(");
            if (env->alias) {
                sb_sql_ident(out, env->alias);
                sb_buf_putc(out, '.');
            }
            sb_sql_ident(out, e->field->name);
            sb_buf_puts(out, " AS NUMERIC)");
            return 0;
        }
        /* a stored row: old and new are both its columns (a created row is
         * checked as stored, defaults applied) */
        if (env->alias) {
            sb_sql_ident(out, env->alias);
            sb_buf_putc(out, '.');
        }
        sb_sql_ident(out, e->field->name);
        return 0;
    default:
        return -1;
    }
}

int sb_sql_rule_expr(const struct sb_sql_ctx *ctx, const struct sb_expr *expr, const char *alias,
                     struct sb_sql *out, struct sb_api_error *err)
{
    struct rule_env env = {.sql = out, .who = ctx->who, .alias = alias};
    struct sb_sqlexpr_ctx sctx = {
        .dialect = ctx->dialect, .row_alias = alias, .constraint = false, .ref = rule_ref, .user = &env};
    struct sb_buf why;
    sb_buf_init(&why);
    size_t mark = out->text.len;
    int rc = sb_sqlexpr_compile(&sctx, expr, &out->text, &why);
    if (rc != 0) {
        out->text.len = mark;
        sb_api_error_set(err, 500, "XX000", "an access rule could not be compiled: %s", sb_buf_str(&why));
    }
    sb_buf_free(&why);
    return rc;
}

static bool uses_new(const struct sb_expr *e)
{
    if (!e)
        return false;
    if (e->ref == SB_REF_NEW_FIELD)
        return true;
    if (uses_new(e->left) || uses_new(e->right))
        return true;
    for (size_t i = 0; i < e->n_args; i++)
        if (uses_new(e->args[i]))
            return true;
    return false;
}

int sb_sql_update_rule(const struct sb_sql_ctx *ctx, const struct sb_collection *coll, enum sb_rule_row row,
                       const char *alias, const struct sb_field *const *fields, const struct sb_value *values,
                       size_t n, struct sb_sql *out, struct sb_api_error *err)
{
    if (ctx->who->bypass_rules)
        return 0;
    const struct sb_rule *rule = coll->update_rule;
    if (!rule) {
        puts_sql(out, " AND 0");
        return 0;
    }
    if (rule->expr->kind == SB_EXPR_ANYONE)
        return 0;
    /* a rule about the change itself (new.) cannot choose the rows: it is
     * decided on the change, for every row the filters select (403) */
    if (row == SB_ROW_BEFORE && uses_new(rule->expr))
        return 0;
    struct rule_env env = {.sql = out, .who = ctx->who, .alias = alias, .update = true, .row = row,
                           .fields = fields, .values = values, .n = n};
    struct sb_sqlexpr_ctx sctx = {.dialect = ctx->dialect, .row_alias = alias, .ref = rule_ref, .user = &env,
                                  .fields_via_ref = true};
    struct sb_buf why;
    sb_buf_init(&why);
    puts_sql(out, " AND (");
    size_t mark = out->text.len;
    if (sb_sqlexpr_compile(&sctx, rule->expr, &out->text, &why) != 0) {
        out->text.len = mark;
        sb_api_error_set(err, 500, "XX000", "an access rule could not be compiled: %s", sb_buf_str(&why));
        sb_buf_free(&why);
        return -1;
    }
    sb_buf_free(&why);
    puts_sql(out, ")");
    return 0;
}

int sb_sql_rule(const struct sb_sql_ctx *ctx, const struct sb_collection *coll, unsigned op,
                const char *alias, struct sb_sql *out, struct sb_api_error *err)
{
    if (ctx->who->bypass_rules)
        return 0;
    const struct sb_rule *rule = op == SB_RULE_READ ? coll->read_rule
                               : op == SB_RULE_CREATE ? coll->create_rule
                               : op == SB_RULE_UPDATE ? coll->update_rule
                                                      : coll->delete_rule;
    if (!rule) {
        puts_sql(out, " AND 0");
        return 0;
    }
    if (rule->expr->kind == SB_EXPR_ANYONE)
        return 0;
    puts_sql(out, " AND (");
    if (sb_sql_rule_expr(ctx, rule->expr, alias, out, err) != 0)
        return -1;
    puts_sql(out, ")");
    return 0;
}

/* (field read rule) for a field that has one; nothing otherwise */
int sb_sql_field_read_rule(const struct sb_sql_ctx *ctx, const struct sb_field *f, const char *alias,
                           struct sb_sql *out, struct sb_api_error *err)
{
    if (!f->read_rule || ctx->who->bypass_rules)
        return 0;
    puts_sql(out, "(");
    if (sb_sql_rule_expr(ctx, f->read_rule->expr, alias, out, err) != 0)
        return -1;
    puts_sql(out, ") AND ");
    return 0;
}

