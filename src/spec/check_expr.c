/* Expression checker: resolves every name in an expression (fields, new./
 * old. values, auth.*, parameters, `let` bindings, functions) against the
 * scope it appears in, and derives each node's value type, reporting
 * mismatches with the operator and both types. Enum values and role names
 * written as strings are checked against their declared sets, with
 * suggestions. Called by check.c for defaults, checks, rules and actions. */
#include <string.h>

#include "spec/check_int.h"
#include "util/formats.h"

static struct sb_vtype vt(enum sb_vkind kind)
{
    struct sb_vtype t = {0};
    t.kind = kind;
    return t;
}

static enum sb_vkind scalar_vkind(enum sb_type_kind kind)
{
    switch (kind) {
    case SB_TYPE_INT: return SB_V_INT;
    case SB_TYPE_FLOAT: return SB_V_FLOAT;
    case SB_TYPE_DECIMAL: return SB_V_DECIMAL;
    case SB_TYPE_BOOL: return SB_V_BOOL;
    case SB_TYPE_TIMESTAMP: return SB_V_TIMESTAMP;
    case SB_TYPE_DATE: return SB_V_DATE;
    case SB_TYPE_ENUM: return SB_V_ENUM;
    case SB_TYPE_JSON: return SB_V_JSON;
    case SB_TYPE_REF: return SB_V_ID;
    default: return SB_V_TEXT;
    }
}

struct sb_vtype sb_vtype_of(const struct sb_type *type, bool nullable,
                            const struct sb_collection *owner_for_id)
{
    /* owner_for_id: set only for a collection's system id, which is an int
     * column whose values are ids of that collection */
    struct sb_vtype t = vt(scalar_vkind(type->kind));
    if (type->kind == SB_TYPE_ENUM)
        t.enum_type = type;
    if (type->kind == SB_TYPE_REF) {
        t.coll = type->ref;
        if (!type->ref && type->ref_name)
            t.kind = SB_V_ERROR; /* unknown target: already reported */
    }
    if (owner_for_id && type->kind == SB_TYPE_INT && !type->is_array) {
        t.kind = SB_V_ID; /* the system id of owner_for_id */
        t.coll = owner_for_id;
    }
    if (type->is_array) {
        t.elem = t.kind;
        t.kind = SB_V_LIST;
    }
    t.nullable = nullable;
    return t;
}

static const char *kind_name(enum sb_vkind kind)
{
    switch (kind) {
    case SB_V_ERROR: return "an invalid value";
    case SB_V_NULL: return "null";
    case SB_V_BOOL: return "bool";
    case SB_V_INT: return "int";
    case SB_V_FLOAT: return "float";
    case SB_V_DECIMAL: return "decimal";
    case SB_V_TEXT: return "text";
    case SB_V_ENUM: return "enum";
    case SB_V_TIMESTAMP: return "timestamp";
    case SB_V_DATE: return "date";
    case SB_V_JSON: return "json";
    case SB_V_ID: return "id";
    case SB_V_LIST: return "list";
    case SB_V_ROW: return "row";
    case SB_V_ROWS: return "rows";
    case SB_V_OBJECT: return "object";
    }
    return "value";
}

const char *sb_vtype_name(struct checker *c, const struct sb_vtype *t)
{
    switch (t->kind) {
    case SB_V_ID:
        return t->coll ? sb_arena_printf(c->arena, "id of %s", t->coll->name) : "id";
    case SB_V_ROW:
        return sb_arena_printf(c->arena, "a row of %s", t->coll ? t->coll->name : "?");
    case SB_V_ROWS:
        return sb_arena_printf(c->arena, "rows of %s", t->coll ? t->coll->name : "?");
    case SB_V_LIST:
        return sb_arena_printf(c->arena, "list of %s", kind_name(t->elem));
    case SB_V_ENUM:
        if (t->enum_type) {
            struct sb_buf b;
            sb_buf_init(&b);
            sb_buf_puts(&b, "enum(");
            for (size_t i = 0; i < t->enum_type->n_enum_values; i++)
                sb_buf_printf(&b, "%s%s", i ? ", " : "", t->enum_type->enum_values[i]);
            sb_buf_putc(&b, ')');
            const char *s = sb_arena_strdup(c->arena, sb_buf_str(&b));
            sb_buf_free(&b);
            return s;
        }
        return "enum";
    default:
        return kind_name(t->kind);
    }
}

const char **sb_check_field_names(struct checker *c, const struct sb_collection *coll)
{
    const char **names = sb_arena_alloc(c->arena, (coll->n_fields + 1) * sizeof(*names));
    for (size_t i = 0; i < coll->n_fields; i++)
        names[i] = coll->fields[i]->name;
    return names;
}

static bool is_numeric(enum sb_vkind k)
{
    return k == SB_V_INT || k == SB_V_FLOAT || k == SB_V_DECIMAL;
}

