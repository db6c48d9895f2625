/* The TypeScript `Database` type of a checked model (typescript.h), written
 * line by line in the layout `supabase gen types typescript` prints (two
 * spaces, no semicolons), so that the file reads like the one supabase-js
 * users know. What a client reads and writes comes from surface.c, shared
 * with the OpenAPI document (openapi.c), so both describe the same API.
 *
 * Enum fields are listed under public.Enums as <collection>_<field>; when
 * two fields would give the same name (collection a_b's field c and
 * collection a's field b_c), the later one is written as its union of
 * literals in place. Action parameters of enum type are always written in
 * place. */
#include "api/typescript.h"

#include <string.h>

#include "api/surface.h"
#include "util/arena.h"

struct ts {
    const struct sb_model *model;
    struct sb_buf *out;
    size_t depth;
    struct sb_arena arena;
    struct sb_name_index enums; /* enum name -> its field */
    const struct sb_field **enum_fields; /* listed enum fields, in model order */
    const char **enum_names;
    size_t n_enums;
};

/* Start a line at the current depth. */
static void start(struct ts *t)
{
    sb_buf_fill(t->out, ' ', t->depth * 2);
}

static void line(struct ts *t, const char *text)
{
    start(t);
    sb_buf_puts(t->out, text);
    sb_buf_putc(t->out, '\n');
}

/* "head {" (or "{" alone for an empty head), then one level deeper. */
static void open_block(struct ts *t, const char *head)
{
    start(t);
    sb_buf_puts(t->out, head);
    sb_buf_puts(t->out, *head ? " {\n" : "{\n");
    t->depth++;
}

static void close_block(struct ts *t, const char *tail)
{
    t->depth--;
    start(t);
    sb_buf_puts(t->out, "}");
    sb_buf_puts(t->out, tail);
    sb_buf_putc(t->out, '\n');
}

static void empty_block(struct ts *t, const char *head)
{
    open_block(t, head);
    line(t, "[_ in never]: never");
    close_block(t, "");
}

/* ---- enums ------------------------------------------------------------------------------- */

static void collect_enums(struct ts *t)
{
    const struct sb_model *model = t->model;
    size_t n = 0;
    for (size_t i = 0; i < model->n_collections; i++)
        for (size_t j = 0; j < model->collections[i]->n_fields; j++)
            n += model->collections[i]->fields[j]->type.kind == SB_TYPE_ENUM;
    t->enum_fields = sb_arena_alloc(&t->arena, (n + 1) * sizeof(*t->enum_fields));
    t->enum_names = sb_arena_alloc(&t->arena, (n + 1) * sizeof(*t->enum_names));
    for (size_t i = 0; i < model->n_collections; i++) {
        const struct sb_collection *coll = model->collections[i];
        for (size_t j = 0; j < coll->n_fields; j++) {
            const struct sb_field *field = coll->fields[j];
            if (field->type.kind != SB_TYPE_ENUM)
                continue;
            const char *name = sb_arena_printf(&t->arena, "%s_%s", coll->name, field->name);
            if (sb_name_index_put(&t->arena, &t->enums, n, name, (void *)field))
                continue; /* taken by an earlier field: written in place */
            t->enum_fields[t->n_enums] = field;
            t->enum_names[t->n_enums++] = name;
        }
    }
}

/* The Enums name of field, or NULL when it is written in place. */
static const char *enum_name(struct ts *t, const struct sb_field *field)
{
    if (!field || !field->owner || !t->enums.mask)
        return NULL;
    const char *name = sb_arena_printf(&t->arena, "%s_%s", field->owner->name, field->name);
    return sb_name_index_get(&t->enums, name) == field ? name : NULL;
}

static void enum_union(const struct sb_type *type, struct sb_buf *out)
{
    for (size_t i = 0; i < type->n_enum_values; i++)
        sb_buf_printf(out, "%s\"%s\"", i ? " | " : "", type->enum_values[i]);
    if (type->n_enum_values == 0)
        sb_buf_puts(out, "never");
}

/* ---- value types ------------------------------------------------------------------------- */

/* The TypeScript type of a value of type; field (may be NULL) names the
 * Enums entry of an enum field. */
