/* JSON dump of a checked model (check.c): the machine-readable form of a
 * spec for tools and agents, documented in docs/model-json.md. Built as a
 * jansson tree and printed once with sorted keys and a 2-space indent, so
 * the same spec always gives the same bytes. Expressions
 * appear twice: as canonical source text (the formatter's printer, fmt.h)
 * and as a tree whose names are already resolved by the checker. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "spec/fmt.h"
#include "spec/spec.h"
#include "util/die.h"

/* Version of the JSON shape; bumped on an incompatible change. */
#define SB_MODEL_JSON_VERSION 1

static json_t *jstr(const char *text)
{
    if (!text)
        return json_null();
    json_t *value = json_string(text);
    return value ? value : json_null(); /* not UTF-8: cannot come from a valid spec */
}

static json_t *jstrn(const char *text, size_t len)
{
    json_t *value = json_stringn(text, len);
    return value ? value : json_null();
}

static void set(json_t *obj, const char *key, json_t *value)
{
    json_object_set_new(obj, key, value);
}

/* ---- expressions -------------------------------------------------------- */

static const char *const vkind_names[] = {
    [SB_V_ERROR] = "error", [SB_V_NULL] = "null",
    [SB_V_BOOL] = "bool", [SB_V_INT] = "int", [SB_V_FLOAT] = "float",
    [SB_V_DECIMAL] = "decimal", [SB_V_TEXT] = "text", [SB_V_ENUM] = "enum",
    [SB_V_TIMESTAMP] = "timestamp", [SB_V_DATE] = "date", [SB_V_JSON] = "json",
    [SB_V_ID] = "id", [SB_V_LIST] = "list", [SB_V_ROW] = "row", [SB_V_ROWS] = "rows",
    [SB_V_OBJECT] = "object",
};

/* "int", "id:user", "rows:order", "enum(a, b)", "list:text". */
static void put_vkind(struct sb_buf *out, enum sb_vkind kind, const struct sb_collection *coll,
                      const struct sb_type *enum_type)
{
    if ((size_t)kind >= sizeof(vkind_names) / sizeof(vkind_names[0]) || !vkind_names[kind]) {
        sb_buf_puts(out, "error");
        return;
    }
    sb_buf_puts(out, vkind_names[kind]);
    if ((kind == SB_V_ID || kind == SB_V_ROW || kind == SB_V_ROWS) && coll)
        sb_buf_printf(out, ":%s", coll->name);
    if (kind == SB_V_ENUM && enum_type) {
        sb_buf_putc(out, '(');
        for (size_t i = 0; i < enum_type->n_enum_values; i++)
            sb_buf_printf(out, "%s%s", i ? ", " : "", enum_type->enum_values[i]);
        sb_buf_putc(out, ')');
    }
}

static json_t *vtype_json(const struct sb_vtype *vtype)
{
    struct sb_buf text;
    sb_buf_init(&text);
    put_vkind(&text, vtype->kind, vtype->coll, vtype->enum_type);
    if (vtype->kind == SB_V_LIST) {
        sb_buf_putc(&text, ':');
        put_vkind(&text, vtype->elem, vtype->coll, vtype->enum_type);
    }
    json_t *value = jstrn(sb_buf_str(&text), text.len);
    sb_buf_free(&text);
    return value;
}

static const char *op_name(enum sb_op op)
{
    switch (op) {
    case SB_OP_OR: return "or";
    case SB_OP_AND: return "and";
    case SB_OP_NOT: return "not";
    case SB_OP_EQ: return "==";
    case SB_OP_NE: return "!=";
    case SB_OP_LT: return "<";
    case SB_OP_LE: return "<=";
    case SB_OP_GT: return ">";
    case SB_OP_GE: return ">=";
    case SB_OP_IN: return "in";
    case SB_OP_NOT_IN: return "not in";
    case SB_OP_ADD: return "+";
    case SB_OP_SUB: return "-";
    case SB_OP_MUL: return "*";
    case SB_OP_DIV: return "/";
    case SB_OP_MOD: return "%";
    case SB_OP_NEG: return "-";
    case SB_OP_NONE: break;
    }
    return "?";
}

