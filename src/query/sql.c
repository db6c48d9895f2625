/* SQL compiler of the records API, see sql.h. One pass over the query AST:
 * each name is resolved against the collection as it is written out, each
 * operand validated and bound. Statements look like
 *
 *   SELECT json_object('id', t."id", 'price', json(t."price"), ...)
 *   FROM "product" AS t
 *   WHERE (<read rule>) AND (<filters>)
 *   ORDER BY t."price" DESC NULLS FIRST LIMIT ?3 OFFSET ?4
 *
 * Decimals are stored as canonical text and compared through CAST(... AS
 * NUMERIC); booleans are 0/1 and printed as true/false; json and arrays are
 * JSON text and printed through json() so they nest as values. The custom
 * functions sb_like, sb_regexp, sb_json_contains, sb_json_overlaps come
 * from store/sqlfn.c; full-text queries are converted by query/fts.c. */
#include "query/sql.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "guard/validate.h"
#include "query/fts.h"
#include "query/parse.h"
#include "store/ddl.h"
#include "util/json_out.h"

const struct sb_identity sb_identity_anon = {.role = "anon"};

void sb_sql_init(struct sb_sql *sql, struct sb_arena *arena)
{
    memset(sql, 0, sizeof(*sql));
    sb_buf_init(&sql->text);
    sql->arena = arena;
}

void sb_sql_free(struct sb_sql *sql)
{
    sb_buf_free(&sql->text);
    sql->binds = NULL;
    sql->n_binds = sql->cap_binds = 0;
}

void sb_sql_bind(struct sb_sql *sql, const struct sb_value *value)
{
    if (sql->n_binds == sql->cap_binds) {
        size_t cap = sql->cap_binds ? sql->cap_binds * 2 : 16;
        struct sb_value *binds = sb_arena_alloc(sql->arena, cap * sizeof(*binds));
        if (sql->n_binds)
            memcpy(binds, sql->binds, sql->n_binds * sizeof(*binds));
        sql->binds = binds;
        sql->cap_binds = cap;
    }
    sql->binds[sql->n_binds++] = *value;
    sb_buf_printf(&sql->text, "?%zu", sql->n_binds);
}

void sb_sql_bind_int(struct sb_sql *sql, int64_t v)
{
    struct sb_value value = {.kind = SB_VAL_INT, .i = v};
    sb_sql_bind(sql, &value);
}

void sb_sql_bind_text(struct sb_sql *sql, const char *text, size_t len)
{
    struct sb_value value = {.kind = SB_VAL_TEXT, .text = text, .len = len};
    sb_sql_bind(sql, &value);
}

void sb_sql_bind_null(struct sb_sql *sql)
{
    struct sb_value value = {.kind = SB_VAL_NULL};
    sb_sql_bind(sql, &value);
}

static void puts_sql(struct sb_sql *sql, const char *text)
{
    sb_buf_puts(&sql->text, text);
}

static void column(struct sb_sql *sql, const char *alias, const struct sb_field *field)
{
    if (alias) {
        sb_sql_ident(&sql->text, alias);
        sb_buf_putc(&sql->text, '.');
    }
    sb_sql_ident(&sql->text, field->name);
}

static bool is_decimal(const struct sb_field *f)
{
    return f->type.kind == SB_TYPE_DECIMAL && !f->type.is_array;
}

static bool is_json_text(const struct sb_field *f)
{
    return f->type.kind == SB_TYPE_JSON || f->type.is_array;
}

/* A field's value as a comparable SQL expression. */
static void compare_expr(struct sb_sql *sql, const char *alias, const struct sb_field *f)
{
    if (is_decimal(f)) {
        puts_sql(sql, "CAST(");
        column(sql, alias, f);
        puts_sql(sql, " AS NUMERIC)");
    } else {
        column(sql, alias, f);
    }
}

/* A bound operand matching compare_expr. */
static void compare_bind(struct sb_sql *sql, const struct sb_field *f, const struct sb_value *v)
{
    if (is_decimal(f) && v->kind == SB_VAL_TEXT) {
        puts_sql(sql, "CAST(");
        sb_sql_bind(sql, v);
        puts_sql(sql, " AS NUMERIC)");
    } else {
        sb_sql_bind(sql, v);
    }
}

const struct sb_field *sb_sql_visible_field(const struct sb_collection *coll, const char *name,
                                            struct sb_api_error *err)
{
    const struct sb_field *f = sb_collection_field(coll, name);
    if (!f || (f->flags & SB_FIELD_HIDDEN) || f->type.kind == SB_TYPE_PASSWORD) {
        sb_api_error_set(err, 400, "42703", "column %s.%s does not exist", coll->name, name);
        return NULL;
    }
    return f;
}

