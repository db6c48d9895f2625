/* Access tokens, see jwt.h: signing specbase's own HS256 tokens and
 * verifying every token a request carries.
 *
 * Verification runs in a fixed order, each step refusing with PostgREST's
 * error before the next one looks at anything:
 *   1. shape: length and three parts (PGRST301);
 *   2. header: canonical base64url of a JSON object whose alg is exactly
 *      HS256, RS256 or ES256, and no crit (PGRST301); first, so that
 *      "alg":"none" with its empty signature is named for what it is;
 *   3. payload and signature: canonical base64url (PGRST301);
 *   4. key: HS256 takes the secret and nothing else, RS256 / ES256 take the
 *      public keys of that alg, chosen by kid (PGRST301);
 *   5. signature: HMAC-SHA-256 compared in constant time, or OpenSSL's
 *      verification (jwk.c) (PGRST301);
 *   6. claims, only now that they are authentic: a JSON object, then exp,
 *      nbf, iat, aud in PostgREST's order, then the types of the claims
 *      specbase reads (PGRST303).
 * The HTTP layer (auth/ and http/) decides what a verified role may do; this
 * file only says who signed what. */
#include "auth/jwt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "auth/base64url.h"
#include "auth/jwt_int.h"

#define HS256_LEN crypto_auth_hmacsha256_BYTES
#define MAX_PART (SB_JWT_MAX_LEN / 4 * 3 + 3) /* decoded bytes of any part */
#define MAX_SHOWN 64                          /* token text echoed in details */

const char *sb_jwt_alg_name(enum sb_jwt_alg alg)
{
    switch (alg) {
    case SB_JWT_HS256: return "HS256";
    case SB_JWT_RS256: return "RS256";
    case SB_JWT_ES256: return "ES256";
    case SB_JWT_ALG_UNKNOWN: break;
    }
    return "unknown";
}

void sb_jwt_verify_opts_init(struct sb_jwt_verify_opts *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->leeway = SB_JWT_DEFAULT_LEEWAY;
}

static void hmac_sha256(const unsigned char *secret, size_t secret_len, const char *data,
                        size_t len, unsigned char mac[HS256_LEN])
{
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, secret, secret_len);
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)data, len);
    crypto_auth_hmacsha256_final(&state, mac);
    sodium_memzero(&state, sizeof(state));
}

/* ---- signing -------------------------------------------------------------- */

/* Set key to the string value (when set); false when it is not UTF-8. */
static bool put_str(json_t *obj, const char *key, const char *value)
{
    if (!value)
        return true;
    json_t *str = json_string(value);
    return str && json_object_set_new(obj, key, str) == 0;
}

int sb_jwt_sign_hs256(const struct sb_jwt_claims *claims, const unsigned char *secret,
                      size_t secret_len, struct sb_buf *out)
{
    if (secret_len < SB_JWT_MIN_SECRET || secret_len > SB_JWT_MAX_SECRET)
        return -1;
    json_t *payload = json_object();
    bool ok =
        payload && put_str(payload, "aud", claims->aud ? claims->aud : SB_JWT_DEFAULT_AUD) &&
        json_object_set_new(payload, "exp", json_integer(claims->exp)) == 0 &&
        json_object_set_new(payload, "iat", json_integer(claims->iat)) == 0 &&
        (!claims->has_nbf || json_object_set_new(payload, "nbf", json_integer(claims->nbf)) == 0) &&
        put_str(payload, "iss", claims->iss) && put_str(payload, "sub", claims->sub) &&
        put_str(payload, "email", claims->email) && put_str(payload, "role", claims->role) &&
        put_str(payload, "aal", claims->aal ? claims->aal : "aal1") &&
        put_str(payload, "session_id", claims->session_id) &&
        json_object_set_new(payload, "is_anonymous", json_boolean(claims->is_anonymous)) == 0;
    char *text = ok ? json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(payload);
    if (!text)
        return -1;

    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    struct sb_buf token;
    sb_buf_init(&token);
    sb_base64url_encode((const unsigned char *)header, sizeof(header) - 1, &token);
    sb_buf_putc(&token, '.');
    sb_base64url_encode((const unsigned char *)text, strlen(text), &token);
    free(text);
    unsigned char mac[HS256_LEN];
    hmac_sha256(secret, secret_len, token.data, token.len, mac);
    sb_buf_putc(&token, '.');
    sb_base64url_encode(mac, sizeof(mac), &token);
    sb_buf_append(out, token.data, token.len);
    sb_buf_free(&token);
    return 0;
}

