/* JSON Schemas (2020-12, the dialect of OpenAPI 3.1) of what the API
 * exchanges, derived from the checked model for the OpenAPI document
 * (openapi.c): field values with every constraint the server validates
 * (guard/values.c), rows as returned, create and update bodies, action
 * arguments and results, and the error body (api/error.h).
 *
 * Choices a client should know:
 *   - Optional means nullable: a field that is not `required` has "null"
 *     among its types (and in its enum).
 *   - A row schema lists as required every field a row always carries; a
 *     field with a field read rule is omitted from rows the rule does not
 *     allow, so it is not required.
 *   - decimal(P, S) values are returned as JSON numbers and accepted as
 *     numbers or strings. A body schema gives both types: the string form
 *     with a pattern that admits exactly the accepted texts (at most P-S
 *     digits before the point and S significant digits after it), the
 *     number form with exclusive bounds of ±10^(P-S). multipleOf is not
 *     used: binary floating point makes validators reject values such as
 *     19.9 as "not a multiple of 0.01". The precision and scale are also
 *     given as x-decimal.
 *   - A field's `check` is given in its description; the parts of it that
 *     bound the field by a number (price >= 0) are also minimum, maximum or
 *     their exclusive forms. Bounds apply to JSON numbers only, so the
 *     string form of a decimal is bounded by its pattern alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/openapi_int.h"
#include "api/surface.h"
#include "spec/fmt.h"
#include "util/buf.h"

static void set(json_t *obj, const char *key, json_t *value)
{
    json_object_set_new(obj, key, value ? value : json_null());
}

static json_t *jstr(const char *text)
{
    json_t *value = json_string(text ? text : "");
    return value ? value : json_string("");
}

json_t *sb_openapi_ref(const char *section, const char *name)
{
    json_t *ref = json_object();
    struct sb_buf buf;
    sb_buf_init(&buf);
    sb_buf_printf(&buf, "#/components/%s/%s", section, name);
    set(ref, "$ref", jstr(sb_buf_str(&buf)));
    sb_buf_free(&buf);
    return ref;
}

/* ---- values ---------------------------------------------------------------------- */

json_t *sb_openapi_const_value(const struct sb_expr *expr)
{
    switch (expr->kind) {
    case SB_EXPR_INT:
        return json_integer(expr->ival);
    case SB_EXPR_FLOAT:
        return json_real(expr->fval);
    case SB_EXPR_STRING: {
        json_t *value = json_stringn(expr->text ? expr->text : "", expr->text_len);
        return value ? value : json_null();
    }
    case SB_EXPR_BOOL:
        return json_boolean(expr->bval);
    case SB_EXPR_UNARY:
        if (expr->left && expr->left->kind == SB_EXPR_INT)
            return json_integer(-expr->left->ival);
        if (expr->left && expr->left->kind == SB_EXPR_FLOAT)
            return json_real(-expr->left->fval);
        return json_null();
    case SB_EXPR_LIST: {
        json_t *list = json_array();
        for (size_t i = 0; i < expr->n_args; i++)
            json_array_append_new(list, sb_openapi_const_value(expr->args[i]));
        return list;
    }
    default:
        return json_null();
    }
}

/* 10^exponent, exactly while it fits an integer. */
static json_t *power_of_ten(int exponent, bool negative)
{
    if (exponent <= 18) {
        json_int_t value = 1;
        for (int i = 0; i < exponent; i++)
            value *= 10;
        return json_integer(negative ? -value : value);
    }
    char text[16];
    snprintf(text, sizeof(text), "1e%d", exponent);
    double value = strtod(text, NULL); /* correctly rounded, unlike repeated products */
    return json_real(negative ? -value : value);
}

/* The texts sb_decimal_canonical accepts for decimal(P, S): an optional
 * minus, digits (leading zeros ignored) and an optional fraction whose
 * significant digits (trailing zeros ignored) are at most S. */
