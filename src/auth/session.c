/* Sessions and rotating refresh tokens on SQLite, see session.h.
 *
 * The API's auth endpoints call these inside a unit of the single writer
 * (store/writer.h); the request pipeline calls sb_session_valid on its reader
 * connection for every access token that carries a session_id. Tokens are
 * looked up by the SHA-256 of their text: a token has 256 random bits, so an
 * unsalted hash is enough to make a leaked database useless for signing in,
 * and the lookup stays one index probe. Statements are prepared once per
 * connection and thread through store/stmt.h. */
#include "auth/session.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "store/db.h"
#include "store/stmt.h"
#include "util/formats.h"

#define NOW "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
#define USER_AGENT_MAX 512
#define IP_MAX 64
#define TOKEN_HASH_LEN 64 /* SHA-256, hex */

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS \"_sb_sessions\" (\n"
    "  \"id\" TEXT PRIMARY KEY NOT NULL CHECK (length(\"id\") = 36),\n"
    "  \"user_id\" INTEGER NOT NULL,\n"
    "  \"created_at\" TEXT NOT NULL DEFAULT (" NOW "),\n"
    "  \"refreshed_at\" TEXT,\n"
    "  \"revoked_at\" TEXT,\n"
    "  \"user_agent\" TEXT,\n"
    "  \"ip\" TEXT\n"
    ") STRICT, WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS \"_sb_sessions_user_id\" ON \"_sb_sessions\" (\"user_id\");\n"
    /* revoked: 1 once the token was rotated, or when its session was revoked
     * because a rotated token came back; presenting a revoked token is reuse.
     * parent is the token this one replaced (a plain integer: purge may have
     * deleted it). */
    "CREATE TABLE IF NOT EXISTS \"_sb_refresh_tokens\" (\n"
    "  \"id\" INTEGER PRIMARY KEY,\n"
    "  \"session_id\" TEXT NOT NULL REFERENCES \"_sb_sessions\" (\"id\") ON DELETE CASCADE,\n"
    "  \"token_hash\" TEXT NOT NULL UNIQUE CHECK (length(\"token_hash\") = 64),\n"
    "  \"parent\" INTEGER,\n"
    "  \"revoked\" INTEGER NOT NULL DEFAULT 0 CHECK (\"revoked\" IN (0, 1)),\n"
    "  \"created_at\" TEXT NOT NULL DEFAULT (" NOW ")\n"
    ") STRICT;\n"
    "CREATE INDEX IF NOT EXISTS \"_sb_refresh_tokens_session_id\"\n"
    "  ON \"_sb_refresh_tokens\" (\"session_id\");\n";

int sb_session_schema(sqlite3 *db, struct sb_buf *err)
{
    return sb_db_exec(db, schema_sql, err) == 0 ? 0 : SB_SESSION_EDB;
}

/* ---- helpers ----------------------------------------------------------------- */

/* A cached statement for sql, or NULL with the error in err. */
static sqlite3_stmt *statement(sqlite3 *db, const char *sql, struct sb_buf *err)
{
    sqlite3_stmt *stmt = NULL;
    if (sb_stmt_get(db, sql, strlen(sql), &stmt, NULL) != SQLITE_OK) {
        sb_db_error(db, "preparing a session statement", err);
        return NULL;
    }
    return stmt;
}

/* Step stmt to its end (a statement without rows); give it back. */
static int finish(sqlite3 *db, sqlite3_stmt *stmt, const char *context, struct sb_buf *err)
{
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        sb_db_error(db, context, err);
    sb_stmt_done(stmt);
    return rc == SQLITE_DONE ? 0 : SB_SESSION_EDB;
}

/* Bind text cut to at most max bytes on a UTF-8 boundary (NULL binds NULL). */
static int bind_cut(sqlite3_stmt *stmt, int idx, const char *text, size_t max)
{
    if (!text)
        return sqlite3_bind_null(stmt, idx);
    size_t len = strnlen(text, max + 1);
    if (len > max) {
        len = max;
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--; /* do not split a multi-byte character */
    }
    return sqlite3_bind_text(stmt, idx, text, (int)len, SQLITE_TRANSIENT);
}

static void new_uuid(char out[SB_SESSION_ID_LEN + 1])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    snprintf(out, SB_SESSION_ID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

/* A fresh token into out and the hex SHA-256 of its text into hash. */
static void new_token(char out[SB_REFRESH_TOKEN_LEN + 1], char hash[TOKEN_HASH_LEN + 1])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, SB_REFRESH_TOKEN_LEN + 1, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)out, SB_REFRESH_TOKEN_LEN);
    sodium_bin2hex(hash, TOKEN_HASH_LEN + 1, digest, sizeof(digest));
}