/* ---- errors --------------------------------------------------------------- */

int sb_jwt_error_token_required(struct sb_api_error *err)
{
    return sb_api_error_set(err, 401, "PGRST302", "Anonymous access is disabled");
}

const char *sb_jwt_www_authenticate(const struct sb_api_error *err, struct sb_arena *arena)
{
    if (strcmp(err->code, "PGRST302") == 0)
        return "Bearer";
    if (strcmp(err->code, "PGRST301") != 0 && strcmp(err->code, "PGRST303") != 0)
        return NULL;
    /* A quoted-string (RFC 9110): escape quote and backslash, drop controls. */
    struct sb_buf value;
    sb_buf_init(&value);
    sb_buf_puts(&value, "Bearer error=\"invalid_token\", error_description=\"");
    for (const char *p = err->message ? err->message : ""; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            continue;
        if (*p == '"' || *p == '\\')
            sb_buf_putc(&value, '\\');
        sb_buf_putc(&value, *p);
    }
    sb_buf_putc(&value, '"');
    char *result = sb_arena_strndup(arena, value.data, value.len);
    sb_buf_free(&value);
    return result;
}

/* Text from the token, for details: only short printable ASCII is echoed. */
static const char *shown(const char *text)
{
    size_t len = strlen(text);
    if (len > MAX_SHOWN)
        return "(too long to show)";
    for (size_t i = 0; i < len; i++)
        if (text[i] < 0x20 || text[i] > 0x7e)
            return "(not shown)";
    return text;
}

struct verify {
    const char *token;
    size_t len;
    const struct sb_jwt_keys *keys;
    struct sb_arena *arena;
    struct sb_jwt_claims *out;
    struct sb_api_error *err;
    int64_t now;
    int64_t leeway;
    const char *audience;
    bool allow_no_exp;
};

__attribute__((format(printf, 4, 5))) static int
fail(struct verify *v, const char *code, const char *message, const char *details_fmt, ...)
{
    int status = strcmp(code, "PGRST300") == 0 ? 500 : 401;
    bool first = !sb_api_error_is_set(v->err);
    sb_api_error_set(v->err, status, code, "%s", message);
    if (first && details_fmt) {
        char details[512];
        va_list ap;
        va_start(ap, details_fmt);
        vsnprintf(details, sizeof(details), details_fmt, ap);
        va_end(ap);
        sb_api_error_details(v->err, "%s", details);
    }
    memset(v->out, 0, sizeof(*v->out));
    v->out->www_authenticate = sb_jwt_www_authenticate(v->err, v->arena);
    return -1;
}

#define DECODE_ERROR "JWT couldn't be decoded"
#define ALG_ERROR "Wrong or unsupported encoding algorithm"
#define KEY_ERROR "No suitable key or wrong key type"
#define CRYPTO_ERROR "JWT cryptographic operation failed"
#define CLAIMS_ERROR "Parsing claims failed"

/* ---- header and key ------------------------------------------------------- */

static int read_header(struct verify *v, const unsigned char *text, size_t len,
                       enum sb_jwt_alg *alg)
{
    /* jansson lets a raw NUL byte pass between tokens; JSON never holds one. */
    json_t *header = memchr(text, '\0', len)
                         ? NULL
                         : json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(header)) {
        json_decref(header);
        return fail(v, "PGRST301", DECODE_ERROR,
                    "the header is not a JSON object "
                    "(without duplicate keys)");
    }
    json_t *alg_value = json_object_get(header, "alg");
    json_t *kid_value = json_object_get(header, "kid");
    int rc = 0;
    const char *name = json_string_value(alg_value);
    if (!name) {
        rc = fail(v, "PGRST301", ALG_ERROR, "the header has no alg string");
    } else if (strcasecmp(name, "none") == 0) {
        rc = fail(v, "PGRST301", ALG_ERROR, "alg \"%s\" (an unsigned token) is never accepted",
                  shown(name));
    } else if (strcmp(name, "HS256") == 0) {
        *alg = SB_JWT_HS256;
    } else if (strcmp(name, "RS256") == 0) {
        *alg = SB_JWT_RS256;
    } else if (strcmp(name, "ES256") == 0) {
        *alg = SB_JWT_ES256;
    } else {
        rc = fail(v, "PGRST301", ALG_ERROR,
                  "alg \"%s\" is not supported (HS256, RS256 and "
                  "ES256 are)",
                  shown(name));
    }
    if (rc == 0 && json_object_get(header, "crit"))
        rc = fail(v, "PGRST301", "Unsupported token type",
                  "the header's crit extensions are not supported");
    if (rc == 0 && kid_value && !json_is_null(kid_value)) {
        if (!json_is_string(kid_value))
            rc = fail(v, "PGRST301", DECODE_ERROR, "the header's kid is not a string");
        else
            v->out->kid = sb_arena_strndup(v->arena, json_string_value(kid_value),
                                           json_string_length(kid_value));
    }
    json_decref(header);
    return rc;
}

