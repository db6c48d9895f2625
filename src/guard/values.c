/* Per-type conversion of client input to storage values (see values.h).
 * Everything here is strict by design: a JSON integer is the only int, true
 * and false the only bools, a decimal never rounds, a timestamp always names
 * its zone; what is accepted is normalised so that equal values are stored
 * as equal text. The format grammars themselves live in util/formats.c,
 * shared with the spec checker so that a default and a request value are
 * judged by the same code. */
#include "guard/values.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/formats.h"
#include "util/json_out.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static const char *arena_text(struct sb_arena *arena, const struct sb_buf *buf)
{
    return sb_arena_strndup(arena, buf->data ? buf->data : "", buf->len);
}

static void set_text(struct sb_value *out, const char *text, size_t len)
{
    out->kind = SB_VAL_TEXT;
    out->text = text;
    out->len = len;
}

/* ---- decimals ------------------------------------------------------------- */

enum sb_decimal_status sb_decimal_canonical(const char *s, size_t len, int precision, int scale,
                                            bool strict, struct sb_arena *arena,
                                            struct sb_value *out)
{
    size_t i = 0;
    bool negative = false;
    if (i < len && s[i] == '-') {
        negative = true;
        i++;
    }
    size_t int_start = i;
    while (i < len && is_digit(s[i]))
        i++;
    size_t int_end = i;
    if (int_end == int_start)
        return SB_DECIMAL_SYNTAX;
    size_t frac_start = i, frac_end = i;
    if (i < len && s[i] == '.') {
        frac_start = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        frac_end = i;
        if (frac_end == frac_start)
            return SB_DECIMAL_SYNTAX;
    }
    if (i != len)
        return SB_DECIMAL_SYNTAX;
    while (int_end - int_start > 1 && s[int_start] == '0')
        int_start++;
    size_t sig_end = frac_end; /* trailing zeros of the fraction say nothing */
    while (sig_end > frac_start && s[sig_end - 1] == '0')
        sig_end--;
    size_t n_int = int_end - int_start, n_frac = sig_end - frac_start;
    bool int_zero = n_int == 1 && s[int_start] == '0';
    if (scale < 0)
        scale = 0;
    if (strict) {
        size_t int_digits = int_zero ? 0 : n_int;
        if (precision - scale < 0 || int_digits > (size_t)(precision - scale))
            return SB_DECIMAL_PRECISION;
        if (n_frac > (size_t)scale)
            return SB_DECIMAL_SCALE;
    }
    size_t out_frac = n_frac > (size_t)scale ? n_frac : (size_t)scale;
    bool zero = int_zero && n_frac == 0;
    bool sign = negative && !zero;
    size_t total = sign + n_int + (out_frac ? 1 + out_frac : 0);
    char *text = sb_arena_alloc(arena, total + 1);
    size_t o = 0;
    if (sign)
        text[o++] = '-';
    memcpy(text + o, s + int_start, n_int);
    o += n_int;
    if (out_frac) {
        text[o++] = '.';
        memcpy(text + o, s + frac_start, n_frac);
        o += n_frac;
        memset(text + o, '0', out_frac - n_frac);
        o += out_frac - n_frac;
    }
    text[o] = '\0';
    set_text(out, text, o);
    return SB_DECIMAL_OK;
}

/* The shortest decimal that reads back as d, in plain notation (no
 * exponent), into buf; *n_sig gets its number of significant digits. This
 * is the text a JSON encoder such as JavaScript's writes for d, so it is
 * taken as what the client meant. */
static void plain_shortest(double d, char *buf, size_t cap, int *n_sig)
{
    char sci[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(sci, sizeof(sci), "%.*e", prec - 1, d);
        if (strtod(sci, NULL) == d)
            break;
    }
    /* sci: [-]D[.DDD]e(+|-)XX */
    char digits[24];
    size_t n = 0, i = 0, o = 0;
    bool negative = sci[0] == '-';
    if (negative)
        i++;
    for (; sci[i] && sci[i] != 'e'; i++)
        if (is_digit(sci[i]) && n < sizeof(digits) - 1)
            digits[n++] = sci[i];
    long exponent = sci[i] == 'e' ? strtol(sci + i + 1, NULL, 10) : 0;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    *n_sig = (n == 1 && digits[0] == '0') ? 0 : (int)n;
    long point = exponent + 1; /* digits before the decimal point */
    if (negative && o + 1 < cap)
        buf[o++] = '-';
    if (point <= 0) {
        buf[o++] = '0';
        buf[o++] = '.';
        for (long k = 0; k < -point && o + 1 < cap; k++)
            buf[o++] = '0';
        for (size_t k = 0; k < n && o + 1 < cap; k++)
            buf[o++] = digits[k];
    } else {
        for (long k = 0; k < point && o + 1 < cap; k++)
            buf[o++] = (size_t)k < n ? digits[k] : '0';
        if ((size_t)point < n) {
            buf[o++] = '.';
            for (size_t k = (size_t)point; k < n && o + 1 < cap; k++)
                buf[o++] = digits[k];
        }
    }
    buf[o] = '\0';
}

