/* libFuzzer target for the body and filter validator (`make fuzz-body`).
 * Each input is a request body for a collection with a field of every type
 * (arrays, checks, defaults and a readonly field included), validated in
 * the mode its first byte picks, with or without a columns= list; the same
 * bytes are also given to every field as a filter operand and as a
 * pattern. Beyond memory errors and undefined behaviour it asserts:
 *   - a refused body leaves no rows and an error with a status; an
 *     accepted one leaves no error and rows whose every value has the kind
 *     its field's column stores, with valid, NUL-terminated UTF-8 text,
 *     canonical timestamps and decimals, and valid JSON for json and
 *     arrays;
 *   - normalisation is idempotent: an accepted one-object body written
 *     back as JSON from its values validates again to the same values, and
 *     a filter operand's accepted text, converted again, gives the same
 *     value.
 * A broken property aborts, and libFuzzer keeps the input. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard/validate.h"
#include "guard/values.h"
#include "spec/spec.h"
#include "util/formats.h"
#include "util/json_out.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char spec_text[] =
    "app fuzz\n"
    "collection item {\n"
    "  name     text(1..10) required\n"
    "  note     text\n"
    "  qty      int(0..100)\n"
    "  ratio    float(0.0..1.0)\n"
    "  price    decimal(10, 2) check price >= 0\n"
    "  frac     decimal(2, 2)\n"
    "  flag     bool\n"
    "  at       timestamp\n"
    "  day      date\n"
    "  uid      uuid\n"
    "  mail     email\n"
    "  site     url\n"
    "  status   enum(placed, cancelled) default \"placed\"\n"
    "  data     json\n"
    "  secret   password\n"
    "  owner    -> owner\n"
    "  tags     text(1..5)[..3]\n"
    "  nums     int(1..9)[1..]\n"
    "  amounts  decimal(5, 2)[]\n"
    "  stock    int default 0 check stock >= 0 and stock * 2 < 1000\n"
    "  locked   int readonly\n"
    "  starts   date\n"
    "  ends     date\n"
    "  seen     timestamp default now()\n"
    "  index (name)\n"
    "  check starts <= ends\n"
    "  check qty == null or qty % 7 != 3 or upper(name) != \"X\"\n"
    "}\n"
    "collection owner {\n"
    "  label text\n"
    "}\n";

static struct sb_model *model;
static const struct sb_collection *item;

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_body: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void load(void)
{
    if (model)
        return;
    struct sb_source source = {"fuzz.spec", spec_text, strlen(spec_text)};
    struct sb_diags diags;
    sb_diags_init(&diags, &source);
    model = sb_spec_parse("fuzz.spec", spec_text, strlen(spec_text), &diags);
    if (diags.n_errors || sb_spec_check(model, &diags) != 0)
        fail("the fuzz spec does not check", NULL);
    sb_diags_free(&diags);
    item = sb_model_collection(model, "item");
}

static bool canonical_decimal(const struct sb_value *v, const struct sb_type *type, struct sb_arena *arena)
{
    struct sb_value again;
    if (sb_decimal_canonical(v->text, v->len, type->precision, type->scale, true, arena, &again) != SB_DECIMAL_OK)
        return false;
    return again.len == v->len && memcmp(again.text, v->text, v->len) == 0;
}

static void check_value(const struct sb_field *f, const struct sb_value *v, struct sb_arena *arena)
{
    const struct sb_type *t = &f->type;
    if (v->kind == SB_VAL_NULL)
        return;
    if (v->kind == SB_VAL_TEXT) {
        if (!v->text || strlen(v->text) != v->len || !sb_utf8_valid(v->text, v->len))
            fail("text value is not NUL-terminated valid UTF-8", f->name);
        if (t->is_array || t->kind == SB_TYPE_JSON) {
            json_t *json = json_loadb(v->text, v->len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
            if (!json || (t->is_array && !json_is_array(json)))
                fail("stored JSON does not parse", v->text);
            json_decref(json);
            return;
        }
    }
    enum sb_value_kind want = SB_VAL_TEXT;
    switch (t->kind) {
    case SB_TYPE_INT:
    case SB_TYPE_BOOL:
    case SB_TYPE_REF: want = SB_VAL_INT; break;
    case SB_TYPE_FLOAT: want = SB_VAL_FLOAT; break;
    default: break;
    }
    if (t->is_array || t->kind == SB_TYPE_JSON)
        want = SB_VAL_TEXT;
    if (v->kind != want)
        fail("value kind does not match the column", f->name);
    if (t->kind == SB_TYPE_BOOL && v->i != 0 && v->i != 1)
        fail("bool is not 0 or 1", f->name);
    if (t->kind == SB_TYPE_INT && ((t->has_min && v->i < t->min) || (t->has_max && v->i > t->max)))
        fail("int out of its range", f->name);
    if (t->kind == SB_TYPE_REF && v->i < 1)
        fail("relation id below 1", f->name);
    if (t->kind == SB_TYPE_DECIMAL && !canonical_decimal(v, t, arena))
        fail("decimal not canonical", v->text);
    if (t->kind == SB_TYPE_TIMESTAMP) {
        char utc[SB_TIMESTAMP_UTC_LEN + 1];
        if (v->len != SB_TIMESTAMP_UTC_LEN || !sb_format_timestamp_utc(v->text, v->len, false, utc) ||
            memcmp(utc, v->text, SB_TIMESTAMP_UTC_LEN) != 0)
            fail("timestamp not canonical", v->text);
    }
    if (t->kind == SB_TYPE_DATE && !sb_format_date(v->text, v->len))
        fail("date invalid", v->text);
    if (t->kind == SB_TYPE_PASSWORD && !(v->flags & SB_VALUE_SECRET))
        fail("password not flagged secret", NULL);
}

/* The rows' only object written back as a JSON body, from storage values. */
static void rows_json(const struct sb_rows *rows, struct sb_buf *out)
{
    sb_buf_putc(out, '{');
    for (size_t c = 0; c < rows->n_fields; c++) {
        const struct sb_field *f = rows->fields[c];
        const struct sb_value *v = sb_rows_value(rows, 0, c);
        if (c)
            sb_buf_putc(out, ',');
        sb_json_key(out, f->name);
        switch (v->kind) {
        case SB_VAL_NULL: sb_buf_puts(out, "null"); break;
        case SB_VAL_INT:
            if (f->type.kind == SB_TYPE_BOOL)
                sb_buf_puts(out, v->i ? "true" : "false");
            else
                sb_json_int(out, v->i);
            break;
        case SB_VAL_FLOAT: sb_json_double(out, v->f); break;
        case SB_VAL_TEXT:
            if (f->type.is_array || f->type.kind == SB_TYPE_JSON)
                sb_buf_append(out, v->text, v->len);
            else
                sb_json_string(out, v->text, v->len);
            break;
        }
    }
    sb_buf_putc(out, '}');
}

