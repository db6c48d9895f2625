/* Unit tests of the body and filter validator (src/guard/validate.c and
 * values.c): what each type accepts, refuses and how it normalises; that a
 * refused body produces no rows and lists every failure with its rule; the
 * body-level limits (nesting, rows, duplicate keys, NUL and lone surrogate
 * escapes, numbers out of range); modes, readonly and system fields,
 * defaults, checks; and filter operands with PostgreSQL's error wording. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guard/validate.h"
#include "spec/spec.h"
#include "test.h"
#include "util/formats.h"

static const char spec_text[] =
    "app t\n"
    "\n"
    "collection item {\n"
    "  name     text(1..10) required\n"
    "  note     text\n"
    "  qty      int(0..100)\n"
    "  big      int\n"
    "  ratio    float(0.0..1.0)\n"
    "  score    float\n"
    "  price    decimal(10, 2) check price >= 0\n"
    "  frac     decimal(2, 2)\n"
    "  wide     decimal(20, 2)\n"
    "  whole    decimal(5, 0)\n"
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
    "  stock    int default 0 check stock >= 0\n"
    "  locked   int readonly\n"
    "  starts   date\n"
    "  ends     date\n"
    "  seen     timestamp default now()\n"
    "  index (name)\n"
    "  check starts <= ends\n"
    "}\n"
    "\n"
    "collection owner {\n"
    "  label text\n"
    "}\n";

static struct sb_model *model;
static const struct sb_collection *item;

static void load(void)
{
    if (model)
        return;
    struct sb_source source = {"t.spec", spec_text, strlen(spec_text)};
    struct sb_diags diags;
    sb_diags_init(&diags, &source);
    model = sb_spec_parse("t.spec", spec_text, strlen(spec_text), &diags);
    int rc = diags.n_errors ? -1 : sb_spec_check(model, &diags);
    if (rc != 0) {
        struct sb_buf out;
        sb_buf_init(&out);
        sb_diags_render(&diags, &out);
        printf("test spec does not check:\n%s\n", sb_buf_str(&out));
        exit(1);
    }
    sb_diags_free(&diags);
    item = sb_model_collection(model, "item");
}

/* One validation with its own arena and error. */
struct run {
    struct sb_arena arena;
    struct sb_api_error err;
    struct sb_rows rows;
    int rc;
};

static void run_opts(struct run *r, const char *body, size_t len, const struct sb_validate_opts *opts)
{
    load();
    sb_arena_init(&r->arena);
    memset(&r->err, 0, sizeof(r->err));
    r->rc = sb_validate_body(item, body, len, opts, &r->arena, &r->rows, &r->err);
}

static void run(struct run *r, const char *body)
{
    run_opts(r, body, strlen(body), NULL);
}

static void done(struct run *r)
{
    sb_api_error_clear(&r->err);
    sb_arena_free(&r->arena);
}

/* The value of field name in row 0 (NULL when the field is not written). */
static const struct sb_value *value_of(const struct run *r, size_t row, const char *name)
{
    for (size_t c = 0; c < r->rows.n_fields; c++)
        if (!strcmp(r->rows.fields[c]->name, name))
            return sb_rows_value(&r->rows, row, c);
    return NULL;
}

/* {"name":"ok", FIELD: JSON}, or {FIELD: JSON} when FIELD is name. */
static void make_body(char *body, size_t cap, const char *field, const char *json)
{
    if (!strcmp(field, "name"))
        snprintf(body, cap, "{\"name\":%s}", json);
    else
        snprintf(body, cap, "{\"name\":\"ok\",\"%s\":%s}", field, json);
}

/* {"name":"ok", FIELD: JSON} must be accepted, and FIELD's value is TEXT
 * equal to want. */
static void accept_text(const char *field, const char *json, const char *want)
{
    char body[4096];
    make_body(body, sizeof(body), field, json);
    struct run r;
    run(&r, body);
    CHECK_EQ_INT(r.rc, 0);
    if (r.rc != 0)
        printf("  body %s: %s / %s\n", body, r.err.message, r.err.details ? r.err.details : "");
    const struct sb_value *v = value_of(&r, 0, field);
    CHECK(v != NULL);
    if (v) {
        CHECK_EQ_INT(v->kind, SB_VAL_TEXT);
        CHECK_EQ_STR(v->kind == SB_VAL_TEXT ? v->text : "(not text)", want);
        if (v->kind == SB_VAL_TEXT)
            CHECK_EQ_INT(v->len, strlen(want));
    }
    done(&r);
}

static void accept_int(const char *field, const char *json, long long want)
{
    char body[4096];
    make_body(body, sizeof(body), field, json);
    struct run r;
    run(&r, body);
    CHECK_EQ_INT(r.rc, 0);
    const struct sb_value *v = value_of(&r, 0, field);
    CHECK(v && v->kind == SB_VAL_INT);
    if (v)
        CHECK_EQ_INT(v->i, want);
    done(&r);
}

/* {"name":"ok", FIELD: JSON} must be refused with exactly one failure on
 * path with rule; returns nothing, checks the message when want_message. */
static void refuse(const char *field, const char *json, const char *path, const char *rule,
                   const char *want_message)
{
    char body[4096];
    make_body(body, sizeof(body), field, json);
    struct run r;
    run(&r, body);
    CHECK_EQ_INT(r.rc, -1);
    CHECK_EQ_INT(r.err.status, 400);
    CHECK_EQ_INT(r.rows.n_rows, 0);
    CHECK(r.rows.values == NULL);
    CHECK_EQ_INT(r.err.n_fields, 1);
    if (r.err.n_fields == 1) {
        CHECK_EQ_STR(r.err.fields[0].field, path);
        CHECK_EQ_STR(r.err.fields[0].rule, rule);
        if (want_message)
            CHECK_EQ_STR(r.err.fields[0].message, want_message);
    } else {
        printf("  body %s: %s\n", body, r.err.details ? r.err.details : r.err.message);
    }
    done(&r);
}

/* The body is refused as a whole (no field list) with status and code, and
 * details (when want_details) containing want_details. */
static void refuse_body(const char *body, size_t len, const struct sb_validate_opts *opts, int status,
                        const char *code, const char *want_message, const char *want_details)
{
    struct run r;
    run_opts(&r, body, len, opts);
    CHECK_EQ_INT(r.rc, -1);
    CHECK_EQ_INT(r.err.status, status);
    CHECK_EQ_STR(r.err.code, code);
    CHECK_EQ_INT(r.rows.n_rows, 0);
    if (want_message)
        CHECK_EQ_STR(r.err.message, want_message);
    if (want_details) {
        CHECK(r.err.details && strstr(r.err.details, want_details));
        if (!r.err.details || !strstr(r.err.details, want_details))
            printf("  details: %s\n", r.err.details ? r.err.details : "(null)");
    }
    done(&r);
}