static json_t *decimal_pattern(int precision, int scale)
{
    int int_digits = precision - scale;
    struct sb_buf re;
    sb_buf_init(&re);
    sb_buf_puts(&re, "^-?");
    if (int_digits > 0)
        sb_buf_printf(&re, "0*[0-9]{1,%d}", int_digits);
    else
        sb_buf_puts(&re, "0+");
    if (scale > 0)
        sb_buf_printf(&re, "(\\.[0-9]{1,%d}0*)?$", scale);
    else
        sb_buf_puts(&re, "(\\.0+)?$");
    json_t *value = jstr(sb_buf_str(&re));
    sb_buf_free(&re);
    return value;
}

/* The schema of one (non-array) value of the type, without null. */
static json_t *scalar_schema(const struct sb_type *type, enum sb_openapi_use use)
{
    json_t *s = json_object();
    switch (type->kind) {
    case SB_TYPE_TEXT:
        set(s, "type", jstr("string"));
        if (type->has_min)
            set(s, "minLength", json_integer(type->min));
        if (type->has_max)
            set(s, "maxLength", json_integer(type->max));
        break;
    case SB_TYPE_INT:
        set(s, "type", jstr("integer"));
        set(s, "format", jstr("int64"));
        if (type->has_min)
            set(s, "minimum", json_integer(type->min));
        if (type->has_max)
            set(s, "maximum", json_integer(type->max));
        break;
    case SB_TYPE_FLOAT:
        set(s, "type", jstr("number"));
        set(s, "format", jstr("double"));
        if (type->has_min)
            set(s, "minimum", json_real(type->fmin));
        if (type->has_max)
            set(s, "maximum", json_real(type->fmax));
        break;
    case SB_TYPE_DECIMAL: {
        if (use == SB_OPENAPI_READ) {
            set(s, "type", jstr("number"));
        } else {
            json_t *types = json_array();
            json_array_append_new(types, jstr("number"));
            json_array_append_new(types, jstr("string"));
            set(s, "type", types);
        }
        set(s, "format", jstr("decimal"));
        int int_digits = type->precision - type->scale;
        set(s, "exclusiveMinimum", power_of_ten(int_digits < 0 ? 0 : int_digits, true));
        set(s, "exclusiveMaximum", power_of_ten(int_digits < 0 ? 0 : int_digits, false));
        if (use != SB_OPENAPI_READ)
            set(s, "pattern", decimal_pattern(type->precision, type->scale));
        json_t *decimal = json_object();
        set(decimal, "precision", json_integer(type->precision));
        set(decimal, "scale", json_integer(type->scale));
        set(s, "x-decimal", decimal);
        break;
    }
    case SB_TYPE_BOOL:
        set(s, "type", jstr("boolean"));
        break;
    case SB_TYPE_TIMESTAMP:
        set(s, "type", jstr("string"));
        set(s, "format", jstr("date-time"));
        break;
    case SB_TYPE_DATE:
        set(s, "type", jstr("string"));
        set(s, "format", jstr("date"));
        break;
    case SB_TYPE_UUID:
        set(s, "type", jstr("string"));
        set(s, "format", jstr("uuid"));
        break;
    case SB_TYPE_EMAIL:
        set(s, "type", jstr("string"));
        set(s, "format", jstr("email"));
        set(s, "maxLength", json_integer(254));
        break;
    case SB_TYPE_URL:
        set(s, "type", jstr("string"));
        set(s, "format", jstr("uri"));
        set(s, "maxLength", json_integer(2048));
        break;
    case SB_TYPE_ENUM: {
        set(s, "type", jstr("string"));
        json_t *values = json_array();
        for (size_t i = 0; i < type->n_enum_values; i++)
            json_array_append_new(values, jstr(type->enum_values[i]));
        set(s, "enum", values);
        break;
    }
    case SB_TYPE_JSON:
        break; /* any JSON value */
    case SB_TYPE_PASSWORD:
        set(s, "type", jstr("string"));
        set(s, "format", jstr("password"));
        break;
    case SB_TYPE_REF:
        set(s, "type", jstr("integer"));
        set(s, "format", jstr("int64"));
        set(s, "minimum", json_integer(1));
        break;
    default:
        break;
    }
    return s;
}

