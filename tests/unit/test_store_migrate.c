/* Unit tests of src/store/migrate.c and src/store/meta.c: applying a spec
 * to a fresh database leaves no drift and one history entry; hand-made
 * schema changes are reported as drift one by one and block migrations; a
 * migration that loses data is refused unless allowed; a migration that
 * fails half-way (a new check that existing rows break) changes nothing and
 * leaves no backup, while a successful one leaves a backup holding the old
 * database; the history check catches tampering; SHA-256 is right. */
#include "test.h"

#include "store/db.h"
#include "store/meta.h"
#include "store/migrate.h"
#include "store_helpers.h"

static const char v1[] = "app shop\n"
                         "collection product {\n"
                         "  name   text(1..50) required\n"
                         "  price  int check price >= 0\n"
                         "  note   text searchable\n"
                         "  index (name)\n"
                         "}\n";

static const char v2_check[] = "app shop\n"
                               "collection product {\n"
                               "  name   text(1..50) required\n"
                               "  price  int check price >= 0\n"
                               "  note   text searchable\n"
                               "  check price > 10\n"
                               "  index (name)\n"
                               "}\n";

static const char v2_drop[] = "app shop\n"
                              "collection product {\n"
                              "  name   text(1..50) required\n"
                              "  note   text searchable\n"
                              "  index (name)\n"
                              "}\n";

/* Apply spec to the database at path; returns sb_migrate_apply's code. */
static int apply_spec(const char *path, const char *spec, bool allow_loss, char **backup,
                      struct sb_buf *err)
{
    struct sb_model *model = model_of(spec);
    if (!model)
        return -100;
    sqlite3 *db = NULL;
    int rc = sb_db_open(path, SB_DB_WRITE, NULL, &db, err);
    if (rc == 0) {
        struct sb_migrate_options opts = {
            .allow_data_loss = allow_loss,
            .backup = true,
            .db_path = path,
            .source_name = "test.spec",
            .source = spec,
            .source_len = strlen(spec),
            .version = "test",
        };
        struct sb_migrate_outcome out;
        rc = sb_migrate_apply(db, model, &opts, &out, err);
        sb_plan_free(out.plan);
        if (backup)
            *backup = out.backup_path;
        else
            free(out.backup_path);
    }
    sb_db_close(db);
    sb_model_free(model);
    return rc;
}

static sqlite3 *open_write(const char *path)
{
    sqlite3 *db = NULL;
    CHECK_EQ_INT(sb_db_open(path, SB_DB_WRITE, NULL, &db, NULL), 0);
    return db;
}

