/* Model -> schema objects (CREATE statements) for a dialect, and the parser
 * that reads such statements back from a database or a stored snapshot into
 * the same representation (see ddl.h). The generated CREATE TABLE is parsed
 * by the same code as a live one, so the two compare column by column
 * without caring how the text was laid out or in which order ALTER TABLE
 * ADD COLUMN left the columns. */
#include "store/ddl.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/die.h"

void sb_schema_init(struct sb_schema *schema)
{
    memset(schema, 0, sizeof(*schema));
    sb_arena_init(&schema->arena);
}

void sb_schema_free(struct sb_schema *schema)
{
    free(schema->objects);
    free(schema->by_name);
    free(schema->table_first);
    free(schema->table_last);
    sb_arena_free(&schema->arena);
    memset(schema, 0, sizeof(*schema));
}

static size_t hash_name(const char *name)
{
    size_t h = 1469598103934665603u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return h;
}

/* The slot of name in by_name (found or empty). */
static size_t name_slot(const struct sb_schema *schema, const char *name)
{
    size_t i = hash_name(name) & schema->mask;
    while (schema->by_name[i] && strcmp(schema->objects[schema->by_name[i] - 1].name, name) != 0)
        i = (i + 1) & schema->mask;
    return i;
}

/* The slot of table in table_first/table_last (found or empty). */
static size_t table_slot(const struct sb_schema *schema, const char *table)
{
    size_t i = hash_name(table) & schema->mask;
    while (schema->table_first[i] &&
           strcmp(schema->objects[schema->table_first[i] - 1].table, table) != 0)
        i = (i + 1) & schema->mask;
    return i;
}

/* Enter object idx (already in objects[]) into both indexes. */
static void index_object(struct sb_schema *schema, size_t idx)
{
    struct sb_ddl_object *obj = &schema->objects[idx];
    size_t slot = name_slot(schema, obj->name);
    if (!schema->by_name[slot]) /* the first of a duplicate name wins, as before */
        schema->by_name[slot] = idx + 1;
    obj->next_in_table = 0;
    slot = table_slot(schema, obj->table);
    if (!schema->table_first[slot])
        schema->table_first[slot] = idx + 1;
    else
        schema->objects[schema->table_last[slot] - 1].next_in_table = idx + 1;
    schema->table_last[slot] = idx + 1;
}

static void rehash(struct sb_schema *schema, size_t slots)
{
    free(schema->by_name);
    free(schema->table_first);
    free(schema->table_last);
    schema->by_name = sb_xcalloc(slots, sizeof(size_t));
    schema->table_first = sb_xcalloc(slots, sizeof(size_t));
    schema->table_last = sb_xcalloc(slots, sizeof(size_t));
    schema->mask = slots - 1;
    for (size_t i = 0; i < schema->n_objects; i++)
        index_object(schema, i);
}

/* A new zeroed object at the end; the caller fills it, then commit_object. */
static struct sb_ddl_object *add_object(struct sb_schema *schema)
{
    if (schema->n_objects == schema->cap) {
        schema->cap = schema->cap ? schema->cap * 2 : 32;
        schema->objects = sb_xrealloc(schema->objects, schema->cap * sizeof(*schema->objects));
    }
    struct sb_ddl_object *obj = &schema->objects[schema->n_objects];
    memset(obj, 0, sizeof(*obj));
    return obj;
}

static void commit_object(struct sb_schema *schema)
{
    schema->n_objects++;
    if (schema->n_objects * 2 > schema->mask) /* also the first time: mask 0 */
        rehash(schema, schema->mask ? (schema->mask + 1) * 2 : 64);
    else
        index_object(schema, schema->n_objects - 1);
}

const struct sb_ddl_object *sb_schema_find(const struct sb_schema *schema, const char *name)
{
    if (!schema->n_objects)
        return NULL;
    size_t idx = schema->by_name[name_slot(schema, name)];
    return idx ? &schema->objects[idx - 1] : NULL;
}

const struct sb_ddl_object *sb_schema_first(const struct sb_schema *schema, const char *table)
{
    if (!schema->n_objects)
        return NULL;
    size_t idx = schema->table_first[table_slot(schema, table)];
    return idx ? &schema->objects[idx - 1] : NULL;
}

const struct sb_ddl_object *sb_schema_next(const struct sb_schema *schema,
                                           const struct sb_ddl_object *obj)
{
    return obj->next_in_table ? &schema->objects[obj->next_in_table - 1] : NULL;
}

const struct sb_ddl_column *sb_ddl_column(const struct sb_ddl_object *table, const char *name)
{
    for (size_t i = 0; i < table->n_columns; i++)
        if (strcmp(table->columns[i].name, name) == 0)
            return &table->columns[i];
    return NULL;
}

