/* Unit tests of src/store/ddl.c and src/store/sqlexpr.c: quoting, the column
 * definition of every type with its checks, defaults and relation policies,
 * the derived indexes (unique fields, declared, relation columns) and the
 * full-text table with its triggers, the generated schema enforcing what it
 * says inside SQLite, and the parser that reads CREATE TABLE text back. */
#include "test.h"

#include "store/ddl.h"
#include "store/sqlexpr.h"
#include "store_helpers.h"

static const char types_spec[] = "app t\n"
                                 "collection parent {\n"
                                 "  name  text(1..10) required unique\n"
                                 "}\n"
                                 "collection thing {\n"
                                 "  t     text(2..5)\n"
                                 "  t2    text(..50) searchable\n"
                                 "  i     int(0..100) required\n"
                                 "  f     float(0.5..2.5)\n"
                                 "  d     decimal(6,2) default 0\n"
                                 "  b     bool required default false\n"
                                 "  ts    timestamp default now()\n"
                                 "  dt    date\n"
                                 "  u     uuid\n"
                                 "  e     email\n"
                                 "  url   url\n"
                                 "  en    enum(red, green) default \"red\"\n"
                                 "  j     json\n"
                                 "  pw    password\n"
                                 "  tags  text[1..3]\n"
                                 "  p     -> parent required on delete cascade\n"
                                 "  q     -> parent on delete set null\n"
                                 "  r     -> parent\n"
                                 "  cnt   int check cnt >= 0 and cnt % 2 == 0\n"
                                 "  low   int default -5\n"
                                 "  check i > 0 or cnt == null\n"
                                 "  index (en, i)\n"
                                 "  unique (q, r)\n"
                                 "}\n";

static const char *column_def(const struct sb_schema *schema, const char *table, const char *column)
{
    const struct sb_ddl_object *t = sb_schema_find(schema, table);
    if (!t || t->kind != SB_DDL_TABLE)
        return NULL;
    const struct sb_ddl_column *c = sb_ddl_column(t, column);
    return c ? c->def : NULL;
}

static bool make_schema(const char *spec, struct sb_model **model, struct sb_schema *schema)
{
    sb_schema_init(schema);
    *model = model_of(spec);
    if (!*model)
        return false;
    struct sb_buf err;
    sb_buf_init(&err);
    int rc = sb_ddl_from_model(*model, &sb_dialect_sqlite, schema, &err);
    CHECK_EQ_STR(sb_buf_str(&err), "");
    sb_buf_free(&err);
    return rc == 0;
}

TEST(quoting)
{
    struct sb_buf b;
    sb_buf_init(&b);
    sb_sql_ident(&b, "order");
    sb_buf_putc(&b, ' ');
    sb_sql_ident(&b, "a\"b");
    sb_buf_putc(&b, ' ');
    sb_sql_string(&b, "it's", 4);
    sb_buf_putc(&b, ' ');
    sb_sql_string(&b, "", 0);
    CHECK_EQ_STR(sb_buf_str(&b), "\"order\" \"a\"\"b\" 'it''s' ''");
    /* quotes at either end and in a row, and a string with a NUL inside */
    sb_buf_reset(&b);
    sb_sql_ident(&b, "\"x\"\"");
    sb_buf_putc(&b, ' ');
    sb_sql_string(&b, "'a''\0b'", 7);
    CHECK_EQ_INT(b.len, 23);
    CHECK(memcmp(b.data, "\"\"\"x\"\"\"\"\" '''a''''\0b'''", 23) == 0);
    sb_buf_free(&b);
}

