/* SQL text for a database dialect: identifier and literal quoting, and the
 * compiler from a checked spec expression (struct sb_expr) to an SQL
 * expression. DDL uses it for field and row checks and for defaults; the
 * rule and action compilers reuse it with a callback for the names that are
 * not columns (auth.*, parameters, new./old. values), which they turn into
 * bound parameters.
 *
 * Only the checked model reaches SQL text here: identifiers are names the
 * checker accepted, always quoted by sb_sql_ident; literals are the spec's
 * own constants, quoted by sb_sql_string. Request values never pass through
 * this file: they are bound. */
#ifndef SB_STORE_SQLEXPR_H
#define SB_STORE_SQLEXPR_H

#include <stdbool.h>
#include <stddef.h>

#include "spec/model.h"
#include "util/buf.h"

enum sb_dialect_kind { SB_DIALECT_SQLITE, SB_DIALECT_POSTGRES };

/* What differs between databases, as data. Code that cannot be table-driven
 * switches on kind. Only sb_dialect_sqlite exists so far; a PostgreSQL
 * dialect is another instance of this struct plus the cases marked
 * "dialect:" in ddl.c and sqlexpr.c. */
struct sb_dialect {
    enum sb_dialect_kind kind;
    const char *name;                                   /* "sqlite" */
    const char *(*column_type)(enum sb_type_kind kind); /* sb_type_sqlite */
    const char *id_column;                              /* type and constraints of the system id */
    const char *now_sql;                                /* current timestamp as the API stores it */
    const char *today_sql;                              /* current date, YYYY-MM-DD */
    const char *true_sql, *false_sql;
    const char *length_fn;     /* characters of a text */
    const char *table_options; /* after the closing parenthesis ("STRICT") */
    bool json_as_text;         /* arrays and json stored as text: json_valid() checks */
    bool decimal_as_text;      /* decimals stored as text: compared through a cast */
    bool bool_as_int;          /* booleans stored as 0/1 with a check */
};

extern const struct sb_dialect sb_dialect_sqlite;

/* Append name as a quoted identifier: "name", with " doubled. */
void sb_sql_ident(struct sb_buf *out, const char *name);
/* Append text (len bytes; NUL bytes are refused by the caller) as a quoted
 * string literal: 'text', with ' doubled. */
void sb_sql_string(struct sb_buf *out, const char *text, size_t len);

struct sb_sqlexpr_ctx;

/* Called for names that are not plain columns of the row in context
 * (auth.*, parameters, bindings, new./old. fields, `authenticated`): append
 * SQL for e (usually a bound parameter) and return 0, or return -1 when it
 * has no SQL form here. */
typedef int (*sb_sqlexpr_ref_fn)(const struct sb_sqlexpr_ctx *ctx, const struct sb_expr *e,
                                 struct sb_buf *out);

struct sb_sqlexpr_ctx {
    const struct sb_dialect *dialect;
    const char *row_alias; /* columns as alias."col"; NULL: bare "col" */
    bool constraint;       /* a CHECK constraint: deterministic, no subqueries */
    sb_sqlexpr_ref_fn ref; /* NULL: such names make the compile fail */
    void *user;            /* for ref */
    bool fields_via_ref;   /* plain fields go to ref too (a row's values that
                              are not all stored yet: an update's new row) */
};

/* Compile a checked expression to SQL appended to out. Returns 0, or -1 with
 * the reason in why (why may be NULL) when the expression has no SQL form in
 * this context (a check using now(), a rule atom without a ref callback);
 * out is then left as it was. */
int sb_sqlexpr_compile(const struct sb_sqlexpr_ctx *ctx, const struct sb_expr *e,
                       struct sb_buf *out, struct sb_buf *why);

/* The SQL of a field's default when the database can compute it. Returns
 * 0 with the SQL appended and *literal telling whether it is a plain
 * literal (SQLite's ALTER TABLE ADD COLUMN accepts only those) or a
 * parenthesised expression such as the current time; 1 when the API fills
 * the default in instead (auth.id); -1 when the field has no default. */
int sb_sqlexpr_default(const struct sb_dialect *dialect, const struct sb_field *field,
                       struct sb_buf *out, bool *literal);

#endif
