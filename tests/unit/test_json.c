/* Unit tests of the JSON dump of a checked model (src/spec/json.c): the
 * exact bytes for a small spec (sorted keys, 2-space indent, one trailing
 * newline), then the shape of every part read back with jansson: the top
 * level and auth, system and declared fields in order, every type with its
 * bounds, modifiers, defaults and checks, field rules, indexes, collection
 * rules per operation, actions with every step kind, and expressions (the
 * canonical text and the resolved tree with value types). Also: exact 64-bit
 * integers, UTF-8 kept as is, and the same bytes on every run. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"
#include "test.h"
#include "util/buf.h"
#include "util/diag.h"

/* Parse and check src, then dump it (caller frees); a diagnostic is a test
 * failure reported at the caller's line. */
static char *dump_at(const char *src, int line)
{
    size_t len = strlen(src);
    struct sb_source source = {"test.spec", src, len};
    struct sb_diags diags;
    sb_diags_init(&diags, &source);
    struct sb_model *model = sb_spec_parse("test.spec", src, len, &diags);
    if (diags.n_errors == 0)
        sb_spec_check(model, &diags);
    struct sb_buf out;
    sb_buf_init(&out);
    if (diags.n_errors) {
        sb_diags_sort(&diags);
        sb_diags_render(&diags, &out);
        sb_test_fail(__FILE__, line, "spec errors:\n%s", sb_buf_str(&out));
        sb_buf_reset(&out);
    }
    sb_spec_to_json(model, &out);
    sb_model_free(model);
    sb_diags_free(&diags);
    return sb_buf_take(&out);
}

static json_t *load_at(const char *src, int line)
{
    char *text = dump_at(src, line);
    json_error_t error;
    json_t *root = json_loads(text, 0, &error);
    if (!root)
        sb_test_fail(__FILE__, line, "not JSON: %s (line %d)", error.text, error.line);
    free(text);
    return root ? root : json_object();
}

/* The value at a path like "collections/0/fields/1/name" (NULL if absent). */
static json_t *at(json_t *root, const char *path)
{
    json_t *node = root;
    char segment[128];
    while (node && *path) {
        size_t n = strcspn(path, "/");
        snprintf(segment, sizeof(segment), "%.*s", (int)n, path);
        path += n + (path[n] == '/');
        if (json_is_array(node)) {
            char *end;
            long index = strtol(segment, &end, 10);
            node = *end ? NULL : json_array_get(node, (size_t)index);
        } else {
            node = json_object_get(node, segment);
        }
    }
    return node;
}

#define STR_AT(root, path) json_string_value(at((root), (path)))
#define INT_AT(root, path) json_integer_value(at((root), (path)))
#define CHECK_TRUE_AT(root, path) CHECK(json_is_true(at((root), (path))))
#define CHECK_FALSE_AT(root, path) CHECK(json_is_false(at((root), (path))))
#define CHECK_NULL_AT(root, path) CHECK(json_is_null(at((root), (path))))
#define CHECK_ABSENT_AT(root, path) CHECK(at((root), (path)) == NULL)

/* ---- exact output ------------------------------------------------------------ */