TEST(every_type_has_its_column_and_checks)
{
    struct sb_model *model;
    struct sb_schema s;
    if (!make_schema(types_spec, &model, &s))
        return;
    CHECK_EQ_STR(column_def(&s, "thing", "id"), "\"id\" INTEGER PRIMARY KEY AUTOINCREMENT");
    CHECK_EQ_STR(column_def(&s, "thing", "t"), "\"t\" TEXT CHECK (length(\"t\") BETWEEN 2 AND 5)");
    CHECK_EQ_STR(column_def(&s, "thing", "t2"), "\"t2\" TEXT CHECK (length(\"t2\") <= 50)");
    CHECK_EQ_STR(column_def(&s, "thing", "i"),
                 "\"i\" INTEGER NOT NULL CHECK (\"i\" BETWEEN 0 AND 100)");
    CHECK_EQ_STR(column_def(&s, "thing", "f"), "\"f\" REAL CHECK (\"f\" >= 0.5 AND \"f\" <= 2.5)");
    CHECK_EQ_STR(column_def(&s, "thing", "d"),
                 "\"d\" TEXT DEFAULT '0.00' CHECK ((\"d\" GLOB '[0-9]*' OR \"d\" GLOB '-[0-9]*') AND "
                 "\"d\" NOT GLOB '?*[^0-9.]*' AND \"d\" NOT GLOB '*.*.*' AND \"d\" NOT GLOB '*.') "
                 "CHECK ((instr(\"d\" || '.', '.') - (\"d\" GLOB '-*') <= 5 OR \"d\" GLOB '0.*' OR \"d\" GLOB '-0.*') AND "
                 "length(\"d\") - instr(\"d\" || '.', '.') <= 2)");
    CHECK_EQ_STR(column_def(&s, "thing", "b"),
                 "\"b\" INTEGER NOT NULL DEFAULT 0 CHECK (\"b\" IN (0, 1))");
    CHECK_EQ_STR(
        column_def(&s, "thing", "ts"),
        "\"ts\" TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')) CHECK (\"ts\" GLOB "
        "'[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-"
        "9][0-9][0-9][0-9]Z')");
    CHECK_EQ_STR(column_def(&s, "thing", "dt"),
                 "\"dt\" TEXT CHECK (\"dt\" GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]' AND "
                 "date(\"dt\", '+0 days') = \"dt\")");
    CHECK(strstr(column_def(&s, "thing", "u"), "\"u\" TEXT CHECK (\"u\" GLOB '[0-9a-f][0-9a-f]") !=
          NULL);
    CHECK_EQ_STR(column_def(&s, "thing", "e"),
                 "\"e\" TEXT CHECK (length(\"e\") <= 254 AND \"e\" GLOB '?*@?*.?*')");
    CHECK_EQ_STR(column_def(&s, "thing", "url"),
                 "\"url\" TEXT CHECK (length(\"url\") <= 2048 AND (\"url\" GLOB 'http://?*' OR "
                 "\"url\" GLOB 'https://?*'))");
    CHECK_EQ_STR(column_def(&s, "thing", "en"),
                 "\"en\" TEXT DEFAULT 'red' CHECK (\"en\" IN ('red', 'green'))");
    CHECK_EQ_STR(column_def(&s, "thing", "j"),
                 "\"j\" TEXT CHECK (\"j\" IS NULL OR json_valid(\"j\"))");
    CHECK_EQ_STR(column_def(&s, "thing", "pw"), "\"pw\" TEXT CHECK (\"pw\" GLOB '$argon2id$*')");
    CHECK_EQ_STR(column_def(&s, "thing", "tags"),
                 "\"tags\" TEXT CHECK (\"tags\" IS NULL OR (json_valid(\"tags\") AND "
                 "json_type(\"tags\") = 'array' AND json_array_length(\"tags\") BETWEEN 1 AND 3))");
    CHECK_EQ_STR(column_def(&s, "thing", "p"),
                 "\"p\" INTEGER NOT NULL REFERENCES \"parent\" (\"id\") ON DELETE CASCADE");
    CHECK_EQ_STR(column_def(&s, "thing", "q"),
                 "\"q\" INTEGER REFERENCES \"parent\" (\"id\") ON DELETE SET NULL");
    CHECK_EQ_STR(column_def(&s, "thing", "r"),
                 "\"r\" INTEGER REFERENCES \"parent\" (\"id\") ON DELETE NO ACTION");
    CHECK_EQ_STR(column_def(&s, "thing", "cnt"),
                 "\"cnt\" INTEGER CHECK ((\"cnt\" >= 0) AND ((\"cnt\" % 2) = 0))");
    CHECK_EQ_STR(column_def(&s, "thing", "low"), "\"low\" INTEGER DEFAULT -5");
    CHECK_EQ_STR(column_def(&s, "thing", "updated_at"),
                 "\"updated_at\" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'))");
    const struct sb_ddl_object *thing = sb_schema_find(&s, "thing");
    CHECK_EQ_INT(thing->n_constraints, 1);
    CHECK_EQ_STR(thing->constraints[0], "CHECK ((\"i\" > 0) OR (\"cnt\" IS NULL))");
    CHECK_EQ_STR(thing->options, "STRICT");
    CHECK_EQ_STR(thing->columns[0].name, "id");
    CHECK_EQ_STR(thing->columns[thing->n_columns - 1].name, "updated_at");
    sb_schema_free(&s);
    sb_model_free(model);
}

