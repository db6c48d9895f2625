/* The database schema a model produces (DDL), as a list of objects that can
 * also be read back from a live database or from the snapshot stored when a
 * spec was applied, so that the three can be compared: migrate.c diffs the
 * stored snapshot with the new model's schema (the plan) and with the live
 * database (drift).
 *
 * For SQLite a collection becomes:
 *   - a STRICT table: "id" INTEGER PRIMARY KEY AUTOINCREMENT, the user fields
 *     in order, "created_at" and "updated_at" (TEXT, defaulting to the current
 *     UTC time; the API sets updated_at on every update); NOT NULL for
 *     required fields; a CHECK for every validation SQLite can express; the
 *     field's default when the database can compute it; REFERENCES with the
 *     delete policy for relations (restrict is written NO ACTION, so every
 *     violation reports SQLITE_CONSTRAINT_FOREIGNKEY); row checks as table
 *     CHECK constraints;
 *   - a unique index "<coll>_<field>_key" per unique field, the declared
 *     indexes, and an index "<coll>_<field>_idx" on each relation column that
 *     no other index starts with (foreign key checks and cascades need it);
 *   - for searchable fields, an FTS5 external-content table
 *     "_sb_fts_<coll>" and three triggers "_sb_fts_<coll>_ai|_ad|_au" that
 *     keep it in sync.
 * Every identifier is quoted by sb_sql_ident. */
#ifndef SB_STORE_DDL_H
#define SB_STORE_DDL_H

#include <stdbool.h>
#include <stddef.h>

#include "spec/model.h"
#include "store/sqlexpr.h"
#include "util/arena.h"
#include "util/buf.h"

#define SB_FTS_PREFIX "_sb_fts_"

enum sb_ddl_kind {
    SB_DDL_TABLE, /* a collection's table */
    SB_DDL_INDEX,
    SB_DDL_FTS, /* the full-text table of a collection */
    SB_DDL_TRIGGER,
};

/* One column of a table: its name and its whole definition text. */
struct sb_ddl_column {
    const char *name;
    const char *def;  /* "name" TYPE NOT NULL ... (normalised spacing) */
    const char *type; /* the declared SQL type ("TEXT") */
    bool not_null;
    /* only for schemas made from a model: */
    const struct sb_field *field;
    const char *default_sql; /* the DEFAULT expression, NULL when none */
    bool add_in_place;       /* ALTER TABLE ADD COLUMN can add it */
};

struct sb_ddl_object {
    enum sb_ddl_kind kind;
    const char *name;
    const char *table; /* the collection it belongs to */
    const char *sql;   /* the CREATE statement, no ';' */
    /* SB_DDL_TABLE: the parsed definition */
    struct sb_ddl_column *columns;
    size_t n_columns;
    const char **constraints; /* table constraints, in order */
    size_t n_constraints;
    const char *options;              /* after the closing parenthesis: "STRICT" */
    const struct sb_collection *coll; /* NULL when read from a database */
    size_t next_in_table;             /* private: 1 + index of the next object of the same
                                         table, 0 for the last */
};

/* A schema: objects in creation order, all memory in the arena, with hash
 * indexes by name and by table (a spec may have thousands of collections). */
struct sb_schema {
    struct sb_arena arena;
    struct sb_ddl_object *objects; /* owned (heap) */
    size_t n_objects, cap;
    size_t *by_name;     /* owned: 1 + object index per slot, 0 = empty */
    size_t *table_first; /* owned: per slot, 1 + index of a table's first and */
    size_t *table_last;  /* last object (0 = empty) */
    size_t mask;         /* slots - 1 */
};

void sb_schema_init(struct sb_schema *schema);
void sb_schema_free(struct sb_schema *schema);

/* The schema of a checked model for dialect, appended to schema. Returns 0,
 * or -1 with a message in err (two derived names colliding). */
int sb_ddl_from_model(const struct sb_model *model, const struct sb_dialect *dialect,
                      struct sb_schema *schema, struct sb_buf *err);

/* Add an object read back from a database or a snapshot: type is SQLite's
 * ("table", "index", "trigger"), sql its CREATE statement. A table's text is
 * parsed into columns and constraints; a CREATE VIRTUAL TABLE is an FTS
 * object. Returns 0, or -1 with a message in err when sql cannot be parsed. */
int sb_schema_add(struct sb_schema *schema, const char *type, const char *name, const char *table,
                  const char *sql, struct sb_buf *err);

/* The object called name, or NULL. */
const struct sb_ddl_object *sb_schema_find(const struct sb_schema *schema, const char *name);
/* The objects that belong to table (the table itself, its indexes and
 * triggers; a full-text table belongs to its collection), in order:
 * for (o = sb_schema_first(s, t); o; o = sb_schema_next(s, o)). */
const struct sb_ddl_object *sb_schema_first(const struct sb_schema *schema, const char *table);
const struct sb_ddl_object *sb_schema_next(const struct sb_schema *schema,
                                           const struct sb_ddl_object *obj);
/* The column called name of a table object, or NULL. */
const struct sb_ddl_column *sb_ddl_column(const struct sb_ddl_object *table, const char *name);

/* CREATE TABLE for table under another name (for the rebuild procedure),
 * appended to out. */
void sb_ddl_create_table(const struct sb_ddl_object *table, const char *name, struct sb_buf *out);

/* Write every object's SQL, one statement per line with ';' (the schema of
 * `specbase migrate --sql`, and tests). */
void sb_schema_print(const struct sb_schema *schema, struct sb_buf *out);

/* Collapse runs of white space outside quotes to one space and trim; the
 * form in which statements are compared. Returns an arena copy. */
const char *sb_ddl_normalize(struct sb_arena *arena, const char *sql);

#endif