TEST(sha256_known_answer)
{
    char hex[65];
    sb_sha256_hex("abc", 3, hex);
    CHECK_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sb_sha256_hex("", 0, hex);
    CHECK_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(apply_to_a_fresh_database_records_the_spec_and_leaves_no_drift)
{
    char *path = scratch_path("fresh.db");
    struct sb_buf err;
    sb_buf_init(&err);
    char *backup = NULL;
    CHECK_EQ_INT(apply_spec(path, v1, false, &backup, &err), 0);
    CHECK_EQ_STR(sb_buf_str(&err), "");
    CHECK(backup == NULL); /* nothing to back up in an empty database */

    sqlite3 *db = open_write(path);
    CHECK_EQ_INT(sb_migrate_drift(db, &err), 0);
    CHECK_EQ_STR(sb_buf_str(&err), "");
    long long n = 0;
    CHECK_EQ_INT(sb_meta_verify(db, &n, &err), 0);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(sb_db_pragma_int(db, "foreign_keys"), 1); /* restored after the migration */
    struct sb_applied applied;
    CHECK_EQ_INT(sb_meta_applied(db, &applied, &err), 1);
    CHECK_EQ_STR(applied.source, v1);
    CHECK_EQ_STR(applied.source_name, "test.spec");
    CHECK_EQ_INT(strlen(applied.hash), 64);
    sb_applied_free(&applied);

    /* The same spec again: nothing to do, nothing recorded. */
    struct sb_model *model = model_of(v1);
    struct sb_plan *plan = NULL;
    CHECK_EQ_INT(sb_migrate_plan(db, model, &plan, &err), 0);
    CHECK_EQ_INT(plan->n_steps, 0);
    CHECK(plan->same_spec);
    sb_plan_free(plan);
    sb_model_free(model);
    sb_db_close(db);
    CHECK_EQ_INT(apply_spec(path, v1, false, NULL, &err), 0);
    db = open_write(path);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM _sb_migrations"), 1);
    sb_db_close(db);
    sb_buf_free(&err);
    free(path);
}

TEST(drift_is_reported_difference_by_difference_and_blocks_migrations)
{
    char *path = scratch_path("drift.db");
    struct sb_buf err;
    sb_buf_init(&err);
    CHECK_EQ_INT(apply_spec(path, v1, false, NULL, &err), 0);
    sqlite3 *db = open_write(path);
    CHECK_EQ_INT(sb_db_exec(db,
                            "CREATE INDEX by_price ON product (price);"
                            "DROP INDEX product_name_idx;"
                            "ALTER TABLE product ADD COLUMN secret TEXT;"
                            "DROP TRIGGER _sb_fts_product_ad;"
                            "CREATE TABLE stray (x INTEGER);"
                            "CREATE TABLE _sb_private (x INTEGER);", /* specbase's: ignored */
                            &err),
                 0);
    struct sb_buf report;
    sb_buf_init(&report);
    CHECK_EQ_INT(sb_migrate_drift(db, &report), SB_STORE_EDRIFT);
    const char *r = sb_buf_str(&report);
    CHECK(strstr(r, "- table product: unexpected column secret (secret TEXT)\n") != NULL);
    CHECK(strstr(r, "- index product_name_idx is missing\n") != NULL);
    CHECK(strstr(r, "- trigger or view _sb_fts_product_ad is missing\n") != NULL);
    CHECK(strstr(r, "- unexpected index by_price: CREATE INDEX by_price ON product (price)\n") !=
          NULL);
    CHECK(strstr(r, "- unexpected table stray: CREATE TABLE stray (x INTEGER)\n") != NULL);
    CHECK(strstr(r, "_sb_private") == NULL);
    size_t lines = 0;
    for (const char *p = r; *p; p++)
        lines += *p == '\n';
    CHECK_EQ_INT(lines, 5);
    sb_db_close(db);

    /* Migrating refuses, and changes nothing. */
    sb_buf_reset(&err);
    CHECK_EQ_INT(apply_spec(path, v2_drop, true, NULL, &err), SB_STORE_EDRIFT);
    CHECK(strstr(sb_buf_str(&err), "unexpected column secret") != NULL);
    db = open_write(path);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM _sb_migrations"), 1);
    CHECK_EQ_INT(
        query_int(db, "SELECT count(*) FROM pragma_table_info('product') WHERE name = 'price'"), 1);
    /* A changed column definition is drift too. */
    sb_buf_reset(&report);
    CHECK_EQ_INT(
        sb_db_exec(db,
                   "DROP INDEX by_price; CREATE INDEX product_name_idx ON product (name);"
                   "DROP TABLE stray; ALTER TABLE product DROP COLUMN secret;"
                   "CREATE TRIGGER _sb_fts_product_ad AFTER DELETE ON product BEGIN SELECT 1; END;",
                   &err),
        0);
    CHECK_EQ_INT(sb_migrate_drift(db, &report), SB_STORE_EDRIFT);
    CHECK(strstr(sb_buf_str(&report), "- index product_name_idx differs\n") != NULL);
    CHECK(strstr(sb_buf_str(&report), "- trigger or view _sb_fts_product_ad differs\n") != NULL);
    sb_buf_free(&report);
    sb_db_close(db);
    sb_buf_free(&err);
    free(path);
}

TEST(tables_without_an_applied_spec_are_drift)
{
    char *path = scratch_path("foreign.db");
    sqlite3 *db = open_write(path);
    CHECK_EQ_INT(sb_db_exec(db, "CREATE TABLE product (id INTEGER PRIMARY KEY)", NULL), 0);
    struct sb_buf report;
    sb_buf_init(&report);
    CHECK_EQ_INT(sb_migrate_drift(db, &report), SB_STORE_EDRIFT);
    CHECK(strstr(sb_buf_str(&report),
                 "unexpected table product (no spec has been applied to this database)") != NULL);
    sb_buf_free(&report);
    sb_db_close(db);
    free(path);
}

TEST(data_loss_is_refused_unless_allowed)
{
    char *path = scratch_path("loss.db");
    struct sb_buf err;
    sb_buf_init(&err);
    CHECK_EQ_INT(apply_spec(path, v1, false, NULL, &err), 0);
    sqlite3 *db = open_write(path);
    CHECK_EQ_INT(sb_db_exec(db, "INSERT INTO product (name, price) VALUES ('lamp', 30)", &err), 0);

    struct sb_model *model = model_of(v2_drop);
    struct sb_migrate_options opts = {.backup = true, .db_path = path, .version = "test"};
    struct sb_migrate_outcome out;
    CHECK_EQ_INT(sb_migrate_apply(db, model, &opts, &out, &err), SB_STORE_EUNSAFE);
    CHECK(out.plan && out.plan->data_loss);
    CHECK(out.backup_path == NULL);
    CHECK(!out.applied);
    CHECK(out.plan && out.plan->n_steps >= 1 && out.plan->steps[0].data_loss);
    CHECK(strstr(out.plan->steps[0].details[1],
                 "drop field price (INTEGER): its values are lost") != NULL);
    sb_plan_free(out.plan);
    CHECK_EQ_INT(query_int(db, "SELECT price FROM product"), 30);

    opts.allow_data_loss = true;
    CHECK_EQ_INT(sb_migrate_apply(db, model, &opts, &out, &err), 0);
    CHECK(out.applied);
    CHECK(out.backup_path != NULL);
    CHECK_EQ_INT(
        query_int(db, "SELECT count(*) FROM pragma_table_info('product') WHERE name = 'price'"), 0);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM product WHERE name = 'lamp'"), 1);
    CHECK_EQ_INT(query_int(db, "SELECT data_loss FROM _sb_migrations ORDER BY id DESC LIMIT 1"), 1);
    CHECK_EQ_INT(sb_migrate_drift(db, &err), 0);

    /* The backup is the database before the migration. */
    sqlite3 *old = NULL;
    CHECK_EQ_INT(sb_db_open(out.backup_path, SB_DB_INSPECT, NULL, &old, &err), 0);
    CHECK_EQ_INT(query_int(old, "SELECT price FROM product"), 30);
    CHECK_EQ_INT(query_int(old, "SELECT count(*) FROM _sb_migrations"), 1);
    CHECK_EQ_INT(query_int(old, "SELECT integrity_check = 'ok' FROM pragma_integrity_check"), 1);
    sb_db_close(old);
    sb_plan_free(out.plan);
    free(out.backup_path);
    sb_model_free(model);
    sb_db_close(db);
    sb_buf_free(&err);
    free(path);
}

TEST(a_failing_migration_changes_nothing_and_leaves_no_backup)
{
    char *path = scratch_path("rollback.db");
    struct sb_buf err;
    sb_buf_init(&err);
    CHECK_EQ_INT(apply_spec(path, v1, false, NULL, &err), 0);
    sqlite3 *db = open_write(path);
    CHECK_EQ_INT(sb_db_exec(db,
                            "INSERT INTO product (name, price, note) VALUES ('cheap', 5, 'tiny'), "
                            "('dear', 50, 'huge')",
                            &err),
                 0);
    sb_db_close(db);

    char *backup = NULL;
    sb_buf_reset(&err);
    CHECK_EQ_INT(apply_spec(path, v2_check, false, &backup, &err), SB_STORE_EDB);
    CHECK(strstr(sb_buf_str(&err),
                 "step 1 (rebuild collection product) failed: CHECK constraint failed") != NULL);
    CHECK(backup == NULL);

    db = open_write(path);
    CHECK_EQ_INT(sb_migrate_drift(db, &err), 0); /* still exactly v1 */
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM product"), 2);
    CHECK_EQ_INT(
        query_int(db, "SELECT count(*) FROM _sb_fts_product WHERE _sb_fts_product MATCH 'tiny'"),
        1);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM _sb_migrations"), 1);
    CHECK_EQ_INT(
        query_int(db,
                  "SELECT count(*) FROM sqlite_schema WHERE name LIKE '\\_sb\\_new%' ESCAPE '\\'"),
        0);
    /* No backup file was left beside the database. */
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "ls %s.backup-* >/dev/null 2>&1", path);
    CHECK(system(cmd) != 0);

    /* Fix the data, and the same migration goes through. */
    CHECK_EQ_INT(sb_db_exec(db, "UPDATE product SET price = 11 WHERE name = 'cheap'", &err), 0);
    sb_db_close(db);
    CHECK_EQ_INT(apply_spec(path, v2_check, false, &backup, &err), 0);
    CHECK(backup != NULL);
    free(backup);
    db = open_write(path);
    CHECK_EQ_INT(
        query_int(db, "SELECT count(*) FROM _sb_fts_product WHERE _sb_fts_product MATCH 'tiny'"),
        1);
    CHECK_EQ_INT(exec_rc(db, "INSERT INTO product (name, price) VALUES ('x', 3)"),
                 SQLITE_CONSTRAINT_CHECK);
    long long n = 0;
    CHECK_EQ_INT(sb_meta_verify(db, &n, &err), 0);
    CHECK_EQ_INT(n, 2);
    sb_db_close(db);
    sb_buf_free(&err);
    free(path);
}

