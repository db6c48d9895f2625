/* Checked spec expressions to SQL text (see sqlexpr.h). Every operator is
 * parenthesised, so the spec's precedence never depends on the database's.
 * A compile that fails leaves the output buffer untouched: the DDL generator
 * then simply omits that check (the API still enforces it), which is why a
 * failure is a normal result here and not an error. */
#include "store/sqlexpr.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const struct sb_dialect sb_dialect_sqlite = {
    .kind = SB_DIALECT_SQLITE,
    .name = "sqlite",
    .column_type = sb_type_sqlite,
    /* AUTOINCREMENT: ids of deleted rows are never handed out again, so a
     * stale reference (a client cache, an audit entry) never points at a
     * newer row. */
    .id_column = "INTEGER PRIMARY KEY AUTOINCREMENT",
    /* microseconds, like every timestamp the validator normalises
     * (YYYY-MM-DDTHH:MM:SS.ffffffZ), so that text order is time order */
    .now_sql = "strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')", /* one call: safe in any context */
    .today_sql = "date('now')",
    .true_sql = "1",
    .false_sql = "0",
    .length_fn = "length",
    .table_options = "STRICT",
    .json_as_text = true,
    .decimal_as_text = true,
    .bool_as_int = true,
};

/* text[0..len) between quote characters, each quote inside doubled; the
 * runs between quotes are appended whole (this is on every request's path:
 * identifiers are written into every statement's text). */
static void quoted(struct sb_buf *out, char quote, const char *text, size_t len)
{
    sb_buf_putc(out, quote);
    const char *end = text + len;
    while (text < end) {
        const char *q = memchr(text, quote, (size_t)(end - text));
        size_t run = q ? (size_t)(q - text) + 1 : (size_t)(end - text);
        sb_buf_append(out, text, run);
        if (q)
            sb_buf_putc(out, quote);
        text += run;
    }
    sb_buf_putc(out, quote);
}

void sb_sql_ident(struct sb_buf *out, const char *name)
{
    quoted(out, '"', name, strlen(name));
}

void sb_sql_string(struct sb_buf *out, const char *text, size_t len)
{
    quoted(out, '\'', text, len);
}

struct compiler {
    const struct sb_sqlexpr_ctx *ctx;
    struct sb_buf *out;
    struct sb_buf *why;
};

static int fail(struct compiler *c, const char *reason)
{
    if (c->why && c->why->len == 0)
        sb_buf_puts(c->why, reason);
    return -1;
}

static int compile(struct compiler *c, const struct sb_expr *e);

static void column(struct compiler *c, const struct sb_field *field)
{
    const struct sb_dialect *d = c->ctx->dialect;
    /* dialect: decimals kept as text compare as numbers only through a cast */
    bool cast = d->decimal_as_text && field->type.kind == SB_TYPE_DECIMAL && !field->type.is_array;
    if (cast)
        sb_buf_puts(c->out, "CAST(");
    if (c->ctx->row_alias) {
        sb_sql_ident(c->out, c->ctx->row_alias);
        sb_buf_putc(c->out, '.');
    }
    sb_sql_ident(c->out, field->name);
    if (cast)
        sb_buf_puts(c->out, " AS NUMERIC)");
}

/* A float literal as written, when it is plain number syntax. */
static void float_literal(struct compiler *c, const struct sb_expr *e)
{
    const char *text = e->text;
    bool plain = text && *text;
    for (const char *p = text; plain && *p; p++)
        plain = strchr("0123456789.eE+-", *p) != NULL;
    if (plain)
        sb_buf_puts(c->out, text);
    else
        sb_buf_printf(c->out, "%.17g", e->fval);
}

static int string_literal(struct compiler *c, const char *text, size_t len)
{
    if (memchr(text, '\0', len))
        return fail(c, "a string with a NUL byte");
    sb_sql_string(c->out, text, len);
    return 0;
}

static int ref(struct compiler *c, const struct sb_expr *e)
{
    if (!c->ctx->ref)
        return fail(c, "it uses values that only exist during a request");
    if (c->ctx->ref(c->ctx, e, c->out) != 0)
        return fail(c, "it uses a value with no SQL form here");
    return 0;
}