TEST(exact_output_of_a_small_spec)
{
    char *got = dump_at("app tiny\n"
                        "\n"
                        "collection note {\n"
                        "  body text(1..10) required\n"
                        "  allow read anyone\n"
                        "}\n",
                        __LINE__);
    const char *field_tail = "          \"pii\": false,\n"
                             "          \"readonly\": true,\n"
                             "          \"required\": true,\n"
                             "          \"rules\": {\n"
                             "            \"read\": null,\n"
                             "            \"write\": null\n"
                             "          },\n"
                             "          \"searchable\": false,\n"
                             "          \"system\": true,\n";
    struct sb_buf want;
    sb_buf_init(&want);
    sb_buf_printf(&want,
                  "{\n"
                  "  \"actions\": [],\n"
                  "  \"app\": \"tiny\",\n"
                  "  \"auth\": null,\n"
                  "  \"collections\": [\n"
                  "    {\n"
                  "      \"checks\": [],\n"
                  "      \"fields\": [\n"
                  "        {\n"
                  "          \"check\": null,\n"
                  "          \"default\": null,\n"
                  "          \"hidden\": false,\n"
                  "          \"name\": \"id\",\n"
                  "%s"
                  "          \"type\": {\n"
                  "            \"kind\": \"int\",\n"
                  "            \"text\": \"int\"\n"
                  "          },\n"
                  "          \"unique\": true\n"
                  "        },\n"
                  "        {\n"
                  "          \"check\": null,\n"
                  "          \"default\": null,\n"
                  "          \"hidden\": false,\n"
                  "          \"name\": \"body\",\n"
                  "          \"pii\": false,\n"
                  "          \"readonly\": false,\n"
                  "          \"required\": true,\n"
                  "          \"rules\": {\n"
                  "            \"read\": null,\n"
                  "            \"write\": null\n"
                  "          },\n"
                  "          \"searchable\": false,\n"
                  "          \"system\": false,\n"
                  "          \"type\": {\n"
                  "            \"kind\": \"text\",\n"
                  "            \"max\": 10,\n"
                  "            \"min\": 1,\n"
                  "            \"text\": \"text(1..10)\"\n"
                  "          },\n"
                  "          \"unique\": false\n"
                  "        },\n"
                  "        {\n"
                  "          \"check\": null,\n"
                  "          \"default\": null,\n"
                  "          \"hidden\": false,\n"
                  "          \"name\": \"created_at\",\n"
                  "%s"
                  "          \"type\": {\n"
                  "            \"kind\": \"timestamp\",\n"
                  "            \"text\": \"timestamp\"\n"
                  "          },\n"
                  "          \"unique\": false\n"
                  "        },\n"
                  "        {\n"
                  "          \"check\": null,\n"
                  "          \"default\": null,\n"
                  "          \"hidden\": false,\n"
                  "          \"name\": \"updated_at\",\n"
                  "%s"
                  "          \"type\": {\n"
                  "            \"kind\": \"timestamp\",\n"
                  "            \"text\": \"timestamp\"\n"
                  "          },\n"
                  "          \"unique\": false\n"
                  "        }\n"
                  "      ],\n"
                  "      \"indexes\": [],\n"
                  "      \"name\": \"note\",\n"
                  "      \"rules\": {\n"
                  "        \"create\": null,\n"
                  "        \"delete\": null,\n"
                  "        \"read\": {\n"
                  "          \"ast\": {\n"
                  "            \"anyone\": true,\n"
                  "            \"type\": \"bool\"\n"
                  "          },\n"
                  "          \"text\": \"anyone\"\n"
                  "        },\n"
                  "        \"update\": null\n"
                  "      }\n"
                  "    }\n"
                  "  ],\n"
                  "  \"security\": null,\n"
                  "  \"specbase\": 1\n"
                  "}\n",
                  field_tail, field_tail, field_tail);
    CHECK_EQ_STR(got, sb_buf_str(&want));
    sb_buf_free(&want);
    free(got);
}

/* ---- the parts ---------------------------------------------------------------- */

static const char *const shop_src =
    "app shop\n"
    "\n"
    "auth {\n"
    "  users: member\n"
    "  roles: admin, customer\n"
    "}\n"
    "\n"
    "security {\n"
    "  limit address: 600/min burst 50\n"
    "  limit auth: 5/s\n"
    "  on enumeration: ban 2 hours\n"
    "  on injection_probe: log\n"
    "  audit: admin, authenticated\n"
    "}\n"
    "\n"
    "collection member {\n"
    "  email    email required unique pii\n"
    "  password password\n"
    "  role     enum(admin, customer) default \"customer\"\n"
    "  name     text(..80) hidden readonly searchable default \"caf\xc3\xa9\"\n"
    "  score    float(-0.5..1.5) default 0.25 check score <= 1.0\n"
    "  big      int(-9223372036854775807..) default 9223372036854775807\n"
    "  price    decimal(10, 2)\n"
    "  tags     text(1..5)[..3]\n"
    "  codes    int[1..]\n"
    "  sizes    int[]\n"
    "  boss     -> member on delete set null\n"
    "  mentor   -> member\n"
    "  index (email, role)\n"
    "  unique (price)\n"
    "  check score >= 0.0 or big > -1\n"
    "  allow read anyone\n"
    "  allow update id == auth.id and new.price >= old.price\n"
    "  allow read(email, role) auth.role == \"admin\" or auth.email == email\n"
    "  allow write(role) auth.role == \"admin\"\n"
    "}\n"
    "\n"
    "action bump(who: -> member, by: int(1..) = 1) {\n"
    "  allow authenticated\n"
    "  let m = get member where id == who else 404 \"none\"\n"
    "  require m.big > by else 400 \"too small\"\n"
    "  update member where id == who set big = big + by, score = 0.5\n"
    "  delete member where id == who and lower(m.name) in [\"a\", \"b\"] else 409 \"busy\"\n"
    "  let all = list member where not (email == null)\n"
    "  let made = create member { email: \"a@b.c\" }\n"
    "  return { m: m.id, n: all, t: now(), c: coalesce(m.price, 0), z: null, y: true }\n"
    "}\n"
    "\n"
    "action peek(who: -> member) {\n"
    "  let m = get member where id == who\n"
    "  list member\n"
    "  return -m.big\n"
    "}\n";