/* Whether key may check a token of alg naming kid: a token's kid selects the
 * keys with that kid, or, when none has it, the keys without a kid (a PEM
 * key configured without one). */
static bool key_fits(const struct sb_jwt_keys *keys, const struct sb_jwt_pubkey *key,
                     enum sb_jwt_alg alg, const char *kid)
{
    if (key->alg != alg)
        return false;
    if (!kid || (key->kid && strcmp(key->kid, kid) == 0))
        return true;
    if (key->kid)
        return false;
    for (size_t i = 0; i < keys->n_pub; i++)
        if (keys->pub[i].kid && strcmp(keys->pub[i].kid, kid) == 0)
            return false;
    return true;
}

static int no_public_key(struct verify *v, enum sb_jwt_alg alg)
{
    const char *kid = v->out->kid;
    for (size_t i = 0; kid && i < v->keys->n_pub; i++)
        if (v->keys->pub[i].kid && strcmp(v->keys->pub[i].kid, kid) == 0)
            return fail(v, "PGRST301", KEY_ERROR, "the key \"%s\" is an %s key, the token is %s",
                        shown(kid), sb_jwt_alg_name(v->keys->pub[i].alg), sb_jwt_alg_name(alg));
    for (size_t i = 0; kid && i < v->keys->n_pub; i++)
        if (v->keys->pub[i].alg == alg)
            return fail(v, "PGRST301", KEY_ERROR, "no %s key has the kid \"%s\"",
                        sb_jwt_alg_name(alg), shown(kid));
    return fail(v, "PGRST301", KEY_ERROR, "no %s public key is configured", sb_jwt_alg_name(alg));
}

static int check_signature(struct verify *v, enum sb_jwt_alg alg, size_t signed_len,
                           const unsigned char *sig, size_t sig_len)
{
    if (alg == SB_JWT_HS256) {
        /* Never a public key as an HMAC secret: HS256 uses the secret or nothing. */
        if (!v->keys->secret)
            return fail(v, "PGRST301", KEY_ERROR,
                        "HS256 tokens are not accepted: no JWT secret "
                        "is configured");
        unsigned char mac[HS256_LEN];
        hmac_sha256(v->keys->secret, v->keys->secret_len, v->token, signed_len, mac);
        bool ok = sig_len == sizeof(mac) && sodium_memcmp(mac, sig, sizeof(mac)) == 0;
        sodium_memzero(mac, sizeof(mac));
        return ok ? 0 : fail(v, "PGRST301", CRYPTO_ERROR, "the signature does not match");
    }
    bool any_key = false;
    for (size_t i = 0; i < v->keys->n_pub; i++) {
        const struct sb_jwt_pubkey *key = &v->keys->pub[i];
        if (!key_fits(v->keys, key, alg, v->out->kid))
            continue;
        any_key = true;
        if (sb_jwt_pubkey_verify(key, (const unsigned char *)v->token, signed_len, sig, sig_len))
            return 0;
    }
    if (!any_key)
        return no_public_key(v, alg);
    return fail(v, "PGRST301", CRYPTO_ERROR, "the signature does not match");
}

/* ---- claims --------------------------------------------------------------- */

/* A NumericDate claim: 1 read into *value, 0 absent (or null), -1 refused. */
static int time_claim(struct verify *v, json_t *claims, const char *name, int64_t *value)
{
    json_t *claim = json_object_get(claims, name);
    if (!claim || json_is_null(claim))
        return 0;
    char message[64];
    if (!json_is_number(claim)) {
        snprintf(message, sizeof(message), "The JWT '%s' claim must be a number", name);
        return fail(v, "PGRST303", message, NULL);
    }
    if (!json_is_integer(claim)) {
        snprintf(message, sizeof(message), "The JWT '%s' claim must be an integer", name);
        return fail(v, "PGRST303", message, "seconds since the epoch, without a fraction");
    }
    *value = (int64_t)json_integer_value(claim);
    return 1;
}

