/* Migrations, drift detection and the safe apply (see migrate.h).
 *
 * Everything compares schemas made of the same objects (ddl.h): the snapshot
 * stored when the last spec was applied, the live database, and the schema
 * of the new model. The plan runs in three phases so that SQLite's schema
 * checks during ALTER TABLE ... RENAME never see a trigger whose full-text
 * table is missing:
 *   A. drop removed collections, and full-text tables that change or go
 *      (with their triggers);
 *   B. per collection in spec order: create, add columns in place, or
 *      rebuild; index changes;
 *   C. build new or changed full-text tables and their triggers;
 * then, when a table was rebuilt or dropped, PRAGMA foreign_key_check. */
#include "store/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "spec/spec.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/meta.h"
#include "util/die.h"
#include "util/json_out.h"

#define NEW_PREFIX "_sb_new_"

void sb_plan_free(struct sb_plan *plan)
{
    if (!plan)
        return;
    free(plan->steps);
    sb_arena_free(&plan->arena);
    free(plan);
}

/* ---- building a plan ----------------------------------------------------- */

struct step_builder {
    struct sb_plan *plan;
    const char *words;
    bool data_loss;
    struct sb_ptrvec sql, details;
    const char *guard_sql, *guard_message;
    bool fk_check;
};

static void step_begin(struct step_builder *b, struct sb_plan *plan, const char *words)
{
    memset(b, 0, sizeof(*b));
    b->plan = plan;
    b->words = words;
}

static void step_sql(struct step_builder *b, const char *sql)
{
    sb_ptrvec_push(&b->plan->arena, &b->sql, sb_arena_strdup(&b->plan->arena, sql));
}

static void step_detail(struct step_builder *b, const char *text)
{
    sb_ptrvec_push(&b->plan->arena, &b->details, sb_arena_strdup(&b->plan->arena, text));
}

static void step_end(struct step_builder *b)
{
    struct sb_plan *plan = b->plan;
    if (plan->n_steps == plan->cap) {
        plan->cap = plan->cap ? plan->cap * 2 : 16;
        plan->steps = sb_xrealloc(plan->steps, plan->cap * sizeof(*plan->steps));
    }
    struct sb_plan_step *step = &plan->steps[plan->n_steps++];
    memset(step, 0, sizeof(*step));
    step->words = b->words;
    step->data_loss = b->data_loss;
    step->sql = (const char **)b->sql.items;
    step->n_sql = b->sql.len;
    step->details = (const char **)b->details.items;
    step->n_details = b->details.len;
    step->guard_sql = b->guard_sql;
    step->guard_message = b->guard_message;
    step->fk_check = b->fk_check;
    plan->data_loss |= b->data_loss;
}

struct differ {
    struct sb_plan *plan;
    struct sb_arena *arena;
    const struct sb_schema *old, *new;
    const struct sb_model *model;
};

static const struct sb_ddl_object *find_kind(const struct sb_schema *schema, const char *name,
                                             enum sb_ddl_kind kind)
{
    const struct sb_ddl_object *obj = sb_schema_find(schema, name);
    return obj && obj->kind == kind ? obj : NULL;
}

static char *quoted(struct sb_arena *arena, const char *name)
{
    struct sb_buf b;
    sb_buf_init(&b);
    sb_sql_ident(&b, name);
    char *copy = sb_arena_strdup(arena, sb_buf_str(&b));
    sb_buf_free(&b);
    return copy;
}

static char *literal(struct sb_arena *arena, const char *text)
{
    struct sb_buf b;
    sb_buf_init(&b);
    sb_sql_string(&b, text, strlen(text));
    char *copy = sb_arena_strdup(arena, sb_buf_str(&b));
    sb_buf_free(&b);
    return copy;
}

/* A field as written in the spec, without its name: "int default 0". */
static const char *field_decl(struct differ *d, const struct sb_field *f)
{
    if (!f || (f->flags & SB_FIELD_SYSTEM) || !d->model->source || f->end <= f->offset ||
        f->end > d->model->source_len)
        return "";
    size_t start = f->offset + strlen(f->name);
    if (start > f->end)
        return "";
    char *text = sb_arena_strndup(d->arena, d->model->source + start, f->end - start);
    return sb_ddl_normalize(d->arena, text);
}

/* Are two lists of constraint texts equal as multisets? */
static bool same_constraints(const struct sb_ddl_object *a, const struct sb_ddl_object *b)
{
    if (a->n_constraints != b->n_constraints)
        return false;
    bool *used = sb_xcalloc(b->n_constraints ? b->n_constraints : 1, sizeof(*used));
    bool same = true;
    for (size_t i = 0; i < a->n_constraints && same; i++) {
        bool found = false;
        for (size_t j = 0; j < b->n_constraints && !found; j++)
            if (!used[j] && strcmp(a->constraints[i], b->constraints[j]) == 0)
                used[j] = found = true;
        same = found;
    }
    free(used);
    return same;
}

static bool has_constraint(const struct sb_ddl_object *table, const char *text)
{
    for (size_t i = 0; i < table->n_constraints; i++)
        if (strcmp(table->constraints[i], text) == 0)
            return true;
    return false;
}

/* The SQL of every object of table (of kind) in schema, in order. */
static void objects_sql(struct step_builder *b, const struct sb_schema *schema, const char *table,
                        enum sb_ddl_kind kind)
{
    for (const struct sb_ddl_object *obj = sb_schema_first(schema, table); obj;
         obj = sb_schema_next(schema, obj))
        if (obj->kind == kind)
            step_sql(b, obj->sql);
}

