/* Unit tests of src/auth's access tokens (jwt.c, jwk.c, jwt_secret.c;
 * base64url.c has test_base64url.c): HS256 signing and verification round
 * trips; the attacks a verifier must refuse (alg none in any case,
 * HS/RS confusion with the public key as an HMAC secret, tampered payload
 * and signature, expired and not yet valid tokens, wrong audience, broken
 * base64url, extra dots, huge tokens, duplicate JSON keys, non-object
 * payloads, claims of the wrong type), each with PostgREST's code and
 * message; RS256 and ES256 with keys made here by OpenSSL, read from PEM and
 * from a JWK Set with kid selection; and the secret file's creation and its
 * permission checks. The clock is fixed through the verify options. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth/base64url.h"
#include "auth/jwt.h"
#include "test.h"

#define NOW 1700000000LL

static const char SECRET[] = "test-secret-0123456789abcdef-0123456789abcdef";
#define SECRET_LEN (sizeof(SECRET) - 1)
static const char HS_HEADER[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

/* ---- building tokens ------------------------------------------------------ */

static void put_b64(struct sb_buf *out, const void *data, size_t len)
{
    sb_base64url_encode(data, len, out);
}

/* header.payload, base64url-encoded. */
static void signing_input(struct sb_buf *out, const char *header, const char *payload)
{
    put_b64(out, header, strlen(header));
    sb_buf_putc(out, '.');
    put_b64(out, payload, strlen(payload));
}

static char *token_hs(const char *header, const char *payload, const void *secret, size_t len)
{
    struct sb_buf b;
    sb_buf_init(&b);
    signing_input(&b, header, payload);
    unsigned char mac[32];
    unsigned int mac_len = 0;
    /* OpenSSL's HMAC, independent of the libsodium one under test. */
    EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, len, (const unsigned char *)b.data, b.len,
              mac, sizeof(mac), NULL);
    mac_len = sizeof(mac);
    sb_buf_putc(&b, '.');
    put_b64(&b, mac, mac_len);
    return sb_buf_take(&b);
}

static char *token_raw(const char *header, const char *payload, const char *sig_b64)
{
    struct sb_buf b;
    sb_buf_init(&b);
    signing_input(&b, header, payload);
    sb_buf_putc(&b, '.');
    sb_buf_puts(&b, sig_b64);
    return sb_buf_take(&b);
}

/* RS256 (RSA key) or ES256 (EC key, r||s) over header.payload. */
static char *token_pk(const char *header, const char *payload, EVP_PKEY *key)
{
    struct sb_buf b;
    sb_buf_init(&b);
    signing_input(&b, header, payload);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t sig_len = 0;
    unsigned char sig[1024];
    if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, NULL, &sig_len, (const unsigned char *)b.data, b.len) != 1 ||
        sig_len > sizeof(sig) ||
        EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)b.data, b.len) != 1) {
        fprintf(stderr, "signing failed\n");
        abort();
    }
    EVP_MD_CTX_free(md);
    sb_buf_putc(&b, '.');
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
        const unsigned char *p = sig;
        ECDSA_SIG *ecsig = d2i_ECDSA_SIG(NULL, &p, (long)sig_len);
        unsigned char raw[64];
        BN_bn2binpad(ECDSA_SIG_get0_r(ecsig), raw, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(ecsig), raw + 32, 32);
        ECDSA_SIG_free(ecsig);
        put_b64(&b, raw, sizeof(raw));
    } else {
        put_b64(&b, sig, sig_len);
    }
    return sb_buf_take(&b);
}

/* A GoTrue-shaped payload valid at NOW, with extra members appended. */
static char *payload_with(const char *extra)
{
    struct sb_buf b;
    sb_buf_init(&b);
    sb_buf_printf(&b,
                  "{\"aud\":\"authenticated\",\"exp\":%lld,\"iat\":%lld,\"sub\":\"user-1\","
                  "\"role\":\"authenticated\"%s%s}",
                  NOW + 3600, NOW - 10, extra[0] ? "," : "", extra);
    return sb_buf_take(&b);
}

/* ---- keys ------------------------------------------------------------------- */

static EVP_PKEY *rsa_keys[2], *ec_key;

static EVP_PKEY *rsa(int i)
{
    if (!rsa_keys[i])
        rsa_keys[i] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    return rsa_keys[i];
}

static EVP_PKEY *ec(void)
{
    if (!ec_key)
        ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    return ec_key;
}

/* The PEM text (SubjectPublicKeyInfo) of key's public half; caller frees. */
static char *public_pem(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    char *data;
    long len = BIO_get_mem_data(bio, &data);
    char *copy = malloc((size_t)len + 1);
    memcpy(copy, data, (size_t)len);
    copy[len] = '\0';
    BIO_free(bio);
    return copy;
}

static void put_bn(struct sb_buf *out, EVP_PKEY *key, const char *param, int pad)
{
    BIGNUM *bn = NULL;
    EVP_PKEY_get_bn_param(key, param, &bn);
    unsigned char bytes[1024];
    int len = pad ? BN_bn2binpad(bn, bytes, pad) : BN_bn2bin(bn, bytes);
    put_b64(out, bytes, (size_t)len);
    BN_free(bn);
}

/* One JWK for key; members is extra text such as ,"alg":"RS256". */
static void put_jwk(struct sb_buf *out, EVP_PKEY *key, const char *kid, const char *members)
{
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
        sb_buf_printf(out, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"%s\"%s,\"x\":\"", kid,
                      members);
        put_bn(out, key, OSSL_PKEY_PARAM_EC_PUB_X, 32);
        sb_buf_puts(out, "\",\"y\":\"");
        put_bn(out, key, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
    } else {
        sb_buf_printf(out, "{\"kty\":\"RSA\",\"kid\":\"%s\"%s,\"n\":\"", kid, members);
        put_bn(out, key, OSSL_PKEY_PARAM_RSA_N, 0);
        sb_buf_puts(out, "\",\"e\":\"");
        put_bn(out, key, OSSL_PKEY_PARAM_RSA_E, 0);
    }
    sb_buf_puts(out, "\"}");
}

static char scratch_dir[64];

static const char *scratch_path(const char *name)
{
    static char path[160];
    if (!scratch_dir[0]) {
        snprintf(scratch_dir, sizeof(scratch_dir), "/tmp/sb-jwt-XXXXXX");
        if (!mkdtemp(scratch_dir)) {
            perror("mkdtemp");
            abort();
        }
    }
    snprintf(path, sizeof(path), "%s/%s", scratch_dir, name);
    return path;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        perror(path);
        abort();
    }
    fchmod(fd, mode);
    close(fd);
}

static void keys_with_secret(struct sb_jwt_keys *keys)
{
    struct sb_buf err;
    sb_buf_init(&err);
    sb_jwt_keys_init(keys);
    if (sb_jwt_keys_set_secret(keys, (const unsigned char *)SECRET, SECRET_LEN, &err) != 0)
        abort();
    sb_buf_free(&err);
}

/* ---- verifying ---------------------------------------------------------------- */

static struct sb_jwt_verify_opts opts_at_now(void)
{
    struct sb_jwt_verify_opts opts;
    sb_jwt_verify_opts_init(&opts);
    opts.now = NOW;
    return opts;
}

/* Verify and return "ok", or "CODE STATUS message" (static storage). */
static const char *outcome(const char *token, const struct sb_jwt_keys *keys,
                           const struct sb_jwt_verify_opts *opts)
{
    static char text[256];
    struct sb_arena arena;
    sb_arena_init(&arena);
    struct sb_api_error err = {0};
    struct sb_jwt_claims claims;
    int rc = sb_jwt_verify(token, strlen(token), keys, opts, &arena, &claims, &err);
    if (rc == 0 && !sb_api_error_is_set(&err) && !claims.www_authenticate)
        snprintf(text, sizeof(text), "ok");
    else if (rc != 0 && claims.www_authenticate == NULL && err.status != 500)
        snprintf(text, sizeof(text), "no WWW-Authenticate for %s", err.message);
    else
        snprintf(text, sizeof(text), "%s %d %s", err.code, err.status,
                 err.message ? err.message : "(none)");
    sb_api_error_clear(&err);
    sb_arena_free(&arena);
    return text;
}

/* The same for a token made of the three given texts (not base64url). */
static const char *hs_outcome(const char *header, const char *payload,
                              const struct sb_jwt_verify_opts *opts)
{
    struct sb_jwt_keys keys;
    keys_with_secret(&keys);
    char *token = token_hs(header, payload, SECRET, SECRET_LEN);
    const char *result = outcome(token, &keys, opts);
    free(token);
    sb_jwt_keys_free(&keys);
    return result;
}

static const char *claims_outcome(const char *extra)
{
    struct sb_jwt_verify_opts opts = opts_at_now();
    char *payload = payload_with(extra);
    const char *result = hs_outcome(HS_HEADER, payload, &opts);
    free(payload);
    return result;
}

#define ALG_ERR "PGRST301 401 Wrong or unsupported encoding algorithm"
#define KEY_ERR "PGRST301 401 No suitable key or wrong key type"
#define CRYPTO_ERR "PGRST301 401 JWT cryptographic operation failed"
#define DECODE_ERR "PGRST301 401 JWT couldn't be decoded"
#define CLAIMS_ERR "PGRST303 401 Parsing claims failed"