static json_t *ast_json(const struct sb_expr *expr);

static json_t *ast_array(struct sb_expr *const *args, size_t n_args)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n_args; i++)
        json_array_append_new(arr, ast_json(args[i]));
    return arr;
}

/* A name or member, by what the checker resolved it to. */
static void ref_json(json_t *node, const struct sb_expr *expr)
{
    const char *name = expr->name ? expr->name : "";
    switch (expr->ref) {
    case SB_REF_FIELD: set(node, "field", jstr(name)); return;
    case SB_REF_OLD_FIELD: set(node, "old", jstr(name)); return;
    case SB_REF_NEW_FIELD: set(node, "new", jstr(name)); return;
    case SB_REF_PARAM: set(node, "param", jstr(name)); return;
    case SB_REF_AUTH_ID: set(node, "auth", jstr("id")); return;
    case SB_REF_AUTH_ROLE: set(node, "auth", jstr("role")); return;
    case SB_REF_AUTH_EMAIL: set(node, "auth", jstr("email")); return;
    case SB_REF_BINDING:
        set(node, "binding", jstr(expr->step && expr->step->bind_name ? expr->step->bind_name : name));
        return;
    case SB_REF_BINDING_FIELD: {
        const char *binding = expr->step && expr->step->bind_name ? expr->step->bind_name
                              : expr->left && expr->left->name ? expr->left->name
                                                               : "";
        set(node, "binding", jstr(binding));
        set(node, "field", jstr(name));
        return;
    }
    case SB_REF_NONE:
    case SB_REF_FUNCTION:
        break;
    }
    /* not resolved (an unchecked model): the syntax as written */
    if (expr->kind == SB_EXPR_MEMBER) {
        set(node, "member", jstr(name));
        set(node, "of", expr->left ? ast_json(expr->left) : json_null());
    } else {
        set(node, "name", jstr(name));
    }
}

static json_t *ast_json(const struct sb_expr *expr)
{
    if (!expr)
        return json_null();
    json_t *node = json_object();
    switch (expr->kind) {
    case SB_EXPR_INT: set(node, "value", json_integer(expr->ival)); break;
    case SB_EXPR_FLOAT: set(node, "value", json_real(expr->fval)); break;
    case SB_EXPR_STRING:
        set(node, "value", expr->text ? jstrn(expr->text, expr->text_len) : jstr(""));
        break;
    case SB_EXPR_BOOL: set(node, "value", json_boolean(expr->bval)); break;
    case SB_EXPR_NULL: set(node, "value", json_null()); break;
    case SB_EXPR_ANYONE: set(node, "anyone", json_true()); break;
    case SB_EXPR_AUTHENTICATED: set(node, "authenticated", json_true()); break;
    case SB_EXPR_NAME:
    case SB_EXPR_MEMBER: ref_json(node, expr); break;
    case SB_EXPR_UNARY:
        set(node, "op", jstr(op_name(expr->op)));
        set(node, "operand", ast_json(expr->left));
        break;
    case SB_EXPR_BINARY:
        set(node, "op", jstr(op_name(expr->op)));
        set(node, "left", ast_json(expr->left));
        set(node, "right", ast_json(expr->right));
        break;
    case SB_EXPR_CALL:
        set(node, "call", jstr(expr->name));
        set(node, "args", ast_array(expr->args, expr->n_args));
        break;
    case SB_EXPR_LIST: set(node, "list", ast_array(expr->args, expr->n_args)); break;
    case SB_EXPR_OBJECT: {
        json_t *obj = json_object();
        for (size_t i = 0; i < expr->n_args; i++)
            if (expr->keys && expr->keys[i])
                set(obj, expr->keys[i], ast_json(expr->args[i]));
        set(node, "object", obj);
        break;
    }
    }
    if (expr->vtype.kind != SB_V_ERROR) {
        set(node, "type", vtype_json(&expr->vtype));
        if (expr->vtype.nullable)
            set(node, "nullable", json_true());
    }
    return node;
}