/* ---- rules ------------------------------------------------------------------ */

struct rule_env {
    struct sb_sql *sql;
    const struct sb_identity *who;
    const char *alias;
};

/* Bind value into env->sql's list, writing its "?N" into out: sqlexpr may
 * compile into a buffer of its own before copying it to the statement. */
static void bind_into(struct sb_sql *sql, struct sb_buf *out, const struct sb_value *value)
{
    size_t mark = sql->text.len;
    sb_sql_bind(sql, value);                 /* appends "?N" to sql->text ... */
    sb_buf_append(out, sql->text.data + mark, sql->text.len - mark);
    if (out != &sql->text) {                 /* ... which goes where sqlexpr writes */
        sql->text.len = mark;
        sql->text.data[mark] = '\0';
    }
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
    switch (e->ref) {
    case SB_REF_AUTH_ID:
        if (who->has_id)
            v = (struct sb_value){.kind = SB_VAL_INT, .i = who->id};
        break;
    case SB_REF_AUTH_ROLE:
        v = (struct sb_value){.kind = SB_VAL_TEXT, .text = who->role, .len = strlen(who->role)};
        break;
    case SB_REF_AUTH_EMAIL:
        if (who->email)
            v = (struct sb_value){.kind = SB_VAL_TEXT, .text = who->email, .len = strlen(who->email)};
        break;
    case SB_REF_NEW_FIELD:
    case SB_REF_OLD_FIELD:
        /* in a statement over stored rows, both sides are the row's columns:
         * the caller arranges for the row to hold the right values */
        if (env->alias) {
            sb_sql_ident(out, env->alias);
            sb_buf_putc(out, '.');
        }
        sb_sql_ident(out, e->field->name);
        return 0;
    default:
        return -1;
    }
    bind_into(env->sql, out, &v);
    return 0;
}

static int compile_rule_expr(const struct sb_sql_ctx *ctx, const struct sb_expr *expr, const char *alias,
                             struct sb_sql *out, struct sb_api_error *err)
{
    struct rule_env env = {.sql = out, .who = ctx->who, .alias = alias};
    struct sb_sqlexpr_ctx sctx = {
        .dialect = ctx->dialect, .row_alias = alias, .constraint = false, .ref = rule_ref, .user = &env};
    struct sb_buf why;
    sb_buf_init(&why);
    size_t mark = out->text.len, binds_mark = out->n_binds;
    int rc = sb_sqlexpr_compile(&sctx, expr, &out->text, &why);
    if (rc != 0) {
        out->text.len = mark;
        out->n_binds = binds_mark;
        sb_api_error_set(err, 500, "XX000", "an access rule could not be compiled: %s", sb_buf_str(&why));
    }
    sb_buf_free(&why);
    return rc;
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
    if (compile_rule_expr(ctx, rule->expr, alias, out, err) != 0)
        return -1;
    puts_sql(out, ")");
    return 0;
}

/* (field read rule) for a field that has one; nothing otherwise */
static int field_read_rule(const struct sb_sql_ctx *ctx, const struct sb_field *f, const char *alias,
                           struct sb_sql *out, struct sb_api_error *err)
{
    if (!f->read_rule || ctx->who->bypass_rules)
        return 0;
    puts_sql(out, "(");
    if (compile_rule_expr(ctx, f->read_rule->expr, alias, out, err) != 0)
        return -1;
    puts_sql(out, ") AND ");
    return 0;
}

/* ---- json paths ------------------------------------------------------------- */

/* Bind path steps as a SQLite JSON path text: $."a"[0]."b". Keys holding a
 * double quote have no SQLite path form: refused. */
static int bind_json_path(struct sb_sql *sql, const struct sb_q_path *path, struct sb_api_error *err)
{
    struct sb_buf p;
    sb_buf_init(&p);
    sb_buf_putc(&p, '$');
    for (size_t i = 0; i < path->n_steps; i++) {
        const struct sb_q_json_step *step = &path->steps[i];
        if (step->key) {
            if (strchr(step->key, '"')) {
                sb_buf_free(&p);
                return sb_api_error_set(err, 400, "PGRST100", "json keys with '\"' are not supported: %.100s",
                                        step->key);
            }
            sb_buf_printf(&p, ".\"%s\"", step->key);
        } else if (step->index >= 0) {
            sb_buf_printf(&p, "[%d]", (int)step->index);
        } else {
            sb_buf_printf(&p, "[#%d]", (int)step->index);
        }
    }
    char *text = sb_arena_strndup(sql->arena, sb_buf_str(&p), p.len);
    sb_sql_bind_text(sql, text, p.len);
    sb_buf_free(&p);
    return 0;
}

