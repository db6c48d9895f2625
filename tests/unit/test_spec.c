/* Unit tests of the spec front end (lexer, parser, checker): the model a
 * valid spec produces (system fields, resolved relations and rules, index
 * names, field rules, actions and their bindings, read-only detection), and
 * the first diagnostic for each kind of mistake, with its position. The
 * golden tests (tests/golden/spec) pin the full rendered output. */
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"
#include "test.h"
#include "util/formats.h"

struct result {
    struct sb_model *model;
    struct sb_diags diags;
    struct sb_source source;
    int rc;
};

static void compile(struct result *r, const char *text)
{
    r->source = (struct sb_source){.name = "t.spec", .text = text, .len = strlen(text)};
    sb_diags_init(&r->diags, &r->source);
    r->model = sb_spec_parse("t.spec", text, strlen(text), &r->diags);
    r->rc = r->diags.n_errors ? -1 : sb_spec_check(r->model, &r->diags);
}

static void release(struct result *r)
{
    sb_model_free(r->model);
    sb_diags_free(&r->diags);
}

/* First error message (without position) or "" when valid. */
static const char *first_error(struct result *r)
{
    sb_diags_sort(&r->diags);
    return r->diags.len ? r->diags.entries[0].message : "";
}

static void expect_error(const char *text, const char *want, size_t line, size_t col)
{
    struct result r;
    compile(&r, text);
    CHECK_EQ_STR(first_error(&r), want);
    if (r.diags.len) {
        size_t got_line, got_col;
        sb_source_position(&r.source, r.diags.entries[0].offset, &got_line, &got_col);
        CHECK_EQ_INT(got_line, line);
        CHECK_EQ_INT(got_col, col);
    }
    release(&r);
}

static const char shop[] =
    "app shop\n"
    "auth {\n  users: user\n  roles: admin, customer\n}\n"
    "collection user {\n"
    "  email email required unique\n"
    "  password password\n"
    "  role enum(admin, customer) default \"customer\"\n"
    "  allow read id == auth.id or auth.role == \"admin\"\n"
    "  allow write(role) auth.role == \"admin\"\n"
    "}\n"
    "collection product {\n"
    "  name text(1..200) required\n"
    "  price decimal(10,2) check price >= 0\n"
    "  stock int default 0 check stock >= 0\n"
    "  tags text(1..20)[..10]\n"
    "  index (name, price)\n"
    "  unique (name)\n"
    "  allow read anyone\n"
    "  allow create, update, delete auth.role == \"admin\"\n"
    "}\n"
    "collection order {\n"
    "  product -> product required on delete cascade\n"
    "  buyer -> user required default auth.id\n"
    "  qty int(1..10) required\n"
    "  allow read buyer == auth.id\n"
    "  allow update old.qty < new.qty\n"
    "}\n"
    "action checkout(product_id: -> product, qty: int(1..10) = 1) {\n"
    "  allow auth.role == \"customer\"\n"
    "  let p = update product where id == product_id and stock >= qty set stock = stock - qty else 409 \"sold out\"\n"
    "  let o = create order { product: product_id, buyer: auth.id, qty: qty }\n"
    "  return { order: o.id, left: p.stock }\n"
    "}\n"
    "action cheap(max: int) {\n"
    "  allow anyone\n"
    "  let items = list product where price <= max\n"
    "  return items\n"
    "}\n";

