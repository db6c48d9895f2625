/* Unit tests of src/store/audit.c: the table (STRICT, idempotent), entries
 * chained by seq and hash, the hash recomputed independently from the
 * definition in docs/audit.md, the changes JSON with pii values hashed and
 * never in clear, the key file (0600, refused when others may read it), an
 * append rolled back with its savepoint, and the verifier catching each kind
 * of tampering (a changed value, a deleted entry, a forged insertion, two
 * entries swapped) at the right seq, and the chain kept whole through the
 * single writer when units that appended roll back, end their transaction,
 * or another connection appends between batches. Prints the cost of one
 * append.
 *
 * With SB_AUDIT_FIXTURE=PATH the test "fixture" writes a small trail to PATH
 * for the CLI tests (tests/audit.sh). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "store/audit.h"
#include "store/db.h"
#include "store/stmt.h"
#include "store/writer.h"
#include "test.h"
#include "store_helpers.h"

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path ? path : ":memory:", &db) != SQLITE_OK)
        abort();
    struct sb_buf err;
    sb_buf_init(&err);
    if (sb_audit_schema(db, &err) != 0)
        sb_test_fail(__FILE__, __LINE__, "schema: %s", sb_buf_str(&err));
    sb_buf_free(&err);
    return db;
}

static void close_db(sqlite3 *db)
{
    sb_stmt_forget(db);
    sqlite3_close(db);
}

/* Whether needle occurs in haystack[0..len). */
static bool contains(const char *haystack, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(haystack + i, needle, n) == 0)
            return true;
    return false;
}

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        sb_test_fail(__FILE__, __LINE__, "%s: %s", sql, msg ? msg : "?");
    sqlite3_free(msg);
}

static const char test_key[] = "0123456789abcdef0123456789abcdef";

/* Append n entries: creates of "orders" rows 1..n by user-<i % 3>, the
 * times fixed so that the hashes are reproducible. */
static void append_n(sqlite3 *db, int n)
{
    struct sb_audit_key key;
    sb_audit_key_set(&key, test_key, strlen(test_key));
    for (int i = 1; i <= n; i++) {
        char at[40], sub[16], total[32], rid[16];
        snprintf(at, sizeof(at), "2026-11-25T10:00:%02d.%06dZ", i % 60, i);
        snprintf(sub, sizeof(sub), "user-%d", i % 3);
        snprintf(total, sizeof(total), "%d", i * 10);
        snprintf(rid, sizeof(rid), "req-%d", i);
        struct sb_buf changes;
        sb_buf_init(&changes);
        sb_audit_changes_add_name(&changes, "total", false, NULL, total, &key);
        sb_audit_changes_add_name(&changes, "email", true, NULL, "\"ann@example.com\"", &key);
        struct sb_audit_entry entry = {
            .at = at,
            .actor_sub = sub,
            .actor_role = "authenticated",
            .actor_addr = "192.0.2.7",
            .request_id = rid,
            .op = SB_AUDIT_OP_CREATE,
            .collection = i % 2 ? "orders" : "customers",
            .has_row_id = true,
            .row_id = i,
            .changes = sb_buf_str(&changes),
        };
        struct sb_buf err;
        sb_buf_init(&err);
        if (sb_audit_append(db, &entry, &err) != 0)
            sb_test_fail(__FILE__, __LINE__, "append %d: %s", i, sb_buf_str(&err));
        sb_buf_free(&err);
        sb_buf_free(&changes);
    }
}

static struct sb_audit_report verify(sqlite3 *db)
{
    struct sb_audit_report report;
    struct sb_buf err;
    sb_buf_init(&err);
    if (sb_audit_verify(db, &report, &err) != 0)
        sb_test_fail(__FILE__, __LINE__, "verify: %s", sb_buf_str(&err));
    sb_buf_free(&err);
    return report;
}