/* The field a path starts at, which must be json or an array when the path
 * has steps. */
static const struct sb_field *path_field(const struct sb_collection *coll, const struct sb_q_path *path,
                                         struct sb_api_error *err)
{
    const struct sb_field *f = sb_sql_visible_field(coll, path->column, err);
    if (f && path->n_steps && !is_json_text(f)) {
        sb_api_error_set(err, 400, "42883", "operator does not exist: %s -> unknown", sb_type_keyword(f->type.kind));
        sb_api_error_hint(err, "json paths (->, ->>) apply to json and array fields; '%s' is %s", f->name,
                          sb_type_keyword(f->type.kind));
        return NULL;
    }
    return f;
}

/* The SQL of a path's value: the column, or col -> path (JSON text) / col ->> path. */
static int path_value(struct sb_sql *sql, const char *alias, const struct sb_field *f,
                      const struct sb_q_path *path, struct sb_api_error *err)
{
    if (path->n_steps == 0) {
        compare_expr(sql, alias, f);
        return 0;
    }
    puts_sql(sql, "(");
    column(sql, alias, f);
    puts_sql(sql, path->steps[path->n_steps - 1].as_text ? " ->> " : " -> ");
    if (bind_json_path(sql, path, err) != 0)
        return -1;
    puts_sql(sql, ")");
    return 0;
}

/* ---- select list --------------------------------------------------------------- */

/* A field's value in a row's JSON object. */
static void json_value(struct sb_sql *sql, const char *alias, const struct sb_field *f)
{
    if (f->type.kind == SB_TYPE_BOOL && !f->type.is_array) {
        puts_sql(sql, "json(CASE ");
        column(sql, alias, f);
        puts_sql(sql, " WHEN 1 THEN 'true' WHEN 0 THEN 'false' END)");
    } else if (is_json_text(f) || is_decimal(f)) {
        puts_sql(sql, "json(");
        column(sql, alias, f);
        puts_sql(sql, ")");
    } else {
        column(sql, alias, f);
    }
}

struct cast_name {
    const char *name;
    const char *sql; /* NULL: as json text */
};

static const struct cast_name casts[] = {
    {"text", "TEXT"},       {"varchar", "TEXT"},  {"int", "INTEGER"},   {"integer", "INTEGER"},
    {"int4", "INTEGER"},    {"int8", "INTEGER"},  {"bigint", "INTEGER"}, {"smallint", "INTEGER"},
    {"float", "REAL"},      {"float8", "REAL"},   {"real", "REAL"},     {"double precision", "REAL"},
    {"numeric", "NUMERIC"}, {"decimal", "NUMERIC"}, {"json", NULL},     {"jsonb", NULL},
};

static int select_value(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                        const struct sb_q_select_item *item, const char *alias, struct sb_sql *sql,
                        const struct sb_field **field_out, struct sb_api_error *err)
{
    const struct sb_field *f = path_field(coll, &item->path, err);
    if (!f)
        return -1;
    *field_out = f;
    (void)ctx;
    const struct cast_name *cast = NULL;
    if (item->cast) {
        for (size_t i = 0; i < sizeof(casts) / sizeof(casts[0]); i++)
            if (strcasecmp(casts[i].name, item->cast) == 0)
                cast = &casts[i];
        if (!cast)
            return sb_api_error_set(err, 400, "42704", "type \"%.60s\" does not exist", item->cast);
    }
    if (cast && cast->sql) {
        puts_sql(sql, "CAST(");
        if (item->path.n_steps) {
            if (path_value(sql, alias, f, &item->path, err) != 0)
                return -1;
        } else if (f->type.kind == SB_TYPE_BOOL && !strcmp(cast->sql, "TEXT")) {
            puts_sql(sql, "CASE ");
            column(sql, alias, f);
            puts_sql(sql, " WHEN 1 THEN 'true' WHEN 0 THEN 'false' END");
        } else {
            column(sql, alias, f);
        }
        sb_buf_printf(&sql->text, " AS %s)", cast->sql);
        return 0;
    }
    if (item->path.n_steps) {
        bool as_text = item->path.steps[item->path.n_steps - 1].as_text;
        if (!as_text)
            puts_sql(sql, "json(");
        if (path_value(sql, alias, f, &item->path, err) != 0)
            return -1;
        if (!as_text)
            puts_sql(sql, ")");
        return 0;
    }
    json_value(sql, alias, f);
    return 0;
}

