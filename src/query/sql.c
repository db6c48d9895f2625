/* SQL compiler of the records API, see sql.h. One pass over the query AST:
 * each name is resolved against the collection as it is written out, each
 * operand validated and bound. Statements look like
 *
 *   SELECT sb_json_build('jvjjj', '{"id":', t."id", ',"price":', t."price", '}')
 *   FROM "product" AS t
 *   WHERE (<read rule>) AND (<filters>)
 *   ORDER BY t."price" DESC NULLS FIRST LIMIT ?3 OFFSET ?4
 *
 * Decimals are stored as canonical text and compared through CAST(... AS
 * NUMERIC); booleans are 0/1 and printed as true/false; json and arrays are
 * JSON text and spliced as they are, never parsed. The custom functions
 * sb_like, sb_regexp, sb_json_contains, sb_json_overlaps and sb_json_build
 * (which writes a row's JSON object in one call) come from store/sqlfn.c;
 * full-text queries are converted by query/fts.c. */
#include "query/sql.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "guard/validate.h"
#include "query/fts.h"
#include "query/parse.h"
#include "query/sql_rules.h"
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

void sb_sql_piece(struct sb_sql *piece, struct sb_sql *statement)
{
    sb_sql_init(piece, statement->arena);
    piece->root = statement->root ? statement->root : statement;
}

