/* Unit tests of the records SQL compiler (src/query/sql.c): the statements
 * a query string becomes, that every client value is a bound parameter and
 * never SQL text, that rules are part of every statement, and the errors for
 * unknown, hidden and mistyped columns. */
#include <stdlib.h>
#include <string.h>

#include "query/parse.h"
#include "query/qs.h"
#include "query/sql.h"
#include "spec/spec.h"
#include "test.h"

static const char spec_text[] =
    "app t\n"
    "collection item {\n"
    "  name   text(1..50) required\n"
    "  price  decimal(8, 2)\n"
    "  tags   text[]\n"
    "  note   text hidden\n"
    "  owner  int\n"
    "  allow read owner == 7 or auth.role == \"anon\"\n"
    "}\n";

struct fixture {
    struct sb_model *model;
    struct sb_arena arena;
    struct sb_diags diags;
    struct sb_source source;
};

static void setup(struct fixture *f)
{
    f->source = (struct sb_source){.name = "t.spec", .text = spec_text, .len = sizeof(spec_text) - 1};
    sb_diags_init(&f->diags, &f->source);
    f->model = sb_spec_parse("t.spec", spec_text, sizeof(spec_text) - 1, &f->diags);
    CHECK_EQ_INT(sb_spec_check(f->model, &f->diags), 0);
    sb_arena_init(&f->arena);
}

static void teardown(struct fixture *f)
{
    sb_arena_free(&f->arena);
    sb_model_free(f->model);
    sb_diags_free(&f->diags);
}

/* Compile the read of query string qs; returns 0 and fills sql, or -1 with err. */
static int compile(struct fixture *f, const char *qs, struct sb_sql *sql, struct sb_api_error *err)
{
    struct sb_qs_pair *pairs;
    size_t n;
    struct sb_query query;
    if (sb_qs_split(&f->arena, qs, strlen(qs), &pairs, &n, err) != 0 ||
        sb_query_parse(&f->arena, pairs, n, &query, err) != 0)
        return -1;
    struct sb_sql_ctx ctx = {.model = f->model, .dialect = &sb_dialect_sqlite, .who = &sb_identity_anon,
                             .arena = &f->arena};
    struct sb_read_opts opts = {0};
    sb_sql_init(sql, &f->arena);
    return sb_sql_read(&ctx, sb_model_collection(f->model, "item"), &query, &opts, sql, err);
}

TEST(read_statement_shape)
{
    struct fixture f;
    setup(&f);
    struct sb_sql sql;
    struct sb_api_error err = {0};
    CHECK_EQ_INT(compile(&f, "select=name,price&price=gte.10&order=name.desc,price&limit=5", &sql, &err), 0);
    const char *text = sb_buf_str(&sql.text);
    if (getenv("SB_TEST_VERBOSE"))
        printf("%s\n", text);
    /* the row as JSON text, written by one call (never parsed): the name as
     * a value, the decimal as the JSON text it is stored as */
    CHECK(strstr(text, "SELECT sb_json_build('jvjjj', '{\"name\":', \"t\".\"name\", ',\"price\":', "
                       "\"t\".\"price\", '}')") == text);
    CHECK(strstr(text, "FROM \"item\" AS \"t\" WHERE 1") != NULL);
    /* the read rule with auth.role bound, then the filter with a numeric cast */
    CHECK(strstr(text, "AND (((\"t\".\"owner\" = 7) OR (?1 = 'anon')))") != NULL);
    CHECK(strstr(text, "CAST(\"t\".\"price\" AS NUMERIC) >= CAST(?2 AS NUMERIC)") != NULL);
    /* PostgreSQL's null order, said only where a column can be null */
    CHECK(strstr(text, "ORDER BY \"t\".\"name\" DESC, CAST(\"t\".\"price\" AS NUMERIC) ASC NULLS LAST") != NULL);
    CHECK(strstr(text, "LIMIT ?3 OFFSET ?4") == NULL); /* the limit comes from opts, not set here */
    CHECK_EQ_INT(sql.n_binds, 2);
    CHECK_EQ_STR(sql.binds[0].text, "anon");
    CHECK_EQ_STR(sql.binds[1].text, "10.00");
    sb_sql_free(&sql);
    teardown(&f);
}

