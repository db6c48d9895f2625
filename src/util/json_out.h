/* Streaming JSON output into a buffer: strings escaped per RFC 8259 (with
 * invalid UTF-8 replaced by U+FFFD so output is always valid JSON), keys,
 * numbers. Used on the hot path of responses, where building a jansson tree
 * would cost an allocation per value. */
#ifndef SB_JSON_OUT_H
#define SB_JSON_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* "text" with escapes. */
void sb_json_string(struct sb_buf *out, const char *text, size_t len);
/* "key": */
void sb_json_key(struct sb_buf *out, const char *key);
void sb_json_int(struct sb_buf *out, int64_t value);
/* Shortest text that reads back as the same double; non-finite -> null. */
void sb_json_double(struct sb_buf *out, double value);

#endif