/* {"text": canonical source, "ast": tree}, or null for no expression. */
static json_t *expr_json(const struct sb_expr *expr)
{
    if (!expr)
        return json_null();
    struct sb_buf text;
    sb_buf_init(&text);
    sb_spec_format_expr(expr, &text);
    json_t *obj = json_object();
    set(obj, "text", jstrn(sb_buf_str(&text), text.len));
    set(obj, "ast", ast_json(expr));
    sb_buf_free(&text);
    return obj;
}

static json_t *rule_json(const struct sb_rule *rule)
{
    return rule ? expr_json(rule->expr) : json_null();
}

/* ---- types and fields ------------------------------------------------------ */

static const char *on_delete_name(enum sb_on_delete on_delete)
{
    switch (on_delete) {
    case SB_ON_DELETE_CASCADE: return "cascade";
    case SB_ON_DELETE_SET_NULL: return "set null";
    case SB_ON_DELETE_RESTRICT: break;
    }
    return "restrict";
}

/* The declared type; field is NULL for an action parameter. */
static json_t *type_json(const struct sb_type *type, const struct sb_field *field)
{
    json_t *obj = json_object();
    set(obj, "kind", jstr(type->kind == SB_TYPE_REF ? "relation" : sb_type_keyword(type->kind)));
    struct sb_buf text;
    sb_buf_init(&text);
    sb_spec_format_type(type, &text);
    set(obj, "text", jstrn(sb_buf_str(&text), text.len));
    sb_buf_free(&text);

    switch (type->kind) {
    case SB_TYPE_TEXT:
    case SB_TYPE_INT:
        if (type->has_min)
            set(obj, "min", json_integer(type->min));
        if (type->has_max)
            set(obj, "max", json_integer(type->max));
        break;
    case SB_TYPE_FLOAT:
        if (type->has_min)
            set(obj, "min", json_real(type->fmin));
        if (type->has_max)
            set(obj, "max", json_real(type->fmax));
        break;
    case SB_TYPE_DECIMAL:
        set(obj, "precision", json_integer(type->precision));
        set(obj, "scale", json_integer(type->scale));
        break;
    case SB_TYPE_ENUM: {
        json_t *values = json_array();
        for (size_t i = 0; i < type->n_enum_values; i++)
            json_array_append_new(values, jstr(type->enum_values[i]));
        set(obj, "values", values);
        break;
    }
    case SB_TYPE_REF:
        set(obj, "target", jstr(type->ref ? type->ref->name : type->ref_name));
        if (field)
            set(obj, "on_delete", jstr(on_delete_name(field->on_delete)));
        break;
    default:
        break;
    }
    if (type->is_array) {
        json_t *arr = json_object();
        if (type->arr_has_min)
            set(arr, "min", json_integer(type->arr_min));
        if (type->arr_has_max)
            set(arr, "max", json_integer(type->arr_max));
        set(obj, "array", arr);
    }
    return obj;
}

static json_t *field_json(const struct sb_field *field)
{
    json_t *obj = json_object();
    set(obj, "name", jstr(field->name));
    set(obj, "type", type_json(&field->type, field));
    static const struct {
        const char *key;
        unsigned flag;
    } flags[] = {
        {"required", SB_FIELD_REQUIRED}, {"unique", SB_FIELD_UNIQUE},
        {"pii", SB_FIELD_PII},           {"readonly", SB_FIELD_READONLY},
        {"hidden", SB_FIELD_HIDDEN},     {"searchable", SB_FIELD_SEARCHABLE},
        {"system", SB_FIELD_SYSTEM},
    };
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        set(obj, flags[i].key, json_boolean(field->flags & flags[i].flag));
    set(obj, "default", expr_json(field->default_expr));
    set(obj, "check", expr_json(field->check));
    json_t *rules = json_object();
    set(rules, "read", rule_json(field->read_rule));
    set(rules, "write", rule_json(field->write_rule));
    set(obj, "rules", rules);
    return obj;
}