/* ---- compact JSON ---------------------------------------------------------- */

void sb_json_compact(const json_t *json, struct sb_buf *out)
{
    switch (json_typeof(json)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *item;
        bool first = true;
        sb_buf_putc(out, '{');
        /* the macro takes a non-const object; iteration does not modify it */
        json_object_foreach((json_t *)json, key, item) {
            if (!first)
                sb_buf_putc(out, ',');
            first = false;
            sb_json_key(out, key);
            sb_json_compact(item, out);
        }
        sb_buf_putc(out, '}');
        return;
    }
    case JSON_ARRAY:
        sb_buf_putc(out, '[');
        for (size_t i = 0; i < json_array_size(json); i++) {
            if (i)
                sb_buf_putc(out, ',');
            sb_json_compact(json_array_get(json, i), out);
        }
        sb_buf_putc(out, ']');
        return;
    case JSON_STRING:
        sb_json_string(out, json_string_value(json), json_string_length(json));
        return;
    case JSON_INTEGER:
        sb_json_int(out, (int64_t)json_integer_value(json));
        return;
    case JSON_REAL: {
        double d = json_real_value(json);
        sb_json_double(out, d == 0 ? 0.0 : d); /* -0 reads back as 0: write it so (jsonb does) */
        return;
    }
    case JSON_TRUE:
        sb_buf_puts(out, "true");
        return;
    case JSON_FALSE:
        sb_buf_puts(out, "false");
        return;
    case JSON_NULL:
        sb_buf_puts(out, "null");
        return;
    }
}

/* ---- nesting ------------------------------------------------------------------ */

int sb_json_scan(const char *s, size_t len, size_t max_depth, size_t *n_top)
{
    size_t depth = 0, commas = 0;
    bool in_string = false, top_array = false, top_element = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
            continue;
        }
        switch (c) {
        case '"':
            in_string = true;
            break;
        case '[':
        case '{':
            if (depth == 0 && c == '[')
                top_array = true;
            if (depth == 1)
                top_element = true;
            if (++depth > max_depth)
                return -1;
            continue;
        case ']':
        case '}':
            if (depth > 0)
                depth--;
            continue;
        case ',':
            if (depth == 1)
                commas++;
            continue;
        case ' ':
        case '\t':
        case '\n':
        case '\r':
            continue;
        default:
            break;
        }
        if (depth == 1)
            top_element = true;
    }
    *n_top = top_array && (top_element || commas) ? commas + 1 : 0;
    return 0;
}

/* ---- from JSON --------------------------------------------------------------- */