static void refuse_json(const char *body, const struct sb_validate_opts *opts, int status, const char *code,
                        const char *want_message, const char *want_details)
{
    refuse_body(body, strlen(body), opts, status, code, want_message, want_details);
}

/* ---- types ----------------------------------------------------------------- */

TEST(text_lengths_in_characters)
{
    accept_text("name", "\"a\"", "a");
    accept_text("name", "\"\\u65e5\\u672c\\u8a9e\"", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"); /* 3 chars, 9 bytes */
    accept_text("name", "\"h\xc3\xa9llo w\xc3\xb6rl\"", "h\xc3\xa9llo w\xc3\xb6rl");    /* 10 characters */
    refuse("name", "\"h\xc3\xa9llo w\xc3\xb6rld\"", "name", "max_length", "must be at most 10 characters long");
    refuse("name", "\"\"", "name", "min_length", "must be at least 1 character long");
    refuse("name", "5", "name", "type", "must be a string, not an integer");
    refuse("note", "[\"x\"]", "note", "type", "must be a string, not an array");
    /* script and SQL text is data: stored verbatim */
    accept_text("note", "\"'); DROP TABLE item; --<script>\"", "'); DROP TABLE item; --<script>");
}

TEST(int_strict)
{
    accept_int("qty", "0", 0);
    accept_int("qty", "100", 100);
    accept_int("qty", "-0", 0);
    accept_int("big", "9223372036854775807", INT64_MAX);
    accept_int("big", "-9223372036854775808", INT64_MIN);
    refuse("qty", "101", "qty", "max", "must be at most 100");
    refuse("qty", "-1", "qty", "min", "must be at least 0");
    refuse("qty", "5.0", "qty", "type", "must be an integer, not a number with a fraction or exponent");
    refuse("qty", "1e2", "qty", "type", NULL);
    refuse("qty", "\"5\"", "qty", "type", "must be an integer, not a string");
    refuse("qty", "true", "qty", "type", "must be an integer, not a boolean");
    /* past int64: jansson refuses the number itself, so the body is invalid JSON */
    refuse_json("{\"name\":\"a\",\"big\":9223372036854775808}", NULL, 400, "PGRST102",
                "Empty or invalid json", "too big integer");
    refuse_json("{\"name\":\"a\",\"big\":-9223372036854775809}", NULL, 400, "PGRST102", NULL,
                "too big negative integer");
}

TEST(float_finite_and_in_range)
{
    struct run r;
    run(&r, "{\"name\":\"a\",\"ratio\":0.25,\"score\":-0.0}");
    CHECK_EQ_INT(r.rc, 0);
    const struct sb_value *ratio = value_of(&r, 0, "ratio"), *score = value_of(&r, 0, "score");
    CHECK(ratio && ratio->kind == SB_VAL_FLOAT && ratio->f == 0.25);
    CHECK(score && score->kind == SB_VAL_FLOAT && score->f == 0 && !signbit(score->f));
    done(&r);
    run(&r, "{\"name\":\"a\",\"ratio\":1}");
    CHECK_EQ_INT(r.rc, 0);
    ratio = value_of(&r, 0, "ratio");
    CHECK(ratio && ratio->kind == SB_VAL_FLOAT && ratio->f == 1.0);
    done(&r);
    refuse("ratio", "1.5", "ratio", "max", "must be at most 1.0");
    refuse("ratio", "-0.5", "ratio", "min", "must be at least 0.0");
    refuse("score", "\"1.5\"", "score", "type", "must be a number, not a string");
    refuse_json("{\"name\":\"a\",\"score\":1e309}", NULL, 400, "PGRST102", NULL, "real number overflow");
    refuse_json("{\"name\":\"a\",\"score\":NaN}", NULL, 400, "PGRST102", NULL, NULL);
    refuse_json("{\"name\":\"a\",\"score\":Infinity}", NULL, 400, "PGRST102", NULL, NULL);
}

TEST(decimal_exact_and_canonical)
{
    accept_text("price", "\"19.9\"", "19.90");
    accept_text("price", "19.9", "19.90");
    accept_text("price", "19", "19.00");
    accept_text("price", "\"007.5\"", "7.50");
    accept_text("price", "\"19.900\"", "19.90"); /* trailing zeros are exact, not rounding */
    accept_text("price", "\"0\"", "0.00");
    accept_text("price", "\"99999999.99\"", "99999999.99");
    accept_text("price", "0.1", "0.10");
    accept_text("frac", "\"-0\"", "0.00");
    accept_text("frac", "\"-0.00\"", "0.00");
    accept_text("frac", "-0.0", "0.00");
    accept_text("frac", "\"-0.5\"", "-0.50");
    accept_text("frac", "0.99", "0.99");
    accept_text("whole", "\"12345\"", "12345");
    accept_text("whole", "\"-00012.000\"", "-12");
    accept_text("wide", "\"123456789012345678.99\"", "123456789012345678.99");
    accept_text("wide", "123456789012345", "123456789012345.00");
    accept_text("wide", "1e17", "100000000000000000.00");

    refuse("price", "\"19.999\"", "price", "scale", "must have at most 2 digits after the decimal point");
    refuse("price", "19.999", "price", "scale", NULL);
    refuse("price", "\"123456789\"", "price", "precision", "must have at most 8 digits before the decimal point");
    refuse("price", "1e20", "price", "precision", NULL);
    refuse("frac", "\"1.5\"", "frac", "precision", "must have at most 0 digits before the decimal point");
    refuse("whole", "\"1.5\"", "whole", "scale", "must have at most 0 digits after the decimal point");
    /* 0.1 + 0.2 as a JavaScript client sends it */
    refuse("price", "0.30000000000000004", "price", "scale", NULL);
    /* more than 15 significant digits in a JSON number: ask for a string */
    refuse("wide", "1234567890123456.5", "wide", "precision", NULL);
    refuse("price", "\"1e3\"", "price", "type", NULL);
    refuse("price", "\"\"", "price", "type", NULL);
    refuse("price", "\" 1\"", "price", "type", NULL);
    refuse("price", "\"1.\"", "price", "type", NULL);
    refuse("price", "\".5\"", "price", "type", NULL);
    refuse("price", "\"+1\"", "price", "type", NULL);
    refuse("price", "\"1,5\"", "price", "type", NULL);
    refuse("price", "true", "price", "type", NULL);
    /* a negative price is a valid decimal that fails the field's check */
    refuse("price", "\"-1\"", "price", "check", "must satisfy price >= 0");
    /* very long digit strings are handled in one pass */
    size_t n = 200000;
    char *body = malloc(n + 64);
    int k = snprintf(body, n + 64, "{\"name\":\"a\",\"price\":\"");
    memset(body + k, '0', n);
    snprintf(body + k + n, 64, "1.5\"}");
    struct run r;
    run(&r, body);
    CHECK_EQ_INT(r.rc, 0);
    const struct sb_value *price = value_of(&r, 0, "price");
    CHECK_EQ_STR(price ? price->text : NULL, "1.50");
    done(&r);
    free(body);
}

TEST(bool_only_true_false)
{
    accept_int("flag", "true", 1);
    accept_int("flag", "false", 0);
    refuse("flag", "1", "flag", "type", "must be true or false, not an integer");
    refuse("flag", "\"true\"", "flag", "type", "must be true or false, not a string");
}

TEST(timestamp_normalised_to_utc)
{
    accept_text("at", "\"2025-03-01T09:30:00+01:00\"", "2025-03-01T08:30:00.000000Z");
    accept_text("at", "\"2025-03-01T09:30:00Z\"", "2025-03-01T09:30:00.000000Z");
    accept_text("at", "\"2025-03-01t09:30:00.5z\"", "2025-03-01T09:30:00.500000Z");
    accept_text("at", "\"2025-03-01 09:30:00.123456789-00:00\"", "2025-03-01T09:30:00.123457Z");
    accept_text("at", "\"2024-01-01T00:00:00-05:30\"", "2024-01-01T05:30:00.000000Z");
    /* offsets across month, leap day and year ends */
    accept_text("at", "\"2024-03-01T00:30:00+01:00\"", "2024-02-29T23:30:00.000000Z");
    accept_text("at", "\"2023-03-01T00:30:00+01:00\"", "2023-02-28T23:30:00.000000Z");
    accept_text("at", "\"2000-03-01T00:30:00+01:00\"", "2000-02-29T23:30:00.000000Z");
    accept_text("at", "\"1900-03-01T00:30:00+01:00\"", "1900-02-28T23:30:00.000000Z");
    accept_text("at", "\"2024-12-31T23:30:00-01:00\"", "2025-01-01T00:30:00.000000Z");
    /* microseconds rounded half to even; a carry reaches the year */
    accept_text("at", "\"2024-12-31T23:59:59.9999995Z\"", "2025-01-01T00:00:00.000000Z");
    accept_text("at", "\"2024-01-01T00:00:00.1234565Z\"", "2024-01-01T00:00:00.123456Z");
    accept_text("at", "\"2024-01-01T00:00:00.1234575Z\"", "2024-01-01T00:00:00.123458Z");
    /* a leap second rolls over */
    accept_text("at", "\"2016-12-31T23:59:60Z\"", "2017-01-01T00:00:00.000000Z");
    const char *msg = "must be an RFC 3339 timestamp with a time zone, such as \"2025-03-01T09:30:00Z\"";
    refuse("at", "\"2025-03-01T09:30:00\"", "at", "format", msg);
    refuse("at", "\"2025-03-01\"", "at", "format", msg);
    refuse("at", "\"2023-02-29T00:00:00Z\"", "at", "format", msg);
    refuse("at", "\"2025-03-01T24:00:00Z\"", "at", "format", msg);
    refuse("at", "\"0001-01-01T00:00:00+01:00\"", "at", "format", msg);
    refuse("at", "\"9999-12-31T23:00:00-01:00\"", "at", "format", msg);
    refuse("at", "1700000000", "at", "type", NULL);
}

TEST(date_uuid_email_url_enum)
{
    accept_text("day", "\"2024-02-29\"", "2024-02-29");
    refuse("day", "\"2023-02-29\"", "day", "format", "must be a date that exists, written YYYY-MM-DD");
    refuse("day", "\"2024-2-9\"", "day", "format", NULL);
    accept_text("uid", "\"0E2A6F1C-9B7D-4C3E-8F10-ABCDEF012345\"", "0e2a6f1c-9b7d-4c3e-8f10-abcdef012345");
    refuse("uid", "\"0e2a6f1c9b7d4c3e8f10abcdef012345\"", "uid", "format", NULL);
    accept_text("mail", "\"Ann.Lee+shop@Example.com\"", "Ann.Lee+shop@Example.com");
    refuse("mail", "\"ann@localhost\"", "mail", "format", "must be an email address (local@domain)");
    refuse("mail", "\"not an email\"", "mail", "format", NULL);
    accept_text("site", "\"https://example.com/a?b=c\"", "https://example.com/a?b=c");
    refuse("site", "\"javascript:alert(1)\"", "site", "format", "must be an absolute http or https URL");
    accept_text("status", "\"cancelled\"", "cancelled");
    refuse("status", "\"shipped\"", "status", "enum", "must be one of placed, cancelled");
    refuse("status", "\"Placed\"", "status", "enum", NULL);
}

TEST(json_compact_any_value)
{
    accept_text("data", "{ \"b\" : [1, 2.5, \"x\", null, 0.1], \"a\" : {\"t\": true} }",
                "{\"b\":[1,2.5,\"x\",null,0.1],\"a\":{\"t\":true}}");
    accept_text("data", "\"just text\"", "\"just text\"");
    accept_text("data", "42", "42");
    struct run r;
    run(&r, "{\"name\":\"a\",\"data\":null}");
    CHECK_EQ_INT(r.rc, 0);
    const struct sb_value *data = value_of(&r, 0, "data");
    CHECK(data && data->kind == SB_VAL_NULL);
    done(&r);
}

TEST(password_flagged_secret_never_echoed)
{
    struct run r;
    run(&r, "{\"name\":\"a\",\"secret\":\"hunter2\"}");
    CHECK_EQ_INT(r.rc, 0);
    const struct sb_value *secret = value_of(&r, 0, "secret");
    CHECK(secret && secret->kind == SB_VAL_TEXT && (secret->flags & SB_VALUE_SECRET));
    CHECK_EQ_STR(secret ? secret->text : NULL, "hunter2");
    const struct sb_value *name = value_of(&r, 0, "name");
    CHECK(name && !(name->flags & SB_VALUE_SECRET));
    done(&r);

    char body[2200];
    int n = snprintf(body, sizeof(body), "{\"name\":\"\",\"secret\":\"");
    memset(body + n, 'p', 1025);
    snprintf(body + n + 1025, sizeof(body) - (size_t)n - 1025, "\"}");
    run(&r, body);
    CHECK_EQ_INT(r.rc, -1);
    CHECK_EQ_STR(r.err.details, "name: must be at least 1 character long; secret: must be at most 1024 bytes long");
    CHECK(!strstr(r.err.details, "ppp") && !strstr(r.err.message, "ppp"));
    done(&r);
    refuse("secret", "12345", "secret", "type", "must be a string, not an integer");
}

TEST(relation_ids)
{
    accept_int("owner", "5", 5);
    refuse("owner", "0", "owner", "min", "must be at least 1 (the id of a owner row)");
    refuse("owner", "-3", "owner", "min", NULL);
    refuse("owner", "\"5\"", "owner", "type", "must be the id of a owner row (an integer), not a string");
    refuse("owner", "{\"id\":5}", "owner", "type", NULL);
}

TEST(arrays_elements_and_counts)
{
    accept_text("tags", "[\"a\", \"bb\"]", "[\"a\",\"bb\"]");
    accept_text("tags", "[]", "[]");
    accept_text("nums", "[1, 9]", "[1,9]");
    accept_text("amounts", "[\"1.5\", 2, 0.25]", "[\"1.50\",\"2.00\",\"0.25\"]");
    refuse("tags", "[\"a\",\"b\",\"c\",\"d\"]", "tags", "items", "must have at most 3 elements");
    refuse("tags", "[\"toolong\"]", "tags[0]", "max_length", "must be at most 5 characters long");
    refuse("tags", "[\"a\", null]", "tags[1]", "type", "must not be null");
    refuse("tags", "\"a\"", "tags", "type", "must be an array, not a string");
    refuse("nums", "[]", "nums", "items", "must have at least 1 element");
    refuse("nums", "[1, 10]", "nums[1]", "max", "must be at most 9");
    refuse("amounts", "[\"1.234\"]", "amounts[0]", "scale", NULL);

    /* every bad element is listed */
    struct run r;
    run(&r, "{\"name\":\"a\",\"tags\":[\"toolong\",1,\"ok\",\"alsotoolong\"]}");
    CHECK_EQ_INT(r.rc, -1);
    CHECK_EQ_STR(r.err.details,
                 "tags: must have at most 3 elements; tags[0]: must be at most 5 characters long; tags[1]: must be a string, not an integer; "
                 "tags[3]: must be at most 5 characters long");
    done(&r);
}

/* ---- the body ---------------------------------------------------------------- */

TEST(every_failure_listed)
{
    struct run r;
    run(&r, "{\"name\":\"\",\"qty\":500,\"price\":\"-1\",\"mail\":\"x\",\"flag\":\"yes\"}");
    CHECK_EQ_INT(r.rc, -1);
    CHECK_EQ_INT(r.err.status, 400);
    CHECK_EQ_STR(r.err.code, "23514");
    CHECK_EQ_STR(r.err.message, "Invalid data for 'item': 5 fields failed validation");
    CHECK_EQ_STR(r.err.details,
                 "name: must be at least 1 character long; qty: must be at most 100; "
                 "flag: must be true or false, not a string; mail: must be an email address (local@domain); "
                 "price: must satisfy price >= 0");
    CHECK_EQ_INT(r.err.n_fields, 5);
    if (r.err.n_fields == 5) {
        CHECK_EQ_STR(r.err.fields[0].rule, "min_length");
        CHECK_EQ_STR(r.err.fields[1].rule, "max");
        CHECK_EQ_STR(r.err.fields[2].rule, "type");
        CHECK_EQ_STR(r.err.fields[3].rule, "format");
        CHECK_EQ_STR(r.err.fields[4].field, "price");
        CHECK_EQ_STR(r.err.fields[4].rule, "check");
    }
    CHECK_EQ_INT(r.rows.n_rows, 0);
    done(&r);

    /* only type errors: PostgreSQL's invalid_text_representation */
    run(&r, "{\"name\":\"a\",\"qty\":\"x\",\"flag\":1}");
    CHECK_EQ_STR(r.err.code, "22P02");
    done(&r);
    /* only missing required fields: not_null_violation */
    run(&r, "{}");
    CHECK_EQ_INT(r.rc, -1);
    CHECK_EQ_STR(r.err.code, "23502");
    CHECK_EQ_STR(r.err.details, "name: is required");
    done(&r);
}

TEST(bulk_one_bad_row_writes_nothing)
{
    struct run r;
    run(&r, "[{\"name\":\"a\",\"qty\":1},{\"name\":\"b\",\"qty\":2},{\"name\":\"c\",\"qty\":-1},"
            "{\"name\":\"\",\"qty\":3}]");
    CHECK_EQ_INT(r.rc, -1);
    CHECK_EQ_INT(r.rows.n_rows, 0);
    CHECK_EQ_INT(r.rows.n_fields, 0);
    CHECK(r.rows.values == NULL);
    CHECK_EQ_STR(r.err.details, "[2].qty: must be at least 0; [3].name: must be at least 1 character long");
    CHECK_EQ_STR(r.err.message, "Invalid data for 'item': 2 fields failed validation");
    done(&r);

    run(&r, "[{\"qty\":1,\"name\":\"a\"},{\"name\":\"b\",\"qty\":2}]");
    CHECK_EQ_INT(r.rc, 0);
    CHECK(r.rows.bulk);
    CHECK_EQ_INT(r.rows.n_rows, 2);
    CHECK_EQ_INT(r.rows.n_fields, 2);
    CHECK_EQ_STR(r.rows.fields[0]->name, "name"); /* model order, not key order */
    CHECK_EQ_STR(r.rows.fields[1]->name, "qty");
    CHECK_EQ_STR(sb_rows_value(&r.rows, 1, 0)->text, "b");
    CHECK_EQ_INT(sb_rows_value(&r.rows, 1, 1)->i, 2);
    CHECK(!r.rows.has_defaults);
    done(&r);

    refuse_json("[{\"name\":\"a\"},{\"name\":\"b\",\"qty\":1}]", NULL, 400, "PGRST102",
                "All object keys must match", NULL);
    refuse_json("[{\"name\":\"a\",\"qty\":1},{\"name\":\"b\",\"note\":\"x\"}]", NULL, 400, "PGRST102",
                "All object keys must match", NULL);
}

TEST(bulk_columns_and_defaults)
{
    static const char *const columns[] = {"name", "qty", "status", "seen"};
    struct sb_validate_opts opts = {.mode = SB_VALIDATE_CREATE, .columns = columns, .n_columns = 4};
    const char *body = "[{\"name\":\"a\",\"ignored\":1},{\"name\":\"b\",\"qty\":2,\"status\":\"cancelled\"}]";
    struct run r;
    run_opts(&r, body, strlen(body), &opts);
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.rows.n_fields, 4);
    CHECK(r.rows.has_defaults);
    const struct sb_value *qty0 = value_of(&r, 0, "qty"), *status0 = value_of(&r, 0, "status");
    const struct sb_value *seen0 = value_of(&r, 0, "seen"), *status1 = value_of(&r, 1, "status");
    CHECK(qty0 && qty0->kind == SB_VAL_NULL && qty0->flags == SB_VALUE_DEFAULT);
    CHECK(status0 && status0->kind == SB_VAL_TEXT && !strcmp(status0->text, "placed") &&
          status0->flags == SB_VALUE_DEFAULT);
    CHECK(seen0 && seen0->kind == SB_VAL_NULL && seen0->flags == (SB_VALUE_DEFAULT | SB_VALUE_COMPUTED));
    CHECK(status1 && !strcmp(status1->text, "cancelled") && status1->flags == 0);
    done(&r);

    /* a required field missing from a row of columns= */
    body = "[{\"qty\":1},{\"name\":\"b\"}]";
    run_opts(&r, body, strlen(body), &opts);
    CHECK_EQ_INT(r.rc, -1);
    CHECK_EQ_STR(r.err.details, "[0].name: is required");
    done(&r);

    static const char *const bad_columns[] = {"name", "nope"};
    opts.columns = bad_columns;
    opts.n_columns = 2;
    body = "{\"name\":\"a\"}";
    run_opts(&r, body, strlen(body), &opts);
    CHECK_EQ_INT(r.rc, -1);
    CHECK_EQ_STR(r.err.code, "PGRST204");
    CHECK_EQ_STR(r.err.message, "Could not find the 'nope' column of 'item' in the schema cache");
    done(&r);
}