/* The key of a select item: its alias, the last json key, or the column. */
static void bind_key(struct sb_sql *sql, const struct sb_q_select_item *item, const struct sb_field *f)
{
    if (item->alias) {
        sb_sql_bind_text(sql, item->alias, strlen(item->alias));
        return;
    }
    for (size_t i = item->path.n_steps; i > 0; i--) {
        const struct sb_q_json_step *step = &item->path.steps[i - 1];
        if (step->key) {
            sb_sql_bind_text(sql, step->key, strlen(step->key));
            return;
        }
    }
    sb_sql_string(&sql->text, f->name, strlen(f->name));
}

/* Fields whose read rule must hide them in some rows: collected while the
 * object is written, applied around it with json_remove. */
struct hidden_keys {
    const struct sb_field *fields[64];
    const char *keys[64]; /* the key the field appears under */
    size_t n;
};

static int row_object(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                      const struct sb_query *query, const char *alias, struct sb_sql *sql,
                      struct hidden_keys *rules, struct sb_api_error *err)
{
    puts_sql(sql, "json_object(");
    bool first = true;
    for (size_t i = 0; i < query->n_select; i++) {
        const struct sb_q_select_item *item = query->select[i];
        if (item->kind == SB_Q_SEL_STAR) {
            for (size_t k = 0; k < coll->n_fields; k++) {
                const struct sb_field *f = coll->fields[k];
                if ((f->flags & SB_FIELD_HIDDEN) || f->type.kind == SB_TYPE_PASSWORD)
                    continue;
                if (!first)
                    puts_sql(sql, ", ");
                first = false;
                sb_sql_string(&sql->text, f->name, strlen(f->name));
                puts_sql(sql, ", ");
                json_value(sql, alias, f);
                if (f->read_rule && rules->n < 64) {
                    rules->keys[rules->n] = f->name;
                    rules->fields[rules->n++] = f;
                }
            }
            continue;
        }
        if (item->kind == SB_Q_SEL_EMBED)
            return sb_api_error_set(err, 400, "PGRST200",
                                    "Could not find a relationship between '%s' and '%s' in the schema cache",
                                    coll->name, item->relation);
        if (!first)
            puts_sql(sql, ", ");
        first = false;
        const struct sb_field *f = path_field(coll, &item->path, err);
        if (!f)
            return -1;
        bind_key(sql, item, f);
        puts_sql(sql, ", ");
        if (select_value(ctx, coll, item, alias, sql, &f, err) != 0)
            return -1;
        if (f->read_rule && rules->n < 64) {
            rules->keys[rules->n] = item->alias ? item->alias : f->name;
            rules->fields[rules->n++] = f;
        }
    }
    puts_sql(sql, ")");
    return 0;
}

int sb_sql_row_json(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                    const struct sb_query *query, const char *alias, bool nulls_stripped,
                    struct sb_sql *out, struct sb_api_error *err)
{
    /* the object is built in its own buffer, then wrapped: field read rules
     * remove their key from rows the rule does not allow (json_remove with a
     * path that cannot exist when it does), nulls=stripped drops null
     * members (json_patch onto {} removes them, as json_strip_nulls does) */
    struct sb_sql object;
    sb_sql_init(&object, out->arena);
    object.binds = out->binds;
    object.n_binds = out->n_binds;
    object.cap_binds = out->cap_binds;
    struct hidden_keys rules = {.n = 0};
    int rc = row_object(ctx, coll, query, alias, &object, &rules, err);
    if (rc == 0 && ctx->who->bypass_rules)
        rules.n = 0;
    struct sb_sql *sql = out;
    if (rc == 0) {
        if (nulls_stripped)
            puts_sql(sql, "json_patch('{}', ");
        for (size_t i = 0; i < rules.n; i++)
            puts_sql(sql, "json_remove(");
        /* the binds of the object were numbered from out's count: keep them */
        out->binds = object.binds;
        out->cap_binds = object.cap_binds;
        size_t object_binds = object.n_binds;
        sb_buf_append(&sql->text, object.text.data, object.text.len);
        out->n_binds = object_binds;
        for (size_t i = rules.n; i > 0 && rc == 0; i--) {
            const char *key = rules.keys[i - 1];
            if (strchr(key, '"')) {
                rc = sb_api_error_set(err, 400, "PGRST100", "alias %.60s cannot hold '\"'", key);
                break;
            }
            puts_sql(sql, ", CASE WHEN ");
            rc = compile_rule_expr(ctx, rules.fields[i - 1]->read_rule->expr, alias, sql, err);
            puts_sql(sql, " THEN '$.\"  \"' ELSE ");
            const char *path = sb_arena_printf(sql->arena, "$.\"%s\"", key);
            sb_sql_bind_text(sql, path, strlen(path));
            puts_sql(sql, " END)");
        }
        if (nulls_stripped)
            puts_sql(sql, ")");
    }
    sb_sql_free(&object);
    return rc;
}