TEST(top_level_and_auth)
{
    json_t *root = load_at(shop_src, __LINE__);
    CHECK_EQ_INT(INT_AT(root, "specbase"), 1);
    CHECK_EQ_STR(STR_AT(root, "app"), "shop");
    CHECK_EQ_STR(STR_AT(root, "auth/users"), "member");
    CHECK_EQ_STR(STR_AT(root, "auth/roles/0"), "admin");
    CHECK_EQ_STR(STR_AT(root, "auth/roles/1"), "customer");
    CHECK_EQ_INT(json_array_size(at(root, "auth/roles")), 2);
    CHECK_EQ_INT(json_array_size(at(root, "collections")), 1);
    CHECK_EQ_INT(json_array_size(at(root, "actions")), 2);
    CHECK_EQ_INT(json_object_size(root), 6);
    CHECK_EQ_INT(INT_AT(root, "security/limits/address/requests"), 600);
    CHECK_EQ_INT(INT_AT(root, "security/limits/address/per_seconds"), 60);
    CHECK_EQ_INT(INT_AT(root, "security/limits/address/burst"), 50);
    CHECK_EQ_INT(INT_AT(root, "security/limits/auth/per_seconds"), 1);
    CHECK(json_is_null(at(root, "security/limits/auth/burst")));
    CHECK(at(root, "security/limits/user") == NULL);
    CHECK_EQ_STR(STR_AT(root, "security/policy/enumeration/action"), "ban");
    CHECK_EQ_INT(INT_AT(root, "security/policy/enumeration/seconds"), 7200);
    CHECK(json_is_null(at(root, "security/policy/injection_probe/seconds")));
    CHECK_EQ_STR(STR_AT(root, "security/audit/1"), "authenticated");
    json_decref(root);
}

TEST(fields_in_order_with_system_fields)
{
    json_t *root = load_at(shop_src, __LINE__);
    json_t *fields = at(root, "collections/0/fields");
    static const char *const names[] = {"id",   "email", "password", "role",  "name",
                                        "score", "big",  "price",    "tags",  "codes",
                                        "sizes", "boss", "mentor",   "created_at", "updated_at"};
    CHECK_EQ_INT(json_array_size(fields), sizeof(names) / sizeof(names[0]));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(fields, i), "name")), names[i]);
        bool is_system = i == 0 || i >= 13;
        CHECK(json_is_true(json_object_get(json_array_get(fields, i), "system")) == is_system);
    }
    json_decref(root);
}