static bool is_text_like(enum sb_vkind k)
{
    return k == SB_V_TEXT || k == SB_V_ENUM;
}

static const struct sb_field *field_of(const struct sb_collection *coll, const char *name)
{
    return coll ? sb_collection_field(coll, name) : NULL;
}

static const struct sb_param *param_of(const struct scope *s, const char *name)
{
    if (!s->action)
        return NULL;
    for (size_t i = 0; i < s->action->n_params; i++)
        if (strcmp(s->action->params[i].name, name) == 0)
            return &s->action->params[i];
    return NULL;
}

static const struct sb_step *binding_of(const struct scope *s, const char *name)
{
    if (!s->action)
        return NULL;
    for (size_t i = 0; i < s->n_steps_visible && i < s->action->n_steps; i++) {
        const struct sb_step *step = &s->action->steps[i];
        if (step->bind_name && strcmp(step->bind_name, name) == 0)
            return step;
    }
    return NULL;
}

static void field_ref(struct checker *c, struct sb_expr *e, const struct sb_field *field,
                      enum sb_ref_kind ref)
{
    if (field->type.kind == SB_TYPE_PASSWORD) {
        sb_diag_error(c->diags, e->offset, e->length,
                      "password field '%s' cannot be used in an expression: it is write-only",
                      field->name);
        e->vtype = vt(SB_V_ERROR);
        return;
    }
    e->ref = ref;
    e->field = field;
    bool is_id = (field->flags & SB_FIELD_SYSTEM) && !strcmp(field->name, "id");
    e->vtype = sb_vtype_of(&field->type, !(field->flags & SB_FIELD_REQUIRED), is_id ? field->owner : NULL);
    if (field->flags & SB_FIELD_SYSTEM)
        e->vtype.nullable = false;
}

static void unknown_name(struct checker *c, struct sb_expr *e, const struct scope *s)
{
    struct sb_ptrvec cands = {0};
    if (s->coll)
        for (size_t i = 0; i < s->coll->n_fields; i++)
            sb_ptrvec_push(c->arena, &cands, (void *)s->coll->fields[i]->name);
    if (s->action) {
        for (size_t i = 0; i < s->action->n_params; i++)
            sb_ptrvec_push(c->arena, &cands, (void *)s->action->params[i].name);
        for (size_t i = 0; i < s->n_steps_visible && i < s->action->n_steps; i++)
            if (s->action->steps[i].bind_name)
                sb_ptrvec_push(c->arena, &cands, (void *)s->action->steps[i].bind_name);
    }
    sb_ptrvec_push(c->arena, &cands, NULL);
    const char *hint = sb_suggest(e->name, strlen(e->name), (const char *const *)cands.items);
    if (hint) {
        sb_diag_error(c->diags, e->offset, e->length, "unknown name '%s'; did you mean '%s'?",
                      e->name, hint);
    } else if (!s->coll) {
        sb_diag_error(c->diags, e->offset, e->length, "unknown name '%s' in %s", e->name, s->what);
    } else {
        sb_diag_error(c->diags, e->offset, e->length, "unknown name '%s': '%s' has no such field",
                      e->name, s->coll->name);
    }
    e->vtype = vt(SB_V_ERROR);
}

static void check_name(struct checker *c, struct sb_expr *e, const struct scope *s)
{
    const char *name = e->name;
    if (!strcmp(name, "auth") || !strcmp(name, "new") || !strcmp(name, "old")) {
        sb_diag_error(c->diags, e->offset, e->length, "'%s' needs a member, for example %s",
                      name, !strcmp(name, "auth") ? "auth.id" : !strcmp(name, "new") ? "new.price" : "old.price");
        e->vtype = vt(SB_V_ERROR);
        return;
    }
    if (s->kind == SCOPE_DEFAULT) {
        sb_diag_error(c->diags, e->offset, e->length,
                      "a default cannot refer to '%s': use a constant, now(), today() or auth.*", name);
        e->vtype = vt(SB_V_ERROR);
        return;
    }
    const struct sb_field *field = field_of(s->coll, name);
    const struct sb_param *param = param_of(s, name);
    const struct sb_step *binding = binding_of(s, name);
    if (field && (param || binding)) {
        sb_diag_error(c->diags, e->offset, e->length,
                      "'%s' is both a field of '%s' and %s of the action; rename the %s", name,
                      s->coll->name, param ? "a parameter" : "a binding", param ? "parameter" : "binding");
        e->vtype = vt(SB_V_ERROR);
        return;
    }
    if (field) {
        field_ref(c, e, field, SB_REF_FIELD);
        return;
    }
    if (param) {
        e->ref = SB_REF_PARAM;
        e->param = param;
        e->vtype = sb_vtype_of(&param->type, param->default_expr != NULL, NULL);
        e->vtype.nullable = false;
        return;
    }
    if (binding) {
        e->ref = SB_REF_BINDING;
        e->step = binding;
        e->vtype = vt(binding->kind == SB_STEP_LIST ? SB_V_ROWS : SB_V_ROW);
        e->vtype.coll = binding->coll;
        return;
    }
    unknown_name(c, e, s);
}

