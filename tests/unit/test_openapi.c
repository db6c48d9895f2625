/* Unit tests of the API's self-description (src/api/openapi*.c,
 * typescript.c, surface.c): the OpenAPI document read back with jansson —
 * its fixed layout and determinism, the paths and operations of every
 * collection and action, the row, create and update schemas of every field
 * type with their bounds, formats, nullability, required lists, readOnly and
 * writeOnly, hidden and password fields, relations, checks turned into
 * bounds, doc comments, error responses and security — the decimal pattern
 * against the server's own decimal parser, foreign key names, and the
 * TypeScript Database type. The Node suite (tests/openapi/) validates the
 * same documents with Redocly and swagger-parser and compiles the types. */
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/openapi.h"
#include "api/surface.h"
#include "api/typescript.h"
#include "guard/values.h"
#include "spec/spec.h"
#include "test.h"
#include "util/buf.h"
#include "util/diag.h"

/* Parse and check src (a diagnostic is a test failure at the caller's
 * line); the model borrows src. */
static struct sb_model *model_at(const char *src, int line)
{
    size_t len = strlen(src);
    struct sb_source source = {"test.spec", src, len};
    struct sb_diags diags;
    sb_diags_init(&diags, &source);
    struct sb_model *model = sb_spec_parse("test.spec", src, len, &diags);
    if (diags.n_errors == 0)
        sb_spec_check(model, &diags);
    if (diags.n_errors) {
        struct sb_buf out;
        sb_buf_init(&out);
        sb_diags_sort(&diags);
        sb_diags_render(&diags, &out);
        sb_test_fail(__FILE__, line, "spec errors:\n%s", sb_buf_str(&out));
        sb_buf_free(&out);
    }
    sb_diags_free(&diags);
    return model;
}

#define MODEL(src) model_at((src), __LINE__)

static char *document(const struct sb_model *model, const struct sb_openapi_opts *opts)
{
    struct sb_buf out;
    sb_buf_init(&out);
    sb_openapi_document(model, opts, &out);
    return sb_buf_take(&out);
}

static json_t *parse_at(const char *text, int line)
{
    json_error_t error;
    json_t *root = json_loads(text, 0, &error);
    if (!root) {
        sb_test_fail(__FILE__, line, "not JSON: %s (line %d)", error.text, error.line);
        return json_object();
    }
    return root;
}

#define PARSE(text) parse_at((text), __LINE__)

/* The value at a path like "paths|/product|get|responses|200" ('|' because
 * keys contain '/'); array elements by index. NULL when absent. */
