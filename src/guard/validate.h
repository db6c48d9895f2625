/* Zero-trust validation of request input against the model, before any SQL
 * runs: a request body becomes rows of storage values (spec/value.h) ready
 * to be bound, and a filter operand becomes one value, or the request is
 * refused with an API error (api/error.h) that lists every failing field
 * and the rule it broke. Nothing is produced when anything fails.
 *
 * Rules for bodies (docs/api.md states them for clients):
 *   - The body is one JSON object (one row) or a non-empty array of objects
 *     (bulk), parsed with duplicate keys refused and nested at most
 *     max_depth levels (refused by a scan before parsing).
 *   - A missing key means "use the field's default", always (specbase's
 *     rule, as PostgREST's `Prefer: missing=default`): on create and upsert
 *     a required field that has no default must be given; an explicit null
 *     is a value, not a missing key, and a required field refuses it in
 *     every mode. On update only the given keys are written.
 *   - Unknown keys are refused (PGRST204), as are writes to created_at and
 *     updated_at (always), to id on update, and to readonly fields unless
 *     the caller is trusted (allow_readonly).
 *   - Every value is checked for its type, range, length, format, enum
 *     membership, decimal precision and scale, array element count and
 *     elements; then the field checks and row checks are evaluated over the
 *     row (spec/eval.h) wherever their result is decided by the values at
 *     hand: on create the given values and literal defaults, on update the
 *     patch alone (the database's CHECK constraints cover the rest). */
#ifndef SB_GUARD_VALIDATE_H
#define SB_GUARD_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "api/error.h"
#include "spec/model.h"
#include "spec/value.h"
#include "util/arena.h"

#define SB_VALIDATE_MAX_DEPTH 32   /* default JSON nesting limit */
#define SB_VALIDATE_MAX_ROWS  1000 /* default rows per bulk body */

enum sb_validate_mode {
    SB_VALIDATE_CREATE, /* POST: full rows; id may be given (explicit ids) */
    SB_VALIDATE_UPDATE, /* PATCH: one object, only the given keys; never id */
    SB_VALIDATE_UPSERT, /* POST with resolution / PUT: as create */
};

struct sb_validate_opts {
    enum sb_validate_mode mode;
    size_t max_depth;            /* 0: SB_VALIDATE_MAX_DEPTH */
    size_t max_rows;             /* 0: SB_VALIDATE_MAX_ROWS */
    /* columns= of the query string (borrowed; NULL: none). Only these keys
     * are read from each object, other keys are ignored, and a row lacking
     * one gets the field's default (SB_VALUE_DEFAULT). */
    const char *const *columns;
    size_t n_columns;
    /* A trusted caller (an action, the service key) may write readonly
     * fields. System timestamps stay refused. */
    bool allow_readonly;
};

/* The validated rows of a body. fields are the written fields in model
 * order; values holds n_rows * n_fields values, row-major. All memory
 * belongs to the arena given to sb_validate_body. */
struct sb_rows {
    const struct sb_field **fields;
    size_t n_fields;
    struct sb_value *values;
    size_t n_rows;
    bool bulk;          /* the body was an array (even of one object) */
    bool has_defaults;  /* some value carries SB_VALUE_DEFAULT */
};

/* Validate body (borrowed, len bytes) for a write to coll under opts (NULL:
 * create with the default limits). On success returns 0 with *out filled
 * (memory in arena). On failure returns -1, *out is empty and err holds:
 *   400 PGRST102  invalid JSON (jansson's line and column in details), not an
 *                 object or non-empty array of objects, keys that differ
 *                 between the objects of a bulk body, nesting too deep;
 *   413 54000     more rows than max_rows;
 *   400 PGRST204  an unknown key (PostgREST's message for the first one);
 *   400 22P02     every failure a type error;
 *   400 23502     every failure a missing or null required field;
 *   400 23514     other validation failures.
 * For the last four, err's field list has every failure (field, rule,
 * message; bulk rows prefixed "[i]."), and details repeats them as
 * "price: must be at least 0; name: is required". */
int sb_validate_body(const struct sb_collection *coll, const char *body, size_t len,
                     const struct sb_validate_opts *opts, struct sb_arena *arena,
                     struct sb_rows *out, struct sb_api_error *err);

/* The value at row r of field column c. */
static inline const struct sb_value *sb_rows_value(const struct sb_rows *rows, size_t r, size_t c)
{
    return &rows->values[r * rows->n_fields + c];
}

/* Convert a filter operand (decoded query-string text, borrowed) for field
 * to the value it is compared with, in storage form (text in arena):
 * strict integers (no sign but '-', no spaces), floats, decimals
 * (canonical, scale padded), booleans (true/false/t/f/1/0, any case),
 * timestamps (normalised to UTC; a date alone or a date-time without zone
 * is read as UTC), dates, uuids (lower-cased), enum members, emails and
 * URLs (format checked), json (compact); for an array field, one element.
 * On failure returns -1 with 400 and PostgreSQL's SQLSTATE and wording in
 * err, e.g. 22P02 `invalid input syntax for type bigint: "abc"`, and the
 * field in err's field list. A password field is refused (it cannot be
 * filtered). */
int sb_validate_filter_value(const struct sb_field *field, const char *text, size_t len,
                             struct sb_value *out, struct sb_arena *arena,
                             struct sb_api_error *err);

/* A pattern operand (like, ilike, match, imatch, full-text): text of any
 * field type, checked only to be valid UTF-8 without NUL bytes; returned
 * as TEXT in arena. Errors as sb_validate_filter_value. */
int sb_validate_pattern(const struct sb_field *field, const char *text, size_t len,
                        struct sb_value *out, struct sb_arena *arena, struct sb_api_error *err);

#endif
