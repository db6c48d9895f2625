/* Validators for the text formats the spec's types name (date, timestamp,
 * uuid, email, url). Shared by the spec checker (literal defaults) and the
 * request validator, so both accept exactly the same values. All take a
 * byte slice and never read past it. */
#ifndef SB_FORMATS_H
#define SB_FORMATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* YYYY-MM-DD, a real calendar date (year 0001..9999). */
bool sb_format_date(const char *s, size_t len);
/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM);
 * 't' and ' ' accepted as the separator, 'z' for Z. */
bool sb_format_timestamp(const char *s, size_t len);
/* 8-4-4-4-12 hexadecimal (either case). */
bool sb_format_uuid(const char *s, size_t len);
/* local@domain: at most 254 bytes, local part at most 64 of
 * [A-Za-z0-9.!#$%&'*+/=?^_`{|}~-] (no leading, trailing or double dot),
 * domain of dot-separated LDH labels (1..63), at least two labels. */
bool sb_format_email(const char *s, size_t len);
/* Absolute http:// or https:// URL with a host, at most 2048 bytes, no
 * spaces or control characters. */
bool sb_format_url(const char *s, size_t len);
/* Number of Unicode code points in valid UTF-8 text. */
size_t sb_utf8_chars(const char *s, size_t len);
/* Valid UTF-8: no stray continuation bytes, overlong forms, surrogates or
 * code points past U+10FFFF (NUL bytes are valid UTF-8; callers that refuse
 * them check separately). */
bool sb_utf8_valid(const char *s, size_t len);

/* The value of a hexadecimal digit (either case), or -1. */
int sb_hex_value(unsigned char ch);
/* The code point at s[0..len) (len >= 1) and its length in *n. A byte that
 * does not start a valid shortest-form sequence is one character of its
 * own, returned as 0x110000 + byte (so it equals only itself). */
uint32_t sb_utf8_next(const unsigned char *s, size_t len, size_t *n);

/* Length of the canonical timestamp text "YYYY-MM-DDTHH:MM:SS.ffffffZ". */
#define SB_TIMESTAMP_UTC_LEN 27
/* Normalise an RFC 3339 date-time (what sb_format_timestamp accepts) to UTC
 * in the canonical form above, written to out with a NUL: the offset is
 * subtracted (leap years and month ends included), the fraction rounded to
 * microseconds (half to even, as PostgreSQL does), a leap second :60 rolls
 * into the next minute. zone_optional also accepts a date alone
 * ("YYYY-MM-DD", midnight) and a date-time without offset, both read as UTC
 * (query-string filters, like PostgreSQL with TimeZone=UTC). Returns false
 * when s is not such a timestamp or the UTC result is outside years
 * 0001..9999. */
bool sb_format_timestamp_utc(const char *s, size_t len, bool zone_optional,
                             char out[SB_TIMESTAMP_UTC_LEN + 1]);

#endif