/* ---- reading SQL text ---------------------------------------------------- */

/* If p starts a quoted token ('..', "..", [..], `..`), return the position
 * after it; otherwise NULL. Doubled quotes inside are part of the token. */
static const char *skip_quoted(const char *p)
{
    char close;
    switch (*p) {
    case '\'': close = '\''; break;
    case '"': close = '"'; break;
    case '`': close = '`'; break;
    case '[': close = ']'; break;
    default: return NULL;
    }
    const char *q = p + 1;
    for (;;) {
        if (!*q)
            return q;
        if (*q == close) {
            if (close != ']' && q[1] == close) {
                q += 2;
                continue;
            }
            return q + 1;
        }
        q++;
    }
}

static char *normalize_range(struct sb_arena *arena, const char *start, const char *end)
{
    struct sb_buf out;
    sb_buf_init(&out);
    bool space = false;
    const char *p = start;
    while (p < end) {
        const char *q = skip_quoted(p);
        if (q) {
            if (q > end)
                q = end;
            if (space && out.len)
                sb_buf_putc(&out, ' ');
            space = false;
            sb_buf_append(&out, p, (size_t)(q - p));
            p = q;
            continue;
        }
        if (isspace((unsigned char)*p)) {
            space = true;
        } else {
            if (space && out.len)
                sb_buf_putc(&out, ' ');
            space = false;
            sb_buf_putc(&out, *p);
        }
        p++;
    }
    char *copy = sb_arena_strndup(arena, sb_buf_str(&out), out.len);
    sb_buf_free(&out);
    return copy;
}

const char *sb_ddl_normalize(struct sb_arena *arena, const char *sql)
{
    return normalize_range(arena, sql, sql + strlen(sql));
}

/* The first token of a normalised definition: its unquoted text, and
 * whether it was quoted. */
static const char *first_token(struct sb_arena *arena, const char *def, bool *quoted,
                               const char **rest)
{
    const char *q = skip_quoted(def);
    if (q) {
        *quoted = true;
        *rest = q;
        struct sb_buf name;
        sb_buf_init(&name);
        char open = def[0], close = open == '[' ? ']' : open;
        for (const char *p = def + 1; p < q - 1; p++) {
            if (*p == close && close != ']')
                p++; /* a doubled quote stands for one */
            sb_buf_putc(&name, *p);
        }
        char *copy = sb_arena_strndup(arena, sb_buf_str(&name), name.len);
        sb_buf_free(&name);
        return copy;
    }
    *quoted = false;
    const char *end = def;
    while (*end && !isspace((unsigned char)*end) && *end != '(')
        end++;
    *rest = end;
    return sb_arena_strndup(arena, def, (size_t)(end - def));
}

static bool word_is(const char *word, const char *kw)
{
    return strcasecmp(word, kw) == 0;
}

/* Whether def holds the words NOT NULL outside quotes and parentheses. */
static bool has_not_null(const char *def)
{
    int depth = 0;
    for (const char *p = def; *p;) {
        const char *q = skip_quoted(p);
        if (q) {
            p = q;
            continue;
        }
        if (*p == '(')
            depth++;
        else if (*p == ')')
            depth--;
        else if (depth == 0 && strncasecmp(p, "NOT NULL", 8) == 0 && (p == def || p[-1] == ' ') &&
                 (p[8] == '\0' || p[8] == ' '))
            return true;
        p++;
    }
    return false;
}

/* Split "CREATE TABLE name (a, b, CHECK (..)) STRICT" into columns,
 * table constraints and options. */
