/* Actions at /rest/v1/rpc/<name> (see actions.h and docs/spec.md §12).
 *
 * A call goes through four stages. The arguments (a JSON object body, or
 * the query string of a GET) are validated parameter by parameter with the
 * same conversions as request bodies (guard/values.h); any failure is a
 * 400 with the list of failing parameters and nothing runs. The `allow`
 * rule is then judged for the caller (it sees only arguments and auth.*, so
 * a writing action has it judged on the worker's reader before it queues).
 * Then, in one transaction, each step is compiled to SQL (store/sqlexpr.c,
 * with the callback below turning parameters, bound rows and auth.* into
 * bound values) and run in order. A
 * step that fails makes the whole unit roll back and the call answers with
 * that step's status and message in PostgREST's error shape. Finally the
 * `return` value becomes the JSON body (204 without one).
 *
 * Writing actions run as one unit of the single writer (store/writer.h), so
 * they are serialised with every other write and see their own earlier
 * steps; the request is deferred until the commit is durable. Read-only
 * actions run on the worker's reader connection inside BEGIN ... COMMIT.
 *
 * The collections' rules are not applied inside actions (the spec decides
 * so: `allow`, `require` and `where` are the gate); the database's
 * constraints (types, ranges, checks, unique, references) still are, and
 * their failures are mapped to PostgREST's errors as for the records API.
 *
 * Arithmetic follows docs/spec.md §11.6 rather than SQLite: each `+ - * /
 * %` goes through the function sb_action_arith (registered here on the
 * connections actions use), which computes in 64-bit integers when the
 * operator's type is int (overflow and division by zero fail the statement:
 * 400) and in doubles for decimals and floats (so 3.00 / 2 is 1.5).
 *
 * now() and today() are taken once per call, when it starts, and bound: every
 * use within the call, and the updated_at of its updates, see the same time.
 *
 * An action whose result is the rows of a `list` step takes the query
 * string's select= (embeds included, under the caller's read rules),
 * filters, order=, limit and offset for those rows (in id order when no
 * order= is given, and by id among equals). For any other action,
 * query-string keys that are not parameters are unknown arguments.
 *
 * Not done yet:
 *   - decimal arithmetic runs in the database's double precision (exact to
 *     15 significant digits) and is rounded to the target's scale;
 *   - a step cannot write a password field (it would have to be hashed). */
#include "api/actions.h"
#include "api/dberror.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "guard/values.h"
#include "query/parse.h"
#include "query/qs.h"
#include "query/sql.h"
#include "store/stmt.h"
#include "util/json_out.h"

#define UNIT_FAILED 1     /* the unit's error is in call->err */
#define MAX_DECIMAL_SCALE 15

/* The row a `let` step bound: its stored values (one per field of the
 * collection, in field order) and its JSON object; or, for `list`, the JSON
 * array of the rows. */
struct binding {
    bool set;
    bool many;               /* a list: json is an array, no values */
    struct sb_value *values; /* NULL when no row matched */
    const char *json;        /* "null" when no row matched */
    size_t json_len;
};

/* One call, from the worker that parsed it, through the thread that runs
 * its steps, to the answer. Lives in the request's arena. */
struct call {
    struct sb_app *app;
    const struct sb_action *action;
    struct sb_http_request *req;
    const struct sb_identity *who;
    struct sb_identity trusted; /* who, with collection rules bypassed */
    struct sb_sql_ctx ctx;      /* row JSON of the collections, for trusted */
    struct sb_query star;       /* select=* */
    struct sb_sql_ctx caller;   /* for select= and filters: embeds obey the rules */
    struct sb_qs_pair *query_pairs; /* the query string that is not arguments */
    size_t n_query_pairs;
    bool has_query;             /* select=, filters, limit applied to the rows ... */
    struct sb_query query;
    size_t rows_step;           /* ... of this `list` step, which is returned */
    bool allowed;               /* the allow rule was already judged true */
    struct sb_value *args;      /* per parameter */
    bool *given;                /* per parameter: false takes the default */
    struct binding *bindings;   /* per step */
    struct sb_api_error err;
    char now[128];              /* the call's now(): YYYY-MM-DDTHH:MM:SS.ffffffZ */
    char today[48];             /* its date: YYYY-MM-DD */
    struct sb_buf result;       /* the JSON of `return` */
    bool has_result;
    struct sb_http_deferred *deferred;
    int64_t queued_us; /* when the unit was queued, for the metrics */
    struct sb_write_unit unit;
};

/* ---- arithmetic ------------------------------------------------------------------ */

#define ARITH_FN    "sb_action_arith"

/* sb_action_arith(op, integral, a, b): a op b for an enum sb_op of + - * /
 * %; integral: in 64-bit integers when both operands are integers. */
static void arith_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[2]) == SQLITE_NULL || sqlite3_value_type(argv[3]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    enum sb_op op = (enum sb_op)sqlite3_value_int(argv[0]);
    if (sqlite3_value_int(argv[1]) && sqlite3_value_type(argv[2]) == SQLITE_INTEGER &&
        sqlite3_value_type(argv[3]) == SQLITE_INTEGER) {
        int64_t a = sqlite3_value_int64(argv[2]), b = sqlite3_value_int64(argv[3]), r = 0;
        bool overflow = false;
        switch (op) {
        case SB_OP_ADD: overflow = __builtin_add_overflow(a, b, &r); break;
        case SB_OP_SUB: overflow = __builtin_sub_overflow(a, b, &r); break;
        case SB_OP_MUL: overflow = __builtin_mul_overflow(a, b, &r); break;
        case SB_OP_DIV:
        case SB_OP_MOD:
            if (b == 0) {
                sqlite3_result_error(ctx, SB_ARITH_ZERO, -1);
                return;
            }
            overflow = op == SB_OP_DIV && a == INT64_MIN && b == -1;
            r = overflow ? 0 : b == -1 ? (op == SB_OP_DIV ? -a : 0) : op == SB_OP_DIV ? a / b : a % b;
            break;
        default: overflow = true; break;
        }
        if (overflow)
            sqlite3_result_error(ctx, SB_ARITH_RANGE, -1);
        else
            sqlite3_result_int64(ctx, r);
        return;
    }
    double a = sqlite3_value_double(argv[2]), b = sqlite3_value_double(argv[3]), r;
    switch (op) {
    case SB_OP_ADD: r = a + b; break;
    case SB_OP_SUB: r = a - b; break;
    case SB_OP_MUL: r = a * b; break;
    case SB_OP_DIV:
    case SB_OP_MOD:
        if (b == 0) {
            sqlite3_result_error(ctx, SB_ARITH_ZERO, -1);
            return;
        }
        r = op == SB_OP_DIV ? a / b : fmod(a, b);
        break;
    default: r = NAN; break;
    }
    if (!isfinite(r))
        sqlite3_result_error(ctx, SB_ARITH_RANGE, -1);
    else
        sqlite3_result_double(ctx, r);
}

