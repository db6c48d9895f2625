/* Unit tests of the formatter (src/spec/fmt.c): specs are parsed from
 * strings and the exact canonical text compared. Every case is also
 * formatted a second time to check that formatting is idempotent. Covered:
 * layout of every declaration, field alignment in runs, every type and
 * modifier, rules and field rules, every action step and the `else`
 * continuation past 100 columns, expression spacing, keywords, escapes and
 * parentheses (as written and as precedence needs them), comments in every
 * position, blank lines, the checker's system fields, the examples and the
 * golden files in tests/golden/fmt (NAME.spec in, NAME.fmt out). Run from
 * the repository root. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/fmt.h"
#include "spec/spec.h"
#include "test.h"
#include "util/buf.h"
#include "util/diag.h"

#define GOLDEN_DIR "tests/golden/fmt"

/* Parse src and return its canonical text (caller frees). A parse error is
 * a test failure reported at the caller's line. */
static char *format_at(const char *src, int line)
{
    size_t len = strlen(src);
    struct sb_source source = {"test.spec", src, len};
    struct sb_diags diags;
    sb_diags_init(&diags, &source);
    struct sb_model *model = sb_spec_parse("test.spec", src, len, &diags);
    struct sb_buf out;
    sb_buf_init(&out);
    if (diags.n_errors) {
        sb_diags_sort(&diags);
        sb_diags_render(&diags, &out);
        sb_test_fail(__FILE__, line, "parse errors in\n%s\n%s", src, sb_buf_str(&out));
        sb_buf_reset(&out);
    }
    sb_spec_format(model, &out);
    sb_model_free(model);
    sb_diags_free(&diags);
    return sb_buf_take(&out);
}

/* The canonical text of src is want, and formatting want changes nothing. */
#define CHECK_FMT(src, want)                                                                       \
    do {                                                                                           \
        char *got_fmt_ = format_at((src), __LINE__);                                               \
        CHECK_EQ_STR(got_fmt_, (want));                                                            \
        char *again_fmt_ = format_at(got_fmt_, __LINE__);                                          \
        CHECK_EQ_STR(again_fmt_, got_fmt_);                                                        \
        free(got_fmt_);                                                                            \
        free(again_fmt_);                                                                          \
    } while (0)

/* Formatting src is idempotent and keeps every comment's text. */
#define CHECK_STABLE(src)                                                                          \
    do {                                                                                           \
        char *first_ = format_at((src), __LINE__);                                                 \
        char *second_ = format_at(first_, __LINE__);                                               \
        CHECK_EQ_STR(second_, first_);                                                             \
        check_comments_kept(__LINE__, (src), first_);                                              \
        free(first_);                                                                              \
        free(second_);                                                                             \
    } while (0)

/* Every comment of src appears, in order, in formatted. */
static void check_comments_kept(int line, const char *src, const char *formatted)
{
    const char *pos = formatted;
    for (const char *c = strchr(src, '#'); c; c = strchr(c + 1, '#')) {
        /* skip '#' inside a string literal on this line */
        const char *bol = c;
        while (bol > src && bol[-1] != '\n')
            bol--;
        int quotes = 0;
        for (const char *q = bol; q < c; q++)
            if (*q == '"' && (q == bol || q[-1] != '\\'))
                quotes++;
        if (quotes % 2)
            continue;
        size_t n = strcspn(c, "\n");
        while (n > 0 && (c[n - 1] == ' ' || c[n - 1] == '\t' || c[n - 1] == '\r'))
            n--;
        char comment[512];
        snprintf(comment, sizeof(comment), "%.*s", (int)n, c);
        const char *found = strstr(pos, comment);
        if (!found) {
            sb_test_fail(__FILE__, line, "comment lost or out of order: %s", comment);
            return;
        }
        pos = found + n;
        c += n - 1;
    }
}

/* ---- layout ---------------------------------------------------------------- */

TEST(app_and_auth)
{
    CHECK_FMT("app   shop\nauth{users :user\nroles:admin,customer}",
              "app shop\n"
              "\n"
              "auth {\n"
              "  users: user\n"
              "  roles: admin, customer\n"
              "}\n");
    CHECK_FMT("app a\nauth {\n  roles: x\n}\n", "app a\n\nauth {\n  roles: x\n}\n");
    CHECK_FMT("app a\nauth {}\n", "app a\n\nauth {}\n");
}

