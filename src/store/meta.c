/* specbase's own tables (see meta.h). All statements here bind their values;
 * the table names are constants. */
#include "store/meta.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "util/die.h"

void sb_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, data, len);
    sodium_bin2hex(out, 65, digest, sizeof(digest));
}

int sb_meta_exists(sqlite3 *db)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                                "name IN ('_sb_meta', '_sb_spec', '_sb_migrations')",
                                -1, &stmt, NULL);
    int result = -1;
    if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
        result = sqlite3_column_int(stmt, 0) == 3;
    sqlite3_finalize(stmt);
    return result;
}

static const char meta_schema[] =
    "CREATE TABLE IF NOT EXISTS \"_sb_meta\" (\n"
    "  \"key\" TEXT PRIMARY KEY,\n"
    "  \"value\" TEXT NOT NULL\n"
    ") STRICT;\n"
    "CREATE TABLE IF NOT EXISTS \"_sb_spec\" (\n"
    "  \"id\" INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  \"hash\" TEXT NOT NULL CHECK (length(\"hash\") = 64),\n"
    "  \"json\" TEXT NOT NULL CHECK (json_valid(\"json\")),\n"
    "  \"source_name\" TEXT NOT NULL,\n"
    "  \"source\" TEXT NOT NULL,\n"
    "  \"schema\" TEXT NOT NULL CHECK (json_valid(\"schema\")),\n"
    "  \"created_at\" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))\n"
    ") STRICT;\n"
    "CREATE TABLE IF NOT EXISTS \"_sb_migrations\" (\n"
    "  \"id\" INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  \"from_spec\" INTEGER REFERENCES \"_sb_spec\" (\"id\"),\n"
    "  \"to_spec\" INTEGER NOT NULL REFERENCES \"_sb_spec\" (\"id\"),\n"
    "  \"plan\" TEXT NOT NULL,\n"
    "  \"data_loss\" INTEGER NOT NULL CHECK (\"data_loss\" IN (0, 1)),\n"
    "  \"backup\" TEXT,\n"
    "  \"version\" TEXT NOT NULL,\n"
    "  \"applied_at\" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))\n"
    ") STRICT;\n"
    "INSERT OR IGNORE INTO \"_sb_meta\" (\"key\", \"value\") VALUES ('version', '1');\n";

int sb_meta_ensure(sqlite3 *db, struct sb_buf *err)
{
    if (sb_db_exec(db, meta_schema, err) != 0)
        return SB_STORE_EDB;
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(
        db, "SELECT CAST(\"value\" AS INTEGER) FROM \"_sb_meta\" WHERE \"key\" = 'version'", -1,
        &stmt, NULL);
    long long version = -1;
    if (rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
        version = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    if (version < 1) {
        sb_db_error(db, "reading _sb_meta", err);
        return SB_STORE_EDB;
    }
    if (version > SB_META_VERSION) {
        sb_buf_printf(err,
                      "this database was written by a newer specbase (its _sb_ tables are "
                      "version %lld; this binary knows up to %d)",
                      version, SB_META_VERSION);
        return SB_STORE_EDB;
    }
    return 0;
}

static char *column_dup(sqlite3_stmt *stmt, int col)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    size_t len = (size_t)sqlite3_column_bytes(stmt, col);
    char *copy = sb_xmalloc(len + 1);
    if (text)
        memcpy(copy, text, len);
    copy[len] = '\0';
    return copy;
}

void sb_applied_free(struct sb_applied *applied)
{
    free(applied->hash);
    free(applied->source_name);
    free(applied->source);
    free(applied->schema_json);
    free(applied->applied_at);
    memset(applied, 0, sizeof(*applied));
}

/* The newest migration and the spec it applied. */
#define APPLIED_FROM                                                                               \
    " FROM \"_sb_migrations\" m JOIN \"_sb_spec\" s ON s.\"id\" = m.\"to_spec\" "                  \
    "ORDER BY m.\"id\" DESC LIMIT 1"

int sb_meta_applied_hash(sqlite3 *db, char hash[65], struct sb_buf *err)
{
    hash[0] = '\0';
    int exists = sb_meta_exists(db);
    if (exists <= 0) {
        if (exists < 0)
            sb_db_error(db, "reading the schema", err);
        return exists < 0 ? SB_STORE_EDB : 0;
    }
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, "SELECT s.\"hash\"" APPLIED_FROM, -1, &stmt, NULL) != SQLITE_OK) {
        sb_db_error(db, "reading the applied spec", err);
        return SB_STORE_EDB;
    }
    int rc = sqlite3_step(stmt), result = 0;
    if (rc == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(stmt, 0);
        snprintf(hash, 65, "%s", text ? text : "");
        result = 1;
    } else if (rc != SQLITE_DONE) {
        sb_db_error(db, "reading the applied spec", err);
        result = SB_STORE_EDB;
    }
    sqlite3_finalize(stmt);
    return result;
}