static void type_text(struct ts *t, const struct sb_type *type, const struct sb_field *field, struct sb_buf *out)
{
    switch (type->kind) {
    case SB_TYPE_INT:
    case SB_TYPE_FLOAT:
    case SB_TYPE_DECIMAL:
    case SB_TYPE_REF:
        sb_buf_puts(out, "number");
        break;
    case SB_TYPE_BOOL:
        sb_buf_puts(out, "boolean");
        break;
    case SB_TYPE_JSON:
        sb_buf_puts(out, "Json");
        break;
    case SB_TYPE_ENUM: {
        const char *name = enum_name(t, field);
        if (name)
            sb_buf_printf(out, "Database[\"public\"][\"Enums\"][\"%s\"]", name);
        else if (type->is_array && type->n_enum_values > 1) {
            sb_buf_putc(out, '(');
            enum_union(type, out);
            sb_buf_putc(out, ')');
        } else
            enum_union(type, out);
        break;
    }
    default: /* text, email, url, uuid, date, timestamp, password */
        sb_buf_puts(out, "string");
        break;
    }
    if (type->is_array)
        sb_buf_puts(out, "[]");
}

/* "name: T", "name?: T", with " | null" when nullable. */
static void member(struct ts *t, const char *name, bool optional, const struct sb_type *type,
                   const struct sb_field *field, bool nullable)
{
    start(t);
    sb_buf_printf(t->out, "%s%s: ", name, optional ? "?" : "");
    type_text(t, type, field, t->out);
    if (nullable)
        sb_buf_puts(t->out, " | null");
    sb_buf_putc(t->out, '\n');
}

/* ---- tables ------------------------------------------------------------------------------- */

static void relationships(struct ts *t, const struct sb_collection *coll)
{
    /* one per relation field, sorted by foreign key name as supabase does */
    size_t n = 0;
    for (size_t i = 0; i < coll->n_fields; i++)
        n += coll->fields[i]->type.kind == SB_TYPE_REF;
    if (n == 0) {
        line(t, "Relationships: []");
        return;
    }
    const struct sb_field **fields = sb_arena_alloc(&t->arena, n * sizeof(*fields));
    const char **names = sb_arena_alloc(&t->arena, n * sizeof(*names));
    size_t k = 0;
    struct sb_buf name;
    sb_buf_init(&name);
    for (size_t i = 0; i < coll->n_fields; i++) {
        const struct sb_field *field = coll->fields[i];
        if (field->type.kind != SB_TYPE_REF)
            continue;
        sb_buf_reset(&name);
        sb_surface_fkey_name(field, &name);
        /* insertion sort: relations per collection are few */
        size_t at = k++;
        while (at > 0 && strcmp(names[at - 1], sb_buf_str(&name)) > 0) {
            names[at] = names[at - 1];
            fields[at] = fields[at - 1];
            at--;
        }
        names[at] = sb_arena_strdup(&t->arena, sb_buf_str(&name));
        fields[at] = field;
    }
    sb_buf_free(&name);
    line(t, "Relationships: [");
    t->depth++;
    for (size_t i = 0; i < n; i++) {
        const struct sb_field *field = fields[i];
        const char *target = field->type.ref ? field->type.ref->name : field->type.ref_name;
        open_block(t, "");
        start(t);
        sb_buf_printf(t->out, "foreignKeyName: \"%s\"\n", names[i]);
        start(t);
        sb_buf_printf(t->out, "columns: [\"%s\"]\n", field->name);
        start(t);
        sb_buf_printf(t->out, "isOneToOne: %s\n", sb_surface_one_to_one(field) ? "true" : "false");
        start(t);
        sb_buf_printf(t->out, "referencedRelation: \"%s\"\n", target);
        line(t, "referencedColumns: [\"id\"]");
        close_block(t, ",");
    }
    t->depth--;
    line(t, "]");
}