/* Has token the shape of one of ours (43 base64url characters)? */
static bool token_shaped(const char *token, size_t len)
{
    if (!token || len != SB_REFRESH_TOKEN_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)token[i];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
        if (!ok)
            return false;
    }
    return true;
}

/* Store a new token for session_id (parent: the token it replaces, or 0). */
static int insert_token(sqlite3 *db, const char *session_id, int64_t parent,
                        char token[SB_REFRESH_TOKEN_LEN + 1], struct sb_buf *err)
{
    char hash[TOKEN_HASH_LEN + 1];
    new_token(token, hash);
    sqlite3_stmt *stmt = statement(db,
                                   "INSERT INTO \"_sb_refresh_tokens\" (\"session_id\", "
                                   "\"token_hash\", \"parent\") VALUES (?1, ?2, ?3)",
                                   err);
    if (!stmt)
        return SB_SESSION_EDB;
    sqlite3_bind_text(stmt, 1, session_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, hash, TOKEN_HASH_LEN, SQLITE_STATIC);
    if (parent)
        sqlite3_bind_int64(stmt, 3, parent);
    else
        sqlite3_bind_null(stmt, 3);
    return finish(db, stmt, "storing a refresh token", err);
}

/* ---- create, refresh ------------------------------------------------------------ */

int sb_session_create(sqlite3 *db, int64_t user_id, const char *user_agent, const char *ip,
                      struct sb_session *out, struct sb_buf *err)
{
    memset(out, 0, sizeof(*out));
    if (sodium_init() < 0) {
        if (err)
            sb_buf_puts(err, "libsodium could not be initialised");
        return SB_SESSION_EDB;
    }
    new_uuid(out->id);
    out->user_id = user_id;
    sqlite3_stmt *stmt = statement(db,
                                   "INSERT INTO \"_sb_sessions\" (\"id\", \"user_id\", "
                                   "\"user_agent\", \"ip\") VALUES (?1, ?2, ?3, ?4)",
                                   err);
    if (!stmt)
        return SB_SESSION_EDB;
    sqlite3_bind_text(stmt, 1, out->id, SB_SESSION_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, user_id);
    bind_cut(stmt, 3, user_agent, USER_AGENT_MAX);
    bind_cut(stmt, 4, ip, IP_MAX);
    int rc = finish(db, stmt, "creating a session", err);
    if (rc == 0)
        rc = insert_token(db, out->id, 0, out->refresh_token, err);
    if (rc != 0)
        sodium_memzero(out, sizeof(*out));
    return rc;
}

/* The session of a token found by hash. */
struct found {
    int64_t token_id;
    bool token_revoked;
    bool session_revoked;
};

/* Look the token up. Returns 0 (found), SB_SESSION_ENOTFOUND or EDB. */
static int find_token(sqlite3 *db, const char *token, struct found *found, struct sb_session *out,
                      struct sb_buf *err)
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    char hash[TOKEN_HASH_LEN + 1];
    crypto_hash_sha256(digest, (const unsigned char *)token, SB_REFRESH_TOKEN_LEN);
    sodium_bin2hex(hash, sizeof(hash), digest, sizeof(digest));

    sqlite3_stmt *stmt = statement(db,
                                   "SELECT t.\"id\", t.\"revoked\", s.\"id\", s.\"user_id\", "
                                   "s.\"revoked_at\" IS NOT NULL "
                                   "FROM \"_sb_refresh_tokens\" AS t "
                                   "JOIN \"_sb_sessions\" AS s ON s.\"id\" = t.\"session_id\" "
                                   "WHERE t.\"token_hash\" = ?1",
                                   err);
    if (!stmt)
        return SB_SESSION_EDB;
    sqlite3_bind_text(stmt, 1, hash, TOKEN_HASH_LEN, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    int result;
    if (rc == SQLITE_ROW) {
        found->token_id = sqlite3_column_int64(stmt, 0);
        found->token_revoked = sqlite3_column_int(stmt, 1) != 0;
        const unsigned char *sid = sqlite3_column_text(stmt, 2);
        snprintf(out->id, sizeof(out->id), "%s", sid ? (const char *)sid : "");
        out->user_id = sqlite3_column_int64(stmt, 3);
        found->session_revoked = sqlite3_column_int(stmt, 4) != 0;
        result = 0;
    } else if (rc == SQLITE_DONE) {
        result = SB_SESSION_ENOTFOUND;
    } else {
        sb_db_error(db, "looking up a refresh token", err);
        result = SB_SESSION_EDB;
    }
    sb_stmt_done(stmt);
    return result;
}