static void check_member(struct checker *c, struct sb_expr *e, const struct scope *s)
{
    struct sb_expr *base = e->left;
    e->vtype = vt(SB_V_ERROR);
    if (base->kind != SB_EXPR_NAME) {
        sb_diag_error(c->diags, e->name_offset, strlen(e->name),
                      "'.%s' must follow auth, new, old or a binding", e->name);
        return;
    }
    const char *bname = base->name;
    if (!strcmp(bname, "auth")) {
        base->vtype = vt(SB_V_NULL);
        if (s->kind == SCOPE_CHECK) {
            sb_diag_error(c->diags, e->offset, e->length,
                          "%s cannot use auth.*: checks are rules about the data alone; use a rule", s->what);
            return;
        }
        if (!strcmp(e->name, "id")) {
            e->ref = SB_REF_AUTH_ID;
            e->vtype = c->users ? vt(SB_V_ID) : vt(SB_V_TEXT);
            e->vtype.coll = c->users;
            e->vtype.nullable = true;
        } else if (!strcmp(e->name, "role")) {
            e->ref = SB_REF_AUTH_ROLE;
            e->vtype = vt(SB_V_TEXT);
        } else if (!strcmp(e->name, "email")) {
            if (!c->users) {
                sb_diag_error(c->diags, e->offset, e->length,
                              "auth.email needs an auth block with a users collection");
                return;
            }
            e->ref = SB_REF_AUTH_EMAIL;
            e->vtype = vt(SB_V_TEXT);
            e->vtype.nullable = true;
        } else {
            static const char *const members[] = {"id", "role", "email", NULL};
            const char *hint = sb_suggest(e->name, strlen(e->name), members);
            sb_diag_error(c->diags, e->name_offset, strlen(e->name),
                          "unknown 'auth.%s'%s%s%s", e->name, hint ? "; did you mean 'auth." : " (auth has id, role and email)",
                          hint ? hint : "", hint ? "'?" : "");
        }
        return;
    }
    if (!strcmp(bname, "new") || !strcmp(bname, "old")) {
        bool is_new = !strcmp(bname, "new");
        base->vtype = vt(SB_V_NULL);
        if ((is_new && !s->allow_new) || (!is_new && !s->allow_old)) {
            sb_diag_error(c->diags, e->offset, e->length,
                          is_new ? "'new.' is only for create and update rules (the values being written)"
                                 : "'old.' is only for update rules (the row before the change)");
            return;
        }
        const struct sb_field *field = field_of(s->coll, e->name);
        if (!field) {
            const char *hint = s->coll ? sb_suggest(e->name, strlen(e->name), sb_check_field_names(c, s->coll)) : NULL;
            if (hint)
                sb_diag_error(c->diags, e->name_offset, strlen(e->name),
                              "unknown field '%s'; did you mean '%s'?", e->name, hint);
            else
                sb_diag_error(c->diags, e->name_offset, strlen(e->name),
                              "'%s' has no field '%s'", s->coll ? s->coll->name : "?", e->name);
            return;
        }
        field_ref(c, e, field, is_new ? SB_REF_NEW_FIELD : SB_REF_OLD_FIELD);
        return;
    }
    const struct sb_step *binding = s->coll && field_of(s->coll, bname) && !binding_of(s, bname) ? NULL
                                                                                                  : binding_of(s, bname);
    if (binding) {
        base->ref = SB_REF_BINDING;
        base->step = binding;
        if (binding->kind == SB_STEP_LIST) {
            sb_diag_error(c->diags, e->offset, e->length,
                          "'%s' is a list of rows; it has no field '%s'", bname, e->name);
            return;
        }
        base->vtype = vt(SB_V_ROW);
        base->vtype.coll = binding->coll;
        const struct sb_field *field = field_of(binding->coll, e->name);
        if (!field) {
            const char *hint = binding->coll ? sb_suggest(e->name, strlen(e->name), sb_check_field_names(c, binding->coll)) : NULL;
            if (hint)
                sb_diag_error(c->diags, e->name_offset, strlen(e->name),
                              "unknown field '%s'; did you mean '%s'?", e->name, hint);
            else
                sb_diag_error(c->diags, e->name_offset, strlen(e->name), "'%s' has no field '%s'",
                              binding->coll ? binding->coll->name : "?", e->name);
            return;
        }
        field_ref(c, e, field, SB_REF_BINDING_FIELD);
        e->step = binding;
        return;
    }
    if (param_of(s, bname) || field_of(s->coll, bname)) {
        sb_diag_error(c->diags, e->offset, e->length,
                      "'%s' is a value, not a row: to use a related row's fields, read it with "
                      "'let x = get ...' in an action", bname);
        return;
    }
    check_name(c, base, s); /* reports the unknown name */
}