TEST(client_values_are_always_bound)
{
    struct fixture f;
    setup(&f);
    struct sb_sql sql;
    struct sb_api_error err = {0};
    const char *evil = "name=eq.x'%20OR%201=1;--&or=(name.like.*'*,name.in.(\"a'b\",c))&select=a:name";
    CHECK_EQ_INT(compile(&f, evil, &sql, &err), 0);
    const char *text = sb_buf_str(&sql.text);
    CHECK(strstr(text, "OR 1=1") == NULL);
    CHECK(strstr(text, "a'b") == NULL);
    CHECK(strstr(text, "sb_json_build('jvjvj', '{', ?") == text + strlen("SELECT ")); /* the alias is bound too */
    bool found = false;
    for (size_t i = 0; i < sql.n_binds; i++)
        found |= sql.binds[i].text && strcmp(sql.binds[i].text, "x' OR 1=1;--") == 0;
    CHECK(found);
    sb_sql_free(&sql);
    teardown(&f);
}

TEST(unknown_hidden_and_mistyped_columns)
{
    struct fixture f;
    setup(&f);
    struct sb_sql sql;
    struct sb_api_error err = {0};
    CHECK_EQ_INT(compile(&f, "select=nope", &sql, &err), -1);
    CHECK_EQ_STR(err.code, "42703");
    CHECK_EQ_STR(err.message, "column item.nope does not exist");
    sb_api_error_clear(&err);
    sb_sql_free(&sql);
    CHECK_EQ_INT(compile(&f, "note=eq.x", &sql, &err), -1);
    CHECK_EQ_STR(err.code, "42703");
    sb_api_error_clear(&err);
    sb_sql_free(&sql);
    CHECK_EQ_INT(compile(&f, "owner=eq.seven", &sql, &err), -1);
    CHECK_EQ_STR(err.code, "22P02");
    CHECK_EQ_INT(err.status, 400);
    sb_api_error_clear(&err);
    sb_sql_free(&sql);
    CHECK_EQ_INT(compile(&f, "tags=gt.a", &sql, &err), -1);
    CHECK_EQ_STR(err.code, "42883");
    sb_api_error_clear(&err);
    sb_sql_free(&sql);
    teardown(&f);
}

TEST(star_skips_hidden_fields_and_service_bypasses_rules)
{
    struct fixture f;
    setup(&f);
    struct sb_sql sql;
    struct sb_api_error err = {0};
    CHECK_EQ_INT(compile(&f, "", &sql, &err), 0);
    CHECK(strstr(sb_buf_str(&sql.text), "note") == NULL);
    CHECK(strstr(sb_buf_str(&sql.text), "\"created_at\":") != NULL);
    sb_sql_free(&sql);
    struct sb_identity service = {.role = "service", .bypass_rules = true};
    struct sb_sql_ctx ctx = {.model = f.model, .dialect = &sb_dialect_sqlite, .who = &service, .arena = &f.arena};
    sb_sql_init(&sql, &f.arena);
    CHECK_EQ_INT(sb_sql_rule(&ctx, sb_model_collection(f.model, "item"), SB_RULE_DELETE, "t", &sql, &err), 0);
    CHECK_EQ_STR(sb_buf_str(&sql.text), "");
    struct sb_sql_ctx anon = {.model = f.model, .dialect = &sb_dialect_sqlite, .who = &sb_identity_anon, .arena = &f.arena};
    CHECK_EQ_INT(sb_sql_rule(&anon, sb_model_collection(f.model, "item"), SB_RULE_DELETE, "t", &sql, &err), 0);
    CHECK_EQ_STR(sb_buf_str(&sql.text), " AND 0"); /* no delete rule: deny */
    sb_sql_free(&sql);
    teardown(&f);
}