/* A string claim into *value (arena copy); absent and null leave NULL. */
static int string_claim(struct verify *v, json_t *claims, const char *name, const char **value)
{
    json_t *claim = json_object_get(claims, name);
    if (!claim || json_is_null(claim))
        return 0;
    if (!json_is_string(claim)) {
        char message[64];
        snprintf(message, sizeof(message), "The JWT '%s' claim must be a string", name);
        return fail(v, "PGRST303", message, NULL);
    }
    *value = sb_arena_strndup(v->arena, json_string_value(claim), json_string_length(claim));
    return 0;
}

static int check_audience(struct verify *v, json_t *claims)
{
    static const char type_error[] = "The JWT 'aud' claim must be a string or an array of strings";
    json_t *aud = json_object_get(claims, "aud");
    const char *first = NULL, *matched = NULL;
    if (aud && json_is_string(aud)) {
        first = json_string_value(aud);
        if (v->audience && strcmp(first, v->audience) == 0)
            matched = first;
    } else if (aud && json_is_array(aud)) {
        for (size_t i = 0; i < json_array_size(aud); i++) {
            const char *one = json_string_value(json_array_get(aud, i));
            if (!one)
                return fail(v, "PGRST303", type_error, NULL);
            if (!first)
                first = one;
            if (!matched && v->audience && strcmp(one, v->audience) == 0)
                matched = one;
        }
    } else if (aud && !json_is_null(aud)) {
        return fail(v, "PGRST303", type_error, NULL);
    }
    if (v->audience && !matched)
        return fail(v, "PGRST303", "JWT not in audience", "the token is not meant for \"%s\"",
                    shown(v->audience));
    const char *kept = matched ? matched : first;
    if (kept)
        v->out->aud = sb_arena_strdup(v->arena, kept);
    return 0;
}

static int read_claims(struct verify *v, const unsigned char *text, size_t len)
{
    /* A raw NUL would also cut payload_json short for its readers. */
    json_t *claims = memchr(text, '\0', len)
                         ? NULL
                         : json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(claims)) {
        json_decref(claims);
        return fail(v, "PGRST303", CLAIMS_ERROR,
                    "the payload is not a JSON object (without "
                    "duplicate keys)");
    }
    struct sb_jwt_claims *out = v->out;
    /* PostgREST's order: exp, nbf, iat, aud; then the claims specbase reads. */
    int rc = 0;
    int got = time_claim(v, claims, "exp", &out->exp);
    if (got < 0)
        rc = -1;
    else if (got == 0 && !v->allow_no_exp)
        rc = fail(v, "PGRST303", "The JWT 'exp' claim is required",
                  "specbase accepts only tokens that expire");
    else if (got == 1 && out->exp <= v->now - v->leeway)
        rc = fail(v, "PGRST303", "JWT expired", NULL);
    if (rc == 0) {
        got = time_claim(v, claims, "nbf", &out->nbf);
        out->has_nbf = got == 1;
        if (got < 0)
            rc = -1;
        else if (out->has_nbf && out->nbf > v->now + v->leeway)
            rc = fail(v, "PGRST303", "JWT not yet valid", NULL);
    }
    if (rc == 0) {
        got = time_claim(v, claims, "iat", &out->iat);
        out->has_iat = got == 1;
        if (got < 0)
            rc = -1;
        else if (out->has_iat && out->iat > v->now + v->leeway)
            rc = fail(v, "PGRST303", "JWT issued at future", NULL);
    }
    if (rc == 0)
        rc = check_audience(v, claims);
    if (rc == 0)
        rc = string_claim(v, claims, "role", &out->role);
    if (rc == 0)
        rc = string_claim(v, claims, "sub", &out->sub);
    if (rc == 0)
        rc = string_claim(v, claims, "email", &out->email);
    if (rc == 0)
        rc = string_claim(v, claims, "session_id", &out->session_id);
    if (rc == 0)
        rc = string_claim(v, claims, "iss", &out->iss);
    if (rc == 0)
        rc = string_claim(v, claims, "aal", &out->aal);
    json_t *anonymous = json_object_get(claims, "is_anonymous");
    if (rc == 0 && anonymous && !json_is_null(anonymous)) {
        if (!json_is_boolean(anonymous))
            rc = fail(v, "PGRST303", "The JWT 'is_anonymous' claim must be a boolean", NULL);
        else
            out->is_anonymous = json_is_true(anonymous);
    }
    json_decref(claims);
    return rc;
}

