/* Unit tests of the expression evaluator (src/spec/eval.c) on expressions
 * the spec front end has parsed and checked: SQL's three-valued logic and
 * null handling, exact int arithmetic with overflow and division errors,
 * decimals, text, timestamps against string literals and dates, list
 * membership for literal lists and array fields, the functions, unknown
 * values, and names that have no value in check scope. */
#include <stdlib.h>
#include <string.h>

#include "spec/eval.h"
#include "spec/spec.h"
#include "test.h"

/* Field positions in the test collection (id is 0). */
enum { F_ID, F_A, F_B, F_F, F_D, F_S, F_E, F_TS, F_DT, F_TAGS, F_NUMS, F_J, F_FLAG, F_DS, F_N };

static const char head[] =
    "app t\n"
    "auth {\n  users: u\n}\n"
    "collection u {\n  email email required unique\n  password password\n}\n"
    "collection r {\n"
    "  a int\n  b int\n  f float\n  d decimal(10, 2)\n  s text\n  e enum(x, y)\n"
    "  ts timestamp\n  dt date\n  tags text[]\n  nums int[]\n  j json\n  flag bool\n"
    "  ds decimal(5, 2)[]\n"
    "  index (a)\n";

static struct sb_value row[F_N + 3];
static unsigned char known[F_N + 3];

static void reset_row(void)
{
    memset(row, 0, sizeof(row));
    memset(known, 1, sizeof(known));
}

static void set_int(int field, int64_t v)
{
    row[field] = (struct sb_value){.kind = SB_VAL_INT, .i = v};
}

static void set_float(int field, double v)
{
    row[field] = (struct sb_value){.kind = SB_VAL_FLOAT, .f = v};
}

static void set_text(int field, const char *text)
{
    row[field] = (struct sb_value){.kind = SB_VAL_TEXT, .text = text, .len = strlen(text)};
}

/* Compile the spec with expr as a row check (or, with rule, as a read
 * rule) and evaluate it over row; *out is valid for scalar results only
 * (text results point into freed memory). Fails the test when the spec
 * does not check. */
static int eval_in(const char *expr, bool rule, sb_eval_lookup_fn lookup, struct sb_value *out)
{
    char spec[4096];
    snprintf(spec, sizeof(spec), "%s  %s %s\n}\n", head, rule ? "allow read" : "check", expr);
    struct sb_source source = {"t.spec", spec, strlen(spec)};
    struct sb_diags diags;
    sb_diags_init(&diags, &source);
    struct sb_model *model = sb_spec_parse("t.spec", spec, strlen(spec), &diags);
    int rc = diags.n_errors ? -1 : sb_spec_check(model, &diags);
    if (rc != 0) {
        struct sb_buf report;
        sb_buf_init(&report);
        sb_diags_render(&diags, &report);
        printf("spec does not check for '%s':\n%s\n", expr, sb_buf_str(&report));
        sb_buf_free(&report);
        sb_diags_free(&diags);
        sb_model_free(model);
        CHECK(!"spec checks");
        return 99;
    }
    sb_diags_free(&diags);
    const struct sb_collection *coll = sb_model_collection(model, "r");
    const struct sb_expr *e = rule ? coll->rules[0]->expr : coll->checks[0]->expr;
    struct sb_arena arena;
    sb_arena_init(&arena);
    struct sb_eval_env env = {.row = row, .known = known, .n_row = F_N, .arena = &arena, .lookup = lookup};
    rc = sb_eval(e, &env, out);
    sb_arena_free(&arena);
    sb_model_free(model);
    return rc;
}

/* The result of a condition: 1 true, 0 false, -1 null, or 100 + code. */
static int cond(const char *expr)
{
    struct sb_value v;
    int rc = eval_in(expr, false, NULL, &v);
    if (rc != 0)
        return 100 + rc;
    if (v.kind == SB_VAL_NULL)
        return -1;
    return v.kind == SB_VAL_INT ? (int)(v.i != 0) : 50;
}