TEST(field_types)
{
    json_t *root = load_at(shop_src, __LINE__);
    json_t *f = at(root, "collections/0/fields");
    CHECK_EQ_STR(STR_AT(f, "1/type/kind"), "email");
    CHECK_EQ_STR(STR_AT(f, "1/type/text"), "email");
    CHECK_EQ_INT(json_object_size(at(f, "1/type")), 2);
    CHECK_EQ_STR(STR_AT(f, "2/type/kind"), "password");
    CHECK_EQ_STR(STR_AT(f, "3/type/kind"), "enum");
    CHECK_EQ_STR(STR_AT(f, "3/type/values/0"), "admin");
    CHECK_EQ_STR(STR_AT(f, "3/type/values/1"), "customer");
    CHECK_EQ_STR(STR_AT(f, "3/type/text"), "enum(admin, customer)");
    /* text(..80): max only */
    CHECK_ABSENT_AT(f, "4/type/min");
    CHECK_EQ_INT(INT_AT(f, "4/type/max"), 80);
    /* float bounds are numbers with a fraction */
    CHECK(json_is_real(at(f, "5/type/min")) && json_real_value(at(f, "5/type/min")) == -0.5);
    CHECK(json_is_real(at(f, "5/type/max")) && json_real_value(at(f, "5/type/max")) == 1.5);
    CHECK_EQ_STR(STR_AT(f, "5/type/text"), "float(-0.5..1.5)");
    /* 64-bit bounds are exact */
    CHECK(json_integer_value(at(f, "6/type/min")) == -INT64_MAX);
    CHECK_ABSENT_AT(f, "6/type/max");
    CHECK_EQ_STR(STR_AT(f, "7/type/kind"), "decimal");
    CHECK_EQ_INT(INT_AT(f, "7/type/precision"), 10);
    CHECK_EQ_INT(INT_AT(f, "7/type/scale"), 2);
    CHECK_EQ_STR(STR_AT(f, "7/type/text"), "decimal(10, 2)");
    /* arrays: element bounds on the type, count bounds under "array" */
    CHECK_EQ_INT(INT_AT(f, "8/type/min"), 1);
    CHECK_EQ_INT(INT_AT(f, "8/type/max"), 5);
    CHECK_EQ_INT(INT_AT(f, "8/type/array/max"), 3);
    CHECK_ABSENT_AT(f, "8/type/array/min");
    CHECK_EQ_STR(STR_AT(f, "8/type/text"), "text(1..5)[..3]");
    CHECK_EQ_INT(INT_AT(f, "9/type/array/min"), 1);
    CHECK_ABSENT_AT(f, "9/type/array/max");
    CHECK(json_is_object(at(f, "10/type/array")) && json_object_size(at(f, "10/type/array")) == 0);
    CHECK_ABSENT_AT(f, "1/type/array");
    /* relations: target and the delete behaviour, written or not */
    CHECK_EQ_STR(STR_AT(f, "11/type/kind"), "relation");
    CHECK_EQ_STR(STR_AT(f, "11/type/target"), "member");
    CHECK_EQ_STR(STR_AT(f, "11/type/on_delete"), "set null");
    CHECK_EQ_STR(STR_AT(f, "11/type/text"), "-> member");
    CHECK_EQ_STR(STR_AT(f, "12/type/kind"), "relation");
    CHECK(STR_AT(f, "12/type/on_delete") != NULL);
    CHECK_EQ_STR(STR_AT(f, "13/type/kind"), "timestamp");
    json_decref(root);
}

TEST(field_modifiers_defaults_checks_and_rules)
{
    json_t *root = load_at(shop_src, __LINE__);
    json_t *f = at(root, "collections/0/fields");
    CHECK_TRUE_AT(f, "1/required");
    CHECK_TRUE_AT(f, "1/unique");
    CHECK_TRUE_AT(f, "1/pii");
    CHECK_FALSE_AT(f, "1/hidden");
    CHECK_FALSE_AT(f, "1/readonly");
    CHECK_FALSE_AT(f, "1/searchable");
    CHECK_FALSE_AT(f, "1/system");
    CHECK_TRUE_AT(f, "4/hidden");
    CHECK_TRUE_AT(f, "4/readonly");
    CHECK_TRUE_AT(f, "4/searchable");
    CHECK_FALSE_AT(f, "4/required");
    /* defaults and checks: null or an expression */
    CHECK_NULL_AT(f, "1/default");
    CHECK_NULL_AT(f, "1/check");
    CHECK_EQ_STR(STR_AT(f, "3/default/text"), "\"customer\"");
    CHECK_EQ_STR(STR_AT(f, "3/default/ast/value"), "customer");
    CHECK_EQ_STR(STR_AT(f, "4/default/ast/value"), "caf\xc3\xa9");
    CHECK(json_real_value(at(f, "5/default/ast/value")) == 0.25);
    CHECK_EQ_STR(STR_AT(f, "5/default/text"), "0.25");
    CHECK_EQ_STR(STR_AT(f, "5/check/text"), "score <= 1.0");
    CHECK_EQ_STR(STR_AT(f, "5/check/ast/op"), "<=");
    CHECK_EQ_STR(STR_AT(f, "5/check/ast/left/field"), "score");
    CHECK(json_integer_value(at(f, "6/default/ast/value")) == INT64_MAX);
    /* field rules: the expression, or null when the collection's rules decide */
    CHECK_EQ_STR(STR_AT(f, "1/rules/read/text"), "auth.role == \"admin\" or auth.email == email");
    CHECK_NULL_AT(f, "1/rules/write");
    CHECK_EQ_STR(STR_AT(f, "3/rules/read/text"), "auth.role == \"admin\" or auth.email == email");
    CHECK_EQ_STR(STR_AT(f, "3/rules/write/text"), "auth.role == \"admin\"");
    CHECK_NULL_AT(f, "4/rules/read");
    CHECK_NULL_AT(f, "4/rules/write");
    json_decref(root);
}