TEST(audit_schema_strict_and_idempotent)
{
    sqlite3 *db = open_db(NULL);
    struct sb_buf err;
    sb_buf_init(&err);
    CHECK_EQ_INT(sb_audit_schema(db, &err), 0);
    CHECK(sb_audit_exists(db));
    CHECK_EQ_INT(query_int(db, "SELECT strict FROM pragma_table_list WHERE name = '_sb_audit'"), 1);
    /* STRICT: a text seq is refused */
    CHECK(sqlite3_exec(db, "INSERT INTO _sb_audit VALUES ('x', 'a', NULL, NULL, NULL, NULL, 'create', "
                           "NULL, NULL, '{}', 'p', 'h')",
                       NULL, NULL, NULL) != SQLITE_OK);
    struct sb_audit_report report = verify(db);
    CHECK_EQ_INT(report.problem, SB_AUDIT_OK);
    CHECK_EQ_INT(report.n_entries, 0);
    CHECK_EQ_INT(report.head_seq, 0);
    int64_t seq = -1;
    char hash[SB_AUDIT_HASH_HEX + 1];
    CHECK_EQ_INT(sb_audit_head(db, &seq, hash, &err), 0);
    CHECK_EQ_INT(seq, 0);
    CHECK_EQ_STR(hash, "0000000000000000000000000000000000000000000000000000000000000000");
    sb_buf_free(&err);
    close_db(db);
}

TEST(audit_chain_links)
{
    sqlite3 *db = open_db(NULL);
    append_n(db, 5);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM _sb_audit"), 5);
    CHECK_EQ_INT(query_int(db, "SELECT max(seq) FROM _sb_audit"), 5);
    /* seq is 1 + the previous, prev_hash the previous hash, genesis zeros */
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM _sb_audit a JOIN _sb_audit b "
                               "ON b.seq = a.seq + 1 WHERE b.prev_hash = a.hash"),
                 4);
    CHECK_EQ_INT(query_int(db, "SELECT prev_hash = printf('%.64c', '0') FROM _sb_audit WHERE seq = 1"),
                 1);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM _sb_audit WHERE length(hash) = 64 AND "
                               "hash NOT GLOB '*[^0-9a-f]*'"),
                 5);
    struct sb_audit_report report = verify(db);
    CHECK_EQ_INT(report.problem, SB_AUDIT_OK);
    CHECK_EQ_INT(report.n_entries, 5);
    CHECK_EQ_INT(report.head_seq, 5);
    int64_t seq;
    char hash[SB_AUDIT_HASH_HEX + 1];
    CHECK_EQ_INT(sb_audit_head(db, &seq, hash, NULL), 0);
    CHECK_EQ_INT(seq, 5);
    CHECK_EQ_STR(hash, report.head_hash);
    close_db(db);
}

/* The hash as docs/audit.md defines it, computed here without the
 * library's serializer: SHA-256 of prev_hash, then per column "n" (NULL),
 * "i<decimal>;" (integer) or "s<bytes>:<text>" (text). */