static const char *json_kind(const json_t *json)
{
    switch (json_typeof(json)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number with a fraction or exponent";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

static int type_error(struct sb_value_sink *sink, struct sb_arena *arena, const char *want,
                      const json_t *json)
{
    sink->fail(sink, "", "type", sb_arena_printf(arena, "must be %s, not %s", want, json_kind(json)));
    return -1;
}

static int int_value(const struct sb_type *type, const json_t *json, struct sb_arena *arena,
                     struct sb_value *out, struct sb_value_sink *sink)
{
    if (!json_is_integer(json))
        return type_error(sink, arena, "an integer", json);
    int64_t v = (int64_t)json_integer_value(json);
    if (type->has_min && v < type->min) {
        sink->fail(sink, "", "min", sb_arena_printf(arena, "must be at least %lld", (long long)type->min));
        return -1;
    }
    if (type->has_max && v > type->max) {
        sink->fail(sink, "", "max", sb_arena_printf(arena, "must be at most %lld", (long long)type->max));
        return -1;
    }
    out->kind = SB_VAL_INT;
    out->i = v;
    return 0;
}

static const char *float_bound(struct sb_arena *arena, const char *written, double value)
{
    return written ? written : sb_arena_printf(arena, "%.17g", value);
}

static int float_value(const struct sb_type *type, const json_t *json, struct sb_arena *arena,
                       struct sb_value *out, struct sb_value_sink *sink)
{
    if (!json_is_number(json))
        return type_error(sink, arena, "a number", json);
    double v = json_number_value(json);
    if (!isfinite(v)) { /* jansson refuses overflow already; kept for other callers */
        sink->fail(sink, "", "type", "must be a finite number");
        return -1;
    }
    if (type->has_min && v < type->fmin) {
        sink->fail(sink, "", "min",
                   sb_arena_printf(arena, "must be at least %s", float_bound(arena, type->min_text, type->fmin)));
        return -1;
    }
    if (type->has_max && v > type->fmax) {
        sink->fail(sink, "", "max",
                   sb_arena_printf(arena, "must be at most %s", float_bound(arena, type->max_text, type->fmax)));
        return -1;
    }
    out->kind = SB_VAL_FLOAT;
    out->f = v == 0 ? 0.0 : v; /* -0 is stored as 0 */
    return 0;
}

static int decimal_failure(enum sb_decimal_status status, const struct sb_type *type,
                           struct sb_arena *arena, struct sb_value_sink *sink)
{
    switch (status) {
    case SB_DECIMAL_OK:
        return 0;
    case SB_DECIMAL_SYNTAX:
        sink->fail(sink, "", "type",
                   "must be a decimal number in plain notation, such as \"19.90\" (no exponent)");
        break;
    case SB_DECIMAL_PRECISION:
        sink->fail(sink, "", "precision",
                   sb_arena_printf(arena, "must have at most %d digit%s before the decimal point",
                                   type->precision - type->scale,
                                   type->precision - type->scale == 1 ? "" : "s"));
        break;
    case SB_DECIMAL_SCALE:
        sink->fail(sink, "", "scale",
                   sb_arena_printf(arena, "must have at most %d digit%s after the decimal point",
                                   type->scale, type->scale == 1 ? "" : "s"));
        break;
    }
    return -1;
}

static int decimal_value(const struct sb_type *type, const json_t *json, struct sb_arena *arena,
                         struct sb_value *out, struct sb_value_sink *sink)
{
    enum sb_decimal_status status;
    if (json_is_string(json)) {
        status = sb_decimal_canonical(json_string_value(json), json_string_length(json),
                                      type->precision, type->scale, true, arena, out);
        return decimal_failure(status, type, arena, sink);
    }
    if (json_is_integer(json)) {
        char text[32];
        int n = snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(json));
        status = sb_decimal_canonical(text, (size_t)n, type->precision, type->scale, true, arena, out);
        return decimal_failure(status, type, arena, sink);
    }
    if (json_is_real(json)) {
        char text[400];
        int n_sig;
        double d = json_real_value(json);
        if (!isfinite(d))
            return decimal_failure(SB_DECIMAL_SYNTAX, type, arena, sink);
        plain_shortest(d, text, sizeof(text), &n_sig);
        status = sb_decimal_canonical(text, strlen(text), type->precision, type->scale, true, arena, out);
        if (status != SB_DECIMAL_OK)
            return decimal_failure(status, type, arena, sink);
        if (n_sig > SB_DECIMAL_JSON_DIGITS) {
            sink->fail(sink, "", "precision",
                       sb_arena_printf(arena,
                                       "a JSON number with more than %d significant digits is not exact; "
                                       "send the decimal as a string, such as \"%s\"",
                                       SB_DECIMAL_JSON_DIGITS, text));
            return -1;
        }
        return 0;
    }
    return type_error(sink, arena, "a decimal (a string such as \"19.90\", or a number)", json);
}

static const char *enum_list(struct sb_arena *arena, const struct sb_type *type)
{
    struct sb_buf b;
    sb_buf_init(&b);
    for (size_t i = 0; i < type->n_enum_values; i++)
        sb_buf_printf(&b, "%s%s", i ? ", " : "", type->enum_values[i]);
    const char *list = arena_text(arena, &b);
    sb_buf_free(&b);
    return list;
}

static bool enum_member(const struct sb_type *type, const char *s, size_t len)
{
    for (size_t i = 0; i < type->n_enum_values; i++)
        if (strlen(type->enum_values[i]) == len && memcmp(type->enum_values[i], s, len) == 0)
            return true;
    return false;
}

static int text_length(const struct sb_type *type, const char *s, size_t len,
                       struct sb_arena *arena, struct sb_value_sink *sink)
{
    if (!type->has_min && !type->has_max)
        return 0;
    size_t chars = sb_utf8_chars(s, len);
    if (type->has_min && (int64_t)chars < type->min) {
        sink->fail(sink, "", "min_length",
                   sb_arena_printf(arena, "must be at least %lld character%s long", (long long)type->min,
                                   type->min == 1 ? "" : "s"));
        return -1;
    }
    if (type->has_max && (int64_t)chars > type->max) {
        sink->fail(sink, "", "max_length",
                   sb_arena_printf(arena, "must be at most %lld character%s long", (long long)type->max,
                                   type->max == 1 ? "" : "s"));
        return -1;
    }
    return 0;
}

static int string_value(const struct sb_type *type, const json_t *json, struct sb_arena *arena,
                        struct sb_value *out, struct sb_value_sink *sink)
{
    if (!json_is_string(json))
        return type_error(sink, arena, "a string", json);
    const char *s = json_string_value(json);
    size_t len = json_string_length(json);
    /* jansson decodes only valid UTF-8 and refuses \u0000 (no JSON_ALLOW_NUL);
     * checked again because other callers may build values by hand */
    if (memchr(s, '\0', len) || !sb_utf8_valid(s, len)) {
        sink->fail(sink, "", "type", "must be valid UTF-8 text without NUL characters");
        return -1;
    }
    switch (type->kind) {
    case SB_TYPE_TEXT:
        if (text_length(type, s, len, arena, sink) != 0)
            return -1;
        break;
    case SB_TYPE_TIMESTAMP: {
        char utc[SB_TIMESTAMP_UTC_LEN + 1];
        if (!sb_format_timestamp_utc(s, len, false, utc)) {
            sink->fail(sink, "", "format",
                       "must be an RFC 3339 timestamp with a time zone, such as \"2025-03-01T09:30:00Z\"");
            return -1;
        }
        set_text(out, sb_arena_strndup(arena, utc, SB_TIMESTAMP_UTC_LEN), SB_TIMESTAMP_UTC_LEN);
        return 0;
    }
    case SB_TYPE_DATE:
        if (!sb_format_date(s, len)) {
            sink->fail(sink, "", "format", "must be a date that exists, written YYYY-MM-DD");
            return -1;
        }
        break;
    case SB_TYPE_UUID: {
        if (!sb_format_uuid(s, len)) {
            sink->fail(sink, "", "format",
                       "must be a UUID: 32 hexadecimal digits grouped 8-4-4-4-12");
            return -1;
        }
        char *lower = sb_arena_strndup(arena, s, len);
        for (size_t i = 0; i < len; i++)
            if (lower[i] >= 'A' && lower[i] <= 'F')
                lower[i] = (char)(lower[i] - 'A' + 'a');
        set_text(out, lower, len);
        return 0;
    }
    case SB_TYPE_EMAIL:
        if (!sb_format_email(s, len)) {
            sink->fail(sink, "", "format", "must be an email address (local@domain)");
            return -1;
        }
        break;
    case SB_TYPE_URL:
        if (!sb_format_url(s, len)) {
            sink->fail(sink, "", "format", "must be an absolute http or https URL");
            return -1;
        }
        break;
    case SB_TYPE_ENUM:
        if (!enum_member(type, s, len)) {
            sink->fail(sink, "", "enum", sb_arena_printf(arena, "must be one of %s", enum_list(arena, type)));
            return -1;
        }
        break;
    case SB_TYPE_PASSWORD:
        if (len > SB_PASSWORD_MAX_BYTES) {
            sink->fail(sink, "", "max_length",
                       sb_arena_printf(arena, "must be at most %d bytes long", SB_PASSWORD_MAX_BYTES));
            return -1;
        }
        out->flags |= SB_VALUE_SECRET;
        break;
    default:
        break;
    }
    set_text(out, sb_arena_strndup(arena, s, len), len);
    return 0;
}

static int ref_value(const struct sb_type *type, const json_t *json, struct sb_arena *arena,
                     struct sb_value *out, struct sb_value_sink *sink)
{
    const char *target = type->ref ? type->ref->name : type->ref_name ? type->ref_name : "the target";
    if (!json_is_integer(json))
        return type_error(sink, arena, sb_arena_printf(arena, "the id of a %s row (an integer)", target), json);
    int64_t v = (int64_t)json_integer_value(json);
    if (v < 1) {
        sink->fail(sink, "", "min", sb_arena_printf(arena, "must be at least 1 (the id of a %s row)", target));
        return -1;
    }
    out->kind = SB_VAL_INT;
    out->i = v;
    return 0;
}

/* Forwards an element's failures to the array's sink as "[i]". */
struct element_sink {
    struct sb_value_sink base;
    struct sb_value_sink *parent;
    const char *suffix;
};

static void element_fail(struct sb_value_sink *sink, const char *suffix, const char *rule,
                         const char *message)
{
    struct element_sink *es = (struct element_sink *)sink;
    (void)suffix; /* elements are scalars */
    es->parent->fail(es->parent, es->suffix, rule, message);
}

static int scalar_value(const struct sb_type *type, const json_t *json, struct sb_arena *arena,
                        struct sb_value *out, struct sb_value_sink *sink);

static void element_json(const struct sb_type *elem, const struct sb_value *v, struct sb_buf *out)
{
    switch (v->kind) {
    case SB_VAL_INT:
        if (elem->kind == SB_TYPE_BOOL)
            sb_buf_puts(out, v->i ? "true" : "false");
        else
            sb_json_int(out, v->i);
        break;
    case SB_VAL_FLOAT: sb_json_double(out, v->f); break;
    case SB_VAL_TEXT: sb_json_string(out, v->text, v->len); break;
    case SB_VAL_NULL: sb_buf_puts(out, "null"); break;
    }
}

static int array_value(const struct sb_type *type, const json_t *json, struct sb_arena *arena,
                       struct sb_value *out, struct sb_value_sink *sink)
{
    if (!json_is_array(json))
        return type_error(sink, arena, "an array", json);
    size_t n = json_array_size(json);
    int rc = 0;
    if (type->arr_has_min && (int64_t)n < type->arr_min) {
        sink->fail(sink, "", "items",
                   sb_arena_printf(arena, "must have at least %lld element%s", (long long)type->arr_min,
                                   type->arr_min == 1 ? "" : "s"));
        rc = -1;
    }
    if (type->arr_has_max && (int64_t)n > type->arr_max) {
        sink->fail(sink, "", "items",
                   sb_arena_printf(arena, "must have at most %lld element%s", (long long)type->arr_max,
                                   type->arr_max == 1 ? "" : "s"));
        rc = -1;
    }
    struct sb_type elem = *type;
    elem.is_array = false;
    struct sb_buf text;
    sb_buf_init(&text);
    sb_buf_putc(&text, '[');
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(json, i);
        struct element_sink es = {{element_fail}, sink, sb_arena_printf(arena, "[%zu]", i)};
        struct sb_value v = {0};
        if (json_is_null(item)) {
            sink->fail(sink, es.suffix, "type", "must not be null");
            rc = -1;
            continue;
        }
        if (scalar_value(&elem, item, arena, &v, &es.base) != 0) {
            rc = -1;
            continue;
        }
        if (i)
            sb_buf_putc(&text, ',');
        element_json(&elem, &v, &text);
    }
    sb_buf_putc(&text, ']');
    if (rc == 0)
        set_text(out, arena_text(arena, &text), text.len);
    sb_buf_free(&text);
    return rc;
}