/* The connection this thread last registered the function on: a thread
 * uses one connection (the writer's, or its own reader). */
static _Thread_local sqlite3 *arith_db;

static int register_arith(sqlite3 *db)
{
    if (arith_db == db)
        return SQLITE_OK;
    int rc = sqlite3_create_function_v2(db, ARITH_FN, 4, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                        NULL, arith_fn, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        arith_db = db;
    return rc;
}

/* Mark arithmetic nodes and calls of now() and today() rewritten into
 * names for the ref callback. */
static const char arith_mark[] = "+-*/%";
static const char clock_mark[] = "now";

static bool is_arith(const struct sb_expr *e)
{
    return e->kind == SB_EXPR_BINARY && e->op >= SB_OP_ADD && e->op <= SB_OP_MOD;
}

static bool is_clock(const struct sb_expr *e)
{
    return e->kind == SB_EXPR_CALL && (e->func == SB_FUNC_NOW || e->func == SB_FUNC_TODAY);
}

/* e with each arithmetic node turned into a name that action_ref compiles
 * as a call of sb_action_arith, and each now() or today() into a name that
 * it binds to the call's time (sqlexpr.c hands names to the callback).
 * Unchanged subtrees are shared; copies go to arena. */
static const struct sb_expr *checked_arith(struct sb_arena *arena, const struct sb_expr *e)
{
    if (!e)
        return NULL;
    const struct sb_expr *left = checked_arith(arena, e->left), *right = checked_arith(arena, e->right);
    bool changed = left != e->left || right != e->right || is_arith(e) || is_clock(e);
    struct sb_expr **args = e->args;
    if (e->n_args) {
        args = sb_arena_alloc(arena, e->n_args * sizeof(*args));
        for (size_t i = 0; i < e->n_args; i++) {
            args[i] = (struct sb_expr *)checked_arith(arena, e->args[i]);
            changed |= args[i] != e->args[i];
        }
    }
    if (!changed)
        return e;
    struct sb_expr *copy = sb_arena_alloc(arena, sizeof(*copy));
    *copy = *e;
    copy->left = (struct sb_expr *)left;
    copy->right = (struct sb_expr *)right;
    copy->args = args;
    if (is_arith(e)) {
        copy->kind = SB_EXPR_NAME;
        copy->ref = SB_REF_NONE;
        copy->name = arith_mark;
        copy->field = NULL;
    } else if (is_clock(e)) {
        copy->kind = SB_EXPR_NAME;
        copy->ref = SB_REF_NONE;
        copy->name = clock_mark;
        copy->n_args = 0;
    }
    return copy;
}

/* ---- running statements ------------------------------------------------------------ */

typedef int (*row_fn)(sqlite3_stmt *stmt, void *arg);

/* Run sql on db, calling on_row for each result row. Returns 0, or -1 with
 * call->err set. */
static int run(struct call *call, sqlite3 *db, const struct sb_sql *sql, const struct sb_collection *coll,
               bool deleting, row_fn on_row, void *arg)
{
    int rc = register_arith(db);
    if (rc != SQLITE_OK) {
        sb_api_error_set(&call->err, 500, "XX000", "could not prepare a statement of action %s", call->action->name);
        sb_api_error_details(&call->err, "%s", sqlite3_errmsg(db));
        return -1;
    }
    rc = sb_api_run(db, sql, coll ? coll->name : NULL, deleting, on_row, arg, call->action->name, &call->err);
    return rc == SQLITE_OK ? 0 : -1;
}

/* ---- expressions ------------------------------------------------------------------ */

struct expr_env {
    struct call *call;
    struct sb_sql *sql; /* the statement whose values the binds join */
};

static bool is_decimal(const struct sb_type *type)
{
    return type->kind == SB_TYPE_DECIMAL && !type->is_array;
}

/* Bind value into the statement, writing its "?N" into out: sqlexpr
 * compiles into a buffer of its own before copying it over. */
static void bind_into(struct sb_sql *sql, struct sb_buf *out, const struct sb_value *value, bool decimal)
{
    struct sb_sql piece;
    sb_sql_piece(&piece, sql);
    sb_sql_bind(&piece, value);
    if (decimal) /* stored as canonical text: arithmetic and order need a number */
        sb_buf_puts(out, "CAST(");
    sb_buf_append(out, piece.text.data, piece.text.len);
    if (decimal)
        sb_buf_puts(out, " AS NUMERIC)");
    sb_sql_free(&piece);
}

/* Names that are not columns of the step's row: parameters (a missing one
 * is its default, compiled in place), fields of bound rows and auth.*. */
static int action_ref(const struct sb_sqlexpr_ctx *sctx, const struct sb_expr *e, struct sb_buf *out)
{
    struct expr_env *env = sctx->user;
    struct call *call = env->call;
    const struct sb_identity *who = call->who;
    struct sb_value v = {.kind = SB_VAL_NULL};
    bool decimal = false;
    if (e->kind == SB_EXPR_AUTHENTICATED) {
        sb_buf_puts(out, who->authenticated ? "1" : "0");
        return 0;
    }
    if (e->kind == SB_EXPR_NAME && e->name == clock_mark) {
        const char *text = e->func == SB_FUNC_NOW ? call->now : call->today;
        v = (struct sb_value){.kind = SB_VAL_TEXT, .text = text, .len = strlen(text)};
        bind_into(env->sql, out, &v, false);
        return 0;
    }
    if (e->kind == SB_EXPR_NAME && e->name == arith_mark) {
        sb_buf_printf(out, ARITH_FN "(%d, %d, ", (int)e->op, e->vtype.kind == SB_V_INT);
        if (sb_sqlexpr_compile(sctx, e->left, out, NULL) != 0)
            return -1;
        sb_buf_puts(out, ", ");
        if (sb_sqlexpr_compile(sctx, e->right, out, NULL) != 0)
            return -1;
        sb_buf_putc(out, ')');
        return 0;
    }
    if (sb_sql_auth_value(who, e->ref, &v)) {
        bind_into(env->sql, out, &v, false);
        return 0;
    }
    switch (e->ref) {
    case SB_REF_PARAM: {
        size_t i = (size_t)(e->param - call->action->params);
        if (!call->given[i]) {
            if (!e->param->default_expr)
                return -1;
            struct sb_buf sub;
            sb_buf_init(&sub);
            int rc = sb_sqlexpr_compile(sctx, e->param->default_expr, &sub, NULL);
            if (rc == 0) {
                sb_buf_putc(out, '(');
                sb_buf_append(out, sub.data ? sub.data : "", sub.len);
                sb_buf_putc(out, ')');
            }
            sb_buf_free(&sub);
            return rc;
        }
        v = call->args[i];
        decimal = is_decimal(&e->param->type);
        break;
    }
    case SB_REF_BINDING_FIELD: {
        const struct binding *b = &call->bindings[e->step - call->action->steps];
        if (!b->set || b->many || !e->field)
            return -1;
        if (b->values)
            v = b->values[e->field->index];
        decimal = is_decimal(&e->field->type);
        break;
    }
    default:
        return -1;
    }
    bind_into(env->sql, out, &v, decimal && v.kind == SB_VAL_TEXT);
    return 0;
}

/* Append the SQL of e to sql, columns qualified by alias (NULL: none). */
static int compile(struct call *call, const struct sb_expr *e, const char *alias, struct sb_sql *sql)
{
    struct expr_env env = {.call = call, .sql = sql};
    struct sb_sqlexpr_ctx sctx = {.dialect = call->app->dialect, .row_alias = alias, .ref = action_ref, .user = &env};
    struct sb_buf why;
    sb_buf_init(&why);
    int rc = sb_sqlexpr_compile(&sctx, checked_arith(call->req->arena, e), &sql->text, &why);
    if (rc != 0)
        sb_api_error_set(&call->err, 500, "XX000", "an expression of action %s could not be compiled: %s",
                         call->action->name, sb_buf_str(&why));
    sb_buf_free(&why);
    return rc;
}

/* Fraction digits of a decimal-valued expression: those of its operands,
 * added up by `*`, the larger for the other operators. */
static int decimal_scale(const struct sb_expr *e)
{
    int l, r, scale = 0;
    switch (e->kind) {
    case SB_EXPR_FLOAT: {
        const char *dot = e->text ? strchr(e->text, '.') : NULL;
        if (dot)
            scale = (int)strspn(dot + 1, "0123456789");
        break;
    }
    case SB_EXPR_NAME:
    case SB_EXPR_MEMBER:
        if (e->ref == SB_REF_PARAM && e->param)
            scale = is_decimal(&e->param->type) ? e->param->type.scale : 0;
        else if (e->field)
            scale = is_decimal(&e->field->type) ? e->field->type.scale : 0;
        break;
    case SB_EXPR_UNARY: scale = decimal_scale(e->left); break;
    case SB_EXPR_BINARY:
        l = decimal_scale(e->left);
        r = decimal_scale(e->right);
        scale = e->op == SB_OP_MUL ? l + r : l > r ? l : r;
        if (e->op == SB_OP_DIV && scale < 6)
            scale = 6;
        break;
    case SB_EXPR_CALL:
        for (size_t i = 0; i < e->n_args; i++) {
            int s = decimal_scale(e->args[i]);
            scale = s > scale ? s : scale;
        }
        break;
    default: break;
    }
    return scale > MAX_DECIMAL_SCALE ? MAX_DECIMAL_SCALE : scale;
}

/* e as the canonical decimal text with scale fraction digits (NULL stays
 * NULL). Decimal arithmetic runs in the database's double precision. */
static int compile_decimal(struct call *call, const struct sb_expr *e, int scale, const char *alias,
                           struct sb_sql *sql)
{
    sb_buf_puts(&sql->text, "(CASE WHEN (");
    if (compile(call, e, alias, sql) != 0)
        return -1;
    sb_buf_printf(&sql->text, ") IS NULL THEN NULL ELSE printf('%%.%df', ", scale);
    if (compile(call, e, alias, sql) != 0)
        return -1;
    sb_buf_puts(&sql->text, ") END)");
    return 0;
}

/* e as the value stored in field f. */
static int compile_stored(struct call *call, const struct sb_field *f, const struct sb_expr *e, const char *alias,
                          struct sb_sql *sql)
{
    if (is_decimal(&f->type))
        return compile_decimal(call, e, f->type.scale, alias, sql);
    return compile(call, e, alias, sql);
}

/* ---- rows --------------------------------------------------------------------------- */

/* ", <row json>, col1, col2, ..." : what a step reads back of each row. */
static int row_columns(struct call *call, const struct sb_collection *coll, struct sb_sql *sql)
{
    sb_buf_puts(&sql->text, " ");
    if (sb_sql_row_json(&call->ctx, coll, &call->star, coll->name, false, sql, &call->err) != 0)
        return -1;
    for (size_t i = 0; i < coll->n_fields; i++) {
        sb_buf_puts(&sql->text, ", ");
        sb_sql_ident(&sql->text, coll->name);
        sb_buf_putc(&sql->text, '.');
        sb_sql_ident(&sql->text, coll->fields[i]->name);
    }
    return 0;
}

struct fetch {
    struct call *call;
    const struct sb_collection *coll;
    size_t n;                /* rows seen */
    struct sb_value *values; /* of the first row */
    struct sb_buf json;      /* each row's JSON, joined by ',' */
};

static int fetch_row(sqlite3_stmt *stmt, void *arg)
{
    struct fetch *f = arg;
    struct sb_arena *arena = f->call->req->arena;
    if (f->n == 0 && sqlite3_column_count(stmt) > 1) {
        size_t n = f->coll->n_fields;
        f->values = sb_arena_alloc(arena, n * sizeof(*f->values));
        for (size_t i = 0; i < n; i++) {
            int col = (int)i + 1;
            struct sb_value *v = &f->values[i];
            memset(v, 0, sizeof(*v));
            switch (sqlite3_column_type(stmt, col)) {
            case SQLITE_INTEGER:
                v->kind = SB_VAL_INT;
                v->i = sqlite3_column_int64(stmt, col);
                break;
            case SQLITE_FLOAT:
                v->kind = SB_VAL_FLOAT;
                v->f = sqlite3_column_double(stmt, col);
                break;
            case SQLITE_NULL: v->kind = SB_VAL_NULL; break;
            default: {
                const char *text = (const char *)sqlite3_column_text(stmt, col);
                v->kind = SB_VAL_TEXT;
                v->len = (size_t)sqlite3_column_bytes(stmt, col);
                v->text = sb_arena_strndup(arena, text ? text : "", v->len);
                break;
            }
            }
        }
    }
    if (f->n)
        sb_buf_putc(&f->json, ',');
    const char *text = (const char *)sqlite3_column_text(stmt, 0);
    if (text)
        sb_buf_append(&f->json, text, (size_t)sqlite3_column_bytes(stmt, 0));
    else
        sb_buf_puts(&f->json, "null");
    f->n++;
    return f->json.too_big ? -1 : 0;
}

static int fetch_int(sqlite3_stmt *stmt, void *arg)
{
    int *truth = arg;
    *truth = sqlite3_column_type(stmt, 0) != SQLITE_NULL && sqlite3_column_int64(stmt, 0) != 0;
    return 0;
}

/* The step failed: its `else`, or the fallback status and message. */
static int fail_step(struct call *call, const struct sb_step *s, int status, const char *code, const char *message)
{
    if (s->has_else)
        return sb_api_error_set(&call->err, s->status, "P0001", "%s", s->message);
    return sb_api_error_set(&call->err, status, code, "%s", message);
}

/* Is the condition e true? (null and false are not) */
static int truth(struct call *call, sqlite3 *db, const struct sb_expr *e, int *out)
{
    struct sb_sql sql;
    sb_sql_init(&sql, call->req->arena);
    sb_buf_puts(&sql.text, "SELECT (");
    int rc = compile(call, e, NULL, &sql);
    sb_buf_puts(&sql.text, ")");
    *out = 0;
    if (rc == 0)
        rc = run(call, db, &sql, NULL, false, fetch_int, out);
    sb_sql_free(&sql);
    return rc;
}

/* ---- the return value --------------------------------------------------------------- */

struct scalar {
    const struct sb_expr *e;
    struct sb_buf *out;
};

static int scalar_row(sqlite3_stmt *stmt, void *arg)
{
    struct scalar *s = arg;
    struct sb_buf *out = s->out;
    int type = sqlite3_column_type(stmt, 0);
    if (type == SQLITE_NULL) {
        sb_buf_puts(out, "null");
        return 0;
    }
    const char *text = (const char *)sqlite3_column_text(stmt, 0);
    size_t len = (size_t)sqlite3_column_bytes(stmt, 0);
    switch (s->e->vtype.kind) {
    case SB_V_BOOL: sb_buf_puts(out, sqlite3_column_int64(stmt, 0) ? "true" : "false"); break;
    case SB_V_INT:
    case SB_V_ID:
    case SB_V_FLOAT:
        if (type == SQLITE_INTEGER)
            sb_json_int(out, sqlite3_column_int64(stmt, 0));
        else
            sb_json_double(out, sqlite3_column_double(stmt, 0));
        break;
    case SB_V_DECIMAL: /* canonical decimal text: a JSON number as it is */
    case SB_V_JSON:
    case SB_V_LIST: sb_buf_append(out, text ? text : "null", text ? len : 4); break;
    default: sb_json_string(out, text ? text : "", text ? len : 0); break;
    }
    return 0;
}

/* Append the JSON of a returned value: an object of values, a bound row or
 * rows, or a scalar computed by the database. */
static int value_json(struct call *call, sqlite3 *db, const struct sb_expr *e, struct sb_buf *out)
{
    if (e->kind == SB_EXPR_OBJECT) {
        sb_buf_putc(out, '{');
        for (size_t i = 0; i < e->n_args; i++) {
            if (i)
                sb_buf_putc(out, ',');
            sb_json_key(out, e->keys[i]);
            if (value_json(call, db, e->args[i], out) != 0)
                return -1;
        }
        sb_buf_putc(out, '}');
        return 0;
    }
    if (e->ref == SB_REF_BINDING && e->step) {
        const struct binding *b = &call->bindings[e->step - call->action->steps];
        if (!b->set)
            sb_buf_puts(out, "null");
        else
            sb_buf_append(out, b->json, b->json_len);
        return 0;
    }
    struct sb_sql sql;
    sb_sql_init(&sql, call->req->arena);
    sb_buf_puts(&sql.text, "SELECT ");
    int rc = e->vtype.kind == SB_V_DECIMAL ? compile_decimal(call, e, decimal_scale(e), NULL, &sql)
                                           : compile(call, e, NULL, &sql);
    struct scalar s = {.e = e, .out = out};
    if (rc == 0)
        rc = run(call, db, &sql, NULL, false, scalar_row, &s);
    sb_sql_free(&sql);
    return rc;
}

/* ---- steps ---------------------------------------------------------------------------- */

/* The value of a default that only the request knows: auth.* of the caller. */
static void bind_auth_default(struct call *call, const struct sb_expr *d, struct sb_sql *sql)
{
    const struct sb_identity *who = call->who;
    if (d->ref == SB_REF_AUTH_ID && who->has_id)
        sb_sql_bind_int(sql, who->id);
    else if (d->ref == SB_REF_AUTH_ROLE)
        sb_sql_bind_text(sql, who->role, strlen(who->role));
    else if (d->ref == SB_REF_AUTH_EMAIL && who->email)
        sb_sql_bind_text(sql, who->email, strlen(who->email));
    else
        sb_sql_bind_null(sql);
}

static const struct sb_expr *assigned(const struct sb_step *s, const struct sb_field *f)
{
    for (size_t i = 0; i < s->n_assigns; i++)
        if (s->assigns[i].field == f)
            return s->assigns[i].value;
    return NULL;
}

/* INSERT INTO coll (...) VALUES (...): assigned fields, and auth.* defaults
 * of the others (other defaults are the columns'). */
static int build_create(struct call *call, const struct sb_step *s, struct sb_sql *sql)
{
    const struct sb_collection *coll = s->coll;
    sb_buf_puts(&sql->text, "INSERT INTO ");
    sb_sql_ident(&sql->text, coll->name);
    struct sb_sql values;
    sb_sql_piece(&values, sql);
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; i < coll->n_fields && rc == 0; i++) {
        const struct sb_field *f = coll->fields[i];
        const struct sb_expr *value = assigned(s, f);
        bool auth_default = !value && f->default_expr && f->default_expr->kind == SB_EXPR_MEMBER;
        if (!value && !auth_default)
            continue;
        if (f->type.kind == SB_TYPE_PASSWORD) {
            rc = sb_api_error_set(&call->err, 500, "XX000", "action %s cannot write the password field '%s'",
                                  call->action->name, f->name);
            break;
        }
        sb_buf_puts(&sql->text, n ? ", " : " (");
        sb_buf_puts(&values.text, n ? ", " : "");
        sb_sql_ident(&sql->text, f->name);
        if (value)
            rc = compile_stored(call, f, value, NULL, &values);
        else
            bind_auth_default(call, f->default_expr, &values);
        n++;
    }
    if (rc == 0) {
        if (n == 0) {
            sb_buf_puts(&sql->text, " DEFAULT VALUES");
        } else {
            sb_buf_puts(&sql->text, ") VALUES (");
            sb_buf_append(&sql->text, values.text.data, values.text.len);
            sb_buf_putc(&sql->text, ')');
        }
        sb_buf_puts(&sql->text, " RETURNING");
        rc = row_columns(call, coll, sql);
    }
    sb_sql_free(&values);
    return rc;
}