static const char *fts_name(struct differ *d, const char *table)
{
    return sb_arena_printf(d->arena, SB_FTS_PREFIX "%s", table);
}

/* The full-text table of table in schema, if any. */
static const struct sb_ddl_object *fts_of(struct differ *d, const struct sb_schema *schema,
                                          const char *table)
{
    return find_kind(schema, fts_name(d, table), SB_DDL_FTS);
}

/* Does the full-text table of a collection that exists in both schemas
 * survive unchanged? */
static bool fts_kept(struct differ *d, const char *table)
{
    const struct sb_ddl_object *o = fts_of(d, d->old, table), *n = fts_of(d, d->new, table);
    return o && n && strcmp(o->sql, n->sql) == 0;
}

/* The searchable fields of a collection, for the words. */
static const char *fts_fields(struct differ *d, const struct sb_collection *coll)
{
    struct sb_buf b;
    sb_buf_init(&b);
    for (size_t i = 0; i < coll->n_fields; i++)
        if (coll->fields[i]->flags & SB_FIELD_SEARCHABLE)
            sb_buf_printf(&b, "%s%s", b.len ? ", " : "", coll->fields[i]->name);
    const char *text = sb_arena_strdup(d->arena, sb_buf_str(&b));
    sb_buf_free(&b);
    return text;
}

/* Phase A. */
static void drop_phase(struct differ *d)
{
    const struct sb_schema *old = d->old, *new = d->new;
    for (size_t i = 0; i < old->n_objects; i++) {
        const struct sb_ddl_object *o = &old->objects[i];
        if (o->kind != SB_DDL_TABLE || find_kind(new, o->name, SB_DDL_TABLE))
            continue;
        struct step_builder b;
        step_begin(&b, d->plan, sb_arena_printf(d->arena, "drop collection %s", o->name));
        b.data_loss = true;
        step_detail(&b, sb_arena_printf(d->arena, "all %s records are lost", o->name));
        const struct sb_ddl_object *fts = fts_of(d, old, o->name);
        if (fts)
            step_sql(&b, sb_arena_printf(d->arena, "DROP TABLE %s", quoted(d->arena, fts->name)));
        step_sql(&b, sb_arena_printf(d->arena, "DROP TABLE %s", quoted(d->arena, o->name)));
        step_end(&b);
        d->plan->rebuilds = true;
    }
    for (size_t i = 0; i < old->n_objects; i++) {
        const struct sb_ddl_object *o = &old->objects[i];
        if (o->kind != SB_DDL_FTS || !find_kind(new, o->table, SB_DDL_TABLE) ||
            fts_kept(d, o->table))
            continue;
        struct step_builder b;
        const struct sb_ddl_object *n = fts_of(d, new, o->table);
        step_begin(&b, d->plan,
                   sb_arena_printf(d->arena,
                                   n ? "drop the old full-text index of %s (rebuilt below)"
                                     : "drop the full-text index of %s",
                                   o->table));
        for (const struct sb_ddl_object *t = sb_schema_first(old, o->table); t;
             t = sb_schema_next(old, t)) {
            if (t->kind == SB_DDL_TRIGGER &&
                strncmp(t->name, SB_FTS_PREFIX, strlen(SB_FTS_PREFIX)) == 0)
                step_sql(&b,
                         sb_arena_printf(d->arena, "DROP TRIGGER %s", quoted(d->arena, t->name)));
        }
        step_sql(&b, sb_arena_printf(d->arena, "DROP TABLE %s", quoted(d->arena, o->name)));
        step_end(&b);
    }
}

static void create_table(struct differ *d, const struct sb_ddl_object *n)
{
    struct step_builder b;
    step_begin(&b, d->plan, sb_arena_printf(d->arena, "create collection %s", n->name));
    struct sb_buf sql;
    sb_buf_init(&sql);
    sb_ddl_create_table(n, n->name, &sql);
    step_sql(&b, sb_buf_str(&sql));
    sb_buf_free(&sql);
    objects_sql(&b, d->new, n->name, SB_DDL_INDEX);
    step_end(&b);
}

/* Why a changed column loses data, or NULL when it does not. */
static const char *change_loss(struct differ *d, const struct sb_ddl_column *oc,
                               const struct sb_ddl_column *nc)
{
    if (strcasecmp(oc->type, nc->type) != 0)
        return sb_arena_printf(d->arena, "its values are converted from %s to %s", oc->type,
                               nc->type);
    if (!oc->not_null && nc->not_null)
        return nc->default_sql
                   ? "it becomes required; empty values are set to the default"
                   : "it becomes required without a default; fails if a record has no value";
    return NULL;
}