/* ---- filters ------------------------------------------------------------------ */

static int bind_operand(const struct sb_sql_ctx *ctx, struct sb_sql *sql, const struct sb_field *f,
                        const struct sb_q_path *path, const char *text, size_t len,
                        struct sb_api_error *err)
{
    struct sb_value v;
    if (path->n_steps) {
        /* a json path compares what it extracts: text for ->>, JSON for -> */
        sb_sql_bind_text(sql, text, len);
        return 0;
    }
    if (sb_validate_filter_value(f, text, len, &v, ctx->arena, err) != 0)
        return -1;
    compare_bind(sql, f, &v);
    return 0;
}

static const char *compare_op(enum sb_q_op op)
{
    switch (op) {
    case SB_Q_OP_EQ: return " = ";
    case SB_Q_OP_NEQ: return " <> ";
    case SB_Q_OP_GT: return " > ";
    case SB_Q_OP_GTE: return " >= ";
    case SB_Q_OP_LT: return " < ";
    case SB_Q_OP_LTE: return " <= ";
    default: return NULL;
    }
}

/* One comparison of the path's value with one operand text. */
static int one_comparison(const struct sb_sql_ctx *ctx, struct sb_sql *sql, const char *alias,
                          const struct sb_field *f, const struct sb_q_filter *flt, const char *text,
                          size_t len, struct sb_api_error *err)
{
    enum sb_q_op op = flt->op;
    const char *cmp = compare_op(op);
    if (cmp) {
        if (f->type.is_array && flt->path.n_steps == 0)
            return sb_api_error_set(err, 400, "42883", "operator does not exist: %s[] %s unknown",
                                    sb_type_keyword(f->type.kind), sb_q_op_name(op));
        if (f->type.kind == SB_TYPE_JSON && flt->path.n_steps == 0) {
            if (op != SB_Q_OP_EQ && op != SB_Q_OP_NEQ)
                return sb_api_error_set(err, 400, "42883", "operator does not exist: json %s unknown",
                                        sb_q_op_name(op));
        }
        if (path_value(sql, alias, f, &flt->path, err) != 0)
            return -1;
        puts_sql(sql, cmp);
        return bind_operand(ctx, sql, f, &flt->path, text, len, err);
    }
    if (op == SB_Q_OP_LIKE || op == SB_Q_OP_ILIKE || op == SB_Q_OP_MATCH || op == SB_Q_OP_IMATCH) {
        struct sb_value v;
        if (sb_validate_pattern(f, text, len, &v, ctx->arena, err) != 0)
            return -1;
        puts_sql(sql, op == SB_Q_OP_LIKE ? "sb_like(" : op == SB_Q_OP_ILIKE ? "sb_ilike(" : op == SB_Q_OP_MATCH ? "sb_regexp(" : "sb_iregexp(");
        sb_sql_bind(sql, &v);
        puts_sql(sql, ", ");
        if (flt->path.n_steps) {
            if (path_value(sql, alias, f, &flt->path, err) != 0)
                return -1;
        } else {
            column(sql, alias, f);
        }
        puts_sql(sql, ")");
        return 0;
    }
    return sb_api_error_set(err, 400, "PGRST100", "operator %s takes no list here", sb_q_op_name(op));
}