TEST(valid_spec_builds_model)
{
    struct result r;
    compile(&r, shop);
    CHECK_EQ_STR(first_error(&r), "");
    CHECK_EQ_INT(r.rc, 0);
    struct sb_model *m = r.model;
    CHECK_EQ_STR(m->app_name, "shop");
    CHECK_EQ_INT(m->n_collections, 3);
    CHECK_EQ_INT(m->n_actions, 2);
    const struct sb_collection *user = sb_model_collection(m, "user");
    const struct sb_collection *product = sb_model_collection(m, "product");
    const struct sb_collection *order = sb_model_collection(m, "order");
    CHECK(user && product && order);
    CHECK(m->auth.users == user);
    CHECK(user->is_users);
    /* system fields around the declared ones */
    CHECK_EQ_INT(product->n_fields, 4 + 3);
    CHECK_EQ_STR(product->fields[0]->name, "id");
    CHECK_EQ_STR(product->fields[1]->name, "name");
    CHECK_EQ_STR(product->fields[5]->name, "created_at");
    CHECK_EQ_STR(product->fields[6]->name, "updated_at");
    CHECK(product->fields[0]->flags & SB_FIELD_SYSTEM);
    CHECK(product->fields[6]->owner == product);
    CHECK_EQ_INT(product->fields[3]->index, 3);
    /* types */
    const struct sb_field *tags = sb_collection_field(product, "tags");
    CHECK(tags->type.is_array && tags->type.arr_has_max && !tags->type.arr_has_min);
    CHECK_EQ_INT(tags->type.arr_max, 10);
    CHECK_EQ_INT(tags->type.min, 1);
    const struct sb_field *price = sb_collection_field(product, "price");
    CHECK_EQ_INT(price->type.precision, 10);
    CHECK_EQ_INT(price->type.scale, 2);
    CHECK(price->check && price->check->vtype.kind == SB_V_BOOL);
    /* relations */
    const struct sb_field *prod = sb_collection_field(order, "product");
    CHECK(prod->type.ref == product);
    CHECK_EQ_INT(prod->on_delete, SB_ON_DELETE_CASCADE);
    const struct sb_field *buyer = sb_collection_field(order, "buyer");
    CHECK_EQ_INT(buyer->on_delete, SB_ON_DELETE_RESTRICT);
    CHECK_EQ_INT(buyer->default_expr->ref, SB_REF_AUTH_ID);
    /* indexes */
    CHECK_EQ_INT(product->n_indexes, 2);
    CHECK_EQ_STR(product->indexes[0]->name, "product_name_price_idx");
    CHECK_EQ_STR(product->indexes[1]->name, "product_name_key");
    CHECK(product->indexes[1]->unique);
    /* rules */
    CHECK(product->read_rule && product->read_rule->expr->kind == SB_EXPR_ANYONE);
    CHECK(product->create_rule == product->update_rule && product->update_rule == product->delete_rule);
    CHECK(order->create_rule == NULL && order->delete_rule == NULL);
    CHECK_EQ_INT(order->update_rule->expr->left->ref, SB_REF_OLD_FIELD);
    CHECK_EQ_INT(order->update_rule->expr->right->ref, SB_REF_NEW_FIELD);
    const struct sb_field *role = sb_collection_field(user, "role");
    CHECK(role->write_rule && role->write_rule->n_fields == 1);
    CHECK(role->read_rule == NULL);
    /* actions */
    const struct sb_action *checkout = sb_model_action(m, "checkout");
    CHECK(!checkout->read_only);
    CHECK_EQ_INT(checkout->n_params, 2);
    CHECK(checkout->params[1].default_expr != NULL);
    CHECK_EQ_INT(checkout->n_steps, 3);
    const struct sb_step *upd = &checkout->steps[0];
    CHECK_EQ_INT(upd->kind, SB_STEP_UPDATE);
    CHECK(upd->coll == product);
    CHECK_EQ_INT(upd->status, 409);
    CHECK_EQ_STR(upd->message, "sold out");
    CHECK_EQ_INT(upd->n_assigns, 1);
    CHECK(upd->assigns[0].field == sb_collection_field(product, "stock"));
    const struct sb_expr *ret = checkout->steps[2].expr;
    CHECK_EQ_INT(ret->kind, SB_EXPR_OBJECT);
    CHECK_EQ_INT(ret->args[0]->ref, SB_REF_BINDING_FIELD);
    CHECK(ret->args[0]->step == &checkout->steps[1]);
    CHECK(sb_model_action(m, "cheap")->read_only);
    CHECK_EQ_INT(sb_model_action(m, "cheap")->steps[1].expr->vtype.kind, SB_V_ROWS);
    release(&r);
}