/* Let the schema also accept null: "null" joins its types (and its enum). */
static void allow_null(json_t *s)
{
    json_t *type = json_object_get(s, "type");
    if (json_is_string(type)) {
        json_t *types = json_array();
        json_array_append(types, type);
        json_array_append_new(types, jstr("null"));
        set(s, "type", types);
    } else if (json_is_array(type)) {
        json_array_append_new(type, jstr("null"));
    } else {
        return; /* no type: any value, null included */
    }
    json_t *values = json_object_get(s, "enum");
    if (json_is_array(values))
        json_array_append_new(values, json_null());
}

/* json has no "type" (any value); a value that cannot be null is any
 * value but null. */
static void forbid_null(json_t *s)
{
    if (json_object_get(s, "type"))
        return;
    json_t *null_type = json_object();
    set(null_type, "type", jstr("null"));
    set(s, "not", null_type);
}

json_t *sb_openapi_type_schema(const struct sb_type *type, bool nullable, enum sb_openapi_use use)
{
    json_t *s;
    if (type->is_array) {
        s = json_object();
        set(s, "type", jstr("array"));
        set(s, "items", scalar_schema(type, use));
        if (type->arr_has_min)
            set(s, "minItems", json_integer(type->arr_min));
        if (type->arr_has_max)
            set(s, "maxItems", json_integer(type->arr_max));
    } else {
        s = scalar_schema(type, use);
    }
    if (nullable)
        allow_null(s);
    else
        forbid_null(s);
    return s;
}

/* ---- fields ------------------------------------------------------------------------ */

static const char *on_delete_name(enum sb_on_delete on_delete)
{
    switch (on_delete) {
    case SB_ON_DELETE_CASCADE: return "cascade";
    case SB_ON_DELETE_SET_NULL: return "set null";
    case SB_ON_DELETE_RESTRICT: break;
    }
    return "restrict";
}

static void add_part(struct sb_buf *text, const char *part)
{
    if (text->len)
        sb_buf_puts(text, "; ");
    sb_buf_puts(text, part);
}

/* The field's description: its documentation comment, then what the
 * schema keywords cannot say. */
static void field_description(const struct sb_model *model, const struct sb_field *field,
                              enum sb_openapi_use use, struct sb_buf *out)
{
    struct sb_buf doc, notes, expr;
    sb_buf_init(&doc);
    sb_buf_init(&notes);
    sb_buf_init(&expr);
    if (!(field->flags & SB_FIELD_SYSTEM))
        sb_surface_doc(model, field->offset, field->end, &doc);
    if (field->type.kind == SB_TYPE_REF) {
        sb_buf_reset(&expr);
        sb_buf_printf(&expr, "id of %s", field->type.ref ? field->type.ref->name : field->type.ref_name);
        add_part(&notes, sb_buf_str(&expr));
    }
    if (field->flags & SB_FIELD_SYSTEM) {
        if (!strcmp(field->name, "id"))
            add_part(&notes, use == SB_OPENAPI_READ ? "assigned by the server on create, never changes"
                                                    : "assigned by the server when absent");
        else if (!strcmp(field->name, "created_at"))
            add_part(&notes, "set by the server on create");
        else
            add_part(&notes, "set by the server on create and on every update");
    }
    if (field->type.kind == SB_TYPE_DECIMAL) {
        sb_buf_reset(&expr);
        sb_buf_printf(&expr, "decimal(%d, %d): at most %d digits before the point and %d after; %s",
                      field->type.precision, field->type.scale, field->type.precision - field->type.scale,
                      field->type.scale,
                      use == SB_OPENAPI_READ ? "returned as a JSON number"
                                             : "send a JSON number or, for exact values, a string such as \"19.90\"");
        add_part(&notes, sb_buf_str(&expr));
    }
    if (field->type.kind == SB_TYPE_PASSWORD)
        add_part(&notes, "stored as an Argon2id hash and never returned");
    else if ((field->flags & SB_FIELD_HIDDEN) && use != SB_OPENAPI_READ)
        add_part(&notes, "hidden: written but never returned");
    if (field->check) {
        sb_buf_reset(&expr);
        sb_buf_puts(&expr, "check: ");
        sb_spec_format_expr(field->check, &expr);
        add_part(&notes, sb_buf_str(&expr));
    }
    if (use == SB_OPENAPI_INSERT && field->default_expr && !sb_surface_default_is_const(field->default_expr)) {
        sb_buf_reset(&expr);
        sb_buf_puts(&expr, "default: ");
        sb_spec_format_expr(field->default_expr, &expr);
        add_part(&notes, sb_buf_str(&expr));
    }
    if (use == SB_OPENAPI_READ && (field->flags & SB_FIELD_SEARCHABLE))
        add_part(&notes, "full-text searchable (fts, plfts, phfts, wfts)");
    if (use == SB_OPENAPI_READ && field->read_rule)
        add_part(&notes, "present only in rows where the field's read rule allows the caller to see it");
    if (use != SB_OPENAPI_READ && field->write_rule)
        add_part(&notes, "setting it needs the field's write rule to allow the caller (else 403)");
    sb_buf_append(out, doc.data ? doc.data : "", doc.len);
    if (doc.len && notes.len)
        sb_buf_puts(out, "\n\n");
    sb_buf_append(out, notes.data ? notes.data : "", notes.len);
    sb_buf_free(&doc);
    sb_buf_free(&notes);
    sb_buf_free(&expr);
}