struct func_info {
    const char *name;
    enum sb_func func;
    size_t min_args, max_args;
};

static const struct func_info funcs[] = {
    {"now", SB_FUNC_NOW, 0, 0},     {"today", SB_FUNC_TODAY, 0, 0}, {"lower", SB_FUNC_LOWER, 1, 1},
    {"upper", SB_FUNC_UPPER, 1, 1}, {"len", SB_FUNC_LEN, 1, 1},     {"abs", SB_FUNC_ABS, 1, 1},
    {"coalesce", SB_FUNC_COALESCE, 2, 8},
};

static bool comparable(struct checker *c, const struct sb_expr *l, const struct sb_expr *r,
                       bool ordering);

static void check_call(struct checker *c, struct sb_expr *e, const struct scope *s)
{
    const struct func_info *info = NULL;
    for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
        if (!strcmp(funcs[i].name, e->name))
            info = &funcs[i];
    e->vtype = vt(SB_V_ERROR);
    for (size_t i = 0; i < e->n_args; i++)
        sb_check_expr(c, e->args[i], s);
    if (!info) {
        static const char *const names[] = {"now", "today", "lower", "upper", "len", "abs", "coalesce", NULL};
        const char *hint = sb_suggest(e->name, strlen(e->name), names);
        if (hint)
            sb_diag_error(c->diags, e->name_offset, strlen(e->name),
                          "unknown function '%s'; did you mean '%s'?", e->name, hint);
        else
            sb_diag_error(c->diags, e->name_offset, strlen(e->name),
                          "unknown function '%s' (functions: now, today, lower, upper, len, abs, coalesce)",
                          e->name);
        return;
    }
    e->ref = SB_REF_FUNCTION;
    e->func = info->func;
    if (e->n_args < info->min_args || e->n_args > info->max_args) {
        if (info->min_args == info->max_args)
            sb_diag_error(c->diags, e->offset, e->length, "%s() takes %zu argument%s, not %zu",
                          e->name, info->min_args, info->min_args == 1 ? "" : "s", e->n_args);
        else
            sb_diag_error(c->diags, e->offset, e->length, "%s() takes %zu to %zu arguments, not %zu",
                          e->name, info->min_args, info->max_args, e->n_args);
        return;
    }
    for (size_t i = 0; i < e->n_args; i++)
        if (e->args[i]->vtype.kind == SB_V_ERROR)
            return;
    if ((info->func == SB_FUNC_NOW || info->func == SB_FUNC_TODAY) && s->kind == SCOPE_CHECK) {
        sb_diag_error(c->diags, e->offset, e->length,
                      "%s cannot use %s(): a check must give the same answer every time", s->what, e->name);
        return;
    }
    const struct sb_vtype *a0 = e->n_args ? &e->args[0]->vtype : NULL;
    switch (info->func) {
    case SB_FUNC_NOW:
        e->vtype = vt(SB_V_TIMESTAMP);
        return;
    case SB_FUNC_TODAY:
        e->vtype = vt(SB_V_DATE);
        return;
    case SB_FUNC_LOWER:
    case SB_FUNC_UPPER:
        if (!is_text_like(a0->kind) && a0->kind != SB_V_NULL) {
            sb_diag_error(c->diags, e->args[0]->offset, e->args[0]->length, "%s() takes text, not %s", e->name, sb_vtype_name(c, a0));
            return;
        }
        e->vtype = vt(SB_V_TEXT);
        e->vtype.nullable = a0->nullable;
        return;
    case SB_FUNC_LEN:
        if (!is_text_like(a0->kind) && a0->kind != SB_V_LIST) {
            sb_diag_error(c->diags, e->args[0]->offset, e->args[0]->length, "len() takes text or a list, not %s", sb_vtype_name(c, a0));
            return;
        }
        e->vtype = vt(SB_V_INT);
        e->vtype.nullable = a0->nullable;
        return;
    case SB_FUNC_ABS:
        if (!is_numeric(a0->kind)) {
            sb_diag_error(c->diags, e->args[0]->offset, e->args[0]->length, "abs() takes a number, not %s", sb_vtype_name(c, a0));
            return;
        }
        e->vtype = *a0;
        return;
    case SB_FUNC_COALESCE: {
        e->vtype = e->args[0]->vtype;
        for (size_t i = 1; i < e->n_args; i++) {
            if (!comparable(c, e->args[0], e->args[i], false))
                return;
            if (e->vtype.kind == SB_V_NULL)
                e->vtype = e->args[i]->vtype;
        }
        e->vtype.nullable = e->args[e->n_args - 1]->vtype.nullable;
        return;
    }
    case SB_FUNC_NONE:
        break;
    }
}