static int scalar_value(const struct sb_type *type, const json_t *json, struct sb_arena *arena,
                        struct sb_value *out, struct sb_value_sink *sink)
{
    switch (type->kind) {
    case SB_TYPE_INT:
        return int_value(type, json, arena, out, sink);
    case SB_TYPE_FLOAT:
        return float_value(type, json, arena, out, sink);
    case SB_TYPE_DECIMAL:
        return decimal_value(type, json, arena, out, sink);
    case SB_TYPE_BOOL:
        if (!json_is_boolean(json))
            return type_error(sink, arena, "true or false", json);
        out->kind = SB_VAL_INT;
        out->i = json_is_true(json) ? 1 : 0;
        return 0;
    case SB_TYPE_REF:
        return ref_value(type, json, arena, out, sink);
    case SB_TYPE_JSON: {
        struct sb_buf text;
        sb_buf_init(&text);
        sb_json_compact(json, &text);
        set_text(out, arena_text(arena, &text), text.len);
        sb_buf_free(&text);
        return 0;
    }
    case SB_TYPE_TEXT:
    case SB_TYPE_TIMESTAMP:
    case SB_TYPE_DATE:
    case SB_TYPE_UUID:
    case SB_TYPE_EMAIL:
    case SB_TYPE_URL:
    case SB_TYPE_ENUM:
    case SB_TYPE_PASSWORD:
        return string_value(type, json, arena, out, sink);
    case SB_TYPE__COUNT:
        break;
    }
    sink->fail(sink, "", "type", "has a type this server does not know");
    return -1;
}