static void rebuild_table(struct differ *d, const struct sb_ddl_object *o,
                          const struct sb_ddl_object *n)
{
    struct sb_arena *a = d->arena;
    struct step_builder b;
    step_begin(&b, d->plan, sb_arena_printf(a, "rebuild collection %s", n->name));
    step_detail(
        &b, "SQLite cannot make these changes in place: the records are copied into a new table");
    const char *table = quoted(a, n->name);
    const char *temp_name = sb_arena_printf(a, NEW_PREFIX "%s", n->name);
    const char *temp = quoted(a, temp_name);

    for (size_t i = 0; i < o->n_columns; i++) {
        const struct sb_ddl_column *oc = &o->columns[i];
        if (!sb_ddl_column(n, oc->name)) {
            step_detail(&b, sb_arena_printf(a, "drop field %s (%s): its values are lost", oc->name,
                                            oc->type));
            b.data_loss = true;
        }
    }
    struct sb_buf guard;
    sb_buf_init(&guard);
    for (size_t i = 0; i < n->n_columns; i++) {
        const struct sb_ddl_column *nc = &n->columns[i];
        const struct sb_ddl_column *oc = sb_ddl_column(o, nc->name);
        const char *decl = field_decl(d, nc->field);
        if (!oc) {
            bool fill = nc->not_null && !nc->default_sql;
            step_detail(
                &b,
                sb_arena_printf(
                    a, "add field %s (%s)%s", nc->name, decl,
                    fill ? ": required without a default, so the collection must be empty" : ""));
            if (fill) {
                b.data_loss = true;
                sb_buf_printf(&guard, "%sEXISTS (SELECT 1 FROM %s)", guard.len ? " OR " : "",
                              table);
            }
        } else if (strcmp(oc->def, nc->def) != 0) {
            const char *loss = change_loss(d, oc, nc);
            step_detail(&b, sb_arena_printf(a, "change field %s to (%s)%s%s", nc->name, decl,
                                            loss ? ": " : "", loss ? loss : ""));
            if (loss)
                b.data_loss = true;
            if (!oc->not_null && nc->not_null && !nc->default_sql)
                sb_buf_printf(&guard, "%sEXISTS (SELECT 1 FROM %s WHERE %s IS NULL)",
                              guard.len ? " OR " : "", table, quoted(a, nc->name));
        }
    }
    for (size_t i = 0; i < o->n_constraints; i++)
        if (!has_constraint(n, o->constraints[i]))
            step_detail(&b, sb_arena_printf(a, "remove the row check: %s", o->constraints[i]));
    for (size_t i = 0; i < n->n_constraints; i++)
        if (!has_constraint(o, n->constraints[i]))
            step_detail(&b,
                        sb_arena_printf(a, "add the row check: %s (fails if a record breaks it)",
                                        n->constraints[i]));
    if (strcmp(o->options, n->options) != 0)
        step_detail(&b, sb_arena_printf(a, "table options become '%s'", n->options));
    if (guard.len) {
        b.guard_sql = sb_arena_printf(a, "SELECT %s", sb_buf_str(&guard));
        b.guard_message = sb_arena_printf(
            a,
            "collection %s has records without a value for a field that becomes required "
            "without a default; give the field a default or fill it in first",
            n->name);
    }
    sb_buf_free(&guard);

    struct sb_buf sql, cols, exprs;
    sb_buf_init(&sql);
    sb_buf_init(&cols);
    sb_buf_init(&exprs);
    sb_ddl_create_table(n, temp_name, &sql);
    step_sql(&b, sb_buf_str(&sql));
    for (size_t i = 0; i < n->n_columns; i++) {
        const struct sb_ddl_column *nc = &n->columns[i];
        const struct sb_ddl_column *oc = sb_ddl_column(o, nc->name);
        if (!oc)
            continue;
        const char *col = quoted(a, nc->name);
        sb_buf_printf(&cols, "%s%s", cols.len ? ", " : "", col);
        if (!oc->not_null && nc->not_null && nc->default_sql)
            sb_buf_printf(&exprs, "%scoalesce(%s, %s)", exprs.len ? ", " : "", col,
                          nc->default_sql);
        else
            sb_buf_printf(&exprs, "%s%s", exprs.len ? ", " : "", col);
    }
    step_sql(&b, sb_arena_printf(a, "INSERT INTO %s (%s) SELECT %s FROM %s", temp,
                                 sb_buf_str(&cols), sb_buf_str(&exprs), table));
    /* Keep AUTOINCREMENT's high-water mark: ids of deleted records stay unused. */
    step_sql(&b, sb_arena_printf(a, "DELETE FROM sqlite_sequence WHERE name = %s",
                                 literal(a, temp_name)));
    step_sql(&b, sb_arena_printf(a,
                                 "INSERT INTO sqlite_sequence (name, seq) SELECT %s, seq FROM "
                                 "sqlite_sequence WHERE name = %s",
                                 literal(a, temp_name), literal(a, n->name)));
    step_sql(&b, sb_arena_printf(a, "DROP TABLE %s", table));
    step_sql(&b, sb_arena_printf(a, "ALTER TABLE %s RENAME TO %s", temp, table));
    objects_sql(&b, d->new, n->name, SB_DDL_INDEX);
    if (fts_kept(d, n->name)) {
        /* The copy may have changed indexed values (a default filled in):
         * re-index from the new table, then keep it in sync again. */
        const char *fts = quoted(a, fts_name(d, n->name));
        step_sql(&b, sb_arena_printf(a, "INSERT INTO %s (%s) VALUES ('rebuild')", fts, fts));
        objects_sql(&b, d->new, n->name, SB_DDL_TRIGGER);
    }
    sb_buf_free(&sql);
    sb_buf_free(&cols);
    sb_buf_free(&exprs);
    step_end(&b);
    d->plan->rebuilds = true;
}