/* A numeric literal (possibly negated): its value as JSON, or NULL. */
static json_t *number_literal(const struct sb_expr *e)
{
    bool negative = false;
    if (e->kind == SB_EXPR_UNARY && e->op == SB_OP_NEG && e->left) {
        negative = true;
        e = e->left;
    }
    if (e->kind == SB_EXPR_INT)
        return json_integer(negative ? -e->ival : e->ival);
    if (e->kind == SB_EXPR_FLOAT)
        return json_real(negative ? -e->fval : e->fval);
    return NULL;
}

/* Add a lower (or upper) bound to the schema, keeping only the tightest
 * one: minimum and exclusiveMinimum are never both present (nor maximum
 * and exclusiveMaximum), which would be ambiguous to readers. bound is
 * taken. */
static void add_bound(json_t *s, bool lower, bool exclusive, json_t *bound)
{
    const char *inclusive_key = lower ? "minimum" : "maximum";
    const char *exclusive_key = lower ? "exclusiveMinimum" : "exclusiveMaximum";
    double value = json_number_value(bound);
    for (int k = 0; k < 2; k++) {
        const char *key = k ? exclusive_key : inclusive_key;
        json_t *old = json_object_get(s, key);
        if (!old || !json_is_number(old))
            continue;
        double have = json_number_value(old);
        bool old_tighter = lower ? have > value : have < value;
        if (have == value)
            old_tighter = k == 1 || !exclusive; /* equal: exclusive is tighter */
        if (old_tighter) {
            json_decref(bound);
            return;
        }
    }
    json_object_del(s, inclusive_key);
    json_object_del(s, exclusive_key);
    set(s, exclusive ? exclusive_key : inclusive_key, bound);
}

/* The conjuncts of a field's check that compare the field itself with a
 * number (price >= 0, 0 < ratio and ratio <= 1) become minimum, maximum
 * and their exclusive forms; the description still gives the whole check,
 * which the server enforces. Bounds apply to JSON numbers only, so the
 * string form of a decimal is not bounded by them. */
static void check_bounds(const struct sb_field *field, const struct sb_expr *e, json_t *s)
{
    if (!e || e->kind != SB_EXPR_BINARY)
        return;
    if (e->op == SB_OP_AND) {
        check_bounds(field, e->left, s);
        check_bounds(field, e->right, s);
        return;
    }
    enum sb_op op = e->op;
    const struct sb_expr *self = e->left, *other = e->right;
    if (!(self->kind == SB_EXPR_NAME && self->ref == SB_REF_FIELD && self->field == field)) {
        /* the literal on the left: 0 <= price is price >= 0 */
        self = e->right;
        other = e->left;
        switch (op) {
        case SB_OP_LT: op = SB_OP_GT; break;
        case SB_OP_LE: op = SB_OP_GE; break;
        case SB_OP_GT: op = SB_OP_LT; break;
        case SB_OP_GE: op = SB_OP_LE; break;
        default: return;
        }
        if (!(self->kind == SB_EXPR_NAME && self->ref == SB_REF_FIELD && self->field == field))
            return;
    }
    json_t *bound = number_literal(other);
    if (!bound)
        return;
    switch (op) {
    case SB_OP_GE: add_bound(s, true, false, bound); break;
    case SB_OP_GT: add_bound(s, true, true, bound); break;
    case SB_OP_LE: add_bound(s, false, false, bound); break;
    case SB_OP_LT: add_bound(s, false, true, bound); break;
    default: json_decref(bound); break;
    }
}