TEST(top_level_items_one_blank_line_apart)
{
    CHECK_FMT("\n\n\napp a\ncollection b {\n  x int\n}\n\n\n\ncollection c {\n  y int\n}"
              "\naction d() {\n  return 1\n}\n\n\n",
              "app a\n"
              "\n"
              "collection b {\n"
              "  x int\n"
              "}\n"
              "\n"
              "collection c {\n"
              "  y int\n"
              "}\n"
              "\n"
              "action d() {\n"
              "  return 1\n"
              "}\n");
}

TEST(empty_blocks)
{
    CHECK_FMT("app a\ncollection e {\n\n}\naction f() {\n}\n",
              "app a\n\ncollection e {}\n\naction f() {}\n");
}

TEST(fields_aligned_within_runs)
{
    CHECK_FMT("app a\n"
              "collection c {\n"
              "  email email unique required pii\n"
              "  name text(1..100) pii\n"
              "  password password\n"
              "  role enum(admin, customer) default \"customer\"\n"
              "  index (email)\n"
              "  a int\n"
              "  longer_name bool\n"
              "\n"
              "  b int required\n"
              "  # a comment does not break a run\n"
              "  cc text\n"
              "}\n",
              "app a\n"
              "\n"
              "collection c {\n"
              "  email    email                 required unique pii\n"
              "  name     text(1..100)          pii\n"
              "  password password\n"
              "  role     enum(admin, customer) default \"customer\"\n"
              "  index (email)\n"
              "  a           int\n"
              "  longer_name bool\n"
              "\n"
              "  b  int  required\n"
              "  # a comment does not break a run\n"
              "  cc text\n"
              "}\n");
}

TEST(every_type)
{
    CHECK_FMT("app a\n"
              "collection c {\n"
              "  t1 text\n"
              "  t2 text( 1 .. 100 )\n"
              "  t3 text(..100)\n"
              "  t4 text(1..)\n"
              "  i1 int\n"
              "  i2 int(0..)\n"
              "  i3 int(-5..-1)\n"
              "  f1 float\n"
              "  f2 float(0.5..1)\n"
              "  f3 float(-1.25..2.50)\n"
              "  f4 float(- 1e3..)\n"
              "  d1 decimal( 10 ,2 )\n"
              "  b1 bool\n"
              "  s1 timestamp\n"
              "  s2 date\n"
              "  u1 uuid\n"
              "  e1 email\n"
              "  l1 url\n"
              "  j1 json\n"
              "  p1 password\n"
              "  n1 enum( a,b , c )\n"
              "  r1 ->c\n"
              "  a1 text[]\n"
              "  a2 int[..10]\n"
              "  a3 text(1..5)[1..10]\n"
              "  a4 enum(x, y)[1..]\n"
              "}\n",
              "app a\n"
              "\n"
              "collection c {\n"
              "  t1 text\n"
              "  t2 text(1..100)\n"
              "  t3 text(..100)\n"
              "  t4 text(1..)\n"
              "  i1 int\n"
              "  i2 int(0..)\n"
              "  i3 int(-5..-1)\n"
              "  f1 float\n"
              "  f2 float(0.5..1)\n"
              "  f3 float(-1.25..2.50)\n"
              "  f4 float(-1e3..)\n"
              "  d1 decimal(10, 2)\n"
              "  b1 bool\n"
              "  s1 timestamp\n"
              "  s2 date\n"
              "  u1 uuid\n"
              "  e1 email\n"
              "  l1 url\n"
              "  j1 json\n"
              "  p1 password\n"
              "  n1 enum(a, b, c)\n"
              "  r1 -> c\n"
              "  a1 text[]\n"
              "  a2 int[..10]\n"
              "  a3 text(1..5)[1..10]\n"
              "  a4 enum(x, y)[1..]\n"
              "}\n");
}

TEST(modifiers_in_canonical_order)
{
    CHECK_FMT("app a\n"
              "collection c {\n"
              "  x int check x > 0 default 1 searchable pii hidden readonly unique required\n"
              "  o1 -> c on delete set null\n"
              "  o2 -> c on delete cascade required\n"
              "  o3 -> c default null on delete restrict\n"
              "}\n",
              "app a\n"
              "\n"
              "collection c {\n"
              "  x  int  required unique readonly hidden pii searchable default 1 check x > 0\n"
              "  o1 -> c on delete set null\n"
              "  o2 -> c required on delete cascade\n"
              "  o3 -> c on delete restrict default null\n"
              "}\n");
}

