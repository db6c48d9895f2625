/* PostgREST-shaped API errors, see error.h. */
#include "api/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/die.h"
#include "util/json_out.h"

#define MAX_FIELD_ERRORS 100

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap)
{
    struct sb_buf b;
    sb_buf_init(&b);
    char small[512];
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(small, sizeof(small), fmt, copy);
    va_end(copy);
    if (n < 0)
        n = 0;
    if ((size_t)n < sizeof(small)) {
        sb_buf_append(&b, small, (size_t)n);
    } else {
        char *big = sb_xmalloc((unsigned long)n + 1);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        sb_buf_append(&b, big, (size_t)n);
        free(big);
    }
    return sb_buf_take(&b);
}

bool sb_api_error_is_set(const struct sb_api_error *err)
{
    return err->status != 0;
}

int sb_api_error_set(struct sb_api_error *err, int status, const char *code, const char *fmt, ...)
{
    if (err->status != 0)
        return -1;
    err->status = status;
    snprintf(err->code, sizeof(err->code), "%s", code);
    va_list ap;
    va_start(ap, fmt);
    err->message = vformat(fmt, ap);
    va_end(ap);
    return -1;
}

void sb_api_error_details(struct sb_api_error *err, const char *fmt, ...)
{
    free(err->details);
    va_list ap;
    va_start(ap, fmt);
    err->details = vformat(fmt, ap);
    va_end(ap);
}

void sb_api_error_hint(struct sb_api_error *err, const char *fmt, ...)
{
    free(err->hint);
    va_list ap;
    va_start(ap, fmt);
    err->hint = vformat(fmt, ap);
    va_end(ap);
}

void sb_api_error_field(struct sb_api_error *err, const char *field, const char *rule,
                        const char *fmt, ...)
{
    if (err->n_fields >= MAX_FIELD_ERRORS)
        return;
    if (err->n_fields == err->cap_fields) {
        err->cap_fields = err->cap_fields ? err->cap_fields * 2 : 8;
        err->fields = sb_xrealloc(err->fields, err->cap_fields * sizeof(*err->fields));
    }
    struct sb_field_error *fe = &err->fields[err->n_fields++];
    struct sb_buf b;
    sb_buf_init(&b);
    sb_buf_puts(&b, field);
    fe->field = sb_buf_take(&b);
    sb_buf_puts(&b, rule);
    fe->rule = sb_buf_take(&b);
    va_list ap;
    va_start(ap, fmt);
    fe->message = vformat(fmt, ap);
    va_end(ap);
}

void sb_api_error_clear(struct sb_api_error *err)
{
    free(err->message);
    free(err->details);
    free(err->hint);
    for (size_t i = 0; i < err->n_fields; i++) {
        free(err->fields[i].field);
        free(err->fields[i].rule);
        free(err->fields[i].message);
    }
    free(err->fields);
    memset(err, 0, sizeof(*err));
}

static void put_nullable(struct sb_buf *out, const char *key, const char *value)
{
    sb_json_key(out, key);
    if (value)
        sb_json_string(out, value, strlen(value));
    else
        sb_buf_puts(out, "null");
}

void sb_api_error_json(const struct sb_api_error *err, struct sb_buf *out)
{
    sb_buf_putc(out, '{');
    put_nullable(out, "code", err->code);
    sb_buf_putc(out, ',');
    put_nullable(out, "message", err->message ? err->message : "");
    sb_buf_putc(out, ',');
    put_nullable(out, "details", err->details);
    sb_buf_putc(out, ',');
    put_nullable(out, "hint", err->hint);
    if (err->n_fields) {
        sb_buf_puts(out, ",\"errors\":[");
        for (size_t i = 0; i < err->n_fields; i++) {
            if (i)
                sb_buf_putc(out, ',');
            sb_buf_putc(out, '{');
            put_nullable(out, "field", err->fields[i].field);
            sb_buf_putc(out, ',');
            put_nullable(out, "rule", err->fields[i].rule);
            sb_buf_putc(out, ',');
            put_nullable(out, "message", err->fields[i].message);
            sb_buf_putc(out, '}');
        }
        sb_buf_putc(out, ']');
    }
    sb_buf_putc(out, '}');
}