static json_t *at(json_t *root, const char *path)
{
    json_t *node = root;
    char segment[256];
    while (node && *path) {
        size_t n = strcspn(path, "|");
        snprintf(segment, sizeof(segment), "%.*s", (int)n, path);
        path += n + (path[n] == '|');
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

/* The compact JSON of the value at path, for exact comparisons. */
static char *compact_at(json_t *root, const char *path)
{
    json_t *node = at(root, path);
    /* 15 significant digits: 0.5 as "0.5", 1e38 as "1e38" */
    return node ? json_dumps(node, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) : strdup("(absent)");
}

#define CHECK_JSON_AT(root, path, want)                                                            \
    do {                                                                                           \
        char *got_json_ = compact_at((root), (path));                                              \
        CHECK_EQ_STR(got_json_, (want));                                                           \
        free(got_json_);                                                                           \
    } while (0)

/* The keys of the object at path joined by ',' (caller frees). */
static char *keys_at(json_t *root, const char *path)
{
    struct sb_buf out;
    sb_buf_init(&out);
    json_t *obj = at(root, path);
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        if (out.len)
            sb_buf_putc(&out, ',');
        sb_buf_puts(&out, key);
    }
    return sb_buf_take(&out);
}

#define CHECK_KEYS_AT(root, path, want)                                                            \
    do {                                                                                           \
        char *got_keys_ = keys_at((root), (path));                                                 \
        CHECK_EQ_STR(got_keys_ ? got_keys_ : "", (want));                                          \
        free(got_keys_);                                                                           \
    } while (0)

/* Is there a {"$ref": ref} in the array at path? */
static bool has_ref(json_t *root, const char *path, const char *ref)
{
    json_t *array = at(root, path);
    size_t i;
    json_t *item;
    json_array_foreach(array, i, item) {
        const char *value = json_string_value(json_object_get(item, "$ref"));
        if (value && !strcmp(value, ref))
            return true;
    }
    return false;
}

static const char types_spec[] =
    "# Every type, for the schema tests.\n"
    "app types\n"
    "\n"
    "# Things of every kind.\n"
    "collection thing {\n"
    "  # the name shown in lists\n"
    "  title text(2..20)     required searchable\n"
    "  count int(-5..5)      default 0\n"
    "  ratio float(0..1)\n"
    "  price decimal(6, 2)   check price >= 0 and price < 1000\n"
    "  flag  bool            required default false\n"
    "  at    timestamp       default now()\n"
    "  day   date\n"
    "  key   uuid            unique\n"
    "  mail  email           pii  # where receipts go\n"
    "  site  url\n"
    "  kind  enum(a, b)      default \"a\"\n"
    "  data  json            required\n"
    "  pass  password\n"
    "  note  text            hidden\n"
    "  owner -> other        on delete cascade\n"
    "  tags  text(1..5)[1..3]\n"
    "  lock  int             readonly default 1\n"
    "  seen  text\n"
    "  check count != 3\n"
    "\n"
    "  allow read anyone\n"
    "  allow read(seen) authenticated\n"
    "}\n"
    "\n"
    "collection other {\n"
    "  name text\n"
    "  mate -> thing unique\n"
    "}\n"
    "\n"
    "# Answers with its argument.\n"
    "action ping(n: int(1..3) = 2, what: enum(x, y)) {\n"
    "  allow anyone\n"
    "  return { n: n, what: what }\n"
    "}\n"
    "\n"
    "action noop() {\n"
    "  allow authenticated\n"
    "  create other { name: \"x\" }\n"
    "}\n"
    "\n"
    "action find(id_: -> other) {\n"
    "  allow anyone\n"
    "  let found = get other where id == id_ else 410 \"gone\"\n"
    "  require found.name != null else 422 \"unnamed\"\n"
    "  return found\n"
    "}\n";

static json_t *types_doc(void)
{
    struct sb_model *model = MODEL(types_spec);
    char *text = document(model, NULL);
    json_t *root = PARSE(text);
    free(text);
    sb_model_free(model);
    return root;
}

/* ---- layout --------------------------------------------------------------------- */

TEST(document_layout_and_determinism)
{
    struct sb_model *model = MODEL(types_spec);
    char *first = document(model, NULL);
    char *second = document(model, NULL);
    CHECK_EQ_STR(first, second);
    static const char head[] = "{\n  \"openapi\": \"3.1.0\",\n  \"info\": {\n    \"title\": \"types\",\n";
    CHECK(strncmp(first, head, sizeof(head) - 1) == 0);
    size_t len = strlen(first);
    CHECK(len > 2 && strcmp(first + len - 2, "}\n") == 0);
    json_t *root = PARSE(first);
    CHECK_KEYS_AT(root, "", "openapi,info,servers,security,tags,paths,components");
    CHECK_KEYS_AT(root, "components", "schemas,parameters,headers,responses,securitySchemes");
    CHECK_JSON_AT(root, "servers", "[{\"url\":\"/rest/v1\"}]");
    char version[32] = "";
    if (STR_AT(root, "info|version"))
        snprintf(version, sizeof(version), "%s", STR_AT(root, "info|version"));
    CHECK(strlen(version) == 21 && strncmp(version, "spec-", 5) == 0 &&
          strspn(version + 5, "0123456789abcdef") == 16);
    CHECK(strstr(STR_AT(root, "info|description"), "Every type, for the schema tests.\n\n") == STR_AT(root, "info|description"));
    json_decref(root);

    /* the render entry point is the document with a server URL */
    struct sb_buf rendered;
    sb_buf_init(&rendered);
    CHECK_EQ_INT(sb_openapi_render(model, NULL, &rendered), 0);
    CHECK_EQ_STR(sb_buf_str(&rendered), first);
    sb_buf_reset(&rendered);
    sb_openapi_render(model, "https://api.example.com/rest/v1", &rendered);
    root = PARSE(sb_buf_str(&rendered));
    CHECK_EQ_STR(STR_AT(root, "servers|0|url"), "https://api.example.com/rest/v1");
    CHECK_EQ_STR(STR_AT(root, "info|version"), version);
    json_decref(root);
    sb_buf_free(&rendered);

    struct sb_openapi_opts opts = {.server_url = "/api", .version = "2.0.1"};
    char *custom = document(model, &opts);
    root = PARSE(custom);
    CHECK_EQ_STR(STR_AT(root, "info|version"), "2.0.1");
    CHECK_EQ_STR(STR_AT(root, "servers|0|url"), "/api");
    json_decref(root);
    free(custom);
    free(first);
    free(second);
    sb_model_free(model);

    /* a changed spec changes the version; comments count (they describe) */
    struct sb_model *a = MODEL("app v\ncollection x {\n  n int\n}\n");
    struct sb_model *b = MODEL("app v\n# the x\ncollection x {\n  n int\n}\n");
    char *doc_a = document(a, NULL), *doc_b = document(b, NULL);
    json_t *root_a = PARSE(doc_a), *root_b = PARSE(doc_b);
    CHECK(strcmp(STR_AT(root_a, "info|version"), STR_AT(root_b, "info|version")) != 0);
    CHECK_EQ_STR(STR_AT(root_b, "tags|0|description"), "the x");
    json_decref(root_a);
    json_decref(root_b);
    free(doc_a);
    free(doc_b);
    sb_model_free(a);
    sb_model_free(b);
}

TEST(security_is_global)
{
    json_t *root = types_doc();
    CHECK_JSON_AT(root, "security", "[{\"apikey\":[]},{\"bearer\":[]}]");
    CHECK_JSON_AT(root, "components|securitySchemes|apikey|type", "\"apiKey\"");
    CHECK_JSON_AT(root, "components|securitySchemes|apikey|in", "\"header\"");
    CHECK_JSON_AT(root, "components|securitySchemes|apikey|name", "\"apikey\"");
    CHECK_JSON_AT(root, "components|securitySchemes|bearer|scheme", "\"bearer\"");
    CHECK_JSON_AT(root, "components|securitySchemes|bearer|bearerFormat", "\"JWT\"");
    json_decref(root);
}

/* ---- paths ----------------------------------------------------------------------- */

TEST(paths_of_the_shop)
{
    struct sb_model *model = NULL;
    char *source = NULL;
    struct sb_buf err;
    sb_buf_init(&err);
    CHECK_EQ_INT(sb_spec_load("examples/shop.spec", &model, &source, &err), 0);
    sb_buf_free(&err);
    if (!model)
        return;
    char *text = document(model, NULL);
    json_t *root = PARSE(text);
    for (size_t i = 0; i < model->n_collections; i++) {
        const char *name = model->collections[i]->name;
        char path[128], want[128];
        snprintf(path, sizeof(path), "paths|/%s", name);
        CHECK_KEYS_AT(root, path, "get,head,post,patch,delete");
        static const char *const ops[][2] = {
            {"get", "select_"}, {"head", "head_"}, {"post", "insert_"}, {"patch", "update_"}, {"delete", "delete_"},
        };
        for (size_t k = 0; k < 5; k++) {
            snprintf(path, sizeof(path), "paths|/%s|%s|operationId", name, ops[k][0]);
            snprintf(want, sizeof(want), "%s%s", ops[k][1], name);
            CHECK_EQ_STR(STR_AT(root, path), want);
            snprintf(path, sizeof(path), "paths|/%s|%s|tags|0", name, ops[k][0]);
            CHECK_EQ_STR(STR_AT(root, path), name);
        }
        snprintf(path, sizeof(path), "components|schemas|%sInsert", name);
        CHECK(at(root, path) != NULL);
        snprintf(path, sizeof(path), "components|schemas|%sUpdate", name);
        CHECK(at(root, path) != NULL);
    }
    for (size_t i = 0; i < model->n_actions; i++) {
        const struct sb_action *action = model->actions[i];
        char path[128];
        snprintf(path, sizeof(path), "paths|/rpc/%s", action->name);
        CHECK_KEYS_AT(root, path, action->read_only ? "post,get" : "post");
    }
    CHECK_KEYS_AT(root, "paths|/rpc/low_stock", "post,get");
    CHECK_KEYS_AT(root, "paths|/rpc/checkout", "post");
    /* read: 200 and 206 with rows, errors through the shared responses */
    CHECK_KEYS_AT(root, "paths|/product|get|responses", "200,206,400,401,403,404,406,416");
    CHECK_KEYS_AT(root, "paths|/product|get|responses|200|content",
                  "application/json,application/vnd.pgrst.object+json,text/csv");
    CHECK_EQ_STR(STR_AT(root, "paths|/product|get|responses|200|content|application/json|schema|items|$ref"),
                 "#/components/schemas/product");
    CHECK_EQ_STR(STR_AT(root, "paths|/product|get|responses|400|$ref"), "#/components/responses/BadRequest");
    CHECK_EQ_STR(STR_AT(root, "components|responses|BadRequest|content|application/json|schema|$ref"),
                 "#/components/schemas/Error");
    CHECK_KEYS_AT(root, "paths|/product|head|responses", "200,206,400,401,406,416");
    CHECK_KEYS_AT(root, "paths|/product|post|responses", "201,400,401,403,406,409,413,415");
    CHECK_KEYS_AT(root, "paths|/product|patch|responses", "200,204,400,401,403,406,409,413,415");
    CHECK_KEYS_AT(root, "paths|/product|delete|responses", "200,204,400,401,403,406,409");
    CHECK_KEYS_AT(root, "paths|/product|post|responses|201|headers", "Content-Range,Location,Preference-Applied");
    /* create: one object or a non-empty array of them */
    CHECK_JSON_AT(root, "paths|/product|post|requestBody|content|application/json|schema",
                  "{\"oneOf\":[{\"$ref\":\"#/components/schemas/productInsert\"},{\"type\":\"array\",\"items\":"
                  "{\"$ref\":\"#/components/schemas/productInsert\"},\"minItems\":1}]}");
    CHECK_JSON_AT(root, "paths|/product|post|requestBody|required", "true");
    CHECK_EQ_STR(STR_AT(root, "paths|/product|patch|requestBody|content|application/json|schema|$ref"),
                 "#/components/schemas/productUpdate");
    /* the PostgREST parameters, shared; the filters per field */
    json_t *params = at(root, "paths|/product|get|parameters");
    CHECK_EQ_STR(STR_AT(params, "0|$ref"), "#/components/parameters/select");
    CHECK(has_ref(root, "paths|/product|get|parameters", "#/components/parameters/order"));
    CHECK(has_ref(root, "paths|/product|get|parameters", "#/components/parameters/limit"));
    CHECK(has_ref(root, "paths|/product|get|parameters", "#/components/parameters/offset"));
    CHECK(has_ref(root, "paths|/product|get|parameters", "#/components/parameters/range"));
    CHECK(has_ref(root, "paths|/product|get|parameters", "#/components/parameters/preferRead"));
    CHECK(has_ref(root, "paths|/product|get|parameters", "#/components/parameters/rowFilter.product.price"));
    CHECK(has_ref(root, "paths|/product|patch|parameters", "#/components/parameters/rowFilter.product.price"));
    CHECK(has_ref(root, "paths|/product|delete|parameters", "#/components/parameters/rowFilter.product.id"));
    CHECK(has_ref(root, "paths|/product|post|parameters", "#/components/parameters/preferInsert"));
    CHECK_EQ_STR(STR_AT(root, "components|parameters|range|name"), "Range");
    CHECK_EQ_STR(STR_AT(root, "components|parameters|range|in"), "header");
    CHECK_EQ_STR(STR_AT(root, "components|parameters|preferRead|name"), "Prefer");
    CHECK_EQ_STR(STR_AT(root, "components|parameters|limit|schema|type"), "integer");
    CHECK_EQ_STR(STR_AT(root, "components|parameters|rowFilter.product.price|name"), "price");
    CHECK_EQ_STR(STR_AT(root, "components|parameters|rowFilter.product.price|in"), "query");
    CHECK_EQ_STR(STR_AT(root, "components|parameters|rowFilter.product.price|schema|type"), "string");
    CHECK(strstr(STR_AT(root, "components|parameters|rowFilter.product.description|description"), "fts") != NULL);
    /* no filter on a password */
    CHECK(at(root, "components|parameters|rowFilter.user.password") == NULL);
    CHECK(at(root, "components|parameters|rowFilter.user.email") != NULL);
    /* the error body */
    CHECK_JSON_AT(root, "components|schemas|Error|required", "[\"code\",\"message\",\"details\",\"hint\"]");
    CHECK_JSON_AT(root, "components|schemas|Error|properties|details|type", "[\"string\",\"null\"]");
    CHECK_JSON_AT(root, "components|schemas|Error|properties|errors|items|required",
                  "[\"field\",\"rule\",\"message\"]");
    /* tags: a collection's doc comment, the actions */
    CHECK_EQ_STR(STR_AT(root, "tags|3|name"), "account");
    CHECK_EQ_STR(STR_AT(root, "tags|3|description"),
                 "Balances in the shop's currency; changed only by the actions below.");
    CHECK_EQ_STR(STR_AT(root, "tags|4|name"), "rpc");
    json_decref(root);
    free(text);
    sb_model_free(model);
    free(source);
}

/* ---- schemas ---------------------------------------------------------------------- */

TEST(row_schema_shows_what_a_row_holds)
{
    json_t *root = types_doc();
    const char *row = "components|schemas|thing";
    CHECK_KEYS_AT(root, "components|schemas|thing|properties",
                  "id,title,count,ratio,price,flag,at,day,key,mail,site,kind,data,owner,tags,lock,seen,"
                  "created_at,updated_at");
    /* every field but the one a field read rule may leave out */
    CHECK_JSON_AT(root, "components|schemas|thing|required",
                  "[\"id\",\"title\",\"count\",\"ratio\",\"price\",\"flag\",\"at\",\"day\",\"key\",\"mail\","
                  "\"site\",\"kind\",\"data\",\"owner\",\"tags\",\"lock\",\"created_at\",\"updated_at\"]");
    CHECK(at(root, "components|schemas|thing|additionalProperties") == NULL);
    (void)row;
    const char *p = "components|schemas|thing|properties|";
    char path[256];
#define P(rest) (snprintf(path, sizeof(path), "%s%s", p, (rest)), path)
    CHECK_JSON_AT(root, P("id"),
                  "{\"type\":\"integer\",\"format\":\"int64\",\"description\":\"assigned by the server on "
                  "create, never changes\",\"readOnly\":true,\"x-unique\":true}");
    CHECK_JSON_AT(root, P("title|type"), "\"string\"");
    CHECK_JSON_AT(root, P("title|minLength"), "2");
    CHECK_JSON_AT(root, P("title|maxLength"), "20");
    CHECK(strstr(STR_AT(root, P("title|description")), "the name shown in lists\n\n") != NULL);
    CHECK(strstr(STR_AT(root, P("title|description")), "full-text searchable") != NULL);
    CHECK_JSON_AT(root, P("count"),
                  "{\"type\":[\"integer\",\"null\"],\"format\":\"int64\",\"minimum\":-5,\"maximum\":5}");
    CHECK_JSON_AT(root, P("ratio"), "{\"type\":[\"number\",\"null\"],\"format\":\"double\",\"minimum\":0,\"maximum\":1}");
    CHECK_JSON_AT(root, P("price|type"), "[\"number\",\"null\"]");
    CHECK_JSON_AT(root, P("price|format"), "\"decimal\"");
    CHECK_JSON_AT(root, P("price|minimum"), "0");
    CHECK_JSON_AT(root, P("price|exclusiveMaximum"), "1000");
    CHECK(at(root, P("price|exclusiveMinimum")) == NULL);
    CHECK(at(root, P("price|maximum")) == NULL);
    CHECK(at(root, P("price|pattern")) == NULL);
    CHECK(at(root, P("price|multipleOf")) == NULL);
    CHECK_JSON_AT(root, P("price|x-decimal"), "{\"precision\":6,\"scale\":2}");
    CHECK(strstr(STR_AT(root, P("price|description")), "check: price >= 0 and price < 1000") != NULL);
    CHECK_JSON_AT(root, P("flag"), "{\"type\":\"boolean\"}");
    CHECK_JSON_AT(root, P("at"), "{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"}");
    CHECK_JSON_AT(root, P("day"), "{\"type\":[\"string\",\"null\"],\"format\":\"date\"}");
    CHECK_JSON_AT(root, P("key"), "{\"type\":[\"string\",\"null\"],\"format\":\"uuid\",\"x-unique\":true}");
    CHECK_JSON_AT(root, P("mail"),
                  "{\"type\":[\"string\",\"null\"],\"format\":\"email\",\"maxLength\":254,"
                  "\"description\":\"where receipts go\",\"x-pii\":true}");
    CHECK_JSON_AT(root, P("site"), "{\"type\":[\"string\",\"null\"],\"format\":\"uri\",\"maxLength\":2048}");
    CHECK_JSON_AT(root, P("kind"), "{\"type\":[\"string\",\"null\"],\"enum\":[\"a\",\"b\",null]}");
    CHECK_JSON_AT(root, P("data"), "{\"not\":{\"type\":\"null\"}}");
    CHECK_JSON_AT(root, P("owner"),
                  "{\"type\":[\"integer\",\"null\"],\"format\":\"int64\",\"minimum\":1,\"description\":\"id of "
                  "other\",\"x-relation\":{\"target\":\"other\",\"on_delete\":\"cascade\",\"foreign_key\":"
                  "\"thing_owner_fkey\"}}");
    CHECK_JSON_AT(root, P("tags"),
                  "{\"type\":[\"array\",\"null\"],\"items\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":5},"
                  "\"minItems\":1,\"maxItems\":3}");
    CHECK_JSON_AT(root, P("lock|readOnly"), "true");
    CHECK_JSON_AT(root, P("created_at|readOnly"), "true");
    CHECK_JSON_AT(root, P("updated_at|readOnly"), "true");
    CHECK(strstr(STR_AT(root, P("seen|description")), "read rule") != NULL);
    /* hidden and password fields are never in a row, nor filterable */
    CHECK(at(root, P("pass")) == NULL);
    CHECK(at(root, P("note")) == NULL);
    CHECK(at(root, "components|parameters|rowFilter.thing.note") == NULL);
    CHECK(at(root, "components|parameters|rowFilter.thing.pass") == NULL);
    CHECK(at(root, "components|parameters|rowFilter.thing.seen") != NULL);
    CHECK(!has_ref(root, "paths|/thing|get|parameters", "#/components/parameters/rowFilter.thing.note"));
    /* a row check is said at the collection level */
    CHECK(strstr(STR_AT(root, "components|schemas|thing|description"), "count != 3") != NULL);
    /* a unique relation */
    CHECK_JSON_AT(root, "components|schemas|other|properties|mate|x-relation|foreign_key", "\"other_mate_fkey\"");
#undef P
    json_decref(root);
}

