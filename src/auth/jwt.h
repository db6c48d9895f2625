/* Access tokens: JSON Web Tokens as GoTrue issues them and PostgREST checks
 * them. specbase signs its own tokens with HS256 (a secret from config, the
 * environment or a generated 0600 file) and verifies HS256 tokens with that
 * secret, and RS256 / ES256 tokens of an outside issuer with public keys from
 * a PEM or JWKS file.
 *
 * Verification is strict (RFC 7515/7519 plus RFC 8725's advice): three
 * canonical unpadded base64url parts, at most SB_JWT_MAX_LEN bytes, JSON
 * without duplicate keys; the header's alg must be exactly HS256, RS256 or
 * ES256 and must match the kind of key it is checked with ("none", in any
 * case, and every other alg are refused; an HS256 token is never checked
 * against a public key, an RS256 or ES256 token never against the secret);
 * then exp (required), nbf, iat and aud are checked with a clock leeway.
 * Failures are PostgREST's errors, see sb_jwt_verify.
 *
 * Ownership: claims returned by sb_jwt_verify live in the caller's arena.
 * A struct sb_jwt_keys owns its secret and keys; once loaded it is read-only
 * and may be shared by every request thread. */
#ifndef SB_AUTH_JWT_H
#define SB_AUTH_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/error.h"
#include "util/arena.h"
#include "util/buf.h"

#define SB_JWT_MAX_LEN 8192      /* longest token accepted, in bytes */
#define SB_JWT_MIN_SECRET 32     /* shortest HS256 secret, in bytes */
#define SB_JWT_MAX_SECRET 1024   /* longest HS256 secret, in bytes */
#define SB_JWT_DEFAULT_LEEWAY 30 /* seconds of clock skew allowed */
#define SB_JWT_MAX_LEEWAY 3600
#define SB_JWT_MAX_KEYS 64 /* public keys in one key set */
#define SB_JWT_DEFAULT_AUD "authenticated"

enum sb_jwt_alg {
    SB_JWT_ALG_UNKNOWN = 0,
    SB_JWT_HS256,
    SB_JWT_RS256,
    SB_JWT_ES256,
};

/* The claims of an access token, in GoTrue's shape (what supabase-js reads:
 * sub, role, email, aud, exp, iat, session_id; plus aal and is_anonymous).
 * Strings are NULL when the claim is absent or JSON null. */
struct sb_jwt_claims {
    const char *sub;  /* the account id */
    const char *role; /* "authenticated", "anon", "service_role", a spec role... */
    const char *email;
    const char *aud; /* signing: NULL means SB_JWT_DEFAULT_AUD; verified: the
                      * audience matched (or the first, when none is required) */
    const char *session_id;
    const char *iss; /* optional issuer */
    const char *aal; /* "aal1" / "aal2"; signing: NULL means "aal1" */
    bool is_anonymous;
    int64_t exp; /* seconds since the epoch */
    int64_t iat;
    int64_t nbf;
    bool has_iat; /* verified tokens: iat was present; signing: always written */
    bool has_nbf; /* nbf present / to be written */
    /* Filled by sb_jwt_verify only: */
    const char *payload_json; /* the whole decoded payload (custom claims), NUL-terminated */
    size_t payload_len;
    enum sb_jwt_alg alg; /* how the token was signed */
    const char *kid;     /* the header's kid, NULL when none */
    /* On failure only: the value of the response's WWW-Authenticate header,
     * e.g. Bearer error="invalid_token", error_description="JWT expired" */
    const char *www_authenticate;
};

struct evp_pkey_st; /* OpenSSL's EVP_PKEY, kept out of this header */

/* One public key for RS256 or ES256. */
struct sb_jwt_pubkey {
    char *kid;                /* owned; NULL when the key has none */
    enum sb_jwt_alg alg;      /* SB_JWT_RS256 (RSA, 2048..8192 bits) or SB_JWT_ES256 (P-256) */
    struct evp_pkey_st *pkey; /* owned */
};

/* The keys tokens are verified with. */
struct sb_jwt_keys {
    unsigned char *secret; /* owned, wiped on free; HS256; NULL when none */
    size_t secret_len;
    struct sb_jwt_pubkey *pub; /* owned array */
    size_t n_pub;
    size_t cap_pub;
};

struct sb_jwt_verify_opts {
    const char *audience; /* borrowed; when set, aud (string or array) must contain it */
    int64_t now;          /* seconds since the epoch; 0 = the system clock */
    int leeway;           /* seconds of clock skew allowed, 0..SB_JWT_MAX_LEEWAY */
    bool allow_no_exp;    /* accept a token without exp (off: exp is required) */
};

/* ---- keys --------------------------------------------------------------- */

void sb_jwt_keys_init(struct sb_jwt_keys *keys);
/* Free the secret (wiped first) and every key; keys is empty again. */
void sb_jwt_keys_free(struct sb_jwt_keys *keys);
/* Set the HS256 secret (copied): SB_JWT_MIN_SECRET..SB_JWT_MAX_SECRET bytes.
 * Returns 0, or -1 with a message appended to err. */
int sb_jwt_keys_set_secret(struct sb_jwt_keys *keys, const unsigned char *secret, size_t len,
                           struct sb_buf *err);
