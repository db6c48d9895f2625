/* Conversions of client input into storage values (spec/value.h), one
 * declared type at a time: from a parsed JSON value (request bodies, action
 * arguments) and from query-string text (filter operands). validate.c builds
 * the request-level checks on top of these; they know nothing about rows,
 * modes or HTTP. */
#ifndef SB_GUARD_VALUES_H
#define SB_GUARD_VALUES_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "spec/model.h"
#include "spec/value.h"
#include "util/arena.h"
#include "util/buf.h"

/* Longest password accepted, in bytes (hashing cost is bounded by it). */
#define SB_PASSWORD_MAX_BYTES 1024
/* Significant digits a JSON number for a decimal may carry: every decimal of
 * up to 15 significant digits survives the trip through a double exactly. */
#define SB_DECIMAL_JSON_DIGITS 15

/* Receives each refused value. suffix is "" for the value itself or "[i]"
 * for an array element; rule is a static rule name ("type", "min", ...);
 * message is borrowed (arena or static). */
struct sb_value_sink {
    void (*fail)(struct sb_value_sink *sink, const char *suffix, const char *rule,
                 const char *message);
};

/* Convert a non-null JSON value (borrowed) to the storage value of type
 * (borrowed; arrays included). Text in *out is allocated in arena. Returns
 * 0, or -1 after reporting every failure to sink (an array reports each bad
 * element). A json value is stored as compact JSON text. */
int sb_value_from_json(const struct sb_type *type, const json_t *json, struct sb_arena *arena,
                       struct sb_value *out, struct sb_value_sink *sink);

enum sb_decimal_status { SB_DECIMAL_OK, SB_DECIMAL_SYNTAX, SB_DECIMAL_PRECISION, SB_DECIMAL_SCALE };

/* Canonical text of the decimal [-]digits[.digits] in s: no leading zeros,
 * exactly scale fraction digits, "-0" as "0". Fraction digits past the
 * scale are accepted only when they are zeros (no rounding ever happens).
 * With strict false (filter operands) precision is not enforced and
 * non-zero digits past the scale are kept. The text goes to arena. */
enum sb_decimal_status sb_decimal_canonical(const char *s, size_t len, int precision, int scale,
                                            bool strict, struct sb_arena *arena,
                                            struct sb_value *out);

/* Append the compact JSON text of json (borrowed): no spaces, keys in their
 * order, numbers as the shortest text that reads back the same. */
void sb_json_compact(const json_t *json, struct sb_buf *out);

/* Convert a filter operand (decoded query-string text) to the storage value
 * of type; for an array type, text is one element. Formats are checked
 * (uuid, date, timestamp, email, url, enum members); ranges are not (a
 * filter may compare with any value). name (the field) appears in enum
 * messages. On failure returns -1 with a
 * PostgreSQL SQLSTATE in *code and its wording in *message (arena). */
int sb_value_from_text(const struct sb_type *type, const char *name, const char *text, size_t len,
                       struct sb_arena *arena, struct sb_value *out, const char **code,
                       const char **message);

/* Default nesting limit of JSON input (bodies, json filter operands). */
#define SB_JSON_MAX_DEPTH 32

/* Cheap pre-parse scan of JSON text: brackets outside strings, so that a
 * nesting bomb is refused before any parser recurses into it. Returns -1 as
 * soon as the depth passes max_depth, else 0 with *n_top the number of
 * elements of a top-level array (0 otherwise). Invalid JSON is not detected
 * here; the parser reports it. */
int sb_json_scan(const char *s, size_t len, size_t max_depth, size_t *n_top);

/* Strict integer syntax: an optional '-' and decimal digits, nothing else.
 * Returns 0, -1 for bad syntax, -2 when out of the int64 range. */
int sb_parse_int64(const char *s, size_t len, int64_t *out);

#endif