static int build_update(struct call *call, const struct sb_step *s, struct sb_sql *sql)
{
    const struct sb_collection *coll = s->coll;
    sb_buf_puts(&sql->text, "UPDATE ");
    sb_sql_ident(&sql->text, coll->name);
    sb_buf_puts(&sql->text, " SET ");
    for (size_t i = 0; i < s->n_assigns; i++) {
        const struct sb_assign *a = &s->assigns[i];
        if (a->field->type.kind == SB_TYPE_PASSWORD)
            return sb_api_error_set(&call->err, 500, "XX000", "action %s cannot write the password field '%s'",
                                    call->action->name, a->field->name);
        sb_sql_ident(&sql->text, a->field->name);
        sb_buf_puts(&sql->text, " = ");
        if (compile_stored(call, a->field, a->value, coll->name, sql) != 0)
            return -1;
        sb_buf_puts(&sql->text, ", ");
    }
    sb_buf_puts(&sql->text, "\"updated_at\" = ");
    sb_sql_bind_text(sql, call->now, strlen(call->now));
    sb_buf_puts(&sql->text, " WHERE (");
    if (compile(call, s->where, coll->name, sql) != 0)
        return -1;
    sb_buf_puts(&sql->text, ") RETURNING");
    return row_columns(call, coll, sql);
}

