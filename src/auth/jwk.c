/* The keys access tokens are verified with (struct sb_jwt_keys, jwt.h): the
 * HS256 secret, and the RS256 / ES256 public keys read from a PEM text or a
 * JWK Set, held as OpenSSL EVP_PKEYs. Also the signature check for those
 * public keys, which jwt.c calls once it has chosen a key. OpenSSL is used
 * for public-key verification only; HMAC and randomness come from
 * libsodium (jwt.c, jwt_secret.c).
 *
 * Every key is checked when it is loaded (RSA 2048..8192 bits, EC on the
 * P-256 curve, EVP_PKEY_public_check), so verification never meets a key it
 * cannot use. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "auth/base64url.h"
#include "auth/jwt_int.h"
#include "util/die.h"

#define MIN_RSA_BITS 2048
#define MAX_RSA_BITS 8192
#define P256_COORD 32

void sb_jwt_keys_init(struct sb_jwt_keys *keys)
{
    memset(keys, 0, sizeof(*keys));
    if (sodium_init() < 0)
        sb_die("libsodium could not be initialised");
}

static void pubkey_free(struct sb_jwt_pubkey *key)
{
    free(key->kid);
    EVP_PKEY_free(key->pkey);
    memset(key, 0, sizeof(*key));
}

void sb_jwt_keys_free(struct sb_jwt_keys *keys)
{
    if (keys->secret) {
        sodium_memzero(keys->secret, keys->secret_len);
        free(keys->secret);
    }
    for (size_t i = 0; i < keys->n_pub; i++)
        pubkey_free(&keys->pub[i]);
    free(keys->pub);
    memset(keys, 0, sizeof(*keys));
}

int sb_jwt_keys_set_secret(struct sb_jwt_keys *keys, const unsigned char *secret, size_t len,
                           struct sb_buf *err)
{
    if (len < SB_JWT_MIN_SECRET || len > SB_JWT_MAX_SECRET) {
        sb_buf_printf(err, "the JWT secret must be %d to %d bytes long, not %zu", SB_JWT_MIN_SECRET,
                      SB_JWT_MAX_SECRET, len);
        return -1;
    }
    if (keys->secret) {
        sodium_memzero(keys->secret, keys->secret_len);
        free(keys->secret);
    }
    keys->secret = sb_xmalloc(len);
    memcpy(keys->secret, secret, len);
    keys->secret_len = len;
    return 0;
}

static char *copy_str(const char *text)
{
    if (!text)
        return NULL;
    size_t len = strlen(text);
    char *copy = sb_xmalloc(len + 1);
    memcpy(copy, text, len + 1);
    return copy;
}

/* ---- checking a key ------------------------------------------------------ */

/* The alg a loaded key serves, or SB_JWT_ALG_UNKNOWN with a reason in err. */
static enum sb_jwt_alg classify(EVP_PKEY *pkey, struct sb_buf *err)
{
    if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
        int bits = EVP_PKEY_get_bits(pkey);
        if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
            sb_buf_printf(err, "an RSA key of %d bits (RS256 needs %d to %d)", bits, MIN_RSA_BITS,
                          MAX_RSA_BITS);
            return SB_JWT_ALG_UNKNOWN;
        }
        return SB_JWT_RS256;
    }
    if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
        char group[64] = "";
        size_t group_len = 0;
        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                           &group_len) != 1 ||
            (strcasecmp(group, "prime256v1") != 0 && strcasecmp(group, "P-256") != 0)) {
            sb_buf_printf(err, "an EC key on the curve '%s' (ES256 needs P-256)",
                          group[0] ? group : "?");
            return SB_JWT_ALG_UNKNOWN;
        }
        return SB_JWT_ES256;
    }
    sb_buf_printf(err, "a key of type %s (only RSA for RS256 and EC P-256 for ES256 are supported)",
                  OBJ_nid2sn(EVP_PKEY_get_base_id(pkey)));
    return SB_JWT_ALG_UNKNOWN;
}