TEST(unknown_keys)
{
    struct run r;
    run(&r, "{\"name\":\"a\",\"nope\":1,\"qty\":-1,\"also_nope\":2}");
    CHECK_EQ_INT(r.rc, -1);
    CHECK_EQ_INT(r.err.status, 400);
    CHECK_EQ_STR(r.err.code, "PGRST204");
    CHECK_EQ_STR(r.err.message, "Could not find the 'nope' column of 'item' in the schema cache");
    CHECK_EQ_STR(r.err.details,
                 "nope: is not a field of item; also_nope: is not a field of item; qty: must be at least 0");
    done(&r);

    /* a hostile key is cut in messages */
    char body[1200];
    int n = snprintf(body, sizeof(body), "{\"");
    memset(body + n, 'k', 1000);
    snprintf(body + n + 1000, sizeof(body) - (size_t)n - 1000, "\":1}");
    run(&r, body);
    CHECK_EQ_STR(r.err.code, "PGRST204");
    CHECK(strlen(r.err.message) < 200);
    done(&r);
}

TEST(required_and_null_by_mode)
{
    struct run r;
    run(&r, "{\"name\":null}");
    CHECK_EQ_INT(r.rc, -1);
    CHECK_EQ_STR(r.err.details, "name: is required and cannot be null");
    done(&r);

    /* a missing key with a default is fine; an explicit null is a value */
    run(&r, "{\"name\":\"a\",\"qty\":null}");
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.rows.n_fields, 2);
    CHECK(value_of(&r, 0, "qty")->kind == SB_VAL_NULL);
    CHECK(value_of(&r, 0, "status") == NULL);
    done(&r);

    struct sb_validate_opts update = {.mode = SB_VALIDATE_UPDATE};
    run_opts(&r, "{}", 2, &update);
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.rows.n_fields, 0);
    CHECK_EQ_INT(r.rows.n_rows, 1);
    done(&r);
    run_opts(&r, "{\"qty\":5}", 9, &update);
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.rows.n_fields, 1);
    done(&r);
    run_opts(&r, "{\"name\":null}", 13, &update);
    CHECK_EQ_INT(r.rc, -1);
    CHECK_EQ_STR(r.err.details, "name: is required and cannot be null");
    done(&r);
    refuse_json("[{\"qty\":1}]", &update, 400, "PGRST102",
                "An update body must be one JSON object, not an array", NULL);
}