TEST(indexes_checks_and_rules)
{
    CHECK_FMT("app a\n"
              "collection c {\n"
              "  x int\n"
              "  y int\n"
              "  index(x,y)\n"
              "  unique ( y )\n"
              "  check x<y\n"
              "  allow delete,read,update anyone\n"
              "  allow create   authenticated\n"
              "  allow update, create x == auth.id\n"
              "}\n",
              "app a\n"
              "\n"
              "collection c {\n"
              "  x int\n"
              "  y int\n"
              "  index (x, y)\n"
              "  unique (y)\n"
              "  check x < y\n"
              "  allow read, update, delete anyone\n"
              "  allow create authenticated\n"
              "  allow create, update x == auth.id\n"
              "}\n");
}

TEST(field_rules)
{
    CHECK_FMT("app a\n"
              "collection c {\n"
              "  email email\n"
              "  phone text\n"
              "  role text\n"
              "  allow read( email,phone ) auth.id == id\n"
              "  allow write(role) auth.role == \"admin\"\n"
              "}\n",
              "app a\n"
              "\n"
              "collection c {\n"
              "  email email\n"
              "  phone text\n"
              "  role  text\n"
              "  allow read(email, phone) auth.id == id\n"
              "  allow write(role) auth.role == \"admin\"\n"
              "}\n");
}

TEST(actions_and_every_step)
{
    CHECK_FMT("app a\n"
              "action checkout(product: ->product,qty: int(1..10)=1, note: text) {\n"
              "  allow auth.role==\"customer\"\n"
              "  let p = update product where id == product and stock >= qty set stock = stock-qty,"
              " sold = sold+qty\n"
              "  let o=create order{product:product,buyer:auth.id,qty:qty}\n"
              "  create log {}\n"
              "  create log { }\n"
              "  require qty>0 else 400 \"bad\"\n"
              "  delete cart where owner == auth.id\n"
              "  delete cart where owner == auth.id else 404 \"no cart\"\n"
              "  let g = get product where id == product else 404 \"none\"\n"
              "  get product where id == product\n"
              "  let l = list product\n"
              "  list product where stock < 5\n"
              "  update product where id == product set stock = 0 else 409 \"x\"\n"
              "  return {order:o.id,left:p.stock}\n"
              "}\n"
              "action empty_return() {\n"
              "  return {}\n"
              "}\n"
              "action plain_return() {\n"
              "  return l\n"
              "}\n",
              "app a\n"
              "\n"
              "action checkout(product: -> product, qty: int(1..10) = 1, note: text) {\n"
              "  allow auth.role == \"customer\"\n"
              "  let p = update product where id == product and stock >= qty set stock = stock - "
              "qty, sold = sold + qty\n"
              "  let o = create order { product: product, buyer: auth.id, qty: qty }\n"
              "  create log {}\n"
              "  create log {}\n"
              "  require qty > 0 else 400 \"bad\"\n"
              "  delete cart where owner == auth.id\n"
              "  delete cart where owner == auth.id else 404 \"no cart\"\n"
              "  let g = get product where id == product else 404 \"none\"\n"
              "  get product where id == product\n"
              "  let l = list product\n"
              "  list product where stock < 5\n"
              "  update product where id == product set stock = 0 else 409 \"x\"\n"
              "  return { order: o.id, left: p.stock }\n"
              "}\n"
              "\n"
              "action empty_return() {\n"
              "  return {}\n"
              "}\n"
              "\n"
              "action plain_return() {\n"
              "  return l\n"
              "}\n");
}

/* A step line of n columns: "  require x == \"<fill>\" else 400 \"m\"" is
 * 30 columns plus the fill. */
static char *step_line_spec(size_t n_columns, const char *fill_char, bool wrapped_in_source)
{
    struct sb_buf buf;
    sb_buf_init(&buf);
    sb_buf_puts(&buf, "app a\n\naction f() {\n  require x == \"");
    for (size_t i = 0; i + 30 < n_columns; i++)
        sb_buf_puts(&buf, fill_char);
    sb_buf_puts(&buf, wrapped_in_source ? "\"\n      else 400 \"m\"\n}\n" : "\" else 400 \"m\"\n}\n");
    return sb_buf_take(&buf);
}