/* ---- signing and round trips ------------------------------------------------- */

TEST(sign_then_verify_round_trip)
{
    struct sb_jwt_claims claims = {0};
    claims.sub = "3f1c0e7a-0000-4000-8000-000000000001";
    claims.role = "authenticated";
    claims.email = "ada@example.com";
    claims.session_id = "sess-42";
    claims.exp = NOW + 3600;
    claims.iat = NOW;
    struct sb_buf token;
    sb_buf_init(&token);
    CHECK_EQ_INT(sb_jwt_sign_hs256(&claims, (const unsigned char *)SECRET, SECRET_LEN, &token), 0);

    /* The header is exactly GoTrue's; the payload has its members. */
    const char *dot = strchr(token.data, '.');
    CHECK(dot != NULL);
    struct sb_buf header;
    sb_buf_init(&header);
    put_b64(&header, HS_HEADER, strlen(HS_HEADER));
    CHECK_EQ_INT(dot - token.data, header.len);
    CHECK(strncmp(token.data, header.data, header.len) == 0);
    sb_buf_free(&header);

    struct sb_jwt_keys keys;
    keys_with_secret(&keys);
    struct sb_jwt_verify_opts opts = opts_at_now();
    opts.audience = "authenticated";
    struct sb_arena arena;
    sb_arena_init(&arena);
    struct sb_api_error err = {0};
    struct sb_jwt_claims got;
    CHECK_EQ_INT(sb_jwt_verify(token.data, token.len, &keys, &opts, &arena, &got, &err), 0);
    CHECK_EQ_STR(err.message, NULL);
    CHECK_EQ_STR(got.sub, claims.sub);
    CHECK_EQ_STR(got.role, "authenticated");
    CHECK_EQ_STR(got.email, "ada@example.com");
    CHECK_EQ_STR(got.session_id, "sess-42");
    CHECK_EQ_STR(got.aud, "authenticated"); /* the default audience */
    CHECK_EQ_STR(got.aal, "aal1");
    CHECK(!got.is_anonymous);
    CHECK_EQ_INT(got.exp, NOW + 3600);
    CHECK_EQ_INT(got.iat, NOW);
    CHECK(got.has_iat && !got.has_nbf);
    CHECK_EQ_INT(got.alg, SB_JWT_HS256);
    CHECK_EQ_STR(got.kid, NULL);
    CHECK_EQ_STR(got.www_authenticate, NULL);
    CHECK_EQ_STR(got.payload_json,
                 "{\"aud\":\"authenticated\",\"exp\":1700003600,\"iat\":1700000000,"
                 "\"sub\":\"3f1c0e7a-0000-4000-8000-000000000001\",\"email\":\"ada@example.com\","
                 "\"role\":\"authenticated\",\"aal\":\"aal1\",\"session_id\":\"sess-42\","
                 "\"is_anonymous\":false}");
    CHECK_EQ_INT(got.payload_len, strlen(got.payload_json));

    /* Anonymous sign-in, optional claims left out, nbf and iss written. */
    struct sb_jwt_claims anon = {0};
    anon.role = "anon";
    anon.is_anonymous = true;
    anon.aud = "specbase";
    anon.iss = "http://localhost:3000/auth/v1";
    anon.exp = NOW + 60;
    anon.iat = NOW;
    anon.nbf = NOW - 5;
    anon.has_nbf = true;
    sb_buf_reset(&token);
    CHECK_EQ_INT(sb_jwt_sign_hs256(&anon, (const unsigned char *)SECRET, SECRET_LEN, &token), 0);
    opts.audience = NULL;
    CHECK_EQ_INT(sb_jwt_verify(token.data, token.len, &keys, &opts, &arena, &got, &err), 0);
    CHECK_EQ_STR(got.sub, NULL);
    CHECK_EQ_STR(got.email, NULL);
    CHECK_EQ_STR(got.session_id, NULL);
    CHECK_EQ_STR(got.role, "anon");
    CHECK_EQ_STR(got.aud, "specbase");
    CHECK_EQ_STR(got.iss, "http://localhost:3000/auth/v1");
    CHECK(got.is_anonymous && got.has_nbf);
    CHECK_EQ_INT(got.nbf, NOW - 5);

    /* The same token under another secret is refused. */
    struct sb_jwt_keys other;
    sb_jwt_keys_init(&other);
    struct sb_buf msg;
    sb_buf_init(&msg);
    CHECK_EQ_INT(
        sb_jwt_keys_set_secret(&other, (const unsigned char *)"another-secret-of-32-bytes-at-least",
                               35, &msg),
        0);
    CHECK_EQ_STR(outcome(token.data, &other, &opts), CRYPTO_ERR);
    sb_jwt_keys_free(&other);
    sb_buf_free(&msg);

    sb_api_error_clear(&err);
    sb_arena_free(&arena);
    sb_jwt_keys_free(&keys);
    sb_buf_free(&token);
}

TEST(sign_refuses_weak_secret_and_bad_text)
{
    struct sb_jwt_claims claims = {0};
    claims.sub = "u";
    claims.exp = NOW + 1;
    struct sb_buf token;
    sb_buf_init(&token);
    CHECK_EQ_INT(sb_jwt_sign_hs256(&claims, (const unsigned char *)SECRET, 31, &token), -1);
    claims.email = "\xff\xfe not UTF-8";
    CHECK_EQ_INT(sb_jwt_sign_hs256(&claims, (const unsigned char *)SECRET, SECRET_LEN, &token), -1);
    CHECK_EQ_INT(token.len, 0);
    sb_buf_free(&token);

    struct sb_jwt_keys keys;
    sb_jwt_keys_init(&keys);
    struct sb_buf err;
    sb_buf_init(&err);
    CHECK_EQ_INT(sb_jwt_keys_set_secret(&keys, (const unsigned char *)SECRET, 31, &err), -1);
    CHECK(strstr(sb_buf_str(&err), "32 to 1024 bytes") != NULL);
    CHECK(keys.secret == NULL);
    sb_buf_free(&err);
    sb_jwt_keys_free(&keys);
}

/* ---- the attack set ------------------------------------------------------------ */

TEST(alg_none_is_refused_in_any_case)
{
    struct sb_jwt_keys keys;
    keys_with_secret(&keys);
    struct sb_jwt_verify_opts opts = opts_at_now();
    char *payload = payload_with("");
    static const char *const headers[] = {
        "{\"alg\":\"none\",\"typ\":\"JWT\"}",
        "{\"alg\":\"NONE\"}",
        "{\"alg\":\"None\"}",
        "{\"alg\":\"nOnE\"}",
    };
    for (size_t i = 0; i < 4; i++) {
        char *unsigned_token = token_raw(headers[i], payload, "");
        CHECK_EQ_STR(outcome(unsigned_token, &keys, &opts), ALG_ERR);
        free(unsigned_token);
        /* ... and with a signature made with the secret, as some libraries do */
        char *signed_token = token_hs(headers[i], payload, SECRET, SECRET_LEN);
        CHECK_EQ_STR(outcome(signed_token, &keys, &opts), ALG_ERR);
        free(signed_token);
    }
    /* The details name the reason. */
    char *token = token_raw("{\"alg\":\"none\"}", payload, "");
    struct sb_arena arena;
    sb_arena_init(&arena);
    struct sb_api_error err = {0};
    struct sb_jwt_claims claims;
    CHECK_EQ_INT(sb_jwt_verify(token, strlen(token), &keys, &opts, &arena, &claims, &err), -1);
    CHECK_EQ_STR(err.details, "alg \"none\" (an unsigned token) is never accepted");
    CHECK_EQ_STR(claims.www_authenticate, "Bearer error=\"invalid_token\", "
                                          "error_description=\"Wrong or unsupported encoding "
                                          "algorithm\"");
    CHECK_EQ_STR(claims.sub, NULL); /* nothing of the token is handed out */
    sb_api_error_clear(&err);
    sb_arena_free(&arena);
    free(token);
    free(payload);
    sb_jwt_keys_free(&keys);
}

TEST(unknown_and_missing_alg_are_refused)
{
    struct sb_jwt_verify_opts opts = opts_at_now();
    char *payload = payload_with("");
    static const char *const headers[] = {
        "{\"alg\":\"HS512\"}",   "{\"alg\":\"hs256\"}", "{\"alg\":\"HS256 \"}",
        "{\"alg\":\"PS256\"}",   "{\"alg\":\"EdDSA\"}", "{\"alg\":\"RS512\"}",
        "{\"typ\":\"JWT\"}",     "{\"alg\":256}",       "{\"alg\":null}",
        "{\"alg\":[\"HS256\"]}",
    };
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
        CHECK_EQ_STR(hs_outcome(headers[i], payload, &opts), ALG_ERR);
    CHECK_EQ_STR(hs_outcome("{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", payload, &opts),
                 "PGRST301 401 Unsupported token type");
    CHECK_EQ_STR(hs_outcome("{\"alg\":\"HS256\",\"kid\":7}", payload, &opts), DECODE_ERR);
    CHECK_EQ_STR(hs_outcome("{\"alg\":\"HS256\",\"kid\":\"any\",\"typ\":\"JWT\"}", payload, &opts),
                 "ok");
    free(payload);
}