static int build_delete(struct call *call, const struct sb_step *s, struct sb_sql *sql)
{
    sb_buf_puts(&sql->text, "DELETE FROM ");
    sb_sql_ident(&sql->text, s->coll->name);
    sb_buf_puts(&sql->text, " WHERE (");
    if (compile(call, s->where, s->coll->name, sql) != 0)
        return -1;
    sb_buf_puts(&sql->text, ") RETURNING");
    return row_columns(call, s->coll, sql);
}

/* SELECT for `get` (two rows at most: one is expected) and `list`; the
 * returned list takes the request's select=, filters, order=, limit and
 * offset. */
static int build_select(struct call *call, const struct sb_step *s, struct sb_sql *sql)
{
    const struct sb_collection *coll = s->coll;
    bool shaped = call->has_query && s == &call->action->steps[call->rows_step];
    sb_buf_puts(&sql->text, "SELECT");
    if (s->kind == SB_STEP_GET) {
        if (row_columns(call, coll, sql) != 0)
            return -1;
    } else {
        sb_buf_puts(&sql->text, " ");
        if (sb_sql_row_json(shaped ? &call->caller : &call->ctx, coll, shaped ? &call->query : &call->star,
                            coll->name, false, sql, &call->err) != 0)
            return -1;
    }
    sb_buf_puts(&sql->text, " FROM ");
    sb_sql_ident(&sql->text, coll->name);
    sb_buf_puts(&sql->text, " WHERE 1");
    if (s->where) {
        sb_buf_puts(&sql->text, " AND (");
        if (compile(call, s->where, coll->name, sql) != 0)
            return -1;
        sb_buf_putc(&sql->text, ')');
    }
    if (shaped && sb_sql_filters(&call->caller, coll, &call->query, coll->name, sql, &call->err) != 0)
        return -1;
    if (s->kind == SB_STEP_GET) {
        sb_buf_puts(&sql->text, " LIMIT 2");
        return 0;
    }
    /* the request's order=, then id: the same rows always come in the same order */
    size_t before = sql->text.len;
    if (shaped && sb_sql_order(&call->caller, coll, &call->query, coll->name, sql, &call->err) != 0)
        return -1;
    sb_buf_puts(&sql->text, sql->text.len == before ? " ORDER BY " : ", ");
    sb_sql_ident(&sql->text, coll->name);
    sb_buf_puts(&sql->text, ".\"id\"");
    const struct sb_q_level *root = &call->query.root;
    if (shaped && (root->has_limit || root->has_offset)) {
        sb_buf_puts(&sql->text, " LIMIT ");
        sb_sql_bind_int(sql, root->has_limit ? root->limit : -1);
        sb_buf_puts(&sql->text, " OFFSET ");
        sb_sql_bind_int(sql, root->has_offset ? root->offset : 0);
    }
    return 0;
}

