/* Passwords: Argon2id hashing and verification (libsodium) and the password
 * policy applied when an account sets one.
 *
 * A hash is libsodium's encoded string, "$argon2id$v=19$m=65536,t=2,p=1$
 * <salt>$<hash>": each hash carries its own salt and cost parameters, so
 * raising the parameters later leaves old hashes verifiable, and
 * sb_password_needs_rehash tells when one should be replaced (after a
 * successful sign-in, when the clear password is at hand).
 *
 * Hashing is slow on purpose (about 0.2 s and 64 MiB at the defaults):
 * request threads never call these functions directly but go through the
 * hashing pool (auth/hashpool.h). The CLI and tests may call them directly.
 *
 * Passwords are borrowed byte slices (pw, len). Nothing here copies, logs or
 * keeps one; the caller wipes its own buffer (sodium_memzero) when done. */
#ifndef SB_AUTH_PASSWORD_H
#define SB_AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include <sodium.h>

#include "api/error.h"
#include "util/buf.h"

/* Error codes (negative; 0 is success). */
#define SB_PW_EMISMATCH (-1) /* wrong password, or a hash that is not one of ours */
#define SB_PW_EPARAMS (-2)   /* cost parameters outside the accepted range */
#define SB_PW_ENOMEM (-3)    /* the hash's memory could not be allocated */
#define SB_PW_EINVALID (-4)  /* a password longer than SB_PASSWORD_MAX_BYTES */
#define SB_PW_EPOLICY (-5)   /* the password breaks the policy (err filled) */

/* Size of an encoded hash buffer, NUL included. */
#define SB_PWHASH_STRBYTES crypto_pwhash_STRBYTES

/* The longest password accepted anywhere, in bytes. Argon2 pre-hashes the
 * password, so the cost does not depend on its length; the bound only keeps
 * what a client can send small. */
#define SB_PASSWORD_MAX_BYTES 1024

/* The floor for the cost parameters: OWASP's minimum recommendation for
 * Argon2id (Password Storage Cheat Sheet) is 19 MiB of memory, 2 passes,
 * parallelism 1 (libsodium always uses 1). Anything cheaper is refused. */
#define SB_PWHASH_MIN_MEMLIMIT ((size_t)19 << 20)
#define SB_PWHASH_MIN_OPSLIMIT 2ULL
/* The ceiling: libsodium's SENSITIVE memory (1 GiB) and 16 passes. Past that
 * one sign-in would take seconds; a typo in the configuration should not. */
#define SB_PWHASH_MAX_MEMLIMIT ((size_t)1 << 30)
#define SB_PWHASH_MAX_OPSLIMIT 16ULL

/* Argon2id cost: passes over memory (opslimit, "t") and memory in bytes
 * (memlimit, "m" in KiB in the encoded string). */
struct sb_pwhash_params {
    unsigned long long opslimit;
    size_t memlimit;
};

/* libsodium's INTERACTIVE limits: 2 passes, 64 MiB. */
void sb_password_params_default(struct sb_pwhash_params *params);

/* 0 when params lie within [MIN, MAX] above; otherwise SB_PW_EPARAMS and, when
 * err is not NULL, a sentence naming the parameter and the bound. */
int sb_password_params_check(const struct sb_pwhash_params *params, struct sb_buf *err);

/* Hash pw[0..len) with Argon2id, a fresh random salt and params (NULL: the
 * defaults) into out, a NUL-terminated encoded string. Returns 0,
 * SB_PW_EPARAMS, SB_PW_EINVALID (len > SB_PASSWORD_MAX_BYTES) or
 * SB_PW_ENOMEM. On failure out holds "". */
int sb_password_hash(const char *pw, size_t len, const struct sb_pwhash_params *params,
                     char out[SB_PWHASH_STRBYTES]);

/* Check pw[0..len) against an encoded hash (borrowed, NUL-terminated), with
 * the parameters stored in it; the comparison is constant-time. Returns 0
 * when it matches, SB_PW_EMISMATCH when it does not or when hash is not a
 * valid encoded Argon2 string, SB_PW_EINVALID for an over-long password. */
int sb_password_verify(const char *hash, const char *pw, size_t len);

/* Spend the time and memory of one verification under params (NULL: the
 * defaults) and fail: used when the account does not exist, so that the
 * answer takes as long as for a wrong password and does not reveal which
 * accounts exist. Always returns SB_PW_EMISMATCH (or SB_PW_EINVALID). */
int sb_password_verify_dummy(const struct sb_pwhash_params *params, const char *pw, size_t len);

/* True when hash was not made with Argon2id under exactly params (NULL: the
 * defaults), or cannot be read: rehash it at the next successful sign-in. */
bool sb_password_needs_rehash(const char *hash, const struct sb_pwhash_params *params);

/* Which characters a policy requires at least one of (bit set). */
enum sb_password_require {
    SB_PW_REQUIRE_LOWER = 1u << 0, /* a-z */
    SB_PW_REQUIRE_UPPER = 1u << 1, /* A-Z */
    SB_PW_REQUIRE_DIGIT = 1u << 2, /* 0-9 */
    SB_PW_REQUIRE_SYMBOL = 1u << 3 /* printable ASCII that is none of the above */
};

struct sb_password_policy {
    size_t min_chars; /* Unicode code points, not bytes */
    size_t max_bytes; /* at most SB_PASSWORD_MAX_BYTES */
    unsigned require; /* enum sb_password_require bits */
};

/* At least 8 characters, at most SB_PASSWORD_MAX_BYTES bytes, no class required. */
void sb_password_policy_default(struct sb_password_policy *policy);

/* Check a new password against policy (NULL: the defaults). It must be
 * valid UTF-8 without NUL, at least min_chars characters, at most max_bytes
 * bytes, and hold every required class. Returns 0, or SB_PW_EPOLICY with err
 * set to 422 "weak_password", a message made of GoTrue's sentences ("Password
 * should be at least 8 characters." ...) and one field error per reason,
 * field "password", rule = GoTrue's reason ("length" or "characters"): the
 * HTTP layer turns the rules into GoTrue's {"weak_password": {"reasons":
 * [...]}}. The message never quotes the password. err may be NULL. */
int sb_password_check_policy(const char *pw, size_t len, const struct sb_password_policy *policy,
                             struct sb_api_error *err);

#endif
