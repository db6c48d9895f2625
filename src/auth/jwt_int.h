/* Shared by the files of the JWT module (jwt.c, jwk.c, jwt_secret.c); not
 * part of its interface. */
#ifndef SB_AUTH_JWT_INT_H
#define SB_AUTH_JWT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/jwt.h"
#include "util/buf.h"

#define SB_JWT_MAX_KEY_FILE (1u << 20) /* PEM and JWKS files */
#define SB_JWT_MAX_KID 256             /* bytes of a kid in a key set */

/* True when sig is key's signature of data: RS256 is RSASSA-PKCS1-v1_5 with
 * SHA-256 (sig as long as the modulus), ES256 is ECDSA P-256 with SHA-256
 * in JWS's raw form, r and s as 32 bytes each. */
bool sb_jwt_pubkey_verify(const struct sb_jwt_pubkey *key, const unsigned char *data,
                          size_t data_len, const unsigned char *sig, size_t sig_len);

/* Read a whole file of at most max bytes into content (appended).
 * Returns 0, or -1 with a message naming path appended to err. */
int sb_jwt_read_file(const char *path, size_t max, struct sb_buf *content, struct sb_buf *err);

#endif
