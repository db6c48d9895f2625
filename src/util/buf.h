/* Growable byte buffer (heap), always NUL-terminated. Used to build output
 * text: formatted specs, JSON, SQL. An optional size limit makes appends fail
 * (and the buffer remember it) instead of growing past what a caller allows. */
#ifndef SB_BUF_H
#define SB_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct sb_buf {
    char *data;     /* owned; NUL-terminated; NULL until first append */
    size_t len;
    size_t cap;
    size_t limit;   /* 0 = unlimited */
    bool too_big;   /* set when an append would pass limit */
};

void sb_buf_init(struct sb_buf *buf);
void sb_buf_free(struct sb_buf *buf);
void sb_buf_reset(struct sb_buf *buf); /* len = 0, keeps memory */
void sb_buf_append(struct sb_buf *buf, const char *data, size_t len);
void sb_buf_puts(struct sb_buf *buf, const char *str);
void sb_buf_putc(struct sb_buf *buf, char ch);
void sb_buf_printf(struct sb_buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append ch n times. */
void sb_buf_fill(struct sb_buf *buf, char ch, size_t n);
/* Returned string is borrowed from buf ("" when empty). */
const char *sb_buf_str(const struct sb_buf *buf);
/* Take ownership of the data (caller frees); buf becomes empty. */
char *sb_buf_take(struct sb_buf *buf);

#endif