/* ---- verify --------------------------------------------------------------- */

static int64_t clamp_now(int64_t now)
{
    /* Far from the int64 limits, so now +/- leeway cannot overflow. */
    const int64_t bound = INT64_MAX / 2;
    return now > bound ? bound : now < -bound ? -bound : now;
}

/* Decode one part; name is for the message. */
static int decode_part(struct verify *v, const char *name, const char *text, size_t len,
                       unsigned char *out, size_t *out_len)
{
    if (len == 0)
        return fail(v, "PGRST301", DECODE_ERROR, "the %s is empty", name);
    if (sb_base64url_decode(text, len, out, MAX_PART, out_len) != 0)
        return fail(v, "PGRST301", DECODE_ERROR, "the %s is not canonical unpadded base64url",
                    name);
    return 0;
}

int sb_jwt_verify(const char *token, size_t len, const struct sb_jwt_keys *keys,
                  const struct sb_jwt_verify_opts *opts, struct sb_arena *arena,
                  struct sb_jwt_claims *out, struct sb_api_error *err)
{
    struct sb_jwt_verify_opts defaults;
    if (!opts) {
        sb_jwt_verify_opts_init(&defaults);
        opts = &defaults;
    }
    memset(out, 0, sizeof(*out));
    struct verify v = {token, len, keys, arena, out, err, 0, 0, opts->audience, opts->allow_no_exp};
    v.now = clamp_now(opts->now ? opts->now : (int64_t)time(NULL));
    v.leeway = opts->leeway < 0                   ? 0
               : opts->leeway > SB_JWT_MAX_LEEWAY ? SB_JWT_MAX_LEEWAY
                                                  : opts->leeway;
    if (!keys->secret && keys->n_pub == 0)
        return fail(&v, "PGRST300", "Server lacks JWT secret", NULL);
    if (len == 0)
        return fail(&v, "PGRST301", "Empty JWT is sent in Authorization header", NULL);
    if (len > SB_JWT_MAX_LEN)
        return fail(&v, "PGRST301", DECODE_ERROR, "the token is longer than %d bytes",
                    SB_JWT_MAX_LEN);

    /* 1. shape */
    size_t dots[2], n_parts = 1;
    for (size_t i = 0; i < len; i++)
        if (token[i] == '.') {
            if (n_parts <= 2)
                dots[n_parts - 1] = i;
            n_parts++;
        }
    if (n_parts != 3) {
        char message[64];
        snprintf(message, sizeof(message), "Expected 3 parts in JWT; got %zu", n_parts);
        return fail(&v, "PGRST301", message, NULL);
    }
    unsigned char header[MAX_PART], payload[MAX_PART], sig[MAX_PART];
    size_t header_len, payload_len, sig_len = 0;
    const char *sig_text = token + dots[1] + 1;
    size_t sig_text_len = len - dots[1] - 1;
    enum sb_jwt_alg alg = SB_JWT_ALG_UNKNOWN;
    /* 2-3. The header first, so that "alg":"none" with its empty signature is
     * named for what it is; an empty signature is left to the check. */
    if (decode_part(&v, "header", token, dots[0], header, &header_len) != 0 ||
        read_header(&v, header, header_len, &alg) != 0 ||
        decode_part(&v, "payload", token + dots[0] + 1, dots[1] - dots[0] - 1, payload,
                    &payload_len) != 0 ||
        (sig_text_len && decode_part(&v, "signature", sig_text, sig_text_len, sig, &sig_len) != 0))
        return -1;

    /* 4-5. key, signature over "header.payload" as sent */
    if (check_signature(&v, alg, dots[1], sig, sig_len) != 0)
        return -1;

    /* 6. claims */
    if (read_claims(&v, payload, payload_len) != 0)
        return -1;
    out->alg = alg;
    out->payload_json = sb_arena_strndup(arena, (const char *)payload, payload_len);
    out->payload_len = payload_len;
    return 0;
}