TEST(else_moves_to_a_continuation_line_past_100_columns)
{
    /* exactly 100 columns: one line, also when the source had two */
    char *at_limit = step_line_spec(100, "x", false);
    char *at_limit_wrapped = step_line_spec(100, "x", true);
    CHECK_FMT(at_limit_wrapped, at_limit);
    CHECK_FMT(at_limit, at_limit);
    /* columns are characters, not bytes */
    char *wide = step_line_spec(100, "\xc3\xa9", false);
    CHECK_FMT(wide, wide);
    /* 101 columns: else on a line of its own, 4 more spaces in */
    char *past = step_line_spec(101, "x", false);
    char *past_wrapped = step_line_spec(101, "x", true);
    CHECK_FMT(past, past_wrapped);
    CHECK_FMT(past_wrapped, past_wrapped);
    free(at_limit);
    free(at_limit_wrapped);
    free(wide);
    free(past);
    free(past_wrapped);

    CHECK_FMT("app a\n"
              "action f(from: int, amount: int) {\n"
              "  update account where id == from and balance >= amount set balance = balance - "
              "amount else 409 \"insufficient funds\" # why\n"
              "}\n",
              "app a\n"
              "\n"
              "action f(from: int, amount: int) {\n"
              "  update account where id == from and balance >= amount set balance = balance - "
              "amount\n"
              "      else 409 \"insufficient funds\" # why\n"
              "}\n");
}

/* ---- expressions ------------------------------------------------------------- */

/* The check of a one-check collection: how the formatter prints expr_src. */
#define CHECK_EXPR(expr_src, want)                                                                 \
    CHECK_FMT("app a\ncollection c {\n  check " expr_src "\n}\n",                                  \
              "app a\n\ncollection c {\n  check " want "\n}\n")

TEST(expression_spacing_and_keywords)
{
    CHECK_EXPR("a==1 and b!=2 or not c", "a == 1 and b != 2 or not c");
    CHECK_EXPR("a<1 or a<=2 or a>3 or a>=4", "a < 1 or a <= 2 or a > 3 or a >= 4");
    CHECK_EXPR("a+b-c*d/e%f", "a + b - c * d / e % f");
    CHECK_EXPR("x in[1,2 ,3]", "x in [1, 2, 3]");
    CHECK_EXPR("x not  in [\"a\",\"b\",]", "x not in [\"a\", \"b\"]");
    CHECK_EXPR("y == [ ]", "y == []");
    CHECK_EXPR("- x > - 1", "-x > -1");
    CHECK_EXPR("lower( name ) == upper(name) and len(name) > abs(-2)",
               "lower(name) == upper(name) and len(name) > abs(-2)");
    CHECK_EXPR("coalesce(a,0) > 0 and now() > created_at", "coalesce(a, 0) > 0 and now() > created_at");
    CHECK_EXPR("auth . id == owner and new.price >= old.price",
               "auth.id == owner and new.price >= old.price");
    CHECK_EXPR("a == null or b == true or c == false or anyone or authenticated",
               "a == null or b == true or c == false or anyone or authenticated");
    CHECK_EXPR("x == 1.50 or x == 2e10 or x == 0.5E-3", "x == 1.50 or x == 2e10 or x == 0.5E-3");
    CHECK_EXPR("x == 9223372036854775807", "x == 9223372036854775807");
}

TEST(expression_string_escapes)
{
    CHECK_EXPR("s == \"a\\\"b\\\\c\\nd\\te\"", "s == \"a\\\"b\\\\c\\nd\\te\"");
    /* a raw tab inside a string comes out escaped */
    CHECK_EXPR("s == \"a\tb\"", "s == \"a\\tb\"");
    CHECK_EXPR("s == \"caf\xc3\xa9 # not a comment\"", "s == \"caf\xc3\xa9 # not a comment\"");
}

TEST(expression_parentheses_as_written)
{
    CHECK_EXPR("(a or b) and c", "(a or b) and c");
    CHECK_EXPR("a or (b and c)", "a or (b and c)");
    CHECK_EXPR("((a))", "(a)");
    CHECK_EXPR("(a + b) * c", "(a + b) * c");
    CHECK_EXPR("a - (b - c)", "a - (b - c)");
    CHECK_EXPR("a - b - c", "a - b - c");
    CHECK_EXPR("-(a + b) > 0", "-(a + b) > 0");
    CHECK_EXPR("not (a and b)", "not (a and b)");
    CHECK_EXPR("not a == b", "not a == b");
    CHECK_EXPR("(a == b) == (c < d)", "(a == b) == (c < d)");
    CHECK_EXPR("( x )  in [1]", "(x) in [1]");
    CHECK_EXPR("a * (-b)", "a * (-b)");
    CHECK_EXPR("a or b and c", "a or b and c");
}

