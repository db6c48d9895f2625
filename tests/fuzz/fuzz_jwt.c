/* libFuzzer target for access-token verification (`make fuzz-jwt`), under
 * AddressSanitizer and UndefinedBehaviorSanitizer. The key set is fixed: an
 * HS256 secret plus an RSA ("rsa1") and a P-256 ("ec1") public key made at
 * start, and the clock is fixed at NOW. The first input byte picks the mode
 * and the options:
 *   mode 0  the rest is the token, as a client would send it;
 *   mode 1  the rest is "header JSON\npayload JSON", encoded and signed here
 *           with the secret, so the claims checks are reached;
 *   mode 2  the rest is the payload JSON under {"alg":"HS256"}, signed here;
 *   bit 2   require the audience "authenticated"; bit 3 allow a missing exp.
 * Beyond memory errors it asserts: a failure is a 401 with PGRST301 or
 * PGRST303, a message, a WWW-Authenticate value and a JSON body, and hands
 * out no claims; a success leaves no error, and its claims obey the checks
 * (exp, nbf, iat against the clock and leeway, the audience, the payload's
 * length); a raw token that passes carries a correct HMAC-SHA-256 computed
 * independently with OpenSSL, so nothing but the secret makes a token
 * valid; and no verification uses more than a small arena. A violated
 * property aborts, and libFuzzer keeps the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "api/error.h"
#include "auth/base64url.h"
#include "auth/jwt.h"
#include "util/arena.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000LL
#define ARENA_CEILING (64u << 10)

static const char SECRET[] = "fuzz-secret-0123456789abcdef-0123456789abcdef";
#define SECRET_LEN (sizeof(SECRET) - 1)

static struct sb_jwt_keys keys;

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_jwt: %s\n%s\n", what, detail ? detail : "");
    abort();
}

static void add_generated(EVP_PKEY *pkey, const char *kid)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!pkey || !bio || PEM_write_bio_PUBKEY(bio, pkey) != 1)
        fail("cannot make a test key", kid);
    char *pem;
    long len = BIO_get_mem_data(bio, &pem);
    struct sb_buf err;
    sb_buf_init(&err);
    if (sb_jwt_keys_add_pem(&keys, pem, (size_t)len, kid, &err) != 0)
        fail("cannot load a test key", sb_buf_str(&err));
    sb_buf_free(&err);
    BIO_free(bio);
    EVP_PKEY_free(pkey);
}

static void setup(void)
{
    static int ready;
    if (ready)
        return;
    ready = 1;
    struct sb_buf err;
    sb_buf_init(&err);
    sb_jwt_keys_init(&keys);
    if (sb_jwt_keys_set_secret(&keys, (const unsigned char *)SECRET, SECRET_LEN, &err) != 0)
        fail("cannot set the secret", sb_buf_str(&err));
    sb_buf_free(&err);
    add_generated(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048), "rsa1");
    add_generated(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), "ec1");
}

static void hmac(const char *text, size_t len, unsigned char mac[32])
{
    size_t mac_len = 0;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, SECRET, SECRET_LEN,
                   (const unsigned char *)text, len, mac, 32, &mac_len) ||
        mac_len != 32)
        fail("OpenSSL's HMAC failed", NULL);
}

/* header.payload.signature from JSON texts, signed with the secret. */
static void make_token(const char *header, size_t header_len, const char *payload,
                       size_t payload_len, struct sb_buf *token)
{
    sb_base64url_encode((const unsigned char *)header, header_len, token);
    sb_buf_putc(token, '.');
    sb_base64url_encode((const unsigned char *)payload, payload_len, token);
    unsigned char mac[32];
    hmac(token->data, token->len, mac);
    sb_buf_putc(token, '.');
    sb_base64url_encode(mac, sizeof(mac), token);
}

/* A token that passed in raw form: its signature is the secret's HMAC. */
static void check_raw_signature(const char *token, size_t len)
{
    const char *last = memchr(token, '.', len);
    last = last ? memchr(last + 1, '.', len - (size_t)(last + 1 - token)) : NULL;
    if (!last)
        fail("accepted a token without two dots", NULL);
    unsigned char mac[32], sig[64];
    size_t sig_len;
    hmac(token, (size_t)(last - token), mac);
    if (sb_base64url_decode(last + 1, len - (size_t)(last + 1 - token), sig, sizeof(sig),
                            &sig_len) != 0 ||
        sig_len != 32 || memcmp(mac, sig, 32) != 0)
        fail("accepted a token whose signature is not the secret's HMAC", NULL);
}