TEST(hs_rs_confusion_is_refused)
{
    char *pem = public_pem(rsa(0));
    char *payload = payload_with("");
    struct sb_jwt_verify_opts opts = opts_at_now();
    struct sb_buf err;
    sb_buf_init(&err);

    /* Only the RSA key configured: an HS256 token "signed" with its public
     * PEM (the classic confusion) finds no key at all. */
    struct sb_jwt_keys rs_only;
    sb_jwt_keys_init(&rs_only);
    CHECK_EQ_INT(sb_jwt_keys_add_pem(&rs_only, pem, strlen(pem), NULL, &err), 0);
    char *forged = token_hs(HS_HEADER, payload, pem, strlen(pem));
    CHECK_EQ_STR(outcome(forged, &rs_only, &opts), KEY_ERR);
    /* with a kid naming the RSA key too */
    char *forged_kid = token_hs("{\"alg\":\"HS256\",\"kid\":\"rsa\"}", payload, pem, strlen(pem));
    CHECK_EQ_STR(outcome(forged_kid, &rs_only, &opts), KEY_ERR);

    /* Secret and RSA key: HS256 is checked with the secret alone. */
    struct sb_jwt_keys both;
    keys_with_secret(&both);
    CHECK_EQ_INT(sb_jwt_keys_add_pem(&both, pem, strlen(pem), "rsa", &err), 0);
    CHECK_EQ_STR(outcome(forged, &both, &opts), CRYPTO_ERR);
    CHECK_EQ_STR(outcome(forged_kid, &both, &opts), CRYPTO_ERR);

    /* A real RS256 token: fine with the key, refused with only the secret. */
    char *rs_token = token_pk("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", payload, rsa(0));
    CHECK_EQ_STR(outcome(rs_token, &rs_only, &opts), "ok");
    CHECK_EQ_STR(outcome(rs_token, &both, &opts), "ok");
    struct sb_jwt_keys hs_only;
    keys_with_secret(&hs_only);
    CHECK_EQ_STR(outcome(rs_token, &hs_only, &opts), KEY_ERR);

    /* The RS256 signature under a header relabelled HS256, or ES256. */
    const char *sig = strrchr(rs_token, '.') + 1;
    char *relabelled = token_raw(HS_HEADER, payload, sig);
    CHECK_EQ_STR(outcome(relabelled, &both, &opts), CRYPTO_ERR);
    free(relabelled);
    relabelled = token_raw("{\"alg\":\"ES256\"}", payload, sig);
    CHECK_EQ_STR(outcome(relabelled, &both, &opts), KEY_ERR);
    free(relabelled);

    /* An HS256 token made with the real secret is refused by RSA-only keys. */
    char *hs_token = token_hs(HS_HEADER, payload, SECRET, SECRET_LEN);
    CHECK_EQ_STR(outcome(hs_token, &rs_only, &opts), KEY_ERR);
    CHECK_EQ_STR(outcome(hs_token, &both, &opts), "ok");

    free(hs_token);
    free(rs_token);
    free(forged);
    free(forged_kid);
    free(payload);
    free(pem);
    sb_jwt_keys_free(&rs_only);
    sb_jwt_keys_free(&both);
    sb_jwt_keys_free(&hs_only);
    sb_buf_free(&err);
}

TEST(tampered_payload_and_signature_are_refused)
{
    struct sb_jwt_keys keys;
    keys_with_secret(&keys);
    struct sb_jwt_verify_opts opts = opts_at_now();
    char *payload = payload_with("");
    char *token = token_hs(HS_HEADER, payload, SECRET, SECRET_LEN);
    CHECK_EQ_STR(outcome(token, &keys, &opts), "ok");

    /* The payload swapped for one with a better role, the signature kept. */
    char *evil_payload = payload_with("\"app_role\":\"admin\"");
    char *evil = token_hs(HS_HEADER, evil_payload, SECRET, SECRET_LEN);
    char *spliced = token_raw(HS_HEADER, evil_payload, strrchr(token, '.') + 1);
    CHECK_EQ_STR(outcome(spliced, &keys, &opts), CRYPTO_ERR);
    free(spliced);

    /* One character of the payload changed (still canonical base64url). */
    char *flipped = strdup(token);
    char *middle = strchr(flipped, '.') + 5;
    *middle = *middle == 'A' ? 'B' : 'A';
    CHECK_EQ_STR(outcome(flipped, &keys, &opts), CRYPTO_ERR);
    free(flipped);

    /* The signature: first character changed, truncated, extended, empty. */
    char *bad_sig = strdup(token);
    char *sig = strrchr(bad_sig, '.') + 1;
    sig[0] = sig[0] == 'A' ? 'B' : 'A';
    CHECK_EQ_STR(outcome(bad_sig, &keys, &opts), CRYPTO_ERR);
    sig[0] = strrchr(token, '.')[1];
    CHECK_EQ_STR(outcome(bad_sig, &keys, &opts), "ok"); /* restored */
    unsigned char mac[32];
    size_t mac_len;
    CHECK_EQ_INT(sb_base64url_decode(sig, strlen(sig), mac, sizeof(mac), &mac_len), 0);
    free(bad_sig);
    struct sb_buf truncated;
    sb_buf_init(&truncated);
    put_b64(&truncated, mac, 31);
    bad_sig = token_raw(HS_HEADER, payload, truncated.data);
    CHECK_EQ_STR(outcome(bad_sig, &keys, &opts), CRYPTO_ERR);
    sb_buf_free(&truncated);
    free(bad_sig);
    struct sb_buf longer;
    sb_buf_init(&longer);
    sb_buf_puts(&longer, token);
    sb_buf_puts(&longer, "AAAA");
    CHECK_EQ_STR(outcome(longer.data, &keys, &opts), CRYPTO_ERR);
    sb_buf_free(&longer);
    char *no_sig = token_raw(HS_HEADER, payload, "");
    CHECK_EQ_STR(outcome(no_sig, &keys, &opts), CRYPTO_ERR);
    free(no_sig);

    /* The same with RS256. */
    struct sb_buf err;
    sb_buf_init(&err);
    char *pem = public_pem(rsa(0));
    CHECK_EQ_INT(sb_jwt_keys_add_pem(&keys, pem, strlen(pem), NULL, &err), 0);
    char *rs_token = token_pk("{\"alg\":\"RS256\"}", payload, rsa(0));
    CHECK_EQ_STR(outcome(rs_token, &keys, &opts), "ok");
    spliced = token_raw("{\"alg\":\"RS256\"}", evil_payload, strrchr(rs_token, '.') + 1);
    CHECK_EQ_STR(outcome(spliced, &keys, &opts), CRYPTO_ERR);
    free(spliced);
    char *rs_other = token_pk("{\"alg\":\"RS256\"}", payload, rsa(1)); /* someone else's key */
    CHECK_EQ_STR(outcome(rs_other, &keys, &opts), CRYPTO_ERR);
    free(rs_other);

    free(rs_token);
    free(pem);
    sb_buf_free(&err);
    free(evil);
    free(evil_payload);
    free(token);
    free(payload);
    sb_jwt_keys_free(&keys);
}

