/* The expression evaluator (see eval.h): a recursive walk over a checked
 * expression, reading field values from the row the environment holds and
 * using the checker's value types (sb_expr.vtype) to decide how operands
 * compare (numbers as numbers, timestamps in UTC, everything else as text).
 * The body validator (guard/validate.c) uses it for field and row checks;
 * rules and actions can reuse it through the lookup callback. Nesting is
 * bounded by the spec's own limit (SB_SPEC_MAX_DEPTH). */
#include "spec/eval.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/formats.h"
#include "util/json_out.h"

static struct sb_value v_null(void)
{
    struct sb_value v = {0};
    return v;
}

static struct sb_value v_int(int64_t i)
{
    struct sb_value v = {0};
    v.kind = SB_VAL_INT;
    v.i = i;
    return v;
}

static struct sb_value v_float(double f)
{
    struct sb_value v = {0};
    v.kind = SB_VAL_FLOAT;
    v.f = f;
    return v;
}

static struct sb_value v_text(const char *text, size_t len)
{
    struct sb_value v = {0};
    v.kind = SB_VAL_TEXT;
    v.text = text;
    v.len = len;
    return v;
}

static int eval(const struct sb_expr *e, const struct sb_eval_env *env, struct sb_value *out);

/* A decimal arrives as canonical text; evaluation works on its double. */
static int decimal_to_float(struct sb_value *v)
{
    char buf[128];
    if (v->kind != SB_VAL_TEXT)
        return 0;
    if (v->len == 0 || v->len >= sizeof(buf))
        return SB_EVAL_EINVALID;
    memcpy(buf, v->text, v->len);
    buf[v->len] = '\0';
    char *end;
    double d = strtod(buf, &end);
    if (*end != '\0' || !isfinite(d))
        return SB_EVAL_EINVALID;
    *v = v_float(d);
    return 0;
}

static int field_value(const struct sb_expr *e, const struct sb_eval_env *env, struct sb_value *out)
{
    size_t i = e->field->index;
    if (!env->row || i >= env->n_row || (env->known && !env->known[i]))
        return SB_EVAL_EUNKNOWN;
    *out = env->row[i];
    out->flags = 0;
    return 0;
}

static int lookup(const struct sb_expr *e, const struct sb_eval_env *env, struct sb_value *out)
{
    if (!env->lookup)
        return SB_EVAL_ESCOPE;
    return env->lookup(env, e, out);
}

/* ---- comparison ------------------------------------------------------------ */

static bool is_number(const struct sb_value *v)
{
    return v->kind == SB_VAL_INT || v->kind == SB_VAL_FLOAT;
}

static double as_double(const struct sb_value *v)
{
    return v->kind == SB_VAL_INT ? (double)v->i : v->f;
}

/* Bring a text operand of a timestamp comparison to canonical UTC text:
 * a date becomes its midnight, a timestamp written with any offset is
 * converted. */
static int to_utc(struct sb_value *v, enum sb_vkind kind, char buf[SB_TIMESTAMP_UTC_LEN + 1])
{
    if (v->kind != SB_VAL_TEXT)
        return 0;
    if (kind == SB_V_DATE || v->len == 10) {
        if (!sb_format_date(v->text, v->len))
            return SB_EVAL_EINVALID;
        memcpy(buf, v->text, 10);
        memcpy(buf + 10, "T00:00:00.000000Z", 18);
    } else if (!sb_format_timestamp_utc(v->text, v->len, true, buf)) {
        return SB_EVAL_EINVALID;
    }
    *v = v_text(buf, SB_TIMESTAMP_UTC_LEN);
    return 0;
}

/* Order two non-null operands whose value kinds are ka and kb. */
static int compare_values(struct sb_value a, enum sb_vkind ka, struct sb_value b, enum sb_vkind kb,
                          int *cmp)
{
    char abuf[SB_TIMESTAMP_UTC_LEN + 1], bbuf[SB_TIMESTAMP_UTC_LEN + 1];
    int rc;
    if (ka == SB_V_DECIMAL && (rc = decimal_to_float(&a)) != 0)
        return rc;
    if (kb == SB_V_DECIMAL && (rc = decimal_to_float(&b)) != 0)
        return rc;
    if (ka == SB_V_TIMESTAMP || kb == SB_V_TIMESTAMP) {
        if ((rc = to_utc(&a, ka, abuf)) != 0 || (rc = to_utc(&b, kb, bbuf)) != 0)
            return rc;
    }
    if (is_number(&a) && is_number(&b)) {
        if (a.kind == SB_VAL_INT && b.kind == SB_VAL_INT) {
            *cmp = (a.i > b.i) - (a.i < b.i);
        } else {
            double x = as_double(&a), y = as_double(&b);
            *cmp = (x > y) - (x < y);
        }
        return 0;
    }
    if (a.kind == SB_VAL_TEXT && b.kind == SB_VAL_TEXT) {
        size_t n = a.len < b.len ? a.len : b.len;
        int c = n ? memcmp(a.text, b.text, n) : 0;
        *cmp = c != 0 ? (c > 0) - (c < 0) : (a.len > b.len) - (a.len < b.len);
        return 0;
    }
    return SB_EVAL_EINVALID;
}