/* Index (and kept full-text trigger) changes of a table altered in place. */
static void derived_objects(struct differ *d, const char *table, enum sb_ddl_kind kind)
{
    struct sb_arena *a = d->arena;
    const char *what = kind == SB_DDL_INDEX ? "index" : "trigger";
    for (const struct sb_ddl_object *o = sb_schema_first(d->old, table); o;
         o = sb_schema_next(d->old, o)) {
        if (o->kind != kind)
            continue;
        const struct sb_ddl_object *n = find_kind(d->new, o->name, kind);
        if (n && strcmp(n->sql, o->sql) == 0)
            continue;
        struct step_builder b;
        step_begin(
            &b, d->plan,
            sb_arena_printf(a, "drop %s %s%s", what, o->name, n ? " (re-created below)" : ""));
        step_sql(&b, sb_arena_printf(a, "DROP %s %s", kind == SB_DDL_INDEX ? "INDEX" : "TRIGGER",
                                     quoted(a, o->name)));
        step_end(&b);
    }
    for (const struct sb_ddl_object *n = sb_schema_first(d->new, table); n;
         n = sb_schema_next(d->new, n)) {
        if (n->kind != kind)
            continue;
        const struct sb_ddl_object *o = find_kind(d->old, n->name, kind);
        if (o && strcmp(n->sql, o->sql) == 0)
            continue;
        struct step_builder b;
        step_begin(&b, d->plan, sb_arena_printf(a, "create %s %s on %s", what, n->name, table));
        if (kind == SB_DDL_INDEX && strncasecmp(n->sql, "CREATE UNIQUE", 13) == 0)
            step_detail(&b, "fails if existing records have duplicate values");
        step_sql(&b, n->sql);
        step_end(&b);
    }
}

static bool needs_rebuild(const struct sb_ddl_object *o, const struct sb_ddl_object *n)
{
    for (size_t i = 0; i < o->n_columns; i++) {
        const struct sb_ddl_column *nc = sb_ddl_column(n, o->columns[i].name);
        if (!nc || strcmp(nc->def, o->columns[i].def) != 0)
            return true;
    }
    for (size_t i = 0; i < n->n_columns; i++)
        if (!sb_ddl_column(o, n->columns[i].name) && !n->columns[i].add_in_place)
            return true;
    return !same_constraints(o, n) || strcmp(o->options, n->options) != 0;
}

/* Phase B. */
static void table_phase(struct differ *d)
{
    struct sb_arena *a = d->arena;
    for (size_t i = 0; i < d->new->n_objects; i++) {
        const struct sb_ddl_object *n = &d->new->objects[i];
        if (n->kind != SB_DDL_TABLE)
            continue;
        const struct sb_ddl_object *o = find_kind(d->old, n->name, SB_DDL_TABLE);
        if (!o) {
            create_table(d, n);
            continue;
        }
        if (needs_rebuild(o, n)) {
            rebuild_table(d, o, n);
            continue;
        }
        for (size_t k = 0; k < n->n_columns; k++) {
            const struct sb_ddl_column *nc = &n->columns[k];
            if (sb_ddl_column(o, nc->name))
                continue;
            struct step_builder b;
            step_begin(&b, d->plan,
                       sb_arena_printf(a, "add field %s.%s (%s)", n->name, nc->name,
                                       field_decl(d, nc->field)));
            step_sql(&b, sb_arena_printf(a, "ALTER TABLE %s ADD COLUMN %s", quoted(a, n->name),
                                         nc->def));
            step_end(&b);
        }
        derived_objects(d, n->name, SB_DDL_INDEX);
        if (fts_kept(d, n->name))
            derived_objects(d, n->name, SB_DDL_TRIGGER);
    }
}

/* Phase C. */
static void fts_phase(struct differ *d)
{
    struct sb_arena *a = d->arena;
    for (size_t i = 0; i < d->new->n_objects; i++) {
        const struct sb_ddl_object *n = &d->new->objects[i];
        if (n->kind != SB_DDL_FTS || fts_kept(d, n->table))
            continue;
        const struct sb_ddl_object *table = find_kind(d->new, n->table, SB_DDL_TABLE);
        struct step_builder b;
        step_begin(&b, d->plan,
                   sb_arena_printf(a, "build the full-text index of %s (%s)", n->table,
                                   table && table->coll ? fts_fields(d, table->coll) : ""));
        step_sql(&b, n->sql);
        if (find_kind(d->old, n->table, SB_DDL_TABLE))
            step_sql(&b, sb_arena_printf(a, "INSERT INTO %s (%s) VALUES ('rebuild')",
                                         quoted(a, n->name), quoted(a, n->name)));
        objects_sql(&b, d->new, n->table, SB_DDL_TRIGGER);
        step_end(&b);
    }
}

int sb_migrate_diff(const struct sb_schema *old, const struct sb_schema *new,
                    const struct sb_model *model, struct sb_plan **out, struct sb_buf *err)
{
    (void)err;
    struct sb_plan *plan = sb_xcalloc(1, sizeof(*plan));
    sb_arena_init(&plan->arena);
    struct differ d = {.plan = plan, .arena = &plan->arena, .old = old, .new = new, .model = model};
    drop_phase(&d);
    table_phase(&d);
    fts_phase(&d);
    if (plan->rebuilds) {
        struct step_builder b;
        step_begin(&b, plan, "check foreign keys");
        step_sql(&b, "PRAGMA foreign_key_check");
        b.fk_check = true;
        step_end(&b);
    }
    *out = plan;
    return 0;
}

static void indent_lines(struct sb_buf *out, const char *indent, const char *text)
{
    sb_buf_puts(out, indent);
    for (const char *p = text; *p; p++) {
        sb_buf_putc(out, *p);
        if (*p == '\n' && p[1])
            sb_buf_puts(out, indent);
    }
}