TEST(readonly_and_system_fields)
{
    struct run r;
    run(&r, "{\"name\":\"a\",\"locked\":1,\"created_at\":\"2024-01-01T00:00:00Z\",\"updated_at\":null}");
    CHECK_EQ_INT(r.rc, -1);
    CHECK_EQ_STR(r.err.details,
                 "locked: is read-only; created_at: is set by the server; updated_at: is set by the server");
    CHECK_EQ_INT(r.err.n_fields, 3);
    if (r.err.n_fields == 3)
        CHECK_EQ_STR(r.err.fields[0].rule, "readonly");
    done(&r);

    struct sb_validate_opts trusted = {.mode = SB_VALIDATE_CREATE, .allow_readonly = true};
    const char *body = "{\"name\":\"a\",\"locked\":1}";
    run_opts(&r, body, strlen(body), &trusted);
    CHECK_EQ_INT(r.rc, 0);
    done(&r);
    body = "{\"name\":\"a\",\"created_at\":\"2024-01-01T00:00:00Z\"}";
    run_opts(&r, body, strlen(body), &trusted);
    CHECK_EQ_INT(r.rc, -1);
    done(&r);

    /* explicit ids on create and upsert, never on update */
    accept_int("id", "7", 7);
    refuse("id", "0", "id", "min", "must be at least 1");
    refuse("id", "null", "id", "required", NULL);
    struct sb_validate_opts upsert = {.mode = SB_VALIDATE_UPSERT};
    body = "[{\"id\":1,\"name\":\"a\"},{\"id\":2,\"name\":\"b\"}]";
    run_opts(&r, body, strlen(body), &upsert);
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.rows.n_fields, 2);
    CHECK_EQ_STR(r.rows.fields[0]->name, "id");
    done(&r);
    struct sb_validate_opts update = {.mode = SB_VALIDATE_UPDATE};
    run_opts(&r, "{\"id\":7}", 8, &update);
    CHECK_EQ_INT(r.rc, -1);
    CHECK_EQ_STR(r.err.details, "id: cannot be changed");
    done(&r);
}