static int parse_table(struct sb_arena *arena, struct sb_ddl_object *obj, const char *sql,
                       struct sb_buf *err)
{
    const char *p = sql;
    while (*p && *p != '(') {
        const char *q = skip_quoted(p);
        p = q ? q : p + 1;
    }
    if (*p != '(') {
        sb_buf_printf(err, "table %s: no column list in its definition", obj->name);
        return -1;
    }
    struct sb_ptrvec cols = {0}, cons = {0};
    int depth = 1;
    const char *piece = ++p;
    for (;;) {
        if (!*p) {
            sb_buf_printf(err, "table %s: unbalanced parentheses in its definition", obj->name);
            return -1;
        }
        const char *q = skip_quoted(p);
        if (q) {
            p = q;
            continue;
        }
        if (*p == '(') {
            depth++;
        } else if (*p == ')' || (*p == ',' && depth == 1)) {
            if (*p == ')' && --depth > 0) {
                p++;
                continue;
            }
            char *def = normalize_range(arena, piece, p);
            if (*def) {
                bool quoted;
                const char *rest;
                const char *word = first_token(arena, def, &quoted, &rest);
                if (!quoted && (word_is(word, "CONSTRAINT") || word_is(word, "PRIMARY") ||
                                word_is(word, "UNIQUE") || word_is(word, "CHECK") ||
                                word_is(word, "FOREIGN"))) {
                    sb_ptrvec_push(arena, &cons, def);
                } else {
                    struct sb_ddl_column *col = sb_arena_alloc(arena, sizeof(*col));
                    col->name = word;
                    col->def = def;
                    while (*rest == ' ')
                        rest++;
                    const char *type_end = rest;
                    while (*type_end && *type_end != ' ' && *type_end != '(')
                        type_end++;
                    col->type = sb_arena_strndup(arena, rest, (size_t)(type_end - rest));
                    col->not_null = has_not_null(def);
                    sb_ptrvec_push(arena, &cols, col);
                }
            }
            if (*p == ')')
                break;
            piece = p + 1;
        }
        p++;
    }
    obj->n_columns = cols.len;
    obj->columns = sb_arena_alloc(arena, (cols.len ? cols.len : 1) * sizeof(*obj->columns));
    for (size_t i = 0; i < cols.len; i++)
        obj->columns[i] = *(struct sb_ddl_column *)cols.items[i];
    obj->n_constraints = cons.len;
    obj->constraints = (const char **)cons.items;
    obj->options = normalize_range(arena, p + 1, p + strlen(p));
    return 0;
}

int sb_schema_add(struct sb_schema *schema, const char *type, const char *name, const char *table,
                  const char *sql, struct sb_buf *err)
{
    struct sb_arena *arena = &schema->arena;
    enum sb_ddl_kind kind;
    const char *norm = sb_ddl_normalize(arena, sql);
    if (strcmp(type, "table") == 0)
        kind = strncasecmp(norm, "CREATE VIRTUAL TABLE", 20) == 0 ? SB_DDL_FTS : SB_DDL_TABLE;
    else if (strcmp(type, "index") == 0)
        kind = SB_DDL_INDEX;
    else if (strcmp(type, "trigger") == 0)
        kind = SB_DDL_TRIGGER;
    else {
        sb_buf_printf(err, "%s: unexpected schema object type '%s'", name, type);
        return -1;
    }
    struct sb_ddl_object obj = {.kind = kind};
    obj.name = sb_arena_strdup(arena, name);
    obj.table = sb_arena_strdup(arena, table);
    obj.sql = norm;
    if (kind == SB_DDL_FTS && strncmp(name, SB_FTS_PREFIX, strlen(SB_FTS_PREFIX)) == 0)
        obj.table = obj.name + strlen(SB_FTS_PREFIX);
    if (kind == SB_DDL_TABLE && parse_table(arena, &obj, norm, err) != 0)
        return -1;
    *add_object(schema) = obj;
    commit_object(schema);
    return 0;
}

/* ---- generating SQL text -------------------------------------------------- */

/* Derived object names, the same rule as the checker's index names:
 * <collection>_<columns>_<suffix>, shortened with a hash past the limit. */
static const char *derived_name(struct sb_arena *arena, const char *coll, const char *field,
                                const char *suffix)
{
    char *full = sb_arena_printf(arena, "%s_%s%s", coll, field, suffix);
    size_t len = strlen(full);
    if (len <= SB_SPEC_MAX_NAME)
        return full;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)full[i]) * 16777619u;
    return sb_arena_printf(arena, "%.*s_%08" PRIx32 "%s", SB_SPEC_MAX_NAME - 13, full, h, suffix);
}

/* Length of expr without one pair of parentheses around all of it, and
 * where it starts then (the compiler parenthesises every operator). */
static const char *unwrap(const char *expr, size_t *len)
{
    *len = strlen(expr);
    if (*len < 2 || expr[0] != '(' || expr[*len - 1] != ')')
        return expr;
    int depth = 0;
    for (const char *p = expr; *p;) {
        const char *q = skip_quoted(p);
        if (q) {
            p = q;
            continue;
        }
        if (*p == '(')
            depth++;
        else if (*p == ')' && --depth == 0 && p[1] != '\0')
            return expr; /* the first group closes before the end */
        p++;
    }
    *len -= 2;
    return expr + 1;
}

static void add_check(struct sb_buf *def, const char *expr)
{
    size_t len;
    const char *inner = unwrap(expr, &len);
    sb_buf_printf(def, " CHECK (%.*s)", (int)len, inner);
}