/* Run a step that reads or writes rows and keep what it binds. */
static int row_step(struct call *call, sqlite3 *db, size_t index)
{
    const struct sb_step *s = &call->action->steps[index];
    struct sb_sql sql;
    sb_sql_init(&sql, call->req->arena);
    struct fetch rows = {.call = call, .coll = s->coll};
    sb_buf_init(&rows.json);
    rows.json.limit = 64u << 20;
    int rc;
    switch (s->kind) {
    case SB_STEP_CREATE: rc = build_create(call, s, &sql); break;
    case SB_STEP_UPDATE: rc = build_update(call, s, &sql); break;
    case SB_STEP_DELETE: rc = build_delete(call, s, &sql); break;
    default: rc = build_select(call, s, &sql); break;
    }
    if (rc == 0 && run(call, db, &sql, s->coll, s->kind == SB_STEP_DELETE, fetch_row, &rows) != 0) {
        if (!sb_api_error_is_set(&call->err))
            sb_api_error_set(&call->err, 413, "54000", "the result of action %s is too large", call->action->name);
        rc = -1;
    }
    if (rc == 0) {
        bool one = s->kind != SB_STEP_LIST;
        if (one && rows.n == 0 && (s->kind == SB_STEP_GET || s->has_else))
            rc = fail_step(call, s, 404, "P0002", "not found");
        else if (one && rows.n > 1 && (s->kind == SB_STEP_GET || s->bind_name))
            rc = sb_api_error_set(&call->err, 500, "P0003", "step %zu of action %s matched more than one %s row",
                                  index + 1, call->action->name, s->coll->name);
    }
    if (rc == 0 && s->bind_name) {
        struct binding *b = &call->bindings[index];
        b->set = true;
        b->many = s->kind == SB_STEP_LIST;
        b->values = rows.n ? rows.values : NULL;
        if (b->many) {
            char *json = sb_arena_alloc(call->req->arena, rows.json.len + 3);
            json[0] = '[';
            if (rows.json.len)
                memcpy(json + 1, rows.json.data, rows.json.len);
            json[rows.json.len + 1] = ']';
            json[rows.json.len + 2] = '\0';
            b->json = json;
            b->json_len = rows.json.len + 2;
        } else if (rows.n) {
            b->json = sb_arena_strndup(call->req->arena, rows.json.data, rows.json.len);
            b->json_len = rows.json.len;
        } else {
            b->json = "null";
            b->json_len = 4;
        }
    }
    sb_buf_free(&rows.json);
    sb_sql_free(&sql);
    return rc;
}