json_t *sb_openapi_field_schema(const struct sb_model *model, const struct sb_field *field,
                                enum sb_openapi_use use)
{
    bool nullable = !(field->flags & SB_FIELD_REQUIRED);
    json_t *s = sb_openapi_type_schema(&field->type, nullable, use);
    if (use == SB_OPENAPI_INSERT && (field->flags & SB_FIELD_SYSTEM))
        set(s, "minimum", json_integer(1)); /* explicit ids are positive */
    bool numeric = field->type.kind == SB_TYPE_INT || field->type.kind == SB_TYPE_FLOAT ||
                   field->type.kind == SB_TYPE_DECIMAL;
    if (numeric && !field->type.is_array)
        check_bounds(field, field->check, s);
    struct sb_buf description;
    sb_buf_init(&description);
    field_description(model, field, use, &description);
    if (description.len)
        set(s, "description", jstr(sb_buf_str(&description)));
    sb_buf_free(&description);
    if (use == SB_OPENAPI_READ && (field->flags & (SB_FIELD_SYSTEM | SB_FIELD_READONLY)))
        set(s, "readOnly", json_true());
    if (use != SB_OPENAPI_READ &&
        (field->type.kind == SB_TYPE_PASSWORD || (field->flags & SB_FIELD_HIDDEN)))
        set(s, "writeOnly", json_true());
    if (use == SB_OPENAPI_INSERT && sb_surface_default_is_const(field->default_expr))
        set(s, "default", sb_openapi_const_value(field->default_expr));
    if (field->flags & SB_FIELD_PII)
        set(s, "x-pii", json_true());
    if (field->flags & SB_FIELD_UNIQUE)
        set(s, "x-unique", json_true());
    if (field->type.kind == SB_TYPE_REF) {
        json_t *relation = json_object();
        set(relation, "target", jstr(field->type.ref ? field->type.ref->name : field->type.ref_name));
        set(relation, "on_delete", jstr(on_delete_name(field->on_delete)));
        struct sb_buf fkey;
        sb_buf_init(&fkey);
        sb_surface_fkey_name(field, &fkey);
        set(relation, "foreign_key", jstr(sb_buf_str(&fkey)));
        sb_buf_free(&fkey);
        set(s, "x-relation", relation);
    }
    return s;
}

/* ---- rows and bodies ------------------------------------------------------------------ */

static bool field_in(const struct sb_field *field, enum sb_openapi_use use)
{
    switch (use) {
    case SB_OPENAPI_READ: return sb_surface_readable(field);
    case SB_OPENAPI_INSERT: return sb_surface_insertable(field);
    case SB_OPENAPI_UPDATE: return sb_surface_updatable(field);
    }
    return false;
}

static void collection_description(const struct sb_model *model, const struct sb_collection *coll,
                                   enum sb_openapi_use use, struct sb_buf *out)
{
    switch (use) {
    case SB_OPENAPI_READ:
        sb_buf_printf(out, "A row of %s as the API returns it (all fields, without select=).", coll->name);
        break;
    case SB_OPENAPI_INSERT:
        sb_buf_printf(out, "A new row of %s (POST). An absent field takes its default; "
                           "unknown keys, system fields and readonly fields are refused.", coll->name);
        break;
    case SB_OPENAPI_UPDATE:
        sb_buf_printf(out, "The fields to change in the matching rows of %s (PATCH); absent fields keep their "
                           "value.", coll->name);
        break;
    }
    if (coll->n_checks) {
        sb_buf_puts(out, " Every row satisfies: ");
        for (size_t i = 0; i < coll->n_checks; i++) {
            if (i)
                sb_buf_puts(out, "; ");
            sb_spec_format_expr(coll->checks[i]->expr, out);
        }
        sb_buf_putc(out, '.');
    }
    (void)model;
}