/* Does the string literal e name one of values? Reports otherwise. */
static bool check_member_of(struct checker *c, const struct sb_expr *e, const char *const *values,
                            size_t n_values, const char *what, const char *owner)
{
    for (size_t i = 0; i < n_values; i++)
        if (strlen(values[i]) == e->text_len && !memcmp(values[i], e->text, e->text_len))
            return true;
    struct sb_buf list;
    sb_buf_init(&list);
    for (size_t i = 0; i < n_values; i++)
        sb_buf_printf(&list, "%s%s", i ? ", " : "", values[i]);
    const char **cands = sb_arena_alloc(c->arena, (n_values + 1) * sizeof(*cands));
    for (size_t i = 0; i < n_values; i++)
        cands[i] = values[i];
    const char *hint = e->text_len <= 64 ? sb_suggest(e->text, e->text_len, cands) : NULL;
    int n = e->text_len > 40 ? 40 : (int)e->text_len;
    if (hint)
        sb_diag_error(c->diags, e->offset, e->length, "unknown %s '%.*s'; did you mean '%s'?", what,
                      n, e->text, hint);
    else
        sb_diag_error(c->diags, e->offset, e->length, "unknown %s '%.*s' (%s: %s)", what, n, e->text,
                      owner, sb_buf_str(&list));
    sb_buf_free(&list);
    return false;
}

static size_t count_names(const char *const *names)
{
    size_t n = 0;
    while (names[n])
        n++;
    return n;
}

/* A string literal compared with or stored into a typed value: enum
 * membership, role names, and the formats of dates, timestamps, uuids. */
static bool check_literal_against(struct checker *c, const struct sb_vtype *t,
                                  enum sb_ref_kind ref, const struct sb_expr *lit)
{
    if (ref == SB_REF_AUTH_ROLE)
        return check_member_of(c, lit, c->role_names, count_names(c->role_names), "role", "roles");
    enum sb_vkind kind = t->kind == SB_V_LIST ? t->elem : t->kind;
    if (kind == SB_V_ENUM && t->enum_type)
        return check_member_of(c, lit, t->enum_type->enum_values, t->enum_type->n_enum_values,
                               "enum value", "values");
    if (kind == SB_V_TIMESTAMP && !sb_format_timestamp(lit->text, lit->text_len)) {
        sb_diag_error(c->diags, lit->offset, lit->length,
                      "not a timestamp: write RFC 3339, for example \"2024-01-31T12:00:00Z\"");
        return false;
    }
    if (kind == SB_V_DATE && !sb_format_date(lit->text, lit->text_len)) {
        sb_diag_error(c->diags, lit->offset, lit->length,
                      "not a date: write YYYY-MM-DD, for example \"2024-01-31\"");
        return false;
    }
    return true;
}

/* Can two typed expressions be compared (== != or, with ordering, < <= > >=)?
 * Reports and returns false when not. */
static bool comparable(struct checker *c, const struct sb_expr *l, const struct sb_expr *r,
                       bool ordering)
{
    const struct sb_vtype *lt = &l->vtype, *rt = &r->vtype;
    if (lt->kind == SB_V_ERROR || rt->kind == SB_V_ERROR)
        return false;
    if (lt->kind == SB_V_NULL || rt->kind == SB_V_NULL) {
        if (ordering) {
            sb_diag_error(c->diags, (lt->kind == SB_V_NULL ? l : r)->offset, 4,
                          "null cannot be ordered; test it with == null or != null");
            return false;
        }
        return true;
    }
    if (ordering && (lt->kind == SB_V_ENUM || rt->kind == SB_V_ENUM)) {
        sb_diag_error(c->diags, l->offset, r->offset + r->length - l->offset,
                      "enum values cannot be ordered; compare them with == or != (or in [...])");
        return false;
    }
    /* a string literal against a typed value: validate the literal */
    if (r->kind == SB_EXPR_STRING && lt->kind != SB_V_TEXT)
        if (lt->kind == SB_V_ENUM || lt->kind == SB_V_TIMESTAMP || lt->kind == SB_V_DATE)
            return check_literal_against(c, lt, l->ref, r);
    if (l->kind == SB_EXPR_STRING && rt->kind != SB_V_TEXT)
        if (rt->kind == SB_V_ENUM || rt->kind == SB_V_TIMESTAMP || rt->kind == SB_V_DATE)
            return check_literal_against(c, rt, r->ref, l);
    if (r->kind == SB_EXPR_STRING && l->ref == SB_REF_AUTH_ROLE)
        return check_literal_against(c, lt, l->ref, r);
    if (l->kind == SB_EXPR_STRING && r->ref == SB_REF_AUTH_ROLE)
        return check_literal_against(c, rt, r->ref, l);
    bool ok;
    if (is_numeric(lt->kind) && is_numeric(rt->kind))
        ok = true;
    else if (is_text_like(lt->kind) && is_text_like(rt->kind))
        ok = lt->kind == SB_V_TEXT || rt->kind == SB_V_TEXT || lt->enum_type == rt->enum_type || !ordering;
    else if (lt->kind == SB_V_ID && rt->kind == SB_V_ID)
        ok = !lt->coll || !rt->coll || lt->coll == rt->coll;
    else if ((lt->kind == SB_V_ID && rt->kind == SB_V_INT) || (lt->kind == SB_V_INT && rt->kind == SB_V_ID))
        ok = true;
    else if ((lt->kind == SB_V_TIMESTAMP && rt->kind == SB_V_DATE) || (lt->kind == SB_V_DATE && rt->kind == SB_V_TIMESTAMP))
        ok = true;
    else
        ok = lt->kind == rt->kind && lt->kind != SB_V_ROW && lt->kind != SB_V_ROWS && lt->kind != SB_V_OBJECT;
    if (ok && ordering && (lt->kind == SB_V_BOOL || lt->kind == SB_V_ID || lt->kind == SB_V_JSON ||
                           lt->kind == SB_V_LIST || lt->kind == SB_V_ENUM)) {
        sb_diag_error(c->diags, l->offset, r->offset + r->length - l->offset,
                      "%s values cannot be ordered; compare them with == or !=", sb_vtype_name(c, lt));
        return false;
    }
    if (!ok)
        sb_diag_error(c->diags, l->offset, r->offset + r->length - l->offset,
                      "cannot compare %s with %s", sb_vtype_name(c, lt), sb_vtype_name(c, rt));
    return ok;
}