TEST(columns_know_whether_alter_table_can_add_them)
{
    struct sb_model *model;
    struct sb_schema s;
    if (!make_schema(types_spec, &model, &s))
        return;
    const struct sb_ddl_object *thing = sb_schema_find(&s, "thing");
    CHECK(sb_ddl_column(thing, "t")->add_in_place);   /* nullable, no default */
    CHECK(sb_ddl_column(thing, "b")->add_in_place);   /* required, literal default */
    CHECK(!sb_ddl_column(thing, "i")->add_in_place);  /* required, no default */
    CHECK(!sb_ddl_column(thing, "ts")->add_in_place); /* default now(): not constant */
    CHECK(!sb_ddl_column(thing, "p")->add_in_place);
    CHECK(sb_ddl_column(thing, "low")->add_in_place);
    CHECK_EQ_STR(sb_ddl_column(thing, "b")->default_sql, "0");
    CHECK(sb_ddl_column(thing, "i")->default_sql == NULL);
    CHECK(sb_ddl_column(thing, "i")->not_null);
    CHECK(!sb_ddl_column(thing, "t")->not_null);
    CHECK_EQ_STR(sb_ddl_column(thing, "f")->type, "REAL");
    sb_schema_free(&s);
    sb_model_free(model);
}

TEST(indexes_unique_fields_relations_and_full_text)
{
    struct sb_model *model;
    struct sb_schema s;
    if (!make_schema(types_spec, &model, &s))
        return;
    const char *names[] = {"parent",           "parent_name_key", "thing",
                           "thing_en_i_idx",   "thing_q_r_key",   "thing_p_idx",
                           "thing_r_idx",      "_sb_fts_thing",   "_sb_fts_thing_ai",
                           "_sb_fts_thing_ad", "_sb_fts_thing_au"};
    size_t n = sizeof(names) / sizeof(names[0]);
    CHECK_EQ_INT(s.n_objects, n);
    for (size_t i = 0; i < n && i < s.n_objects; i++)
        CHECK_EQ_STR(s.objects[i].name, names[i]);
    /* q starts the unique (q, r) index, so it needs no index of its own */
    CHECK(sb_schema_find(&s, "thing_q_idx") == NULL);
    CHECK_EQ_STR(sb_schema_find(&s, "parent_name_key")->sql,
                 "CREATE UNIQUE INDEX \"parent_name_key\" ON \"parent\" (\"name\")");
    CHECK_EQ_STR(sb_schema_find(&s, "thing_p_idx")->sql,
                 "CREATE INDEX \"thing_p_idx\" ON \"thing\" (\"p\")");
    CHECK_EQ_STR(sb_schema_find(&s, "_sb_fts_thing")->sql,
                 "CREATE VIRTUAL TABLE \"_sb_fts_thing\" USING fts5(\"t2\", content='thing', "
                 "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')");
    CHECK_EQ_INT(sb_schema_find(&s, "_sb_fts_thing")->kind, SB_DDL_FTS);
    CHECK_EQ_STR(sb_schema_find(&s, "_sb_fts_thing")->table, "thing");
    CHECK_EQ_STR(
        sb_schema_find(&s, "_sb_fts_thing_au")->sql,
        "CREATE TRIGGER \"_sb_fts_thing_au\" AFTER UPDATE OF \"t2\" ON \"thing\" BEGIN "
        "INSERT INTO \"_sb_fts_thing\" (\"_sb_fts_thing\", rowid, \"t2\") VALUES "
        "('delete', old.\"id\", old.\"t2\"); INSERT INTO \"_sb_fts_thing\" (rowid, \"t2\") "
        "VALUES (new.\"id\", new.\"t2\"); END");
    sb_schema_free(&s);
    sb_model_free(model);
}

/* Load the schema into a fresh in-memory database. */
static sqlite3 *load(const struct sb_schema *s)
{
    sqlite3 *db = NULL;
    sqlite3_open(":memory:", &db);
    sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    struct sb_buf sql;
    sb_buf_init(&sql);
    sb_schema_print(s, &sql);
    char *msg = NULL;
    if (sqlite3_exec(db, sb_buf_str(&sql), NULL, NULL, &msg) != SQLITE_OK)
        sb_test_fail(__FILE__, __LINE__, "schema does not load: %s", msg);
    sqlite3_free(msg);
    sb_buf_free(&sql);
    return db;
}