TEST(create_and_update_schemas)
{
    json_t *root = types_doc();
    char path[256];
#define I(rest) (snprintf(path, sizeof(path), "components|schemas|thingInsert|properties|%s", (rest)), path)
#define U(rest) (snprintf(path, sizeof(path), "components|schemas|thingUpdate|properties|%s", (rest)), path)
    CHECK_KEYS_AT(root, "components|schemas|thingInsert|properties",
                  "id,title,count,ratio,price,flag,at,day,key,mail,site,kind,data,pass,note,owner,tags,seen");
    /* required: required fields without a default */
    CHECK_JSON_AT(root, "components|schemas|thingInsert|required", "[\"title\",\"data\"]");
    CHECK_JSON_AT(root, "components|schemas|thingInsert|additionalProperties", "false");
    CHECK_JSON_AT(root, I("id|minimum"), "1");
    CHECK(at(root, I("id|readOnly")) == NULL);
    CHECK_JSON_AT(root, I("count|default"), "0");
    CHECK_JSON_AT(root, I("flag|default"), "false");
    CHECK_JSON_AT(root, I("kind|default"), "\"a\"");
    CHECK(at(root, I("at|default")) == NULL);
    CHECK(strstr(STR_AT(root, I("at|description")), "default: now()") != NULL);
    CHECK_JSON_AT(root, I("pass"),
                  "{\"type\":[\"string\",\"null\"],\"format\":\"password\",\"description\":\"stored as an "
                  "Argon2id hash and never returned\",\"writeOnly\":true}");
    CHECK_JSON_AT(root, I("note|writeOnly"), "true");
    /* decimals: a number or a string of the declared precision and scale */
    CHECK_JSON_AT(root, I("price|type"), "[\"number\",\"string\",\"null\"]");
    CHECK_JSON_AT(root, I("price|pattern"), "\"^-?0*[0-9]{1,4}(\\\\.[0-9]{1,2}0*)?$\"");
    CHECK(at(root, I("lock")) == NULL);
    CHECK(at(root, I("created_at")) == NULL);

    CHECK_KEYS_AT(root, "components|schemas|thingUpdate|properties",
                  "title,count,ratio,price,flag,at,day,key,mail,site,kind,data,pass,note,owner,tags,seen");
    CHECK(at(root, "components|schemas|thingUpdate|required") == NULL);
    CHECK_JSON_AT(root, "components|schemas|thingUpdate|additionalProperties", "false");
    /* a required field stays non-null in an update */
    CHECK_JSON_AT(root, U("title|type"), "\"string\"");
    CHECK_JSON_AT(root, U("pass|writeOnly"), "true");
    CHECK(at(root, U("count|default")) == NULL);
#undef I
#undef U
    json_decref(root);
}