int sb_meta_applied(sqlite3 *db, struct sb_applied *out, struct sb_buf *err)
{
    memset(out, 0, sizeof(*out));
    int exists = sb_meta_exists(db);
    if (exists < 0) {
        sb_db_error(db, "reading the schema", err);
        return SB_STORE_EDB;
    }
    if (!exists)
        return 0;
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(
        db,
        "SELECT s.\"id\", m.\"id\", s.\"hash\", s.\"source_name\", s.\"source\", "
        "s.\"schema\", m.\"applied_at\"" APPLIED_FROM,
        -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        sb_db_error(db, "reading the applied spec", err);
        return SB_STORE_EDB;
    }
    rc = sqlite3_step(stmt);
    int result = 0;
    if (rc == SQLITE_ROW) {
        out->spec_id = sqlite3_column_int64(stmt, 0);
        out->migration_id = sqlite3_column_int64(stmt, 1);
        out->hash = column_dup(stmt, 2);
        out->source_name = column_dup(stmt, 3);
        out->source = column_dup(stmt, 4);
        out->schema_json = column_dup(stmt, 5);
        out->applied_at = column_dup(stmt, 6);
        result = 1;
    } else if (rc != SQLITE_DONE) {
        sb_db_error(db, "reading the applied spec", err);
        result = SB_STORE_EDB;
    }
    sqlite3_finalize(stmt);
    return result;
}

int sb_meta_record(sqlite3 *db, const struct sb_meta_record *rec, struct sb_buf *err)
{
    struct sb_applied prev;
    int have = sb_meta_applied(db, &prev, err);
    if (have < 0)
        return SB_STORE_EDB;
    long long from = have ? prev.spec_id : 0;
    sb_applied_free(&prev);

    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "INSERT INTO \"_sb_spec\" (\"hash\", \"json\", \"source_name\", "
                                "\"source\", \"schema\") VALUES (?1, ?2, ?3, ?4, ?5)",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, rec->hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, rec->json, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, rec->source_name, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 4, rec->source, (int)rec->source_len, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 5, rec->schema_json, -1, SQLITE_STATIC);
        rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_OK) {
        sb_db_error(db, "recording the spec", err);
        return SB_STORE_EDB;
    }
    long long to = sqlite3_last_insert_rowid(db);
    rc = sqlite3_prepare_v2(
        db,
        "INSERT INTO \"_sb_migrations\" (\"from_spec\", \"to_spec\", \"plan\", "
        "\"data_loss\", \"backup\", \"version\") VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        if (from)
            sqlite3_bind_int64(stmt, 1, from);
        sqlite3_bind_int64(stmt, 2, to);
        sqlite3_bind_text(stmt, 3, rec->plan, -1, SQLITE_STATIC);
        sqlite3_bind_int(stmt, 4, rec->data_loss);
        if (rec->backup)
            sqlite3_bind_text(stmt, 5, rec->backup, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 6, rec->version, -1, SQLITE_STATIC);
        rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_OK) {
        sb_db_error(db, "recording the migration", err);
        return SB_STORE_EDB;
    }
    return 0;
}

int sb_meta_verify(sqlite3 *db, long long *n_out, struct sb_buf *err)
{
    if (n_out)
        *n_out = 0;
    int exists = sb_meta_exists(db);
    if (exists <= 0) {
        if (exists < 0)
            sb_db_error(db, "reading the schema", err);
        return exists < 0 ? SB_STORE_EDB : 0;
    }
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(
        db,
        "SELECT m.\"id\", m.\"from_spec\", m.\"to_spec\", s.\"hash\", s.\"json\" "
        "FROM \"_sb_migrations\" m LEFT JOIN \"_sb_spec\" s "
        "ON s.\"id\" = m.\"to_spec\" ORDER BY m.\"id\"",
        -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        sb_db_error(db, "reading the migration history", err);
        return SB_STORE_EDB;
    }
    long long n = 0, prev_to = 0;
    int result = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(stmt, 0);
        long long from = sqlite3_column_int64(stmt, 1); /* 0 for NULL */
        long long to = sqlite3_column_int64(stmt, 2);
        if (sqlite3_column_type(stmt, 3) == SQLITE_NULL) {
            sb_buf_printf(err, "migration %lld points to spec %lld, which is missing", id, to);
            result = SB_STORE_EDB;
            break;
        }
        if (from != prev_to) {
            sb_buf_printf(err,
                          "migration %lld starts from spec %lld, but the one before ended at %lld",
                          id, from, prev_to);
            result = SB_STORE_EDB;
            break;
        }
        char hash[65];
        sb_sha256_hex(sqlite3_column_text(stmt, 4), (size_t)sqlite3_column_bytes(stmt, 4), hash);
        if (strcmp(hash, (const char *)sqlite3_column_text(stmt, 3)) != 0) {
            sb_buf_printf(err, "spec %lld: its hash does not match its JSON", to);
            result = SB_STORE_EDB;
            break;
        }
        prev_to = to;
        n++;
    }
    if (result == 0 && rc != SQLITE_DONE) {
        sb_db_error(db, "reading the migration history", err);
        result = SB_STORE_EDB;
    }
    sqlite3_finalize(stmt);
    if (n_out)
        *n_out = n;
    return result;
}