static int list_items(struct compiler *c, const struct sb_expr *list)
{
    for (size_t i = 0; i < list->n_args; i++) {
        if (i)
            sb_buf_puts(c->out, ", ");
        if (compile(c, list->args[i]) != 0)
            return -1;
    }
    return 0;
}

static int binary(struct compiler *c, const struct sb_expr *e, const char *op)
{
    sb_buf_putc(c->out, '(');
    if (compile(c, e->left) != 0)
        return -1;
    sb_buf_printf(c->out, " %s ", op);
    if (compile(c, e->right) != 0)
        return -1;
    sb_buf_putc(c->out, ')');
    return 0;
}

static int membership(struct compiler *c, const struct sb_expr *e)
{
    const struct sb_dialect *d = c->ctx->dialect;
    bool negated = e->op == SB_OP_NOT_IN;
    const struct sb_expr *r = e->right;
    if (r->kind == SB_EXPR_LIST) {
        if (r->n_args == 0) { /* dialect: PostgreSQL has no empty IN () */
            sb_buf_puts(c->out, negated ? d->true_sql : d->false_sql);
            return 0;
        }
        sb_buf_putc(c->out, '(');
        if (compile(c, e->left) != 0)
            return -1;
        sb_buf_puts(c->out, negated ? " NOT IN (" : " IN (");
        if (list_items(c, r) != 0)
            return -1;
        sb_buf_puts(c->out, "))");
        return 0;
    }
    /* An array value (a field or a bound list): its elements need a table
     * function, which a CHECK constraint cannot contain. */
    if (c->ctx->constraint)
        return fail(c, "membership in an array needs a subquery");
    if (d->kind != SB_DIALECT_SQLITE)
        return fail(c, "membership in an array is not written for this database yet");
    sb_buf_putc(c->out, '(');
    if (compile(c, e->left) != 0)
        return -1;
    sb_buf_puts(c->out, negated ? " NOT IN (SELECT value FROM json_each("
                                : " IN (SELECT value FROM json_each(");
    if (compile(c, r) != 0)
        return -1;
    sb_buf_puts(c->out, ")))");
    return 0;
}

static int call(struct compiler *c, const struct sb_expr *e)
{
    const struct sb_dialect *d = c->ctx->dialect;
    const char *fn = NULL;
    switch (e->func) {
    case SB_FUNC_NOW:
    case SB_FUNC_TODAY:
        if (c->ctx->constraint)
            return fail(c, "now() and today() change over time, so a constraint cannot use them");
        sb_buf_putc(c->out, '(');
        sb_buf_puts(c->out, e->func == SB_FUNC_NOW ? d->now_sql : d->today_sql);
        sb_buf_putc(c->out, ')');
        return 0;
    case SB_FUNC_LOWER: fn = "lower"; break;
    case SB_FUNC_UPPER: fn = "upper"; break;
    case SB_FUNC_ABS: fn = "abs"; break;
    case SB_FUNC_COALESCE: fn = "coalesce"; break;
    case SB_FUNC_LEN:
        if (e->n_args == 1 && e->args[0]->vtype.kind == SB_V_LIST)
            fn = d->json_as_text ? "json_array_length" : "cardinality";
        else
            fn = d->length_fn;
        break;
    case SB_FUNC_NONE: return fail(c, "an unknown function");
    }
    sb_buf_printf(c->out, "%s(", fn);
    if (list_items(c, e) != 0)
        return -1;
    sb_buf_putc(c->out, ')');
    return 0;
}

static bool is_null(const struct sb_expr *e)
{
    return e->kind == SB_EXPR_NULL;
}