TEST(indexes_checks_and_collection_rules)
{
    json_t *root = load_at(shop_src, __LINE__);
    json_t *c = at(root, "collections/0");
    CHECK_EQ_STR(STR_AT(c, "name"), "member");
    CHECK_EQ_INT(json_array_size(at(c, "indexes")), 2);
    CHECK_EQ_STR(STR_AT(c, "indexes/0/columns/0"), "email");
    CHECK_EQ_STR(STR_AT(c, "indexes/0/columns/1"), "role");
    CHECK_FALSE_AT(c, "indexes/0/unique");
    CHECK(STR_AT(c, "indexes/0/name") != NULL && strstr(STR_AT(c, "indexes/0/name"), "member"));
    CHECK_EQ_STR(STR_AT(c, "indexes/1/columns/0"), "price");
    CHECK_TRUE_AT(c, "indexes/1/unique");
    CHECK_EQ_INT(json_array_size(at(c, "checks")), 1);
    CHECK_EQ_STR(STR_AT(c, "checks/0/text"), "score >= 0.0 or big > -1");
    CHECK_EQ_STR(STR_AT(c, "rules/read/text"), "anyone");
    CHECK_EQ_STR(STR_AT(c, "rules/update/text"), "id == auth.id and new.price >= old.price");
    CHECK_NULL_AT(c, "rules/create");
    CHECK_NULL_AT(c, "rules/delete");
    json_decref(root);
}

TEST(expression_trees)
{
    json_t *root = load_at(shop_src, __LINE__);
    json_t *c = at(root, "collections/0");
    /* score >= 0.0 or big > -1 */
    json_t *e = at(c, "checks/0/ast");
    CHECK_EQ_STR(STR_AT(e, "op"), "or");
    CHECK_EQ_STR(STR_AT(e, "type"), "bool");
    CHECK_EQ_STR(STR_AT(e, "left/op"), ">=");
    CHECK_EQ_STR(STR_AT(e, "left/left/field"), "score");
    CHECK_EQ_STR(STR_AT(e, "left/left/type"), "float");
    CHECK(json_is_real(at(e, "left/right/value")));
    CHECK_EQ_STR(STR_AT(e, "right/right/op"), "-");
    CHECK_EQ_INT(INT_AT(e, "right/right/operand/value"), 1);
    CHECK_EQ_STR(STR_AT(e, "right/right/operand/type"), "int");
    /* id == auth.id and new.price >= old.price */
    e = at(c, "rules/update/ast");
    CHECK_EQ_STR(STR_AT(e, "left/left/field"), "id");
    CHECK_EQ_STR(STR_AT(e, "left/left/type"), "id:member");
    CHECK_EQ_STR(STR_AT(e, "left/right/auth"), "id");
    CHECK_EQ_STR(STR_AT(e, "right/left/new"), "price");
    CHECK_EQ_STR(STR_AT(e, "right/right/old"), "price");
    CHECK_EQ_STR(STR_AT(e, "right/right/type"), "decimal");
    /* auth.role == "admin" or auth.email == email */
    e = at(c, "fields/1/rules/read/ast");
    CHECK_EQ_STR(STR_AT(e, "left/left/auth"), "role");
    CHECK_EQ_STR(STR_AT(e, "left/right/value"), "admin");
    CHECK_EQ_STR(STR_AT(e, "right/left/auth"), "email");
    CHECK_TRUE_AT(c, "rules/read/ast/anyone");
    CHECK_TRUE_AT(root, "actions/0/allow/ast/authenticated");
    json_decref(root);
}

