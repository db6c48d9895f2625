/* Splitting and form-decoding a raw query string (the bytes after '?').
 *
 * Pairs are separated by '&' (empty pieces are skipped); a pair's key and
 * value are split at its first '='. Both are decoded as
 * application/x-www-form-urlencoded (what URLSearchParams, and so
 * postgrest-js, produces): '+' is a space and %XX a byte. The result keeps
 * the order and every duplicate key.
 *
 * Rejected with a 400 (PGRST100) that says what and where: an invalid
 * %-escape, a decoded key or value that is not UTF-8 or holds a NUL byte,
 * more than SB_QS_MAX_PAIRS pairs, a key or value over SB_QS_MAX_PART_LEN
 * decoded bytes. ';' is not a separator. */
#ifndef SB_QUERY_QS_H
#define SB_QUERY_QS_H

#include <stdbool.h>
#include <stddef.h>

#include "api/error.h"
#include "util/arena.h"

#define SB_QS_MAX_PAIRS 200
#define SB_QS_MAX_PART_LEN (64 * 1024)

struct sb_qs_pair {
    const char *key; /* decoded, NUL-terminated */
    size_t key_len;
    const char *value; /* decoded, NUL-terminated; "" for a bare key */
    size_t value_len;
    bool bare; /* the piece had no '=' ("?flag"); PostgREST ignores these */
};

/* Split and decode raw[0..len) (borrowed). On success *pairs (owned by the
 * arena, NULL when *n is 0) and *n are set and 0 is returned; on failure
 * err is filled and -1 returned. */
int sb_qs_split(struct sb_arena *arena, const char *raw, size_t len, struct sb_qs_pair **pairs,
                size_t *n, struct sb_api_error *err);

/* Whether s[0..len) is well-formed UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF). NUL bytes are valid UTF-8. */
bool sb_qs_utf8_valid(const char *s, size_t len);

#endif