static void table(struct ts *t, const struct sb_collection *coll)
{
    open_block(t, sb_arena_printf(&t->arena, "%s:", coll->name));
    open_block(t, "Row:");
    for (size_t i = 0; i < coll->n_fields; i++) {
        const struct sb_field *f = coll->fields[i];
        if (sb_surface_readable(f))
            member(t, f->name, f->read_rule != NULL, &f->type, f, !(f->flags & SB_FIELD_REQUIRED));
    }
    close_block(t, "");
    open_block(t, "Insert:");
    for (size_t i = 0; i < coll->n_fields; i++) {
        const struct sb_field *f = coll->fields[i];
        if (sb_surface_insertable(f))
            member(t, f->name, sb_surface_insert_optional(f), &f->type, f, !(f->flags & SB_FIELD_REQUIRED));
    }
    close_block(t, "");
    open_block(t, "Update:");
    for (size_t i = 0; i < coll->n_fields; i++) {
        const struct sb_field *f = coll->fields[i];
        if (sb_surface_updatable(f))
            member(t, f->name, true, &f->type, f, !(f->flags & SB_FIELD_REQUIRED));
    }
    close_block(t, "");
    relationships(t, coll);
    close_block(t, "");
}

/* ---- functions ---------------------------------------------------------------------------- */

static void kind_text(enum sb_vkind kind, const struct sb_collection *coll, const struct sb_type *enum_type,
                      struct sb_buf *out)
{
    switch (kind) {
    case SB_V_NULL: sb_buf_puts(out, "null"); break;
    case SB_V_BOOL: sb_buf_puts(out, "boolean"); break;
    case SB_V_INT:
    case SB_V_FLOAT:
    case SB_V_DECIMAL:
    case SB_V_ID: sb_buf_puts(out, "number"); break;
    case SB_V_TEXT:
    case SB_V_TIMESTAMP:
    case SB_V_DATE: sb_buf_puts(out, "string"); break;
    case SB_V_ENUM:
        if (enum_type)
            enum_union(enum_type, out);
        else
            sb_buf_puts(out, "string");
        break;
    case SB_V_ROW:
    case SB_V_ROWS:
        if (coll)
            sb_buf_printf(out, "Database[\"public\"][\"Tables\"][\"%s\"][\"Row\"]%s", coll->name,
                          kind == SB_V_ROWS ? "[]" : "");
        else
            sb_buf_puts(out, kind == SB_V_ROWS ? "Json[]" : "Json");
        break;
    case SB_V_OBJECT: sb_buf_puts(out, "{ [key: string]: Json }"); break;
    default: sb_buf_puts(out, "Json"); break;
    }
}

/* The type of an action's return value; an object literal is written as
 * an indented block. */
static void result_type(struct ts *t, const struct sb_expr *expr, struct sb_buf *out)
{
    if (expr->kind == SB_EXPR_OBJECT) {
        sb_buf_puts(out, "{\n");
        t->depth++;
        for (size_t i = 0; i < expr->n_args; i++) {
            sb_buf_fill(out, ' ', t->depth * 2);
            sb_buf_printf(out, "%s: ", expr->keys[i]);
            result_type(t, expr->args[i], out);
            sb_buf_putc(out, '\n');
        }
        t->depth--;
        sb_buf_fill(out, ' ', t->depth * 2);
        sb_buf_putc(out, '}');
        return;
    }
    const struct sb_vtype *vt = &expr->vtype;
    if (vt->kind == SB_V_LIST) {
        bool paren = vt->elem == SB_V_ENUM && vt->enum_type && vt->enum_type->n_enum_values > 1;
        if (paren)
            sb_buf_putc(out, '(');
        kind_text(vt->elem, vt->coll, vt->enum_type, out);
        sb_buf_puts(out, paren ? ")[]" : "[]");
    } else {
        kind_text(vt->kind, vt->coll, vt->enum_type, out);
    }
    if (vt->nullable && vt->kind != SB_V_NULL)
        sb_buf_puts(out, " | null");
}

static void function(struct ts *t, const struct sb_action *action)
{
    open_block(t, sb_arena_printf(&t->arena, "%s:", action->name));
    if (action->n_params == 0) {
        line(t, "Args: Record<PropertyKey, never>");
    } else {
        open_block(t, "Args:");
        for (size_t i = 0; i < action->n_params; i++) {
            const struct sb_param *p = &action->params[i];
            bool null_default = p->default_expr && p->default_expr->kind == SB_EXPR_NULL;
            member(t, p->name, p->default_expr != NULL, &p->type, NULL, null_default);
        }
        close_block(t, "");
    }
    const struct sb_step *result = sb_surface_result(action);
    start(t);
    sb_buf_puts(t->out, "Returns: ");
    if (result)
        result_type(t, result->expr, t->out);
    else
        sb_buf_puts(t->out, "undefined");
    sb_buf_putc(t->out, '\n');
    close_block(t, "");
}