static bool compare_holds(enum sb_op op, int cmp)
{
    switch (op) {
    case SB_OP_EQ: return cmp == 0;
    case SB_OP_NE: return cmp != 0;
    case SB_OP_LT: return cmp < 0;
    case SB_OP_LE: return cmp <= 0;
    case SB_OP_GT: return cmp > 0;
    case SB_OP_GE: return cmp >= 0;
    default: return false;
    }
}

static int comparison(const struct sb_expr *e, const struct sb_eval_env *env, struct sb_value *out)
{
    struct sb_value l, r;
    int rc;
    bool left_null = e->left->kind == SB_EXPR_NULL, right_null = e->right->kind == SB_EXPR_NULL;
    if ((e->op == SB_OP_EQ || e->op == SB_OP_NE) && (left_null || right_null)) {
        /* x == null tests for null (IS NULL) and is never null itself */
        if ((rc = eval(left_null ? e->right : e->left, env, &l)) != 0)
            return rc;
        bool is_null = l.kind == SB_VAL_NULL;
        *out = v_int(e->op == SB_OP_EQ ? is_null : !is_null);
        return 0;
    }
    int rc_l = eval(e->left, env, &l);
    int rc_r = eval(e->right, env, &r);
    if (rc_l != 0)
        return rc_l;
    if (rc_r != 0)
        return rc_r;
    if (l.kind == SB_VAL_NULL || r.kind == SB_VAL_NULL) {
        *out = v_null();
        return 0;
    }
    int cmp;
    if ((rc = compare_values(l, e->left->vtype.kind, r, e->right->vtype.kind, &cmp)) != 0)
        return rc;
    *out = v_int(compare_holds(e->op, cmp));
    return 0;
}

/* An element of a stored array (JSON) as a value of kind elem. */
static int json_element(const json_t *item, enum sb_vkind elem, struct sb_value *out)
{
    switch (json_typeof(item)) {
    case JSON_NULL: *out = v_null(); return 0;
    case JSON_TRUE: *out = v_int(1); return 0;
    case JSON_FALSE: *out = v_int(0); return 0;
    case JSON_INTEGER: *out = v_int((int64_t)json_integer_value(item)); return 0;
    case JSON_REAL: *out = v_float(json_real_value(item)); return 0;
    case JSON_STRING:
        *out = v_text(json_string_value(item), json_string_length(item));
        return elem == SB_V_DECIMAL ? decimal_to_float(out) : 0;
    default: return SB_EVAL_EINVALID;
    }
}

static int parse_list(const struct sb_value *v, json_t **out)
{
    if (v->kind != SB_VAL_TEXT)
        return SB_EVAL_EINVALID;
    json_t *json = json_loadb(v->text, v->len, 0, NULL);
    if (!json || !json_is_array(json)) {
        json_decref(json);
        return SB_EVAL_EINVALID;
    }
    *out = json;
    return 0;
}

/* x in [a, b] / x in array_field, SQL style: true when an element equals
 * x; otherwise null when x or an element is null; false for no elements. */
static int membership(const struct sb_expr *e, const struct sb_eval_env *env, struct sb_value *out)
{
    const struct sb_expr *list = e->right;
    struct sb_value x, item;
    enum sb_vkind kx = e->left->vtype.kind;
    int rc = eval(e->left, env, &x);
    if (rc != 0)
        return rc;
    bool found = false, saw_null = false;
    if (list->kind == SB_EXPR_LIST) {
        for (size_t i = 0; i < list->n_args && !found; i++) {
            if ((rc = eval(list->args[i], env, &item)) != 0)
                return rc;
            if (x.kind == SB_VAL_NULL || item.kind == SB_VAL_NULL) {
                saw_null = true;
                continue;
            }
            int cmp;
            if ((rc = compare_values(x, kx, item, list->args[i]->vtype.kind, &cmp)) != 0)
                return rc;
            found = cmp == 0;
        }
    } else {
        struct sb_value stored;
        if ((rc = eval(list, env, &stored)) != 0)
            return rc;
        if (stored.kind == SB_VAL_NULL) {
            *out = v_null();
            return 0;
        }
        json_t *array;
        if ((rc = parse_list(&stored, &array)) != 0)
            return rc;
        for (size_t i = 0; i < json_array_size(array) && !found && rc == 0; i++) {
            rc = json_element(json_array_get(array, i), list->vtype.elem, &item);
            if (rc != 0)
                break;
            if (x.kind == SB_VAL_NULL || item.kind == SB_VAL_NULL) {
                saw_null = true;
                continue;
            }
            int cmp;
            rc = compare_values(x, kx, item, list->vtype.elem, &cmp);
            found = rc == 0 && cmp == 0;
        }
        json_decref(array);
        if (rc != 0)
            return rc;
    }
    bool negate = e->op == SB_OP_NOT_IN;
    if (found)
        *out = v_int(!negate);
    else if (saw_null)
        *out = v_null();
    else
        *out = v_int(negate);
    return 0;
}