TEST(field_and_row_checks)
{
    struct run r;
    /* the default 0 satisfies stock >= 0; a given -1 does not */
    run(&r, "{\"name\":\"a\"}");
    CHECK_EQ_INT(r.rc, 0);
    done(&r);
    run(&r, "{\"name\":\"a\",\"stock\":-1}");
    CHECK_EQ_STR(r.err.details, "stock: must satisfy stock >= 0");
    done(&r);
    run(&r, "{\"name\":\"a\",\"starts\":\"2024-02-01\",\"ends\":\"2024-01-01\"}");
    CHECK_EQ_INT(r.rc, -1);
    CHECK_EQ_STR(r.err.details, "starts,ends: must satisfy starts <= ends");
    if (r.err.n_fields)
        CHECK_EQ_STR(r.err.fields[0].rule, "check");
    done(&r);
    /* null passes, as in SQL */
    run(&r, "{\"name\":\"a\",\"starts\":\"2024-02-01\",\"ends\":null}");
    CHECK_EQ_INT(r.rc, 0);
    done(&r);
    run(&r, "[{\"name\":\"a\",\"stock\":1},{\"name\":\"b\",\"stock\":-2}]");
    CHECK_EQ_STR(r.err.details, "[1].stock: must satisfy stock >= 0");
    done(&r);

    /* update: only checks the patch decides */
    struct sb_validate_opts update = {.mode = SB_VALIDATE_UPDATE};
    const char *body = "{\"starts\":\"2024-02-01\"}";
    run_opts(&r, body, strlen(body), &update);
    CHECK_EQ_INT(r.rc, 0);
    done(&r);
    body = "{\"stock\":-5}";
    run_opts(&r, body, strlen(body), &update);
    CHECK_EQ_INT(r.rc, -1);
    CHECK_EQ_STR(r.err.details, "stock: must satisfy stock >= 0");
    done(&r);
    /* a field that failed its type is not used by checks */
    run(&r, "{\"name\":\"a\",\"stock\":\"x\"}");
    CHECK_EQ_STR(r.err.details, "stock: must be an integer, not a string");
    done(&r);
}