/* The value of a numeric expression: it is written into the check
 * `EXPR == 0 or true` (the checker wants a condition) and EXPR, the left
 * side of the comparison, is evaluated alone. Floats come back in
 * thousandths. */
static int64_t int_result(const char *expr, int *rc_out)
{
    char check[512];
    snprintf(check, sizeof(check), "%s == 0 or true", expr);
    char spec[4096];
    snprintf(spec, sizeof(spec), "%s  check %s\n}\n", head, check);
    struct sb_source source = {"t.spec", spec, strlen(spec)};
    struct sb_diags diags;
    sb_diags_init(&diags, &source);
    struct sb_model *model = sb_spec_parse("t.spec", spec, strlen(spec), &diags);
    int rc = diags.n_errors ? -1 : sb_spec_check(model, &diags);
    sb_diags_free(&diags);
    int64_t result = 0;
    if (rc == 0) {
        const struct sb_collection *coll = sb_model_collection(model, "r");
        const struct sb_expr *value = coll->checks[0]->expr->left->left;
        struct sb_arena arena;
        sb_arena_init(&arena);
        struct sb_eval_env env = {.row = row, .known = known, .n_row = F_N, .arena = &arena};
        struct sb_value v;
        rc = sb_eval(value, &env, &v);
        if (rc == 0 && v.kind == SB_VAL_INT)
            result = v.i;
        else if (rc == 0 && v.kind == SB_VAL_FLOAT)
            result = (int64_t)(v.f * 1000); /* floats: thousandths */
        else if (rc == 0)
            rc = 50;
        sb_arena_free(&arena);
    } else {
        CHECK(!"spec checks");
    }
    sb_model_free(model);
    *rc_out = rc;
    return result;
}

static void expect_int(const char *expr, int64_t want)
{
    int rc;
    int64_t got = int_result(expr, &rc);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(got, want);
    if (rc != 0 || got != want)
        printf("  expression: %s\n", expr);
}

static void expect_error(const char *expr, int want)
{
    int rc;
    int_result(expr, &rc);
    CHECK_EQ_INT(rc, want);
    if (rc != want)
        printf("  expression: %s\n", expr);
}

#define EXPECT_COND(expr, want)                                                                    \
    do {                                                                                           \
        int got__ = cond(expr);                                                                    \
        if (got__ != (want))                                                                       \
            printf("  expression: %s\n", expr);                                                    \
        CHECK_EQ_INT(got__, want);                                                                 \
    } while (0)

TEST(three_valued_logic)
{
    reset_row(); /* every field null */
    EXPECT_COND("a > 0", -1);
    EXPECT_COND("a > 0 and false", 0);
    EXPECT_COND("false and a > 0", 0);
    EXPECT_COND("a > 0 and true", -1);
    EXPECT_COND("a > 0 or true", 1);
    EXPECT_COND("a > 0 or false", -1);
    EXPECT_COND("not (a > 0)", -1);
    EXPECT_COND("a == null", 1);
    EXPECT_COND("a != null", 0);
    EXPECT_COND("null == a", 1);
    EXPECT_COND("a == b", -1);
    EXPECT_COND("s == \"x\"", -1);
    EXPECT_COND("flag", -1);
    EXPECT_COND("not flag", -1);
    set_int(F_A, 1);
    EXPECT_COND("a > 0", 1);
    EXPECT_COND("a != null", 1);
    EXPECT_COND("not (a > 0)", 0);
    set_int(F_FLAG, 1);
    EXPECT_COND("flag", 1);
    EXPECT_COND("flag == true", 1);
    EXPECT_COND("flag != false", 1);
    EXPECT_COND("not flag", 0);
}

