/* What a checked model shows to API clients, for the generators that
 * describe the API (openapi.c, typescript.c): which fields a client reads
 * and writes, the names of relations, what an action returns, and the
 * documentation comments written in the spec. The records handlers
 * (records.c, guard/validate.c) enforce the same rules; docs/api.md states
 * them for clients. */
#ifndef SB_API_SURFACE_H
#define SB_API_SURFACE_H

#include <stdbool.h>

#include "spec/model.h"
#include "util/buf.h"

/* Returned in rows, selectable and filterable: neither hidden nor a
 * password. */
bool sb_surface_readable(const struct sb_field *field);

/* Accepted in a create body: a declared field that is not readonly, or the
 * system id (explicit ids). */
bool sb_surface_insertable(const struct sb_field *field);

/* Accepted in an update body: a declared field that is not readonly. */
bool sb_surface_updatable(const struct sb_field *field);

/* A create body may leave the field out: it is not required or has a
 * default (the system id is assigned by the server). */
bool sb_surface_insert_optional(const struct sb_field *field);

/* A relation field whose value is unique among the rows (the field is
 * `unique`, or a one-column unique index covers it): one-to-one. */
bool sb_surface_one_to_one(const struct sb_field *relation);

/* Append the foreign key name of a relation field to out:
 * "<collection>_<field>_fkey", cut and ended with a hash of the full name
 * when longer than 63 characters (as index names, docs/spec.md §8). */
void sb_surface_fkey_name(const struct sb_field *relation, struct sb_buf *out);

/* Append the documentation of the declaration starting at offset start of
 * the model's source: the comment lines directly above it (no blank line
 * between), without their '#', joined by newlines; and, when end is not 0,
 * a comment that ends the declaration's last line (end is the offset just
 * after the declaration). Appends nothing when there is none. */
void sb_surface_doc(const struct sb_model *model, size_t start, size_t end, struct sb_buf *out);

/* The action's return step (borrowed), or NULL when it returns nothing
 * (answered 204). */
const struct sb_step *sb_surface_result(const struct sb_action *action);

/* Is a default expression (borrowed) a constant that a schema can show as
 * a value: an integer (possibly negated), float, string, bool, null or a
 * list of those? now(), today() and auth.* are not. */
bool sb_surface_default_is_const(const struct sb_expr *expr);

#endif