static const char *op_text(enum sb_op op)
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

static void need_bool(struct checker *c, const struct sb_expr *operand, enum sb_op op)
{
    if (operand->vtype.kind != SB_V_BOOL && operand->vtype.kind != SB_V_ERROR)
        sb_diag_error(c->diags, operand->offset, operand->length,
                      "'%s' needs a condition (true or false), but this is %s", op_text(op),
                      sb_vtype_name(c, &operand->vtype));
}

static void check_in(struct checker *c, struct sb_expr *e)
{
    struct sb_expr *l = e->left, *r = e->right;
    e->vtype = vt(SB_V_BOOL);
    if (l->vtype.kind == SB_V_ERROR || r->vtype.kind == SB_V_ERROR)
        return;
    if (r->kind == SB_EXPR_LIST) {
        for (size_t i = 0; i < r->n_args; i++)
            comparable(c, l, r->args[i], false);
        return;
    }
    if (r->vtype.kind == SB_V_LIST) {
        /* membership in an array field: compare with its element type */
        struct sb_expr elem = *r;
        elem.kind = SB_EXPR_NAME;
        elem.vtype.kind = r->vtype.elem;
        elem.ref = SB_REF_NONE;
        comparable(c, l, &elem, false);
        return;
    }
    sb_diag_error(c->diags, r->offset, r->length,
                  "'%s' needs a list on its right ([a, b] or an array field), but this is %s",
                  op_text(e->op), sb_vtype_name(c, &r->vtype));
}

static void check_binary(struct checker *c, struct sb_expr *e)
{
    struct sb_expr *l = e->left, *r = e->right;
    const struct sb_vtype *lt = &l->vtype, *rt = &r->vtype;
    e->vtype = vt(SB_V_BOOL);
    switch (e->op) {
    case SB_OP_OR:
    case SB_OP_AND:
        need_bool(c, l, e->op);
        need_bool(c, r, e->op);
        return;
    case SB_OP_EQ:
    case SB_OP_NE:
        comparable(c, l, r, false);
        return;
    case SB_OP_LT:
    case SB_OP_LE:
    case SB_OP_GT:
    case SB_OP_GE:
        comparable(c, l, r, true);
        return;
    case SB_OP_IN:
    case SB_OP_NOT_IN:
        check_in(c, e);
        return;
    default:
        break;
    }
    /* arithmetic */
    if (lt->kind == SB_V_ERROR || rt->kind == SB_V_ERROR) {
        e->vtype = vt(SB_V_ERROR);
        return;
    }
    if (!is_numeric(lt->kind) || !is_numeric(rt->kind)) {
        const struct sb_expr *bad = is_numeric(lt->kind) ? r : l;
        sb_diag_error(c->diags, bad->offset, bad->length, "'%s' needs numbers, but this is %s",
                      op_text(e->op), sb_vtype_name(c, &bad->vtype));
        e->vtype = vt(SB_V_ERROR);
        return;
    }
    if (lt->kind == SB_V_FLOAT || rt->kind == SB_V_FLOAT)
        e->vtype = vt(SB_V_FLOAT);
    else if (lt->kind == SB_V_DECIMAL || rt->kind == SB_V_DECIMAL)
        e->vtype = vt(SB_V_DECIMAL);
    else
        e->vtype = vt(SB_V_INT);
    e->vtype.nullable = lt->nullable || rt->nullable;
}