/* Add the public key of a PEM text ("PUBLIC KEY", SubjectPublicKeyInfo): an
 * RSA key of 2048 to 8192 bits becomes RS256, a P-256 key ES256. kid
 * (borrowed, may be NULL) names it. Returns 0, or -1 with a message. */
int sb_jwt_keys_add_pem(struct sb_jwt_keys *keys, const char *pem, size_t len, const char *kid,
                        struct sb_buf *err);
/* The same from a file (at most 1 MiB). */
int sb_jwt_keys_load_pem(struct sb_jwt_keys *keys, const char *path, const char *kid,
                         struct sb_buf *err);
/* Add the signing keys of a JWK Set text ({"keys": [...]}, RFC 7517): RSA
 * keys (n, e) and EC P-256 keys (x, y) whose alg, when given, is RS256 or
 * ES256 and whose use, when given, is "sig". Other keys (symmetric ones,
 * encryption keys, other algorithms) are skipped; a malformed key of a
 * supported kind, a duplicate kid, or a set with no usable key is an error.
 * Returns 0, or -1 with a message (keys then holds what it held before). */
int sb_jwt_keys_add_jwks(struct sb_jwt_keys *keys, const char *json, size_t len,
                         struct sb_buf *err);
/* The same from a file (at most 1 MiB). */
int sb_jwt_keys_load_jwks(struct sb_jwt_keys *keys, const char *path, struct sb_buf *err);

/* ---- tokens ------------------------------------------------------------- */

/* Defaults: no audience check, the system clock, SB_JWT_DEFAULT_LEEWAY. */
void sb_jwt_verify_opts_init(struct sb_jwt_verify_opts *opts);

/* Append a compact HS256 token for claims to out: header
 * {"alg":"HS256","typ":"JWT"}, payload
 * {aud, exp, iat, [nbf], [iss], [sub], [email], [role], aal, [session_id],
 * is_anonymous}. Returns 0, or -1 (nothing appended) when the secret is
 * shorter than SB_JWT_MIN_SECRET or a string is not valid UTF-8. */
int sb_jwt_sign_hs256(const struct sb_jwt_claims *claims, const unsigned char *secret,
                      size_t secret_len, struct sb_buf *out);

/* Verify token[0..len) with keys and fill *out (strings in arena). opts may
 * be NULL for the defaults. Returns 0, or -1 with err set (PostgREST codes,
 * all 401 but PGRST300) and out->www_authenticate filled:
 *   PGRST300 500 "Server lacks JWT secret": keys hold no key at all
 *   PGRST301 401 the token cannot be decoded or verified:
 *     "Empty JWT is sent in Authorization header", "Expected 3 parts in JWT;
 *     got N", "JWT couldn't be decoded" (length, base64url, header JSON),
 *     "Wrong or unsupported encoding algorithm" (none, HS512, ...),
 *     "No suitable key or wrong key type" (kid not found, no key for alg),
 *     "Unsupported token type" (a crit header), "JWT cryptographic
 *     operation failed" (bad signature)
 *   PGRST303 401 the claims are refused: "Parsing claims failed", "JWT
 *     expired", "JWT not yet valid", "JWT issued at future", "JWT not in
 *     audience", "The JWT 'exp' claim must be a number" (likewise nbf, iat),
 *     "The JWT 'aud' claim must be a string or an array of strings", and
 *     specbase's own: "The JWT 'exp' claim is required", "The JWT 'exp'
 *     claim must be an integer", "The JWT 'role' claim must be a string"
 *     (likewise sub, email, session_id, iss, aal), "The JWT 'is_anonymous'
 *     claim must be a boolean".
 * err->details says more where it helps (never the secret). */
int sb_jwt_verify(const char *token, size_t len, const struct sb_jwt_keys *keys,
                  const struct sb_jwt_verify_opts *opts, struct sb_arena *arena,
                  struct sb_jwt_claims *out, struct sb_api_error *err);

/* PGRST302 401 "Anonymous access is disabled": a request without a token
 * where anonymous access is off (its WWW-Authenticate is plain "Bearer").
 * Returns -1. */
int sb_jwt_error_token_required(struct sb_api_error *err);

/* The WWW-Authenticate header value for an error set by this module:
 * "Bearer" for PGRST302, Bearer error="invalid_token",
 * error_description="<message>" for PGRST301 and PGRST303, NULL for any
 * other error. The result lives in arena. */
const char *sb_jwt_www_authenticate(const struct sb_api_error *err, struct sb_arena *arena);

/* ---- the secret file ---------------------------------------------------- */

/* Read the HS256 secret from path, or create the file when it does not
 * exist: O_CREAT|O_EXCL, mode 0600, 48 random bytes written as 64 base64url
 * characters and a newline. The secret is the file's text (trailing
 * whitespace removed), used as is, like PostgREST's jwt-secret, so other
 * tools can sign with the same string. secret has room for *len bytes
 * (SB_JWT_MAX_SECRET is enough); *len becomes the secret's length and
 * *created says whether the file was made. A file that group or others may
 * read or write, one that is not a regular file, and a secret shorter than
 * SB_JWT_MIN_SECRET are refused. Returns 0, or -1 with a message appended
 * to err. */
int sb_jwt_secret_file(const char *path, unsigned char *secret, size_t *len, bool *created,
                       struct sb_buf *err);

/* "HS256", "RS256", "ES256" or "unknown". */
const char *sb_jwt_alg_name(enum sb_jwt_alg alg);

#endif