static int run_step(struct call *call, sqlite3 *db, size_t index)
{
    const struct sb_step *s = &call->action->steps[index];
    int ok = 0;
    switch (s->kind) {
    case SB_STEP_REQUIRE:
        if (truth(call, db, s->expr, &ok) != 0)
            return -1;
        return ok ? 0 : fail_step(call, s, 400, "P0001", "requirement failed");
    case SB_STEP_RETURN:
        sb_buf_reset(&call->result);
        call->has_result = true;
        return value_json(call, db, s->expr, &call->result);
    default:
        return row_step(call, db, index);
    }
}

/* The allow rule, then every step. Returns 0, or -1 with call->err set. */
static int run_call(struct call *call, sqlite3 *db)
{
    const struct sb_action *action = call->action;
    if (!call->who->bypass_rules && !call->allowed) {
        int ok = 0;
        if (action->allow && truth(call, db, action->allow, &ok) != 0)
            return -1;
        if (!ok)
            return sb_api_error_set(&call->err, 403, "42501", "permission denied for function %s", action->name);
    }
    for (size_t i = 0; i < action->n_steps; i++)
        if (run_step(call, db, i) != 0)
            return -1;
    return 0;
}

/* ---- answers ------------------------------------------------------------------------------ */

static void answer(struct call *call, struct sb_http_response *resp)
{
    if (sb_api_error_is_set(&call->err)) {
        if (call->err.status == 403 && !strcmp(call->err.code, "42501") && call->who)
            sb_app_audit_denied(call->app, call->req, call->who, call->action ? call->action->name : NULL,
                                &call->err);
        sb_http_response_error(resp, &call->err);
        sb_api_error_clear(&call->err);
    } else if (call->has_result) {
        resp->status = 200;
        resp->content_type = SB_HTTP_JSON;
        sb_buf_append(&resp->body, call->result.data ? call->result.data : "null",
                      call->result.data ? call->result.len : 4);
    } else {
        resp->status = 204;
    }
    sb_buf_free(&call->result);
}

static int action_unit(sqlite3 *db, void *arg)
{
    struct call *call = arg;
    if (run_call(call, db) != 0)
        return UNIT_FAILED;
    /* the call in the audit trail, in its transaction (the rows it wrote
     * are the action's effect; the entry names the action) */
    if (sb_app_audit(call->app, db, call->req, call->who, SB_AUDIT_OP_ACTION, call->action->name, false, 0, "{}") != 0) {
        sb_api_error_set(&call->err, 500, "XX000", "the audit trail could not be written");
        return UNIT_FAILED;
    }
    return 0;
}

static void action_done(struct sb_write_unit *unit)
{
    struct call *call = unit->done_arg;
    const struct sb_write_result *res = &unit->result;
    if (res->rc != 0 && !sb_api_error_is_set(&call->err)) {
        if (res->rc == SB_STORE_ECLOSED)
            sb_api_error_set(&call->err, 503, "PGRST000", "The server is shutting down");
        else {
            sb_api_error_set(&call->err, 500, "XX000", "the action could not be committed");
            sb_api_error_details(&call->err, "%s", res->message);
        }
    }
    sb_app_db_time(call->app, call->queued_us);
    answer(call, sb_http_deferred_response(call->deferred));
    sb_http_complete(call->deferred);
}

/* A writing action: one writer unit, answered after its commit. */
static void submit(struct call *call)
{
    call->deferred = sb_http_defer(call->req);
    call->queued_us = sb_app_now_us();
    call->unit.fn = action_unit;
    call->unit.arg = call;
    call->unit.done = action_done;
    call->unit.done_arg = call;
    if (sb_writer_submit(call->app->writer, &call->unit) != 0) {
        sb_api_error_set(&call->err, 503, "PGRST000", "The server is shutting down");
        answer(call, sb_http_deferred_response(call->deferred));
        sb_http_complete(call->deferred);
    }
}

/* A read-only action: one read transaction on this worker's connection. */
static void run_read_only(struct call *call, struct sb_http_response *resp)
{
    struct sb_buf msg;
    sb_buf_init(&msg);
    int64_t db_start = sb_app_now_us();
    sqlite3 *db = sb_app_reader(call->app, &msg);
    if (!db) {
        sb_api_error_set(&call->err, 503, "PGRST000", "Could not connect to the database");
        sb_api_error_details(&call->err, "%s", sb_buf_str(&msg));
    } else if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        sb_api_db_error(db, sqlite3_errcode(db), NULL, false, &call->err);
    } else {
        int rc = run_call(call, db);
        sqlite3_exec(db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
        sb_app_db_time(call->app, db_start);
    }
    sb_buf_free(&msg);
    answer(call, resp);
}

/* ---- arguments ------------------------------------------------------------------------------ */

struct arg_sink {
    struct sb_value_sink base;
    struct call *call;
    const char *name;
    size_t *n_failed;
    bool *all_type;
};

static void arg_fail(struct sb_value_sink *sink, const char *suffix, const char *rule, const char *message)
{
    struct arg_sink *as = (struct arg_sink *)sink;
    sb_api_error_field(&as->call->err, sb_arena_printf(as->call->req->arena, "%s%s", as->name, suffix), rule,
                       "%s", message);
    (*as->n_failed)++;
    *as->all_type = *as->all_type && !strcmp(rule, "type");
}

static const struct sb_param *find_param(const struct sb_action *action, const char *name)
{
    for (size_t i = 0; i < action->n_params; i++)
        if (!strcmp(action->params[i].name, name))
            return &action->params[i];
    return NULL;
}