static void check_list(struct checker *c, struct sb_expr *e, const struct scope *s)
{
    e->vtype = vt(SB_V_LIST);
    e->vtype.elem = SB_V_NULL;
    for (size_t i = 0; i < e->n_args; i++) {
        struct sb_expr *item = e->args[i];
        sb_check_expr(c, item, s);
        if (item->vtype.kind == SB_V_ERROR)
            continue;
        if (item->vtype.kind == SB_V_LIST || item->vtype.kind == SB_V_ROW ||
            item->vtype.kind == SB_V_ROWS || item->vtype.kind == SB_V_OBJECT) {
            sb_diag_error(c->diags, item->offset, item->length,
                          "a list holds plain values, not %s", sb_vtype_name(c, &item->vtype));
            continue;
        }
        if (e->vtype.elem == SB_V_NULL) {
            e->vtype.elem = item->vtype.kind;
            e->vtype.coll = item->vtype.coll;
        } else if (i > 0 && item->vtype.kind != SB_V_NULL) {
            comparable(c, e->args[0], item, false);
        }
    }
}

void sb_check_expr(struct checker *c, struct sb_expr *e, const struct scope *s)
{
    switch (e->kind) {
    case SB_EXPR_INT:
        e->vtype = vt(SB_V_INT);
        return;
    case SB_EXPR_FLOAT:
        e->vtype = vt(SB_V_FLOAT);
        return;
    case SB_EXPR_STRING:
        e->vtype = vt(SB_V_TEXT);
        return;
    case SB_EXPR_BOOL:
        e->vtype = vt(SB_V_BOOL);
        return;
    case SB_EXPR_NULL:
        e->vtype = vt(SB_V_NULL);
        e->vtype.nullable = true;
        return;
    case SB_EXPR_ANYONE:
    case SB_EXPR_AUTHENTICATED:
        e->vtype = vt(SB_V_BOOL);
        if (s->kind != SCOPE_RULE && s->kind != SCOPE_ACTION) {
            sb_diag_error(c->diags, e->offset, e->length, "'%s' is only for rules, not for %s",
                          e->kind == SB_EXPR_ANYONE ? "anyone" : "authenticated", s->what);
            e->vtype = vt(SB_V_ERROR);
        }
        return;
    case SB_EXPR_NAME:
        check_name(c, e, s);
        return;
    case SB_EXPR_MEMBER:
        check_member(c, e, s);
        return;
    case SB_EXPR_UNARY:
        sb_check_expr(c, e->left, s);
        if (e->op == SB_OP_NOT) {
            need_bool(c, e->left, e->op);
            e->vtype = vt(SB_V_BOOL);
        } else if (e->left->vtype.kind == SB_V_ERROR) {
            e->vtype = vt(SB_V_ERROR);
        } else if (!is_numeric(e->left->vtype.kind)) {
            sb_diag_error(c->diags, e->left->offset, e->left->length,
                          "'-' needs a number, but this is %s", sb_vtype_name(c, &e->left->vtype));
            e->vtype = vt(SB_V_ERROR);
        } else {
            e->vtype = e->left->vtype;
        }
        return;
    case SB_EXPR_BINARY:
        sb_check_expr(c, e->left, s);
        sb_check_expr(c, e->right, s);
        check_binary(c, e);
        return;
    case SB_EXPR_CALL:
        check_call(c, e, s);
        return;
    case SB_EXPR_LIST:
        check_list(c, e, s);
        return;
    case SB_EXPR_OBJECT:
        e->vtype = vt(SB_V_OBJECT);
        for (size_t i = 0; i < e->n_args; i++) {
            sb_check_expr(c, e->args[i], s);
            for (size_t j = 0; j < i; j++)
                if (!strcmp(e->keys[i], e->keys[j]))
                    sb_diag_error(c->diags, e->args[i]->offset, e->args[i]->length,
                                  "key '%s' is given twice", e->keys[i]);
        }
        return;
    }
}

void sb_check_condition(struct checker *c, struct sb_expr *e, const struct scope *s, const char *what)
{
    sb_check_expr(c, e, s);
    if (e->vtype.kind != SB_V_BOOL && e->vtype.kind != SB_V_ERROR)
        sb_diag_error(c->diags, e->offset, e->length,
                      "%s must be a condition (true or false), but this is %s", what,
                      sb_vtype_name(c, &e->vtype));
}