TEST(actions_params_and_steps)
{
    json_t *root = load_at(shop_src, __LINE__);
    json_t *a = at(root, "actions/0");
    CHECK_EQ_STR(STR_AT(a, "name"), "bump");
    CHECK_FALSE_AT(a, "read_only");
    CHECK_EQ_STR(STR_AT(a, "params/0/name"), "who");
    CHECK_EQ_STR(STR_AT(a, "params/0/type/kind"), "relation");
    CHECK_EQ_STR(STR_AT(a, "params/0/type/target"), "member");
    CHECK_ABSENT_AT(a, "params/0/type/on_delete");
    CHECK_TRUE_AT(a, "params/0/required");
    CHECK_NULL_AT(a, "params/0/default");
    CHECK_EQ_INT(INT_AT(a, "params/1/type/min"), 1);
    CHECK_FALSE_AT(a, "params/1/required");
    CHECK_EQ_INT(INT_AT(a, "params/1/default/ast/value"), 1);
    CHECK_EQ_STR(STR_AT(a, "allow/text"), "authenticated");

    json_t *s = at(a, "steps");
    CHECK_EQ_INT(json_array_size(s), 7);
    /* let m = get member where id == who else 404 "none" */
    CHECK_EQ_STR(STR_AT(s, "0/kind"), "get");
    CHECK_EQ_STR(STR_AT(s, "0/bind"), "m");
    CHECK_EQ_STR(STR_AT(s, "0/collection"), "member");
    CHECK_EQ_STR(STR_AT(s, "0/where/text"), "id == who");
    CHECK_EQ_STR(STR_AT(s, "0/where/ast/right/param"), "who");
    CHECK_EQ_INT(INT_AT(s, "0/else/status"), 404);
    CHECK_EQ_STR(STR_AT(s, "0/else/message"), "none");
    /* require m.big > by else 400 "too small" */
    CHECK_EQ_STR(STR_AT(s, "1/kind"), "require");
    CHECK_EQ_STR(STR_AT(s, "1/condition/text"), "m.big > by");
    CHECK_EQ_STR(STR_AT(s, "1/condition/ast/left/binding"), "m");
    CHECK_EQ_STR(STR_AT(s, "1/condition/ast/left/field"), "big");
    CHECK_EQ_STR(STR_AT(s, "1/condition/ast/right/param"), "by");
    CHECK_EQ_INT(INT_AT(s, "1/else/status"), 400);
    CHECK_ABSENT_AT(s, "1/bind");
    /* update member where id == who set big = big + by, score = 0.5 */
    CHECK_EQ_STR(STR_AT(s, "2/kind"), "update");
    CHECK_NULL_AT(s, "2/bind");
    CHECK_EQ_STR(STR_AT(s, "2/set/big/text"), "big + by");
    CHECK_EQ_STR(STR_AT(s, "2/set/score/text"), "0.5");
    CHECK_NULL_AT(s, "2/else");
    /* delete ... and lower(m.name) in ["a", "b"] else 409 "busy" */
    CHECK_EQ_STR(STR_AT(s, "3/kind"), "delete");
    CHECK_EQ_STR(STR_AT(s, "3/where/ast/right/op"), "in");
    CHECK_EQ_STR(STR_AT(s, "3/where/ast/right/left/call"), "lower");
    CHECK_EQ_STR(STR_AT(s, "3/where/ast/right/left/args/0/field"), "name");
    CHECK_EQ_STR(STR_AT(s, "3/where/ast/right/right/list/1/value"), "b");
    CHECK_EQ_STR(STR_AT(s, "3/where/ast/right/right/type"), "list:text");
    CHECK_EQ_INT(INT_AT(s, "3/else/status"), 409);
    /* let all = list member where not (email == null) */
    CHECK_EQ_STR(STR_AT(s, "4/kind"), "list");
    CHECK_EQ_STR(STR_AT(s, "4/bind"), "all");
    CHECK_EQ_STR(STR_AT(s, "4/where/text"), "not (email == null)");
    CHECK_EQ_STR(STR_AT(s, "4/where/ast/op"), "not");
    CHECK(json_is_null(at(s, "4/where/ast/operand/right/value")));
    CHECK_ABSENT_AT(s, "4/else");
    /* let made = create member { email: "a@b.c" } */
    CHECK_EQ_STR(STR_AT(s, "5/kind"), "create");
    CHECK_EQ_STR(STR_AT(s, "5/bind"), "made");
    CHECK_EQ_STR(STR_AT(s, "5/values/email/ast/value"), "a@b.c");
    CHECK_ABSENT_AT(s, "5/else");
    /* return { m: m.id, n: all, t: now(), c: coalesce(m.price, 0), z: null, y: true } */
    CHECK_EQ_STR(STR_AT(s, "6/kind"), "return");
    CHECK_EQ_STR(STR_AT(s, "6/value/text"),
                 "{ m: m.id, n: all, t: now(), c: coalesce(m.price, 0), z: null, y: true }");
    json_t *obj = at(s, "6/value/ast");
    CHECK_EQ_STR(STR_AT(obj, "type"), "object");
    CHECK_EQ_STR(STR_AT(obj, "object/m/binding"), "m");
    CHECK_EQ_STR(STR_AT(obj, "object/m/field"), "id");
    CHECK_EQ_STR(STR_AT(obj, "object/m/type"), "id:member");
    CHECK_EQ_STR(STR_AT(obj, "object/n/binding"), "all");
    CHECK_EQ_STR(STR_AT(obj, "object/n/type"), "rows:member");
    CHECK_EQ_STR(STR_AT(obj, "object/t/call"), "now");
    CHECK_EQ_INT(json_array_size(at(obj, "object/t/args")), 0);
    CHECK_EQ_STR(STR_AT(obj, "object/t/type"), "timestamp");
    CHECK_EQ_STR(STR_AT(obj, "object/c/call"), "coalesce");
    CHECK_EQ_INT(INT_AT(obj, "object/c/args/1/value"), 0);
    CHECK(json_is_null(at(obj, "object/z/value")));
    CHECK_TRUE_AT(obj, "object/y/value");

    /* an action without writes is read-only; no allow: null */
    a = at(root, "actions/1");
    CHECK_EQ_STR(STR_AT(a, "name"), "peek");
    CHECK_TRUE_AT(a, "read_only");
    CHECK_NULL_AT(a, "allow");
    CHECK_NULL_AT(a, "steps/0/else");
    CHECK_NULL_AT(a, "steps/1/bind");
    CHECK_NULL_AT(a, "steps/1/where");
    CHECK_EQ_STR(STR_AT(a, "steps/0/bind"), "m");
    CHECK_EQ_STR(STR_AT(a, "steps/2/value/text"), "-m.big");
    CHECK_EQ_STR(STR_AT(a, "steps/2/value/ast/op"), "-");
    CHECK_EQ_STR(STR_AT(a, "steps/2/value/ast/operand/binding"), "m");
    json_decref(root);
}