static bool public_check(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!ctx)
        sb_die("out of memory (OpenSSL)");
    bool ok = EVP_PKEY_public_check(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static bool kid_taken(const struct sb_jwt_keys *keys, const struct sb_jwt_pubkey *extra,
                      size_t n_extra, const char *kid)
{
    if (!kid)
        return false;
    for (size_t i = 0; i < keys->n_pub; i++)
        if (keys->pub[i].kid && strcmp(keys->pub[i].kid, kid) == 0)
            return true;
    for (size_t i = 0; i < n_extra; i++)
        if (extra[i].kid && strcmp(extra[i].kid, kid) == 0)
            return true;
    return false;
}

/* Move n new keys into keys (all or, past SB_JWT_MAX_KEYS, none). */
static int append_keys(struct sb_jwt_keys *keys, struct sb_jwt_pubkey *add, size_t n,
                       struct sb_buf *err)
{
    if (n > SB_JWT_MAX_KEYS - keys->n_pub) {
        sb_buf_printf(err, "more than %d public keys", SB_JWT_MAX_KEYS);
        return -1;
    }
    if (keys->n_pub + n > keys->cap_pub) {
        keys->cap_pub = keys->n_pub + n < 4 ? 4 : (keys->n_pub + n) * 2;
        keys->pub = sb_xrealloc(keys->pub, keys->cap_pub * sizeof(*keys->pub));
    }
    memcpy(keys->pub + keys->n_pub, add, n * sizeof(*add));
    keys->n_pub += n;
    return 0;
}

/* Put "path: " before the message appended to err since mark. */
static void name_file(struct sb_buf *err, size_t mark, const char *path)
{
    if (err->len <= mark)
        return;
    struct sb_buf msg;
    sb_buf_init(&msg);
    sb_buf_printf(&msg, "%s: %s", path, err->data + mark);
    err->len = mark;
    err->data[mark] = '\0';
    sb_buf_append(err, msg.data, msg.len);
    sb_buf_free(&msg);
}

/* ---- PEM ------------------------------------------------------------------ */

int sb_jwt_keys_add_pem(struct sb_jwt_keys *keys, const char *pem, size_t len, const char *kid,
                        struct sb_buf *err)
{
    if (len > SB_JWT_MAX_KEY_FILE) {
        sb_buf_printf(err, "the PEM text is longer than %u bytes", SB_JWT_MAX_KEY_FILE);
        return -1;
    }
    if (kid && (!kid[0] || strlen(kid) > SB_JWT_MAX_KID)) {
        sb_buf_printf(err, "a kid must be 1 to %d bytes long", SB_JWT_MAX_KID);
        return -1;
    }
    if (kid_taken(keys, NULL, 0, kid)) {
        sb_buf_printf(err, "the kid '%s' is already used by another key", kid);
        return -1;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio)
        sb_die("out of memory (OpenSSL)");
    EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (!pkey) {
        sb_buf_puts(err, "no PEM 'PUBLIC KEY' block could be read (a private key or a "
                         "certificate is not accepted: export the public key, e.g. "
                         "'openssl pkey -pubout')");
        return -1;
    }
    struct sb_buf why;
    sb_buf_init(&why);
    struct sb_jwt_pubkey key = {NULL, classify(pkey, &why), pkey};
    if (key.alg == SB_JWT_ALG_UNKNOWN || !public_check(pkey)) {
        sb_buf_printf(err, "the PEM public key is not usable: %s",
                      why.len ? sb_buf_str(&why) : "it fails OpenSSL's public key check");
        sb_buf_free(&why);
        EVP_PKEY_free(pkey);
        ERR_clear_error();
        return -1;
    }
    sb_buf_free(&why);
    key.kid = copy_str(kid);
    if (append_keys(keys, &key, 1, err) != 0) {
        pubkey_free(&key);
        return -1;
    }
    return 0;
}

int sb_jwt_keys_load_pem(struct sb_jwt_keys *keys, const char *path, const char *kid,
                         struct sb_buf *err)
{
    struct sb_buf text;
    sb_buf_init(&text);
    int rc = sb_jwt_read_file(path, SB_JWT_MAX_KEY_FILE, &text, err);
    if (rc == 0) {
        size_t mark = err->len;
        rc = sb_jwt_keys_add_pem(keys, sb_buf_str(&text), text.len, kid, err);
        if (rc != 0)
            name_file(err, mark, path);
    }
    sb_buf_free(&text);
    return rc;
}

/* ---- JWKS ----------------------------------------------------------------- */

/* A base64url member of a JWK decoded into out (at most cap bytes). */
static int jwk_bytes(json_t *jwk, const char *name, unsigned char *out, size_t cap, size_t *len,
                     struct sb_buf *why)
{
    json_t *value = json_object_get(jwk, name);
    if (!json_is_string(value)) {
        sb_buf_printf(why, "'%s' is missing or not a string", name);
        return -1;
    }
    if (sb_base64url_decode(json_string_value(value), json_string_length(value), out, cap, len) !=
            0 ||
        *len == 0) {
        sb_buf_printf(why, "'%s' is not unpadded base64url of at most %zu bytes", name, cap);
        return -1;
    }
    return 0;
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (!params || !ctx)
        sb_die("out of memory (OpenSSL)");
    EVP_PKEY *pkey = NULL;
    if (EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *rsa_from_jwk(json_t *jwk, struct sb_buf *why)
{
    unsigned char n_bytes[MAX_RSA_BITS / 8 + 1], e_bytes[16];
    size_t n_len, e_len;
    if (jwk_bytes(jwk, "n", n_bytes, sizeof(n_bytes), &n_len, why) != 0 ||
        jwk_bytes(jwk, "e", e_bytes, sizeof(e_bytes), &e_len, why) != 0)
        return NULL;
    BIGNUM *n = BN_bin2bn(n_bytes, (int)n_len, NULL);
    BIGNUM *e = BN_bin2bn(e_bytes, (int)e_len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (!n || !e || !bld || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
        sb_die("out of memory (OpenSSL)");
    EVP_PKEY *pkey = from_params("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    if (!pkey)
        sb_buf_puts(why, "OpenSSL does not accept 'n' and 'e' as an RSA public key");
    return pkey;
}

static EVP_PKEY *ec_from_jwk(json_t *jwk, struct sb_buf *why)
{
    unsigned char point[1 + 2 * P256_COORD];
    size_t x_len, y_len;
    point[0] = 0x04; /* uncompressed: 04 || x || y */
    if (jwk_bytes(jwk, "x", point + 1, P256_COORD, &x_len, why) != 0 ||
        jwk_bytes(jwk, "y", point + 1 + P256_COORD, P256_COORD, &y_len, why) != 0)
        return NULL;
    if (x_len != P256_COORD || y_len != P256_COORD) {
        sb_buf_printf(why, "'x' and 'y' must be %d bytes each for P-256", P256_COORD);
        return NULL;
    }
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) != 1)
        sb_die("out of memory (OpenSSL)");
    EVP_PKEY *pkey = from_params("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    if (!pkey)
        sb_buf_puts(why, "'x' and 'y' are not a point on the P-256 curve");
    return pkey;
}

static const char *member_str(json_t *jwk, const char *name, bool *bad)
{
    json_t *value = json_object_get(jwk, name);
    if (!value)
        return NULL;
    if (!json_is_string(value)) {
        *bad = true;
        return NULL;
    }
    return json_string_value(value);
}

/* One JWK: 1 added to *key, 0 skipped (not a signing key we support), -1
 * malformed (reason in why). */
static int load_jwk(json_t *jwk, struct sb_jwt_pubkey *key, struct sb_buf *why)
{
    if (!json_is_object(jwk)) {
        sb_buf_puts(why, "it is not a JSON object");
        return -1;
    }
    bool bad = false;
    const char *kty = member_str(jwk, "kty", &bad);
    const char *use = member_str(jwk, "use", &bad);
    const char *alg = member_str(jwk, "alg", &bad);
    const char *crv = member_str(jwk, "crv", &bad);
    const char *kid = member_str(jwk, "kid", &bad);
    if (bad || !kty) {
        sb_buf_puts(why, "'kty' is missing, or one of kty, use, alg, crv, kid is not a string");
        return -1;
    }
    if (kid && (!kid[0] || strlen(kid) > SB_JWT_MAX_KID)) {
        sb_buf_printf(why, "its kid must be 1 to %d bytes long", SB_JWT_MAX_KID);
        return -1;
    }
    if (use && strcmp(use, "sig") != 0)
        return 0;
    enum sb_jwt_alg want;
    if (strcmp(kty, "RSA") == 0 && (!alg || strcmp(alg, "RS256") == 0)) {
        want = SB_JWT_RS256;
    } else if (strcmp(kty, "EC") == 0 && (!alg || strcmp(alg, "ES256") == 0)) {
        if (!crv || strcmp(crv, "P-256") != 0) {
            if (alg) { /* ES256 claimed on another curve: a broken set, not a skip */
                sb_buf_printf(why, "alg ES256 needs crv P-256, not '%s'", crv ? crv : "(none)");
                return -1;
            }
            return 0;
        }
        want = SB_JWT_ES256;
    } else {
        return 0; /* oct (symmetric), OKP, RS384, PS256, ...: not used here */
    }
    if (json_object_get(jwk, "d") || json_object_get(jwk, "p") || json_object_get(jwk, "k")) {
        sb_buf_puts(why, "it holds private key material ('d'); give only the public keys");
        return -1;
    }
    EVP_PKEY *pkey = want == SB_JWT_RS256 ? rsa_from_jwk(jwk, why) : ec_from_jwk(jwk, why);
    ERR_clear_error();
    if (!pkey)
        return -1;
    if (classify(pkey, why) != want || !public_check(pkey)) {
        if (why->len == 0)
            sb_buf_puts(why, "it fails OpenSSL's public key check");
        EVP_PKEY_free(pkey);
        ERR_clear_error();
        return -1;
    }
    key->kid = copy_str(kid);
    key->alg = want;
    key->pkey = pkey;
    return 1;
}

int sb_jwt_keys_add_jwks(struct sb_jwt_keys *keys, const char *json, size_t len, struct sb_buf *err)
{
    if (len > SB_JWT_MAX_KEY_FILE) {
        sb_buf_printf(err, "the JWK Set is longer than %u bytes", SB_JWT_MAX_KEY_FILE);
        return -1;
    }
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        sb_buf_printf(err, "the JWK Set is not valid JSON: %s (line %d, column %d)", jerr.text,
                      jerr.line, jerr.column);
        return -1;
    }
    json_t *list = json_object_get(root, "keys");
    if (!json_is_array(list)) {
        sb_buf_puts(err, "the JWK Set has no \"keys\" array");
        json_decref(root);
        return -1;
    }
    size_t n_list = json_array_size(list);
    struct sb_jwt_pubkey *added = sb_xcalloc(n_list ? n_list : 1, sizeof(*added));
    size_t n_added = 0;
    int rc = 0;
    struct sb_buf why;
    sb_buf_init(&why);
    for (size_t i = 0; i < n_list && rc == 0; i++) {
        int got = load_jwk(json_array_get(list, i), &added[n_added], &why);
        if (got < 0) {
            sb_buf_printf(err, "key %zu of the JWK Set: %s", i, sb_buf_str(&why));
            rc = -1;
        } else if (got > 0) {
            struct sb_jwt_pubkey *key = &added[n_added++];
            if (kid_taken(keys, added, n_added - 1, key->kid)) {
                sb_buf_printf(err, "key %zu of the JWK Set: the kid '%s' is used twice", i,
                              key->kid);
                rc = -1;
            }
        }
    }
    if (rc == 0 && n_added == 0) {
        sb_buf_puts(err, "the JWK Set has no RS256 (RSA) or ES256 (EC P-256) signing key");
        rc = -1;
    }
    if (rc == 0)
        rc = append_keys(keys, added, n_added, err);
    if (rc != 0)
        for (size_t i = 0; i < n_added; i++)
            pubkey_free(&added[i]);
    free(added);
    sb_buf_free(&why);
    json_decref(root);
    return rc;
}

int sb_jwt_keys_load_jwks(struct sb_jwt_keys *keys, const char *path, struct sb_buf *err)
{
    struct sb_buf text;
    sb_buf_init(&text);
    int rc = sb_jwt_read_file(path, SB_JWT_MAX_KEY_FILE, &text, err);
    if (rc == 0) {
        size_t mark = err->len;
        rc = sb_jwt_keys_add_jwks(keys, sb_buf_str(&text), text.len, err);
        if (rc != 0)
            name_file(err, mark, path);
    }
    sb_buf_free(&text);
    return rc;
}

/* ---- verifying ------------------------------------------------------------ */

static bool digest_verify(EVP_PKEY *pkey, bool rsa, const unsigned char *data, size_t data_len,
                          const unsigned char *sig, size_t sig_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md)
        sb_die("out of memory (OpenSSL)");
    EVP_PKEY_CTX *pctx = NULL;
    bool ok = EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pkey) == 1 &&
              (!rsa || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1) &&
              EVP_DigestVerify(md, sig, sig_len, data, data_len) == 1;
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

bool sb_jwt_pubkey_verify(const struct sb_jwt_pubkey *key, const unsigned char *data,
                          size_t data_len, const unsigned char *sig, size_t sig_len)
{
    if (key->alg == SB_JWT_RS256) {
        if (sig_len != (size_t)EVP_PKEY_get_size(key->pkey))
            return false;
        return digest_verify(key->pkey, true, data, data_len, sig, sig_len);
    }
    if (key->alg != SB_JWT_ES256 || sig_len != 2 * P256_COORD)
        return false;
    /* JWS carries r || s; OpenSSL verifies the DER form of ECDSA-Sig-Value. */
    ECDSA_SIG *ecsig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, P256_COORD, NULL);
    BIGNUM *s = BN_bin2bn(sig + P256_COORD, P256_COORD, NULL);
    if (!ecsig || !r || !s || ECDSA_SIG_set0(ecsig, r, s) != 1)
        sb_die("out of memory (OpenSSL)");
    unsigned char der[16 + 2 * (P256_COORD + 1)];
    unsigned char *p = der;
    int der_len = i2d_ECDSA_SIG(ecsig, NULL);
    bool ok = der_len > 0 && (size_t)der_len <= sizeof(der) &&
              i2d_ECDSA_SIG(ecsig, &p) == der_len &&
              digest_verify(key->pkey, false, data, data_len, der, (size_t)der_len);
    ECDSA_SIG_free(ecsig);
    ERR_clear_error();
    return ok;
}

/* ---- files ---------------------------------------------------------------- */

int sb_jwt_read_file(const char *path, size_t max, struct sb_buf *content, struct sb_buf *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        sb_buf_printf(err, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        sb_buf_printf(err, "%s: not a regular file", path);
        close(fd);
        return -1;
    }
    char chunk[4096];
    size_t total = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            sb_buf_printf(err, "%s: cannot read: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        total += (size_t)n;
        if (total > max) {
            sb_buf_printf(err, "%s: longer than %zu bytes", path, max);
            close(fd);
            return -1;
        }
        sb_buf_append(content, chunk, (size_t)n);
    }
    close(fd);
    return 0;
}