TEST(expiry_and_not_before_with_leeway)
{
    struct sb_jwt_verify_opts opts = opts_at_now();
    struct {
        const char *claim;
        long long at;
        const char *want;
    } cases[] = {
        {"exp", NOW - 31, "PGRST303 401 JWT expired"},
        {"exp", NOW - 30, "PGRST303 401 JWT expired"}, /* exp <= now - leeway */
        {"exp", NOW - 29, "ok"},
        {"exp", 0, "PGRST303 401 JWT expired"},
        {"exp", -9000000000000000000LL, "PGRST303 401 JWT expired"},
        {"exp", 9000000000000000000LL, "ok"},
        {"nbf", NOW + 31, "PGRST303 401 JWT not yet valid"},
        {"nbf", NOW + 30, "ok"},
        {"nbf", -9000000000000000000LL, "ok"},
        {"iat", NOW + 31, "PGRST303 401 JWT issued at future"},
        {"iat", NOW + 30, "ok"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long long exp = NOW + 60, iat = NOW, nbf = NOW;
        if (strcmp(cases[i].claim, "exp") == 0)
            exp = cases[i].at;
        else if (strcmp(cases[i].claim, "iat") == 0)
            iat = cases[i].at;
        else
            nbf = cases[i].at;
        char payload[256];
        snprintf(payload, sizeof(payload), "{\"exp\":%lld,\"iat\":%lld,\"nbf\":%lld,\"sub\":\"u\"}",
                 exp, iat, nbf);
        const char *got = hs_outcome(HS_HEADER, payload, &opts);
        if (strcmp(got, cases[i].want) != 0)
            printf("case %zu: %s\n", i, payload);
        CHECK_EQ_STR(got, cases[i].want);
    }
    /* Leeway 0: exp == now is expired, exp == now + 1 is not. */
    opts.leeway = 0;
    char payload[128];
    snprintf(payload, sizeof(payload), "{\"exp\":%lld}", NOW);
    CHECK_EQ_STR(hs_outcome(HS_HEADER, payload, &opts), "PGRST303 401 JWT expired");
    snprintf(payload, sizeof(payload), "{\"exp\":%lld}", NOW + 1);
    CHECK_EQ_STR(hs_outcome(HS_HEADER, payload, &opts), "ok");
    /* An absurd leeway is capped at an hour. */
    opts.leeway = 1 << 30;
    snprintf(payload, sizeof(payload), "{\"exp\":%lld}", NOW - 3601);
    CHECK_EQ_STR(hs_outcome(HS_HEADER, payload, &opts), "PGRST303 401 JWT expired");
    /* The system clock, when now is 0: a token of 2023 has expired. */
    opts = opts_at_now();
    opts.now = 0;
    snprintf(payload, sizeof(payload), "{\"exp\":%lld}", NOW + 3600);
    CHECK_EQ_STR(hs_outcome(HS_HEADER, payload, &opts), "PGRST303 401 JWT expired");
    /* Missing exp: required unless allowed. */
    opts = opts_at_now();
    CHECK_EQ_STR(hs_outcome(HS_HEADER, "{\"sub\":\"u\"}", &opts),
                 "PGRST303 401 The JWT 'exp' claim is required");
    CHECK_EQ_STR(hs_outcome(HS_HEADER, "{\"sub\":\"u\",\"exp\":null}", &opts),
                 "PGRST303 401 The JWT 'exp' claim is required");
    opts.allow_no_exp = true;
    CHECK_EQ_STR(hs_outcome(HS_HEADER, "{\"sub\":\"u\"}", &opts), "ok");
}

TEST(audience)
{
    struct sb_jwt_verify_opts opts = opts_at_now();
    opts.audience = "authenticated";
    char payload[256];
    struct {
        const char *aud;
        const char *want;
    } cases[] = {
        {"\"authenticated\"", "ok"},
        {"\"other\"", "PGRST303 401 JWT not in audience"},
        {"\"Authenticated\"", "PGRST303 401 JWT not in audience"},
        {"[\"x\",\"authenticated\"]", "ok"},
        {"[\"x\",\"y\"]", "PGRST303 401 JWT not in audience"},
        {"[]", "PGRST303 401 JWT not in audience"},
        {"null", "PGRST303 401 JWT not in audience"},
        {"5", "PGRST303 401 The JWT 'aud' claim must be a string or an array of strings"},
        {"{}", "PGRST303 401 The JWT 'aud' claim must be a string or an array of strings"},
        {"[\"authenticated\",1]",
         "PGRST303 401 The JWT 'aud' claim must be a string or an array of strings"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(payload, sizeof(payload), "{\"exp\":%lld,\"aud\":%s}", NOW + 60, cases[i].aud);
        CHECK_EQ_STR(hs_outcome(HS_HEADER, payload, &opts), cases[i].want);
    }
    snprintf(payload, sizeof(payload), "{\"exp\":%lld}", NOW + 60);
    CHECK_EQ_STR(hs_outcome(HS_HEADER, payload, &opts), "PGRST303 401 JWT not in audience");
    /* Without a required audience any well-typed aud passes. */
    opts.audience = NULL;
    CHECK_EQ_STR(hs_outcome(HS_HEADER, payload, &opts), "ok");
    snprintf(payload, sizeof(payload), "{\"exp\":%lld,\"aud\":\"other\"}", NOW + 60);
    CHECK_EQ_STR(hs_outcome(HS_HEADER, payload, &opts), "ok");
    snprintf(payload, sizeof(payload), "{\"exp\":%lld,\"aud\":7}", NOW + 60);
    CHECK_EQ_STR(hs_outcome(HS_HEADER, payload, &opts),
                 "PGRST303 401 The JWT 'aud' claim must be a string or an array of strings");

    /* The audience kept is the one matched. */
    struct sb_jwt_keys keys;
    keys_with_secret(&keys);
    snprintf(payload, sizeof(payload), "{\"exp\":%lld,\"aud\":[\"a\",\"b\"]}", NOW + 60);
    char *token = token_hs(HS_HEADER, payload, SECRET, SECRET_LEN);
    opts.audience = "b";
    struct sb_arena arena;
    sb_arena_init(&arena);
    struct sb_api_error err = {0};
    struct sb_jwt_claims claims;
    CHECK_EQ_INT(sb_jwt_verify(token, strlen(token), &keys, &opts, &arena, &claims, &err), 0);
    CHECK_EQ_STR(claims.aud, "b");
    opts.audience = NULL;
    CHECK_EQ_INT(sb_jwt_verify(token, strlen(token), &keys, &opts, &arena, &claims, &err), 0);
    CHECK_EQ_STR(claims.aud, "a");
    sb_arena_free(&arena);
    free(token);
    sb_jwt_keys_free(&keys);
}

TEST(malformed_tokens)
{
    struct sb_jwt_keys keys;
    keys_with_secret(&keys);
    struct sb_jwt_verify_opts opts = opts_at_now();
    char *payload = payload_with("");
    char *token = token_hs(HS_HEADER, payload, SECRET, SECRET_LEN);
    const char *dot1 = strchr(token, '.'), *dot2 = strrchr(token, '.');

    CHECK_EQ_STR(outcome("", &keys, &opts),
                 "PGRST301 401 Empty JWT is sent in Authorization header");
    CHECK_EQ_STR(outcome("abc", &keys, &opts), "PGRST301 401 Expected 3 parts in JWT; got 1");
    CHECK_EQ_STR(outcome("a.b", &keys, &opts), "PGRST301 401 Expected 3 parts in JWT; got 2");
    CHECK_EQ_STR(outcome("a.b.c.d", &keys, &opts), "PGRST301 401 Expected 3 parts in JWT; got 4");
    CHECK_EQ_STR(outcome("....", &keys, &opts), "PGRST301 401 Expected 3 parts in JWT; got 5");
    CHECK_EQ_STR(outcome("..", &keys, &opts), DECODE_ERR);

    struct sb_buf b;
    sb_buf_init(&b);
    /* A valid token with an extra dot, or an extra part. */
    sb_buf_printf(&b, "%s.", token);
    CHECK_EQ_STR(outcome(b.data, &keys, &opts), "PGRST301 401 Expected 3 parts in JWT; got 4");
    sb_buf_reset(&b);
    sb_buf_printf(&b, "%.*s.%s", (int)(dot2 - token), token, dot1 + 1);
    CHECK_EQ_STR(outcome(b.data, &keys, &opts), "PGRST301 401 Expected 3 parts in JWT; got 4");

    /* Base64url broken in each part: padding, the standard alphabet,
     * whitespace, non-canonical last character, impossible length. */
    static const char *const damage[] = {"=", "==", "+", "/", " ", "\n", "%", "\x80"};
    for (int part = 0; part < 3; part++) {
        for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
            const char *end = part == 0 ? dot1 : part == 1 ? dot2 : token + strlen(token);
            sb_buf_reset(&b);
            sb_buf_append(&b, token, (size_t)(end - token));
            sb_buf_puts(&b, damage[i]);
            sb_buf_puts(&b, end);
            const char *got = outcome(b.data, &keys, &opts);
            if (strcmp(got, DECODE_ERR) != 0)
                printf("part %d, damage %zu: %s\n", part, i, b.data);
            CHECK_EQ_STR(got, DECODE_ERR);
        }
    }
    /* The header's last character with unused bits set: "...J9" -> "...J-". */
    sb_buf_reset(&b);
    sb_buf_puts(&b, token);
    CHECK(b.data[dot1 - token - 1] == '9');
    b.data[dot1 - token - 1] = '-';
    CHECK_EQ_STR(outcome(b.data, &keys, &opts), DECODE_ERR);
    /* A NUL byte inside the token (length given explicitly). */
    struct sb_arena arena;
    sb_arena_init(&arena);
    struct sb_api_error err = {0};
    struct sb_jwt_claims claims;
    sb_buf_reset(&b);
    sb_buf_puts(&b, token);
    b.data[3] = '\0';
    CHECK_EQ_INT(sb_jwt_verify(b.data, b.len, &keys, &opts, &arena, &claims, &err), -1);
    CHECK_EQ_STR(err.code, "PGRST301");
    CHECK_EQ_STR(err.details, "the header is not canonical unpadded base64url");
    sb_api_error_clear(&err);
    sb_arena_free(&arena);

    /* Header and payload that are not JSON objects. */
    CHECK_EQ_STR(hs_outcome("[\"HS256\"]", payload, &opts), DECODE_ERR);
    CHECK_EQ_STR(hs_outcome("not json", payload, &opts), DECODE_ERR);
    CHECK_EQ_STR(hs_outcome("", payload, &opts), DECODE_ERR);
    CHECK_EQ_STR(hs_outcome("{\"alg\":\"HS256\"} x", payload, &opts), DECODE_ERR);
    static const char *const not_objects[] = {"[]",   "\"claims\"", "123",   "null",
                                              "true", "{\"exp\":1", "{} {}", "{\"a\":\"\\u0000\"}"};
    for (size_t i = 0; i < sizeof(not_objects) / sizeof(not_objects[0]); i++)
        CHECK_EQ_STR(hs_outcome(HS_HEADER, not_objects[i], &opts), CLAIMS_ERR);

    /* A raw NUL byte between JSON tokens (found by fuzz_jwt: jansson lets it
     * pass, and payload_json would be cut short at it). */
    static const char nul_payload[] = "{\"exp\":1700003600\0,\"role\":\"admin\"}";
    static const char nul_header[] = "{\"alg\":\"HS256\"\0}";
    sb_buf_reset(&b);
    put_b64(&b, HS_HEADER, strlen(HS_HEADER));
    sb_buf_putc(&b, '.');
    put_b64(&b, nul_payload, sizeof(nul_payload) - 1);
    unsigned char mac[32];
    EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, SECRET, SECRET_LEN, (const unsigned char *)b.data,
              b.len, mac, sizeof(mac), NULL);
    sb_buf_putc(&b, '.');
    put_b64(&b, mac, sizeof(mac));
    CHECK_EQ_STR(outcome(b.data, &keys, &opts), CLAIMS_ERR);
    sb_buf_reset(&b);
    put_b64(&b, nul_header, sizeof(nul_header) - 1);
    sb_buf_putc(&b, '.');
    put_b64(&b, nul_payload, 20);
    EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, SECRET, SECRET_LEN, (const unsigned char *)b.data,
              b.len, mac, sizeof(mac), NULL);
    sb_buf_putc(&b, '.');
    put_b64(&b, mac, sizeof(mac));
    CHECK_EQ_STR(outcome(b.data, &keys, &opts), DECODE_ERR);

    sb_buf_free(&b);
    free(token);
    free(payload);
    sb_jwt_keys_free(&keys);
}