TEST(audit_hash_matches_documented_definition)
{
    sqlite3 *db = open_db(NULL);
    append_n(db, 3);
    sqlite3_stmt *stmt = NULL;
    CHECK_EQ_INT(sqlite3_prepare_v2(db,
                                    "SELECT seq, at, actor_sub, actor_role, actor_addr, request_id, "
                                    "op, collection, row_id, changes, prev_hash, hash FROM _sb_audit "
                                    "ORDER BY seq",
                                    -1, &stmt, NULL),
                 SQLITE_OK);
    int n_rows = 0;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        struct sb_buf msg;
        sb_buf_init(&msg);
        sb_buf_puts(&msg, (const char *)sqlite3_column_text(stmt, 10));
        for (int i = 0; i < 10; i++) {
            int type = sqlite3_column_type(stmt, i);
            if (type == SQLITE_NULL)
                sb_buf_putc(&msg, 'n');
            else if (type == SQLITE_INTEGER)
                sb_buf_printf(&msg, "i%lld;", (long long)sqlite3_column_int64(stmt, i));
            else
                sb_buf_printf(&msg, "s%d:%s", sqlite3_column_bytes(stmt, i),
                              (const char *)sqlite3_column_text(stmt, i));
        }
        unsigned char digest[32];
        char hex[65];
        crypto_hash_sha256(digest, (const unsigned char *)msg.data, msg.len);
        sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
        CHECK_EQ_STR(hex, (const char *)sqlite3_column_text(stmt, 11));
        sb_buf_free(&msg);
        n_rows++;
    }
    sqlite3_finalize(stmt);
    CHECK_EQ_INT(n_rows, 3);

    /* a fixed vector, also given in docs/audit.md */
    char hash[SB_AUDIT_HASH_HEX + 1];
    sb_audit_hash("0000000000000000000000000000000000000000000000000000000000000000", 1,
                  "2026-11-25T10:00:00.000000Z", "user-1", "authenticated", "192.0.2.7", "req-1",
                  "create", "orders", true, 42, "{\"total\":{\"old\":null,\"new\":10}}", hash);
    const char *message = "0000000000000000000000000000000000000000000000000000000000000000"
                          "i1;s27:2026-11-25T10:00:00.000000Zs6:user-1s13:authenticateds9:192.0.2.7"
                          "s5:req-1s6:creates6:ordersi42;s31:{\"total\":{\"old\":null,\"new\":10}}";
    unsigned char digest[32];
    char hex[65];
    crypto_hash_sha256(digest, (const unsigned char *)message, strlen(message));
    sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
    CHECK_EQ_STR(hash, hex);
    printf("     vector hash %s\n", hash);
    close_db(db);
}

TEST(audit_changes_json_and_pii)
{
    struct sb_audit_key key;
    CHECK_EQ_INT(sb_audit_key_set(&key, test_key, strlen(test_key)), 0);
    CHECK(sb_audit_key_set(&key, "short", 5) != 0);
    struct sb_buf changes;
    sb_buf_init(&changes);
    sb_audit_changes_add_name(&changes, "total", false, "10", "12.5", &key);
    CHECK_EQ_STR(sb_buf_str(&changes), "{\"total\":{\"old\":10,\"new\":12.5}}");
    sb_audit_changes_add_name(&changes, "note", false, NULL, "\"a \\\"b\\\"\"", &key);
    sb_audit_changes_add_name(&changes, "email", true, "\"old@example.com\"", "\"new@example.com\"",
                              &key);
    sb_audit_changes_add_name(&changes, "phone", true, "\"555-0100\"", NULL, &key);
    {
        const char *text = sb_buf_str(&changes);
        CHECK(strstr(text, "example.com") == NULL);
        CHECK(strstr(text, "555-0100") == NULL);
        CHECK(strstr(text, "\"phone\":{\"old\":\"hmac:") != NULL);
        CHECK(strstr(text, "\"new\":null}}") != NULL);
        CHECK(strncmp(text, "{\"total\":{\"old\":10,\"new\":12.5},\"note\":{\"old\":null,\"new\":\"a "
                            "\\\"b\\\"\"},\"email\":{\"old\":\"hmac:",
                      strlen("{\"total\":{\"old\":10,\"new\":12.5},\"note\":{\"old\":null,\"new\":"
                             "\"a \\\"b\\\"\"},\"email\":{\"old\":\"hmac:")) == 0);
    }
    /* the keyed hash is BLAKE2b-256 of the JSON text under the key */
    unsigned char digest[32];
    char hex[65];
    const char *value = "\"new@example.com\"";
    crypto_generichash(digest, sizeof(digest), (const unsigned char *)value, strlen(value),
                       (const unsigned char *)test_key, strlen(test_key));
    sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
    char want[80];
    snprintf(want, sizeof(want), "\"new\":\"hmac:%s\"", hex);
    CHECK(strstr(sb_buf_str(&changes), want) != NULL);
    /* another key, another hash: the values cannot be guessed without it */
    struct sb_audit_key other;
    sb_audit_key_set(&other, "ffffffffffffffffffffffffffffffff", 32);
    struct sb_buf a, b;
    sb_buf_init(&a);
    sb_buf_init(&b);
    sb_audit_pii_hash(&key, value, strlen(value), &a);
    sb_audit_pii_hash(&other, value, strlen(value), &b);
    CHECK(strcmp(sb_buf_str(&a), sb_buf_str(&b)) != 0);
    CHECK_EQ_INT(a.len, 5 + 64);
    /* no key: the value is still not written */
    sb_buf_reset(&a);
    sb_audit_changes_add_name(&a, "email", true, NULL, value, NULL);
    CHECK_EQ_STR(sb_buf_str(&a), "{\"email\":{\"old\":null,\"new\":\"hmac:\"}}");
    sb_buf_free(&a);
    sb_buf_free(&b);
    sb_buf_free(&changes);
    sb_audit_key_wipe(&key);
    sb_audit_key_wipe(&other);
}