void sb_plan_print(const struct sb_plan *plan, struct sb_buf *out)
{
    if (plan->n_steps == 0) {
        sb_buf_puts(out, plan->same_spec ? "No changes: the database matches this spec.\n"
                         : plan->first   ? "No schema changes.\n"
                                       : "No schema changes (the spec changed outside the schema; "
                                         "--apply records it).\n");
        return;
    }
    size_t n_loss = 0;
    for (size_t i = 0; i < plan->n_steps; i++)
        n_loss += plan->steps[i].data_loss;
    sb_buf_printf(out, "Plan: %zu step%s", plan->n_steps, plan->n_steps == 1 ? "" : "s");
    if (n_loss)
        sb_buf_printf(out, ", %zu of them can lose or rewrite data", n_loss);
    sb_buf_puts(out, ".\n");
    if (plan->rebuilds)
        sb_buf_puts(out, "Foreign keys are off while it runs and checked before the commit.\n");
    for (size_t i = 0; i < plan->n_steps; i++) {
        const struct sb_plan_step *step = &plan->steps[i];
        sb_buf_printf(out, "\n%zu. %s%s\n", i + 1, step->data_loss ? "DATA LOSS: " : "",
                      step->words);
        for (size_t k = 0; k < step->n_details; k++)
            sb_buf_printf(out, "   - %s\n", step->details[k]);
        for (size_t k = 0; k < step->n_sql; k++) {
            indent_lines(out, "     ", step->sql[k]);
            sb_buf_puts(out, ";\n");
        }
    }
}

/* ---- reading schemas from a database --------------------------------------- */

/* Spec-owned objects: not SQLite's, not specbase's own _sb_ tables (but the
 * _sb_fts_ full-text objects), not FTS5's shadow tables. */
#define LIVE_SCHEMA_SQL                                                                            \
    "SELECT s.type, s.name, s.tbl_name, s.sql FROM sqlite_schema AS s "                            \
    "WHERE s.sql IS NOT NULL AND s.type IN ('table', 'index', 'trigger', 'view') "                 \
    "AND s.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "                                                \
    "AND (s.name NOT LIKE '\\_sb\\_%' ESCAPE '\\' OR s.name LIKE '\\_sb\\_fts\\_%' ESCAPE '\\') "  \
    "AND (s.tbl_name NOT LIKE '\\_sb\\_%' ESCAPE '\\' "                                            \
    "     OR s.tbl_name LIKE '\\_sb\\_fts\\_%' ESCAPE '\\') "                                      \
    "AND s.name NOT IN (SELECT t.name FROM pragma_table_list AS t "                                \
    "                   WHERE t.schema = 'main' AND t.type = 'shadow') "                           \
    "ORDER BY s.rowid"

/* Add rows (type, name, table, sql) of stmt to schema; views become an
 * object of their own kind that nothing expects. */
static int load_rows(sqlite3 *db, sqlite3_stmt *stmt, struct sb_schema *out, struct sb_buf *err)
{
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(stmt, 0);
        const char *name = (const char *)sqlite3_column_text(stmt, 1);
        const char *table = (const char *)sqlite3_column_text(stmt, 2);
        const char *sql = (const char *)sqlite3_column_text(stmt, 3);
        if (!type || !name || !table || !sql) {
            sb_buf_puts(err, "a schema entry without a type, name or SQL text");
            return SB_STORE_EDB;
        }
        if (strcmp(type, "view") == 0)
            type = "trigger"; /* compared by text only, like a trigger */
        if (sb_schema_add(out, type, name, table, sql, err) != 0)
            return SB_STORE_EDB;
    }
    if (rc != SQLITE_DONE) {
        sb_db_error(db, "reading the schema", err);
        return SB_STORE_EDB;
    }
    return 0;
}

int sb_migrate_live_schema(sqlite3 *db, struct sb_schema *out, struct sb_buf *err)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, LIVE_SCHEMA_SQL, -1, &stmt, NULL) != SQLITE_OK) {
        sb_db_error(db, "reading the schema", err);
        return SB_STORE_EDB;
    }
    int rc = load_rows(db, stmt, out, err);
    sqlite3_finalize(stmt);
    return rc;
}

/* The live spec-owned schema as the JSON snapshot stored in _sb_spec. */
static char *live_snapshot(sqlite3 *db, struct sb_buf *err)
{
    sqlite3_stmt *stmt = NULL;
    char *json = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT json_group_array(json_object('type', type, 'name', name, "
                           "'table', tbl_name, 'sql', sql)) FROM (" LIVE_SCHEMA_SQL ")",
                           -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(stmt, 0);
        size_t len = strlen(text ? text : "");
        json = sb_xmalloc(len + 1);
        memcpy(json, text ? text : "", len + 1);
    } else {
        sb_db_error(db, "taking the schema snapshot", err);
    }
    sqlite3_finalize(stmt);
    return json;
}

static int load_snapshot(sqlite3 *db, const char *json, struct sb_schema *out, struct sb_buf *err)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT json_extract(value, '$.type'), json_extract(value, '$.name'), "
                           "json_extract(value, '$.table'), json_extract(value, '$.sql') "
                           "FROM json_each(?1)",
                           -1, &stmt, NULL) != SQLITE_OK) {
        sb_db_error(db, "reading the schema snapshot", err);
        return SB_STORE_EDB;
    }
    sqlite3_bind_text(stmt, 1, json, -1, SQLITE_STATIC);
    int rc = load_rows(db, stmt, out, err);
    sqlite3_finalize(stmt);
    return rc;
}

/* ---- drift ------------------------------------------------------------------ */

static const char *kind_word(enum sb_ddl_kind kind)
{
    switch (kind) {
    case SB_DDL_TABLE: return "table";
    case SB_DDL_INDEX: return "index";
    case SB_DDL_FTS: return "full-text table";
    case SB_DDL_TRIGGER: return "trigger or view";
    }
    return "object";
}