static bool same_value(const struct sb_value *a, const struct sb_value *b)
{
    if (a->kind != b->kind || a->flags != b->flags)
        return false;
    switch (a->kind) {
    case SB_VAL_NULL: return true;
    case SB_VAL_INT: return a->i == b->i;
    case SB_VAL_FLOAT: return a->f == b->f;
    case SB_VAL_TEXT: return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
    }
    return false;
}

static void revalidate(const struct sb_rows *rows, const struct sb_validate_opts *opts)
{
    struct sb_buf json;
    sb_buf_init(&json);
    rows_json(rows, &json);
    struct sb_validate_opts again_opts = *opts;
    again_opts.columns = NULL;
    again_opts.n_columns = 0;
    again_opts.max_depth = 0; /* the stored text of a json value may sit one level deeper */
    struct sb_arena arena;
    struct sb_api_error err = {0};
    struct sb_rows again;
    sb_arena_init(&arena);
    if (sb_validate_body(item, sb_buf_str(&json), json.len, &again_opts, &arena, &again, &err) != 0)
        fail("a body written back from accepted values is refused", err.details ? err.details : err.message);
    if (again.n_fields != rows->n_fields || again.n_rows != 1)
        fail("a body written back has other fields", sb_buf_str(&json));
    for (size_t c = 0; c < rows->n_fields; c++)
        if (again.fields[c] != rows->fields[c] ||
            !same_value(sb_rows_value(&again, 0, c), sb_rows_value(rows, 0, c)))
            fail("normalisation is not idempotent", rows->fields[c]->name);
    sb_api_error_clear(&err);
    sb_arena_free(&arena);
    sb_buf_free(&json);
}