/* A query-string argument as the JSON value it stands for, by its
 * parameter's type: numbers, booleans, arrays and json parsed when they
 * read as such, everything else a string (the validator then decides). */
static json_t *text_arg(const struct sb_param *p, const char *text, struct sb_arena *arena)
{
    enum sb_type_kind k = p->type.kind;
    size_t len = strlen(text);
    if (p->type.is_array && len >= 2 && text[0] == '{' && text[len - 1] == '}') {
        /* PostgreSQL's array literal {a,b}, as supabase-js sends arrays on
         * GET: each element read like a scalar argument of the element type */
        struct sb_param elem = *p;
        elem.type.is_array = false;
        json_t *array = json_array();
        const char *item = text + 1, *end = text + len - 1;
        while (item < end) {
            const char *comma = memchr(item, ',', (size_t)(end - item));
            const char *stop = comma ? comma : end;
            json_array_append_new(array, text_arg(&elem, sb_arena_strndup(arena, item, (size_t)(stop - item)), arena));
            item = comma ? comma + 1 : end;
        }
        return array;
    }
    bool parse = p->type.is_array || k == SB_TYPE_JSON || k == SB_TYPE_INT || k == SB_TYPE_REF ||
                 k == SB_TYPE_FLOAT || k == SB_TYPE_DECIMAL;
    if (!p->type.is_array && k == SB_TYPE_BOOL) {
        if (!strcasecmp(text, "true"))
            return json_true();
        if (!strcasecmp(text, "false"))
            return json_false();
    }
    if (parse && strlen(text) < 65536) {
        size_t depth_top = 0;
        if (sb_json_scan(text, strlen(text), SB_JSON_MAX_DEPTH, &depth_top) == 0) {
            json_t *json = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
            if (json && (p->type.is_array || k == SB_TYPE_JSON || json_is_number(json)))
                return json;
            json_decref(json);
        }
    }
    return json_string(text);
}

/* The arguments as a JSON object (new reference), or NULL with err set:
 * the body of a POST, the query string of a GET. What of the query string
 * is not an argument stays in call->query_pairs. */
static json_t *args_object(struct call *call)
{
    struct sb_http_request *req = call->req;
    if (sb_qs_split(req->arena, req->query, req->query_len, &call->query_pairs, &call->n_query_pairs, &call->err) != 0)
        return NULL;
    if (req->method_id == SB_HTTP_POST) {
        const char *body = req->body ? req->body : "";
        size_t len = req->body_len, n_top = 0;
        size_t start = strspn(body, " \t\r\n");
        if (start >= len)
            return json_object();
        if (sb_json_scan(body, len, SB_JSON_MAX_DEPTH, &n_top) != 0) {
            sb_api_error_set(&call->err, 400, "PGRST102", "The request body is nested too deeply");
            return NULL;
        }
        json_error_t jerr;
        json_t *json = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json) {
            sb_api_error_set(&call->err, 400, "PGRST102", "Empty or invalid json");
            sb_api_error_details(&call->err, "%s at line %d, column %d", jerr.text, jerr.line, jerr.column);
            return NULL;
        }
        if (!json_is_object(json)) {
            json_decref(json);
            sb_api_error_set(&call->err, 400, "PGRST102", "The arguments of a function call must be a JSON object");
            return NULL;
        }
        return json;
    }
    struct sb_qs_pair *pairs = call->query_pairs;
    size_t n_pairs = call->n_query_pairs;
    call->query_pairs = sb_arena_alloc(req->arena, (n_pairs + 1) * sizeof(*pairs));
    call->n_query_pairs = 0;
    json_t *obj = json_object();
    for (size_t i = 0; i < n_pairs; i++) {
        if (call->action && !find_param(call->action, pairs[i].key)) {
            call->query_pairs[call->n_query_pairs++] = pairs[i];
            continue;
        }
        if (json_object_get(obj, pairs[i].key)) {
            json_decref(obj);
            sb_api_error_set(&call->err, 400, "PGRST100", "the argument '%s' is given more than once", pairs[i].key);
            return NULL;
        }
        const struct sb_param *p = call->action ? find_param(call->action, pairs[i].key) : NULL;
        json_object_set_new(obj, pairs[i].key, p ? text_arg(p, pairs[i].value, req->arena) : json_string(pairs[i].value));
    }
    return obj;
}

/* Validate args against the parameters into call->args. Returns 0, or -1
 * with a 400 listing every failing parameter. */
static int read_args(struct call *call, json_t *args)
{
    const struct sb_action *action = call->action;
    struct sb_arena *arena = call->req->arena;
    size_t n_failed = 0;
    bool all_type = true, all_required = true;
    call->args = sb_arena_alloc(arena, (action->n_params + 1) * sizeof(*call->args));
    call->given = sb_arena_alloc(arena, (action->n_params + 1) * sizeof(*call->given));
    const char *key;
    json_t *value;
    json_object_foreach(args, key, value) {
        if (!find_param(action, key)) {
            sb_api_error_field(&call->err, key, "unknown", "is not a parameter of %s", action->name);
            n_failed++;
            all_type = all_required = false;
        }
    }
    for (size_t i = 0; i < action->n_params; i++) {
        const struct sb_param *p = &action->params[i];
        json_t *arg = json_object_get(args, p->name);
        memset(&call->args[i], 0, sizeof(call->args[i]));
        call->given[i] = arg != NULL;
        if (!arg && p->default_expr)
            continue;
        if (!arg || json_is_null(arg)) {
            sb_api_error_field(&call->err, p->name, "required", arg ? "cannot be null" : "is required");
            n_failed++;
            all_type = false;
            continue;
        }
        bool type_only = true;
        size_t before = n_failed;
        struct arg_sink sink = {{arg_fail}, call, p->name, &n_failed, &type_only};
        if (sb_value_from_json(&p->type, arg, arena, &call->args[i], &sink.base) != 0 && n_failed == before) {
            sb_api_error_field(&call->err, p->name, "type", "is not a valid %s", sb_type_keyword(p->type.kind));
            n_failed++;
        }
        if (n_failed > before) {
            all_required = false;
            all_type = all_type && type_only;
        }
    }
    if (!n_failed)
        return 0;
    sb_api_error_set(&call->err, 400, all_type ? "22P02" : all_required ? "23502" : "23514",
                     "Invalid arguments for function '%s': %zu argument%s failed validation", action->name, n_failed,
                     n_failed == 1 ? "" : "s");
    struct sb_buf details;
    sb_buf_init(&details);
    for (size_t i = 0; i < call->err.n_fields; i++)
        sb_buf_printf(&details, "%s%s: %s", i ? "; " : "", call->err.fields[i].field, call->err.fields[i].message);
    sb_api_error_details(&call->err, "%s", sb_buf_str(&details));
    sb_buf_free(&details);
    return -1;
}