/* Reuse detected: revoke the session and every token of it. */
static int revoke_family(sqlite3 *db, const char *session_id, struct sb_buf *err)
{
    sqlite3_stmt *stmt = statement(db,
                                   "UPDATE \"_sb_sessions\" SET \"revoked_at\" = "
                                   "coalesce(\"revoked_at\", " NOW ") WHERE \"id\" = ?1",
                                   err);
    if (!stmt)
        return SB_SESSION_EDB;
    sqlite3_bind_text(stmt, 1, session_id, -1, SQLITE_STATIC);
    if (finish(db, stmt, "revoking a session", err) != 0)
        return SB_SESSION_EDB;
    stmt = statement(db,
                     "UPDATE \"_sb_refresh_tokens\" SET \"revoked\" = 1 "
                     "WHERE \"session_id\" = ?1 AND \"revoked\" = 0",
                     err);
    if (!stmt)
        return SB_SESSION_EDB;
    sqlite3_bind_text(stmt, 1, session_id, -1, SQLITE_STATIC);
    return finish(db, stmt, "revoking refresh tokens", err);
}

int sb_session_refresh(sqlite3 *db, const char *token, size_t token_len, const char *user_agent,
                       const char *ip, struct sb_session *out, struct sb_buf *err)
{
    memset(out, 0, sizeof(*out));
    if (!token_shaped(token, token_len))
        return SB_SESSION_ENOTFOUND;
    if (sodium_init() < 0) {
        if (err)
            sb_buf_puts(err, "libsodium could not be initialised");
        return SB_SESSION_EDB;
    }
    struct found found;
    int rc = find_token(db, token, &found, out, err);
    if (rc != 0)
        return rc;
    if (found.token_revoked) {
        rc = revoke_family(db, out->id, err);
        return rc != 0 ? rc : SB_SESSION_EREUSED;
    }
    if (found.session_revoked)
        return SB_SESSION_EREVOKED;

    sqlite3_stmt *stmt = statement(db,
                                   "UPDATE \"_sb_refresh_tokens\" SET \"revoked\" = 1 "
                                   "WHERE \"id\" = ?1 AND \"revoked\" = 0",
                                   err);
    if (!stmt)
        return SB_SESSION_EDB;
    sqlite3_bind_int64(stmt, 1, found.token_id);
    if (finish(db, stmt, "rotating a refresh token", err) != 0)
        return SB_SESSION_EDB;
    if (sqlite3_changes(db) != 1) {
        /* cannot happen under the single writer; never issue two children */
        if (err)
            sb_buf_puts(err, "rotating a refresh token: it was rotated concurrently");
        return SB_SESSION_EDB;
    }
    rc = insert_token(db, out->id, found.token_id, out->refresh_token, err);
    if (rc != 0)
        goto fail;
    stmt = statement(db,
                     "UPDATE \"_sb_sessions\" SET \"refreshed_at\" = " NOW ", "
                     "\"user_agent\" = ?2, \"ip\" = ?3 WHERE \"id\" = ?1",
                     err);
    if (!stmt) {
        rc = SB_SESSION_EDB;
        goto fail;
    }
    sqlite3_bind_text(stmt, 1, out->id, -1, SQLITE_STATIC);
    bind_cut(stmt, 2, user_agent, USER_AGENT_MAX);
    bind_cut(stmt, 3, ip, IP_MAX);
    rc = finish(db, stmt, "updating a session", err);
    if (rc != 0)
        goto fail;
    return 0;

fail:
    sodium_memzero(out->refresh_token, sizeof(out->refresh_token));
    return rc;
}

/* ---- revoke, validate, purge -------------------------------------------------------- */

int sb_session_revoke(sqlite3 *db, const char *session_id, struct sb_buf *err)
{
    sqlite3_stmt *stmt = statement(db,
                                   "UPDATE \"_sb_sessions\" SET \"revoked_at\" = " NOW " "
                                   "WHERE \"id\" = ?1 AND \"revoked_at\" IS NULL",
                                   err);
    if (!stmt)
        return SB_SESSION_EDB;
    sqlite3_bind_text(stmt, 1, session_id ? session_id : "", -1, SQLITE_STATIC);
    return finish(db, stmt, "revoking a session", err);
}