TEST(actions)
{
    json_t *root = types_doc();
    /* ping: read-only, open to anyone, returns an object */
    CHECK_KEYS_AT(root, "paths|/rpc/ping", "post,get");
    CHECK_EQ_STR(STR_AT(root, "paths|/rpc/ping|post|operationId"), "rpc_post_ping");
    CHECK_EQ_STR(STR_AT(root, "paths|/rpc/ping|get|operationId"), "rpc_get_ping");
    CHECK_EQ_STR(STR_AT(root, "paths|/rpc/ping|post|description"), "Answers with its argument.");
    CHECK_EQ_STR(STR_AT(root, "paths|/rpc/ping|post|requestBody|content|application/json|schema|$ref"),
                 "#/components/schemas/pingArgs");
    CHECK_JSON_AT(root, "paths|/rpc/ping|post|requestBody|required", "true");
    CHECK_JSON_AT(root, "components|schemas|pingArgs|required", "[\"what\"]");
    CHECK_JSON_AT(root, "components|schemas|pingArgs|properties|n",
                  "{\"type\":\"integer\",\"format\":\"int64\",\"minimum\":1,\"maximum\":3,\"default\":2}");
    CHECK_JSON_AT(root, "components|schemas|pingArgs|properties|what|enum", "[\"x\",\"y\"]");
    CHECK_JSON_AT(root, "components|schemas|pingArgs|additionalProperties", "false");
    CHECK_KEYS_AT(root, "paths|/rpc/ping|post|responses", "200,400,401");
    CHECK_JSON_AT(root, "paths|/rpc/ping|post|responses|200|content|application/json|schema",
                  "{\"type\":\"object\",\"required\":[\"n\",\"what\"],\"properties\":{\"n\":{\"type\":\"integer\","
                  "\"format\":\"int64\"},\"what\":{\"type\":\"string\",\"enum\":[\"x\",\"y\"]}}}");
    CHECK_JSON_AT(root, "paths|/rpc/ping|get|parameters|0",
                  "{\"name\":\"n\",\"in\":\"query\",\"required\":false,\"schema\":{\"type\":\"integer\",\"format\":"
                  "\"int64\",\"minimum\":1,\"maximum\":3,\"default\":2}}");
    CHECK_JSON_AT(root, "paths|/rpc/ping|get|parameters|1|required", "true");
    /* noop: writes, returns nothing, signed-in callers only */
    CHECK_KEYS_AT(root, "paths|/rpc/noop", "post");
    CHECK_KEYS_AT(root, "paths|/rpc/noop|post|responses", "204,400,401,403,409");
    CHECK_JSON_AT(root, "paths|/rpc/noop|post|requestBody|required", "false");
    /* find: its steps' statuses and messages, the row it returns */
    CHECK_KEYS_AT(root, "paths|/rpc/find|post|responses", "200,400,401,410,422");
    CHECK(strstr(STR_AT(root, "paths|/rpc/find|post|responses|410|description"), "\"gone\"") != NULL);
    CHECK_EQ_STR(STR_AT(root, "paths|/rpc/find|post|responses|410|content|application/json|schema|$ref"),
                 "#/components/schemas/Error");
    CHECK_EQ_STR(STR_AT(root, "paths|/rpc/find|post|responses|200|content|application/json|schema|$ref"),
                 "#/components/schemas/other");
    json_decref(root);
}

