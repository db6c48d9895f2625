/* JSON output helpers, see json_out.h. */
#include "util/json_out.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t utf8_seq(const unsigned char *s, size_t i, size_t len)
{
    unsigned char c = s[i];
    size_t need = (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
    if (need == 0 || len - i < need)
        return 0;
    for (size_t k = 1; k < need; k++)
        if ((s[i + k] & 0xC0) != 0x80)
            return 0;
    if (need == 3) {
        unsigned cp = ((c & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6);
        if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
    } else if (need == 4) {
        unsigned cp = ((c & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12);
        if (cp < 0x10000 || cp > 0x10FFFF)
            return 0;
    }
    return need;
}

void sb_json_string(struct sb_buf *out, const char *text, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)text;
    sb_buf_putc(out, '"');
    size_t run = 0; /* start of a run of bytes copied verbatim */
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t n = utf8_seq(s, i, len);
            if (n) {
                i += n;
                continue;
            }
        }
        sb_buf_append(out, text + run, i - run);
        switch (c) {
        case '"': sb_buf_puts(out, "\\\""); break;
        case '\\': sb_buf_puts(out, "\\\\"); break;
        case '\n': sb_buf_puts(out, "\\n"); break;
        case '\r': sb_buf_puts(out, "\\r"); break;
        case '\t': sb_buf_puts(out, "\\t"); break;
        case '\b': sb_buf_puts(out, "\\b"); break;
        case '\f': sb_buf_puts(out, "\\f"); break;
        default:
            if (c < 0x20) {
                char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                sb_buf_append(out, esc, 6);
            } else {
                sb_buf_puts(out, "\\ufffd"); /* invalid UTF-8 byte */
            }
            break;
        }
        i++;
        run = i;
    }
    sb_buf_append(out, text + run, len - run);
    sb_buf_putc(out, '"');
}

void sb_json_key(struct sb_buf *out, const char *key)
{
    sb_json_string(out, key, strlen(key));
    sb_buf_putc(out, ':');
}

void sb_json_int(struct sb_buf *out, int64_t value)
{
    sb_buf_printf(out, "%lld", (long long)value);
}

void sb_json_double(struct sb_buf *out, double value)
{
    if (!isfinite(value)) {
        sb_buf_puts(out, "null");
        return;
    }
    char text[32];
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(text, sizeof(text), "%.*g", precision, value);
        if (strtod(text, NULL) == value)
            break;
    }
    sb_buf_puts(out, text);
}