TEST(huge_tokens)
{
    struct sb_jwt_verify_opts opts = opts_at_now();
    /* A signed token of exactly SB_JWT_MAX_LEN bytes passes; one byte more
     * (a longer claim, still correctly signed) does not. */
    struct sb_buf pad;
    sb_buf_init(&pad);
    char *fits = NULL; /* the longest payload whose token fits */
    for (size_t n = 5000; n < 7000; n++) {
        sb_buf_reset(&pad);
        sb_buf_puts(&pad, "\"pad\":\"");
        sb_buf_fill(&pad, 'p', n);
        sb_buf_putc(&pad, '"');
        char *payload = payload_with(pad.data);
        char *token = token_hs(HS_HEADER, payload, SECRET, SECRET_LEN);
        size_t len = strlen(token);
        free(token);
        if (len <= SB_JWT_MAX_LEN) {
            free(fits);
            fits = payload;
            continue;
        }
        CHECK(fits != NULL);
        CHECK_EQ_STR(hs_outcome(HS_HEADER, fits, &opts), "ok");
        CHECK_EQ_STR(hs_outcome(HS_HEADER, payload, &opts), DECODE_ERR);
        free(payload);
        break;
    }
    free(fits);
    sb_buf_free(&pad);

    /* Megabytes of junk are refused on length alone. */
    struct sb_jwt_keys keys;
    keys_with_secret(&keys);
    size_t big = 4u << 20;
    char *junk = malloc(big + 1);
    memset(junk, 'A', big);
    junk[big] = '\0';
    junk[100] = '.';
    junk[200] = '.';
    CHECK_EQ_STR(outcome(junk, &keys, &opts), DECODE_ERR);
    free(junk);
    sb_jwt_keys_free(&keys);
}

TEST(duplicate_keys_are_refused)
{
    struct sb_jwt_verify_opts opts = opts_at_now();
    char payload[256];
    snprintf(payload, sizeof(payload),
             "{\"exp\":%lld,\"role\":\"authenticated\",\"role\":\"service_role\"}", NOW + 60);
    CHECK_EQ_STR(hs_outcome(HS_HEADER, payload, &opts), CLAIMS_ERR);
    snprintf(payload, sizeof(payload), "{\"exp\":%lld,\"exp\":%lld}", NOW - 100, NOW + 60);
    CHECK_EQ_STR(hs_outcome(HS_HEADER, payload, &opts), CLAIMS_ERR);
    snprintf(payload, sizeof(payload), "{\"exp\":%lld}", NOW + 60);
    CHECK_EQ_STR(hs_outcome("{\"alg\":\"HS256\",\"alg\":\"none\"}", payload, &opts), DECODE_ERR);
    CHECK_EQ_STR(hs_outcome("{\"alg\":\"none\",\"alg\":\"HS256\"}", payload, &opts), DECODE_ERR);
}