TEST(empty_spec)
{
    struct sb_model *model = MODEL("app tiny\n");
    char *text = document(model, NULL);
    json_t *root = PARSE(text);
    CHECK_JSON_AT(root, "paths", "{}");
    CHECK_JSON_AT(root, "tags", "[]");
    CHECK_KEYS_AT(root, "components", "schemas,securitySchemes");
    CHECK_KEYS_AT(root, "components|schemas", "Error");
    json_decref(root);
    free(text);
    sb_model_free(model);
}

/* ---- decimals ------------------------------------------------------------------------ */

/* The pattern of decimal(precision, scale) accepts exactly the texts the
 * server's decimal parser accepts. */
static void check_pattern_agrees(int precision, int scale, int line)
{
    char spec[128];
    snprintf(spec, sizeof(spec), "app d\ncollection c {\n  v decimal(%d, %d)\n}\n", precision, scale);
    struct sb_model *model = model_at(spec, line);
    char *text = document(model, NULL);
    json_t *root = PARSE(text);
    const char *pattern = STR_AT(root, "components|schemas|cInsert|properties|v|pattern");
    regex_t re;
    if (!pattern || regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) {
        sb_test_fail(__FILE__, line, "no usable pattern: %s", pattern ? pattern : "(none)");
        goto done;
    }
    static const char *const texts[] = {
        "0", "1", "-1", "12", "123", "1234", "12345", "0012", "-0", "0.0", "0.5", "1.5", "1.25", "1.250",
        "1.2500", "1.255", "12.34", "123.45", "1234.56", "12345.6", ".5", "5.", "1e3", "+1", "--1", "1.2.3",
        "", "-", "0.000", "0.001", "00000000001.10", "9999.99", "-9999.99", "99999", "1,5", " 1", "1 ",
        "0.10", "000", "-00.00",
    };
    struct sb_arena arena;
    sb_arena_init(&arena);
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct sb_value value;
        bool server = sb_decimal_canonical(texts[i], strlen(texts[i]), precision, scale, true, &arena,
                                           &value) == SB_DECIMAL_OK;
        bool schema = regexec(&re, texts[i], 0, NULL, 0) == 0;
        if (server != schema)
            sb_test_fail(__FILE__, line, "decimal(%d, %d) \"%s\": server %s, pattern %s %s", precision, scale,
                         texts[i], server ? "accepts" : "refuses", pattern, schema ? "accepts" : "refuses");
    }
    sb_arena_free(&arena);
    regfree(&re);
