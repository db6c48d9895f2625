/* Evaluation of checked spec expressions over one row of storage values
 * (spec/value.h), with SQL's semantics, so that the API can decide a field
 * or row check before any SQL runs and give the same answer as the
 * database's CHECK constraint:
 *
 *   - three-valued logic: a comparison, arithmetic or function with a null
 *     operand is null (coalesce excepted); `x == null` / `x != null` with the
 *     literal null test for null; null and false is false, null or true is
 *     true; a check that is null passes;
 *   - int arithmetic is exact with overflow detection, `/` truncates toward
 *     zero, `%` takes the sign of the dividend; division by zero is an
 *     error; any float operand gives float;
 *   - decimals are evaluated as doubles: exact for comparisons such as
 *     `price >= 0` at the precisions a check meets in practice, approximate
 *     past 15 significant digits (the database compares them exactly);
 *   - text compares by code point (UTF-8 byte order); a timestamp compares
 *     with a string literal after normalising the literal to UTC, and with a
 *     date as that date's midnight UTC;
 *   - lower() and upper() map ASCII letters only, as SQLite's built-ins do;
 *     len() counts code points of text and elements of a list.
 *
 * Only what a check may contain is evaluated here (field references,
 * literals, operators, lower/upper/len/abs/coalesce). Anything else
 * (parameters, bindings, auth.*, new./old., now(), today(), authenticated)
 * goes to the environment's lookup callback; without one it is
 * SB_EVAL_ESCOPE. */
#ifndef SB_SPEC_EVAL_H
#define SB_SPEC_EVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "spec/model.h"
#include "spec/value.h"
#include "util/arena.h"

/* Results of sb_eval (0 is success). */
#define SB_EVAL_EUNKNOWN  (-1) /* the result depends on a value that is not known */
#define SB_EVAL_EOVERFLOW (-2) /* integer overflow, or a float result that is not finite */
#define SB_EVAL_EDIVZERO  (-3) /* division or remainder by zero */
#define SB_EVAL_ESCOPE    (-4) /* a name or function with no value here (auth.*, now(), ...) */
#define SB_EVAL_EINVALID  (-5) /* an expression or stored value the checker would not produce */

struct sb_eval_env;

/* Supplies the value of a node that is not a field of the row (e is a
 * NAME, MEMBER, CALL of now()/today(), or AUTHENTICATED). Returns 0 with
 * *out set, or an SB_EVAL_E* code. */
typedef int (*sb_eval_lookup_fn)(const struct sb_eval_env *env, const struct sb_expr *e,
                                 struct sb_value *out);

struct sb_eval_env {
    /* The row: values in storage form indexed by sb_field.index (borrowed).
     * A field whose index is at or past n_row, or whose known[] entry is 0,
     * is unknown: an expression that needs it yields SB_EVAL_EUNKNOWN, one
     * whose result does not depend on it (false and x) is still decided.
     * known NULL: every value below n_row is known. */
    const struct sb_value *row;
    const unsigned char *known;
    size_t n_row;
    struct sb_arena *arena;    /* memory for computed text (lower(), lists) */
    sb_eval_lookup_fn lookup;  /* NULL in check scope */
    void *user;                /* for lookup */
};

/* Evaluate e (borrowed, checked by sb_spec_check) under env. Returns 0 with
 * *out: NULL, INT (ints, ids, and bools as 0/1), FLOAT (floats, decimals)
 * or TEXT (arena or borrowed from the row/model); or an SB_EVAL_E* code. */
int sb_eval(const struct sb_expr *e, const struct sb_eval_env *env, struct sb_value *out);

/* Evaluate a check: 0 with *passed true when e is true or null, false when
 * it is false; or an SB_EVAL_E* code (SB_EVAL_EUNKNOWN: not decidable from
 * the known values; leave it to the database). */
int sb_eval_check(const struct sb_expr *e, const struct sb_eval_env *env, bool *passed);

/* A short English description of an SB_EVAL_E* code (static). */
const char *sb_eval_strerror(int rc);

#endif
