/* Canonical text of the pieces of a spec, shared by the formatter (fmt.c),
 * the JSON dump (json.c) and anything else that shows an expression or a
 * type to a person: the same text everywhere, always re-parseable. */
#ifndef SB_FMT_H
#define SB_FMT_H

#include "spec/model.h"
#include "util/buf.h"

/* Append the canonical source text of expr (borrowed) to out: single spaces
 * around binary operators, parentheses where written and where precedence
 * needs them, strings re-escaped. Works on parsed and on checked models. */
void sb_spec_format_expr(const struct sb_expr *expr, struct sb_buf *out);

/* Append the canonical text of a declared type (borrowed) to out:
 * "text(1..100)", "decimal(10, 2)", "enum(a, b)", "-> user", "int[..10]". */
void sb_spec_format_type(const struct sb_type *type, struct sb_buf *out);

#endif