TEST(body_shape)
{
    refuse_json("", NULL, 400, "PGRST102", "Empty or invalid json", "line 1");
    refuse_json("{", NULL, 400, "PGRST102", "Empty or invalid json", "line 1, column 1");
    refuse_json("{\"name\":\"a\"}x", NULL, 400, "PGRST102", NULL, "end of file expected");
    refuse_json("5", NULL, 400, "PGRST102", "The body must be a JSON object or an array of objects", NULL);
    refuse_json("[]", NULL, 400, "PGRST102", "The body is an empty array: send at least one object", NULL);
    refuse_json("[{\"name\":\"a\"},1]", NULL, 400, "PGRST102",
                "Element 1 of the body array is not a JSON object", NULL);
    refuse_json("{\"name\":\"a\",\"name\":\"b\"}", NULL, 400, "PGRST102", NULL, "duplicate object key");
    refuse_json("{\"name\":\"a\",\"data\":{\"k\":1,\"k\":2}}", NULL, 400, "PGRST102", NULL,
                "duplicate object key");
    /* a lone surrogate and a NUL escape are refused by the parser */
    refuse_json("{\"name\":\"\\ud800\"}", NULL, 400, "PGRST102", NULL, "invalid Unicode");
    refuse_json("{\"name\":\"a\\u0000b\"}", NULL, 400, "PGRST102", NULL, "\\u0000 is not allowed");
    refuse_json("{\"name\":\"a\xff\"}", NULL, 400, "PGRST102", NULL, "unable to decode byte 0xff");
    refuse_json("{\"name\":\"a\",\"na\\u0000me\":1}", NULL, 400, "PGRST102", NULL, "NUL byte");
    refuse_body("{\"name\":\"a\"}", 5, NULL, 400, "PGRST102", NULL, NULL); /* len is honoured */
    /* a valid surrogate pair is one character */
    accept_text("name", "\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80");
}

TEST(limits_depth_rows_size)
{
    /* 100k nested arrays: refused by the scan, before parsing */
    size_t n = 100000;
    char *bomb = malloc(2 * n);
    memset(bomb, '[', n);
    memset(bomb + n, ']', n);
    clock_t start = clock();
    refuse_body(bomb, 2 * n, NULL, 400, "PGRST102", "The JSON body is nested deeper than 32 levels", NULL);
    CHECK((double)(clock() - start) / CLOCKS_PER_SEC < 0.05);
    /* the same inside a string is just text */
    char *text = malloc(2 * n + 32);
    int k = snprintf(text, 32, "{\"name\":\"a\",\"note\":\"");
    memcpy(text + k, bomb, 2 * n);
    memcpy(text + k + 2 * n, "\"}", 3);
    struct run r;
    run(&r, text);
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(value_of(&r, 0, "note")->len, 2 * n);
    done(&r);
    free(text);
    free(bomb);

    /* exactly the limit passes; one more level does not */
    char deep[256];
    k = snprintf(deep, sizeof(deep), "{\"name\":\"a\",\"data\":");
    for (int i = 0; i < 31; i++)
        deep[k++] = '[';
    for (int i = 0; i < 31; i++)
        deep[k++] = ']';
    memcpy(deep + k, "}", 2);
    run(&r, deep);
    CHECK_EQ_INT(r.rc, 0);
    done(&r);
    struct sb_validate_opts tight = {.mode = SB_VALIDATE_CREATE, .max_depth = 31};
    refuse_body(deep, strlen(deep), &tight, 400, "PGRST102", "The JSON body is nested deeper than 31 levels", NULL);
    /* an escaped quote does not end a string for the scan */
    refuse_json("{\"name\":\"\\\"[[[[\",\"data\":[[[[]]]]}",
                &(struct sb_validate_opts){.max_depth = 4}, 400, "PGRST102", NULL, NULL);
    const char *quoted = "{\"name\":\"\\\"[[[[\",\"data\":[[]]}";
    run_opts(&r, quoted, strlen(quoted), &(struct sb_validate_opts){.max_depth = 4});
    CHECK_EQ_INT(r.rc, 0);
    done(&r);

    struct sb_validate_opts few = {.mode = SB_VALIDATE_CREATE, .max_rows = 2};
    const char *three = "[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}]";
    refuse_body(three, strlen(three), &few, 413, "54000", "Too many rows in one request: 3 (the limit is 2)", NULL);
    run_opts(&r, three, strlen(three), NULL);
    CHECK_EQ_INT(r.rc, 0);
    CHECK_EQ_INT(r.rows.n_rows, 3);
    done(&r);

    /* the default row limit: 1001 objects */
    size_t cap = 1001 * 16 + 8, len = 0;
    char *many = malloc(cap);
    many[len++] = '[';
    for (int i = 0; i < 1001; i++)
        len += (size_t)snprintf(many + len, cap - len, "%s{\"name\":\"x\"}", i ? "," : "");
    many[len++] = ']';
    refuse_body(many, len, NULL, 413, "54000", "Too many rows in one request: 1001 (the limit is 1000)", NULL);
    free(many);

    /* a megabyte string: accepted where unbounded, refused where bounded */
    size_t big = 1 << 20;
    char *huge = malloc(big + 64);
    k = snprintf(huge, 64, "{\"name\":\"a\",\"note\":\"");
    memset(huge + k, 'x', big);
    memcpy(huge + k + big, "\"}", 3);
    run(&r, huge);
    CHECK_EQ_INT(r.rc, 0);
    done(&r);
    k = snprintf(huge, 64, "{\"name\":\"");
    memset(huge + k, 'x', big);
    memcpy(huge + k + big, "\"}", 3);
    run(&r, huge);
    CHECK_EQ_STR(r.err.details, "name: must be at most 10 characters long");
    done(&r);
    free(huge);

    /* thousands of unknown keys: counted, listed up to 100 */
    size_t keys_cap = 5000 * 16, keys_len = 0;
    char *keys = malloc(keys_cap);
    keys[keys_len++] = '{';
    for (int i = 0; i < 5000; i++)
        keys_len += (size_t)snprintf(keys + keys_len, keys_cap - keys_len, "%s\"k%d\":1", i ? "," : "", i);
    keys[keys_len++] = '}';
    run_opts(&r, keys, keys_len, NULL);
    CHECK_EQ_STR(r.err.code, "PGRST204");
    CHECK_EQ_INT(r.err.n_fields, 100);
    CHECK(r.err.details && strstr(r.err.details, "; and 4901 more"));
    done(&r);
    free(keys);
}

