/* Growable byte buffer, see buf.h. */
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/die.h"

void sb_buf_init(struct sb_buf *buf)
{
    memset(buf, 0, sizeof(*buf));
}

void sb_buf_free(struct sb_buf *buf)
{
    free(buf->data);
    memset(buf, 0, sizeof(*buf));
}

void sb_buf_reset(struct sb_buf *buf)
{
    buf->len = 0;
    buf->too_big = false;
    if (buf->data)
        buf->data[0] = '\0';
}

static bool reserve(struct sb_buf *buf, size_t extra)
{
    if (buf->too_big)
        return false;
    if (extra > (size_t)-1 / 2 - buf->len || (buf->limit && buf->len + extra > buf->limit)) {
        buf->too_big = true;
        return false;
    }
    size_t need = buf->len + extra + 1;
    if (need <= buf->cap)
        return true;
    size_t cap = buf->cap ? buf->cap : 64;
    while (cap < need)
        cap *= 2;
    buf->data = sb_xrealloc(buf->data, cap);
    buf->cap = cap;
    return true;
}

void sb_buf_append(struct sb_buf *buf, const char *data, size_t len)
{
    if (!reserve(buf, len))
        return;
    if (len)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
}

void sb_buf_puts(struct sb_buf *buf, const char *str)
{
    sb_buf_append(buf, str, strlen(str));
}

void sb_buf_putc(struct sb_buf *buf, char ch)
{
    sb_buf_append(buf, &ch, 1);
}

void sb_buf_fill(struct sb_buf *buf, char ch, size_t n)
{
    if (!reserve(buf, n))
        return;
    memset(buf->data + buf->len, ch, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
}

void sb_buf_printf(struct sb_buf *buf, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        sb_buf_append(buf, small, (size_t)n);
        return;
    }
    if (!reserve(buf, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
}

const char *sb_buf_str(const struct sb_buf *buf)
{
    return buf->data ? buf->data : "";
}

char *sb_buf_take(struct sb_buf *buf)
{
    char *data = buf->data;
    if (!data) {
        data = sb_xmalloc(1);
        data[0] = '\0';
    }
    memset(buf, 0, sizeof(*buf));
    return data;
}