TEST(audit_changes_from_model_pii_flag)
{
    struct sb_model *model = model_of("app shop\n"
                                      "collection customers {\n"
                                      "  email email required pii\n"
                                      "  city text\n"
                                      "}\n");
    if (!model)
        return;
    const struct sb_collection *coll = sb_model_collection(model, "customers");
    CHECK(coll != NULL);
    const struct sb_field *email = coll ? sb_collection_field(coll, "email") : NULL;
    const struct sb_field *city = coll ? sb_collection_field(coll, "city") : NULL;
    CHECK(email && city);
    if (email && city) {
        struct sb_audit_key key;
        sb_audit_key_set(&key, test_key, strlen(test_key));
        struct sb_buf changes;
        sb_buf_init(&changes);
        sb_audit_changes_add(&changes, email, "\"a@example.com\"", "\"b@example.com\"", &key);
        sb_audit_changes_add(&changes, city, "\"Lyon\"", "\"Oslo\"", &key);
        CHECK(strstr(sb_buf_str(&changes), "example.com") == NULL);
        CHECK(strstr(sb_buf_str(&changes), "\"city\":{\"old\":\"Lyon\",\"new\":\"Oslo\"}") != NULL);
        CHECK(strstr(sb_buf_str(&changes), "\"email\":{\"old\":\"hmac:") != NULL);
        sb_buf_free(&changes);
    }
    sb_model_free(model);
}

TEST(audit_pii_never_in_table)
{
    char *path = scratch_path("pii.db");
    sqlite3 *db = open_db(path);
    append_n(db, 20);
    close_db(db);
    /* the whole file, not just the column */
    FILE *file = fopen(path, "rb");
    CHECK(file != NULL);
    if (file) {
        struct sb_buf image;
        sb_buf_init(&image);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), file)) > 0)
            sb_buf_append(&image, chunk, n);
        fclose(file);
        CHECK(image.len > 0);
        CHECK(!contains(image.data, image.len, "ann@example.com"));
        CHECK(contains(image.data, image.len, "hmac:"));
        sb_buf_free(&image);
    }
    free(path);
}