TEST(claims_of_the_wrong_type)
{
    CHECK_EQ_STR(claims_outcome(""), "ok");
    struct {
        const char *claim;
        const char *want;
    } cases[] = {
        {"\"exp\":\"1700003600\"", "PGRST303 401 The JWT 'exp' claim must be a number"},
        {"\"nbf\":\"0\"", "PGRST303 401 The JWT 'nbf' claim must be a number"},
        {"\"iat\":true", "PGRST303 401 The JWT 'iat' claim must be a number"},
        {"\"exp\":[1]", "PGRST303 401 The JWT 'exp' claim must be a number"},
        {"\"exp\":1700003600.5", "PGRST303 401 The JWT 'exp' claim must be an integer"},
        {"\"exp\":1700003600.0", "PGRST303 401 The JWT 'exp' claim must be an integer"},
        {"\"exp\":1.7e10", "PGRST303 401 The JWT 'exp' claim must be an integer"},
        {"\"iat\":1e400", CLAIMS_ERR},                /* beyond double */
        {"\"exp\":99999999999999999999", CLAIMS_ERR}, /* beyond int64 */
        {"\"role\":1", "PGRST303 401 The JWT 'role' claim must be a string"},
        {"\"role\":[\"admin\"]", "PGRST303 401 The JWT 'role' claim must be a string"},
        {"\"role\":{\"a\":1}", "PGRST303 401 The JWT 'role' claim must be a string"},
        {"\"sub\":42", "PGRST303 401 The JWT 'sub' claim must be a string"},
        {"\"email\":false", "PGRST303 401 The JWT 'email' claim must be a string"},
        {"\"session_id\":1", "PGRST303 401 The JWT 'session_id' claim must be a string"},
        {"\"aal\":2", "PGRST303 401 The JWT 'aal' claim must be a string"},
        {"\"iss\":[]", "PGRST303 401 The JWT 'iss' claim must be a string"},
        {"\"is_anonymous\":\"false\"",
         "PGRST303 401 The JWT 'is_anonymous' claim must be a boolean"},
        {"\"is_anonymous\":0", "PGRST303 401 The JWT 'is_anonymous' claim must be a boolean"},
        {"\"is_anonymous\":null", "ok"},
        {"\"email\":null,\"custom\":{\"deep\":[1,2,{\"x\":null}]}", "ok"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* Replace payload_with's member of the same name when there is one. */
        char payload[256];
        const char *claim = cases[i].claim;
        if (strncmp(claim, "\"exp\"", 5) == 0 || strncmp(claim, "\"iat\"", 5) == 0 ||
            strncmp(claim, "\"role\"", 6) == 0 || strncmp(claim, "\"sub\"", 5) == 0) {
            snprintf(payload, sizeof(payload), "{%s%s}", claim,
                     strncmp(claim, "\"exp\"", 5) == 0 ? "" : ",\"exp\":1700003600");
            struct sb_jwt_verify_opts opts = opts_at_now();
            CHECK_EQ_STR(hs_outcome(HS_HEADER, payload, &opts), cases[i].want);
        } else {
            CHECK_EQ_STR(claims_outcome(claim), cases[i].want);
        }
    }
    /* role null is no role (the HTTP layer then treats the caller as anon). */
    struct sb_jwt_keys keys;
    keys_with_secret(&keys);
    struct sb_jwt_verify_opts opts = opts_at_now();
    char *token = token_hs(HS_HEADER, "{\"exp\":1700003600,\"role\":null}", SECRET, SECRET_LEN);
    struct sb_arena arena;
    sb_arena_init(&arena);
    struct sb_api_error err = {0};
    struct sb_jwt_claims claims;
    CHECK_EQ_INT(sb_jwt_verify(token, strlen(token), &keys, &opts, &arena, &claims, &err), 0);
    CHECK_EQ_STR(claims.role, NULL);
    sb_arena_free(&arena);
    free(token);
    sb_jwt_keys_free(&keys);
}

TEST(errors_and_www_authenticate)
{
    struct sb_jwt_keys none;
    sb_jwt_keys_init(&none);
    struct sb_jwt_verify_opts opts = opts_at_now();
    CHECK_EQ_STR(outcome("a.b.c", &none, &opts), "PGRST300 500 Server lacks JWT secret");
    sb_jwt_keys_free(&none);

    struct sb_jwt_keys keys;
    keys_with_secret(&keys);
    char payload[64];
    snprintf(payload, sizeof(payload), "{\"exp\":%lld}", NOW - 100);
    char *token = token_hs(HS_HEADER, payload, SECRET, SECRET_LEN);
    struct sb_arena arena;
    sb_arena_init(&arena);
    struct sb_api_error err = {0};
    struct sb_jwt_claims claims;
    CHECK_EQ_INT(sb_jwt_verify(token, strlen(token), &keys, NULL, &arena, &claims, &err), -1);
    CHECK_EQ_INT(err.status, 401);
    CHECK_EQ_STR(err.code, "PGRST303");
    CHECK_EQ_STR(err.message, "JWT expired");
    CHECK_EQ_STR(claims.www_authenticate,
                 "Bearer error=\"invalid_token\", error_description=\"JWT expired\"");
    CHECK_EQ_STR(sb_jwt_www_authenticate(&err, &arena), claims.www_authenticate);
    struct sb_buf body;
    sb_buf_init(&body);
    sb_api_error_json(&err, &body);
    CHECK_EQ_STR(
        sb_buf_str(&body),
        "{\"code\":\"PGRST303\",\"message\":\"JWT expired\",\"details\":null,\"hint\":null}");
    sb_buf_free(&body);
    sb_api_error_clear(&err);

    CHECK_EQ_INT(sb_jwt_error_token_required(&err), -1);
    CHECK_EQ_INT(err.status, 401);
    CHECK_EQ_STR(err.code, "PGRST302");
    CHECK_EQ_STR(err.message, "Anonymous access is disabled");
    CHECK_EQ_STR(sb_jwt_www_authenticate(&err, &arena), "Bearer");
    sb_api_error_clear(&err);
    sb_api_error_set(&err, 400, "PGRST100", "unrelated");
    CHECK_EQ_STR(sb_jwt_www_authenticate(&err, &arena), NULL);
    sb_api_error_clear(&err);
    /* Quotes in a message are escaped in the quoted-string. */
    sb_api_error_set(&err, 401, "PGRST303", "The JWT 'exp' claim must be a \"number\"\\");
    CHECK_EQ_STR(sb_jwt_www_authenticate(&err, &arena),
                 "Bearer error=\"invalid_token\", error_description=\"The JWT 'exp' claim must "
                 "be a \\\"number\\\"\\\\\"");
    sb_api_error_clear(&err);

    /* Token text shown in details is bounded and printable. */
    char *weird = token_hs("{\"alg\":\"HS256\\u0007\"}", payload, SECRET, SECRET_LEN);
    CHECK_EQ_INT(sb_jwt_verify(weird, strlen(weird), &keys, &opts, &arena, &claims, &err), -1);
    CHECK_EQ_STR(err.details, "alg \"(not shown)\" is not supported (HS256, RS256 and ES256 are)");
    sb_api_error_clear(&err);
    free(weird);

    sb_arena_free(&arena);
    free(token);
    sb_jwt_keys_free(&keys);
}

/* ---- public keys ------------------------------------------------------------------ */

TEST(es256_with_a_p256_key)
{
    struct sb_jwt_keys keys;
    sb_jwt_keys_init(&keys);
    struct sb_buf err;
    sb_buf_init(&err);
    char *pem = public_pem(ec());
    const char *path = scratch_path("ec.pem");
    write_file(path, pem, 0644);
    CHECK_EQ_INT(sb_jwt_keys_load_pem(&keys, path, "ec1", &err), 0);
    CHECK_EQ_STR(sb_buf_str(&err), "");
    CHECK_EQ_INT(keys.n_pub, 1);
    CHECK_EQ_INT(keys.pub[0].alg, SB_JWT_ES256);
    CHECK_EQ_STR(keys.pub[0].kid, "ec1");

    struct sb_jwt_verify_opts opts = opts_at_now();
    char *payload = payload_with("\"email\":\"ec@example.com\"");
    char *token = token_pk("{\"alg\":\"ES256\",\"kid\":\"ec1\"}", payload, ec());
    struct sb_arena arena;
    sb_arena_init(&arena);
    struct sb_api_error aerr = {0};
    struct sb_jwt_claims claims;
    CHECK_EQ_INT(sb_jwt_verify(token, strlen(token), &keys, &opts, &arena, &claims, &aerr), 0);
    CHECK_EQ_STR(claims.email, "ec@example.com");
    CHECK_EQ_INT(claims.alg, SB_JWT_ES256);
    CHECK_EQ_STR(claims.kid, "ec1");
    sb_arena_free(&arena);

    /* Without a kid the key is found by alg; a kid nobody has is refused. */
    char *no_kid = token_pk("{\"alg\":\"ES256\"}", payload, ec());
    CHECK_EQ_STR(outcome(no_kid, &keys, &opts), "ok");
    char *wrong_kid = token_pk("{\"alg\":\"ES256\",\"kid\":\"ec2\"}", payload, ec());
    CHECK_EQ_STR(outcome(wrong_kid, &keys, &opts), KEY_ERR);

    /* Tampered signature; the DER form instead of r||s; HS256 with the PEM. */
    char *bad = strdup(token);
    char *sig = strrchr(bad, '.') + 1;
    sig[10] = sig[10] == 'A' ? 'B' : 'A';
    CHECK_EQ_STR(outcome(bad, &keys, &opts), CRYPTO_ERR);
    free(bad);
    struct sb_buf der_token;
    sb_buf_init(&der_token);
    signing_input(&der_token, "{\"alg\":\"ES256\"}", payload);
    {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char der[80];
        size_t der_len = sizeof(der);
        EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, ec());
        EVP_DigestSign(md, der, &der_len, (const unsigned char *)der_token.data, der_token.len);
        EVP_MD_CTX_free(md);
        sb_buf_putc(&der_token, '.');
        put_b64(&der_token, der, der_len);
    }
    CHECK_EQ_STR(outcome(der_token.data, &keys, &opts), CRYPTO_ERR);
    sb_buf_free(&der_token);
    char *zeros = token_raw(
        "{\"alg\":\"ES256\"}", payload,
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    CHECK_EQ_STR(outcome(zeros, &keys, &opts), CRYPTO_ERR);
    free(zeros);
    char *confused = token_hs(HS_HEADER, payload, pem, strlen(pem));
    CHECK_EQ_STR(outcome(confused, &keys, &opts), KEY_ERR);
    free(confused);

    free(no_kid);
    free(wrong_kid);
    free(token);
    free(payload);
    free(pem);
    sb_buf_free(&err);
    sb_jwt_keys_free(&keys);
}

static char *jwks_text(void)
{
    struct sb_buf b;
    sb_buf_init(&b);
    sb_buf_puts(&b, "{\"keys\":[");
    put_jwk(&b, rsa(0), "rsa1", ",\"alg\":\"RS256\",\"use\":\"sig\"");
    sb_buf_putc(&b, ',');
    put_jwk(&b, rsa(1), "rsa2", "");
    sb_buf_putc(&b, ',');
    put_jwk(&b, ec(), "ec1", ",\"alg\":\"ES256\"");
    /* skipped: symmetric, encryption, another alg, another curve */
    sb_buf_puts(&b, ",{\"kty\":\"oct\",\"kid\":\"hmac\",\"k\":\"c2VjcmV0\"}");
    sb_buf_putc(&b, ',');
    put_jwk(&b, rsa(0), "rsa-enc", ",\"use\":\"enc\"");
    sb_buf_putc(&b, ',');
    put_jwk(&b, rsa(0), "rsa-384", ",\"alg\":\"RS384\"");
    sb_buf_puts(&b,
                ",{\"kty\":\"EC\",\"crv\":\"P-384\",\"kid\":\"p384\",\"x\":\"AA\",\"y\":\"AA\"}");
    sb_buf_puts(&b, ",{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"ed\",\"x\":\"AA\"}");
    sb_buf_puts(&b, "]}");
    return sb_buf_take(&b);
}

TEST(jwks_with_several_keys_and_kid_selection)
{
    struct sb_jwt_keys keys;
    keys_with_secret(&keys);
    struct sb_buf err;
    sb_buf_init(&err);
    char *jwks = jwks_text();
    const char *path = scratch_path("jwks.json");
    write_file(path, jwks, 0644);
    CHECK_EQ_INT(sb_jwt_keys_load_jwks(&keys, path, &err), 0);
    CHECK_EQ_STR(sb_buf_str(&err), "");
    CHECK_EQ_INT(keys.n_pub, 3);
    CHECK_EQ_STR(keys.pub[0].kid, "rsa1");
    CHECK_EQ_STR(keys.pub[1].kid, "rsa2");
    CHECK_EQ_STR(keys.pub[2].kid, "ec1");
    CHECK_EQ_INT(keys.pub[1].alg, SB_JWT_RS256);
    CHECK_EQ_INT(keys.pub[2].alg, SB_JWT_ES256);

    struct sb_jwt_verify_opts opts = opts_at_now();
    char *payload = payload_with("");
    struct {
        const char *header;
        EVP_PKEY *key;
        const char *want;
    } cases[] = {
        {"{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", rsa(0), "ok"},
        {"{\"alg\":\"RS256\",\"kid\":\"rsa2\"}", rsa(1), "ok"},
        {"{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", rsa(1), CRYPTO_ERR}, /* the other key's kid */
        {"{\"alg\":\"RS256\",\"kid\":\"rsa2\"}", rsa(0), CRYPTO_ERR},
        {"{\"alg\":\"RS256\"}", rsa(1), "ok"}, /* no kid: any RS256 key */
        {"{\"alg\":\"RS256\"}", rsa(0), "ok"},
        {"{\"alg\":\"RS256\",\"kid\":\"nope\"}", rsa(0), KEY_ERR},
        {"{\"alg\":\"RS256\",\"kid\":\"rsa-enc\"}", rsa(0), KEY_ERR}, /* skipped keys */
        {"{\"alg\":\"RS256\",\"kid\":\"ec1\"}", rsa(0), KEY_ERR},
        {"{\"alg\":\"ES256\",\"kid\":\"ec1\"}", ec(), "ok"},
        {"{\"alg\":\"ES256\",\"kid\":\"rsa1\"}", ec(), KEY_ERR},
        {"{\"alg\":\"ES256\"}", ec(), "ok"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *token = token_pk(cases[i].header, payload, cases[i].key);
        const char *got = outcome(token, &keys, &opts);
        if (strcmp(got, cases[i].want) != 0)
            printf("case %zu: %s\n", i, cases[i].header);
        CHECK_EQ_STR(got, cases[i].want);
        free(token);
    }
    /* The details of a kid miss say which. */
    char *token = token_pk("{\"alg\":\"RS256\",\"kid\":\"nope\"}", payload, rsa(0));
    struct sb_arena arena;
    sb_arena_init(&arena);
    struct sb_api_error aerr = {0};
    struct sb_jwt_claims claims;
    CHECK_EQ_INT(sb_jwt_verify(token, strlen(token), &keys, &opts, &arena, &claims, &aerr), -1);
    CHECK_EQ_STR(aerr.details, "no RS256 key has the kid \"nope\"");
    sb_api_error_clear(&aerr);
    free(token);
    token = token_pk("{\"alg\":\"ES256\",\"kid\":\"rsa1\"}", payload, ec());
    CHECK_EQ_INT(sb_jwt_verify(token, strlen(token), &keys, &opts, &arena, &claims, &aerr), -1);
    CHECK_EQ_STR(aerr.details, "the key \"rsa1\" is an RS256 key, the token is ES256");
    sb_api_error_clear(&aerr);
    free(token);
    sb_arena_free(&arena);

    /* The set's keys do not serve HS256; the secret does. */
    char *hs = token_hs("{\"alg\":\"HS256\",\"kid\":\"rsa1\"}", payload, SECRET, SECRET_LEN);
    CHECK_EQ_STR(outcome(hs, &keys, &opts), "ok");
    free(hs);

    /* Loading the same set again: every kid is now taken. */
    CHECK_EQ_INT(sb_jwt_keys_add_jwks(&keys, jwks, strlen(jwks), &err), -1);
    CHECK(strstr(sb_buf_str(&err), "the kid 'rsa1' is used twice") != NULL);
    CHECK_EQ_INT(keys.n_pub, 3);

    free(payload);
    free(jwks);
    sb_buf_free(&err);
    sb_jwt_keys_free(&keys);
}

static const char *jwks_error(const char *json)
{
    static char text[512];
    struct sb_jwt_keys keys;
    sb_jwt_keys_init(&keys);
    struct sb_buf err;
    sb_buf_init(&err);
    int rc = sb_jwt_keys_add_jwks(&keys, json, strlen(json), &err);
    snprintf(text, sizeof(text), "%s", rc == 0 ? "ok" : sb_buf_str(&err));
    if (rc != 0 && keys.n_pub != 0)
        snprintf(text, sizeof(text), "keys left after a failure");
    sb_buf_free(&err);
    sb_jwt_keys_free(&keys);
    return text;
}

TEST(jwks_errors)
{
    CHECK(strstr(jwks_error("{"), "not valid JSON") != NULL);
    CHECK_EQ_STR(jwks_error("[]"), "the JWK Set has no \"keys\" array");
    CHECK_EQ_STR(jwks_error("{\"keys\":{}}"), "the JWK Set has no \"keys\" array");
    CHECK_EQ_STR(jwks_error("{\"keys\":[]}"),
                 "the JWK Set has no RS256 (RSA) or ES256 (EC P-256) signing key");
    CHECK_EQ_STR(jwks_error("{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}"),
                 "the JWK Set has no RS256 (RSA) or ES256 (EC P-256) signing key");
    CHECK(strstr(jwks_error("{\"keys\":[],\"keys\":[]}"), "not valid JSON") != NULL);
    CHECK_EQ_STR(jwks_error("{\"keys\":[1]}"), "key 0 of the JWK Set: it is not a JSON object");
    CHECK_EQ_STR(jwks_error("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\"}]}"),
                 "key 0 of the JWK Set: 'e' is missing or not a string");
    CHECK_EQ_STR(jwks_error("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB=\",\"e\":\"AQAB\"}]}"),
                 "key 0 of the JWK Set: 'n' is not unpadded base64url of at most 1025 bytes");
    CHECK_EQ_STR(
        jwks_error("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}]}"),
        "key 0 of the JWK Set: 'x' and 'y' must be 32 bytes each for P-256");
    CHECK_EQ_STR(jwks_error("{\"keys\":[{\"kty\":\"EC\",\"alg\":\"ES256\",\"crv\":\"P-384\"}]}"),
                 "key 0 of the JWK Set: alg ES256 needs crv P-256, not 'P-384'");
    CHECK_EQ_STR(jwks_error("{\"keys\":[{\"kty\":7}]}"),
                 "key 0 of the JWK Set: 'kty' is missing, or one of kty, use, alg, crv, kid is "
                 "not a string");

    /* A point that is not on the curve. */
    struct sb_buf b;
    sb_buf_init(&b);
    sb_buf_puts(&b, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"");
    unsigned char coord[32];
    memset(coord, 1, sizeof(coord));
    put_b64(&b, coord, 32);
    sb_buf_puts(&b, "\",\"y\":\"");
    put_b64(&b, coord, 32);
    sb_buf_puts(&b, "\"}]}");
    CHECK_EQ_STR(jwks_error(b.data),
                 "key 0 of the JWK Set: 'x' and 'y' are not a point on the P-256 curve");

    /* An RSA key too short for RS256. */
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    sb_buf_reset(&b);
    sb_buf_puts(&b, "{\"keys\":[");
    put_jwk(&b, small, "small", "");
    sb_buf_puts(&b, "]}");
    CHECK_EQ_STR(jwks_error(b.data),
                 "key 0 of the JWK Set: an RSA key of 1024 bits (RS256 needs 2048 to 8192)");

    /* Private key material in what should be a public set. */
    sb_buf_reset(&b);
    sb_buf_puts(&b, "{\"keys\":[");
    put_jwk(&b, ec(), "ec1", ",\"d\":\"AAAA\"");
    sb_buf_puts(&b, "]}");
    CHECK_EQ_STR(jwks_error(b.data),
                 "key 0 of the JWK Set: it holds private key material ('d'); give only the public "
                 "keys");

    /* Two keys with one kid; a good key before a broken one loads nothing. */
    sb_buf_reset(&b);
    sb_buf_puts(&b, "{\"keys\":[");
    put_jwk(&b, rsa(0), "same", "");
    sb_buf_putc(&b, ',');
    put_jwk(&b, ec(), "same", "");
    sb_buf_puts(&b, "]}");
    CHECK_EQ_STR(jwks_error(b.data), "key 1 of the JWK Set: the kid 'same' is used twice");
    sb_buf_reset(&b);
    sb_buf_puts(&b, "{\"keys\":[");
    put_jwk(&b, rsa(0), "good", "");
    sb_buf_puts(&b, ",{\"kty\":\"RSA\",\"n\":\"AQAB\"}]}");
    CHECK_EQ_STR(jwks_error(b.data), "key 1 of the JWK Set: 'e' is missing or not a string");

    /* A missing file is named. */
    struct sb_jwt_keys keys;
    sb_jwt_keys_init(&keys);
    sb_buf_reset(&b);
    CHECK_EQ_INT(sb_jwt_keys_load_jwks(&keys, "/nonexistent/jwks.json", &b), -1);
    CHECK_EQ_STR(sb_buf_str(&b), "/nonexistent/jwks.json: cannot open: No such file or directory");
    sb_buf_reset(&b);
    const char *path = scratch_path("broken.json");
    write_file(path, "{\"keys\":[]}", 0644);
    CHECK_EQ_INT(sb_jwt_keys_load_jwks(&keys, path, &b), -1);
    CHECK(strncmp(sb_buf_str(&b), path, strlen(path)) == 0);
    CHECK(strstr(sb_buf_str(&b), ": the JWK Set has no RS256") != NULL);
    sb_jwt_keys_free(&keys);

    EVP_PKEY_free(small);
    sb_buf_free(&b);
}

TEST(pem_errors)
{
    struct sb_jwt_keys keys;
    sb_jwt_keys_init(&keys);
    struct sb_buf err;
    sb_buf_init(&err);

    /* A private key, garbage, an unsupported curve, a short RSA key. */
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, ec(), NULL, NULL, 0, NULL, NULL);
    char *data;
    long len = BIO_get_mem_data(bio, &data);
    CHECK_EQ_INT(sb_jwt_keys_add_pem(&keys, data, (size_t)len, NULL, &err), -1);
    CHECK(strstr(sb_buf_str(&err), "no PEM 'PUBLIC KEY' block") != NULL);
    BIO_free(bio);
    sb_buf_reset(&err);
    CHECK_EQ_INT(sb_jwt_keys_add_pem(&keys, "hello", 5, NULL, &err), -1);
    sb_buf_reset(&err);

    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    char *pem = public_pem(p384);
    CHECK_EQ_INT(sb_jwt_keys_add_pem(&keys, pem, strlen(pem), NULL, &err), -1);
    CHECK_EQ_STR(sb_buf_str(&err), "the PEM public key is not usable: an EC key on the curve "
                                   "'secp384r1' (ES256 needs P-256)");
    free(pem);
    EVP_PKEY_free(p384);
    sb_buf_reset(&err);

    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    pem = public_pem(ed);
    CHECK_EQ_INT(sb_jwt_keys_add_pem(&keys, pem, strlen(pem), NULL, &err), -1);
    CHECK(strstr(sb_buf_str(&err), "a key of type ED25519") != NULL);
    free(pem);
    EVP_PKEY_free(ed);
    sb_buf_reset(&err);

    /* Kids are unique across PEM and JWKS keys. */
    pem = public_pem(rsa(0));
    CHECK_EQ_INT(sb_jwt_keys_add_pem(&keys, pem, strlen(pem), "k", &err), 0);
    CHECK_EQ_INT(sb_jwt_keys_add_pem(&keys, pem, strlen(pem), "k", &err), -1);
    CHECK_EQ_STR(sb_buf_str(&err), "the kid 'k' is already used by another key");
    sb_buf_reset(&err);
    CHECK_EQ_INT(sb_jwt_keys_add_pem(&keys, pem, strlen(pem), "", &err), -1);
    sb_buf_reset(&err);
    CHECK_EQ_INT(keys.n_pub, 1);
    CHECK_EQ_INT(sb_jwt_keys_load_pem(&keys, "/nonexistent.pem", NULL, &err), -1);
    CHECK_EQ_STR(sb_buf_str(&err), "/nonexistent.pem: cannot open: No such file or directory");
    free(pem);

    sb_buf_free(&err);
    sb_jwt_keys_free(&keys);
}

TEST(pem_key_without_kid_serves_tokens_with_any_kid)
{
    /* An issuer's single PEM key configured without a kid still verifies its
     * tokens that carry one, unless a key with that very kid exists. */
    struct sb_jwt_keys keys;
    sb_jwt_keys_init(&keys);
    struct sb_buf err;
    sb_buf_init(&err);
    char *pem0 = public_pem(rsa(0)), *pem1 = public_pem(rsa(1));
    CHECK_EQ_INT(sb_jwt_keys_add_pem(&keys, pem0, strlen(pem0), NULL, &err), 0);
    struct sb_jwt_verify_opts opts = opts_at_now();
    char *payload = payload_with("");
    char *token = token_pk("{\"alg\":\"RS256\",\"kid\":\"2024-01\"}", payload, rsa(0));
    CHECK_EQ_STR(outcome(token, &keys, &opts), "ok");
    CHECK_EQ_INT(sb_jwt_keys_add_pem(&keys, pem1, strlen(pem1), "2024-01", &err), 0);
    CHECK_EQ_STR(outcome(token, &keys, &opts), CRYPTO_ERR); /* now only kid 2024-01 is tried */
    free(token);
    free(payload);
    free(pem0);
    free(pem1);
    sb_buf_free(&err);
    sb_jwt_keys_free(&keys);
}

/* ---- the secret file --------------------------------------------------------------- */

TEST(secret_file_created_then_read)
{
    const char *path = scratch_path("jwt-secret");
    char saved[160];
    snprintf(saved, sizeof(saved), "%s", path);
    unlink(saved);
    unsigned char secret[SB_JWT_MAX_SECRET], again[SB_JWT_MAX_SECRET];
    size_t len = sizeof(secret), len2 = sizeof(again);
    bool created = false;
    struct sb_buf err;
    sb_buf_init(&err);
    CHECK_EQ_INT(sb_jwt_secret_file(saved, secret, &len, &created, &err), 0);
    CHECK_EQ_STR(sb_buf_str(&err), "");
    CHECK(created);
    CHECK_EQ_INT(len, 64);
    struct stat st;
    CHECK(stat(saved, &st) == 0 && (st.st_mode & 07777) == 0600);
    CHECK_EQ_INT(st.st_size, 65);
    for (size_t i = 0; i < len; i++)
        CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                     secret[i]) != NULL);

    CHECK_EQ_INT(sb_jwt_secret_file(saved, again, &len2, &created, &err), 0);
    CHECK(!created);
    CHECK_EQ_INT(len2, len);
    CHECK(memcmp(secret, again, len) == 0);

    /* It works as the signing secret. */
    struct sb_jwt_keys keys;
    sb_jwt_keys_init(&keys);
    CHECK_EQ_INT(sb_jwt_keys_set_secret(&keys, secret, len, &err), 0);
    struct sb_jwt_claims claims = {0};
    claims.sub = "u";
    claims.exp = NOW + 10;
    claims.iat = NOW;
    struct sb_buf token;
    sb_buf_init(&token);
    CHECK_EQ_INT(sb_jwt_sign_hs256(&claims, secret, len, &token), 0);
    struct sb_jwt_verify_opts opts = opts_at_now();
    CHECK_EQ_STR(outcome(token.data, &keys, &opts), "ok");
    sb_buf_free(&token);
    sb_jwt_keys_free(&keys);

    /* Two files never get the same secret. */
    const char *other = scratch_path("jwt-secret-2");
    unlink(other);
    len2 = sizeof(again);
    CHECK_EQ_INT(sb_jwt_secret_file(other, again, &len2, &created, &err), 0);
    CHECK(created && len2 == 64 && memcmp(secret, again, 64) != 0);
    unlink(other);
    unlink(saved);
    sb_buf_free(&err);
}