TEST(generated_schema_enforces_types_and_relations)
{
    struct sb_model *model;
    struct sb_schema s;
    if (!make_schema(types_spec, &model, &s))
        return;
    sqlite3 *db = load(&s);
    CHECK_EQ_INT(exec_rc(db, "INSERT INTO parent (name) VALUES ('p1')"), SQLITE_OK);
    const char *good =
        "INSERT INTO thing (t, t2, i, f, d, b, ts, dt, u, e, url, en, j, pw, tags, p, cnt) VALUES "
        "('abc', 'find me', 5, 1.5, '-1234.50', 1, '2024-01-31T12:00:00.000000Z', '2024-02-29', "
        "'123e4567-e89b-12d3-a456-426614174000', 'a@b.co', 'https://x.org/a', 'green', "
        "'{\"k\": 1}', '$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA', '[\"a\"]', 1, 4)";
    CHECK_EQ_INT(exec_rc(db, good), SQLITE_OK);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM thing WHERE d = '-1234.50' AND low = -5"), 1);
    CHECK_EQ_INT(
        query_int(db, "SELECT count(*) FROM _sb_fts_thing WHERE _sb_fts_thing MATCH 'find'"), 1);
    CHECK_EQ_INT(exec_rc(db, "INSERT INTO thing (i, p) VALUES (1, 1)"),
                 SQLITE_OK); /* all optional NULL */

    struct {
        const char *set;
        int code;
    } bad[] = {
        {"t = 'a'", SQLITE_CONSTRAINT_CHECK},
        {"i = 101", SQLITE_CONSTRAINT_CHECK},
        {"i = NULL", SQLITE_CONSTRAINT_NOTNULL},
        {"i = 'x'", SQLITE_CONSTRAINT_DATATYPE},
        {"f = 3.0", SQLITE_CONSTRAINT_CHECK},
        {"d = '12345.5'", SQLITE_CONSTRAINT_CHECK},
        {"d = '1.234'", SQLITE_CONSTRAINT_CHECK},
        {"d = '1e5'", SQLITE_CONSTRAINT_CHECK},
        {"d = '1.2.3'", SQLITE_CONSTRAINT_CHECK},
        {"d = '-'", SQLITE_CONSTRAINT_CHECK},
        {"b = 2", SQLITE_CONSTRAINT_CHECK},
        {"ts = 'yesterday'", SQLITE_CONSTRAINT_CHECK},
        {"ts = '2024-01-31T12:00:00Z'", SQLITE_CONSTRAINT_CHECK}, /* not the stored form */
        {"u = '123E4567-E89B-12D3-A456-426614174000'", SQLITE_CONSTRAINT_CHECK},
        {"dt = '2023-02-29'", SQLITE_CONSTRAINT_CHECK},
        {"u = 'not-a-uuid'", SQLITE_CONSTRAINT_CHECK},
        {"e = 'nobody'", SQLITE_CONSTRAINT_CHECK},
        {"url = 'ftp://x'", SQLITE_CONSTRAINT_CHECK},
        {"en = 'blue'", SQLITE_CONSTRAINT_CHECK},
        {"j = '{bad'", SQLITE_CONSTRAINT_CHECK},
        {"pw = 'hunter2'", SQLITE_CONSTRAINT_CHECK},
        {"tags = '[]'", SQLITE_CONSTRAINT_CHECK},
        {"tags = '{\"a\": 1}'", SQLITE_CONSTRAINT_CHECK},
        {"tags = 'nope'", SQLITE_CONSTRAINT_CHECK},
        {"p = 99", SQLITE_CONSTRAINT_FOREIGNKEY},
        {"cnt = 3", SQLITE_CONSTRAINT_CHECK},
        {"i = 0, cnt = 2", SQLITE_CONSTRAINT_CHECK}, /* the row check */
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        char sql[256];
        snprintf(sql, sizeof(sql), "UPDATE thing SET %s WHERE id = 1", bad[k].set);
        int rc = exec_rc(db, sql);
        if (rc != bad[k].code)
            sb_test_fail(__FILE__, __LINE__, "%s: got %d, want %d", bad[k].set, rc, bad[k].code);
    }
    /* on delete: cascade (p), set null (q), restrict (r) */
    CHECK_EQ_INT(exec_rc(db, "INSERT INTO parent (name) VALUES ('p2'), ('p3')"), SQLITE_OK);
    CHECK_EQ_INT(exec_rc(db, "UPDATE thing SET q = 2 WHERE id = 1"), SQLITE_OK);
    CHECK_EQ_INT(exec_rc(db, "UPDATE thing SET r = 3 WHERE id = 2"), SQLITE_OK);
    CHECK_EQ_INT(exec_rc(db, "DELETE FROM parent WHERE id = 2"), SQLITE_OK);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM thing WHERE id = 1 AND q IS NULL"), 1);
    CHECK_EQ_INT(exec_rc(db, "DELETE FROM parent WHERE id = 3"), SQLITE_CONSTRAINT_FOREIGNKEY);
    CHECK_EQ_INT(exec_rc(db, "UPDATE thing SET r = NULL"), SQLITE_OK);
    CHECK_EQ_INT(exec_rc(db, "DELETE FROM parent WHERE id = 1"), SQLITE_OK);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM thing"), 0);
    CHECK_EQ_INT(
        query_int(db, "SELECT count(*) FROM _sb_fts_thing WHERE _sb_fts_thing MATCH 'find'"), 0);
    sqlite3_close(db);
    sb_schema_free(&s);
    sb_model_free(model);
}