static struct sb_expr leaf(const char *name)
{
    struct sb_expr e;
    memset(&e, 0, sizeof(e));
    e.kind = SB_EXPR_NAME;
    e.name = name;
    return e;
}

static struct sb_expr node(enum sb_expr_kind kind, enum sb_op op, struct sb_expr *left,
                           struct sb_expr *right)
{
    struct sb_expr e;
    memset(&e, 0, sizeof(e));
    e.kind = kind;
    e.op = op;
    e.left = left;
    e.right = right;
    return e;
}

static char *expr_text(const struct sb_expr *expr)
{
    struct sb_buf out;
    sb_buf_init(&out);
    sb_spec_format_expr(expr, &out);
    return sb_buf_take(&out);
}

/* Trees without parentheses flags, as another tool might build them: the
 * printer adds exactly the parentheses that the grammar needs, and the text
 * parses back to the same tree (formats to the same text). */
#define CHECK_TREE(expr, want)                                                                     \
    do {                                                                                           \
        char *text_ = expr_text(expr);                                                             \
        CHECK_EQ_STR(text_, (want));                                                               \
        struct sb_buf spec_;                                                                       \
        sb_buf_init(&spec_);                                                                       \
        sb_buf_printf(&spec_, "app a\n\ncollection c {\n  check %s\n}\n", text_);                  \
        CHECK_FMT(sb_buf_str(&spec_), sb_buf_str(&spec_));                                         \
        sb_buf_free(&spec_);                                                                       \
        free(text_);                                                                               \
    } while (0)