/* Bounds of a float type as written in the spec (or printed exactly). */
static void float_bound(struct sb_buf *out, const char *text, double value)
{
    if (text && *text && strspn(text, "0123456789.eE+-") == strlen(text))
        sb_buf_puts(out, text);
    else
        sb_buf_printf(out, "%.17g", value);
}

/* "col BETWEEN a AND b", "col >= a" or "col <= b" for an integer range. */
static void int_range(struct sb_buf *out, const char *expr, bool has_min, int64_t min, bool has_max,
                      int64_t max)
{
    if (has_min && has_max)
        sb_buf_printf(out, "%s BETWEEN %" PRId64 " AND %" PRId64, expr, min, max);
    else if (has_min)
        sb_buf_printf(out, "%s >= %" PRId64, expr, min);
    else
        sb_buf_printf(out, "%s <= %" PRId64, expr, max);
}

/* The CHECK constraints that enforce a field's type (dialect: SQLite's
 * functions and GLOB patterns; each also admits NULL unless NOT NULL). */
static void type_checks(const struct sb_dialect *d, const struct sb_field *f, struct sb_buf *def)
{
    const struct sb_type *t = &f->type;
    struct sb_buf col, chk;
    sb_buf_init(&col);
    sb_buf_init(&chk);
    sb_sql_ident(&col, f->name);
    const char *c = sb_buf_str(&col);
    bool nullable = !(f->flags & SB_FIELD_REQUIRED);
    /* json_valid(NULL) is 0, so the json checks let NULL through explicitly */

    if (t->is_array && d->json_as_text) {
        if (nullable)
            sb_buf_printf(&chk, "%s IS NULL OR (", c);
        sb_buf_printf(&chk, "json_valid(%s) AND json_type(%s) = 'array'", c, c);
        if (t->arr_has_min || t->arr_has_max) {
            struct sb_buf len;
            sb_buf_init(&len);
            sb_buf_printf(&len, "json_array_length(%s)", c);
            sb_buf_puts(&chk, " AND ");
            int_range(&chk, sb_buf_str(&len), t->arr_has_min, t->arr_min, t->arr_has_max,
                      t->arr_max);
            sb_buf_free(&len);
        }
        if (nullable)
            sb_buf_putc(&chk, ')');
        add_check(def, sb_buf_str(&chk));
        goto done;
    }
    switch (t->kind) {
    case SB_TYPE_TEXT:
        if (t->has_min || t->has_max) {
            struct sb_buf len;
            sb_buf_init(&len);
            sb_buf_printf(&len, "%s(%s)", d->length_fn, c);
            int_range(&chk, sb_buf_str(&len), t->has_min, t->min, t->has_max, t->max);
            sb_buf_free(&len);
            add_check(def, sb_buf_str(&chk));
        }
        break;
    case SB_TYPE_INT:
        if (t->has_min || t->has_max) {
            int_range(&chk, c, t->has_min, t->min, t->has_max, t->max);
            add_check(def, sb_buf_str(&chk));
        }
        break;
    case SB_TYPE_FLOAT:
        if (t->has_min) {
            sb_buf_printf(&chk, "%s >= ", c);
            float_bound(&chk, t->min_text, t->fmin);
        }
        if (t->has_max) {
            sb_buf_printf(&chk, "%s%s <= ", t->has_min ? " AND " : "", c);
            float_bound(&chk, t->max_text, t->fmax);
        }
        if (chk.len)
            add_check(def, sb_buf_str(&chk));
        break;
    case SB_TYPE_DECIMAL:
        if (!d->decimal_as_text)
            break;
        /* [-]digits[.digits]: the format, then the precision and scale */
        sb_buf_printf(&chk,
                      "(%s GLOB '[0-9]*' OR %s GLOB '-[0-9]*') AND %s NOT GLOB '?*[^0-9.]*' "
                      "AND %s NOT GLOB '*.*.*' AND %s NOT GLOB '*.'",
                      c, c, c, c, c);
        add_check(def, sb_buf_str(&chk));
        sb_buf_reset(&chk);
        /* integer digits within p - s (a lone 0 before the point is not a
         * digit of the precision: 0.50 fits decimal(2,2)) */
        sb_buf_printf(&chk,
                      "(instr(%s || '.', '.') - (%s GLOB '-*') <= %d OR %s GLOB '0.*' OR %s GLOB '-0.*') AND "
                      "length(%s) - instr(%s || '.', '.') <= %d",
                      c, c, t->precision - t->scale + 1, c, c, c, c, t->scale);
        add_check(def, sb_buf_str(&chk));
        break;
    case SB_TYPE_BOOL:
        if (d->bool_as_int) {
            sb_buf_printf(&chk, "%s IN (0, 1)", c);
            add_check(def, sb_buf_str(&chk));
        }
        break;
    case SB_TYPE_TIMESTAMP:
        if (d->kind == SB_DIALECT_SQLITE) {
            /* the canonical UTC form the API stores (docs/spec.md), which
             * is also what keeps text order equal to time order */
            sb_buf_printf(&chk,
                          "%s GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T"
                          "[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'",
                          c);
            add_check(def, sb_buf_str(&chk));
        }
        break;
    case SB_TYPE_DATE:
        if (d->kind == SB_DIALECT_SQLITE) {
            /* the modifier makes date() normalise 02-30 to 03-01 */
            sb_buf_printf(&chk,
                          "%s GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]' AND "
                          "date(%s, '+0 days') = %s",
                          c, c, c);
            add_check(def, sb_buf_str(&chk));
        }
        break;
    case SB_TYPE_UUID:
        if (d->kind == SB_DIALECT_SQLITE) {
            /* the canonical lower-case form the API stores */
            const char *h4 = "[0-9a-f][0-9a-f][0-9a-f][0-9a-f]";
            sb_buf_printf(&chk, "%s GLOB '%s%s-%s-%s-%s-%s%s%s'", c, h4, h4, h4, h4, h4, h4, h4,
                          h4);
            add_check(def, sb_buf_str(&chk));
        }
        break;
    case SB_TYPE_EMAIL:
        sb_buf_printf(&chk, "%s(%s) <= 254 AND %s GLOB '?*@?*.?*'", d->length_fn, c, c);
        add_check(def, sb_buf_str(&chk));
        break;
    case SB_TYPE_URL:
        sb_buf_printf(&chk, "%s(%s) <= 2048 AND (%s GLOB 'http://?*' OR %s GLOB 'https://?*')",
                      d->length_fn, c, c, c);
        add_check(def, sb_buf_str(&chk));
        break;
    case SB_TYPE_ENUM:
        sb_buf_printf(&chk, "%s IN (", c);
        for (size_t i = 0; i < t->n_enum_values; i++) {
            if (i)
                sb_buf_puts(&chk, ", ");
            sb_sql_string(&chk, t->enum_values[i], strlen(t->enum_values[i]));
        }
        sb_buf_putc(&chk, ')');
        add_check(def, sb_buf_str(&chk));
        break;
    case SB_TYPE_JSON:
        if (d->json_as_text) {
            if (nullable)
                sb_buf_printf(&chk, "%s IS NULL OR ", c);
            sb_buf_printf(&chk, "json_valid(%s)", c);
            add_check(def, sb_buf_str(&chk));
        }
        break;
    case SB_TYPE_PASSWORD:
        /* only hashes are stored: a plaintext password is refused here too */
        sb_buf_printf(&chk, "%s GLOB '$argon2id$*'", c);
        add_check(def, sb_buf_str(&chk));
        break;
    case SB_TYPE_REF:
    case SB_TYPE__COUNT: break;
    }
done:
    sb_buf_free(&col);
    sb_buf_free(&chk);
}