done:
    json_decref(root);
    free(text);
    sb_model_free(model);
}

TEST(decimal_pattern_agrees_with_the_server)
{
    check_pattern_agrees(6, 2, __LINE__);
    check_pattern_agrees(10, 2, __LINE__);
    check_pattern_agrees(3, 3, __LINE__);
    check_pattern_agrees(5, 0, __LINE__);
    check_pattern_agrees(1, 0, __LINE__);
    check_pattern_agrees(38, 10, __LINE__);
}

TEST(decimal_bounds)
{
    struct sb_model *model = MODEL("app d\ncollection c {\n  a decimal(4, 1) required\n  b decimal(38, 0)\n"
                                   "  c decimal(2, 2) check c > 0\n}\n");
    char *text = document(model, NULL);
    json_t *root = PARSE(text);
    CHECK_JSON_AT(root, "components|schemas|c|properties|a|exclusiveMinimum", "-1000");
    CHECK_JSON_AT(root, "components|schemas|c|properties|a|exclusiveMaximum", "1000");
    CHECK_JSON_AT(root, "components|schemas|c|properties|a|type", "\"number\"");
    CHECK_JSON_AT(root, "components|schemas|cInsert|properties|a|type", "[\"number\",\"string\"]");
    /* 10^38 is past int64: a number in exponent form */
    CHECK_JSON_AT(root, "components|schemas|c|properties|b|exclusiveMaximum", "1e38");
    /* the check's bound replaces the looser one of the precision */
    CHECK_JSON_AT(root, "components|schemas|c|properties|c|exclusiveMinimum", "0");
    CHECK(at(root, "components|schemas|c|properties|c|minimum") == NULL);
    CHECK_JSON_AT(root, "components|schemas|c|properties|c|exclusiveMaximum", "1");
    CHECK(strstr(text, "\"exclusiveMaximum\": 1e+38") != NULL);
    json_decref(root);
    free(text);
    sb_model_free(model);
}

