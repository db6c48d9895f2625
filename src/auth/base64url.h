/* base64url (RFC 4648 section 5) without padding, as JWTs, JWKS and the
 * secret file use it. Decoding is strict: only the url-safe alphabet, no
 * '=' padding, no whitespace, and the unused bits of the last character must
 * be zero, so that every byte string has exactly one accepted encoding (a
 * signature cannot be re-encoded into a second valid token). */
#ifndef SB_BASE64URL_H
#define SB_BASE64URL_H

#include <stddef.h>

#include "util/buf.h"

/* Characters that encoding n bytes produces (no padding, no NUL). */
size_t sb_base64url_encoded_len(size_t n);
/* Most bytes that decoding text_len characters can produce. */
size_t sb_base64url_decoded_max(size_t text_len);
/* Append the encoding of data[0..len) to out. */
void sb_base64url_encode(const unsigned char *data, size_t len, struct sb_buf *out);
/* Decode text[0..text_len) into out (room for out_cap bytes) and set
 * *out_len. Returns 0, or -1 when the text is not canonical unpadded
 * base64url or does not fit; out's content is then unspecified. */
int sb_base64url_decode(const char *text, size_t text_len, unsigned char *out, size_t out_cap,
                        size_t *out_len);

#endif