TEST(check_passes_on_null)
{
    reset_row();
    char spec[1024];
    snprintf(spec, sizeof(spec), "%s  check a >= 0\n}\n", head);
    struct sb_diags diags;
    struct sb_source source = {"t.spec", spec, strlen(spec)};
    sb_diags_init(&diags, &source);
    struct sb_model *model = sb_spec_parse("t.spec", spec, strlen(spec), &diags);
    CHECK_EQ_INT(sb_spec_check(model, &diags), 0);
    const struct sb_expr *e = sb_model_collection(model, "r")->checks[0]->expr;
    struct sb_eval_env env = {.row = row, .known = known, .n_row = F_N};
    bool passed = false;
    CHECK_EQ_INT(sb_eval_check(e, &env, &passed), 0);
    CHECK(passed); /* null passes */
    set_int(F_A, -1);
    CHECK_EQ_INT(sb_eval_check(e, &env, &passed), 0);
    CHECK(!passed);
    set_int(F_A, 0);
    CHECK_EQ_INT(sb_eval_check(e, &env, &passed), 0);
    CHECK(passed);
    sb_diags_free(&diags);
    sb_model_free(model);
}

TEST(int_arithmetic)
{
    reset_row();
    set_int(F_A, 7);
    set_int(F_B, -2);
    expect_int("a + b", 5);
    expect_int("a - b", 9);
    expect_int("a * b", -14);
    expect_int("a / b", -3); /* truncates toward zero */
    expect_int("a % b", 1);  /* sign of the dividend */
    expect_int("-a % 2", -1);
    expect_int("-a", -7);
    expect_int("abs(b)", 2);
    expect_int("a + 2 * 3", 13);
    expect_int("(a + 2) * 3", 27);
    set_int(F_B, 0);
    expect_error("a / b", SB_EVAL_EDIVZERO);
    expect_error("a % b", SB_EVAL_EDIVZERO);
    set_int(F_A, INT64_MAX);
    set_int(F_B, 1);
    expect_error("a + b", SB_EVAL_EOVERFLOW);
    expect_error("a * 2", SB_EVAL_EOVERFLOW);
    expect_int("a - b", INT64_MAX - 1);
    set_int(F_A, INT64_MIN);
    set_int(F_B, -1);
    expect_error("a - 1", SB_EVAL_EOVERFLOW);
    expect_error("-a", SB_EVAL_EOVERFLOW);
    expect_error("abs(a)", SB_EVAL_EOVERFLOW);
    expect_error("a / b", SB_EVAL_EOVERFLOW);
    expect_int("a % b", 0);
    /* arithmetic with null is null, not an error */
    reset_row();
    set_int(F_B, 0);
    EXPECT_COND("a / b > 0", -1);
}

TEST(float_and_decimal)
{
    reset_row();
    set_float(F_F, 1.5);
    set_int(F_A, 2);
    expect_int("f * a", 3000);
    expect_int("f / 2", 750);
    expect_int("abs(-f)", 1500);
    EXPECT_COND("f > 1", 1);
    EXPECT_COND("f == 1.5", 1);
    set_float(F_F, 0);
    expect_error("a / f", SB_EVAL_EDIVZERO);
    set_float(F_F, 1e308);
    expect_error("f * 10.0", SB_EVAL_EOVERFLOW);

    set_text(F_D, "19.90");
    EXPECT_COND("d >= 0", 1);
    EXPECT_COND("d == 19.9", 1);
    EXPECT_COND("d > 19.89", 1);
    EXPECT_COND("d < 20", 1);
    EXPECT_COND("d * 2 == 39.8", 1);
    EXPECT_COND("d + a > 21", 1);
    EXPECT_COND("abs(d) == d", 1);
    set_text(F_D, "-0.01");
    EXPECT_COND("d >= 0", 0);
    EXPECT_COND("coalesce(d, 0) < 0", 1);
}