static void body(const char *text, size_t len, uint8_t selector)
{
    static const char *const columns[] = {"name", "qty", "status", "seen", "tags", "price"};
    struct sb_validate_opts opts = {0};
    opts.mode = (enum sb_validate_mode)(selector % 3);
    if (selector & 4) {
        opts.columns = columns;
        opts.n_columns = sizeof(columns) / sizeof(columns[0]);
    }
    opts.allow_readonly = (selector & 8) != 0;
    if (selector & 16)
        opts.max_depth = 4;
    if (selector & 32)
        opts.max_rows = 3;

    struct sb_arena arena;
    struct sb_api_error err = {0};
    struct sb_rows rows;
    sb_arena_init(&arena);
    int rc = sb_validate_body(item, text, len, &opts, &arena, &rows, &err);
    if (rc != 0) {
        if (rc != -1 || err.status < 400 || rows.n_rows || rows.values || rows.fields)
            fail("a refused body left rows or no error", NULL);
    } else {
        if (err.status != 0)
            fail("an accepted body set an error", err.message);
        if (rows.n_rows == 0 || (opts.mode == SB_VALIDATE_UPDATE && rows.n_rows != 1))
            fail("wrong number of rows", NULL);
        for (size_t c = 0; c < rows.n_fields; c++) {
            if (c && rows.fields[c - 1]->index >= rows.fields[c]->index)
                fail("fields not in model order", NULL);
            if (rows.fields[c]->flags & SB_FIELD_SYSTEM && strcmp(rows.fields[c]->name, "id") != 0)
                fail("a system timestamp was written", NULL);
        }
        for (size_t r = 0; r < rows.n_rows; r++)
            for (size_t c = 0; c < rows.n_fields; c++)
                check_value(rows.fields[c], sb_rows_value(&rows, r, c), &arena);
        if (rows.n_rows == 1 && !rows.has_defaults)
            revalidate(&rows, &opts);
    }
    sb_api_error_clear(&err);
    sb_arena_free(&arena);
}

static void filters(const char *text, size_t len)
{
    struct sb_arena arena;
    sb_arena_init(&arena);
    for (size_t i = 0; i < item->n_fields; i++) {
        const struct sb_field *f = item->fields[i];
        struct sb_api_error err = {0};
        struct sb_value v, again;
        if (sb_validate_filter_value(f, text, len, &v, &arena, &err) == 0) {
            if (err.status)
                fail("an accepted filter set an error", NULL);
            if (v.kind == SB_VAL_TEXT) {
                struct sb_api_error err2 = {0};
                if (sb_validate_filter_value(f, v.text, v.len, &again, &arena, &err2) != 0 ||
                    again.kind != SB_VAL_TEXT || again.len != v.len || memcmp(again.text, v.text, v.len) != 0)
                    fail("filter normalisation is not idempotent", f->name);
                sb_api_error_clear(&err2);
            }
        } else if (err.status != 400 && err.status != 0) {
            fail("a filter error is not a 400", f->name);
        } else if (err.status == 0) {
            fail("a refused filter set no error", f->name);
        }
        sb_api_error_clear(&err);
        if (sb_validate_pattern(f, text, len, &v, &arena, &err) == 0 && v.len != len)
            fail("a pattern changed", f->name);
        sb_api_error_clear(&err);
    }
    sb_arena_free(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load();
    if (size == 0)
        return 0;
    /* the first byte chooses the options; the rest is the body */
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    body(text, len, data[0]);
    if (len <= 512)
        filters(text, len);
    return 0;
}