/* cs / cd / ov on arrays and json */
static int containment(const struct sb_sql_ctx *ctx, struct sb_sql *sql, const char *alias,
                       const struct sb_field *f, const struct sb_q_filter *flt, struct sb_api_error *err)
{
    if (!is_json_text(f) || flt->path.n_steps)
        return sb_api_error_set(err, 400, "42883", "operator does not exist: %s %s unknown",
                                sb_type_keyword(f->type.kind), sb_q_op_name(flt->op));
    struct sb_buf json;
    sb_buf_init(&json);
    if (f->type.is_array) {
        /* {a,b} (PostgreSQL array literal) or [..] JSON: validated per element */
        const char **items = NULL;
        size_t n = 0;
        const char *why = NULL;
        const char *v = flt->value ? flt->value : "";
        if (v[0] == '[') {
            sb_buf_free(&json);
            return sb_api_error_set(err, 400, "22P02", "malformed array literal: \"%.100s\"", v);
        }
        if (sb_q_parse_array_literal(ctx->arena, v, flt->value_len, &items, &n, &why) != 0) {
            sb_buf_free(&json);
            sb_api_error_set(err, 400, "22P02", "malformed array literal: \"%.100s\"", v);
            sb_api_error_details(err, "%s", why);
            return -1;
        }
        sb_buf_putc(&json, '[');
        for (size_t i = 0; i < n; i++) {
            struct sb_value ev;
            if (sb_validate_filter_value(f, items[i], strlen(items[i]), &ev, ctx->arena, err) != 0) {
                sb_buf_free(&json);
                return -1;
            }
            if (i)
                sb_buf_putc(&json, ',');
            if (ev.kind == SB_VAL_INT)
                sb_buf_printf(&json, "%lld", (long long)ev.i);
            else if (ev.kind == SB_VAL_FLOAT)
                sb_buf_printf(&json, "%.17g", ev.f);
            else if (f->type.kind == SB_TYPE_DECIMAL)
                sb_buf_append(&json, ev.text, ev.len);
            else
                sb_json_string(&json, ev.text, ev.len);
        }
        sb_buf_putc(&json, ']');
    } else {
        struct sb_value ev;
        if (sb_validate_filter_value(f, flt->value ? flt->value : "", flt->value_len, &ev, ctx->arena, err) != 0) {
            sb_buf_free(&json);
            return -1;
        }
        sb_buf_append(&json, ev.text, ev.len);
    }
    const char *text = sb_arena_strndup(ctx->arena, sb_buf_str(&json), json.len);
    size_t len = json.len;
    sb_buf_free(&json);
    if (flt->op == SB_Q_OP_OV) {
        if (!f->type.is_array)
            return sb_api_error_set(err, 400, "42883", "operator does not exist: json && unknown");
        puts_sql(sql, "sb_json_overlaps(");
        column(sql, alias, f);
        puts_sql(sql, ", ");
        sb_sql_bind_text(sql, text, len);
        puts_sql(sql, ")");
    } else if (flt->op == SB_Q_OP_CS) {
        puts_sql(sql, "sb_json_contains(");
        column(sql, alias, f);
        puts_sql(sql, ", ");
        sb_sql_bind_text(sql, text, len);
        puts_sql(sql, ")");
    } else {
        puts_sql(sql, "sb_json_contains(");
        sb_sql_bind_text(sql, text, len);
        puts_sql(sql, ", ");
        column(sql, alias, f);
        puts_sql(sql, ")");
    }
    return 0;
}

static int full_text(const struct sb_sql_ctx *ctx, const struct sb_collection *coll, struct sb_sql *sql,
                     const char *alias, const struct sb_field *f, const struct sb_q_filter *flt,
                     struct sb_api_error *err)
{
    (void)ctx;
    if (!(f->flags & SB_FIELD_SEARCHABLE) || flt->path.n_steps)
        return sb_api_error_set(err, 400, "42883", "operator does not exist: %s @@ tsquery",
                                sb_type_keyword(f->type.kind));
    enum sb_fts_kind kind = flt->op == SB_Q_OP_FTS     ? SB_FTS_TSQUERY
                          : flt->op == SB_Q_OP_PLFTS   ? SB_FTS_PLAIN
                          : flt->op == SB_Q_OP_PHFTS   ? SB_FTS_PHRASE
                                                       : SB_FTS_WEBSEARCH;
    struct sb_buf match;
    sb_buf_init(&match);
    const char *why = NULL;
    int rc = sb_fts_query(kind, flt->value ? flt->value : "", flt->value_len, f->name, &match, &why);
    if (rc < 0) {
        sb_buf_free(&match);
        sb_api_error_set(err, 400, "42601", "syntax error in tsquery: \"%.100s\"", flt->value ? flt->value : "");
        if (why)
            sb_api_error_details(err, "%s", why);
        return -1;
    }
    if (rc == 1) { /* no words: matches no row */
        sb_buf_free(&match);
        puts_sql(sql, "0");
        return 0;
    }
    const char *text = sb_arena_strndup(sql->arena, sb_buf_str(&match), match.len);
    size_t len = match.len;
    sb_buf_free(&match);
    /* the FTS table's rowid is the row's id */
    sb_buf_printf(&sql->text, "%s%s%s\"id\" IN (SELECT rowid FROM ", alias ? "\"" : "", alias ? alias : "",
                  alias ? "\"." : "");
    const char *fts = sb_arena_printf(sql->arena, SB_FTS_PREFIX "%s", coll->name);
    sb_sql_ident(&sql->text, fts);
    puts_sql(sql, " WHERE ");
    sb_sql_ident(&sql->text, fts);
    puts_sql(sql, " MATCH ");
    sb_sql_bind_text(sql, text, len);
    puts_sql(sql, ")");
    return 0;
}