TEST(where_names_resolve_to_fields_then_params)
{
    struct result r;
    compile(&r, shop);
    const struct sb_action *checkout = sb_model_action(r.model, "checkout");
    const struct sb_expr *where = checkout->steps[0].where; /* id == product_id and stock >= qty */
    CHECK_EQ_INT(where->left->left->ref, SB_REF_FIELD);
    CHECK_EQ_INT(where->left->right->ref, SB_REF_PARAM);
    CHECK_EQ_INT(where->right->left->ref, SB_REF_FIELD);
    CHECK_EQ_INT(where->right->right->ref, SB_REF_PARAM);
    release(&r);
}

TEST(syntax_errors)
{
    expect_error("", "empty spec: it must start with 'app NAME'", 1, 1);
    expect_error("collection a { x int }\n", "the spec must start with 'app NAME'", 1, 1);
    expect_error("app x\ncolection a {\n}\n", "unknown declaration 'colection'; did you mean 'collection'?", 2, 1);
    expect_error("app x\ncollection a {\n  n strng\n}\n", "unknown type 'strng'; did you mean 'text'?", 3, 5);
    expect_error("app x\ncollection a {\n  n string\n}\n", "unknown type 'string'; did you mean 'text'?", 3, 5);
    expect_error("app x\ncollection a {\n  n text requird\n}\n",
                 "unknown modifier 'requird'; did you mean 'required'?", 3, 10);
    expect_error("app x\ncollection a {\n  n text\n", "expected '}' to close the collection, found end of file", 4, 1);
    expect_error("app x\ncollection a {\n  n int check n = 1\n}\n", "'=' is assignment; compare with '=='", 3, 17);
    expect_error("app x\ncollection a {\n  n int check 1 < n < 3\n}\n",
                 "comparisons do not chain; join them with 'and'", 3, 21);
    expect_error("app x\ncollection a {\n  n text default \"abc\n}\n",
                 "unterminated string: a string ends with '\"' on the same line", 3, 18);
    expect_error("app x\ncollection a {\n  n int(0..99999999999999999999)\n}\n", "integer out of range (64-bit)", 3, 12);
    expect_error("app x\ncollection a {\n  n decimal(40, 2)\n}\n", "decimal precision must be 1 to 38", 3, 13);
    expect_error("app x\ncollection a {\n  n enum(\"a\", \"b\")\n}\n",
                 "enum values are names, not strings: write enum(a, b)", 3, 10);
    expect_error("app x\ncollection a {\n  n int a text\n}\n", "unknown modifier 'a' (modifiers: required, unique, "
                 "pii, readonly, hidden, searchable, default, check, on delete)", 3, 9);
    expect_error("app x\ncollection a {\n  firstName text\n}\n", "names are lower case; did you mean 'first_name'?", 3, 3);
    expect_error("app x\ncollection a {\n  n int @\n}\n", "unexpected character '@'", 3, 9);
    expect_error("app x\ncollection a {\n  allow insert anyone\n}\n", "unknown operation 'insert'; did you mean 'create'?", 3, 9);
    expect_error("app x\naction f() {\n  update a where true set b = 1 else 200 \"x\"\n}\n",
                 "status 200 is not an error status; use 400 to 599", 3, 38);
}