int sb_value_from_json(const struct sb_type *type, const json_t *json, struct sb_arena *arena,
                       struct sb_value *out, struct sb_value_sink *sink)
{
    memset(out, 0, sizeof(*out));
    int rc = type->is_array ? array_value(type, json, arena, out, sink)
                            : scalar_value(type, json, arena, out, sink);
    if (rc != 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    return 0;
}

/* ---- from query-string text ------------------------------------------------- */

int sb_parse_int64(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    bool negative = len > 0 && s[0] == '-';
    if (negative)
        i++;
    if (i == len)
        return -1;
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    bool overflow = false;
    for (; i < len; i++) {
        if (!is_digit(s[i]))
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            overflow = true; /* keep scanning: bad syntax wins over range */
        else
            v = v * 10 + d;
    }
    if (overflow)
        return -2;
    *out = negative ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* The operand as PostgreSQL quotes it in messages, cut at 100 bytes on a
 * character boundary so that a hostile operand cannot grow the error. */
static const char *quoted(struct sb_arena *arena, const char *s, size_t len)
{
    size_t n = len;
    bool cut = false;
    if (n > 100) {
        n = 100;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        cut = true;
    }
    return sb_arena_printf(arena, "\"%.*s%s\"", (int)n, s, cut ? "..." : "");
}

static int text_failure(const char **code, const char **message, const char *sqlstate,
                        const char *msg)
{
    *code = sqlstate;
    *message = msg;
    return -1;
}

/* [-+]?(digits[.digits*]|.digits)([eE][-+]?digits)? */
static bool float_syntax(const char *s, size_t len)
{
    size_t i = 0, n_int = 0, n_frac = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        i++;
    while (i < len && is_digit(s[i]))
        i++, n_int++;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && is_digit(s[i]))
            i++, n_frac++;
    }
    if (n_int + n_frac == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t n_exp = 0;
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            i++;
        while (i < len && is_digit(s[i]))
            i++, n_exp++;
        if (n_exp == 0)
            return false;
    }
    return i == len;
}