static void check_failure(struct sb_api_error *err, const struct sb_jwt_claims *claims)
{
    if (err->status != 401)
        fail("error status is not 401", err->message);
    if (strcmp(err->code, "PGRST301") != 0 && strcmp(err->code, "PGRST303") != 0)
        fail("unexpected error code", err->code);
    if (!err->message || !err->message[0])
        fail("error without a message", err->code);
    if (!claims->www_authenticate ||
        strncmp(claims->www_authenticate, "Bearer error=\"invalid_token\", ", 30) != 0)
        fail("no WWW-Authenticate value", claims->www_authenticate);
    if (claims->sub || claims->role || claims->email || claims->aud || claims->payload_json ||
        claims->exp || claims->alg != SB_JWT_ALG_UNKNOWN)
        fail("claims handed out on failure", err->message);
    struct sb_buf json;
    sb_buf_init(&json);
    sb_api_error_json(err, &json);
    if (json.len == 0)
        fail("empty error JSON", NULL);
    sb_buf_free(&json);
}

static void check_success(const struct sb_api_error *err, const struct sb_jwt_claims *claims,
                          const struct sb_jwt_verify_opts *opts)
{
    if (sb_api_error_is_set(err) || claims->www_authenticate)
        fail("error set on success", err->message);
    if (claims->alg != SB_JWT_HS256)
        fail("a token passed that the secret did not sign", sb_jwt_alg_name(claims->alg));
    if (!claims->payload_json || strlen(claims->payload_json) != claims->payload_len)
        fail("payload_json does not match payload_len", NULL);
    if (!opts->allow_no_exp && claims->exp == 0) /* absent, or 0 which has expired */
        fail("a token without exp passed", claims->payload_json);
    if (claims->exp && claims->exp <= NOW - opts->leeway)
        fail("an expired token passed", claims->payload_json);
    if (claims->has_nbf && claims->nbf > NOW + opts->leeway)
        fail("a token not yet valid passed", claims->payload_json);
    if (claims->has_iat && claims->iat > NOW + opts->leeway)
        fail("a token issued in the future passed", claims->payload_json);
    if (opts->audience && (!claims->aud || strcmp(claims->aud, opts->audience) != 0))
        fail("a token for another audience passed", claims->payload_json);
}

static void verify(const char *token, size_t len, const struct sb_jwt_verify_opts *opts, bool raw)
{
    struct sb_arena arena;
    sb_arena_init(&arena);
    struct sb_api_error err = {0};
    struct sb_jwt_claims claims;
    if (sb_jwt_verify(token, len, &keys, opts, &arena, &claims, &err) == 0) {
        check_success(&err, &claims, opts);
        if (raw)
            check_raw_signature(token, len);
    } else {
        check_failure(&err, &claims);
    }
    if (arena.used_total > ARENA_CEILING)
        fail("verification used more arena than the bound", NULL);
    sb_api_error_clear(&err);
    sb_arena_free(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    if (size == 0)
        return 0;
    struct sb_jwt_verify_opts opts;
    sb_jwt_verify_opts_init(&opts);
    opts.now = NOW;
    opts.audience = (data[0] & 4) ? "authenticated" : NULL;
    opts.allow_no_exp = (data[0] & 8) != 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    switch (data[0] % 3) {
    case 0: verify(text, len, &opts, true); break;
    case 1: {
        const char *newline = memchr(text, '\n', len);
        size_t header_len = newline ? (size_t)(newline - text) : len;
        const char *payload = newline ? newline + 1 : "";
        size_t payload_len = newline ? len - header_len - 1 : 0;
        struct sb_buf token;
        sb_buf_init(&token);
        make_token(text, header_len, payload, payload_len, &token);
        verify(sb_buf_str(&token), token.len, &opts, false);
        sb_buf_free(&token);
        break;
    }
    default: {
        static const char header[] = "{\"alg\":\"HS256\"}";
        struct sb_buf token;
        sb_buf_init(&token);
        make_token(header, sizeof(header) - 1, text, len, &token);
        verify(sb_buf_str(&token), token.len, &opts, false);
        sb_buf_free(&token);
        break;
    }
    }
    return 0;
}