/* ---- logic and arithmetic ------------------------------------------------------ */

/* and / or in three-valued logic. Both sides are evaluated before an error
 * or unknown is returned, so that a side which decides the result alone
 * (false for and, true for or) does. */
static int logic(const struct sb_expr *e, const struct sb_eval_env *env, struct sb_value *out)
{
    bool is_and = e->op == SB_OP_AND;
    struct sb_value l, r;
    int rc_l = eval(e->left, env, &l);
    if (rc_l == 0 && l.kind == SB_VAL_INT && (l.i != 0) != is_and) {
        *out = v_int(!is_and);
        return 0;
    }
    int rc_r = eval(e->right, env, &r);
    if (rc_r == 0 && r.kind == SB_VAL_INT && (r.i != 0) != is_and) {
        *out = v_int(!is_and);
        return 0;
    }
    if (rc_l != 0)
        return rc_l;
    if (rc_r != 0)
        return rc_r;
    if ((l.kind != SB_VAL_INT && l.kind != SB_VAL_NULL) || (r.kind != SB_VAL_INT && r.kind != SB_VAL_NULL))
        return SB_EVAL_EINVALID;
    *out = (l.kind == SB_VAL_NULL || r.kind == SB_VAL_NULL) ? v_null() : v_int(is_and);
    return 0;
}

static int arithmetic(enum sb_op op, struct sb_value a, struct sb_value b, struct sb_value *out)
{
    if (!is_number(&a) || !is_number(&b))
        return SB_EVAL_EINVALID;
    if (a.kind == SB_VAL_INT && b.kind == SB_VAL_INT) {
        int64_t r;
        switch (op) {
        case SB_OP_ADD:
            if (__builtin_add_overflow(a.i, b.i, &r))
                return SB_EVAL_EOVERFLOW;
            break;
        case SB_OP_SUB:
            if (__builtin_sub_overflow(a.i, b.i, &r))
                return SB_EVAL_EOVERFLOW;
            break;
        case SB_OP_MUL:
            if (__builtin_mul_overflow(a.i, b.i, &r))
                return SB_EVAL_EOVERFLOW;
            break;
        case SB_OP_DIV:
            if (b.i == 0)
                return SB_EVAL_EDIVZERO;
            if (a.i == INT64_MIN && b.i == -1)
                return SB_EVAL_EOVERFLOW;
            r = a.i / b.i;
            break;
        case SB_OP_MOD:
            if (b.i == 0)
                return SB_EVAL_EDIVZERO;
            r = b.i == -1 ? 0 : a.i % b.i;
            break;
        default:
            return SB_EVAL_EINVALID;
        }
        *out = v_int(r);
        return 0;
    }
    double x = as_double(&a), y = as_double(&b), r;
    switch (op) {
    case SB_OP_ADD: r = x + y; break;
    case SB_OP_SUB: r = x - y; break;
    case SB_OP_MUL: r = x * y; break;
    case SB_OP_DIV:
        if (y == 0)
            return SB_EVAL_EDIVZERO;
        r = x / y;
        break;
    case SB_OP_MOD:
        if (y == 0)
            return SB_EVAL_EDIVZERO;
        r = fmod(x, y);
        break;
    default:
        return SB_EVAL_EINVALID;
    }
    if (!isfinite(r))
        return SB_EVAL_EOVERFLOW;
    *out = v_float(r);
    return 0;
}

