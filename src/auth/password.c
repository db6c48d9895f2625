/* Argon2id password hashes and the password policy, see password.h.
 *
 * Everything cryptographic is libsodium's: crypto_pwhash_str_alg makes the
 * encoded string (random salt, parameters inside), crypto_pwhash_str_verify
 * recomputes and compares in constant time, and the argon2id needs_rehash
 * reads the parameters back. This file adds the parameter bounds, the length
 * bound, the dummy verification for unknown accounts and the policy. The
 * hashing pool (hashpool.c) runs these functions off the request threads. */
#include "auth/password.h"

#include <stdlib.h>
#include <string.h>

#include "util/formats.h"

void sb_password_params_default(struct sb_pwhash_params *params)
{
    params->opslimit = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
    params->memlimit = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
}

int sb_password_params_check(const struct sb_pwhash_params *params, struct sb_buf *err)
{
    const char *problem = NULL;
    if (params->memlimit < SB_PWHASH_MIN_MEMLIMIT)
        problem = "memory below OWASP's minimum of 19 MiB";
    else if (params->memlimit > SB_PWHASH_MAX_MEMLIMIT)
        problem = "memory above the maximum of 1 GiB";
    else if (params->opslimit < SB_PWHASH_MIN_OPSLIMIT)
        problem = "passes below OWASP's minimum of 2";
    else if (params->opslimit > SB_PWHASH_MAX_OPSLIMIT)
        problem = "passes above the maximum of 16";
    if (!problem)
        return 0;
    if (err)
        sb_buf_printf(err, "password hashing parameters (memory %zu KiB, %llu passes): %s",
                      params->memlimit >> 10, params->opslimit, problem);
    return SB_PW_EPARAMS;
}

/* The parameters to use: params, or the defaults when NULL. */
static struct sb_pwhash_params chosen(const struct sb_pwhash_params *params)
{
    struct sb_pwhash_params out;
    if (params)
        out = *params;
    else
        sb_password_params_default(&out);
    return out;
}

int sb_password_hash(const char *pw, size_t len, const struct sb_pwhash_params *params,
                     char out[SB_PWHASH_STRBYTES])
{
    out[0] = '\0';
    struct sb_pwhash_params p = chosen(params);
    if (sb_password_params_check(&p, NULL) != 0)
        return SB_PW_EPARAMS;
    if (len > SB_PASSWORD_MAX_BYTES)
        return SB_PW_EINVALID;
    if (sodium_init() < 0)
        return SB_PW_ENOMEM;
    /* libsodium fails only when it cannot allocate memlimit bytes (the
     * parameters were checked above) */
    if (crypto_pwhash_str_alg(out, pw, len, p.opslimit, p.memlimit, crypto_pwhash_ALG_ARGON2ID13) !=
        0) {
        sodium_memzero(out, SB_PWHASH_STRBYTES);
        return SB_PW_ENOMEM;
    }
    return 0;
}

/* hash is a NUL-terminated string that fits an encoded hash buffer. */
static bool hash_readable(const char *hash)
{
    return hash && memchr(hash, '\0', SB_PWHASH_STRBYTES) != NULL;
}

int sb_password_verify(const char *hash, const char *pw, size_t len)
{
    if (len > SB_PASSWORD_MAX_BYTES)
        return SB_PW_EINVALID;
    if (!hash_readable(hash))
        return SB_PW_EMISMATCH;
    if (sodium_init() < 0)
        return SB_PW_EMISMATCH;
    return crypto_pwhash_str_verify(hash, pw, len) == 0 ? 0 : SB_PW_EMISMATCH;
}

int sb_password_verify_dummy(const struct sb_pwhash_params *params, const char *pw, size_t len)
{
    if (len > SB_PASSWORD_MAX_BYTES)
        return SB_PW_EINVALID;
    struct sb_pwhash_params p = chosen(params);
    if (sb_password_params_check(&p, NULL) != 0 || sodium_init() < 0)
        return SB_PW_EMISMATCH;
    /* the same work as a verification: one Argon2id run over the password
     * with a salt and the parameters of a stored hash; the result is thrown
     * away. A fixed salt is fine: nothing is stored or compared. */
    static const unsigned char salt[crypto_pwhash_SALTBYTES] = "specbase-dummy!";
    unsigned char digest[32];
    if (crypto_pwhash(digest, sizeof(digest), pw, len, salt, p.opslimit, p.memlimit,
                      crypto_pwhash_ALG_ARGON2ID13) == 0)
        sodium_memzero(digest, sizeof(digest));
    return SB_PW_EMISMATCH;
}