TEST(expression_parentheses_by_precedence)
{
    struct sb_expr a = leaf("a"), b = leaf("b"), c = leaf("c"), d = leaf("d");
    struct sb_expr add = node(SB_EXPR_BINARY, SB_OP_ADD, &a, &b);
    struct sb_expr mul = node(SB_EXPR_BINARY, SB_OP_MUL, &add, &c);
    CHECK_TREE(&mul, "(a + b) * c");
    struct sb_expr mul2 = node(SB_EXPR_BINARY, SB_OP_MUL, &c, &add);
    CHECK_TREE(&mul2, "c * (a + b)");
    struct sb_expr sub_bc = node(SB_EXPR_BINARY, SB_OP_SUB, &b, &c);
    struct sb_expr sub_right = node(SB_EXPR_BINARY, SB_OP_SUB, &a, &sub_bc);
    CHECK_TREE(&sub_right, "a - (b - c)");
    struct sb_expr sub_ab = node(SB_EXPR_BINARY, SB_OP_SUB, &a, &b);
    struct sb_expr sub_left = node(SB_EXPR_BINARY, SB_OP_SUB, &sub_ab, &c);
    CHECK_TREE(&sub_left, "a - b - c");
    struct sb_expr div = node(SB_EXPR_BINARY, SB_OP_DIV, &a, &mul2);
    CHECK_TREE(&div, "a / (c * (a + b))");

    /* comparisons do not associate: either side in parentheses */
    struct sb_expr eq_ab = node(SB_EXPR_BINARY, SB_OP_EQ, &a, &b);
    struct sb_expr eq_left = node(SB_EXPR_BINARY, SB_OP_EQ, &eq_ab, &c);
    CHECK_TREE(&eq_left, "(a == b) == c");
    struct sb_expr lt_bc = node(SB_EXPR_BINARY, SB_OP_LT, &b, &c);
    struct sb_expr eq_right = node(SB_EXPR_BINARY, SB_OP_NE, &a, &lt_bc);
    CHECK_TREE(&eq_right, "a != (b < c)");
    struct sb_expr in = node(SB_EXPR_BINARY, SB_OP_IN, &eq_ab, &d);
    CHECK_TREE(&in, "(a == b) in d");
    struct sb_expr sum_in = node(SB_EXPR_BINARY, SB_OP_NOT_IN, &add, &d);
    CHECK_TREE(&sum_in, "a + b not in d");

    struct sb_expr or_ab = node(SB_EXPR_BINARY, SB_OP_OR, &a, &b);
    struct sb_expr and_left = node(SB_EXPR_BINARY, SB_OP_AND, &or_ab, &c);
    CHECK_TREE(&and_left, "(a or b) and c");
    struct sb_expr or_bc = node(SB_EXPR_BINARY, SB_OP_OR, &b, &c);
    struct sb_expr or_right = node(SB_EXPR_BINARY, SB_OP_OR, &a, &or_bc);
    CHECK_TREE(&or_right, "a or (b or c)");
    struct sb_expr and_ab = node(SB_EXPR_BINARY, SB_OP_AND, &a, &b);
    struct sb_expr or_of_and = node(SB_EXPR_BINARY, SB_OP_OR, &and_ab, &c);
    CHECK_TREE(&or_of_and, "a and b or c");

    struct sb_expr not_and = node(SB_EXPR_UNARY, SB_OP_NOT, &and_ab, NULL);
    CHECK_TREE(&not_and, "not (a and b)");
    struct sb_expr not_eq = node(SB_EXPR_UNARY, SB_OP_NOT, &eq_ab, NULL);
    CHECK_TREE(&not_eq, "not a == b");
    struct sb_expr not_not = node(SB_EXPR_UNARY, SB_OP_NOT, &not_eq, NULL);
    CHECK_TREE(&not_not, "not not a == b");
    struct sb_expr eq_not = node(SB_EXPR_BINARY, SB_OP_EQ, &not_and, &c);
    CHECK_TREE(&eq_not, "(not (a and b)) == c");

    struct sb_expr neg_add = node(SB_EXPR_UNARY, SB_OP_NEG, &add, NULL);
    CHECK_TREE(&neg_add, "-(a + b)");
    struct sb_expr neg_a = node(SB_EXPR_UNARY, SB_OP_NEG, &a, NULL);
    struct sb_expr neg_neg = node(SB_EXPR_UNARY, SB_OP_NEG, &neg_a, NULL);
    CHECK_TREE(&neg_neg, "--a");
    struct sb_expr neg_mul = node(SB_EXPR_BINARY, SB_OP_MUL, &neg_a, &b);
    CHECK_TREE(&neg_mul, "-a * b");
    struct sb_expr member = node(SB_EXPR_MEMBER, SB_OP_NONE, &neg_a, NULL);
    member.name = "x";
    CHECK_TREE(&member, "(-a).x");
    struct sb_expr member_ok = node(SB_EXPR_MEMBER, SB_OP_NONE, &a, NULL);
    member_ok.name = "x";
    struct sb_expr neg_member = node(SB_EXPR_UNARY, SB_OP_NEG, &member_ok, NULL);
    CHECK_TREE(&neg_member, "-a.x");

    /* a negative literal prints like a unary minus */
    struct sb_expr minus_five = node(SB_EXPR_INT, SB_OP_NONE, NULL, NULL);
    minus_five.ival = -5;
    struct sb_expr sub_neg = node(SB_EXPR_BINARY, SB_OP_SUB, &a, &minus_five);
    CHECK_TREE(&sub_neg, "a - -5");

    /* list and call arguments need no parentheses */
    struct sb_expr *args[] = {&or_ab, &add};
    struct sb_expr list = node(SB_EXPR_LIST, SB_OP_NONE, NULL, NULL);
    list.args = args;
    list.n_args = 2;
    struct sb_expr in_list = node(SB_EXPR_BINARY, SB_OP_IN, &c, &list);
    CHECK_TREE(&in_list, "c in [a or b, a + b]");
    struct sb_expr call = node(SB_EXPR_CALL, SB_OP_NONE, NULL, NULL);
    call.name = "coalesce";
    call.args = args;
    call.n_args = 2;
    struct sb_expr call_eq = node(SB_EXPR_BINARY, SB_OP_EQ, &call, &d);
    CHECK_TREE(&call_eq, "coalesce(a or b, a + b) == d");
}

/* ---- comments and blank lines ---------------------------------------------- */

TEST(comments_at_top_and_end_of_file)
{
    CHECK_FMT("\n\n# header\n# more\n\n\n\napp a # the app\n# end\n\n\n# very end   \n",
              "# header\n"
              "# more\n"
              "\n"
              "app a # the app\n"
              "# end\n"
              "\n"
              "# very end\n");
    CHECK_FMT("# header\napp a\n", "# header\napp a\n");
}