TEST(semantic_errors)
{
    expect_error("app x\ncollection a {\n  id int\n}\n",
                 "'id' is a system field: every collection has id, created_at and updated_at", 3, 3);
    expect_error("app x\ncollection a {\n  order int\n}\n", "'order' is a reserved word and cannot name a field", 3, 3);
    expect_error("app x\ncollection a {\n  n int\n  n text\n}\n", "field 'n' is declared twice in 'a' (first on line 3)", 4, 3);
    expect_error("app x\ncollection a {\n  b -> c\n}\ncollection cc {\n  n int\n}\n",
                 "unknown collection 'c'; did you mean 'cc'?", 3, 5);
    expect_error("app x\ncollection a {\n  name int\n  allow read nme == 1\n}\n", "unknown name 'nme'; did you mean 'name'?", 4, 14);
    expect_error("app x\ncollection a {\n  n int\n  allow read zzz == 1\n}\n", "unknown name 'zzz': 'a' has no such field", 4, 14);
    expect_error("app x\ncollection a {\n  n int\n  allow read n\n}\n",
                 "a rule must be a condition (true or false), but this is int", 4, 14);
    expect_error("app x\ncollection a {\n  n text\n  allow read n == 1\n}\n", "cannot compare text with int", 4, 14);
    expect_error("app x\ncollection a {\n  s enum(on, off) default \"of\"\n}\n", "unknown enum value 'of'; did you mean 'on'?", 3, 27);
    expect_error("app x\nauth {\n  roles: admin\n}\ncollection a {\n  n int\n  allow read auth.role == \"amdin\"\n}\n",
                 "the auth block needs 'users: COLLECTION', the collection of accounts", 2, 1);
    expect_error("app x\ncollection a {\n  n int\n  allow read auth.role == \"amdin\"\n}\n",
                 "unknown role 'amdin' (roles: anon, authenticated)", 4, 27);
    expect_error("app x\ncollection a {\n  n int check n > auth.id\n}\n",
                 "a check cannot use auth.*: checks are rules about the data alone; use a rule", 3, 19);
    expect_error("app x\ncollection a {\n  n timestamp check n < now()\n}\n",
                 "a check cannot use now(): a check must give the same answer every time", 3, 25);
    expect_error("app x\ncollection a {\n  n int\n  allow create old.n == 1\n}\n",
                 "'old.' is only for update rules (the row before the change)", 4, 16);
    expect_error("app x\ncollection a {\n  n int\n  allow read anyone\n  allow read, update anyone\n}\n",
                 "'read' of 'a' already has a rule (line 4); combine the conditions with 'or'", 5, 3);
    expect_error("app x\ncollection a {\n  n int(1..10) default 11\n}\n", "11 is outside field 'n''s range 1..10", 3, 24);
    expect_error("app x\ncollection a {\n  e email default \"nope\"\n}\n", "not an email address, as field 'e' requires", 3, 19);
    expect_error("app x\ncollection a {\n  n int searchable\n}\n", "only text fields can be searchable (this is int)", 3, 3);
    expect_error("app x\ncollection a {\n  n int\n}\ncollection b {\n  r -> a required on delete set null\n}\n",
                 "'r' is required, so deleting its target cannot set it to null; use cascade or restrict", 6, 3);
    expect_error("app x\ncollection a {\n  n int\n}\naction f(k: int) {\n  create a { n: k }\n  return z\n}\n",
                 "unknown name 'z' in an action", 7, 10);
    expect_error("app x\ncollection a {\n  n int required\n  m int\n}\naction f(k: int) {\n  create a { m: k }\n}\n",
                 "create a: required field 'n' has no value", 7, 10);
    expect_error("app x\ncollection a {\n  n int\n}\naction f(n: int) {\n  update a where n == n set n = 1\n}\n",
                 "'n' is both a field of 'a' and a parameter of the action; rename the parameter", 6, 18);
    expect_error("app x\ncollection rpc {\n  n int\n}\n",
                 "'rpc' cannot name a collection: /rest/v1/rpc/ is where actions are served", 2, 12);
    expect_error("app x\ncollection a {\n  n password\n  allow read(n) anyone\n}\n", "password fields are never readable", 4, 14);
    expect_error("app x\ncollection a {\n  n int\n}\naction f() {\n  return 1\n  create a { n: 1 }\n}\n",
                 "this step comes after 'return' and never runs", 7, 3);
}

TEST(several_errors_and_cap)
{
    struct result r;
    compile(&r, "app x\ncollection a {\n  n int\n  allow read m == 1\n  allow update q == 2\n}\n");
    CHECK_EQ_INT(r.diags.n_errors, 2);
    release(&r);
    /* a flood of mistakes is capped, never unbounded */
    struct sb_buf text;
    sb_buf_init(&text);
    sb_buf_puts(&text, "app x\ncollection a {\n  n int\n");
    for (int i = 0; i < 200; i++)
        sb_buf_printf(&text, "  allow read z%d == 1\n", i);
    sb_buf_puts(&text, "}\n");
    compile(&r, sb_buf_str(&text));
    CHECK(r.diags.n_errors >= 200);
    CHECK_EQ_INT(r.diags.len, SB_DIAG_MAX_ERRORS);
    release(&r);
    sb_buf_free(&text);
}