static const char *on_delete_sql(enum sb_on_delete policy)
{
    switch (policy) {
    case SB_ON_DELETE_CASCADE: return "CASCADE";
    case SB_ON_DELETE_SET_NULL: return "SET NULL";
    case SB_ON_DELETE_RESTRICT: break;
    }
    /* The spec's "restrict": NO ACTION behaves the same for keys that are
     * not deferred, and fails with SQLITE_CONSTRAINT_FOREIGNKEY where
     * RESTRICT reports SQLITE_CONSTRAINT_TRIGGER, so every foreign key
     * error reaches the API with one code. */
    return "NO ACTION";
}

struct column_extra {
    const char *default_sql;
    bool add_in_place;
};

/* The definition of one column; extra gets what the parser cannot see. */
static void field_def(struct sb_arena *arena, const struct sb_dialect *d, const struct sb_field *f,
                      struct sb_buf *def, struct column_extra *extra)
{
    memset(extra, 0, sizeof(*extra));
    sb_sql_ident(def, f->name);
    if (f->flags & SB_FIELD_SYSTEM) {
        if (strcmp(f->name, "id") == 0) {
            sb_buf_printf(def, " %s", d->id_column);
        } else {
            sb_buf_printf(def, " %s NOT NULL DEFAULT (%s)", d->column_type(SB_TYPE_TIMESTAMP),
                          d->now_sql);
            extra->default_sql = sb_arena_printf(arena, "(%s)", d->now_sql);
        }
        return;
    }
    const struct sb_type *t = &f->type;
    bool required = f->flags & SB_FIELD_REQUIRED;
    sb_buf_printf(def, " %s", t->is_array && d->json_as_text ? "TEXT" : d->column_type(t->kind));
    if (required)
        sb_buf_puts(def, " NOT NULL");