static int compile_filter(const struct sb_sql_ctx *ctx, const struct sb_collection *coll, struct sb_sql *sql,
                          const char *alias, const struct sb_q_filter *flt, struct sb_api_error *err)
{
    const struct sb_field *f = path_field(coll, &flt->path, err);
    if (!f)
        return -1;
    if (flt->negate)
        puts_sql(sql, "NOT ");
    puts_sql(sql, "(");
    /* a field with a read rule is only visible, so only filterable, where
     * the rule holds */
    if (field_read_rule(ctx, f, alias, sql, err) != 0)
        return -1;
    int rc = 0;
    switch (flt->op) {
    case SB_Q_OP_IS:
        if (path_value(sql, alias, f, &flt->path, err) != 0)
            return -1;
        switch (flt->is_value) {
        case SB_Q_IS_NULL:
        case SB_Q_IS_UNKNOWN:
            puts_sql(sql, " IS NULL");
            break;
        case SB_Q_IS_NOT_NULL:
            puts_sql(sql, " IS NOT NULL");
            break;
        case SB_Q_IS_TRUE:
        case SB_Q_IS_FALSE:
            if (f->type.kind != SB_TYPE_BOOL || f->type.is_array || flt->path.n_steps)
                return sb_api_error_set(err, 400, "42804", "argument of IS %s must be type boolean, not type %s",
                                        flt->is_value == SB_Q_IS_TRUE ? "TRUE" : "FALSE",
                                        sb_type_keyword(f->type.kind));
            puts_sql(sql, flt->is_value == SB_Q_IS_TRUE ? " IS 1" : " IS 0");
            break;
        }
        break;
    case SB_Q_OP_IN:
        if (flt->n_list == 0) {
            puts_sql(sql, "0");
            break;
        }
        if (f->type.is_array && !flt->path.n_steps)
            return sb_api_error_set(err, 400, "42883", "operator does not exist: %s[] in unknown",
                                    sb_type_keyword(f->type.kind));
        if (path_value(sql, alias, f, &flt->path, err) != 0)
            return -1;
        puts_sql(sql, " IN (");
        for (size_t i = 0; i < flt->n_list; i++) {
            if (i)
                puts_sql(sql, ", ");
            if (bind_operand(ctx, sql, f, &flt->path, flt->list[i], strlen(flt->list[i]), err) != 0)
                return -1;
        }
        puts_sql(sql, ")");
        break;
    case SB_Q_OP_ISDISTINCT:
        if (path_value(sql, alias, f, &flt->path, err) != 0)
            return -1;
        puts_sql(sql, " IS NOT ");
        rc = bind_operand(ctx, sql, f, &flt->path, flt->value ? flt->value : "", flt->value_len, err);
        break;
    case SB_Q_OP_FTS:
    case SB_Q_OP_PLFTS:
    case SB_Q_OP_PHFTS:
    case SB_Q_OP_WFTS:
        rc = full_text(ctx, coll, sql, alias, f, flt, err);
        break;
    case SB_Q_OP_CS:
    case SB_Q_OP_CD:
    case SB_Q_OP_OV:
        rc = containment(ctx, sql, alias, f, flt, err);
        break;
    case SB_Q_OP_SL:
    case SB_Q_OP_SR:
    case SB_Q_OP_NXR:
    case SB_Q_OP_NXL:
    case SB_Q_OP_ADJ:
        return sb_api_error_set(err, 400, "42883", "operator does not exist: %s %s unknown",
                                sb_type_keyword(f->type.kind), sb_q_op_name(flt->op));
    default:
        if (flt->quant != SB_Q_QUANT_NONE) {
            if (flt->n_list == 0) {
                /* = ANY('{}') is false, = ALL('{}') is true */
                puts_sql(sql, flt->quant == SB_Q_QUANT_ANY ? "0" : "1");
                break;
            }
            puts_sql(sql, "(");
            for (size_t i = 0; i < flt->n_list && rc == 0; i++) {
                if (i)
                    puts_sql(sql, flt->quant == SB_Q_QUANT_ANY ? " OR " : " AND ");
                rc = one_comparison(ctx, sql, alias, f, flt, flt->list[i], strlen(flt->list[i]), err);
            }
            puts_sql(sql, ")");
        } else {
            rc = one_comparison(ctx, sql, alias, f, flt, flt->value ? flt->value : "", flt->value_len, err);
        }
        break;
    }
    if (rc != 0)
        return -1;
    puts_sql(sql, ")");
    return 0;
}