static json_t *collection_json(const struct sb_collection *coll)
{
    json_t *obj = json_object();
    set(obj, "name", jstr(coll->name));

    json_t *fields = json_array();
    if (coll->n_fields > 0) {
        for (size_t i = 0; i < coll->n_fields; i++)
            json_array_append_new(fields, field_json(coll->fields[i]));
    } else {
        /* not checked yet: the declared fields */
        for (size_t i = 0; i < coll->n_members; i++)
            if (coll->members[i].kind == SB_MEMBER_FIELD)
                json_array_append_new(fields, field_json(coll->members[i].item));
    }
    set(obj, "fields", fields);

    json_t *indexes = json_array();
    for (size_t i = 0; i < coll->n_indexes; i++) {
        const struct sb_index *index = coll->indexes[i];
        json_t *idx = json_object();
        set(idx, "name", jstr(index->name));
        json_t *columns = json_array();
        for (size_t c = 0; c < index->n_columns; c++)
            json_array_append_new(columns, jstr(index->column_names[c]));
        set(idx, "columns", columns);
        set(idx, "unique", json_boolean(index->unique));
        json_array_append_new(indexes, idx);
    }
    set(obj, "indexes", indexes);

    json_t *checks = json_array();
    for (size_t i = 0; i < coll->n_checks; i++)
        json_array_append_new(checks, expr_json(coll->checks[i]->expr));
    set(obj, "checks", checks);

    json_t *rules = json_object();
    set(rules, "read", rule_json(coll->read_rule));
    set(rules, "create", rule_json(coll->create_rule));
    set(rules, "update", rule_json(coll->update_rule));
    set(rules, "delete", rule_json(coll->delete_rule));
    set(obj, "rules", rules);
    return obj;
}

/* ---- actions ---------------------------------------------------------------- */

static json_t *assigns_json(const struct sb_step *step)
{
    json_t *obj = json_object();
    for (size_t i = 0; i < step->n_assigns; i++)
        set(obj, step->assigns[i].name, expr_json(step->assigns[i].value));
    return obj;
}

static json_t *else_json(const struct sb_step *step)
{
    if (!step->has_else)
        return json_null();
    json_t *obj = json_object();
    set(obj, "status", json_integer(step->status));
    set(obj, "message", jstr(step->message ? step->message : ""));
    return obj;
}

static json_t *step_json(const struct sb_step *step)
{
    static const char *const kinds[] = {
        [SB_STEP_REQUIRE] = "require", [SB_STEP_CREATE] = "create", [SB_STEP_UPDATE] = "update",
        [SB_STEP_DELETE] = "delete",   [SB_STEP_GET] = "get",       [SB_STEP_LIST] = "list",
        [SB_STEP_RETURN] = "return",
    };
    json_t *obj = json_object();
    set(obj, "kind", jstr(kinds[step->kind]));
    switch (step->kind) {
    case SB_STEP_REQUIRE:
        set(obj, "condition", expr_json(step->expr));
        set(obj, "else", else_json(step));
        return obj;
    case SB_STEP_RETURN:
        set(obj, "value", expr_json(step->expr));
        return obj;
    default:
        break;
    }
    set(obj, "bind", jstr(step->bind_name));
    set(obj, "collection", jstr(step->coll ? step->coll->name : step->coll_name));
    switch (step->kind) {
    case SB_STEP_CREATE:
        set(obj, "values", assigns_json(step));
        break;
    case SB_STEP_UPDATE:
        set(obj, "where", expr_json(step->where));
        set(obj, "set", assigns_json(step));
        set(obj, "else", else_json(step));
        break;
    case SB_STEP_DELETE:
    case SB_STEP_GET:
        set(obj, "where", expr_json(step->where));
        set(obj, "else", else_json(step));
        break;
    case SB_STEP_LIST:
        set(obj, "where", expr_json(step->where));
        break;
    default:
        break;
    }
    return obj;
}