/* ---- filters -------------------------------------------------------------------- */

static const struct sb_field *field(const char *name)
{
    load();
    return sb_collection_field(item, name);
}

static void filter_ok(const char *name, const char *text, const char *want_text, long long want_int)
{
    struct sb_arena arena;
    struct sb_api_error err = {0};
    struct sb_value v;
    sb_arena_init(&arena);
    int rc = sb_validate_filter_value(field(name), text, strlen(text), &v, &arena, &err);
    CHECK_EQ_INT(rc, 0);
    if (rc != 0)
        printf("  %s=%s: %s\n", name, text, err.message);
    if (want_text) {
        CHECK_EQ_INT(v.kind, SB_VAL_TEXT);
        CHECK_EQ_STR(v.kind == SB_VAL_TEXT ? v.text : NULL, want_text);
    } else {
        CHECK_EQ_INT(v.kind, SB_VAL_INT);
        CHECK_EQ_INT(v.i, want_int);
    }
    sb_api_error_clear(&err);
    sb_arena_free(&arena);
}

static void filter_bad(const char *name, const char *text, size_t len, const char *code, const char *message)
{
    struct sb_arena arena;
    struct sb_api_error err = {0};
    struct sb_value v;
    sb_arena_init(&arena);
    int rc = sb_validate_filter_value(field(name), text, len, &v, &arena, &err);
    CHECK_EQ_INT(rc, -1);
    CHECK_EQ_INT(err.status, 400);
    CHECK_EQ_STR(err.code, code);
    CHECK_EQ_STR(err.message, message);
    CHECK_EQ_INT(err.n_fields, 1);
    if (err.n_fields)
        CHECK_EQ_STR(err.fields[0].field, name);
    sb_api_error_clear(&err);
    sb_arena_free(&arena);
}

