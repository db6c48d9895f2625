/* Query-string splitting and form decoding (see qs.h). The first stage of
 * the query front end: the HTTP layer hands the raw bytes after '?' here,
 * and src/query/parse.c reads the pairs this produces. Every decoded byte
 * lands in the caller's arena; the input is never modified. */
#include "query/qs.h"
#include "util/formats.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool sb_qs_utf8_valid(const char *s, size_t len)
{
    return sb_utf8_valid(s, len);
}

__attribute__((format(printf, 2, 3))) static int fail(struct sb_api_error *err, const char *fmt,
                                                      ...)
{
    char details[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(details, sizeof(details), fmt, ap);
    va_end(ap);
    sb_api_error_set(err, 400, "PGRST100", "invalid query string");
    sb_api_error_details(err, "%s", details);
    return -1;
}

/* Decode src[0..len) (one key or one value of pair number index, starting
 * at byte offset of the raw string) into arena memory. */
static int decode(struct sb_arena *arena, const char *src, size_t len, size_t index, size_t offset,
                  const char **out, size_t *out_len, struct sb_api_error *err)
{
    char *dst = sb_arena_alloc(arena, len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)src[i];
        if (ch == '+') {
            dst[n++] = ' ';
        } else if (ch == '%') {
            int hi = i + 1 < len ? sb_hex_value((unsigned char)src[i + 1]) : -1;
            int lo = i + 2 < len ? sb_hex_value((unsigned char)src[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return fail(err,
                            "parameter %zu: invalid percent-encoding at byte %zu "
                            "(expected '%%' and two hexadecimal digits)",
                            index, offset + i);
            dst[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            dst[n++] = (char)ch;
        }
    }
    dst[n] = '\0';
    if (n > SB_QS_MAX_PART_LEN)
        return fail(err, "parameter %zu: a key or value is longer than %zu bytes once decoded",
                    index, (size_t)SB_QS_MAX_PART_LEN);
    if (memchr(dst, '\0', n))
        return fail(err, "parameter %zu: NUL byte (%%00) in the key or value at byte %zu", index,
                    offset);
    if (!sb_qs_utf8_valid(dst, n))
        return fail(err, "parameter %zu: the key or value at byte %zu is not valid UTF-8", index,
                    offset);
    *out = dst;
    *out_len = n;
    return 0;
}

int sb_qs_split(struct sb_arena *arena, const char *raw, size_t len, struct sb_qs_pair **pairs,
                size_t *n, struct sb_api_error *err)
{
    *pairs = NULL;
    *n = 0;
    size_t n_pieces = 0;
    for (size_t i = 0, start = 0; i <= len; i++) {
        if (i == len || raw[i] == '&') {
            if (i > start)
                n_pieces++;
            start = i + 1;
        }
    }
    if (n_pieces == 0)
        return 0;
    if (n_pieces > SB_QS_MAX_PAIRS) {
        return fail(err, "%zu parameters; at most %d are allowed", n_pieces, SB_QS_MAX_PAIRS);
    }
    struct sb_qs_pair *out = sb_arena_alloc(arena, n_pieces * sizeof(*out));
    size_t count = 0;
    for (size_t i = 0, start = 0; i <= len; i++) {
        if (i < len && raw[i] != '&')
            continue;
        if (i > start) {
            const char *piece = raw + start;
            size_t piece_len = i - start;
            const char *eq = memchr(piece, '=', piece_len);
            size_t key_len = eq ? (size_t)(eq - piece) : piece_len;
            struct sb_qs_pair *pair = &out[count];
            if (decode(arena, piece, key_len, count + 1, start, &pair->key, &pair->key_len, err) !=
                0)
                return -1;
            if (eq) {
                size_t value_start = key_len + 1;
                if (decode(arena, piece + value_start, piece_len - value_start, count + 1,
                           start + value_start, &pair->value, &pair->value_len, err) != 0)
                    return -1;
            } else {
                pair->value = "";
                pair->value_len = 0;
                pair->bare = true;
            }
            count++;
        }
        start = i + 1;
    }
    *pairs = out;
    *n = count;
    return 0;
}