static void compare_tables(const struct sb_ddl_object *want, const struct sb_ddl_object *have,
                           struct sb_buf *report)
{
    for (size_t i = 0; i < want->n_columns; i++) {
        const struct sb_ddl_column *w = &want->columns[i];
        const struct sb_ddl_column *h = sb_ddl_column(have, w->name);
        if (!h)
            sb_buf_printf(report, "- table %s: column %s is missing (expected: %s)\n", want->name,
                          w->name, w->def);
        else if (strcmp(w->def, h->def) != 0)
            sb_buf_printf(report,
                          "- table %s: column %s differs\n    expected: %s\n    found:    %s\n",
                          want->name, w->name, w->def, h->def);
    }
    for (size_t i = 0; i < have->n_columns; i++)
        if (!sb_ddl_column(want, have->columns[i].name))
            sb_buf_printf(report, "- table %s: unexpected column %s (%s)\n", want->name,
                          have->columns[i].name, have->columns[i].def);
    for (size_t i = 0; i < want->n_constraints; i++)
        if (!has_constraint(have, want->constraints[i]))
            sb_buf_printf(report, "- table %s: constraint missing: %s\n", want->name,
                          want->constraints[i]);
    for (size_t i = 0; i < have->n_constraints; i++)
        if (!has_constraint(want, have->constraints[i]))
            sb_buf_printf(report, "- table %s: unexpected constraint: %s\n", want->name,
                          have->constraints[i]);
    if (strcmp(want->options, have->options) != 0)
        sb_buf_printf(report, "- table %s: options are '%s', expected '%s'\n", want->name,
                      have->options, want->options);
}

/* One line (or a few) per difference between want and have. */
static void compare_schemas(const struct sb_schema *want, const struct sb_schema *have,
                            bool applied, struct sb_buf *report)
{
    for (size_t i = 0; i < want->n_objects; i++) {
        const struct sb_ddl_object *w = &want->objects[i];
        const struct sb_ddl_object *h = sb_schema_find(have, w->name);
        if (!h)
            sb_buf_printf(report, "- %s %s is missing\n", kind_word(w->kind), w->name);
        else if (h->kind != w->kind)
            sb_buf_printf(report, "- %s is a %s, expected a %s\n", w->name, kind_word(h->kind),
                          kind_word(w->kind));
        else if (w->kind == SB_DDL_TABLE)
            compare_tables(w, h, report);
        else if (strcmp(w->sql, h->sql) != 0)
            sb_buf_printf(report, "- %s %s differs\n    expected: %s\n    found:    %s\n",
                          kind_word(w->kind), w->name, w->sql, h->sql);
    }
    for (size_t i = 0; i < have->n_objects; i++) {
        const struct sb_ddl_object *h = &have->objects[i];
        if (sb_schema_find(want, h->name))
            continue;
        sb_buf_printf(report, "- unexpected %s %s%s: %s\n", kind_word(h->kind), h->name,
                      applied ? "" : " (no spec has been applied to this database)", h->sql);
    }
}

/* The snapshot of the applied spec (empty when none) into schema. */
static int applied_schema(sqlite3 *db, struct sb_applied *applied, struct sb_schema *schema,
                          int *have, struct sb_buf *err)
{
    *have = sb_meta_applied(db, applied, err);
    if (*have < 0)
        return SB_STORE_EDB;
    if (*have && load_snapshot(db, applied->schema_json, schema, err) != 0)
        return SB_STORE_EDB;
    return 0;
}

/* Drift of db against the snapshot already loaded. */
static int drift_against(sqlite3 *db, const struct sb_schema *snapshot, bool applied,
                         struct sb_buf *report)
{
    struct sb_schema live;
    sb_schema_init(&live);
    int rc = sb_migrate_live_schema(db, &live, report);
    if (rc == 0) {
        size_t before = report->len;
        compare_schemas(snapshot, &live, applied, report);
        if (report->len != before)
            rc = SB_STORE_EDRIFT;
    }
    sb_schema_free(&live);
    return rc;
}

int sb_migrate_drift(sqlite3 *db, struct sb_buf *report)
{
    struct sb_applied applied;
    struct sb_schema snapshot;
    sb_schema_init(&snapshot);
    int have = 0;
    int rc = applied_schema(db, &applied, &snapshot, &have, report);
    if (rc == 0)
        rc = drift_against(db, &snapshot, have > 0, report);
    sb_schema_free(&snapshot);
    sb_applied_free(&applied);
    return rc;
}

static void model_hash(const struct sb_model *model, char hash[65], struct sb_buf *json)
{
    sb_spec_to_json(model, json);
    sb_sha256_hex(sb_buf_str(json), json->len, hash);
}

int sb_migrate_plan(sqlite3 *db, const struct sb_model *model, struct sb_plan **out,
                    struct sb_buf *err)
{
    *out = NULL;
    struct sb_applied applied;
    struct sb_schema snapshot, next;
    sb_schema_init(&snapshot);
    sb_schema_init(&next);
    int have = 0;
    int rc = applied_schema(db, &applied, &snapshot, &have, err);
    if (rc == 0)
        rc = drift_against(db, &snapshot, have > 0, err);
    if (rc == 0 && sb_ddl_from_model(model, &sb_dialect_sqlite, &next, err) != 0)
        rc = SB_STORE_EDB;
    if (rc == 0)
        rc = sb_migrate_diff(&snapshot, &next, model, out, err);
    if (rc == 0) {
        struct sb_buf json;
        sb_buf_init(&json);
        model_hash(model, (*out)->hash, &json);
        sb_buf_free(&json);
        (*out)->first = !have;
        (*out)->same_spec = have && strcmp(applied.hash, (*out)->hash) == 0;
    }
    sb_schema_free(&snapshot);
    sb_schema_free(&next);
    sb_applied_free(&applied);
    return rc;
}