static int compile(struct compiler *c, const struct sb_expr *e)
{
    const struct sb_dialect *d = c->ctx->dialect;
    switch (e->kind) {
    case SB_EXPR_INT: sb_buf_printf(c->out, "%" PRId64, e->ival); return 0;
    case SB_EXPR_FLOAT: float_literal(c, e); return 0;
    case SB_EXPR_STRING: return string_literal(c, e->text, e->text_len);
    case SB_EXPR_BOOL: sb_buf_puts(c->out, e->bval ? d->true_sql : d->false_sql); return 0;
    case SB_EXPR_NULL: sb_buf_puts(c->out, "NULL"); return 0;
    case SB_EXPR_ANYONE: sb_buf_puts(c->out, d->true_sql); return 0;
    case SB_EXPR_AUTHENTICATED: return ref(c, e);
    case SB_EXPR_NAME:
        if (e->ref == SB_REF_FIELD && e->field && !c->ctx->fields_via_ref) {
            column(c, e->field);
            return 0;
        }
        return ref(c, e);
    case SB_EXPR_MEMBER: return ref(c, e);
    case SB_EXPR_UNARY:
        sb_buf_puts(c->out, e->op == SB_OP_NOT ? "(NOT " : "(-");
        if (compile(c, e->left) != 0)
            return -1;
        sb_buf_putc(c->out, ')');
        return 0;
    case SB_EXPR_BINARY:
        switch (e->op) {
        case SB_OP_OR: return binary(c, e, "OR");
        case SB_OP_AND: return binary(c, e, "AND");
        case SB_OP_EQ:
        case SB_OP_NE:
            if (is_null(e->left) || is_null(e->right)) {
                const struct sb_expr *other = is_null(e->left) ? e->right : e->left;
                sb_buf_putc(c->out, '(');
                if (compile(c, other) != 0)
                    return -1;
                sb_buf_puts(c->out, e->op == SB_OP_EQ ? " IS NULL)" : " IS NOT NULL)");
                return 0;
            }
            return binary(c, e, e->op == SB_OP_EQ ? "=" : "<>");
        case SB_OP_LT: return binary(c, e, "<");
        case SB_OP_LE: return binary(c, e, "<=");
        case SB_OP_GT: return binary(c, e, ">");
        case SB_OP_GE: return binary(c, e, ">=");
        case SB_OP_IN:
        case SB_OP_NOT_IN: return membership(c, e);
        case SB_OP_ADD: return binary(c, e, "+");
        case SB_OP_SUB: return binary(c, e, "-");
        case SB_OP_MUL: return binary(c, e, "*");
        case SB_OP_DIV: return binary(c, e, "/");
        case SB_OP_MOD: return binary(c, e, "%");
        default: return fail(c, "an unknown operator");
        }
    case SB_EXPR_CALL: return call(c, e);
    case SB_EXPR_LIST:
        if (!d->json_as_text)
            return fail(c, "a list value is not written for this database yet");
        sb_buf_puts(c->out, "json_array(");
        if (list_items(c, e) != 0)
            return -1;
        sb_buf_putc(c->out, ')');
        return 0;
    case SB_EXPR_OBJECT: return fail(c, "an object has no SQL form");
    }
    return fail(c, "an unknown expression");
}

int sb_sqlexpr_compile(const struct sb_sqlexpr_ctx *ctx, const struct sb_expr *e,
                       struct sb_buf *out, struct sb_buf *why)
{
    struct sb_buf text;
    sb_buf_init(&text);
    struct compiler c = {.ctx = ctx, .out = &text, .why = why};
    int rc = compile(&c, e);
    if (rc == 0)
        sb_buf_append(out, text.data ? text.data : "", text.len);
    sb_buf_free(&text);
    return rc;
}

/* ---- defaults ------------------------------------------------------------ */

static void json_string(struct sb_buf *out, const char *text, size_t len)
{
    sb_buf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch == '"' || ch == '\\')
            sb_buf_printf(out, "\\%c", ch);
        else if (ch < 0x20)
            sb_buf_printf(out, "\\u%04x", ch);
        else
            sb_buf_putc(out, (char)ch);
    }
    sb_buf_putc(out, '"');
}

/* A list literal as JSON text (how arrays are stored); -1 when an item is
 * not a literal. */