TEST(hostile_input_is_bounded)
{
    struct result r;
    /* deep nesting */
    struct sb_buf text;
    sb_buf_init(&text);
    sb_buf_puts(&text, "app x\ncollection a {\n  n int check ");
    sb_buf_fill(&text, '(', 10000);
    sb_buf_puts(&text, "1");
    sb_buf_fill(&text, ')', 10000);
    sb_buf_puts(&text, " > 0\n}\n");
    compile(&r, sb_buf_str(&text));
    CHECK_EQ_STR(first_error(&r), "expression nested too deeply (the limit is 64 levels)");
    CHECK_EQ_INT(r.diags.n_errors, 1);
    release(&r);
    sb_buf_reset(&text);
    sb_buf_puts(&text, "app x\ncollection a {\n  n int check ");
    for (int i = 0; i < 10000; i++)
        sb_buf_puts(&text, "not ");
    sb_buf_puts(&text, "true\n}\n");
    compile(&r, sb_buf_str(&text));
    CHECK_EQ_STR(first_error(&r), "expression nested too deeply (the limit is 64 levels)");
    release(&r);
    /* NUL bytes and invalid UTF-8 */
    compile(&r, "app x\n");
    r.source.len = 7; /* include the terminating NUL */
    release(&r);
    static const char nul[] = "app x\n\0collection";
    r.source = (struct sb_source){.name = "t.spec", .text = nul, .len = sizeof(nul) - 1};
    sb_diags_init(&r.diags, &r.source);
    r.model = sb_spec_parse("t.spec", nul, sizeof(nul) - 1, &r.diags);
    CHECK_EQ_STR(first_error(&r), "NUL byte in spec: a spec is UTF-8 text (is this a binary file?)");
    release(&r);
    compile(&r, "app x\n# caf\xe9\n");
    CHECK_EQ_STR(first_error(&r), "invalid UTF-8 byte 0xe9: a spec is UTF-8 text");
    release(&r);
    compile(&r, "app x\n# overlong \xc0\xaf\n");
    CHECK_EQ_STR(first_error(&r), "invalid UTF-8 byte 0xc0: a spec is UTF-8 text");
    release(&r);
    compile(&r, "app x\n# surrogate \xed\xa0\x80\n");
    CHECK_EQ_STR(first_error(&r), "invalid UTF-8 byte 0xed: a spec is UTF-8 text");
    release(&r);
    /* UTF-8 is fine in strings and comments */
    compile(&r, "app x\n# café\ncollection a {\n  n text default \"naïve ☕\"\n}\n");
    CHECK_EQ_STR(first_error(&r), "");
    release(&r);
    sb_buf_free(&text);
}

TEST(formats)
{
    CHECK(sb_format_date("2024-02-29", 10));
    CHECK(!sb_format_date("2023-02-29", 10));
    CHECK(!sb_format_date("2024-13-01", 10));
    CHECK(sb_format_timestamp("2024-01-31T12:00:00Z", 20));
    CHECK(sb_format_timestamp("2024-01-31T12:00:00.123456+02:00", 32));
    CHECK(!sb_format_timestamp("2024-01-31T12:00:00", 19));
    CHECK(!sb_format_timestamp("2024-01-31T25:00:00Z", 20));
    CHECK(sb_format_uuid("123e4567-e89b-12d3-a456-426614174000", 36));
    CHECK(!sb_format_uuid("123e4567e89b12d3a456426614174000", 32));
    CHECK(sb_format_email("a.b+c@example.com", 17));
    CHECK(!sb_format_email("a..b@example.com", 16));
    CHECK(!sb_format_email("ab@localhost", 12));
    CHECK(!sb_format_email("@example.com", 12));
    CHECK(sb_format_url("https://example.com/a?b=c", 25));
    CHECK(sb_format_url("http://user@example.com:8080/", 29));
    CHECK(!sb_format_url("javascript:alert(1)", 19));
    CHECK(!sb_format_url("https://exa mple.com", 20));
    CHECK(!sb_format_url("https://example.com:99999/", 26));
}
