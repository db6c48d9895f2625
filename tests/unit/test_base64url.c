/* Unit tests of src/auth/base64url.c, the encoding of every token's three
 * parts: RFC 4648's test vectors both ways, and a decoder that refuses
 * padding, non-zero unused bits, impossible lengths and the standard
 * alphabet's characters. */
#include <string.h>

#include "auth/base64url.h"
#include "test.h"

static const char *b64_decoded(const char *text)
{
    static char out[64];
    size_t len;
    if (sb_base64url_decode(text, strlen(text), (unsigned char *)out, sizeof(out) - 1, &len) != 0)
        return "(rejected)";
    out[len] = '\0';
    return out;
}

TEST(base64url_rfc4648_vectors)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        struct sb_buf b;
        sb_buf_init(&b);
        sb_base64url_encode((const unsigned char *)plain[i], strlen(plain[i]), &b);
        CHECK_EQ_STR(sb_buf_str(&b), coded[i]);
        CHECK_EQ_INT(sb_base64url_encoded_len(strlen(plain[i])), strlen(coded[i]));
        CHECK_EQ_STR(b64_decoded(coded[i]), plain[i]);
        sb_buf_free(&b);
    }
    struct sb_buf b;
    sb_buf_init(&b);
    sb_buf_puts(&b, "x:");
    sb_base64url_encode((const unsigned char *)"\xfb\xff", 2, &b); /* url alphabet, appended */
    CHECK_EQ_STR(sb_buf_str(&b), "x:-_8");
    sb_buf_free(&b);
    CHECK_EQ_STR(b64_decoded("-_8"), "\xfb\xff");
}

TEST(base64url_decoding_is_strict)
{
    CHECK_EQ_STR(b64_decoded("Zg=="), "(rejected)"); /* padding */
    CHECK_EQ_STR(b64_decoded("Zm8="), "(rejected)");
    CHECK_EQ_STR(b64_decoded("Zh"), "(rejected)"); /* non-zero unused bits */
    CHECK_EQ_STR(b64_decoded("Zm9"), "(rejected)");
    CHECK_EQ_STR(b64_decoded("Z"), "(rejected)"); /* 4k+1 characters */
    CHECK_EQ_STR(b64_decoded("Zm9vY"), "(rejected)");
    CHECK_EQ_STR(b64_decoded("+/8"), "(rejected)"); /* standard alphabet */
    CHECK_EQ_STR(b64_decoded("Zm9v YmFy"), "(rejected)");
    CHECK_EQ_STR(b64_decoded("Zm9v\nYmFy"), "(rejected)");
    CHECK_EQ_STR(b64_decoded("Zm9v."), "(rejected)");
    /* Every byte outside the alphabet, in every position of a group. */
    for (int ch = 0; ch < 256; ch++) {
        if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", ch) && ch)
            continue;
        for (int at = 0; at < 4; at++) {
            char text[5] = "Zm9v";
            text[at] = (char)ch;
            unsigned char out[8];
            size_t n;
            CHECK(sb_base64url_decode(text, 4, out, sizeof(out), &n) != 0);
            CHECK(sb_base64url_decode(text, 3, out, sizeof(out), &n) != 0 || at == 3);
        }
    }
    /* Round trips of every length up to 64 bytes of every byte value. */
    for (size_t n = 0; n <= 64; n++) {
        unsigned char data[64], back[64];
        for (size_t i = 0; i < n; i++)
            data[i] = (unsigned char)(i * 37 + n * 11 + 255 * (i % 2));
        struct sb_buf b;
        sb_buf_init(&b);
        sb_base64url_encode(data, n, &b);
        size_t got = 99;
        CHECK_EQ_INT(b.len, sb_base64url_encoded_len(n));
        CHECK_EQ_INT(sb_base64url_decode(sb_buf_str(&b), b.len, back, sizeof(back), &got), 0);
        CHECK_EQ_INT(got, n);
        CHECK(memcmp(data, back, n) == 0);
        sb_buf_free(&b);
    }
    unsigned char small[2];
    size_t len;
    CHECK(sb_base64url_decode("Zm9v", 4, small, sizeof(small), &len) != 0); /* no room */
    CHECK(sb_base64url_decode("Zm8", 3, small, sizeof(small), &len) == 0 && len == 2);
}