static json_t *action_json(const struct sb_action *action)
{
    json_t *obj = json_object();
    set(obj, "name", jstr(action->name));
    set(obj, "read_only", json_boolean(action->read_only));
    json_t *params = json_array();
    for (size_t i = 0; i < action->n_params; i++) {
        const struct sb_param *param = &action->params[i];
        json_t *p = json_object();
        set(p, "name", jstr(param->name));
        set(p, "type", type_json(&param->type, NULL));
        set(p, "default", expr_json(param->default_expr));
        set(p, "required", json_boolean(param->default_expr == NULL));
        json_array_append_new(params, p);
    }
    set(obj, "params", params);
    set(obj, "allow", expr_json(action->allow));
    json_t *steps = json_array();
    for (size_t i = 0; i < action->n_steps; i++)
        json_array_append_new(steps, step_json(&action->steps[i]));
    set(obj, "steps", steps);
    return obj;
}

/* ---- the whole model -------------------------------------------------------- */

static json_t *auth_json(const struct sb_auth *auth)
{
    if (!auth->present)
        return json_null();
    json_t *obj = json_object();
    set(obj, "users", jstr(auth->users ? auth->users->name : auth->users_name));
    json_t *roles = json_array();
    for (size_t i = 0; i < auth->n_roles; i++)
        json_array_append_new(roles, jstr(auth->roles[i]));
    set(obj, "roles", roles);
    return obj;
}

static json_t *security_json(const struct sb_security *sec)
{
    if (!sec->present)
        return json_null();
    json_t *obj = json_object(), *limits = json_object(), *policy = json_object(), *audit = json_array();
    for (size_t i = 0; i < sec->n_entries; i++) {
        const struct sb_security_entry *e = &sec->entries[i];
        json_t *item = json_object();
        switch (e->kind) {
        case SB_SEC_LIMIT:
            set(item, "requests", json_integer(e->count));
            set(item, "per_seconds", json_integer(e->per_s));
            set(item, "burst", e->burst_offset ? json_integer(e->burst) : json_null());
            set(limits, e->name, item);
            break;
        case SB_SEC_ON:
            set(item, "action", jstr(e->action));
            set(item, "seconds",
                e->duration_offset ? json_integer(e->duration_n * e->duration_unit_s) : json_null());
            set(policy, e->name, item);
            break;
        case SB_SEC_AUDIT:
            json_decref(item);
            for (size_t j = 0; j < e->n_roles; j++)
                json_array_append_new(audit, jstr(e->roles[j]));
            break;
        }
    }
    set(obj, "limits", limits);
    set(obj, "policy", policy);
    set(obj, "audit", audit);
    return obj;
}

void sb_spec_to_json(const struct sb_model *model, struct sb_buf *out)
{
    json_t *root = json_object();
    set(root, "specbase", json_integer(SB_MODEL_JSON_VERSION));
    set(root, "app", jstr(model->app_name));
    set(root, "auth", auth_json(&model->auth));
    set(root, "security", security_json(&model->security));
    json_t *collections = json_array();
    for (size_t i = 0; i < model->n_collections; i++)
        json_array_append_new(collections, collection_json(model->collections[i]));
    set(root, "collections", collections);
    json_t *actions = json_array();
    for (size_t i = 0; i < model->n_actions; i++)
        json_array_append_new(actions, action_json(model->actions[i]));
    set(root, "actions", actions);

    /* 15 significant digits print every literal written with up to 15
     * digits exactly as written (0.1, not 0.10000000000000001); the
     * expression's "text" keeps the literal itself */
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
    json_decref(root);
    if (!text)
        sb_die("json: out of memory");
    sb_buf_puts(out, text);
    sb_buf_putc(out, '\n');
    free(text);
}