/* Range and length checks of a literal stored into a declared type. */
static void check_literal_bounds(struct checker *c, const struct sb_type *type, const struct sb_expr *e,
                                 const char *target)
{
    if (type->is_array)
        return;
    if (type->kind == SB_TYPE_INT && e->kind == SB_EXPR_INT) {
        if ((type->has_min && e->ival < type->min) || (type->has_max && e->ival > type->max))
            sb_diag_error(c->diags, e->offset, e->length, "%lld is outside %s's range %s",
                          (long long)e->ival, target,
                          sb_arena_printf(c->arena, "%s..%s",
                                          type->has_min ? sb_arena_printf(c->arena, "%lld", (long long)type->min) : "",
                                          type->has_max ? sb_arena_printf(c->arena, "%lld", (long long)type->max) : ""));
    } else if (type->kind == SB_TYPE_TEXT && e->kind == SB_EXPR_STRING) {
        size_t chars = sb_utf8_chars(e->text, e->text_len);
        if ((type->has_min && (int64_t)chars < type->min) || (type->has_max && (int64_t)chars > type->max))
            sb_diag_error(c->diags, e->offset, e->length,
                          "text of %zu characters does not fit %s's length range", chars, target);
    } else if (e->kind == SB_EXPR_STRING) {
        bool ok = true;
        const char *what = NULL;
        switch (type->kind) {
        case SB_TYPE_EMAIL: ok = sb_format_email(e->text, e->text_len); what = "an email address"; break;
        case SB_TYPE_URL: ok = sb_format_url(e->text, e->text_len); what = "an http(s) URL"; break;
        case SB_TYPE_UUID: ok = sb_format_uuid(e->text, e->text_len); what = "a uuid"; break;
        default: break;
        }
        if (!ok)
            sb_diag_error(c->diags, e->offset, e->length, "not %s, as %s requires", what, target);
    }
}

void sb_check_assignable(struct checker *c, const struct sb_type *type, bool required,
                         const struct sb_expr *e, const char *target)
{
    const struct sb_vtype *t = &e->vtype;
    if (t->kind == SB_V_ERROR)
        return;
    struct sb_vtype want = sb_vtype_of(type, !required, NULL);
    if (t->kind == SB_V_NULL) {
        if (required)
            sb_diag_error(c->diags, e->offset, e->length, "%s is required; it cannot be null", target);
        return;
    }
    if (type->kind == SB_TYPE_PASSWORD && e->kind != SB_EXPR_STRING && t->kind != SB_V_TEXT) {
        sb_diag_error(c->diags, e->offset, e->length, "%s is a password; give it text", target);
        return;
    }
    if (e->kind == SB_EXPR_LIST && type->is_array) {
        if (type->arr_has_max && (int64_t)e->n_args > type->arr_max)
            sb_diag_error(c->diags, e->offset, e->length, "%zu elements; %s holds at most %lld",
                          e->n_args, target, (long long)type->arr_max);
        struct sb_type elem = *type;
        elem.is_array = false;
        for (size_t i = 0; i < e->n_args; i++)
            sb_check_assignable(c, &elem, true, e->args[i], target);
        return;
    }
    if (e->kind == SB_EXPR_STRING && (want.kind == SB_V_ENUM || want.kind == SB_V_TIMESTAMP || want.kind == SB_V_DATE)) {
        check_literal_against(c, &want, SB_REF_NONE, e);
        return;
    }
    bool ok;
    if (want.kind == SB_V_LIST)
        ok = t->kind == SB_V_LIST && (t->elem == want.elem || t->elem == SB_V_NULL ||
                                      (is_numeric(want.elem) && is_numeric(t->elem)));
    else if (want.kind == SB_V_FLOAT || want.kind == SB_V_DECIMAL)
        ok = is_numeric(t->kind);
    else if (want.kind == SB_V_INT)
        ok = t->kind == SB_V_INT;
    else if (want.kind == SB_V_ENUM)
        ok = (t->kind == SB_V_ENUM && t->enum_type && t->enum_type->n_enum_values &&
              t->enum_type == want.enum_type) || e->ref == SB_REF_AUTH_ROLE || t->kind == SB_V_ENUM ||
             t->kind == SB_V_TEXT;
    else if (want.kind == SB_V_ID)
        ok = (t->kind == SB_V_ID && (!t->coll || t->coll == type->ref)) || t->kind == SB_V_INT;
    else if (want.kind == SB_V_TEXT)
        ok = is_text_like(t->kind);
    else if (want.kind == SB_V_TIMESTAMP)
        ok = t->kind == SB_V_TIMESTAMP;
    else
        ok = t->kind == want.kind;
    if (!ok) {
        struct sb_vtype shown = want;
        shown.coll = type->ref;
        sb_diag_error(c->diags, e->offset, e->length, "%s is %s; this is %s", target,
                      sb_vtype_name(c, &shown), sb_vtype_name(c, t));
        return;
    }
    check_literal_bounds(c, type, e, target);
}