json_t *sb_openapi_collection_schema(const struct sb_model *model, const struct sb_collection *coll,
                                     enum sb_openapi_use use)
{
    json_t *s = json_object();
    set(s, "type", jstr("object"));
    struct sb_buf description;
    sb_buf_init(&description);
    collection_description(model, coll, use, &description);
    set(s, "description", jstr(sb_buf_str(&description)));
    sb_buf_free(&description);
    json_t *required = json_array();
    json_t *properties = json_object();
    for (size_t i = 0; i < coll->n_fields; i++) {
        const struct sb_field *field = coll->fields[i];
        if (!field_in(field, use))
            continue;
        set(properties, field->name, sb_openapi_field_schema(model, field, use));
        if ((use == SB_OPENAPI_READ && !field->read_rule) ||
            (use == SB_OPENAPI_INSERT && !sb_surface_insert_optional(field)))
            json_array_append_new(required, jstr(field->name));
    }
    if (json_array_size(required))
        set(s, "required", required);
    else
        json_decref(required);
    set(s, "properties", properties);
    if (use != SB_OPENAPI_READ)
        set(s, "additionalProperties", json_false());
    return s;
}

/* ---- actions -------------------------------------------------------------------------- */

json_t *sb_openapi_args_schema(const struct sb_action *action)
{
    json_t *s = json_object();
    set(s, "type", jstr("object"));
    struct sb_buf description;
    sb_buf_init(&description);
    sb_buf_printf(&description, "The arguments of the action %s; unknown keys are refused.", action->name);
    set(s, "description", jstr(sb_buf_str(&description)));
    sb_buf_free(&description);
    json_t *required = json_array();
    json_t *properties = json_object();
    for (size_t i = 0; i < action->n_params; i++) {
        const struct sb_param *param = &action->params[i];
        bool null_default = param->default_expr && param->default_expr->kind == SB_EXPR_NULL;
        json_t *p = sb_openapi_type_schema(&param->type, null_default, SB_OPENAPI_INSERT);
        if (param->type.kind == SB_TYPE_REF) {
            struct sb_buf text;
            sb_buf_init(&text);
            sb_buf_printf(&text, "id of %s",
                          param->type.ref ? param->type.ref->name : param->type.ref_name);
            set(p, "description", jstr(sb_buf_str(&text)));
            sb_buf_free(&text);
        }
        if (param->default_expr && sb_surface_default_is_const(param->default_expr)) {
            set(p, "default", sb_openapi_const_value(param->default_expr));
        } else if (param->default_expr) {
            struct sb_buf text;
            sb_buf_init(&text);
            sb_buf_puts(&text, "default: ");
            sb_spec_format_expr(param->default_expr, &text);
            set(p, "description", jstr(sb_buf_str(&text)));
            sb_buf_free(&text);
        } else {
            json_array_append_new(required, jstr(param->name));
        }
        set(properties, param->name, p);
    }
    if (json_array_size(required))
        set(s, "required", required);
    else
        json_decref(required);
    set(s, "properties", properties);
    set(s, "additionalProperties", json_false());
    return s;
}

static json_t *typed(const char *type, const char *format)
{
    json_t *s = json_object();
    set(s, "type", jstr(type));
    if (format)
        set(s, "format", jstr(format));
    return s;
}

/* The schema of a value of kind (the element kind of a list, or a plain
 * value); coll and enum_type come from the value type. */