TEST(schema_read_back_from_sqlite_equals_the_generated_one)
{
    struct sb_model *model;
    struct sb_schema s;
    if (!make_schema(types_spec, &model, &s))
        return;
    sqlite3 *db = load(&s);
    /* ALTER TABLE ADD COLUMN appends text; the parser still finds it. */
    CHECK_EQ_INT(exec_rc(db, "ALTER TABLE parent ADD COLUMN \"we\"\"ird\" TEXT DEFAULT 'a,b)'"),
                 SQLITE_OK);
    struct sb_schema live;
    sb_schema_init(&live);
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2(db,
                       "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE sql IS NOT NULL "
                       "AND name NOT LIKE 'sqlite%' AND name NOT LIKE '%fts_thing\\_%' ESCAPE '\\' "
                       "OR name LIKE '_sb_fts_thing_a_'",
                       -1, &stmt, NULL);
    struct sb_buf err;
    sb_buf_init(&err);
    while (sqlite3_step(stmt) == SQLITE_ROW)
        CHECK_EQ_INT(sb_schema_add(&live, (const char *)sqlite3_column_text(stmt, 0),
                                   (const char *)sqlite3_column_text(stmt, 1),
                                   (const char *)sqlite3_column_text(stmt, 2),
                                   (const char *)sqlite3_column_text(stmt, 3), &err),
                     0);
    sqlite3_finalize(stmt);
    CHECK_EQ_STR(sb_buf_str(&err), "");
    CHECK_EQ_INT(live.n_objects, s.n_objects);
    for (size_t i = 0; i < s.n_objects; i++) {
        const struct sb_ddl_object *want = &s.objects[i];
        const struct sb_ddl_object *got = sb_schema_find(&live, want->name);
        CHECK(got != NULL);
        if (!got)
            continue;
        CHECK_EQ_INT(got->kind, want->kind);
        if (want->kind != SB_DDL_TABLE) {
            CHECK_EQ_STR(got->sql, want->sql);
            continue;
        }
        for (size_t c = 0; c < want->n_columns; c++) {
            const struct sb_ddl_column *gc = sb_ddl_column(got, want->columns[c].name);
            CHECK(gc != NULL);
            if (gc)
                CHECK_EQ_STR(gc->def, want->columns[c].def);
        }
        CHECK_EQ_INT(got->n_constraints, want->n_constraints);
        CHECK_EQ_STR(got->options, want->options);
    }
    const struct sb_ddl_object *parent = sb_schema_find(&live, "parent");
    CHECK_EQ_INT(parent->n_columns, 5);
    CHECK_EQ_STR(parent->columns[4].name, "we\"ird");
    CHECK_EQ_STR(parent->columns[4].def, "\"we\"\"ird\" TEXT DEFAULT 'a,b)'");
    CHECK_EQ_STR(parent->columns[4].type, "TEXT");
    sb_buf_free(&err);
    sb_schema_free(&live);
    sqlite3_close(db);
    sb_schema_free(&s);
    sb_model_free(model);
}