/* select=, filters, limit and offset in the query string: taken for an
 * action whose result is the rows of a `list` step; for any other, its
 * keys are unknown arguments. */
static int shape_rows(struct call *call)
{
    const struct sb_action *action = call->action;
    if (!call->n_query_pairs)
        return 0;
    const struct sb_step *last = &action->steps[action->n_steps - 1];
    const struct sb_expr *e = last->kind == SB_STEP_RETURN ? last->expr : NULL;
    if (!e || e->ref != SB_REF_BINDING || !e->step || e->step->kind != SB_STEP_LIST) {
        for (size_t i = 0; i < call->n_query_pairs; i++)
            sb_api_error_field(&call->err, call->query_pairs[i].key, "unknown", "is not a parameter of %s",
                               action->name);
        sb_api_error_set(&call->err, 400, "23514", "Invalid arguments for function '%s': %zu argument%s failed validation",
                         action->name, call->n_query_pairs, call->n_query_pairs == 1 ? "" : "s");
        sb_api_error_details(&call->err, "%s: is not a parameter of %s (select= and filters apply only to an action returning rows)",
                             call->query_pairs[0].key, action->name);
        return -1;
    }
    if (sb_query_parse(call->req->arena, call->query_pairs, call->n_query_pairs, &call->query, &call->err) != 0)
        return -1;
    call->has_query = true;
    call->rows_step = (size_t)(e->step - action->steps);
    return 0;
}

/* Judge the allow rule on this worker's reader before a writing action is
 * queued: a caller without permission never reaches the writer. */
static int judge_allow(struct call *call)
{
    if (call->who->bypass_rules)
        return 0;
    if (!call->action->allow)
        return sb_api_error_set(&call->err, 403, "42501", "permission denied for function %s", call->action->name);
    struct sb_buf msg;
    sb_buf_init(&msg);
    sqlite3 *db = sb_app_reader(call->app, &msg);
    int ok = 0, rc = 0;
    if (!db) {
        sb_api_error_set(&call->err, 503, "PGRST000", "Could not connect to the database");
        sb_api_error_details(&call->err, "%s", sb_buf_str(&msg));
        rc = -1;
    } else if (truth(call, db, call->action->allow, &ok) != 0) {
        rc = -1;
    } else if (!ok) {
        rc = sb_api_error_set(&call->err, 403, "42501", "permission denied for function %s", call->action->name);
    }
    sb_buf_free(&msg);
    call->allowed = rc == 0;
    return rc;
}

/* PostgREST's 404 for a function it does not know, with the argument names
 * that were given. */
static void not_found(struct call *call, const char *name, struct sb_http_response *resp)
{
    struct sb_buf names;
    sb_buf_init(&names);
    json_t *args = call->req->method_id == SB_HTTP_POST || call->req->method_id == SB_HTTP_GET ||
                           call->req->method_id == SB_HTTP_HEAD
                       ? args_object(call)
                       : NULL;
    sb_api_error_clear(&call->err);
    const char *key;
    json_t *value;
    if (args)
        json_object_foreach(args, key, value) sb_buf_printf(&names, "%s%.63s", names.len ? ", " : "", key);
    json_decref(args);
    if (names.len)
        sb_api_error_set(&call->err, 404, "PGRST202", "Could not find the function public.%.63s(%s) in the schema cache",
                         name, sb_buf_str(&names));
    else
        sb_api_error_set(&call->err, 404, "PGRST202",
                         "Could not find the function public.%.63s without parameters in the schema cache", name);
    sb_buf_free(&names);
    answer(call, resp);
}

void sb_actions_handle(struct sb_app *app, const char *name, struct sb_http_request *req,
                       struct sb_http_response *resp)
{
    struct call *call = sb_arena_alloc(req->arena, sizeof(*call));
    memset(call, 0, sizeof(*call));
    call->app = app;
    call->req = req;
    sb_buf_init(&call->result);
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(call->today, sizeof(call->today), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    snprintf(call->now, sizeof(call->now), "%sT%02d:%02d:%02d.%06ldZ", call->today, tm.tm_hour, tm.tm_min, tm.tm_sec,
             ts.tv_nsec / 1000);
    call->action = sb_model_action(app->model, name);
    if (!call->action)
        return not_found(call, name, resp);
    const struct sb_action *action = call->action;
    bool reading = req->method_id == SB_HTTP_GET || req->method_id == SB_HTTP_HEAD;
    if (!reading && req->method_id != SB_HTTP_POST) {
        sb_http_response_header(resp, "Allow", action->read_only ? "GET, HEAD, POST" : "POST");
        sb_api_error_set(&call->err, 405, "PGRST117", "Unsupported HTTP method: %s", req->method);
        return answer(call, resp);
    }
    if (reading && !action->read_only) {
        sb_http_response_header(resp, "Allow", "POST");
        sb_api_error_set(&call->err, 405, "PGRST101", "Cannot use the GET method on RPC to a function that writes");
        return answer(call, resp);
    }
    call->who = sb_app_identity(app, req, &call->err);
    if (!call->who) {
        const char *www = sb_jwt_www_authenticate(&call->err, req->arena);
        if (www)
            sb_http_response_header(resp, "WWW-Authenticate", www);
        return answer(call, resp);
    }
    call->trusted = *call->who;
    call->trusted.bypass_rules = true;
    call->ctx = (struct sb_sql_ctx){.model = app->model, .dialect = app->dialect, .who = &call->trusted,
                                    .arena = req->arena};
    call->caller = call->ctx;
    call->caller.who = call->who;
    if (sb_query_parse(req->arena, NULL, 0, &call->star, &call->err) != 0)
        return answer(call, resp);
    call->bindings = sb_arena_alloc(req->arena, (action->n_steps + 1) * sizeof(*call->bindings));
    memset(call->bindings, 0, (action->n_steps + 1) * sizeof(*call->bindings));
    json_t *args = args_object(call);
    if (!args)
        return answer(call, resp);
    int rc = read_args(call, args);
    json_decref(args);
    if (rc != 0 || shape_rows(call) != 0)
        return answer(call, resp);
    if (action->read_only)
        return run_read_only(call, resp);
    if (judge_allow(call) != 0)
        return answer(call, resp);
    submit(call);
}