TEST(output_form)
{
    char *first = dump_at(shop_src, __LINE__);
    char *second = dump_at(shop_src, __LINE__);
    /* same spec, same bytes */
    CHECK_EQ_STR(first, second);
    size_t len = strlen(first);
    CHECK(len > 2 && first[len - 1] == '\n' && first[len - 2] == '}');
    CHECK(strncmp(first, "{\n  \"actions\": [\n    {\n", 22) == 0);
    /* sorted keys at the top level */
    const char *order[] = {"\n  \"actions\"", "\n  \"app\"", "\n  \"auth\"", "\n  \"collections\"",
                           "\n  \"specbase\""};
    const char *pos = first;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        const char *found = strstr(pos, order[i]);
        CHECK(found != NULL);
        if (found)
            pos = found;
    }
    /* UTF-8 kept, not \u-escaped; 64-bit integers printed exactly */
    CHECK(strstr(first, "\"caf\xc3\xa9\"") != NULL);
    CHECK(strstr(first, "\\u00e9") == NULL);
    CHECK(strstr(first, "9223372036854775807") != NULL);
    CHECK(strstr(first, "-9223372036854775807") != NULL);
    /* floats as short as the literal */
    CHECK(strstr(first, "\"value\": 0.25") != NULL);
    CHECK(strstr(first, "\"min\": -0.5") != NULL);
    free(first);
    free(second);
}

TEST(expression_text_matches_the_formatter)
{
    json_t *root = load_at("app a\n"
                           "\n"
                           "collection c {\n"
                           "  a int\n"
                           "  b int\n"
                           "  check ((a+b))*2>=-b and not(a==b) or a-(b-1)>0\n"
                           "}\n",
                           __LINE__);
    CHECK_EQ_STR(STR_AT(root, "collections/0/checks/0/text"),
                 "(a + b) * 2 >= -b and not (a == b) or a - (b - 1) > 0");
    json_t *e = at(root, "collections/0/checks/0/ast");
    CHECK_EQ_STR(STR_AT(e, "op"), "or");
    CHECK_EQ_STR(STR_AT(e, "left/left/left/op"), "*");
    CHECK_EQ_STR(STR_AT(e, "left/left/left/left/op"), "+");
    CHECK_EQ_STR(STR_AT(e, "right/left/right/op"), "-");
    CHECK_EQ_STR(STR_AT(e, "right/left/right/left/field"), "b");
    json_decref(root);
}