TEST(check_bounds)
{
    struct sb_model *model = MODEL("app d\ncollection c {\n"
                                   "  a int(0..100) check a >= 10 and a <= 200\n"
                                   "  b float check 0.5 < b and b < 2.5\n"
                                   "  e int check e > -3 or e == 9\n"
                                   "  f int(..5) check f != 2 and f <= 4\n"
                                   "}\n");
    char *text = document(model, NULL);
    json_t *root = PARSE(text);
    CHECK_JSON_AT(root, "components|schemas|c|properties|a|minimum", "10");
    CHECK_JSON_AT(root, "components|schemas|c|properties|a|maximum", "100");
    CHECK_JSON_AT(root, "components|schemas|c|properties|b|exclusiveMinimum", "0.5");
    CHECK_JSON_AT(root, "components|schemas|c|properties|b|exclusiveMaximum", "2.5");
    CHECK(at(root, "components|schemas|c|properties|e|exclusiveMinimum") == NULL); /* "or": not a bound */
    CHECK(at(root, "components|schemas|c|properties|e|minimum") == NULL);
    CHECK_JSON_AT(root, "components|schemas|c|properties|f|maximum", "4");
    json_decref(root);
    free(text);
    sb_model_free(model);
}

/* ---- names and comments ---------------------------------------------------------------- */

TEST(foreign_key_names)
{
    struct sb_model *model = MODEL("app f\n"
                                   "collection a_very_long_collection_name_for_the_fkey_test {\n"
                                   "  a_rather_long_relation_field_name -> other\n"
                                   "  a_rather_long_relation_field_name_2 -> other\n"
                                   "}\n"
                                   "collection other {\n  n int\n  back -> other\n}\n");
    const struct sb_collection *coll = model->collections[0];
    struct sb_buf first, second;
    sb_buf_init(&first);
    sb_buf_init(&second);
    sb_surface_fkey_name(sb_collection_field(coll, "a_rather_long_relation_field_name"), &first);
    sb_surface_fkey_name(sb_collection_field(coll, "a_rather_long_relation_field_name_2"), &second);
    CHECK_EQ_INT(first.len, 63);
    CHECK_EQ_INT(second.len, 63);
    CHECK(strcmp(sb_buf_str(&first), sb_buf_str(&second)) != 0);
    CHECK(strncmp(sb_buf_str(&first), "a_very_long_collection_name_for_the_fkey_test_a_", 48) == 0);
    CHECK_EQ_STR(sb_buf_str(&first) + 58, "_fkey");
    sb_buf_reset(&first);
    sb_surface_fkey_name(sb_collection_field(model->collections[1], "back"), &first);
    CHECK_EQ_STR(sb_buf_str(&first), "other_back_fkey");
    sb_buf_free(&first);
    sb_buf_free(&second);
    sb_model_free(model);
}

TEST(doc_comments)
{
    static const char src[] =
        "# The app.\n"
        "app c\n"
        "\n"
        "# Not attached: a blank line follows.\n"
        "\n"
        "# First line\n"
        "#   second line  \n"
        "collection x {\n"
        "  n int  # trailing\n"
        "  # above m\n"
        "  m int\n"
        "  k int\n"
        "}\n";
    struct sb_model *model = MODEL(src);
    struct sb_buf doc;
    sb_buf_init(&doc);
    const struct sb_collection *x = model->collections[0];
    sb_surface_doc(model, x->start, 0, &doc);
    CHECK_EQ_STR(sb_buf_str(&doc), "First line\n  second line");
    sb_buf_reset(&doc);
    const struct sb_field *n = sb_collection_field(x, "n");
    sb_surface_doc(model, n->offset, n->end, &doc);
    CHECK_EQ_STR(sb_buf_str(&doc), "trailing");
    sb_buf_reset(&doc);
    const struct sb_field *m = sb_collection_field(x, "m");
    sb_surface_doc(model, m->offset, m->end, &doc);
    CHECK_EQ_STR(sb_buf_str(&doc), "above m");
    sb_buf_reset(&doc);
    const struct sb_field *k = sb_collection_field(x, "k");
    sb_surface_doc(model, k->offset, k->end, &doc);
    CHECK_EQ_STR(sb_buf_str(&doc), "");
    sb_buf_reset(&doc);
    sb_surface_doc(model, model->app_start, 0, &doc);
    CHECK_EQ_STR(sb_buf_str(&doc), "The app.");
    sb_buf_free(&doc);
    sb_model_free(model);
}

/* ---- TypeScript ------------------------------------------------------------------------- */

static char *typescript(const struct sb_model *model)
{
    struct sb_buf out;
    sb_buf_init(&out);
    sb_typescript_database(model, &out);
    return sb_buf_take(&out);
}

/* The block that starts with head, at the first head after from, up to
 * its closing "}" at the same indentation (caller frees). */
static char *block(const char *text, const char *from, const char *head)
{
    const char *p = strstr(text, from);
    if (!p)
        return strdup("(no such block)");
    p = strstr(p, head);
    if (!p)
        return strdup("(no such block)");
    const char *line_start = p;
    while (line_start > text && line_start[-1] != '\n')
        line_start--;
    size_t indent = (size_t)(p - line_start);
    char close[64];
    snprintf(close, sizeof(close), "\n%*s}", (int)indent, "");
    const char *end = strstr(p, close);
    if (!end)
        return strdup("(unterminated block)");
    end += strlen(close);
    size_t len = (size_t)(end - p);
    char *out = malloc(len + 1);
    memcpy(out, p, len);
    out[len] = '\0';
    return out;
}

#define CHECK_BLOCK(text, from, head, want)                                                        \
    do {                                                                                           \
        char *got_block_ = block((text), (from), (head));                                          \
        CHECK_EQ_STR(got_block_, (want));                                                          \
        free(got_block_);                                                                          \
    } while (0)