    struct sb_buf dflt;
    sb_buf_init(&dflt);
    bool literal = false;
    int has_default = sb_sqlexpr_default(d, f, &dflt, &literal);
    bool null_default = has_default == 0 && strcmp(sb_buf_str(&dflt), "NULL") == 0;
    if (has_default == 0 && !null_default) {
        sb_buf_printf(def, " DEFAULT %s", sb_buf_str(&dflt));
        extra->default_sql = sb_arena_strdup(arena, sb_buf_str(&dflt));
    }
    sb_buf_free(&dflt);
    /* SQLite adds a column in place only with a literal default, and a NOT
     * NULL column only with a non-NULL one. */
    if (required)
        extra->add_in_place = extra->default_sql && literal;
    else
        extra->add_in_place = !extra->default_sql || literal;

    type_checks(d, f, def);
    if (f->check) {
        struct sb_sqlexpr_ctx ctx = {.dialect = d, .constraint = true};
        struct sb_buf expr;
        sb_buf_init(&expr);
        if (sb_sqlexpr_compile(&ctx, f->check, &expr, NULL) == 0)
            add_check(def, sb_buf_str(&expr));
        sb_buf_free(&expr);
    }
    if (t->kind == SB_TYPE_REF && !t->is_array && t->ref) {
        sb_buf_puts(def, " REFERENCES ");
        sb_sql_ident(def, t->ref->name);
        sb_buf_printf(def, " (\"id\") ON DELETE %s", on_delete_sql(f->on_delete));
    }
}

void sb_ddl_create_table(const struct sb_ddl_object *table, const char *name, struct sb_buf *out)
{
    sb_buf_puts(out, "CREATE TABLE ");
    sb_sql_ident(out, name);
    sb_buf_puts(out, " (");
    size_t n = 0;
    for (size_t i = 0; i < table->n_columns; i++, n++)
        sb_buf_printf(out, "%s\n  %s", n ? "," : "", table->columns[i].def);
    for (size_t i = 0; i < table->n_constraints; i++, n++)
        sb_buf_printf(out, "%s\n  %s", n ? "," : "", table->constraints[i]);
    sb_buf_puts(out, "\n)");
    if (table->options && *table->options)
        sb_buf_printf(out, " %s", table->options);
}

static void index_sql(struct sb_buf *out, bool unique, const char *name, const char *table,
                      const struct sb_field *const *columns, size_t n_columns)
{
    sb_buf_printf(out, "CREATE %sINDEX ", unique ? "UNIQUE " : "");
    sb_sql_ident(out, name);
    sb_buf_puts(out, " ON ");
    sb_sql_ident(out, table);
    sb_buf_puts(out, " (");
    for (size_t i = 0; i < n_columns; i++) {
        if (i)
            sb_buf_puts(out, ", ");
        sb_sql_ident(out, columns[i]->name);
    }
    sb_buf_putc(out, ')');
}

static void push(struct sb_schema *schema, enum sb_ddl_kind kind, const char *name,
                 const char *table, const struct sb_buf *sql)
{
    struct sb_ddl_object *obj = add_object(schema);
    obj->kind = kind;
    obj->name = sb_arena_strdup(&schema->arena, name);
    obj->table = sb_arena_strdup(&schema->arena, table);
    obj->sql = sb_ddl_normalize(&schema->arena, sb_buf_str(sql));
    commit_object(schema);
}

/* Indexes of one collection: unique fields, the declared ones, then one per
 * relation column that no earlier index starts with. */
