/* A value of a spec type in its storage form: what the validator produces
 * from a request body or a filter, what the expression evaluator computes,
 * and what the store binds to SQL statements (never splices). The mapping
 * from field types follows the columns of type_list.h:
 *
 *   int, relation, id      INT    (64-bit)
 *   bool                   INT    0 or 1
 *   float                  FLOAT  (finite)
 *   decimal                TEXT   canonical: [-]digits[.exactly S digits]
 *   timestamp              TEXT   UTC "YYYY-MM-DDTHH:MM:SS.ffffffZ"
 *   date                   TEXT   "YYYY-MM-DD"
 *   uuid                   TEXT   lower case
 *   text email url enum    TEXT   as given (valid UTF-8, no NUL)
 *   password               TEXT   the plaintext, flagged SB_VALUE_SECRET
 *   json, arrays           TEXT   compact JSON
 *   SQL NULL               NULL
 *
 * text points into memory owned by whoever produced the value (an arena);
 * it is NUL-terminated and len excludes the NUL. */
#ifndef SB_SPEC_VALUE_H
#define SB_SPEC_VALUE_H

#include <stddef.h>
#include <stdint.h>

enum sb_value_flag {
    /* A password: the API hashes it before it is stored; it is never echoed
     * in a response, an error, a log line or the audit trail. */
    SB_VALUE_SECRET = 1u << 0,
    /* The key was absent from this row of a bulk body (columns= given): the
     * field's default applies. For a literal default the value holds it
     * already (bind it as is); without a default the value is NULL. */
    SB_VALUE_DEFAULT = 1u << 1,
    /* Set with SB_VALUE_DEFAULT when the default is computed at write time
     * (now(), today(), auth.*): the value is NULL and the caller supplies
     * the default. */
    SB_VALUE_COMPUTED = 1u << 2,
};

struct sb_value {
    enum sb_value_kind { SB_VAL_NULL, SB_VAL_INT, SB_VAL_FLOAT, SB_VAL_TEXT } kind;
    int64_t i;        /* SB_VAL_INT */
    double f;         /* SB_VAL_FLOAT */
    const char *text; /* SB_VAL_TEXT: borrowed, NUL-terminated */
    size_t len;       /* SB_VAL_TEXT: bytes, without the NUL */
    unsigned flags;   /* enum sb_value_flag */
};

#endif