TEST(parse_table_reports_broken_text)
{
    struct sb_schema s;
    sb_schema_init(&s);
    struct sb_buf err;
    sb_buf_init(&err);
    CHECK(sb_schema_add(&s, "table", "x", "x", "CREATE TABLE x", &err) != 0);
    CHECK(strstr(sb_buf_str(&err), "no column list") != NULL);
    sb_buf_reset(&err);
    CHECK(sb_schema_add(&s, "table", "x", "x", "CREATE TABLE x (a TEXT CHECK (a > 0)", &err) != 0);
    CHECK(strstr(sb_buf_str(&err), "unbalanced") != NULL);
    sb_buf_reset(&err);
    CHECK_EQ_INT(sb_schema_add(&s, "table", "y", "y",
                               "CREATE TABLE y (\n  a  INTEGER ,\n  CONSTRAINT c CHECK (a > 0),\n"
                               "  PRIMARY KEY (a)\n)   STRICT ,  WITHOUT ROWID",
                               &err),
                 0);
    const struct sb_ddl_object *y = sb_schema_find(&s, "y");
    CHECK_EQ_INT(y->n_columns, 1);
    CHECK_EQ_STR(y->columns[0].def, "a INTEGER");
    CHECK_EQ_INT(y->n_constraints, 2);
    CHECK_EQ_STR(y->options, "STRICT , WITHOUT ROWID");
    CHECK(sb_schema_add(&s, "view", "v", "v", "CREATE VIEW v AS SELECT 1", &err) != 0);
    sb_buf_free(&err);
    sb_schema_free(&s);
}

TEST(derived_names_collide_with_a_clear_error)
{
    struct sb_model *model = model_of("app t\n"
                                      "collection a { b_c -> a }\n"
                                      "collection a_b { c -> a }\n");
    if (!model)
        return;
    struct sb_schema s;
    sb_schema_init(&s);
    struct sb_buf err;
    sb_buf_init(&err);
    CHECK(sb_ddl_from_model(model, &sb_dialect_sqlite, &s, &err) != 0);
    CHECK(strstr(sb_buf_str(&err), "a_b_c_idx") != NULL);
    sb_buf_free(&err);
    sb_schema_free(&s);
    sb_model_free(model);
}

/* ---- expressions ------------------------------------------------------- */

/* The SQL of the first row check of the only collection in spec. */
static void check_expr(const char *body, const char *want, bool constraint, int want_rc)
{
    char spec[512];
    snprintf(spec, sizeof(spec),
             "app t\ncollection c {\n  n int\n  s text\n  price decimal(8,2)\n  on bool\n"
             "  tags text[]\n  check %s\n}\n",
             body);
    struct sb_model *model = model_of(spec);
    if (!model)
        return;
    struct sb_sqlexpr_ctx ctx = {.dialect = &sb_dialect_sqlite, .constraint = constraint};
    struct sb_buf out, why;
    sb_buf_init(&out);
    sb_buf_init(&why);
    int rc = sb_sqlexpr_compile(&ctx, model->collections[0]->checks[0]->expr, &out, &why);
    CHECK_EQ_INT(rc, want_rc);
    CHECK_EQ_STR(rc == 0 ? sb_buf_str(&out) : sb_buf_str(&why), want);
    if (rc != 0)
        CHECK_EQ_INT(out.len, 0);
    sb_buf_free(&out);
    sb_buf_free(&why);
    sb_model_free(model);
}

TEST(sqlexpr_compiles_checked_expressions)
{
    check_expr("n >= 0 and n < 10", "((\"n\" >= 0) AND (\"n\" < 10))", true, 0);
    check_expr("not on or n == null", "((NOT \"on\") OR (\"n\" IS NULL))", true, 0);
    check_expr("null != s", "(\"s\" IS NOT NULL)", true, 0);
    check_expr("price >= 0.5", "(CAST(\"price\" AS NUMERIC) >= 0.5)", true, 0);
    check_expr("s in [\"a\", \"it's\"]", "(\"s\" IN ('a', 'it''s'))", true, 0);
    check_expr("s not in []", "1", true, 0);
    check_expr("len(lower(s)) <= -n + 2 * 3 % 4",
               "(length(lower(\"s\")) <= ((-\"n\") + ((2 * 3) % 4)))", true, 0);
    check_expr("len(tags) < 3 and on == true",
               "((json_array_length(\"tags\") < 3) AND (\"on\" = 1))", true, 0);
    check_expr("coalesce(n, 0) / 2 != abs(n)", "((coalesce(\"n\", 0) / 2) <> abs(\"n\"))", true, 0);
    check_expr("s in tags", "membership in an array needs a subquery", true, -1);
    check_expr("s in tags", "(\"s\" IN (SELECT value FROM json_each(\"tags\")))", false, 0);
}