static int compile_cond(const struct sb_sql_ctx *ctx, const struct sb_collection *coll, struct sb_sql *sql,
                        const char *alias, const struct sb_q_cond *cond, struct sb_api_error *err)
{
    if (cond->kind == SB_Q_COND_FILTER)
        return compile_filter(ctx, coll, sql, alias, cond->filter, err);
    if (cond->negate)
        puts_sql(sql, "NOT ");
    puts_sql(sql, "(");
    for (size_t i = 0; i < cond->n_children; i++) {
        if (i)
            puts_sql(sql, cond->kind == SB_Q_COND_AND ? " AND " : " OR ");
        if (compile_cond(ctx, coll, sql, alias, cond->children[i], err) != 0)
            return -1;
    }
    puts_sql(sql, ")");
    return 0;
}

int sb_sql_filters(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                   const struct sb_query *query, const char *alias, struct sb_sql *out,
                   struct sb_api_error *err)
{
    if (query->n_embeds)
        return sb_api_error_set(err, 400, "PGRST108",
                                "'%s' is not an embedded resource in this request", query->embeds[0]->embed[0]);
    if (!query->root.where)
        return 0;
    puts_sql(out, " AND ");
    return compile_cond(ctx, coll, out, alias, query->root.where, err);
}

/* ---- statements ------------------------------------------------------------------ */

static int order_by(const struct sb_sql_ctx *ctx, const struct sb_collection *coll, const struct sb_q_level *level,
                    const char *alias, struct sb_sql *sql, struct sb_api_error *err)
{
    (void)ctx;
    if (level->n_order == 0)
        return 0;
    puts_sql(sql, " ORDER BY ");
    for (size_t i = 0; i < level->n_order; i++) {
        const struct sb_q_order_term *term = &level->order[i];
        if (term->relation)
            return sb_api_error_set(err, 400, "PGRST108",
                                    "'%s' is not an embedded resource in this request", term->relation);
        const struct sb_field *f = path_field(coll, &term->path, err);
        if (!f)
            return -1;
        if (i)
            puts_sql(sql, ", ");
        if (f->read_rule && !ctx->who->bypass_rules) {
            /* rows where the field is not readable sort as if it were null */
            puts_sql(sql, "CASE WHEN ");
            struct sb_api_error *e = err;
            if (compile_rule_expr(ctx, f->read_rule->expr, alias, sql, e) != 0)
                return -1;
            puts_sql(sql, " THEN ");
            if (path_value(sql, alias, f, &term->path, err) != 0)
                return -1;
            puts_sql(sql, " END");
        } else if (path_value(sql, alias, f, &term->path, err) != 0) {
            return -1;
        }
        puts_sql(sql, term->desc ? " DESC" : " ASC");
        /* PostgreSQL's defaults: nulls last ascending, first descending */
        bool nulls_first = term->nulls == SB_Q_NULLS_FIRST || (term->nulls == SB_Q_NULLS_DEFAULT && term->desc);
        puts_sql(sql, nulls_first ? " NULLS FIRST" : " NULLS LAST");
    }
    return 0;
}

static void from_where(const struct sb_collection *coll, const char *alias, struct sb_sql *sql)
{
    puts_sql(sql, " FROM ");
    sb_sql_ident(&sql->text, coll->name);
    puts_sql(sql, " AS ");
    sb_sql_ident(&sql->text, alias);
    puts_sql(sql, " WHERE 1");
}

int sb_sql_read(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                const struct sb_query *query, const struct sb_read_opts *opts, struct sb_sql *out,
                struct sb_api_error *err)
{
    const char *alias = "t";
    puts_sql(out, "SELECT ");
    if (sb_sql_row_json(ctx, coll, query, alias, opts->nulls_stripped, out, err) != 0)
        return -1;
    from_where(coll, alias, out);
    if (sb_sql_rule(ctx, coll, SB_RULE_READ, alias, out, err) != 0)
        return -1;
    if (sb_sql_filters(ctx, coll, query, alias, out, err) != 0)
        return -1;
    if (order_by(ctx, coll, &query->root, alias, out, err) != 0)
        return -1;
    if (opts->has_limit || opts->offset) {
        puts_sql(out, " LIMIT ");
        sb_sql_bind_int(out, opts->has_limit ? opts->limit : -1);
        puts_sql(out, " OFFSET ");
        sb_sql_bind_int(out, opts->offset);
    }
    return 0;
}

int sb_sql_count(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                 const struct sb_query *query, struct sb_sql *out, struct sb_api_error *err)
{
    const char *alias = "t";
    puts_sql(out, "SELECT count(*)");
    from_where(coll, alias, out);
    if (sb_sql_rule(ctx, coll, SB_RULE_READ, alias, out, err) != 0)
        return -1;
    return sb_sql_filters(ctx, coll, query, alias, out, err);
}