static int binary(const struct sb_expr *e, const struct sb_eval_env *env, struct sb_value *out)
{
    switch (e->op) {
    case SB_OP_AND:
    case SB_OP_OR:
        return logic(e, env, out);
    case SB_OP_EQ:
    case SB_OP_NE:
    case SB_OP_LT:
    case SB_OP_LE:
    case SB_OP_GT:
    case SB_OP_GE:
        return comparison(e, env, out);
    case SB_OP_IN:
    case SB_OP_NOT_IN:
        return membership(e, env, out);
    default:
        break;
    }
    struct sb_value l, r;
    int rc_l = eval(e->left, env, &l);
    int rc_r = eval(e->right, env, &r);
    if (rc_l != 0)
        return rc_l;
    if (rc_r != 0)
        return rc_r;
    if (l.kind == SB_VAL_NULL || r.kind == SB_VAL_NULL) {
        *out = v_null();
        return 0;
    }
    return arithmetic(e->op, l, r, out);
}

static int unary(const struct sb_expr *e, const struct sb_eval_env *env, struct sb_value *out)
{
    struct sb_value v;
    int rc = eval(e->left, env, &v);
    if (rc != 0)
        return rc;
    if (v.kind == SB_VAL_NULL) {
        *out = v_null();
        return 0;
    }
    if (e->op == SB_OP_NOT) {
        if (v.kind != SB_VAL_INT)
            return SB_EVAL_EINVALID;
        *out = v_int(v.i == 0);
        return 0;
    }
    if (v.kind == SB_VAL_INT) {
        if (v.i == INT64_MIN)
            return SB_EVAL_EOVERFLOW;
        *out = v_int(-v.i);
        return 0;
    }
    if (v.kind == SB_VAL_FLOAT) {
        *out = v_float(-v.f);
        return 0;
    }
    return SB_EVAL_EINVALID;
}

/* ---- functions and lists ----------------------------------------------------------- */

static int change_case(const struct sb_value *v, bool upper, const struct sb_eval_env *env,
                       struct sb_value *out)
{
    if (v->kind != SB_VAL_TEXT || !env->arena)
        return SB_EVAL_EINVALID;
    char *text = sb_arena_strndup(env->arena, v->text, v->len);
    for (size_t i = 0; i < v->len; i++) {
        char c = text[i];
        if (upper && c >= 'a' && c <= 'z')
            text[i] = (char)(c - 'a' + 'A');
        else if (!upper && c >= 'A' && c <= 'Z')
            text[i] = (char)(c - 'A' + 'a');
    }
    *out = v_text(text, v->len);
    return 0;
}

static int length(const struct sb_expr *arg, const struct sb_eval_env *env, struct sb_value *out)
{
    if (arg->kind == SB_EXPR_LIST) {
        *out = v_int((int64_t)arg->n_args);
        return 0;
    }
    struct sb_value v;
    int rc = eval(arg, env, &v);
    if (rc != 0)
        return rc;
    if (v.kind == SB_VAL_NULL) {
        *out = v_null();
        return 0;
    }
    if (arg->vtype.kind == SB_V_LIST) {
        json_t *array;
        if ((rc = parse_list(&v, &array)) != 0)
            return rc;
        *out = v_int((int64_t)json_array_size(array));
        json_decref(array);
        return 0;
    }
    if (v.kind != SB_VAL_TEXT)
        return SB_EVAL_EINVALID;
    *out = v_int((int64_t)sb_utf8_chars(v.text, v.len));
    return 0;
}

static int call(const struct sb_expr *e, const struct sb_eval_env *env, struct sb_value *out)
{
    struct sb_value v;
    int rc;
    switch (e->func) {
    case SB_FUNC_NOW:
    case SB_FUNC_TODAY:
        return lookup(e, env, out);
    case SB_FUNC_COALESCE:
        for (size_t i = 0; i < e->n_args; i++) {
            if ((rc = eval(e->args[i], env, &v)) != 0)
                return rc;
            if (v.kind != SB_VAL_NULL)
                break;
        }
        *out = e->n_args ? v : v_null();
        return 0;
    case SB_FUNC_LEN:
        if (e->n_args != 1)
            return SB_EVAL_EINVALID;
        return length(e->args[0], env, out);
    case SB_FUNC_LOWER:
    case SB_FUNC_UPPER:
    case SB_FUNC_ABS:
        break;
    case SB_FUNC_NONE:
        return SB_EVAL_EINVALID;
    }
    if (e->n_args != 1)
        return SB_EVAL_EINVALID;
    if ((rc = eval(e->args[0], env, &v)) != 0)
        return rc;
    if (v.kind == SB_VAL_NULL) {
        *out = v_null();
        return 0;
    }
    if (e->func != SB_FUNC_ABS)
        return change_case(&v, e->func == SB_FUNC_UPPER, env, out);
    if (v.kind == SB_VAL_INT) {
        if (v.i == INT64_MIN)
            return SB_EVAL_EOVERFLOW;
        *out = v_int(v.i < 0 ? -v.i : v.i);
        return 0;
    }
    if (v.kind == SB_VAL_FLOAT) {
        *out = v_float(fabs(v.f));
        return 0;
    }
    return SB_EVAL_EINVALID;
}