static void collection_indexes(struct sb_schema *schema, const struct sb_collection *coll)
{
    struct sb_arena *arena = &schema->arena;
    struct sb_buf sql;
    sb_buf_init(&sql);
    struct sb_ptrvec leading = {0}; /* first column of every index so far */
    for (size_t i = 0; i < coll->n_fields; i++) {
        const struct sb_field *f = coll->fields[i];
        if (!(f->flags & SB_FIELD_UNIQUE) || (f->flags & SB_FIELD_SYSTEM))
            continue;
        const char *name = derived_name(arena, coll->name, f->name, "_key");
        bool declared = false; /* the same index written as unique (field) */
        for (size_t k = 0; k < coll->n_indexes; k++)
            declared |= coll->indexes[k]->name && strcmp(coll->indexes[k]->name, name) == 0;
        if (declared)
            continue;
        sb_buf_reset(&sql);
        index_sql(&sql, true, name, coll->name, &f, 1);
        push(schema, SB_DDL_INDEX, name, coll->name, &sql);
        sb_ptrvec_push(arena, &leading, (void *)f);
    }
    for (size_t k = 0; k < coll->n_indexes; k++) {
        const struct sb_index *index = coll->indexes[k];
        if (!index->name || !index->n_columns)
            continue;
        sb_buf_reset(&sql);
        index_sql(&sql, index->unique, index->name, coll->name, index->columns, index->n_columns);
        push(schema, SB_DDL_INDEX, index->name, coll->name, &sql);
        sb_ptrvec_push(arena, &leading, (void *)index->columns[0]);
    }
    for (size_t i = 0; i < coll->n_fields; i++) {
        const struct sb_field *f = coll->fields[i];
        if (f->type.kind != SB_TYPE_REF || f->type.is_array)
            continue;
        bool covered = false;
        for (size_t k = 0; k < leading.len; k++)
            covered |= leading.items[k] == f;
        if (covered)
            continue;
        const char *name = derived_name(arena, coll->name, f->name, "_idx");
        sb_buf_reset(&sql);
        index_sql(&sql, false, name, coll->name, &f, 1);
        push(schema, SB_DDL_INDEX, name, coll->name, &sql);
    }
    sb_buf_free(&sql);
}

/* dialect: SQLite's FTS5 with external content, synced by triggers. */
static void collection_fts(struct sb_schema *schema, const struct sb_collection *coll)
{
    struct sb_ptrvec fields = {0};
    for (size_t i = 0; i < coll->n_fields; i++)
        if (coll->fields[i]->flags & SB_FIELD_SEARCHABLE)
            sb_ptrvec_push(&schema->arena, &fields, coll->fields[i]);
    if (fields.len == 0)
        return;
    const char *fts = sb_arena_printf(&schema->arena, SB_FTS_PREFIX "%s", coll->name);
    struct sb_buf sql, cols, news, olds;
    sb_buf_init(&sql);
    sb_buf_init(&cols);
    sb_buf_init(&news);
    sb_buf_init(&olds);
    for (size_t i = 0; i < fields.len; i++) {
        const struct sb_field *f = fields.items[i];
        sb_buf_puts(&cols, ", ");
        sb_sql_ident(&cols, f->name);
        sb_buf_puts(&news, ", new.");
        sb_sql_ident(&news, f->name);
        sb_buf_puts(&olds, ", old.");
        sb_sql_ident(&olds, f->name);
    }
    const char *col_list = sb_buf_str(&cols) + 2; /* without the leading ", " */

    sb_buf_puts(&sql, "CREATE VIRTUAL TABLE ");
    sb_sql_ident(&sql, fts);
    sb_buf_printf(&sql, " USING fts5(%s, content=", col_list);
    sb_sql_string(&sql, coll->name, strlen(coll->name));
    sb_buf_puts(&sql, ", content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')");
    push(schema, SB_DDL_FTS, fts, coll->name, &sql);

    struct sb_buf ins, del, name;
    sb_buf_init(&ins);
    sb_buf_init(&del);
    sb_buf_init(&name);
    sb_buf_puts(&ins, "INSERT INTO ");
    sb_sql_ident(&ins, fts);
    sb_buf_printf(&ins, " (rowid%s) VALUES (new.\"id\"%s);", sb_buf_str(&cols), sb_buf_str(&news));
    sb_buf_puts(&del, "INSERT INTO ");
    sb_sql_ident(&del, fts);
    sb_buf_puts(&del, " (");
    sb_sql_ident(&del, fts);
    sb_buf_printf(&del, ", rowid%s) VALUES ('delete', old.\"id\"%s);", sb_buf_str(&cols),
                  sb_buf_str(&olds));

    static const char *const suffixes[] = {"_ai", "_ad", "_au"};
    for (int k = 0; k < 3; k++) {
        sb_buf_reset(&name);
        sb_buf_printf(&name, "%s%s", fts, suffixes[k]);
        sb_buf_reset(&sql);
        sb_buf_puts(&sql, "CREATE TRIGGER ");
        sb_sql_ident(&sql, sb_buf_str(&name));
        if (k == 0)
            sb_buf_puts(&sql, " AFTER INSERT ON ");
        else if (k == 1)
            sb_buf_puts(&sql, " AFTER DELETE ON ");
        else
            sb_buf_printf(&sql, " AFTER UPDATE OF %s ON ", col_list);
        sb_sql_ident(&sql, coll->name);
        sb_buf_puts(&sql, " BEGIN ");
        if (k != 0)
            sb_buf_printf(&sql, "%s ", sb_buf_str(&del));
        if (k != 1)
            sb_buf_printf(&sql, "%s ", sb_buf_str(&ins));
        sb_buf_puts(&sql, "END");
        push(schema, SB_DDL_TRIGGER, sb_buf_str(&name), coll->name, &sql);
    }
    sb_buf_free(&sql);
    sb_buf_free(&cols);
    sb_buf_free(&news);
    sb_buf_free(&olds);
    sb_buf_free(&ins);
    sb_buf_free(&del);
    sb_buf_free(&name);
}