TEST(comments_between_top_level_items)
{
    CHECK_FMT("app a\n"
              "# about c\n"
              "# more about c\n"
              "collection c {\n"
              "  x int\n"
              "} # after c\n"
              "\n"
              "\n"
              "# a section\n"
              "\n"
              "\n"
              "# about d\n"
              "action d() {\n"
              "  return 1\n"
              "}\n",
              "app a\n"
              "\n"
              "# about c\n"
              "# more about c\n"
              "collection c {\n"
              "  x int\n"
              "} # after c\n"
              "\n"
              "# a section\n"
              "\n"
              "# about d\n"
              "action d() {\n"
              "  return 1\n"
              "}\n");
}

TEST(comments_inside_blocks)
{
    CHECK_FMT("app a\n"
              "auth { # accounts\n"
              "  # who signs in\n"
              "  users: u # the users\n"
              "  roles: r1, r2 # the roles\n"
              "  # before the brace\n"
              "}\n"
              "collection u { # header\n"
              "  # first\n"
              "  x int # trailing x\n"
              "    # indented oddly\n"
              "y int\n"
              "  allow read anyone # open\n"
              "\n"
              "  # before the brace\n"
              "\n"
              "}\n"
              "action f(a: int) { # header\n"
              "  allow anyone # anyone\n"
              "  # before the step\n"
              "  return a # the result\n"
              "  # before the brace\n"
              "}\n",
              "app a\n"
              "\n"
              "auth { # accounts\n"
              "  # who signs in\n"
              "  users: u # the users\n"
              "  roles: r1, r2 # the roles\n"
              "  # before the brace\n"
              "}\n"
              "\n"
              "collection u { # header\n"
              "  # first\n"
              "  x int # trailing x\n"
              "  # indented oddly\n"
              "  y int\n"
              "  allow read anyone # open\n"
              "\n"
              "  # before the brace\n"
              "}\n"
              "\n"
              "action f(a: int) { # header\n"
              "  allow anyone # anyone\n"
              "  # before the step\n"
              "  return a # the result\n"
              "  # before the brace\n"
              "}\n");
    /* a block with only a comment is not collapsed */
    CHECK_FMT("app a\ncollection e { # nothing yet\n}\ncollection f {\n  # todo\n}\n",
              "app a\n\ncollection e { # nothing yet\n}\n\ncollection f {\n  # todo\n}\n");
}

TEST(blocks_written_on_one_line)
{
    CHECK_FMT("app a\n"
              "collection c { x int }  # after the brace\n"
              "action f() { return 1 } # f\n"
              "auth { users: c }\n"
              "collection d { # header\n"
              "  y int }\n",
              "app a\n"
              "\n"
              "collection c {\n"
              "  x int\n"
              "} # after the brace\n"
              "\n"
              "action f() {\n"
              "  return 1\n"
              "} # f\n"
              "\n"
              "auth {\n"
              "  users: c\n"
              "}\n"
              "\n"
              "collection d { # header\n"
              "  y int\n"
              "}\n");
}

TEST(auth_entries_keep_their_order_and_comments)
{
    CHECK_FMT("app a\nauth { # h\n  roles: x, y # r\n  # before users\n  users: u # u\n}\n",
              "app a\n\nauth { # h\n  roles: x, y # r\n  # before users\n  users: u # u\n}\n");
    CHECK_FMT("app a\nauth {\n  users: u # u\n}\n", "app a\n\nauth {\n  users: u # u\n}\n");
}

TEST(comments_inside_a_declaration_move_above_it)
{
    CHECK_FMT("app a\n"
              "collection # odd place\n"
              "  c {\n"
              "  allow read x == 1 # first part\n"
              "    or x == 2 # second part\n"
              "}\n"
              "action f(a: int, # the a\n"
              "  b: int) {\n"
              "  create c {\n"
              "    x: a, # from a\n"
              "    y: b\n"
              "  }\n"
              "}\n",
              "app a\n"
              "\n"
              "# odd place\n"
              "collection c {\n"
              "  # first part\n"
              "  allow read x == 1 or x == 2 # second part\n"
              "}\n"
              "\n"
              "# the a\n"
              "action f(a: int, b: int) {\n"
              "  # from a\n"
              "  create c { x: a, y: b }\n"
              "}\n");
}

