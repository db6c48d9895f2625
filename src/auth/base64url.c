/* base64url without padding, see base64url.h. A table-driven codec written
 * here rather than libsodium's: libsodium 1.0.18 (Debian 12) accepts some
 * bytes outside the alphabet when decoding, and a token parser must not.
 * Nothing decoded here is secret (tokens, public keys), so the decoder need
 * not run in constant time. */
#include "auth/base64url.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The value of each byte as a base64url digit, or 64 when it is none. */
static unsigned char digit(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return (unsigned char)(ch - 'A');
    if (ch >= 'a' && ch <= 'z')
        return (unsigned char)(ch - 'a' + 26);
    if (ch >= '0' && ch <= '9')
        return (unsigned char)(ch - '0' + 52);
    if (ch == '-')
        return 62;
    if (ch == '_')
        return 63;
    return 64;
}

size_t sb_base64url_encoded_len(size_t n)
{
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t sb_base64url_decoded_max(size_t text_len)
{
    return text_len / 4 * 3 + (text_len % 4 ? text_len % 4 - 1 : 0);
}

void sb_base64url_encode(const unsigned char *data, size_t len, struct sb_buf *out)
{
    size_t start = out->len, n_chars = sb_base64url_encoded_len(len);
    sb_buf_fill(out, '\0', n_chars);
    if (out->too_big || out->len != start + n_chars)
        return;
    char *dst = out->data + start;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        unsigned long group =
            (unsigned long)data[i] << 16 | (unsigned long)data[i + 1] << 8 | data[i + 2];
        *dst++ = alphabet[group >> 18 & 63];
        *dst++ = alphabet[group >> 12 & 63];
        *dst++ = alphabet[group >> 6 & 63];
        *dst++ = alphabet[group & 63];
    }
    if (len - i == 1) {
        *dst++ = alphabet[data[i] >> 2];
        *dst++ = alphabet[(data[i] & 3) << 4];
    } else if (len - i == 2) {
        unsigned long group = (unsigned long)data[i] << 8 | data[i + 1];
        *dst++ = alphabet[group >> 10 & 63];
        *dst++ = alphabet[group >> 4 & 63];
        *dst++ = alphabet[(group & 15) << 2];
    }
}

int sb_base64url_decode(const char *text, size_t text_len, unsigned char *out, size_t out_cap,
                        size_t *out_len)
{
    *out_len = 0;
    size_t rest = text_len % 4;
    if (rest == 1 || sb_base64url_decoded_max(text_len) > out_cap)
        return -1; /* no byte string encodes to 4k+1 characters */
    const unsigned char *src = (const unsigned char *)text;
    size_t n = 0, i = 0;
    for (; i + 4 <= text_len; i += 4) {
        unsigned a = digit(src[i]), b = digit(src[i + 1]), c = digit(src[i + 2]),
                 d = digit(src[i + 3]);
        if ((a | b | c | d) & 64)
            return -1;
        unsigned long group = (unsigned long)a << 18 | (unsigned long)b << 12 | c << 6 | d;
        out[n++] = (unsigned char)(group >> 16);
        out[n++] = (unsigned char)(group >> 8);
        out[n++] = (unsigned char)group;
    }
    if (rest) {
        unsigned a = digit(src[i]), b = digit(src[i + 1]), c = rest == 3 ? digit(src[i + 2]) : 0;
        if ((a | b | c) & 64)
            return -1;
        /* The bits past the last whole byte must be zero (canonical form). */
        if (rest == 2 ? (b & 15) != 0 : (c & 3) != 0)
            return -1;
        out[n++] = (unsigned char)(a << 2 | b >> 4);
        if (rest == 3)
            out[n++] = (unsigned char)((b & 15) << 4 | c >> 2);
    }
    *out_len = n;
    return 0;
}