/* ---- apply ------------------------------------------------------------------ */

/* A fresh PATH.backup-<UTC time>[-N] that does not exist yet. */
static char *backup_name(const char *db_path)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    struct sb_buf name;
    sb_buf_init(&name);
    for (int n = 0; n < 1000; n++) {
        sb_buf_reset(&name);
        sb_buf_printf(&name, "%s.backup-%s", db_path, stamp);
        if (n)
            sb_buf_printf(&name, "-%d", n);
        if (access(sb_buf_str(&name), F_OK) != 0)
            return sb_buf_take(&name);
    }
    sb_buf_free(&name);
    return NULL;
}

/* Copy the database (as this connection sees it) into a new file with the
 * online backup API. */
static int backup_to(sqlite3 *db, const char *path, struct sb_buf *err)
{
    sqlite3 *dest = NULL;
    int rc = sqlite3_open_v2(path, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_backup *backup = sqlite3_backup_init(dest, "main", db, "main");
        if (backup) {
            rc = sqlite3_backup_step(backup, -1);
            if (rc == SQLITE_DONE)
                rc = SQLITE_OK;
            int finish = sqlite3_backup_finish(backup);
            if (rc == SQLITE_OK)
                rc = finish;
        } else {
            rc = sqlite3_errcode(dest);
        }
    }
    if (rc != SQLITE_OK) {
        sb_buf_printf(err, "backup to %s failed: %s", path,
                      dest ? sqlite3_errmsg(dest) : sqlite3_errstr(rc));
        sqlite3_close(dest);
        unlink(path);
        return SB_STORE_EDB;
    }
    if (sqlite3_close(dest) != SQLITE_OK) {
        sb_buf_printf(err, "backup to %s failed on close", path);
        return SB_STORE_EDB;
    }
    return 0;
}

/* PRAGMA foreign_key_check: 0 when clean, else the first violations in err. */
static int foreign_key_check(sqlite3 *db, struct sb_buf *err)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &stmt, NULL) != SQLITE_OK) {
        sb_db_error(db, "PRAGMA foreign_key_check", err);
        return SB_STORE_EDB;
    }
    int n = 0, rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (n == 0)
            sb_buf_puts(err, "foreign key check failed after the migration:");
        if (n < 10)
            sb_buf_printf(err, "\n  %s record %lld refers to a missing %s",
                          (const char *)sqlite3_column_text(stmt, 0),
                          (long long)sqlite3_column_int64(stmt, 1),
                          (const char *)sqlite3_column_text(stmt, 2));
        n++;
    }
    if (n > 10)
        sb_buf_printf(err, "\n  and %d more", n - 10);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE && n == 0) {
        sb_db_error(db, "PRAGMA foreign_key_check", err);
        return SB_STORE_EDB;
    }
    return n ? SB_STORE_EDB : 0;
}

static int run_step(sqlite3 *db, size_t index, const struct sb_plan_step *step, struct sb_buf *err)
{
    if (step->guard_sql) {
        sqlite3_stmt *stmt = NULL;
        int blocked = -1;
        if (sqlite3_prepare_v2(db, step->guard_sql, -1, &stmt, NULL) == SQLITE_OK &&
            sqlite3_step(stmt) == SQLITE_ROW)
            blocked = sqlite3_column_int(stmt, 0) != 0;
        sqlite3_finalize(stmt);
        if (blocked != 0) {
            if (blocked < 0)
                sb_db_error(db, "checking the step", err);
            else
                sb_buf_printf(err, "step %zu (%s): %s", index + 1, step->words,
                              step->guard_message);
            return SB_STORE_EDB;
        }
    }
    if (step->fk_check)
        return foreign_key_check(db, err);
    for (size_t k = 0; k < step->n_sql; k++) {
        char *msg = NULL;
        if (sqlite3_exec(db, step->sql[k], NULL, NULL, &msg) != SQLITE_OK) {
            sb_buf_printf(err, "step %zu (%s) failed: %s", index + 1, step->words,
                          msg ? msg : sqlite3_errmsg(db));
            sqlite3_free(msg);
            return SB_STORE_EDB;
        }
    }
    return 0;
}

/* The migration's entry in the audit trail, in its transaction: the spec's
 * name and hash, the steps in words, data loss and the backup. */
static int audit_migration(sqlite3 *db, const struct sb_plan *plan, const struct sb_migrate_options *opts,
                           const char *backup, struct sb_buf *err)
{
    if (sb_audit_schema(db, err) != 0)
        return SB_STORE_EDB;
    struct sb_buf changes;
    sb_buf_init(&changes);
    const char *name = opts->source_name ? opts->source_name : "";
    sb_buf_puts(&changes, "{\"spec\":");
    sb_json_string(&changes, name, strlen(name));
    sb_buf_printf(&changes, ",\"hash\":\"%s\",\"first\":%s,\"steps\":[", plan->hash,
                  plan->first ? "true" : "false");
    for (size_t i = 0; i < plan->n_steps; i++) {
        if (i)
            sb_buf_putc(&changes, ',');
        sb_json_string(&changes, plan->steps[i].words, strlen(plan->steps[i].words));
    }
    sb_buf_printf(&changes, "],\"data_loss\":%s,\"backup\":", plan->data_loss ? "true" : "false");
    if (backup)
        sb_json_string(&changes, backup, strlen(backup));
    else
        sb_buf_puts(&changes, "null");
    sb_buf_putc(&changes, '}');
    struct sb_audit_entry entry = {
        .actor_role = "operator",
        .op = SB_AUDIT_OP_MIGRATION,
        .changes = sb_buf_str(&changes),
    };
    int rc = sb_audit_append(db, &entry, err);
    sb_buf_free(&changes);
    return rc;
}