static bool ascii_equal_nocase(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (n != len)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return false;
    }
    return true;
}

int sb_value_from_text(const struct sb_type *type, const char *name, const char *text, size_t len,
                       struct sb_arena *arena, struct sb_value *out, const char **code,
                       const char **message)
{
    memset(out, 0, sizeof(*out));
    if (memchr(text, '\0', len) || !sb_utf8_valid(text, len))
        return text_failure(code, message, "22021", "invalid byte sequence for encoding \"UTF8\"");
    const char *q = NULL;
#define QUOTED (q ? q : (q = quoted(arena, text, len)))
    switch (type->kind) {
    case SB_TYPE_INT:
    case SB_TYPE_REF: {
        int rc = sb_parse_int64(text, len, &out->i);
        if (rc == -1)
            return text_failure(code, message, "22P02",
                                sb_arena_printf(arena, "invalid input syntax for type bigint: %s", QUOTED));
        if (rc == -2)
            return text_failure(code, message, "22003",
                                sb_arena_printf(arena, "value %s is out of range for type bigint", QUOTED));
        out->kind = SB_VAL_INT;
        return 0;
    }
    case SB_TYPE_FLOAT: {
        if (!float_syntax(text, len))
            return text_failure(code, message, "22P02",
                                sb_arena_printf(arena, "invalid input syntax for type double precision: %s", QUOTED));
        char *copy = sb_arena_strndup(arena, text, len);
        errno = 0;
        double v = strtod(copy, NULL);
        if (!isfinite(v) || (errno == ERANGE && v == 0))
            return text_failure(code, message, "22003",
                                sb_arena_printf(arena, "%s is out of range for type double precision", QUOTED));
        out->kind = SB_VAL_FLOAT;
        out->f = v == 0 ? 0.0 : v;
        return 0;
    }
    case SB_TYPE_DECIMAL:
        if (sb_decimal_canonical(text, len, type->precision, type->scale, false, arena, out) != SB_DECIMAL_OK)
            return text_failure(code, message, "22P02",
                                sb_arena_printf(arena, "invalid input syntax for type numeric: %s", QUOTED));
        return 0;
    case SB_TYPE_BOOL:
        if (ascii_equal_nocase(text, len, "true") || ascii_equal_nocase(text, len, "t") ||
            (len == 1 && text[0] == '1')) {
            out->kind = SB_VAL_INT;
            out->i = 1;
            return 0;
        }
        if (ascii_equal_nocase(text, len, "false") || ascii_equal_nocase(text, len, "f") ||
            (len == 1 && text[0] == '0')) {
            out->kind = SB_VAL_INT;
            out->i = 0;
            return 0;
        }
        return text_failure(code, message, "22P02",
                            sb_arena_printf(arena, "invalid input syntax for type boolean: %s", QUOTED));
    case SB_TYPE_TIMESTAMP: {
        char utc[SB_TIMESTAMP_UTC_LEN + 1];
        if (!sb_format_timestamp_utc(text, len, true, utc))
            return text_failure(code, message, "22007",
                                sb_arena_printf(arena, "invalid input syntax for type timestamp with time zone: %s",
                                                QUOTED));
        set_text(out, sb_arena_strndup(arena, utc, SB_TIMESTAMP_UTC_LEN), SB_TIMESTAMP_UTC_LEN);
        return 0;
    }
    case SB_TYPE_DATE:
        if (!sb_format_date(text, len))
            return text_failure(code, message, "22007",
                                sb_arena_printf(arena, "invalid input syntax for type date: %s", QUOTED));
        break;
    case SB_TYPE_UUID: {
        if (!sb_format_uuid(text, len))
            return text_failure(code, message, "22P02",
                                sb_arena_printf(arena, "invalid input syntax for type uuid: %s", QUOTED));
        char *lower = sb_arena_strndup(arena, text, len);
        for (size_t i = 0; i < len; i++)
            if (lower[i] >= 'A' && lower[i] <= 'F')
                lower[i] = (char)(lower[i] - 'A' + 'a');
        set_text(out, lower, len);
        return 0;
    }
    case SB_TYPE_EMAIL:
        if (!sb_format_email(text, len))
            return text_failure(code, message, "22P02",
                                sb_arena_printf(arena, "invalid input syntax for type email: %s", QUOTED));
        break;
    case SB_TYPE_URL:
        if (!sb_format_url(text, len))
            return text_failure(code, message, "22P02",
                                sb_arena_printf(arena, "invalid input syntax for type url: %s", QUOTED));
        break;
    case SB_TYPE_ENUM:
        if (!enum_member(type, text, len))
            return text_failure(code, message, "22P02",
                                sb_arena_printf(arena, "invalid input value for enum %s: %s (one of %s)",
                                                name, QUOTED, enum_list(arena, type)));
        break;
    case SB_TYPE_JSON: {
        json_error_t error;
        size_t n_top;
        if (sb_json_scan(text, len, SB_JSON_MAX_DEPTH, &n_top) != 0)
            return text_failure(code, message, "22P02",
                                sb_arena_printf(arena, "JSON nested deeper than %d levels", SB_JSON_MAX_DEPTH));
        json_t *json = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &error);
        if (!json)
            return text_failure(code, message, "22P02",
                                sb_arena_printf(arena, "invalid input syntax for type json: %s", QUOTED));
        struct sb_buf compact;
        sb_buf_init(&compact);
        sb_json_compact(json, &compact);
        json_decref(json);
        set_text(out, arena_text(arena, &compact), compact.len);
        sb_buf_free(&compact);
        return 0;
    }
    case SB_TYPE_TEXT:
    case SB_TYPE_PASSWORD:
    case SB_TYPE__COUNT:
        break;
    }
#undef QUOTED
    set_text(out, sb_arena_strndup(arena, text, len), len);
    return 0;
}