TEST(text_enum_and_functions)
{
    reset_row();
    set_text(F_S, "Hello");
    EXPECT_COND("s == \"Hello\"", 1);
    EXPECT_COND("s != \"hello\"", 1);
    EXPECT_COND("lower(s) == \"hello\"", 1);
    EXPECT_COND("upper(s) == \"HELLO\"", 1);
    EXPECT_COND("s < \"Help\"", 1);
    EXPECT_COND("s < \"Hello!\"", 1); /* a prefix sorts first */
    expect_int("len(s)", 5);
    set_text(F_S, "\xc3\xa9t\xc3\xa9"); /* "été": 3 code points, 5 bytes */
    expect_int("len(s)", 3);
    EXPECT_COND("s > \"z\"", 1);   /* by code point: é (U+E9) after z */
    EXPECT_COND("upper(s) == \"\xc3\xa9T\xc3\xa9\"", 1); /* ASCII letters only */
    set_text(F_E, "x");
    EXPECT_COND("e == \"x\"", 1);
    EXPECT_COND("e != \"y\"", 1);
    EXPECT_COND("e in [\"x\", \"y\"]", 1);
    reset_row();
    EXPECT_COND("len(s) > 0", -1);
    EXPECT_COND("lower(s) == \"a\"", -1);
    EXPECT_COND("coalesce(s, \"dflt\") == \"dflt\"", 1);
    EXPECT_COND("coalesce(a, coalesce(b, 3)) == 3", 1);
}

TEST(timestamps_and_dates)
{
    reset_row();
    set_text(F_TS, "2023-12-31T23:30:00.000000Z");
    /* the literal is 2023-12-31T23:00:00Z once normalised */
    EXPECT_COND("ts > \"2024-01-01T00:00:00+01:00\"", 1);
    EXPECT_COND("ts < \"2024-01-01T00:00:00Z\"", 1);
    EXPECT_COND("ts == \"2024-01-01T00:30:00+01:00\"", 1);
    EXPECT_COND("ts == \"2023-12-31T23:30:00Z\"", 1);
    set_text(F_DT, "2023-12-31");
    EXPECT_COND("ts >= dt", 1); /* a date is its midnight */
    set_text(F_DT, "2024-01-01");
    EXPECT_COND("ts < dt", 1);
    EXPECT_COND("dt == \"2024-01-01\"", 1);
    EXPECT_COND("dt > \"2023-12-31\"", 1);
    /* a stored value in another valid form still compares by instant */
    set_text(F_TS, "2024-01-01T00:00:00.000Z");
    EXPECT_COND("ts == \"2024-01-01T00:00:00Z\"", 1);
}

TEST(membership)
{
    reset_row();
    set_int(F_A, 2);
    EXPECT_COND("a in [1, 2, 3]", 1);
    EXPECT_COND("a in [1, 3]", 0);
    EXPECT_COND("a not in [1, 3]", 1);
    EXPECT_COND("a in [1, null]", -1);  /* SQL: no match and a null element */
    EXPECT_COND("a in [2, null]", 1);
    EXPECT_COND("a not in [1, null]", -1);
    EXPECT_COND("a in []", 0);
    EXPECT_COND("a not in []", 1);
    EXPECT_COND("b in [1, 2]", -1);
    EXPECT_COND("b in []", 0);

    set_text(F_TAGS, "[\"red\",\"blue\"]");
    EXPECT_COND("\"red\" in tags", 1);
    EXPECT_COND("\"green\" in tags", 0);
    EXPECT_COND("\"green\" not in tags", 1);
    expect_int("len(tags)", 2);
    expect_int("len([1, 2, 3])", 3);
    EXPECT_COND("tags == [\"red\", \"blue\"]", 1);
    set_text(F_NUMS, "[1,5,9]");
    EXPECT_COND("a in nums", 0);
    EXPECT_COND("5 in nums", 1);
    set_text(F_DS, "[\"1.50\",\"2.00\"]");
    EXPECT_COND("1.5 in ds", 1);
    EXPECT_COND("2 in ds", 1);
    set_text(F_NUMS, "[]");
    EXPECT_COND("b in nums", 0);
    reset_row();
    EXPECT_COND("\"red\" in tags", -1); /* a null array */
    EXPECT_COND("len(tags) > 0", -1);
    EXPECT_COND("j == null", 1);
    set_text(F_TAGS, "not json");
    EXPECT_COND("\"red\" in tags", 100 + SB_EVAL_EINVALID);
}