TEST(typescript_tables)
{
    struct sb_model *model = MODEL(types_spec);
    char *text = typescript(model);
    CHECK(strncmp(text, "// The types of the REST API of the spec \"types\"", 48) == 0);
    CHECK(strstr(text, "\nexport type Json =\n  | string\n  | number\n  | boolean\n  | null\n"
                       "  | { [key: string]: Json | undefined }\n  | Json[]\n") != NULL);
    CHECK(strstr(text, "\nexport type Database = {\n  public: {\n    Tables: {\n      thing: {\n") != NULL);
    CHECK_BLOCK(text, "      thing: {", "Row: {",
                "Row: {\n"
                "          id: number\n"
                "          title: string\n"
                "          count: number | null\n"
                "          ratio: number | null\n"
                "          price: number | null\n"
                "          flag: boolean\n"
                "          at: string | null\n"
                "          day: string | null\n"
                "          key: string | null\n"
                "          mail: string | null\n"
                "          site: string | null\n"
                "          kind: Database[\"public\"][\"Enums\"][\"thing_kind\"] | null\n"
                "          data: Json\n"
                "          owner: number | null\n"
                "          tags: string[] | null\n"
                "          lock: number | null\n"
                "          seen?: string | null\n"
                "          created_at: string\n"
                "          updated_at: string\n"
                "        }");
    CHECK_BLOCK(text, "      thing: {", "Insert: {",
                "Insert: {\n"
                "          id?: number\n"
                "          title: string\n"
                "          count?: number | null\n"
                "          ratio?: number | null\n"
                "          price?: number | null\n"
                "          flag?: boolean\n"
                "          at?: string | null\n"
                "          day?: string | null\n"
                "          key?: string | null\n"
                "          mail?: string | null\n"
                "          site?: string | null\n"
                "          kind?: Database[\"public\"][\"Enums\"][\"thing_kind\"] | null\n"
                "          data: Json\n"
                "          pass?: string | null\n"
                "          note?: string | null\n"
                "          owner?: number | null\n"
                "          tags?: string[] | null\n"
                "          seen?: string | null\n"
                "        }");
    CHECK_BLOCK(text, "      thing: {", "Update: {",
                "Update: {\n"
                "          title?: string\n"
                "          count?: number | null\n"
                "          ratio?: number | null\n"
                "          price?: number | null\n"
                "          flag?: boolean\n"
                "          at?: string | null\n"
                "          day?: string | null\n"
                "          key?: string | null\n"
                "          mail?: string | null\n"
                "          site?: string | null\n"
                "          kind?: Database[\"public\"][\"Enums\"][\"thing_kind\"] | null\n"
                "          data?: Json\n"
                "          pass?: string | null\n"
                "          note?: string | null\n"
                "          owner?: number | null\n"
                "          tags?: string[] | null\n"
                "          seen?: string | null\n"
                "        }");
    CHECK(strstr(text, "        Relationships: [\n"
                       "          {\n"
                       "            foreignKeyName: \"thing_owner_fkey\"\n"
                       "            columns: [\"owner\"]\n"
                       "            isOneToOne: false\n"
                       "            referencedRelation: \"other\"\n"
                       "            referencedColumns: [\"id\"]\n"
                       "          },\n"
                       "        ]\n") != NULL);
    CHECK(strstr(text, "foreignKeyName: \"other_mate_fkey\"\n"
                       "            columns: [\"mate\"]\n"
                       "            isOneToOne: true\n") != NULL);
    CHECK(strstr(text, "    Views: {\n      [_ in never]: never\n    }\n") != NULL);
    CHECK(strstr(text, "    Enums: {\n      thing_kind: \"a\" | \"b\"\n    }\n") != NULL);
    CHECK(strstr(text, "    CompositeTypes: {\n      [_ in never]: never\n    }\n") != NULL);
    CHECK(strstr(text, "export type Tables<T extends keyof PublicSchema[\"Tables\"]>") != NULL);
    CHECK(strstr(text, "export const Constants = {\n  public: {\n    Enums: {\n      thing_kind: [\"a\", \"b\"],\n"
                       "    },\n  },\n} as const\n") != NULL);
    free(text);
    sb_model_free(model);
}

TEST(typescript_functions)
{
    struct sb_model *model = MODEL(types_spec);
    char *text = typescript(model);
    CHECK_BLOCK(text, "    Functions: {", "ping: {",
                "ping: {\n"
                "        Args: {\n"
                "          n?: number\n"
                "          what: \"x\" | \"y\"\n"
                "        }\n"
                "        Returns: {\n"
                "          n: number\n"
                "          what: \"x\" | \"y\"\n"
                "        }\n"
                "      }");
    CHECK_BLOCK(text, "    Functions: {", "noop: {",
                "noop: {\n"
                "        Args: Record<PropertyKey, never>\n"
                "        Returns: undefined\n"
                "      }");
    CHECK(strstr(text, "        Returns: Database[\"public\"][\"Tables\"][\"other\"][\"Row\"]\n") != NULL);
    free(text);
    sb_model_free(model);
}

TEST(typescript_enum_names_that_collide)
{
    struct sb_model *model = MODEL("app e\n"
                                   "collection a_b {\n  c enum(one, two)\n}\n"
                                   "collection a {\n  b_c enum(three)\n  d enum(x, y)[]\n}\n");
    char *text = typescript(model);
    CHECK(strstr(text, "    Enums: {\n      a_b_c: \"one\" | \"two\"\n      a_d: \"x\" | \"y\"\n    }\n") != NULL);
    CHECK(strstr(text, "          b_c: \"three\" | null\n") != NULL);
    CHECK(strstr(text, "          d: Database[\"public\"][\"Enums\"][\"a_d\"][] | null\n") != NULL);
    free(text);
    sb_model_free(model);

    model = MODEL("app tiny\n");
    text = typescript(model);
    CHECK(strstr(text, "    Tables: {\n      [_ in never]: never\n    }\n") != NULL);
    CHECK(strstr(text, "    Functions: {\n      [_ in never]: never\n    }\n") != NULL);
    CHECK(strstr(text, "    Enums: {},\n") != NULL);
    free(text);
    sb_model_free(model);
}