bool sb_password_needs_rehash(const char *hash, const struct sb_pwhash_params *params)
{
    if (!hash_readable(hash))
        return true;
    struct sb_pwhash_params p = chosen(params);
    /* 0: argon2id with exactly these parameters; 1: other parameters;
     * -1: not an argon2id string (argon2i, garbage) */
    return crypto_pwhash_argon2id_str_needs_rehash(hash, p.opslimit, p.memlimit) != 0;
}

/* ---- policy ---------------------------------------------------------------- */

void sb_password_policy_default(struct sb_password_policy *policy)
{
    policy->min_chars = 8;
    policy->max_bytes = SB_PASSWORD_MAX_BYTES;
    policy->require = 0;
}

/* The classes (enum sb_password_require bits) present in pw. */
static unsigned classes_of(const char *pw, size_t len)
{
    unsigned found = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)pw[i];
        if (ch >= 'a' && ch <= 'z')
            found |= SB_PW_REQUIRE_LOWER;
        else if (ch >= 'A' && ch <= 'Z')
            found |= SB_PW_REQUIRE_UPPER;
        else if (ch >= '0' && ch <= '9')
            found |= SB_PW_REQUIRE_DIGIT;
        else if (ch > ' ' && ch < 0x7f)
            found |= SB_PW_REQUIRE_SYMBOL;
    }
    return found;
}

/* "lower-case letters, digits" for the classes in bits. */
static void describe_classes(unsigned bits, struct sb_buf *out)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {SB_PW_REQUIRE_LOWER, "a lower-case letter (a-z)"},
        {SB_PW_REQUIRE_UPPER, "an upper-case letter (A-Z)"},
        {SB_PW_REQUIRE_DIGIT, "a digit (0-9)"},
        {SB_PW_REQUIRE_SYMBOL, "a symbol (!@#$...)"},
    };
    const char *sep = "";
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (bits & names[i].bit) {
            sb_buf_printf(out, "%s%s", sep, names[i].name);
            sep = ", ";
        }
    }
}

int sb_password_check_policy(const char *pw, size_t len, const struct sb_password_policy *policy,
                             struct sb_api_error *err)
{
    struct sb_password_policy pol;
    if (policy)
        pol = *policy;
    else
        sb_password_policy_default(&pol);
    if (pol.max_bytes == 0 || pol.max_bytes > SB_PASSWORD_MAX_BYTES)
        pol.max_bytes = SB_PASSWORD_MAX_BYTES;

    /* one sentence per broken rule, joined like GoTrue's message; each rule
     * also becomes a field error whose rule is GoTrue's reason */
    struct sb_buf message;
    sb_buf_init(&message);
    const char *reasons[4];
    char *sentences[4];
    size_t n_reasons = 0;
    struct sb_buf sentence;
    sb_buf_init(&sentence);

    if (len > pol.max_bytes) {
        sb_buf_printf(&sentence, "Password cannot be longer than %zu bytes.", pol.max_bytes);
        reasons[n_reasons] = "length";
        sentences[n_reasons++] = sb_buf_take(&sentence);
    } else if (!sb_utf8_valid(pw, len) || memchr(pw, '\0', len) != NULL) {
        sb_buf_puts(&sentence, "Password should be valid UTF-8 text without NUL characters.");
        reasons[n_reasons] = "characters";
        sentences[n_reasons++] = sb_buf_take(&sentence);
    } else {
        if (sb_utf8_chars(pw, len) < pol.min_chars) {
            sb_buf_printf(&sentence, "Password should be at least %zu characters.", pol.min_chars);
            reasons[n_reasons] = "length";
            sentences[n_reasons++] = sb_buf_take(&sentence);
        }
        unsigned missing = pol.require & ~classes_of(pw, len);
        if (missing) {
            sb_buf_puts(&sentence, "Password should contain at least one character of each: ");
            describe_classes(pol.require, &sentence);
            sb_buf_putc(&sentence, '.');
            reasons[n_reasons] = "characters";
            sentences[n_reasons++] = sb_buf_take(&sentence);
        }
    }
    sb_buf_free(&sentence);
    if (n_reasons == 0)
        return 0;

    for (size_t i = 0; i < n_reasons; i++) {
        if (i)
            sb_buf_putc(&message, ' ');
        sb_buf_puts(&message, sentences[i]);
    }
    if (err)
        sb_api_error_set(err, 422, "weak_password", "%s", sb_buf_str(&message));
    for (size_t i = 0; i < n_reasons; i++) {
        if (err)
            sb_api_error_field(err, "password", reasons[i], "%s", sentences[i]);
        free(sentences[i]);
    }
    sb_buf_free(&message);
    return SB_PW_EPOLICY;
}
