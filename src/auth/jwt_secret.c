/* The HS256 secret file (sb_jwt_secret_file, jwt.h): read it, or make it on
 * first start (util/secret_file.h). The file holds text, used as the secret
 * as is (like PostgREST's jwt-secret), so the same string can be given to
 * another tool that signs or checks tokens. A new file gets 48 bytes from
 * libsodium's randombytes_buf as 64 base64url characters. */
#include <string.h>

#include <sodium.h>

#include "auth/jwt.h"
#include "util/secret_file.h"

#define RANDOM_BYTES 48 /* 64 base64url characters, 384 bits */

_Static_assert(sodium_base64_ENCODED_LEN(RANDOM_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING) <=
                   SB_JWT_MAX_SECRET,
               "a new secret fits the buffer");

/* cap is the buffer in sb_jwt_secret_file: large enough (above) */
static size_t make_secret(char *text, size_t cap)
{
    unsigned char raw[RANDOM_BYTES];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(text, cap, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    return strlen(text);
}

int sb_jwt_secret_file(const char *path, unsigned char *secret, size_t *len, bool *created,
                       struct sb_buf *err)
{
    size_t cap = *len;
    *len = 0;
    if (cap < sodium_base64_ENCODED_LEN(RANDOM_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING) - 1) {
        sb_buf_printf(err, "JWT secret file %s: no room for a new secret", path);
        return -1;
    }
    char text[SB_JWT_MAX_SECRET + 2]; /* room to see a secret that is too long */
    size_t n = 0;
    if (sb_secret_file("JWT secret file", path, false, make_secret, text, sizeof(text), &n, created,
                       err) != 0)
        return -1;
    int rc = 0;
    if (n < SB_JWT_MIN_SECRET || n > SB_JWT_MAX_SECRET || n > cap) {
        sb_buf_printf(err, "JWT secret file %s: the secret must be %d to %d bytes long%s", path,
                      SB_JWT_MIN_SECRET, SB_JWT_MAX_SECRET,
                      n < SB_JWT_MIN_SECRET ? " (it is shorter)" : " (it is longer)");
        rc = -1;
    } else {
        memcpy(secret, text, n);
        *len = n;
    }
    sodium_memzero(text, sizeof(text));
    return rc;
}