TEST(history_check_finds_tampering)
{
    char *path = scratch_path("history.db");
    struct sb_buf err;
    sb_buf_init(&err);
    CHECK_EQ_INT(apply_spec(path, v1, false, NULL, &err), 0);
    CHECK_EQ_INT(apply_spec(path, v2_check, false, NULL, &err), 0);
    sqlite3 *db = open_write(path);
    CHECK_EQ_INT(sb_meta_verify(db, NULL, &err), 0);
    CHECK_EQ_INT(sb_db_exec(db, "UPDATE _sb_migrations SET from_spec = NULL WHERE id = 2", &err),
                 0);
    CHECK_EQ_INT(sb_meta_verify(db, NULL, &err), SB_STORE_EDB);
    CHECK(strstr(sb_buf_str(&err), "migration 2 starts from spec 0") != NULL);
    CHECK_EQ_INT(sb_db_exec(db, "UPDATE _sb_migrations SET from_spec = 1 WHERE id = 2", &err), 0);
    sb_buf_reset(&err);
    CHECK_EQ_INT(sb_meta_verify(db, NULL, &err), 0);
    CHECK_EQ_INT(sb_db_exec(db, "UPDATE _sb_spec SET json = '{}' WHERE id = 1", &err), 0);
    CHECK_EQ_INT(sb_meta_verify(db, NULL, &err), SB_STORE_EDB);
    CHECK(strstr(sb_buf_str(&err), "spec 1: its hash does not match its JSON") != NULL);
    sb_db_close(db);
    sb_buf_free(&err);
    free(path);
}