/* A list literal used as a value (compared with an array field): its JSON
 * text, in the form arrays are stored. */
static int list_value(const struct sb_expr *e, const struct sb_eval_env *env, struct sb_value *out)
{
    if (!env->arena)
        return SB_EVAL_EINVALID;
    struct sb_buf json;
    sb_buf_init(&json);
    sb_buf_putc(&json, '[');
    int rc = 0;
    for (size_t i = 0; i < e->n_args && rc == 0; i++) {
        struct sb_value v;
        if ((rc = eval(e->args[i], env, &v)) != 0)
            break;
        if (i)
            sb_buf_putc(&json, ',');
        switch (v.kind) {
        case SB_VAL_NULL: sb_buf_puts(&json, "null"); break;
        case SB_VAL_INT:
            if (e->args[i]->vtype.kind == SB_V_BOOL)
                sb_buf_puts(&json, v.i ? "true" : "false");
            else
                sb_json_int(&json, v.i);
            break;
        case SB_VAL_FLOAT: sb_json_double(&json, v.f); break;
        case SB_VAL_TEXT: sb_json_string(&json, v.text, v.len); break;
        }
    }
    sb_buf_putc(&json, ']');
    if (rc == 0)
        *out = v_text(sb_arena_strndup(env->arena, sb_buf_str(&json), json.len), json.len);
    sb_buf_free(&json);
    return rc;
}

/* ---- the walk ------------------------------------------------------------------------ */

static int eval_node(const struct sb_expr *e, const struct sb_eval_env *env, struct sb_value *out)
{
    switch (e->kind) {
    case SB_EXPR_INT:
        *out = v_int(e->ival);
        return 0;
    case SB_EXPR_FLOAT:
        *out = v_float(e->fval);
        return 0;
    case SB_EXPR_STRING:
        *out = v_text(e->text ? e->text : "", e->text_len);
        return 0;
    case SB_EXPR_BOOL:
        *out = v_int(e->bval);
        return 0;
    case SB_EXPR_NULL:
        *out = v_null();
        return 0;
    case SB_EXPR_ANYONE:
        *out = v_int(1);
        return 0;
    case SB_EXPR_AUTHENTICATED:
    case SB_EXPR_MEMBER:
        return lookup(e, env, out);
    case SB_EXPR_NAME:
        if (e->ref == SB_REF_FIELD && e->field)
            return field_value(e, env, out);
        return lookup(e, env, out);
    case SB_EXPR_UNARY:
        return unary(e, env, out);
    case SB_EXPR_BINARY:
        return binary(e, env, out);
    case SB_EXPR_CALL:
        return call(e, env, out);
    case SB_EXPR_LIST:
        return list_value(e, env, out);
    case SB_EXPR_OBJECT:
        break;
    }
    return SB_EVAL_EINVALID;
}

static int eval(const struct sb_expr *e, const struct sb_eval_env *env, struct sb_value *out)
{
    *out = v_null();
    int rc = eval_node(e, env, out);
    if (rc != 0)
        return rc;
    if (e->vtype.kind == SB_V_DECIMAL)
        return decimal_to_float(out);
    return 0;
}

int sb_eval(const struct sb_expr *e, const struct sb_eval_env *env, struct sb_value *out)
{
    int rc = eval(e, env, out);
    if (rc != 0)
        *out = v_null();
    return rc;
}

int sb_eval_check(const struct sb_expr *e, const struct sb_eval_env *env, bool *passed)
{
    struct sb_value v;
    int rc = sb_eval(e, env, &v);
    if (rc != 0)
        return rc;
    if (v.kind != SB_VAL_NULL && v.kind != SB_VAL_INT)
        return SB_EVAL_EINVALID;
    *passed = v.kind == SB_VAL_NULL || v.i != 0;
    return 0;
}

const char *sb_eval_strerror(int rc)
{
    switch (rc) {
    case 0: return "no error";
    case SB_EVAL_EUNKNOWN: return "it depends on a value that is not known yet";
    case SB_EVAL_EOVERFLOW: return "numeric overflow";
    case SB_EVAL_EDIVZERO: return "division by zero";
    case SB_EVAL_ESCOPE: return "it uses a value that does not exist here";
    case SB_EVAL_EINVALID: return "an invalid expression or value";
    }
    return "unknown error";
}