TEST(unknown_values)
{
    reset_row();
    set_int(F_A, 1);
    known[F_B] = 0;
    EXPECT_COND("a + b > 0", 100 + SB_EVAL_EUNKNOWN);
    EXPECT_COND("a > 0 or b > 0", 1);   /* decided without b */
    EXPECT_COND("b > 0 or a > 0", 1);
    EXPECT_COND("a < 0 and b > 0", 0);
    EXPECT_COND("b > 0 and a < 0", 0);
    EXPECT_COND("a > 0 and b > 0", 100 + SB_EVAL_EUNKNOWN);
    EXPECT_COND("b == null", 100 + SB_EVAL_EUNKNOWN);
    EXPECT_COND("coalesce(a, b) == 1", 1); /* b is never reached */
    known[F_A] = 0;
    EXPECT_COND("coalesce(a, b) == 1", 100 + SB_EVAL_EUNKNOWN);
    /* a field past the row given is unknown too */
    reset_row();
    struct sb_value v;
    struct sb_eval_env env = {.row = row, .known = NULL, .n_row = F_A}; /* only id */
    char spec[1024];
    snprintf(spec, sizeof(spec), "%s  check a > 0\n}\n", head);
    struct sb_diags diags;
    struct sb_source source = {"t.spec", spec, strlen(spec)};
    sb_diags_init(&diags, &source);
    struct sb_model *model = sb_spec_parse("t.spec", spec, strlen(spec), &diags);
    CHECK_EQ_INT(sb_spec_check(model, &diags), 0);
    CHECK_EQ_INT(sb_eval(sb_model_collection(model, "r")->checks[0]->expr, &env, &v), SB_EVAL_EUNKNOWN);
    sb_diags_free(&diags);
    sb_model_free(model);
}

static int fake_lookup(const struct sb_eval_env *env, const struct sb_expr *e, struct sb_value *out)
{
    (void)env;
    if (e->ref == SB_REF_AUTH_ID) {
        *out = (struct sb_value){.kind = SB_VAL_INT, .i = 42};
        return 0;
    }
    if (e->kind == SB_EXPR_CALL && e->func == SB_FUNC_NOW) {
        static const char now[] = "2024-06-01T12:00:00.000000Z";
        *out = (struct sb_value){.kind = SB_VAL_TEXT, .text = now, .len = sizeof(now) - 1};
        return 0;
    }
    return SB_EVAL_ESCOPE;
}

TEST(names_outside_check_scope)
{
    reset_row();
    set_int(F_A, 42);
    set_text(F_TS, "2024-01-01T00:00:00.000000Z");
    struct sb_value v;
    /* without a lookup, auth.* and now() have no value */
    CHECK_EQ_INT(eval_in("a == auth.id", true, NULL, &v), SB_EVAL_ESCOPE);
    CHECK_EQ_INT(eval_in("ts < now()", true, NULL, &v), SB_EVAL_ESCOPE);
    CHECK_EQ_INT(eval_in("authenticated", true, NULL, &v), SB_EVAL_ESCOPE);
    /* ...but the one side that decides still decides */
    CHECK_EQ_INT(eval_in("a == 42 or a == auth.id", true, NULL, &v), 0);
    CHECK(v.kind == SB_VAL_INT && v.i == 1);
    CHECK_EQ_INT(eval_in("anyone", true, NULL, &v), 0);
    CHECK(v.kind == SB_VAL_INT && v.i == 1);
    /* with a lookup they do */
    CHECK_EQ_INT(eval_in("a == auth.id", true, fake_lookup, &v), 0);
    CHECK(v.kind == SB_VAL_INT && v.i == 1);
    CHECK_EQ_INT(eval_in("ts < now()", true, fake_lookup, &v), 0);
    CHECK(v.kind == SB_VAL_INT && v.i == 1);
    CHECK_EQ_STR(sb_eval_strerror(SB_EVAL_EDIVZERO), "division by zero");
}

TEST(list_value_text)
{
    reset_row();
    set_text(F_TAGS, "[\"a\",\"b\\\"c\"]");
    EXPECT_COND("tags == [\"a\", \"b\\\"c\"]", 1);
    EXPECT_COND("tags != [\"a\"]", 1);
}