void sb_sql_bind(struct sb_sql *sql, const struct sb_value *value)
{
    struct sb_sql *root = sql->root ? sql->root : sql;
    if (root->n_binds == root->cap_binds) {
        size_t cap = root->cap_binds ? root->cap_binds * 2 : 16;
        struct sb_value *binds = sb_arena_alloc(root->arena, cap * sizeof(*binds));
        if (root->n_binds)
            memcpy(binds, root->binds, root->n_binds * sizeof(*binds));
        root->binds = binds;
        root->cap_binds = cap;
    }
    root->binds[root->n_binds++] = *value;
    sb_buf_printf(&sql->text, "?%zu", root->n_binds);
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

/* A row's JSON object is written as one call sb_json_build(kinds, a1, ...)
 * (store/sqlfn.h): JSON punctuation and keys from the model are literal
 * arguments, adjacent ones merged into one; each value is an argument of
 * kind 'v' (written as json_quote() would) or 'j' (JSON text written as it
 * is, NULL as null). Nothing is parsed, and the text is built in one buffer
 * instead of a copy per || operator. Past MAX_CALL_ARGS arguments (SQLite
 * allows 127 per call) the object goes on in a second call, joined by ||. */
#define MAX_CALL_ARGS 100

struct parts {
    struct sb_sql args;     /* ", a1, a2" of the current call: a piece of out */
    struct sb_buf kinds;    /* one letter per argument of the current call */
    struct sb_buf literal;  /* literal JSON text not yet written as an argument */
    struct sb_sql *out;     /* borrowed: where finished calls are written */
    size_t n_calls;
};

static void parts_init(struct parts *parts, struct sb_sql *out)
{
    sb_sql_piece(&parts->args, out);
    sb_buf_init(&parts->kinds);
    sb_buf_init(&parts->literal);
    parts->out = out;
    parts->n_calls = 0;
}

static void parts_free(struct parts *parts)
{
    sb_sql_free(&parts->args);
    sb_buf_free(&parts->kinds);
    sb_buf_free(&parts->literal);
}

static void flush_call(struct parts *parts)
{
    if (parts->kinds.len == 0)
        return;
    if (parts->n_calls++)
        puts_sql(parts->out, " || ");
    puts_sql(parts->out, "sb_json_build('");
    sb_buf_append(&parts->out->text, parts->kinds.data, parts->kinds.len);
    sb_buf_putc(&parts->out->text, '\'');
    sb_buf_append(&parts->out->text, parts->args.text.data, parts->args.text.len);
    sb_buf_putc(&parts->out->text, ')');
    sb_buf_reset(&parts->kinds);
    sb_buf_reset(&parts->args.text);
}

/* Start an argument of kind 'v' or 'j'; its SQL goes to the returned piece. */
static struct sb_sql *next_arg(struct parts *parts, char kind)
{
    if (parts->kinds.len == MAX_CALL_ARGS)
        flush_call(parts);
    sb_buf_putc(&parts->kinds, kind);
    puts_sql(&parts->args, ", ");
    return &parts->args;
}

/* Write the pending literal text as one SQL string argument. The text is
 * punctuation and names from the model, never a client's. */
static void flush_literal(struct parts *parts)
{
    if (parts->literal.len == 0)
        return;
    struct sb_sql *arg = next_arg(parts, 'j');
    sb_buf_putc(&arg->text, '\'');
    const char *text = parts->literal.data, *end = text + parts->literal.len;
    for (const char *quote; (quote = memchr(text, '\'', (size_t)(end - text))) != NULL; text = quote + 1) {
        sb_buf_append(&arg->text, text, (size_t)(quote - text + 1));
        sb_buf_putc(&arg->text, '\''); /* a quote is written twice */
    }
    sb_buf_append(&arg->text, text, (size_t)(end - text));
    sb_buf_putc(&arg->text, '\'');
    sb_buf_reset(&parts->literal);
}

static void literal(struct parts *parts, const char *text)
{
    sb_buf_puts(&parts->literal, text);
}

/* A value argument: the SQL of the value goes to the returned piece. */
static struct sb_sql *value_arg(struct parts *parts, char kind)
{
    flush_literal(parts);
    return next_arg(parts, kind);
}

/* The object's calls, written to out. */
static void parts_finish(struct parts *parts)
{
    flush_literal(parts);
    flush_call(parts);
}

/* A field's value in a row's JSON object: the column as a value (null,
 * number or string), the stored text for json, arrays and decimals (kept in
 * canonical JSON form), true/false for booleans. */
static void json_value(struct parts *parts, const char *alias, const struct sb_field *f)
{
    if (f->type.kind == SB_TYPE_BOOL && !f->type.is_array) {
        struct sb_sql *sql = value_arg(parts, 'j');
        puts_sql(sql, "CASE ");
        column(sql, alias, f);
        puts_sql(sql, " WHEN 1 THEN 'true' WHEN 0 THEN 'false' END");
    } else {
        column(value_arg(parts, is_json_text(f) || is_decimal(f) ? 'j' : 'v'), alias, f);
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
                        const struct sb_q_select_item *item, const char *alias, struct parts *parts,
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
        struct sb_sql *sql = value_arg(parts, 'v');
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
        /* -> gives JSON text, ->> an SQL value */
        bool as_text = item->path.steps[item->path.n_steps - 1].as_text;
        return path_value(value_arg(parts, as_text ? 'v' : 'j'), alias, f, &item->path, err);
    }
    json_value(parts, alias, f);
    return 0;
}

/* The key of a select item: a name from the model is literal text (names
 * are [a-z0-9_]); a key from the client (an alias, a json key) is bound and
 * written as a JSON string. */
static void key_literal(struct parts *parts, bool *first, const char *name)
{
    literal(parts, *first ? "\"" : ",\"");
    literal(parts, name);
    literal(parts, "\":");
    *first = false;
}

static void key_bound(struct parts *parts, bool *first, const char *key)
{
    if (!*first)
        literal(parts, ",");
    sb_sql_bind_text(value_arg(parts, 'v'), key, strlen(key));
    literal(parts, ":");
    *first = false;
}

static void bind_key(struct parts *parts, bool *first, const struct sb_q_select_item *item, const struct sb_field *f)
{
    if (item->alias)
        return key_bound(parts, first, item->alias);
    for (size_t i = item->path.n_steps; i > 0; i--) {
        const struct sb_q_json_step *step = &item->path.steps[i - 1];
        if (step->key)
            return key_bound(parts, first, step->key);
    }
    key_literal(parts, first, f->name);
}

/* ---- embedding ------------------------------------------------------------- */

/* Where a select list is being written: the query (for the options of
 * embedded levels), the keys of the embeds from the top, and the counter
 * that makes every table alias of the statement unique. */
struct level {
    const struct sb_query *query;
    const char *keys[SB_Q_MAX_EMBED_DEPTH + 1];  /* alias or relation name */
    const char *rels[SB_Q_MAX_EMBED_DEPTH + 1];  /* relation names */
    size_t depth;
    int alias_seq;
    int *seq;                                    /* the statement's counter */
};

enum rel_kind { REL_TO_ONE, REL_TO_MANY, REL_MANY_TO_MANY };

/* How a collection reaches an embedded one. */
struct relation {
    enum rel_kind kind;
    const struct sb_collection *target;
    const struct sb_field *fk;              /* TO_ONE: parent's field; TO_MANY: target's field */
    const struct sb_collection *junction;   /* MANY_TO_MANY */
    const struct sb_field *j_parent, *j_target;
    const char *name;                       /* the foreign key's name, for messages */
};

static const char *fk_name(struct sb_arena *arena, const struct sb_collection *c, const struct sb_field *f)
{
    return sb_arena_printf(arena, "%s_%s_fkey", c->name, f->name);
}

static bool hint_matches(struct sb_arena *arena, const char *hint, const struct sb_collection *c,
                         const struct sb_field *f)
{
    return !hint || !strcmp(hint, f->name) || !strcmp(hint, fk_name(arena, c, f));
}

static const char *kind_text(enum rel_kind kind)
{
    return kind == REL_TO_ONE ? "many-to-one" : kind == REL_TO_MANY ? "one-to-many" : "many-to-many";
}

/* A collection is a junction between two of its relations only when the
 * pair is a unique key (PostgREST's rule): a comment with a post and an
 * author does not make posts and authors many-to-many. */
static bool unique_pair(const struct sb_collection *coll, const struct sb_field *a, const struct sb_field *b)
{
    for (size_t i = 0; i < coll->n_indexes; i++) {
        const struct sb_index *ix = coll->indexes[i];
        if (ix->unique && ix->n_columns == 2 &&
            ((ix->columns[0] == a && ix->columns[1] == b) || (ix->columns[0] == b && ix->columns[1] == a)))
            return true;
    }
    return false;
}

/* PostgREST's relationship detection over the spec's relations: a to-one
 * by the target's name or the field's name, a to-many by the referencing
 * collection's name, a many-to-many through a junction whose two relations
 * form a unique key. A hint (!fk_name, !field or !junction) picks one of several. */
static int resolve_relation(const struct sb_sql_ctx *ctx, const struct sb_collection *parent, const char *name,
                            const char *hint, struct relation *out, struct sb_api_error *err)
{
    const struct sb_model *m = ctx->model;
    struct relation found[16];
    size_t n = 0;
    bool by_column = false;
    for (size_t i = 0; i < parent->n_fields && n < 16; i++) {
        const struct sb_field *f = parent->fields[i];
        if (f->type.kind != SB_TYPE_REF || f->type.is_array || !f->type.ref)
            continue;
        bool named = !strcmp(f->type.ref->name, name), column = !strcmp(f->name, name);
        if ((named || column) && hint_matches(ctx->arena, hint, parent, f)) {
            if (column && !by_column) { /* embedding by the column's name is unambiguous */
                n = 0;
                by_column = true;
            } else if (by_column) {
                continue;
            }
            found[n++] = (struct relation){.kind = REL_TO_ONE, .target = f->type.ref, .fk = f,
                                           .name = fk_name(ctx->arena, parent, f)};
        }
    }
    for (size_t c = 0; !by_column && c < m->n_collections; c++) {
        const struct sb_collection *coll = m->collections[c];
        for (size_t i = 0; i < coll->n_fields && n < 16; i++) {
            const struct sb_field *g = coll->fields[i];
            if (g->type.kind != SB_TYPE_REF || g->type.is_array || g->type.ref != parent)
                continue;
            if (!strcmp(coll->name, name) && hint_matches(ctx->arena, hint, coll, g))
                found[n++] = (struct relation){.kind = REL_TO_MANY, .target = coll, .fk = g,
                                               .name = fk_name(ctx->arena, coll, g)};
            /* coll as a junction: g -> parent, h -> a collection called name */
            for (size_t k = 0; k < coll->n_fields && n < 16; k++) {
                const struct sb_field *h = coll->fields[k];
                if (h == g || h->type.kind != SB_TYPE_REF || h->type.is_array || !h->type.ref ||
                    strcmp(h->type.ref->name, name) != 0 || coll == parent || coll == h->type.ref ||
                    !unique_pair(coll, g, h))
                    continue;
                if (hint && strcmp(hint, coll->name) && !hint_matches(ctx->arena, hint, coll, g) &&
                    !hint_matches(ctx->arena, hint, coll, h))
                    continue;
                found[n++] = (struct relation){.kind = REL_MANY_TO_MANY, .target = h->type.ref, .junction = coll,
                                               .j_parent = g, .j_target = h, .name = coll->name};
            }
        }
    }
    if (n == 1) {
        *out = found[0];
        return 0;
    }
    if (n == 0) {
        sb_api_error_set(err, 400, "PGRST200", "Could not find a relationship between '%s' and '%s' in the schema cache",
                         parent->name, name);
        sb_api_error_hint(err, "Perhaps you meant a relation of '%s' through one of its '->' fields", parent->name);
        return -1;
    }
    struct sb_buf details, hints;
    sb_buf_init(&details);
    sb_buf_init(&hints);
    for (size_t i = 0; i < n; i++) {
        sb_buf_printf(&details, "%s%s (%s, embedding %s with %s)", i ? "; " : "", found[i].name,
                      kind_text(found[i].kind), parent->name, found[i].target->name);
        sb_buf_printf(&hints, "%s'%s!%s'", i ? ", " : "", name, found[i].name);
    }
    sb_api_error_set(err, 300, "PGRST201",
                     "Could not embed because more than one relationship was found for '%s' and '%s'",
                     parent->name, name);
    sb_api_error_details(err, "%s", sb_buf_str(&details));
    sb_api_error_hint(err, "Try changing '%s' to one of the following: %s. Find the desired relationship in the "
                           "'details' key.", name, sb_buf_str(&hints));
    sb_buf_free(&details);
    sb_buf_free(&hints);
    return -1;
}

static const char *embed_key(const struct sb_q_select_item *item)
{
    return item->alias ? item->alias : item->relation;
}

/* The options and filters of the embed at lvl + item, if any parameter
 * named it (by its alias first, then by its relation name). */
static const struct sb_q_level *embed_level(const struct level *lvl, const struct sb_q_select_item *item)
{
    const char *names[SB_Q_MAX_EMBED_DEPTH + 1];
    for (size_t i = 0; i < lvl->depth; i++)
        names[i] = lvl->keys[i];
    names[lvl->depth] = embed_key(item);
    const struct sb_q_level *found = sb_query_level(lvl->query, names, lvl->depth + 1);
    if (!found && item->alias) {
        names[lvl->depth] = item->relation;
        found = sb_query_level(lvl->query, names, lvl->depth + 1);
    }
    return found;
}

static const char *next_alias(struct level *lvl, struct sb_arena *arena)
{
    return sb_arena_printf(arena, "t%d", ++*lvl->seq);
}

/* "the rows of rel for the parent row": the join condition, with the
 * target aliased as alias. */
static int join_condition(const struct sb_sql_ctx *ctx, const struct relation *rel, const char *parent_alias,
                          const char *alias, struct level *lvl, struct sb_sql *sql, struct sb_api_error *err)
{
    const struct sb_field *id_of_target = sb_collection_field(rel->target, "id");
    switch (rel->kind) {
    case REL_TO_ONE:
        column(sql, alias, id_of_target);
        puts_sql(sql, " = ");
        column(sql, parent_alias, rel->fk);
        return 0;
    case REL_TO_MANY:
        column(sql, alias, rel->fk);
        puts_sql(sql, " = ");
        sb_sql_ident(&sql->text, parent_alias);
        puts_sql(sql, ".\"id\"");
        return 0;
    case REL_MANY_TO_MANY: {
        const char *j = next_alias(lvl, ctx->arena);
        column(sql, alias, id_of_target);
        puts_sql(sql, " IN (SELECT ");
        column(sql, j, rel->j_target);
        puts_sql(sql, " FROM ");
        sb_sql_ident(&sql->text, rel->junction->name);
        puts_sql(sql, " AS ");
        sb_sql_ident(&sql->text, j);
        puts_sql(sql, " WHERE ");
        column(sql, j, rel->j_parent);
        puts_sql(sql, " = ");
        sb_sql_ident(&sql->text, parent_alias);
        puts_sql(sql, ".\"id\"");
        if (sb_sql_rule(ctx, rel->junction, SB_RULE_READ, j, sql, err) != 0)
            return -1;
        puts_sql(sql, ")");
        return 0;
    }
    }
    return 0;
}

static int object_expr(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                       struct sb_q_select_item *const *items, size_t n_items, const char *alias,
                       struct level *lvl, struct sb_sql *out, struct sb_api_error *err);
static int level_where(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                       struct sb_q_select_item *const *items, size_t n_items, const struct sb_q_level *level,
                       const char *alias, struct level *lvl, struct sb_sql *sql, struct sb_api_error *err);
static int order_by(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                    struct sb_q_select_item *const *items, size_t n_items, const struct sb_q_level *level,
                    const char *alias, struct level *lvl, struct sb_sql *sql, struct sb_api_error *err);

static void enter(struct level *child, const struct level *lvl, const struct sb_q_select_item *item)
{
    *child = *lvl;
    child->keys[lvl->depth] = embed_key(item);
    child->rels[lvl->depth] = item->relation;
    child->depth = lvl->depth + 1;
}

/* FROM target AS alias WHERE join AND rule AND the embed's filters; lvl is
 * the parent's level. */
static int embed_from(const struct sb_sql_ctx *ctx, const struct relation *rel, const struct sb_q_select_item *item,
                      const char *parent_alias, const char *alias, struct level *lvl, struct sb_sql *sql,
                      struct sb_api_error *err)
{
    struct level child;
    enter(&child, lvl, item);
    puts_sql(sql, " FROM ");
    sb_sql_ident(&sql->text, rel->target->name);
    puts_sql(sql, " AS ");
    sb_sql_ident(&sql->text, alias);
    puts_sql(sql, " WHERE ");
    if (join_condition(ctx, rel, parent_alias, alias, lvl, sql, err) != 0)
        return -1;
    if (sb_sql_rule(ctx, rel->target, SB_RULE_READ, alias, sql, err) != 0)
        return -1;
    return level_where(ctx, rel->target, item->children, item->n_children, embed_level(lvl, item), alias, &child,
                       sql, err);
}

/* EXISTS (the embed has a row for this parent row): !inner and rel=not.is.null */
static int embed_exists(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                        const struct sb_q_select_item *item, const char *parent_alias, struct level *lvl,
                        struct sb_sql *sql, struct sb_api_error *err)
{
    struct relation rel;
    if (resolve_relation(ctx, coll, item->relation, item->hint, &rel, err) != 0)
        return -1;
    const char *alias = next_alias(lvl, ctx->arena);
    puts_sql(sql, "EXISTS (SELECT 1");
    if (embed_from(ctx, &rel, item, parent_alias, alias, lvl, sql, err) != 0)
        return -1;
    puts_sql(sql, ")");
    return 0;
}

/* The embed's value in its parent's object: an object (or NULL, written
 * null) for a to-one, an array for the others, built by one correlated
 * subquery. */
static int embed_value(const struct sb_sql_ctx *ctx, const struct relation *rel, const struct sb_q_select_item *item,
                       const char *parent_alias, struct level *lvl, struct sb_sql *sql, struct sb_api_error *err)
{
    struct level child;
    enter(&child, lvl, item);
    const char *alias = next_alias(lvl, ctx->arena);
    const struct sb_q_level *level = embed_level(lvl, item);
    if (rel->kind == REL_TO_ONE) {
        puts_sql(sql, "(SELECT ");
        if (object_expr(ctx, rel->target, item->children, item->n_children, alias, &child, sql, err) != 0 ||
            embed_from(ctx, rel, item, parent_alias, alias, lvl, sql, err) != 0)
            return -1;
        puts_sql(sql, ")");
        return 0;
    }
    puts_sql(sql, "(SELECT sb_json_array(\"j\") FROM (SELECT ");
    if (object_expr(ctx, rel->target, item->children, item->n_children, alias, &child, sql, err) != 0)
        return -1;
    puts_sql(sql, " AS \"j\"");
    if (embed_from(ctx, rel, item, parent_alias, alias, lvl, sql, err) != 0)
        return -1;
    if (level && order_by(ctx, rel->target, item->children, item->n_children, level, alias, &child, sql, err) != 0)
        return -1;
    if (level && (level->has_limit || level->has_offset)) {
        puts_sql(sql, " LIMIT ");
        sb_sql_bind_int(sql, level->has_limit ? level->limit : -1);
        puts_sql(sql, " OFFSET ");
        sb_sql_bind_int(sql, level->has_offset ? level->offset : 0);
    }
    puts_sql(sql, "))");
    return 0;
}

/* Fields whose read rule must hide them in some rows: collected while the
 * object is written, applied around it with json_remove. */
struct hidden_keys {
    const struct sb_field *fields[64];
    const char *keys[64]; /* the key the field appears under */
    size_t n;
};

static void hide_if_ruled(struct hidden_keys *rules, const struct sb_field *f, const char *key)
{
    if (f->read_rule && rules->n < 64) {
        rules->keys[rules->n] = key;
        rules->fields[rules->n++] = f;
    }
}

/* The keys a spread embed (...rel(a, b)) contributes to its parent's
 * object, each read from the embedded object: obj -> '$."key"' (NULL, for
 * no embedded row, is written null). */
static int spread_members(const struct sb_sql_ctx *ctx, const struct relation *rel, const struct sb_q_select_item *item,
                          const char *parent_alias, struct level *lvl, struct parts *parts, bool *first,
                          struct sb_api_error *err)
{
    if (rel->kind != REL_TO_ONE)
        return sb_api_error_set(err, 400, "PGRST119",
                                "A spread operation on '%s' is only possible on a to-one relationship", item->relation);
    for (size_t i = 0; i < item->n_children; i++) {
        const struct sb_q_select_item *c = item->children[i];
        const char *keys[SB_SPEC_MAX_FIELDS + 3];
        size_t n_keys = 0;
        if (c->kind == SB_Q_SEL_STAR) {
            for (size_t k = 0; k < rel->target->n_fields; k++) {
                const struct sb_field *f = rel->target->fields[k];
                if (!(f->flags & SB_FIELD_HIDDEN) && f->type.kind != SB_TYPE_PASSWORD)
                    keys[n_keys++] = f->name;
            }
        } else if (c->kind == SB_Q_SEL_EMBED) {
            keys[n_keys++] = embed_key(c);
        } else {
            const char *key = c->alias ? c->alias : c->path.column;
            for (size_t k = c->path.n_steps; !c->alias && k > 0; k--)
                if (c->path.steps[k - 1].key) {
                    key = c->path.steps[k - 1].key;
                    break;
                }
            keys[n_keys++] = key;
        }
        for (size_t k = 0; k < n_keys; k++) {
            if (strchr(keys[k], '"'))
                return sb_api_error_set(err, 400, "PGRST100", "key %.60s cannot hold '\"'", keys[k]);
            key_bound(parts, first, keys[k]);
            struct sb_sql *sql = value_arg(parts, 'j');
            struct sb_q_select_item only = *item;
            only.spread = false;
            if (embed_value(ctx, rel, &only, parent_alias, lvl, sql, err) != 0)
                return -1;
            puts_sql(sql, " -> ");
            const char *path = sb_arena_printf(ctx->arena, "$.\"%s\"", keys[k]);
            sb_sql_bind_text(sql, path, strlen(path));
        }
    }
    return 0;
}

/* The model's spelling of the name a relation was found by (the target
 * collection or the parent's field), NULL when it is neither. */
static const char *model_name(const struct relation *rel, const char *name)
{
    if (!strcmp(rel->target->name, name))
        return rel->target->name;
    if (rel->kind == REL_TO_ONE && !strcmp(rel->fk->name, name))
        return rel->fk->name;
    return NULL;
}

static int row_object(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                      struct sb_q_select_item *const *items, size_t n_items, const char *alias,
                      struct level *lvl, struct parts *parts, struct hidden_keys *rules, struct sb_api_error *err)
{
    literal(parts, "{");
    bool first = true;
    for (size_t i = 0; i < n_items; i++) {
        const struct sb_q_select_item *item = items[i];
        if (item->kind == SB_Q_SEL_STAR) {
            for (size_t k = 0; k < coll->n_fields; k++) {
                const struct sb_field *f = coll->fields[k];
                if ((f->flags & SB_FIELD_HIDDEN) || f->type.kind == SB_TYPE_PASSWORD)
                    continue;
                key_literal(parts, &first, f->name);
                json_value(parts, alias, f);
                hide_if_ruled(rules, f, f->name);
            }
            continue;
        }
        if (item->kind == SB_Q_SEL_EMBED) {
            struct relation rel;
            if (resolve_relation(ctx, coll, item->relation, item->hint, &rel, err) != 0)
                return -1;
            if (item->spread) {
                if (spread_members(ctx, &rel, item, alias, lvl, parts, &first, err) != 0)
                    return -1;
                continue;
            }
            if (item->n_children == 0)
                continue; /* rel!inner(): filters its parent, returns nothing */
            const char *name = model_name(&rel, item->relation);
            if (item->alias || !name)
                key_bound(parts, &first, embed_key(item));
            else
                key_literal(parts, &first, name);
            if (embed_value(ctx, &rel, item, alias, lvl, value_arg(parts, 'j'), err) != 0)
                return -1;
            continue;
        }
        const struct sb_field *f = path_field(coll, &item->path, err);
        if (!f)
            return -1;
        bind_key(parts, &first, item, f);
        if (select_value(ctx, coll, item, alias, parts, &f, err) != 0)
            return -1;
        hide_if_ruled(rules, f, item->alias ? item->alias : f->name);
    }
    literal(parts, "}");
    return 0;
}

/* The row's JSON object, with field read rules applied: a field a rule
 * does not allow in this row has its key removed (json_remove with a path
 * that cannot exist when it does). */
static int object_expr(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                       struct sb_q_select_item *const *items, size_t n_items, const char *alias,
                       struct level *lvl, struct sb_sql *out, struct sb_api_error *err)
{
    struct sb_sql object;
    sb_sql_piece(&object, out);
    struct parts parts;
    parts_init(&parts, &object);
    struct hidden_keys rules = {.n = 0};
    int rc = row_object(ctx, coll, items, n_items, alias, lvl, &parts, &rules, err);
    parts_finish(&parts);
    parts_free(&parts);
    if (ctx->who->bypass_rules)
        rules.n = 0;
    if (rc == 0) {
        for (size_t i = 0; i < rules.n; i++)
            puts_sql(out, "json_remove(");
        sb_buf_append(&out->text, object.text.data, object.text.len);
        for (size_t i = rules.n; i > 0 && rc == 0; i--) {
            const char *key = rules.keys[i - 1];
            if (strchr(key, '"')) {
                rc = sb_api_error_set(err, 400, "PGRST100", "alias %.60s cannot hold '\"'", key);
                break;
            }
            puts_sql(out, ", CASE WHEN ");
            rc = sb_sql_rule_expr(ctx, rules.fields[i - 1]->read_rule->expr, alias, out, err);
            puts_sql(out, " THEN '$.\"  \"' ELSE ");
            const char *path = sb_arena_printf(out->arena, "$.\"%s\"", key);
            sb_sql_bind_text(out, path, strlen(path));
            puts_sql(out, " END)");
        }
    }
    sb_sql_free(&object);
    return rc;
}

/* Every embed level a parameter names must be an embed of the select. */
static bool level_in_select(struct sb_q_select_item *const *items, size_t n_items, const char *const *names,
                            size_t n)
{
    if (n == 0)
        return true;
    for (size_t i = 0; i < n_items; i++) {
        const struct sb_q_select_item *item = items[i];
        if (item->kind != SB_Q_SEL_EMBED)
            continue;
        if ((item->alias && !strcmp(item->alias, names[0])) || !strcmp(item->relation, names[0]))
            if (level_in_select(item->children, item->n_children, names + 1, n - 1))
                return true;
    }
    return false;
}

static int check_levels(const struct sb_query *query, struct sb_api_error *err)
{
    for (size_t i = 0; i < query->n_embeds; i++) {
        const struct sb_q_level *level = query->embeds[i];
        if (!level_in_select(query->select, query->n_select, level->embed, level->n_embed))
            return sb_api_error_set(err, 400, "PGRST108", "'%s' is not an embedded resource in this request",
                                    level->embed[level->n_embed - 1]);
    }
    return 0;
}

int sb_sql_row_json(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                    const struct sb_query *query, const char *alias, bool nulls_stripped,
                    struct sb_sql *out, struct sb_api_error *err)
{
    struct level root = {.query = query};
    root.seq = &root.alias_seq;
    if (check_levels(query, err) != 0)
        return -1;
    if (nulls_stripped)
        puts_sql(out, "json_patch('{}', ");
    if (object_expr(ctx, coll, query->select, query->n_select, alias, &root, out, err) != 0)
        return -1;
    if (nulls_stripped)
        puts_sql(out, ")");
    return 0;
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

/* Where a filter is compiled: the level's select items, for filters on an
 * embed itself (`author=is.null`). */
struct filter_scope {
    struct sb_q_select_item *const *items;
    size_t n_items;
    struct level *lvl;
};

static const struct sb_q_select_item *find_embed(struct sb_q_select_item *const *items, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (items[i]->kind == SB_Q_SEL_EMBED &&
            ((items[i]->alias && !strcmp(items[i]->alias, key)) || (!items[i]->alias && !strcmp(items[i]->relation, key))))
            return items[i];
    return NULL;
}

static int compile_filter(const struct sb_sql_ctx *ctx, const struct sb_collection *coll, struct sb_sql *sql,
                          const char *alias, const struct sb_q_filter *flt, const struct filter_scope *fs,
                          struct sb_api_error *err)
{
    const struct sb_q_select_item *embed =
        flt->path.n_steps == 0 && !sb_collection_field(coll, flt->path.column) && fs
            ? find_embed(fs->items, fs->n_items, flt->path.column)
            : NULL;
    if (embed) {
        /* the only filter on an embed itself: is.null / not.is.null */
        if (flt->op != SB_Q_OP_IS || (flt->is_value != SB_Q_IS_NULL && flt->is_value != SB_Q_IS_NOT_NULL))
            return sb_api_error_set(err, 400, "PGRST120",
                                    "Only is null or not is null filters are allowed on embedded resources");
        bool is_null = (flt->is_value == SB_Q_IS_NULL) != flt->negate;
        puts_sql(sql, is_null ? "NOT " : "");
        return embed_exists(ctx, coll, embed, alias, fs->lvl, sql, err);
    }
    const struct sb_field *f = path_field(coll, &flt->path, err);
    if (!f)
        return -1;
    if (flt->negate)
        puts_sql(sql, "NOT ");
    puts_sql(sql, "(");
    /* a field with a read rule is only visible, so only filterable, where
     * the rule holds */
    if (sb_sql_field_read_rule(ctx, f, alias, sql, err) != 0)
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
                        const char *alias, const struct sb_q_cond *cond, const struct filter_scope *fs,
                        struct sb_api_error *err)
{
    if (cond->kind == SB_Q_COND_FILTER)
        return compile_filter(ctx, coll, sql, alias, cond->filter, fs, err);
    if (cond->negate)
        puts_sql(sql, "NOT ");
    puts_sql(sql, "(");
    for (size_t i = 0; i < cond->n_children; i++) {
        if (i)
            puts_sql(sql, cond->kind == SB_Q_COND_AND ? " AND " : " OR ");
        if (compile_cond(ctx, coll, sql, alias, cond->children[i], fs, err) != 0)
            return -1;
    }
    puts_sql(sql, ")");
    return 0;
}

/* " AND filters AND EXISTS(inner embeds)" of one level */
static int level_where(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                       struct sb_q_select_item *const *items, size_t n_items, const struct sb_q_level *level,
                       const char *alias, struct level *lvl, struct sb_sql *sql, struct sb_api_error *err)
{
    struct filter_scope fs = {.items = items, .n_items = n_items, .lvl = lvl};
    if (level && level->where) {
        puts_sql(sql, " AND ");
        if (compile_cond(ctx, coll, sql, alias, level->where, &fs, err) != 0)
            return -1;
    }
    for (size_t i = 0; i < n_items; i++) {
        const struct sb_q_select_item *item = items[i];
        if (item->kind != SB_Q_SEL_EMBED || item->join != SB_Q_JOIN_INNER)
            continue;
        puts_sql(sql, " AND ");
        if (embed_exists(ctx, coll, item, alias, lvl, sql, err) != 0)
            return -1;
    }
    return 0;
}

int sb_sql_filters(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                   const struct sb_query *query, const char *alias, struct sb_sql *out,
                   struct sb_api_error *err)
{
    struct level root = {.query = query};
    root.seq = &root.alias_seq;
    if (check_levels(query, err) != 0)
        return -1;
    return level_where(ctx, coll, query->select, query->n_select, &query->root, alias, &root, out, err);
}

/* ---- statements ------------------------------------------------------------------ */

/* The value an order term sorts on: a column (or json path) of the level,
 * or a column of a to-one embed (order=author(name)). */
static int order_value(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                       struct sb_q_select_item *const *items, size_t n_items, const struct sb_q_order_term *term,
                       const char *alias, struct level *lvl, struct sb_sql *sql, bool *not_null,
                       struct sb_api_error *err)
{
    *not_null = false;
    if (term->relation) {
        const struct sb_q_select_item *embed = find_embed(items, n_items, term->relation);
        struct relation rel;
        if (!embed)
            return sb_api_error_set(err, 400, "PGRST108", "'%s' is not an embedded resource in this request",
                                    term->relation);
        if (resolve_relation(ctx, coll, embed->relation, embed->hint, &rel, err) != 0)
            return -1;
        if (rel.kind != REL_TO_ONE)
            return sb_api_error_set(err, 400, "PGRST118",
                                    "A related order on '%s' is not possible: it is not a to-one relationship",
                                    term->relation);
        const struct sb_field *f = path_field(rel.target, &term->path, err);
        if (!f)
            return -1;
        const char *t = next_alias(lvl, ctx->arena);
        puts_sql(sql, "(SELECT ");
        if (path_value(sql, t, f, &term->path, err) != 0)
            return -1;
        puts_sql(sql, " FROM ");
        sb_sql_ident(&sql->text, rel.target->name);
        puts_sql(sql, " AS ");
        sb_sql_ident(&sql->text, t);
        puts_sql(sql, " WHERE ");
        if (join_condition(ctx, &rel, alias, t, lvl, sql, err) != 0 ||
            sb_sql_rule(ctx, rel.target, SB_RULE_READ, t, sql, err) != 0)
            return -1;
        puts_sql(sql, ")");
        return 0;
    }
    const struct sb_field *f = path_field(coll, &term->path, err);
    if (!f)
        return -1;
    *not_null = term->path.n_steps == 0 && (f->flags & (SB_FIELD_REQUIRED | SB_FIELD_SYSTEM)) &&
                !(f->read_rule && !ctx->who->bypass_rules);
    if (f->read_rule && !ctx->who->bypass_rules) {
        /* rows where the field is not readable sort as if it were null */
        puts_sql(sql, "CASE WHEN ");
        if (sb_sql_rule_expr(ctx, f->read_rule->expr, alias, sql, err) != 0)
            return -1;
        puts_sql(sql, " THEN ");
        if (path_value(sql, alias, f, &term->path, err) != 0)
            return -1;
        puts_sql(sql, " END");
        return 0;
    }
    return path_value(sql, alias, f, &term->path, err);
}

static int order_by(const struct sb_sql_ctx *ctx, const struct sb_collection *coll,
                    struct sb_q_select_item *const *items, size_t n_items, const struct sb_q_level *level,
                    const char *alias, struct level *lvl, struct sb_sql *sql, struct sb_api_error *err)
{
    if (!level || level->n_order == 0)
        return 0;
    puts_sql(sql, " ORDER BY ");
    for (size_t i = 0; i < level->n_order; i++) {
        const struct sb_q_order_term *term = &level->order[i];
        if (i)
            puts_sql(sql, ", ");
        bool not_null;
        if (order_value(ctx, coll, items, n_items, term, alias, lvl, sql, &not_null, err) != 0)
            return -1;
        puts_sql(sql, term->desc ? " DESC" : " ASC");
        /* PostgreSQL's defaults: nulls last ascending, first descending.
         * SQLite's are the other way round, so say it, except where it
         * cannot matter (a column that is never null): an index can then
         * deliver the order without a sort. */
        bool nulls_first = term->nulls == SB_Q_NULLS_FIRST || (term->nulls == SB_Q_NULLS_DEFAULT && term->desc);
        if (!not_null)
            puts_sql(sql, nulls_first ? " NULLS FIRST" : " NULLS LAST");
    }
    return 0;
}

int sb_sql_order(const struct sb_sql_ctx *ctx, const struct sb_collection *coll, const struct sb_query *query,
                 const char *alias, struct sb_sql *out, struct sb_api_error *err)
{
    struct level root = {.query = query};
    root.seq = &root.alias_seq;
    if (check_levels(query, err) != 0)
        return -1;
    return order_by(ctx, coll, query->select, query->n_select, &query->root, alias, &root, out, err);
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
    struct level root = {.query = query};
    root.seq = &root.alias_seq;
    if (check_levels(query, err) != 0)
        return -1;
    puts_sql(out, "SELECT ");
    if (opts->nulls_stripped)
        puts_sql(out, "json_patch('{}', ");
    if (object_expr(ctx, coll, query->select, query->n_select, alias, &root, out, err) != 0)
        return -1;
    if (opts->nulls_stripped)
        puts_sql(out, ")");
    from_where(coll, alias, out);
    if (sb_sql_rule(ctx, coll, SB_RULE_READ, alias, out, err) != 0)
        return -1;
    if (level_where(ctx, coll, query->select, query->n_select, &query->root, alias, &root, out, err) != 0)
        return -1;
    if (order_by(ctx, coll, query->select, query->n_select, &query->root, alias, &root, out, err) != 0)
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