static int json_list(const struct sb_expr *list, struct sb_buf *json)
{
    sb_buf_putc(json, '[');
    for (size_t i = 0; i < list->n_args; i++) {
        const struct sb_expr *item = list->args[i];
        if (i)
            sb_buf_putc(json, ',');
        bool neg = item->kind == SB_EXPR_UNARY && item->op == SB_OP_NEG;
        const struct sb_expr *lit = neg ? item->left : item;
        if (neg)
            sb_buf_putc(json, '-');
        switch (lit->kind) {
        case SB_EXPR_INT: sb_buf_printf(json, "%" PRId64, lit->ival); break;
        case SB_EXPR_FLOAT: sb_buf_printf(json, "%.17g", lit->fval); break;
        case SB_EXPR_STRING:
            if (neg || memchr(lit->text, '\0', lit->text_len))
                return -1;
            json_string(json, lit->text, lit->text_len);
            break;
        case SB_EXPR_BOOL:
            if (neg)
                return -1;
            sb_buf_puts(json, lit->bval ? "true" : "false");
            break;
        case SB_EXPR_NULL:
            if (neg)
                return -1;
            sb_buf_puts(json, "null");
            break;
        default: return -1;
        }
    }
    sb_buf_putc(json, ']');
    return 0;
}

int sb_sqlexpr_default(const struct sb_dialect *dialect, const struct sb_field *field,
                       struct sb_buf *out, bool *literal)
{
    const struct sb_expr *e = field->default_expr;
    *literal = false;
    if (!e)
        return -1;
    const struct sb_type *type = &field->type;
    struct sb_sqlexpr_ctx ctx = {.dialect = dialect, .constraint = false};
    struct compiler c = {.ctx = &ctx, .out = out};
    bool neg = e->kind == SB_EXPR_UNARY && e->op == SB_OP_NEG &&
               (e->left->kind == SB_EXPR_INT || e->left->kind == SB_EXPR_FLOAT);
    const struct sb_expr *lit = neg ? e->left : e;

    if (type->is_array && e->kind == SB_EXPR_LIST && dialect->json_as_text) {
        struct sb_buf json;
        sb_buf_init(&json);
        int rc = json_list(e, &json);
        if (rc == 0)
            sb_sql_string(out, sb_buf_str(&json), json.len);
        sb_buf_free(&json);
        *literal = rc == 0;
        return rc == 0 ? 0 : 1;
    }
    switch (lit->kind) {
    case SB_EXPR_INT:
    case SB_EXPR_FLOAT: {
        /* dialect: a decimal kept as text gets a text default, so that the
         * stored value has the column's type */
        bool as_text = dialect->decimal_as_text && type->kind == SB_TYPE_DECIMAL;
        struct sb_buf num;
        sb_buf_init(&num);
        struct compiler nc = {.ctx = &ctx, .out = &num};
        if (neg)
            sb_buf_putc(&num, '-');
        if (lit->kind == SB_EXPR_INT)
            sb_buf_printf(&num, "%" PRId64, lit->ival);
        else
            float_literal(&nc, lit);
        if (as_text && !strpbrk(sb_buf_str(&num), "eE")) {
            /* the canonical form the API stores: exactly `scale` fraction
             * digits (0 -> 0.00 for decimal(p,2)) */
            const char *dot = strchr(sb_buf_str(&num), '.');
            int have = dot ? (int)(num.len - (size_t)(dot - num.data) - 1) : 0;
            if (type->scale > 0 && !dot)
                sb_buf_putc(&num, '.');
            for (int k = have; k < type->scale; k++)
                sb_buf_putc(&num, '0');
        }
        if (as_text)
            sb_sql_string(out, sb_buf_str(&num), num.len);
        else
            sb_buf_append(out, sb_buf_str(&num), num.len);
        sb_buf_free(&num);
        *literal = true;
        return 0;
    }
    case SB_EXPR_STRING:
    case SB_EXPR_BOOL:
    case SB_EXPR_NULL:
        if (compile(&c, lit) != 0)
            return 1;
        *literal = true;
        return 0;
    default: break;
    }
    /* now(), today(), or constant arithmetic: an expression the database
     * evaluates per row. Anything naming request values is the API's. */
    struct sb_buf expr;
    sb_buf_init(&expr);
    int rc = sb_sqlexpr_compile(&ctx, e, &expr, NULL);
    if (rc == 0) {
        bool wrapped = expr.len && expr.data[0] == '(';
        if (!wrapped)
            sb_buf_putc(out, '(');
        sb_buf_append(out, sb_buf_str(&expr), expr.len);
        if (!wrapped)
            sb_buf_putc(out, ')');
    }
    sb_buf_free(&expr);
    return rc == 0 ? 0 : 1;
}