static int collection_table(struct sb_schema *schema, const struct sb_dialect *d,
                            const struct sb_collection *coll, struct sb_buf *err)
{
    struct sb_arena *arena = &schema->arena;
    struct sb_buf sql, def;
    sb_buf_init(&sql);
    sb_buf_init(&def);
    struct column_extra *extras = sb_arena_alloc(arena, (coll->n_fields + 1) * sizeof(*extras));
    sb_buf_puts(&sql, "CREATE TABLE ");
    sb_sql_ident(&sql, coll->name);
    sb_buf_puts(&sql, " (");
    for (size_t i = 0; i < coll->n_fields; i++) {
        sb_buf_reset(&def);
        field_def(arena, d, coll->fields[i], &def, &extras[i]);
        sb_buf_printf(&sql, "%s\n  %s", i ? "," : "", sb_buf_str(&def));
    }
    struct sb_sqlexpr_ctx ctx = {.dialect = d, .constraint = true};
    for (size_t i = 0; i < coll->n_checks; i++) {
        sb_buf_reset(&def);
        if (sb_sqlexpr_compile(&ctx, coll->checks[i]->expr, &def, NULL) == 0) {
            size_t len;
            const char *inner = unwrap(sb_buf_str(&def), &len);
            sb_buf_printf(&sql, ",\n  CHECK (%.*s)", (int)len, inner);
        }
    }
    sb_buf_puts(&sql, "\n)");
    if (d->table_options && *d->table_options)
        sb_buf_printf(&sql, " %s", d->table_options);
    sb_buf_free(&def);

    int rc = sb_schema_add(schema, "table", coll->name, coll->name, sb_buf_str(&sql), err);
    sb_buf_free(&sql);
    if (rc != 0)
        return -1;
    struct sb_ddl_object *table = &schema->objects[schema->n_objects - 1];
    table->coll = coll;
    if (table->n_columns != coll->n_fields) {
        sb_buf_printf(err, "collection %s: generated %zu columns for %zu fields", coll->name,
                      table->n_columns, coll->n_fields);
        return -1;
    }
    for (size_t i = 0; i < coll->n_fields; i++) {
        table->columns[i].field = coll->fields[i];
        table->columns[i].default_sql = extras[i].default_sql;
        table->columns[i].add_in_place = extras[i].add_in_place;
    }
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int sb_ddl_from_model(const struct sb_model *model, const struct sb_dialect *dialect,
                      struct sb_schema *schema, struct sb_buf *err)
{
    size_t first = schema->n_objects;
    for (size_t i = 0; i < model->n_collections; i++) {
        const struct sb_collection *coll = model->collections[i];
        if (strncmp(coll->name, "sqlite_", 7) == 0) {
            sb_buf_printf(err, "collection %s: names starting with 'sqlite_' are SQLite's own",
                          coll->name);
            return -1;
        }
        if (collection_table(schema, dialect, coll, err) != 0)
            return -1;
        collection_indexes(schema, coll);
        if (dialect->kind == SB_DIALECT_SQLITE)
            collection_fts(schema, coll);
    }
    /* Tables, indexes and triggers share one namespace. */
    size_t n = schema->n_objects - first;
    const char **names = sb_xmalloc((n ? n : 1) * sizeof(*names));
    for (size_t i = 0; i < n; i++)
        names[i] = schema->objects[first + i].name;
    qsort(names, n, sizeof(*names), compare_names);
    int rc = 0;
    for (size_t i = 1; i < n && rc == 0; i++)
        if (strcmp(names[i - 1], names[i]) == 0) {
            sb_buf_printf(err,
                          "two schema objects would both be named %s; rename a collection or field",
                          names[i]);
            rc = -1;
        }
    free(names);
    return rc;
}

void sb_schema_print(const struct sb_schema *schema, struct sb_buf *out)
{
    for (size_t i = 0; i < schema->n_objects; i++) {
        const struct sb_ddl_object *obj = &schema->objects[i];
        if (obj->kind == SB_DDL_TABLE)
            sb_ddl_create_table(obj, obj->name, out);
        else
            sb_buf_puts(out, obj->sql);
        sb_buf_puts(out, ";\n");
    }
}