/* One attempt of sb_migrate_apply. The transaction starts as a read (BEGIN
 * DEFERRED) so that the plan, the drift check and the backup all see one
 * snapshot; the first write upgrades it, and SQLite refuses that upgrade
 * (SQLITE_BUSY_SNAPSHOT) if anyone committed since the snapshot was taken,
 * so the backup is exactly the database the migration changed. */
static int apply_once(sqlite3 *db, const struct sb_model *model,
                      const struct sb_migrate_options *opts, struct sb_migrate_outcome *out,
                      struct sb_buf *err, bool *retry)
{
    *retry = false;
    int rc = sb_db_exec(db, "BEGIN DEFERRED", err);
    if (rc != 0)
        return rc;
    struct sb_buf text, json;
    sb_buf_init(&text);
    sb_buf_init(&json);
    char *snapshot = NULL;

    rc = sb_migrate_plan(db, model, &out->plan, err);
    if (rc != 0)
        goto done;
    struct sb_plan *plan = out->plan;
    if (plan->data_loss && !opts->allow_data_loss) {
        rc = SB_STORE_EUNSAFE;
        goto done;
    }
    if (plan->n_steps == 0 && plan->same_spec)
        goto done; /* nothing to do */

    if (plan->n_steps && opts->backup && opts->db_path && strcmp(opts->db_path, ":memory:") != 0) {
        struct sb_schema live;
        sb_schema_init(&live);
        rc = sb_migrate_live_schema(db, &live, err);
        bool empty = live.n_objects == 0 && sb_meta_exists(db) == 0;
        sb_schema_free(&live);
        if (rc != 0)
            goto done;
        if (!empty) {
            out->backup_path = backup_name(opts->db_path);
            if (!out->backup_path) {
                sb_buf_printf(err, "no free backup file name beside %s", opts->db_path);
                rc = SB_STORE_EDB;
                goto done;
            }
            rc = backup_to(db, out->backup_path, err);
            if (rc != 0) {
                free(out->backup_path);
                out->backup_path = NULL;
                goto done;
            }
        }
    }
    /* The first write: upgrades the snapshot to the write lock. */
    rc = sb_meta_ensure(db, err);
    if (rc != 0) {
        *retry = sqlite3_extended_errcode(db) == SQLITE_BUSY_SNAPSHOT;
        goto done;
    }
    for (size_t i = 0; rc == 0 && i < plan->n_steps; i++)
        rc = run_step(db, i, &plan->steps[i], err);
    if (rc != 0)
        goto done;

    snapshot = live_snapshot(db, err);
    if (!snapshot) {
        rc = SB_STORE_EDB;
        goto done;
    }
    sb_plan_print(plan, &text);
    model_hash(model, plan->hash, &json);
    struct sb_meta_record rec = {
        .hash = plan->hash,
        .json = sb_buf_str(&json),
        .source_name = opts->source_name ? opts->source_name : "",
        .source = opts->source ? opts->source : "",
        .source_len = opts->source ? opts->source_len : 0,
        .schema_json = snapshot,
        .plan = sb_buf_str(&text),
        .data_loss = plan->data_loss,
        .backup = out->backup_path,
        .version = opts->version ? opts->version : "",
    };
    rc = sb_meta_record(db, &rec, err);
    if (rc == 0)
        rc = audit_migration(db, plan, opts, out->backup_path, err);
    if (rc == 0)
        rc = sb_db_exec(db, "COMMIT", err);
    if (rc == 0)
        out->applied = true;
done:
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    if (rc != 0 && out->backup_path) {
        /* Nothing changed, so the backup is the database as it is. */
        unlink(out->backup_path);
        free(out->backup_path);
        out->backup_path = NULL;
    }
    free(snapshot);
    sb_buf_free(&text);
    sb_buf_free(&json);
    return rc;
}

int sb_migrate_apply(sqlite3 *db, const struct sb_model *model,
                     const struct sb_migrate_options *opts, struct sb_migrate_outcome *out,
                     struct sb_buf *err)
{
    memset(out, 0, sizeof(*out));
    if (!sqlite3_get_autocommit(db)) {
        sb_buf_puts(err, "a migration cannot run inside an open transaction");
        return SB_STORE_EDB;
    }
    /* Foreign keys cannot be switched inside a transaction; the rebuild
     * needs them off, and PRAGMA foreign_key_check stands in for them. */
    if (sb_db_exec(db, "PRAGMA foreign_keys = OFF", err) != 0)
        return SB_STORE_EDB;
    int rc = SB_STORE_EDB;
    for (int attempt = 0; attempt < 5; attempt++) {
        bool retry = false;
        size_t err_len = err->len;
        rc = apply_once(db, model, opts, out, err, &retry);
        if (!retry)
            break;
        /* Someone wrote between the snapshot and the first write: the
         * backup is stale. Start over. */
        sb_plan_free(out->plan);
        memset(out, 0, sizeof(*out));
        err->len = err_len;
        if (err->data)
            err->data[err_len] = '\0';
    }
    sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    return rc;
}