TEST(comment_like_text_in_strings_is_not_a_comment)
{
    CHECK_FMT("app a\ncollection c {\n  s text default \"# no\" # yes\n}\n",
              "app a\n\ncollection c {\n  s text default \"# no\" # yes\n}\n");
}

TEST(blank_lines_kept_once_inside_blocks)
{
    CHECK_FMT("app a\n"
              "collection c {\n"
              "\n"
              "\n"
              "  x int\n"
              "\n"
              "\n"
              "\n"
              "  y int\n"
              "  \t \n"
              "  # about z\n"
              "\n"
              "  z int\n"
              "  index (x)\n"
              "\n"
              "  allow read anyone\n"
              "\n"
              "\n"
              "}\n"
              "action f() {\n"
              "\n"
              "  allow anyone\n"
              "\n"
              "  let x = list c\n"
              "  return x\n"
              "\n"
              "}\n",
              "app a\n"
              "\n"
              "collection c {\n"
              "  x int\n"
              "\n"
              "  y int\n"
              "\n"
              "  # about z\n"
              "\n"
              "  z int\n"
              "  index (x)\n"
              "\n"
              "  allow read anyone\n"
              "}\n"
              "\n"
              "action f() {\n"
              "  allow anyone\n"
              "\n"
              "  let x = list c\n"
              "  return x\n"
              "}\n");
}

TEST(crlf_source)
{
    CHECK_FMT("app a # x\r\n\r\n\r\ncollection c {\r\n  x int # y\r\n\r\n  z int\r\n}\r\n",
              "app a # x\n\ncollection c {\n  x int # y\n\n  z int\n}\n");
}

/* ---- the model after the checker -------------------------------------------- */

TEST(system_fields_are_not_printed)
{
    const char *src = "app a\n\ncollection c {\n  x int required\n}\n";
    size_t len = strlen(src);
    struct sb_source source = {"test.spec", src, len};
    struct sb_diags diags;
    sb_diags_init(&diags, &source);
    struct sb_model *model = sb_spec_parse("test.spec", src, len, &diags);
    CHECK_EQ_INT(sb_spec_check(model, &diags), 0);
    /* the checker added id, created_at and updated_at */
    CHECK(model->n_collections == 1 && model->collections[0]->n_fields > 1);
    struct sb_buf out;
    sb_buf_init(&out);
    sb_spec_format(model, &out);
    CHECK_EQ_STR(sb_buf_str(&out), src);
    sb_buf_free(&out);
    sb_model_free(model);
    sb_diags_free(&diags);
}

/* ---- whole files --------------------------------------------------------------- */

static char *read_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return NULL;
    struct sb_buf buf;
    sb_buf_init(&buf);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), file)) > 0)
        sb_buf_append(&buf, chunk, n);
    fclose(file);
    return sb_buf_take(&buf);
}

TEST(examples_are_stable)
{
    static const char *const paths[] = {"examples/shop.spec", "examples/blog.spec"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        char *src = read_file(paths[i]);
        if (!src) {
            printf("note: %s not found (run from the repository root)\n", paths[i]);
            continue;
        }
        CHECK_STABLE(src);
        free(src);
    }
}

TEST(golden_files)
{
    DIR *dir = opendir(GOLDEN_DIR);
    if (!dir) {
        sb_test_fail(__FILE__, __LINE__, "cannot open %s (run from the repository root)", GOLDEN_DIR);
        return;
    }
    int n_cases = 0;
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        size_t n = strlen(entry->d_name);
        if (n < 6 || strcmp(entry->d_name + n - 5, ".spec") != 0)
            continue;
        char in_path[512], want_path[512];
        snprintf(in_path, sizeof(in_path), "%s/%s", GOLDEN_DIR, entry->d_name);
        snprintf(want_path, sizeof(want_path), "%s/%.*s.fmt", GOLDEN_DIR, (int)(n - 5), entry->d_name);
        char *src = read_file(in_path);
        char *want = read_file(want_path);
        if (!src || !want) {
            sb_test_fail(__FILE__, __LINE__, "%s: missing %s", in_path, want_path);
        } else {
            printf("  %s\n", in_path);
            CHECK_FMT(src, want);
            CHECK_STABLE(src);
            n_cases++;
        }
        free(src);
        free(want);
    }
    closedir(dir);
    CHECK(n_cases >= 3);
}