static json_t *kind_schema(enum sb_vkind kind, const struct sb_collection *coll, const struct sb_type *enum_type)
{
    switch (kind) {
    case SB_V_NULL: return typed("null", NULL);
    case SB_V_BOOL: return typed("boolean", NULL);
    case SB_V_INT: return typed("integer", "int64");
    case SB_V_FLOAT: return typed("number", "double");
    case SB_V_DECIMAL: return typed("number", "decimal");
    case SB_V_TEXT: return typed("string", NULL);
    case SB_V_TIMESTAMP: return typed("string", "date-time");
    case SB_V_DATE: return typed("string", "date");
    case SB_V_ID: {
        json_t *s = typed("integer", "int64");
        if (coll) {
            struct sb_buf text;
            sb_buf_init(&text);
            sb_buf_printf(&text, "id of %s", coll->name);
            set(s, "description", jstr(sb_buf_str(&text)));
            sb_buf_free(&text);
        }
        return s;
    }
    case SB_V_ENUM: {
        json_t *s = typed("string", NULL);
        if (enum_type) {
            json_t *values = json_array();
            for (size_t i = 0; i < enum_type->n_enum_values; i++)
                json_array_append_new(values, jstr(enum_type->enum_values[i]));
            set(s, "enum", values);
        }
        return s;
    }
    case SB_V_ROW:
        return coll ? sb_openapi_ref("schemas", coll->name) : typed("object", NULL);
    case SB_V_ROWS: {
        json_t *s = typed("array", NULL);
        set(s, "items", coll ? sb_openapi_ref("schemas", coll->name) : typed("object", NULL));
        return s;
    }
    case SB_V_OBJECT: return typed("object", NULL);
    default: return json_object(); /* json: any value */
    }
}

json_t *sb_openapi_result_schema(const struct sb_expr *expr)
{
    if (expr->kind == SB_EXPR_OBJECT) {
        json_t *s = typed("object", NULL);
        json_t *required = json_array();
        json_t *properties = json_object();
        for (size_t i = 0; i < expr->n_args; i++) {
            set(properties, expr->keys[i], sb_openapi_result_schema(expr->args[i]));
            json_array_append_new(required, jstr(expr->keys[i]));
        }
        if (json_array_size(required))
            set(s, "required", required);
        else
            json_decref(required);
        set(s, "properties", properties);
        return s;
    }
    const struct sb_vtype *vt = &expr->vtype;
    json_t *s;
    if (vt->kind == SB_V_LIST) {
        s = typed("array", NULL);
        set(s, "items", kind_schema(vt->elem, vt->coll, vt->enum_type));
    } else {
        s = kind_schema(vt->kind, vt->coll, vt->enum_type);
    }
    if (vt->nullable && vt->kind != SB_V_NULL) {
        if (json_object_get(s, "$ref")) {
            json_t *any = json_array();
            json_array_append_new(any, s);
            json_array_append_new(any, typed("null", NULL));
            s = json_object();
            set(s, "anyOf", any);
        } else {
            allow_null(s);
        }
    }
    return s;
}

/* ---- errors ---------------------------------------------------------------------------- */

static json_t *described(json_t *s, const char *description)
{
    set(s, "description", jstr(description));
    return s;
}

json_t *sb_openapi_error_schema(void)
{
    json_t *s = typed("object", NULL);
    set(s, "description",
        jstr("PostgREST's error body. errors is a specbase addition: every failing field of a rejected "
             "body, with the rule it broke."));
    json_t *required = json_array();
    static const char *const keys[] = {"code", "message", "details", "hint"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        json_array_append_new(required, jstr(keys[i]));
    set(s, "required", required);
    json_t *properties = json_object();
    set(properties, "code",
        described(typed("string", NULL), "PostgREST (PGRST...) or PostgreSQL (SQLSTATE) error code"));
    set(properties, "message", described(typed("string", NULL), "what went wrong"));
    json_t *details = typed("string", NULL);
    allow_null(details);
    set(properties, "details", described(details, "more about the error"));
    json_t *hint = typed("string", NULL);
    allow_null(hint);
    set(properties, "hint", described(hint, "how to fix it, when known"));

    json_t *item = typed("object", NULL);
    json_t *item_required = json_array();
    json_array_append_new(item_required, jstr("field"));
    json_array_append_new(item_required, jstr("rule"));
    json_array_append_new(item_required, jstr("message"));
    set(item, "required", item_required);
    json_t *item_properties = json_object();
    set(item_properties, "field", described(typed("string", NULL), "the field (with the row index of a bulk body)"));
    set(item_properties, "rule",
        described(typed("string", NULL), "the rule it broke: type, required, min, max, enum, format, check, ..."));
    set(item_properties, "message", described(typed("string", NULL), "what the value must be"));
    set(item, "properties", item_properties);
    json_t *errors = typed("array", NULL);
    set(errors, "items", item);
    set(properties, "errors", described(errors, "every failing field of a rejected body"));
    set(s, "properties", properties);
    return s;
}