TEST(filter_values)
{
    filter_ok("qty", "42", NULL, 42);
    filter_ok("qty", "-5", NULL, -5); /* ranges do not apply to filters */
    filter_ok("id", "9223372036854775807", NULL, INT64_MAX);
    filter_ok("owner", "3", NULL, 3);
    filter_bad("qty", "abc", 3, "22P02", "invalid input syntax for type bigint: \"abc\"");
    filter_bad("qty", " 1", 2, "22P02", "invalid input syntax for type bigint: \" 1\"");
    filter_bad("qty", "+1", 2, "22P02", "invalid input syntax for type bigint: \"+1\"");
    filter_bad("qty", "1.0", 3, "22P02", "invalid input syntax for type bigint: \"1.0\"");
    filter_bad("qty", "", 0, "22P02", "invalid input syntax for type bigint: \"\"");
    filter_bad("id", "9223372036854775808", 19, "22003",
               "value \"9223372036854775808\" is out of range for type bigint");
    filter_bad("owner", "x1", 2, "22P02", "invalid input syntax for type bigint: \"x1\"");

    struct sb_arena arena;
    struct sb_api_error err = {0};
    struct sb_value v;
    sb_arena_init(&arena);
    CHECK_EQ_INT(sb_validate_filter_value(field("score"), "1.5e3", 5, &v, &arena, &err), 0);
    CHECK(v.kind == SB_VAL_FLOAT && v.f == 1500.0);
    CHECK_EQ_INT(sb_validate_filter_value(field("score"), ".5", 2, &v, &arena, &err), 0);
    CHECK(v.kind == SB_VAL_FLOAT && v.f == 0.5);
    sb_arena_free(&arena);
    filter_bad("score", "abc", 3, "22P02", "invalid input syntax for type double precision: \"abc\"");
    filter_bad("score", "nan", 3, "22P02", "invalid input syntax for type double precision: \"nan\"");
    filter_bad("score", "0x10", 4, "22P02", "invalid input syntax for type double precision: \"0x10\"");
    filter_bad("score", "1e999", 5, "22003", "\"1e999\" is out of range for type double precision");

    filter_ok("price", "19.9", "19.90", 0);
    filter_ok("price", "-0", "0.00", 0);
    filter_ok("price", "19.999", "19.999", 0);            /* kept exactly, never rounded */
    filter_ok("price", "123456789012", "123456789012.00", 0); /* precision not enforced */
    filter_bad("price", "1e3", 3, "22P02", "invalid input syntax for type numeric: \"1e3\"");

    filter_ok("flag", "true", NULL, 1);
    filter_ok("flag", "TRUE", NULL, 1);
    filter_ok("flag", "t", NULL, 1);
    filter_ok("flag", "1", NULL, 1);
    filter_ok("flag", "false", NULL, 0);
    filter_ok("flag", "F", NULL, 0);
    filter_ok("flag", "0", NULL, 0);
    filter_bad("flag", "yes", 3, "22P02", "invalid input syntax for type boolean: \"yes\"");

    filter_ok("at", "2024-01-01T10:00:00+02:00", "2024-01-01T08:00:00.000000Z", 0);
    filter_ok("at", "2024-01-01", "2024-01-01T00:00:00.000000Z", 0);
    filter_ok("at", "2024-01-01T10:00:00", "2024-01-01T10:00:00.000000Z", 0);
    filter_ok("created_at", "2024-01-01 10:00:00.5Z", "2024-01-01T10:00:00.500000Z", 0);
    filter_bad("at", "yesterday", 9, "22007",
               "invalid input syntax for type timestamp with time zone: \"yesterday\"");
    filter_ok("day", "2024-02-29", "2024-02-29", 0);
    filter_bad("day", "2024-02-30", 10, "22007", "invalid input syntax for type date: \"2024-02-30\"");
    filter_ok("uid", "0E2A6F1C-9B7D-4C3E-8F10-ABCDEF012345", "0e2a6f1c-9b7d-4c3e-8f10-abcdef012345", 0);
    filter_bad("uid", "1", 1, "22P02", "invalid input syntax for type uuid: \"1\"");
    filter_ok("status", "placed", "placed", 0);
    filter_bad("status", "shipped", 7, "22P02",
               "invalid input value for enum status: \"shipped\" (one of placed, cancelled)");
    filter_ok("mail", "a@b.co", "a@b.co", 0);
    filter_bad("mail", "nope", 4, "22P02", "invalid input syntax for type email: \"nope\"");
    filter_ok("note", "any text at all", "any text at all", 0);
    filter_ok("tags", "toolongforatag", "toolongforatag", 0); /* one element; ranges not applied */
    filter_ok("data", "{ \"a\" : [1, 2] }", "{\"a\":[1,2]}", 0);
    filter_ok("data", "-0.0", "0", 0); /* as jsonb: no negative zero */
    filter_ok("data", "[-1e-9500]", "[0]", 0);
    filter_bad("data", "{", 1, "22P02", "invalid input syntax for type json: \"{\"");
    filter_bad("note", "a\xff", 2, "22021", "invalid byte sequence for encoding \"UTF8\"");
    filter_bad("note", "a\0b", 3, "22021", "invalid byte sequence for encoding \"UTF8\"");
    filter_bad("secret", "x", 1, "PGRST100", "'secret' is a password field and cannot be used in a filter");

    /* a long operand is cut in the message */
    char long_text[400];
    memset(long_text, '9', sizeof(long_text));
    long_text[0] = 'x';
    sb_arena_init(&arena);
    CHECK_EQ_INT(sb_validate_filter_value(field("qty"), long_text, sizeof(long_text), &v, &arena, &err), -1);
    CHECK(strlen(err.message) < 160);
    sb_api_error_clear(&err);
    sb_arena_free(&arena);
}

TEST(filter_patterns)
{
    struct sb_arena arena;
    struct sb_api_error err = {0};
    struct sb_value v;
    sb_arena_init(&arena);
    CHECK_EQ_INT(sb_validate_pattern(field("mail"), "%@example%", 10, &v, &arena, &err), 0);
    CHECK_EQ_STR(v.text, "%@example%");
    CHECK_EQ_INT(sb_validate_pattern(field("at"), "2024-*", 6, &v, &arena, &err), 0);
    CHECK_EQ_INT(sb_validate_pattern(field("note"), "\xc3", 1, &v, &arena, &err), -1);
    CHECK_EQ_STR(err.code, "22021");
    sb_api_error_clear(&err);
    CHECK_EQ_INT(sb_validate_pattern(field("secret"), "a*", 2, &v, &arena, &err), -1);
    sb_api_error_clear(&err);
    sb_arena_free(&arena);
}

TEST(utf8_validity_and_timestamp_helper)
{
    CHECK(sb_utf8_valid("", 0));
    CHECK(sb_utf8_valid("plain", 5));
    CHECK(sb_utf8_valid("\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80", 9));
    CHECK(!sb_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    CHECK(!sb_utf8_valid("\xe0\x80\xaf", 3));     /* overlong, 3 bytes */
    CHECK(!sb_utf8_valid("\xed\xa0\x80", 3));     /* U+D800, a surrogate */
    CHECK(!sb_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    CHECK(!sb_utf8_valid("\xe6\x97", 2));         /* truncated */
    CHECK(!sb_utf8_valid("\x80", 1));             /* stray continuation */
    CHECK(!sb_utf8_valid("\xff", 1));
    char utc[SB_TIMESTAMP_UTC_LEN + 1];
    CHECK(sb_format_timestamp_utc("2024-02-29T23:59:59.999999-23:59", strlen("2024-02-29T23:59:59.999999-23:59"), false, utc));
    CHECK_EQ_STR(utc, "2024-03-01T23:58:59.999999Z");
    CHECK(sb_format_timestamp_utc("0001-01-01T00:00:00Z", strlen("0001-01-01T00:00:00Z"), false, utc));
    CHECK_EQ_STR(utc, "0001-01-01T00:00:00.000000Z");
    CHECK(sb_format_timestamp_utc("9999-12-31T23:59:59.9999994Z", strlen("9999-12-31T23:59:59.9999994Z"), false, utc));
    CHECK_EQ_STR(utc, "9999-12-31T23:59:59.999999Z");
    CHECK(!sb_format_timestamp_utc("9999-12-31T23:59:59.9999996Z", strlen("9999-12-31T23:59:59.9999996Z"), false, utc));
    CHECK(!sb_format_timestamp_utc("2024-01-01", strlen("2024-01-01"), false, utc));
    CHECK(sb_format_timestamp_utc("2024-01-01", strlen("2024-01-01"), true, utc));
    CHECK(!sb_format_timestamp_utc("2024-01-01T10:00", strlen("2024-01-01T10:00"), true, utc));
    CHECK(!sb_format_timestamp_utc("2024-01-01T10:00:00+0100", strlen("2024-01-01T10:00:00+0100"), true, utc));
}

TEST(zz_release_model)
{
    sb_model_free(model);
    model = NULL;
}