TEST(secret_file_refusals)
{
    unsigned char secret[SB_JWT_MAX_SECRET];
    size_t len;
    bool created;
    struct sb_buf err;
    sb_buf_init(&err);
    char path[160];
    snprintf(path, sizeof(path), "%s", scratch_path("shared-secret"));

    /* Readable by group or others: refused, with the fix in the message. */
    static const mode_t modes[] = {0644, 0640, 0604, 0620, 0602, 0700 | 0010};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        write_file(path, "a-perfectly-long-secret-of-more-than-32-bytes\n", modes[i]);
        len = sizeof(secret);
        sb_buf_reset(&err);
        CHECK_EQ_INT(sb_jwt_secret_file(path, secret, &len, &created, &err), -1);
        CHECK(strstr(sb_buf_str(&err), "group or others may access it") != NULL);
        CHECK(strstr(sb_buf_str(&err), "chmod 600") != NULL);
        CHECK_EQ_INT(len, 0);
    }
    /* 0600 with trailing whitespace: the text without it is the secret. */
    write_file(path, "a-perfectly-long-secret-of-more-than-32-bytes \r\n", 0600);
    len = sizeof(secret);
    sb_buf_reset(&err);
    CHECK_EQ_INT(sb_jwt_secret_file(path, secret, &len, &created, &err), 0);
    CHECK(!created);
    CHECK_EQ_INT(len, strlen("a-perfectly-long-secret-of-more-than-32-bytes"));
    CHECK(memcmp(secret, "a-perfectly-long-secret-of-more-than-32-bytes", len) == 0);

    /* Too short; too long; a directory; a missing directory. */
    write_file(path, "short\n", 0600);
    len = sizeof(secret);
    sb_buf_reset(&err);
    CHECK_EQ_INT(sb_jwt_secret_file(path, secret, &len, &created, &err), -1);
    CHECK(strstr(sb_buf_str(&err), "must be 32 to 1024 bytes long (it is shorter)") != NULL);
    char big[2000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    write_file(path, big, 0600);
    len = sizeof(secret);
    sb_buf_reset(&err);
    CHECK_EQ_INT(sb_jwt_secret_file(path, secret, &len, &created, &err), -1);
    CHECK(strstr(sb_buf_str(&err), "(it is longer)") != NULL);
    unlink(path);

    len = sizeof(secret);
    sb_buf_reset(&err);
    CHECK_EQ_INT(sb_jwt_secret_file(scratch_dir, secret, &len, &created, &err), -1);
    CHECK(strstr(sb_buf_str(&err), "not a regular file") != NULL);
    len = sizeof(secret);
    sb_buf_reset(&err);
    CHECK_EQ_INT(sb_jwt_secret_file("/nonexistent-dir/secret", secret, &len, &created, &err), -1);
    CHECK(strstr(sb_buf_str(&err), "cannot create") != NULL);
    CHECK(!created);

    /* A caller buffer too small for a new secret creates nothing. */
    len = 10;
    sb_buf_reset(&err);
    CHECK_EQ_INT(sb_jwt_secret_file(path, secret, &len, &created, &err), -1);
    CHECK(access(path, F_OK) != 0);
    sb_buf_free(&err);
}

TEST(zz_cleanup)
{
    /* Last test: remove the scratch directory and free the test keys. */
    static const char *const names[] = {"ec.pem",        "jwks.json",  "broken.json",
                                        "shared-secret", "jwt-secret", "jwt-secret-2"};
    if (scratch_dir[0]) {
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            unlink(scratch_path(names[i]));
        CHECK(rmdir(scratch_dir) == 0);
    }
    EVP_PKEY_free(rsa_keys[0]);
    EVP_PKEY_free(rsa_keys[1]);
    EVP_PKEY_free(ec_key);
}