int sb_session_revoke_user(sqlite3 *db, int64_t user_id, const char *keep_session_id,
                           struct sb_buf *err)
{
    sqlite3_stmt *stmt = statement(db,
                                   "UPDATE \"_sb_sessions\" SET \"revoked_at\" = " NOW " "
                                   "WHERE \"user_id\" = ?1 AND \"revoked_at\" IS NULL "
                                   "AND (?2 IS NULL OR \"id\" <> ?2)",
                                   err);
    if (!stmt)
        return SB_SESSION_EDB;
    sqlite3_bind_int64(stmt, 1, user_id);
    if (keep_session_id)
        sqlite3_bind_text(stmt, 2, keep_session_id, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 2);
    return finish(db, stmt, "revoking a user's sessions", err);
}

int sb_session_valid(sqlite3 *db, const char *session_id, int64_t *user_id, struct sb_buf *err)
{
    if (!session_id || strlen(session_id) != SB_SESSION_ID_LEN ||
        !sb_format_uuid(session_id, SB_SESSION_ID_LEN))
        return 0;
    sqlite3_stmt *stmt = statement(db,
                                   "SELECT \"user_id\" FROM \"_sb_sessions\" "
                                   "WHERE \"id\" = ?1 AND \"revoked_at\" IS NULL",
                                   err);
    if (!stmt)
        return SB_SESSION_EDB;
    sqlite3_bind_text(stmt, 1, session_id, SB_SESSION_ID_LEN, SQLITE_STATIC);
    int rc = sqlite3_step(stmt), result;
    if (rc == SQLITE_ROW) {
        if (user_id)
            *user_id = sqlite3_column_int64(stmt, 0);
        result = 1;
    } else if (rc == SQLITE_DONE) {
        result = 0;
    } else {
        sb_db_error(db, "checking a session", err);
        result = SB_SESSION_EDB;
    }
    sb_stmt_done(stmt);
    return result;
}

int sb_session_purge(sqlite3 *db, int64_t max_age_seconds, int *n_deleted, struct sb_buf *err)
{
    if (n_deleted)
        *n_deleted = 0;
    /* tokens of old revoked sessions first: the cascade would do it, but
     * only where foreign keys are on */
    static const char *const sqls[] = {
        "DELETE FROM \"_sb_refresh_tokens\" WHERE \"session_id\" IN "
        "(SELECT \"id\" FROM \"_sb_sessions\" WHERE \"revoked_at\" < "
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1))",
        "DELETE FROM \"_sb_sessions\" WHERE \"revoked_at\" < "
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1)",
        "DELETE FROM \"_sb_refresh_tokens\" WHERE \"revoked\" = 1 AND \"created_at\" < "
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1)",
    };
    if (max_age_seconds < 0)
        max_age_seconds = 0;
    char modifier[48];
    snprintf(modifier, sizeof(modifier), "-%lld seconds", (long long)max_age_seconds);
    int deleted = 0;
    for (size_t i = 0; i < sizeof(sqls) / sizeof(sqls[0]); i++) {
        sqlite3_stmt *stmt = statement(db, sqls[i], err);
        if (!stmt)
            return SB_SESSION_EDB;
        sqlite3_bind_text(stmt, 1, modifier, -1, SQLITE_STATIC);
        if (finish(db, stmt, "purging sessions", err) != 0)
            return SB_SESSION_EDB;
        deleted += sqlite3_changes(db);
        if (n_deleted)
            *n_deleted = deleted;
    }
    return 0;
}

/* ---- GoTrue's error vocabulary --------------------------------------------------------- */

const char *sb_session_error_code(int rc)
{
    switch (rc) {
    case SB_SESSION_ENOTFOUND: return "refresh_token_not_found";
    case SB_SESSION_EREUSED: return "refresh_token_already_used";
    case SB_SESSION_EREVOKED: return "session_not_found";
    default: return "unexpected_failure";
    }
}

const char *sb_session_error_message(int rc)
{
    switch (rc) {
    case SB_SESSION_ENOTFOUND: return "Invalid Refresh Token: Refresh Token Not Found";
    case SB_SESSION_EREUSED: return "Invalid Refresh Token: Already Used";
    case SB_SESSION_EREVOKED: return "Invalid Refresh Token: No Valid Session Found";
    default: return "Unexpected failure, please check server logs for more information";
    }
}

int sb_session_error_status(int rc)
{
    switch (rc) {
    case SB_SESSION_ENOTFOUND:
    case SB_SESSION_EREUSED:
    case SB_SESSION_EREVOKED: return 400;
    default: return 500;
    }
}