TEST(diff_of_schemas_is_pure_and_ordered)
{
    struct sb_model *from = model_of(v1), *to = model_of("app shop\n"
                                                         "collection brand { name text required }\n"
                                                         "collection product {\n"
                                                         "  name   text(1..50) required\n"
                                                         "  price  int check price >= 0\n"
                                                         "  note   text searchable\n"
                                                         "  brand  -> brand\n"
                                                         "  index (name)\n"
                                                         "}\n");
    if (!from || !to)
        return;
    struct sb_schema a, b;
    sb_schema_init(&a);
    sb_schema_init(&b);
    struct sb_buf err;
    sb_buf_init(&err);
    CHECK_EQ_INT(sb_ddl_from_model(from, &sb_dialect_sqlite, &a, &err), 0);
    CHECK_EQ_INT(sb_ddl_from_model(to, &sb_dialect_sqlite, &b, &err), 0);
    struct sb_plan *plan = NULL;
    CHECK_EQ_INT(sb_migrate_diff(&a, &b, to, &plan, &err), 0);
    CHECK_EQ_INT(plan->n_steps, 3);
    CHECK_EQ_STR(plan->steps[0].words, "create collection brand");
    CHECK_EQ_STR(plan->steps[1].words, "add field product.brand (-> brand)");
    CHECK_EQ_STR(
        plan->steps[1].sql[0],
        "ALTER TABLE \"product\" ADD COLUMN \"brand\" INTEGER REFERENCES \"brand\" (\"id\") "
        "ON DELETE NO ACTION");
    CHECK_EQ_STR(plan->steps[2].words, "create index product_brand_idx on product");
    CHECK(!plan->data_loss && !plan->rebuilds);
    sb_plan_free(plan);
    /* And back: dropping a collection loses data and is checked after. */
    CHECK_EQ_INT(sb_migrate_diff(&b, &a, from, &plan, &err), 0);
    CHECK(plan->data_loss && plan->rebuilds);
    CHECK_EQ_STR(plan->steps[0].words, "drop collection brand");
    CHECK(plan->steps[plan->n_steps - 1].fk_check);
    sb_plan_free(plan);
    sb_buf_free(&err);
    sb_schema_free(&a);
    sb_schema_free(&b);
    sb_model_free(from);
    sb_model_free(to);
}