TEST(audit_key_file)
{
    char *db_path = scratch_path("keyed.db");
    char key_path[256];
    snprintf(key_path, sizeof(key_path), "%s.audit-key", db_path);
    unsetenv("SPECBASE_AUDIT_KEY");
    struct sb_audit_key key, again;
    bool created = false;
    struct sb_buf err;
    sb_buf_init(&err);
    CHECK_EQ_INT(sb_audit_key_load(db_path, &key, &created, &err), 0);
    CHECK(created);
    CHECK_EQ_INT(key.len, 64);
    struct stat st;
    CHECK_EQ_INT(stat(key_path, &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    CHECK_EQ_INT(sb_audit_key_load(db_path, &again, &created, &err), 0);
    CHECK(!created);
    CHECK(again.len == key.len && memcmp(again.bytes, key.bytes, key.len) == 0);
    /* readable by others: refused */
    chmod(key_path, 0644);
    sb_buf_reset(&err);
    CHECK(sb_audit_key_load(db_path, &again, NULL, &err) != 0);
    CHECK(strstr(sb_buf_str(&err), "group or others") != NULL);
    chmod(key_path, 0600);
    /* the environment wins */
    setenv("SPECBASE_AUDIT_KEY", test_key, 1);
    CHECK_EQ_INT(sb_audit_key_load(db_path, &again, NULL, &err), 0);
    CHECK(again.len == strlen(test_key) && memcmp(again.bytes, test_key, again.len) == 0);
    setenv("SPECBASE_AUDIT_KEY", "short", 1);
    CHECK(sb_audit_key_load(db_path, &again, NULL, &err) != 0);
    unsetenv("SPECBASE_AUDIT_KEY");
    sb_audit_key_wipe(&key);
    sb_audit_key_wipe(&again);
    sb_buf_free(&err);
    free(db_path);
}

TEST(audit_append_rolls_back_with_savepoint)
{
    sqlite3 *db = open_db(NULL);
    append_n(db, 2);
    exec(db, "BEGIN IMMEDIATE; SAVEPOINT unit");
    struct sb_audit_entry entry = {.op = SB_AUDIT_OP_DELETE, .collection = "orders",
                                   .has_row_id = true, .row_id = 1};
    CHECK_EQ_INT(sb_audit_append(db, &entry, NULL), 0);
    exec(db, "ROLLBACK TO unit; RELEASE unit");
    entry.op = SB_AUDIT_OP_SIGNIN_FAILED;
    entry.collection = NULL;
    entry.has_row_id = false;
    CHECK_EQ_INT(sb_audit_append(db, &entry, NULL), 0);
    exec(db, "COMMIT");
    CHECK_EQ_INT(query_int(db, "SELECT max(seq) FROM _sb_audit"), 3);
    CHECK_EQ_INT(query_int(db, "SELECT count(*) FROM _sb_audit WHERE op = 'delete'"), 0);
    CHECK_EQ_INT(query_int(db, "SELECT row_id IS NULL AND collection IS NULL AND changes = '{}' "
                               "FROM _sb_audit WHERE seq = 3"),
                 1);
    /* the time is UTC with microseconds */
    CHECK_EQ_INT(query_int(db, "SELECT at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T"
                               "[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z' "
                               "FROM _sb_audit WHERE seq = 3"),
                 1);
    struct sb_audit_report report = verify(db);
    CHECK_EQ_INT(report.problem, SB_AUDIT_OK);
    CHECK_EQ_INT(report.n_entries, 3);
    /* an unknown operation is refused */
    entry.op = SB_AUDIT_OP__COUNT;
    struct sb_buf err;
    sb_buf_init(&err);
    CHECK(sb_audit_append(db, &entry, &err) != 0);
    sb_buf_free(&err);
    close_db(db);
}

/* A fresh chain of 10 entries, tampered with by sql, then verified. */
static struct sb_audit_report tampered(const char *sql)
{
    sqlite3 *db = open_db(NULL);
    append_n(db, 10);
    exec(db, sql);
    struct sb_audit_report report = verify(db);
    close_db(db);
    return report;
}

TEST(audit_detects_modified_value)
{
    struct sb_audit_report report =
        tampered("UPDATE _sb_audit SET changes = replace(changes, '40', '4') WHERE seq = 4");
    CHECK_EQ_STR(sb_audit_problem_name(report.problem), "modified");
    CHECK_EQ_INT(report.seq, 4);
    CHECK_EQ_INT(report.head_seq, 3);
    report = tampered("UPDATE _sb_audit SET actor_sub = 'someone-else' WHERE seq = 7");
    CHECK_EQ_STR(sb_audit_problem_name(report.problem), "modified");
    CHECK_EQ_INT(report.seq, 7);
    report = tampered("UPDATE _sb_audit SET row_id = NULL WHERE seq = 1");
    CHECK_EQ_STR(sb_audit_problem_name(report.problem), "modified");
    CHECK_EQ_INT(report.seq, 1);
    report = tampered("UPDATE _sb_audit SET prev_hash = prev_hash || 'x' WHERE seq = 5");
    CHECK_EQ_STR(sb_audit_problem_name(report.problem), "modified");
    CHECK_EQ_INT(report.seq, 5);
    report = tampered("UPDATE _sb_audit SET hash = upper(hash) WHERE seq = 10");
    CHECK(report.problem != SB_AUDIT_OK);
    CHECK_EQ_INT(report.seq, 10);
}

TEST(audit_detects_deleted_entry)
{
    struct sb_audit_report report = tampered("DELETE FROM _sb_audit WHERE seq = 6");
    CHECK_EQ_STR(sb_audit_problem_name(report.problem), "deleted");
    CHECK_EQ_INT(report.seq, 6);
    report = tampered("DELETE FROM _sb_audit WHERE seq IN (1, 2)");
    CHECK_EQ_STR(sb_audit_problem_name(report.problem), "deleted");
    CHECK_EQ_INT(report.seq, 1);
    /* deleted, and the later entries renumbered to close the gap */
    report = tampered("DELETE FROM _sb_audit WHERE seq = 5;"
                      "UPDATE _sb_audit SET seq = -seq WHERE seq > 5;"
                      "UPDATE _sb_audit SET seq = -seq - 1 WHERE seq < 0");
    CHECK_EQ_STR(sb_audit_problem_name(report.problem), "deleted");
    CHECK_EQ_INT(report.seq, 5);
}

/* A forged entry that hashes correctly and links to its predecessor, put at
 * seq 4 after the later entries were moved up by one. */
static struct sb_audit_report forged_insert(void)
{
    sqlite3 *db = open_db(NULL);
    append_n(db, 10);
    exec(db, "UPDATE _sb_audit SET seq = -seq WHERE seq >= 4;"
             "UPDATE _sb_audit SET seq = -seq + 1 WHERE seq < 0");
    char prev[65] = "";
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, "SELECT hash FROM _sb_audit WHERE seq = 3", -1, &stmt, NULL) ==
            SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        snprintf(prev, sizeof(prev), "%s", (const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    char hash[65];
    const char *at = "2026-11-25T10:00:03.500000Z", *changes = "{\"total\":{\"old\":null,\"new\":1}}";
    sb_audit_hash(prev, 4, at, "mallory", "service_role", "198.51.100.1", "req-x", "create",
                  "orders", true, 99, changes, hash);
    char *sql = sqlite3_mprintf("INSERT INTO _sb_audit VALUES (4, %Q, 'mallory', 'service_role', "
                                "'198.51.100.1', 'req-x', 'create', 'orders', 99, %Q, %Q, %Q)",
                                at, changes, prev, hash);
    exec(db, sql);
    sqlite3_free(sql);
    struct sb_audit_report report = verify(db);
    close_db(db);
    return report;
}

TEST(audit_detects_inserted_entry)
{
    struct sb_audit_report report = forged_insert();
    CHECK_EQ_STR(sb_audit_problem_name(report.problem), "inserted");
    CHECK_EQ_INT(report.seq, 4);
    /* appended at the end, self-consistent but chained to nothing */
    sqlite3 *db = open_db(NULL);
    append_n(db, 10);
    char hash[65];
    const char *prev = "1111111111111111111111111111111111111111111111111111111111111111";
    sb_audit_hash(prev, 11, "2026-11-25T11:00:00.000000Z", NULL, NULL, NULL, NULL, "delete",
                  "orders", true, 3, "{}", hash);
    char *sql = sqlite3_mprintf("INSERT INTO _sb_audit VALUES (11, '2026-11-25T11:00:00.000000Z', "
                                "NULL, NULL, NULL, NULL, 'delete', 'orders', 3, '{}', %Q, %Q)",
                                prev, hash);
    exec(db, sql);
    sqlite3_free(sql);
    report = verify(db);
    CHECK_EQ_STR(sb_audit_problem_name(report.problem), "inserted");
    CHECK_EQ_INT(report.seq, 11);
    /* a crude insertion: no valid hash at all */
    exec(db, "DELETE FROM _sb_audit WHERE seq = 11;"
             "INSERT INTO _sb_audit (seq, at, op, changes, prev_hash, hash) "
             "VALUES (11, 'x', 'create', '{}', 'p', 'h')");
    report = verify(db);
    CHECK(report.problem != SB_AUDIT_OK);
    CHECK_EQ_INT(report.seq, 11);
    close_db(db);
}

TEST(audit_detects_reordered_entries)
{
    struct sb_audit_report report = tampered("UPDATE _sb_audit SET seq = -1 WHERE seq = 3;"
                                             "UPDATE _sb_audit SET seq = 3 WHERE seq = 7;"
                                             "UPDATE _sb_audit SET seq = 7 WHERE seq = -1");
    CHECK_EQ_STR(sb_audit_problem_name(report.problem), "reordered");
    CHECK_EQ_INT(report.seq, 3);
    /* neighbours */
    report = tampered("UPDATE _sb_audit SET seq = -1 WHERE seq = 5;"
                      "UPDATE _sb_audit SET seq = 5 WHERE seq = 6;"
                      "UPDATE _sb_audit SET seq = 6 WHERE seq = -1");
    CHECK_EQ_STR(sb_audit_problem_name(report.problem), "reordered");
    CHECK_EQ_INT(report.seq, 5);
}

/* Units of the writer test: append one or two entries, or append and then
 * fail (rolled back to the unit's savepoint) or end the transaction (every
 * unit kept in it is lost). */
enum unit_kind { UNIT_APPEND, UNIT_APPEND_TWICE, UNIT_APPEND_FAIL, UNIT_APPEND_END, UNIT__COUNT };

struct audit_unit {
    struct sb_write_unit unit;
    enum unit_kind kind;
    int id;
};

static int append_one(sqlite3 *db, int id)
{
    char rid[32];
    snprintf(rid, sizeof(rid), "unit-%d", id);
    struct sb_audit_entry entry = {.actor_role = "service", .request_id = rid,
                                   .op = SB_AUDIT_OP_ACTION, .collection = "units",
                                   .has_row_id = true, .row_id = id};
    return sb_audit_append(db, &entry, NULL);
}

static int audit_unit_fn(sqlite3 *db, void *arg)
{
    struct audit_unit *u = arg;
    if (append_one(db, u->id) != 0)
        return -1;
    switch (u->kind) {
    case UNIT_APPEND_TWICE:
        return append_one(db, u->id) != 0 ? -1 : 0;
    case UNIT_APPEND_FAIL:
        return -1;
    case UNIT_APPEND_END:
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return 0;
    default:
        return 0;
    }
}

static void audit_unit_done(struct sb_write_unit *unit)
{
    (void)unit;
}

static void forget_statements(sqlite3 *db, void *arg)
{
    (void)arg;
    sb_stmt_forget(db);
}

static int sync_fn(sqlite3 *db, void *arg)
{
    (void)db;
    (void)arg;
    return 0;
}

/* Entries the committed units of units[0..n) appended. */
static int committed_entries(const struct audit_unit *units, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++)
        if (units[i].unit.result.rc == 0)
            total += units[i].kind == UNIT_APPEND_TWICE ? 2 : 1;
    return total;
}

TEST(audit_chain_whole_through_the_writer)
{
    char *path = scratch_path("writer.db");
    sqlite3 *setup = open_db(path);
    close_db(setup);
    struct sb_writer_options opts;
    sb_writer_options_default(&opts);
    opts.db.durability = SB_DURABILITY_NORMAL;
    opts.before_close = forget_statements;
    struct sb_writer *w = NULL;
    CHECK_EQ_INT(sb_writer_open(path, &opts, &w, NULL), 0);
    enum { N = 240 };
    static struct audit_unit units[N];
    /* queued back to back, so that batches hold several units and the
     * failing ones sit between units that append */
    for (int i = 0; i < N; i++) {
        units[i] = (struct audit_unit){.kind = (enum unit_kind)(i * 7 % 11 % UNIT__COUNT), .id = i};
        units[i].unit = (struct sb_write_unit){.fn = audit_unit_fn, .arg = &units[i],
                                               .done = audit_unit_done};
        CHECK_EQ_INT(sb_writer_submit(w, &units[i].unit), 0);
        if (i == N / 2) {
            /* between two batches, another connection appends */
            CHECK_EQ_INT(sb_writer_exec(w, sync_fn, NULL, NULL), 0);
            sqlite3 *other = open_db(path);
            exec(other, "BEGIN IMMEDIATE");
            CHECK_EQ_INT(append_one(other, -1), 0);
            CHECK_EQ_INT(append_one(other, -2), 0);
            exec(other, "COMMIT");
            close_db(other);
        }
    }
    sb_writer_close(w); /* runs and commits everything queued */
    int failed = 0, ended = 0;
    for (int i = 0; i < N; i++) {
        failed += units[i].unit.result.rc != 0;
        ended += units[i].kind == UNIT_APPEND_END;
    }
    CHECK(failed > 0);
    CHECK(ended > 0);
    sqlite3 *db = open_db(path);
    struct sb_audit_report report = verify(db);
    CHECK_EQ_STR(sb_audit_problem_name(report.problem), "ok");
    CHECK_EQ_INT(report.n_entries, committed_entries(units, N) + 2);
    CHECK_EQ_INT(report.head_seq, report.n_entries);
    /* no rolled-back unit left an entry */
    CHECK_EQ_INT(query_int(db, "SELECT count(DISTINCT request_id) FROM _sb_audit WHERE "
                               "request_id LIKE 'unit-%' AND CAST(substr(request_id, 6) AS INTEGER) "
                               ">= 0"),
                 N - failed);
    close_db(db);
    free(path);
}

/* Informational: the cost of one append inside a transaction on a file
 * database (the writer's situation), after 1000 earlier entries. */
TEST(audit_append_cost)
{
    char *path = scratch_path("cost.db");
    sqlite3 *db = open_db(path);
    exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
    exec(db, "BEGIN");
    append_n(db, 1000);
    exec(db, "COMMIT");
    const int n = 5000;
    struct timespec t0, t1;
    exec(db, "BEGIN");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    append_n(db, n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    exec(db, "COMMIT");
    double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) / n;
    printf("     sb_audit_append: %.2f us per entry (changes JSON with one pii hash included, "
           "%d entries)\n",
           us, n);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct sb_audit_report report = verify(db);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_EQ_INT(report.problem, SB_AUDIT_OK);
    CHECK_EQ_INT(report.n_entries, 1000 + n);
    printf("     sb_audit_verify: %.2f ms for %d entries\n",
           ((double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6),
           1000 + n);
    close_db(db);
    free(path);
}

/* Writes the CLI tests' database when SB_AUDIT_FIXTURE names a path. */
TEST(audit_fixture)
{
    const char *path = getenv("SB_AUDIT_FIXTURE");
    if (!path || !*path)
        return;
    sqlite3 *db = open_db(path);
    append_n(db, 12);
    close_db(db);
}