TEST(sqlexpr_refuses_what_a_constraint_cannot_hold)
{
    struct sb_model *model = model_of(
        "app t\nauth { users: u\n roles: admin }\n"
        "collection u {\n  email email required unique\n  password password\n  at timestamp\n"
        "  allow read auth.role == \"admin\" or at < now()\n}\n");
    if (!model)
        return;
    const struct sb_expr *rule = model->collections[0]->rules[0]->expr;
    struct sb_sqlexpr_ctx ctx = {.dialect = &sb_dialect_sqlite, .constraint = true};
    struct sb_buf out, why;
    sb_buf_init(&out);
    sb_buf_init(&why);
    CHECK_EQ_INT(sb_sqlexpr_compile(&ctx, rule, &out, &why), -1);
    CHECK_EQ_STR(sb_buf_str(&why), "it uses values that only exist during a request");
    CHECK_EQ_INT(out.len, 0);
    sb_buf_reset(&why);
    CHECK_EQ_INT(sb_sqlexpr_compile(&ctx, rule->right, &out, &why), -1);
    CHECK(strstr(sb_buf_str(&why), "now()") != NULL);
    ctx.constraint = false;
    CHECK_EQ_INT(sb_sqlexpr_compile(&ctx, rule->right, &out, NULL), 0);
    CHECK_EQ_STR(sb_buf_str(&out), "(\"at\" < (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')))");
    sb_buf_free(&out);
    sb_buf_free(&why);
    sb_model_free(model);
}

TEST(schema_lookups_by_name_and_table_scale)
{
    struct sb_schema s;
    sb_schema_init(&s);
    struct sb_buf err, sql;
    sb_buf_init(&err);
    sb_buf_init(&sql);
    enum { N = 3000 };
    for (int i = 0; i < N; i++) {
        char table[32], index[40];
        snprintf(table, sizeof(table), "t%d", i);
        snprintf(index, sizeof(index), "t%d_x_idx", i % 1000);
        sb_buf_reset(&sql);
        sb_buf_printf(&sql, "CREATE TABLE \"%s\" (\"x\" INTEGER)", table);
        CHECK_EQ_INT(sb_schema_add(&s, "table", table, table, sb_buf_str(&sql), &err), 0);
        if (i >= 2000) { /* indexes of tables 0..999, added long after them */
            snprintf(table, sizeof(table), "t%d", i % 1000);
            sb_buf_reset(&sql);
            sb_buf_printf(&sql, "CREATE INDEX \"%s\" ON \"%s\" (\"x\")", index, table);
            CHECK_EQ_INT(sb_schema_add(&s, "index", index, table, sb_buf_str(&sql), &err), 0);
        }
    }
    CHECK_EQ_INT(s.n_objects, N + 1000);
    int found = 0, in_table = 0;
    for (int i = 0; i < N; i++) {
        char table[32];
        snprintf(table, sizeof(table), "t%d", i);
        const struct sb_ddl_object *t = sb_schema_find(&s, table);
        found += t && strcmp(t->name, table) == 0 && t->kind == SB_DDL_TABLE;
        for (const struct sb_ddl_object *o = sb_schema_first(&s, table); o;
             o = sb_schema_next(&s, o))
            in_table += strcmp(o->table, table) == 0;
    }
    CHECK_EQ_INT(found, N);
    CHECK_EQ_INT(in_table, N + 1000);
    const struct sb_ddl_object *first = sb_schema_first(&s, "t7");
    CHECK(first && first->kind == SB_DDL_TABLE);
    CHECK(first && sb_schema_next(&s, first) && sb_schema_next(&s, first)->kind == SB_DDL_INDEX);
    CHECK(sb_schema_find(&s, "nope") == NULL);
    CHECK(sb_schema_first(&s, "nope") == NULL);
    sb_buf_free(&err);
    sb_buf_free(&sql);
    sb_schema_free(&s);
}
