/* The API's error: PostgREST's body {"code", "message", "details", "hint"}
 * plus the HTTP status it is sent with. Every layer that rejects a request
 * (HTTP limits, query-string parser, body validator, rules, the database)
 * fills one of these; only the response writer turns it into bytes.
 *
 * Codes follow PostgREST: "PGRSTxxx" for its own errors (PGRST100 query
 * string, PGRST102 body, PGRST204 unknown column, PGRST205 unknown table...)
 * and PostgreSQL SQLSTATEs for data errors ("23505" unique, "23503" foreign
 * key, "23514" check, "23502" not null, "22P02" invalid text, "42501"
 * permission). */
#ifndef SB_API_ERROR_H
#define SB_API_ERROR_H

#include <stdbool.h>

#include "util/buf.h"

/* One failing field of a rejected body or filter (zero-trust validation). */
struct sb_field_error {
    char *field;   /* owned: the field (or "row 3: price" style path) */
    char *rule;    /* owned: the rule broken, e.g. "min", "format", "required" */
    char *message; /* owned: human readable, e.g. "must be at least 0" */
};

struct sb_api_error {
    int status;      /* HTTP status, 400..599; 0 = no error */
    char code[16];   /* "PGRST100", "23505", ... */
    char *message;   /* owned */
    char *details;   /* owned, may be NULL (JSON null) */
    char *hint;      /* owned, may be NULL */
    struct sb_field_error *fields; /* owned; every failing field, in order */
    size_t n_fields;
    size_t cap_fields;
};

/* Set status, code and a printf message; clears details and hint. Keeps the
 * first error: a second call on an already set error is ignored, so the
 * earliest (most specific) cause is reported. Returns -1 for convenience. */
int sb_api_error_set(struct sb_api_error *err, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sb_api_error_details(struct sb_api_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sb_api_error_hint(struct sb_api_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Record one failing field (the list is capped at 100 entries). */
void sb_api_error_field(struct sb_api_error *err, const char *field, const char *rule,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
bool sb_api_error_is_set(const struct sb_api_error *err);
void sb_api_error_clear(struct sb_api_error *err);
/* The JSON body: {"code","message","details","hint"} and, when fields were
 * recorded, "errors": [{"field","rule","message"}]. */
void sb_api_error_json(const struct sb_api_error *err, struct sb_buf *out);

#endif