/* ---- the module ----------------------------------------------------------------------------- */

static const char helpers[] =
    "type PublicSchema = Database[\"public\"]\n"
    "\n"
    "export type Tables<T extends keyof PublicSchema[\"Tables\"]> = PublicSchema[\"Tables\"][T][\"Row\"]\n"
    "\n"
    "export type TablesInsert<T extends keyof PublicSchema[\"Tables\"]> =\n"
    "  PublicSchema[\"Tables\"][T][\"Insert\"]\n"
    "\n"
    "export type TablesUpdate<T extends keyof PublicSchema[\"Tables\"]> =\n"
    "  PublicSchema[\"Tables\"][T][\"Update\"]\n"
    "\n"
    "export type Enums<T extends keyof PublicSchema[\"Enums\"]> = PublicSchema[\"Enums\"][T]\n";

void sb_typescript_database(const struct sb_model *model, struct sb_buf *out)
{
    struct ts t = {.model = model, .out = out};
    sb_arena_init(&t.arena);
    collect_enums(&t);

    sb_buf_printf(out,
                  "// The types of the REST API of the spec \"%s\", in the shape @supabase/supabase-js\n"
                  "// takes as its Database generic: createClient<Database>(url, key).\n"
                  "// Printed by `specbase gen ts`; print it again when the spec changes.\n"
                  "\n",
                  model->app_name);
    line(&t, "export type Json =");
    static const char *const json_members[] = {"string", "number", "boolean", "null",
                                               "{ [key: string]: Json | undefined }", "Json[]"};
    for (size_t i = 0; i < sizeof(json_members) / sizeof(json_members[0]); i++) {
        sb_buf_puts(out, "  | ");
        sb_buf_puts(out, json_members[i]);
        sb_buf_putc(out, '\n');
    }
    sb_buf_putc(out, '\n');

    open_block(&t, "export type Database =");
    open_block(&t, "public:");
    if (model->n_collections == 0) {
        empty_block(&t, "Tables:");
    } else {
        open_block(&t, "Tables:");
        for (size_t i = 0; i < model->n_collections; i++)
            table(&t, model->collections[i]);
        close_block(&t, "");
    }
    empty_block(&t, "Views:");
    if (model->n_actions == 0) {
        empty_block(&t, "Functions:");
    } else {
        open_block(&t, "Functions:");
        for (size_t i = 0; i < model->n_actions; i++)
            function(&t, model->actions[i]);
        close_block(&t, "");
    }
    if (t.n_enums == 0) {
        empty_block(&t, "Enums:");
    } else {
        open_block(&t, "Enums:");
        for (size_t i = 0; i < t.n_enums; i++) {
            start(&t);
            sb_buf_printf(out, "%s: ", t.enum_names[i]);
            enum_union(&t.enum_fields[i]->type, out);
            sb_buf_putc(out, '\n');
        }
        close_block(&t, "");
    }
    empty_block(&t, "CompositeTypes:");
    close_block(&t, "");
    close_block(&t, "");
    sb_buf_putc(out, '\n');
    sb_buf_puts(out, helpers);
    sb_buf_putc(out, '\n');

    open_block(&t, "export const Constants =");
    open_block(&t, "public:");
    if (t.n_enums == 0) {
        line(&t, "Enums: {},");
    } else {
        open_block(&t, "Enums:");
        for (size_t i = 0; i < t.n_enums; i++) {
            const struct sb_type *type = &t.enum_fields[i]->type;
            start(&t);
            sb_buf_printf(out, "%s: [", t.enum_names[i]);
            for (size_t j = 0; j < type->n_enum_values; j++)
                sb_buf_printf(out, "%s\"%s\"", j ? ", " : "", type->enum_values[j]);
            sb_buf_puts(out, "],\n");
        }
        close_block(&t, ",");
    }
    close_block(&t, ",");
    close_block(&t, " as const");
    sb_arena_free(&t.arena);
}
